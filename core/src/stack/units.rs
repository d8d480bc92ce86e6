//! Units of the stack file: sizes (`64MiB`, `1.5GB`, `512k`) and durations (`2s`,
//! `500ms`, `1m30s`). Pure text to numbers, and numbers back to text for plans.
//! Never rounds silently: a size that is not a whole number of bytes is refused.

/// What sizes accept, for error messages.
pub const SIZE_HELP: &str = "write a number of bytes or a number with a unit: \
B, k/KiB (1024), m/MiB, g/GiB, KB (1000), MB, GB; e.g. \"128MiB\", \"1.5GB\", \"512k\"";

/// What durations accept, for error messages.
pub const DURATION_HELP: &str =
    "write numbers with units ms, s, m, h; e.g. \"2s\", \"500ms\", \"1m30s\"";

/// Why a text is not a size or a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{text}` is not a size")]
    Size { text: String },
    #[error("`{text}` has an unknown unit `{unit}`")]
    SizeUnit { text: String, unit: String },
    #[error("`{text}` is not a whole number of bytes")]
    FractionOfByte { text: String },
    #[error("`{text}` is too large")]
    TooLarge { text: String },
    #[error("`{text}` is not a duration")]
    Duration { text: String },
    #[error("`{text}` has a number without a unit")]
    DurationUnit { text: String },
}

/// Parses a size into bytes. Units are case-insensitive: `B`; `k`, `KiB` (1024);
/// `m`, `MiB`; `g`, `GiB`; `t`, `TiB`; `KB` (1000), `MB`, `GB`, `TB`. A number alone is
/// bytes. One decimal point is allowed (`1.5GiB`) when the result is whole bytes.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim_start());
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ if number.is_empty() => {
            return Err(UnitError::Size {
                text: text.to_string(),
            })
        }
        _ => {
            return Err(UnitError::SizeUnit {
                text: text.to_string(),
                unit: unit.to_string(),
            })
        }
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(fraction) {
        return Err(UnitError::Size {
            text: text.to_string(),
        });
    }
    let too_large = || UnitError::TooLarge {
        text: text.to_string(),
    };
    let whole: u64 = whole.parse().map_err(|_| too_large())?;
    let mut bytes = whole.checked_mul(multiplier).ok_or_else(too_large)?;
    let fraction = fraction.trim_end_matches('0');
    if !fraction.is_empty() {
        if fraction.len() > 12 {
            return Err(UnitError::FractionOfByte {
                text: text.to_string(),
            });
        }
        let numerator: u128 = fraction.parse().map_err(|_| too_large())?;
        let denominator = 10u128.pow(fraction.len() as u32);
        let scaled = numerator * u128::from(multiplier);
        if (scaled / denominator) * denominator != scaled {
            return Err(UnitError::FractionOfByte {
                text: text.to_string(),
            });
        }
        let extra = u64::try_from(scaled / denominator).map_err(|_| too_large())?;
        bytes = bytes.checked_add(extra).ok_or_else(too_large)?;
    }
    Ok(bytes)
}

/// Writes a size with the largest binary unit that divides it: `128MiB`, `1536KiB`, `7B`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (name, size) in UNITS {
        if bytes >= size && (bytes / size) * size == bytes {
            return format!("{}{name}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// Parses a duration into milliseconds: numbers each followed by `ms`, `s`, `m` or `h`,
/// e.g. `1m30s`; a number may have a decimal point (`1.5s`).
pub fn parse_duration(text: &str) -> Result<u64, UnitError> {
    let bad = || UnitError::Duration {
        text: text.to_string(),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut rest = t;
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..split];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            return Err(bad());
        }
        let value: f64 = number.parse().map_err(|_| bad())?;
        rest = &rest[split..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let ms_per = match &rest[..unit_len] {
            "ms" => 1.0,
            "s" => 1_000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "" => {
                return Err(UnitError::DurationUnit {
                    text: text.to_string(),
                })
            }
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += value * ms_per;
    }
    if total > u64::MAX as f64 / 2.0 {
        return Err(UnitError::TooLarge {
            text: text.to_string(),
        });
    }
    Ok(total.round() as u64)
}

/// Writes milliseconds as a duration: `2s`, `500ms`, `1m30s`.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1_000, rest % 1_000);
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s"), (milli, "ms")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_binary_and_decimal_units() {
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("128m"), Ok(128 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("1KB"), Ok(1000));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1.50k"), Ok(1536));
    }

    #[test]
    fn bad_sizes_say_what_is_wrong() {
        assert!(
            matches!(parse_size("128 megs"), Err(UnitError::SizeUnit { unit, .. }) if unit == "megs")
        );
        assert!(matches!(parse_size("MiB"), Err(UnitError::Size { .. })));
        assert!(matches!(parse_size(""), Err(UnitError::Size { .. })));
        assert!(matches!(parse_size("1.2.3k"), Err(UnitError::Size { .. })));
        assert!(matches!(parse_size("-5m"), Err(UnitError::Size { .. })));
        assert!(matches!(
            parse_size("0.1k"),
            Err(UnitError::FractionOfByte { .. })
        ));
        assert!(matches!(
            parse_size("1.5B"),
            Err(UnitError::FractionOfByte { .. })
        ));
        assert!(matches!(
            parse_size("99999999999TiB"),
            Err(UnitError::TooLarge { .. })
        ));
    }

    #[test]
    fn sizes_are_written_back_in_the_largest_binary_unit() {
        assert_eq!(format_size(128 << 20), "128MiB");
        assert_eq!(format_size(1536), "1536B");
        assert_eq!(format_size(3 << 10), "3KiB");
        assert_eq!(format_size(3 << 29), "1536MiB");
        assert_eq!(format_size(7), "7B");
        assert_eq!(format_size(2 << 30), "2GiB");
    }

    #[test]
    fn durations_read_composed_units() {
        assert_eq!(parse_duration("2s"), Ok(2_000));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("1m30s"), Ok(90_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500));
        assert_eq!(parse_duration("1m500ms"), Ok(60_500));
    }

    #[test]
    fn bad_durations_are_refused() {
        assert!(matches!(
            parse_duration("2"),
            Err(UnitError::DurationUnit { .. })
        ));
        assert!(matches!(
            parse_duration("2 seconds"),
            Err(UnitError::Duration { .. })
        ));
        assert!(matches!(
            parse_duration("s"),
            Err(UnitError::Duration { .. })
        ));
        assert!(matches!(
            parse_duration(""),
            Err(UnitError::Duration { .. })
        ));
        assert!(matches!(
            parse_duration("2d"),
            Err(UnitError::Duration { .. })
        ));
    }

    #[test]
    fn durations_are_written_back() {
        assert_eq!(format_duration(90_000), "1m30s");
        assert_eq!(format_duration(500), "500ms");
        assert_eq!(format_duration(2_000), "2s");
    }
}
