//! Dates as written in inventories: ISO (`2024-09-22`) or French (`22/09/2024`); points
//! in time as given to `restore --at` and the API.

use jiff::civil::Date;

/// Parses `2024-09-22`, `22/09/2024` or `22-09-2024`; `None` for anything else.
pub fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    if let Ok(d) = text.parse::<Date>() {
        return Some(d);
    }
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    if let [d, m, y] = parts.as_slice()
        && y.len() == 4
    {
        return Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok();
    }
    None
}

/// Reads a point in time: RFC 3339, `2026-11-20 14:00` (in `tz`), or a day, which means
/// the end of that day (the newest restore point made on it).
pub fn parse_time(text: &str, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
    reprise_domain::request::parse_time(text, tz, reprise_domain::request::DayEdge::End)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_iso_and_french_dates() {
        let expected = jiff::civil::date(2024, 9, 22);
        assert_eq!(parse_date("2024-09-22"), Some(expected));
        assert_eq!(parse_date("22/09/2024"), Some(expected));
        assert_eq!(parse_date("22.09.2024"), Some(expected));
        assert_eq!(parse_date("31/02/2024"), None);
        assert_eq!(parse_date("En attente"), None);
    }
}
