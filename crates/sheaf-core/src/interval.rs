//! Intervals as the config file, the API and the CLI write them: a whole number with a
//! unit, `ms`, `s`, `m` or `h` (`"30s"`, `"500ms"`), held as milliseconds.

/// Why a text is not an interval.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    /// Not a whole number followed by one of the units, or too long to count in
    /// milliseconds.
    #[error("{0:?} is not an interval like \"30s\", \"500ms\", \"5m\" or \"1h\"")]
    Malformed(String),
    /// Zero of any unit.
    #[error("{0:?}: the interval must be longer than zero")]
    Zero(String),
}

/// Parses an interval into milliseconds; surrounding whitespace is ignored.
pub fn parse_interval(text: &str) -> Result<u64, IntervalError> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || IntervalError::Malformed(text.to_owned());
    let n: u64 = number.parse().map_err(|_| bad())?;
    let factor = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    match n.checked_mul(factor) {
        Some(0) => Err(IntervalError::Zero(text.to_owned())),
        Some(ms) => Ok(ms),
        None => Err(bad()),
    }
}

/// Renders milliseconds in the largest of `m`, `s`, `ms` that keeps them whole
/// (`"5m"`, `"30s"`, `"1500ms"`); [`parse_interval`] reads it back.
#[must_use]
pub fn format_interval(ms: u64) -> String {
    if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_parses_to_milliseconds_and_whitespace_is_ignored() {
        assert_eq!(parse_interval("500ms"), Ok(500));
        assert_eq!(parse_interval(" 30s "), Ok(30_000));
        assert_eq!(parse_interval("5m"), Ok(300_000));
        assert_eq!(parse_interval("1h"), Ok(3_600_000));
    }

    #[test]
    fn a_missing_or_unknown_unit_a_zero_and_an_overflow_are_refused_with_the_text() {
        for bad in ["30", "s", "30d", "-1s", "1.5s", "99999999999999999999h"] {
            assert_eq!(
                parse_interval(bad),
                Err(IntervalError::Malformed(bad.to_owned()))
            );
        }
        assert_eq!(
            parse_interval("0ms").unwrap_err().to_string(),
            "\"0ms\": the interval must be longer than zero"
        );
        assert_eq!(
            parse_interval("30d").unwrap_err().to_string(),
            "\"30d\" is not an interval like \"30s\", \"500ms\", \"5m\" or \"1h\""
        );
    }

    #[test]
    fn a_formatted_interval_parses_back_to_the_same_milliseconds() {
        for ms in [1, 999, 1000, 1500, 30_000, 60_000, 90_000, 3_600_000] {
            assert_eq!(parse_interval(&format_interval(ms)), Ok(ms), "{ms}");
        }
        assert_eq!(format_interval(1500), "1500ms");
        assert_eq!(format_interval(30_000), "30s");
        assert_eq!(format_interval(300_000), "5m");
    }
}
