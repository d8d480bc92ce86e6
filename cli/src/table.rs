//! Tables for `ps`, `images` and `history`: columns padded to their widest cell, three
//! spaces apart, the last column not padded. Also the human sizes they show.

use std::io;

/// Writes `header` then `rows`, aligned.
pub fn write(out: &mut dyn io::Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 3));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A size in decimal units, as image listings show them: `0B`, `912B`, `4.26MB`, `1.2GB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if bytes < 1000 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let text = if value < 10.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    format!("{text}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_on_the_widest_cell() {
        let mut out = Vec::new();
        write(
            &mut out,
            &["ADDRESS", "STATUS"],
            &[
                vec!["container.web".into(), "running".into()],
                vec!["container.db".into(), "exited (1)".into()],
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ADDRESS         STATUS\ncontainer.web   running\ncontainer.db    exited (1)\n"
        );
    }

    #[test]
    fn sizes_use_decimal_units() {
        assert_eq!(size(0), "0B");
        assert_eq!(size(999), "999B");
        assert_eq!(size(4_261_000), "4.26MB");
        assert_eq!(size(42_600_000), "42.6MB");
        assert_eq!(size(426_000_000), "426MB");
        assert_eq!(size(1_200_000_000), "1.20GB");
    }
}
