//! Small text forms shared by every layer: hexadecimal, the short id people read, a
//! duration as people say it.

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hexadecimal text (surrounding white space ignored), or `None`.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The short form of a snapshot or key id people read (its first 8 characters), as
/// restic shows it.
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// `42s`, `12m`, `3h 20m`.
/// `1.5 MiB`: sizes for people.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn human(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s.div_ceil(60)),
        s => {
            let m = (s % 3600) / 60;
            if m == 0 {
                format!("{}h", s / 3600)
            } else {
                format!("{}h {m}m", s / 3600)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_goes_both_ways() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(unhex(" 000fff\n"), Some(vec![0, 15, 255]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(short("0123456789abcdef"), "01234567");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(42), "42s");
        assert_eq!(human(61), "2m");
        assert_eq!(human(3600), "1h");
        assert_eq!(human(3 * 3600 + 20 * 60), "3h 20m");
    }
}
