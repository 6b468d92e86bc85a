//! Durations as people write them in recovery objectives: `15m`, `4h`, `14d`, `1h30m`.

use std::fmt;

/// A non-negative duration with second precision, written with units `s`, `m`, `h`, `d`,
/// `w` and `y` (365 days) (`90m`, `1h30m`, `14d`, `5y`). Displayed in the same form, largest units first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    seconds: u64,
}

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: {reason} (write it like `15m`, `4h`, `14d` or `1h30m`)")]
pub struct IntervalError {
    pub text: String,
    pub reason: &'static str,
}

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Interval {
    pub const fn from_secs(seconds: u64) -> Self {
        Self { seconds }
    }

    pub const fn from_hours(hours: u64) -> Self {
        Self::from_secs(hours * 3_600)
    }

    pub const fn from_days(days: u64) -> Self {
        Self::from_secs(days * 86_400)
    }

    pub const fn as_secs(self) -> u64 {
        self.seconds
    }

    /// Parses `15m`, `4h`, `14d`, `2w`, `30s` and sums such as `1h30m`. A bare number is
    /// refused: `24` could mean hours or days, and a wrong guess hides a wrong RPO.
    pub fn parse(text: &str) -> Result<Self, IntervalError> {
        let err = |reason| IntervalError {
            text: text.to_string(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(err("it is empty"));
        }
        let mut total: u64 = 0;
        let mut number = String::new();
        let mut chars = trimmed.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            if c.is_whitespace() {
                continue;
            }
            // Accept `min` as a spelling of minutes, common in French documents.
            let unit = if c == 'm' && chars.peek() == Some(&'i') {
                chars.next();
                if chars.next() != Some('n') {
                    return Err(err("unknown unit"));
                }
                'm'
            } else {
                c
            };
            // Years (365 days) are read, for retention periods, but never displayed.
            let factor = if unit == 'y' {
                365 * 86_400
            } else if let Some(&(_, factor)) = UNITS.iter().find(|(u, _)| *u == unit) {
                factor
            } else {
                return Err(err("unknown unit"));
            };
            if number.is_empty() {
                return Err(err("a unit without a number"));
            }
            let value: u64 = number.parse().map_err(|_| err("the number is too large"))?;
            total = value
                .checked_mul(factor)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("the number is too large"))?;
            number.clear();
        }
        if !number.is_empty() {
            return Err(err("a number without a unit"));
        }
        Ok(Self::from_secs(total))
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.seconds;
        // Days are the largest unit shown (`14d`, not `2w`), and only from two days on:
        // objectives are spoken of as `24h` and `36h`, not `1d` and `1d12h`.
        let units = if rest >= 2 * 86_400 {
            &UNITS[1..]
        } else {
            &UNITS[2..]
        };
        for &(unit, factor) in units {
            if rest >= factor {
                write!(f, "{}{}", rest / factor, unit)?;
                rest %= factor;
            }
        }
        Ok(())
    }
}

impl serde::Serialize for Interval {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_people_write() {
        assert_eq!(Interval::parse("15m").unwrap().as_secs(), 900);
        assert_eq!(Interval::parse("4h").unwrap().as_secs(), 4 * 3600);
        assert_eq!(Interval::parse("14d").unwrap().as_secs(), 14 * 86_400);
        assert_eq!(Interval::parse("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(Interval::parse("30 min").unwrap().as_secs(), 1800);
        assert_eq!(Interval::parse("2w").unwrap(), Interval::from_days(14));
        assert_eq!(Interval::parse("5y").unwrap(), Interval::from_days(5 * 365));
    }

    #[test]
    fn refuses_ambiguous_or_malformed_text() {
        for bad in [
            "",
            "24",
            "h",
            "4x",
            "4hours",
            "-4h",
            "99999999999999999999d",
        ] {
            assert!(Interval::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn displays_in_the_same_form() {
        assert_eq!(Interval::from_secs(5400).to_string(), "1h30m");
        assert_eq!(Interval::from_days(14).to_string(), "14d");
        assert_eq!(Interval::from_days(1).to_string(), "24h");
        assert_eq!(Interval::from_hours(36).to_string(), "36h");
        assert_eq!(Interval::from_days(10).to_string(), "10d");
        assert_eq!(Interval::from_secs(0).to_string(), "0s");
    }
}
