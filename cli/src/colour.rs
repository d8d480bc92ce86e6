//! Colour, in one place: a rendered line is coloured by its leading symbol (`+` green,
//! `~` yellow, `-/+` magenta, `-` red). Renderers never colour; the caller decides
//! whether to call [`paint`] (only on a terminal, never with `--no-color` or NO_COLOR).

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";
const RED: &str = "\x1b[31m";
const RESET: &str = "\x1b[0m";

/// `line` with an ANSI colour chosen by its first symbol after indentation; lines that
/// start with no action symbol come back unchanged.
pub fn paint(line: &str) -> String {
    let body = line.trim_start();
    let colour = if body.starts_with("-/+") {
        MAGENTA
    } else if body.starts_with('+') {
        GREEN
    } else if body.starts_with('~') {
        YELLOW
    } else if body.starts_with('-') {
        RED
    } else {
        return line.to_string();
    };
    format!("{colour}{line}{RESET}")
}

/// Writes `text` line by line, painted when `colour` is set.
pub fn write_text(out: &mut dyn std::io::Write, text: &str, colour: bool) -> std::io::Result<()> {
    for line in text.lines() {
        if colour {
            writeln!(out, "{}", paint(line))?;
        } else {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_coloured_by_their_leading_symbol() {
        assert_eq!(
            paint("  + container.web"),
            "\x1b[32m  + container.web\x1b[0m"
        );
        assert_eq!(paint("~ container.db"), "\x1b[33m~ container.db\x1b[0m");
        assert_eq!(
            paint("-/+ container.api"),
            "\x1b[35m-/+ container.api\x1b[0m"
        );
        assert_eq!(paint("  - network.old"), "\x1b[31m  - network.old\x1b[0m");
        assert_eq!(paint("Plan: 1 to create"), "Plan: 1 to create");
    }

    #[test]
    fn text_is_left_alone_without_colour() {
        let mut out = Vec::new();
        write_text(&mut out, "+ a\nb\n", false).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "+ a\nb\n");
        let mut out = Vec::new();
        write_text(&mut out, "+ a\nb\n", true).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "\x1b[32m+ a\x1b[0m\nb\n");
    }
}
