//! When backups run. Plain forms for people (`hourly`, `every 6h`, `daily at 02:00`,
//! `weekly on sunday at 03:00`) and five-field cron expressions for everything else.
//! The scheduler uses [`Schedule::next_after`]; configuration checks use
//! [`Schedule::longest_gap`] to tell whether an RPO can ever be met.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{DateTime, Time, Weekday};

use crate::Interval;

/// A backup schedule. Times are wall-clock times in the schedule's time zone, which the
/// caller supplies when it asks for the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// No automatic runs: backups are started by hand or after a change.
    Manual,
    /// At a fixed interval from midnight (`every 6h` runs at 00:00, 06:00, …).
    Every(Interval),
    Daily(Time),
    Weekly(Weekday, Time),
    /// A five-field cron expression, kept as written.
    Cron(String),
}

/// Why a schedule could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a schedule: {reason} (write `hourly`, `every 6h`, `daily at 02:00`, `weekly on sunday at 03:00`, `manual` or a cron expression such as `0 2 * * *`)"
)]
pub struct ScheduleError {
    pub text: String,
    pub reason: String,
}

fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    let h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    Time::new(h, m, 0, 0).ok()
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    let t = text.to_ascii_lowercase();
    let days = [
        (Weekday::Monday, "monday", "lundi"),
        (Weekday::Tuesday, "tuesday", "mardi"),
        (Weekday::Wednesday, "wednesday", "mercredi"),
        (Weekday::Thursday, "thursday", "jeudi"),
        (Weekday::Friday, "friday", "vendredi"),
        (Weekday::Saturday, "saturday", "samedi"),
        (Weekday::Sunday, "sunday", "dimanche"),
    ];
    days.iter()
        .find(|(_, en, fr)| t == *en || t == *fr || (t.len() >= 3 && en.starts_with(&t)))
        .map(|(d, _, _)| *d)
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

impl Schedule {
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let err = |reason: &str| ScheduleError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.as_slice() {
            ["manual"] => Ok(Schedule::Manual),
            ["hourly"] => Ok(Schedule::Every(Interval::from_hours(1))),
            ["daily"] => Ok(Schedule::Daily(Time::midnight())),
            ["every", n] => {
                let interval = Interval::parse(n).map_err(|e| err(&e.to_string()))?;
                if interval.as_secs() < 60 {
                    return Err(err("the interval must be at least one minute"));
                }
                Ok(Schedule::Every(interval))
            }
            ["daily", "at", t] => parse_time(t)
                .map(Schedule::Daily)
                .ok_or_else(|| err("the time must be HH:MM")),
            ["weekly", "on", d, "at", t] => {
                let day = parse_weekday(d).ok_or_else(|| err("unknown day of the week"))?;
                let time = parse_time(t).ok_or_else(|| err("the time must be HH:MM"))?;
                Ok(Schedule::Weekly(day, time))
            }
            [_, _, _, _, _] => {
                croner::Cron::from_str(text).map_err(|e| err(&e.to_string()))?;
                Ok(Schedule::Cron(words.join(" ")))
            }
            _ => Err(err("unrecognised form")),
        }
    }

    /// The first run strictly after `after`, in the schedule's own wall-clock time.
    /// `None` for manual schedules and cron expressions that never fire.
    pub fn next_after(&self, after: DateTime) -> Option<DateTime> {
        match self {
            Schedule::Manual => None,
            Schedule::Every(interval) => {
                let step = i64::try_from(interval.as_secs()).ok()?;
                let midnight = after.date().to_datetime(Time::midnight());
                let since = after.duration_since(midnight).as_secs();
                let next = (since / step + 1) * step;
                midnight
                    .checked_add(jiff::SignedDuration::from_secs(next))
                    .ok()
            }
            Schedule::Daily(time) => {
                let today = after.date().to_datetime(*time);
                if today > after {
                    Some(today)
                } else {
                    after.date().tomorrow().ok().map(|d| d.to_datetime(*time))
                }
            }
            Schedule::Weekly(day, time) => {
                let mut date = after.date();
                for _ in 0..8 {
                    let candidate = date.to_datetime(*time);
                    if date.weekday() == *day && candidate > after {
                        return Some(candidate);
                    }
                    date = date.tomorrow().ok()?;
                }
                None
            }
            Schedule::Cron(expr) => {
                let cron = croner::Cron::from_str(expr).ok()?;
                cron.find_next_occurrence(&after, false).ok()
            }
        }
    }

    /// The longest time that can pass between two runs, or `None` when runs are not
    /// guaranteed at all (manual, or a cron expression that does not fire within a year).
    /// An RPO shorter than this can never be met.
    pub fn longest_gap(&self) -> Option<Interval> {
        match self {
            Schedule::Manual => None,
            Schedule::Every(interval) => {
                // Runs restart at midnight, so the last gap of the day can be shorter but
                // never longer than the interval.
                Some(*interval)
            }
            Schedule::Daily(_) => Some(Interval::from_days(1)),
            Schedule::Weekly(..) => Some(Interval::from_days(7)),
            Schedule::Cron(expr) => {
                let cron = croner::Cron::from_str(expr).ok()?;
                // Walk one non-leap year plus a margin; every cron pattern repeats within
                // a year except the rare ones tied to leap days, which we accept as is.
                let start = jiff::civil::date(2025, 1, 1).to_datetime(Time::midnight());
                let end = jiff::civil::date(2026, 1, 8).to_datetime(Time::midnight());
                let mut previous: Option<DateTime> = None;
                let mut longest = 0i64;
                for (count, at) in cron.iter_after(start).enumerate() {
                    if let Some(prev) = previous {
                        longest = longest.max(at.duration_since(prev).as_secs());
                    }
                    previous = Some(at);
                    // Frequent schedules repeat with a period far below the cap.
                    if at > end || count > 20_000 {
                        break;
                    }
                }
                previous?;
                if longest == 0 {
                    return None;
                }
                Some(Interval::from_secs(longest as u64))
            }
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Manual => f.write_str("manual"),
            Schedule::Every(i) if i.as_secs() == 3600 => f.write_str("hourly"),
            Schedule::Every(i) => write!(f, "every {i}"),
            Schedule::Daily(t) => write!(f, "daily at {}", t.strftime("%H:%M")),
            Schedule::Weekly(d, t) => {
                write!(
                    f,
                    "weekly on {} at {}",
                    weekday_name(*d),
                    t.strftime("%H:%M")
                )
            }
            Schedule::Cron(expr) => f.write_str(expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn plain_forms_parse_and_display_back() {
        for text in [
            "manual",
            "hourly",
            "every 6h",
            "daily at 02:00",
            "weekly on sunday at 03:30",
            "0 2 * * *",
        ] {
            assert_eq!(Schedule::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Schedule::parse("weekly on dimanche at 03:30").unwrap(),
            Schedule::Weekly(Weekday::Sunday, jiff::civil::time(3, 30, 0, 0))
        );
    }

    #[test]
    fn bad_schedules_are_refused() {
        for text in [
            "daily at 25:00",
            "every 10s",
            "sometimes",
            "0 2 * *",
            "61 * * * *",
        ] {
            assert!(Schedule::parse(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn next_run_follows_the_wall_clock() {
        let at = date(2026, 3, 10).at(2, 0, 0, 0);
        let daily = Schedule::parse("daily at 02:00").unwrap();
        assert_eq!(daily.next_after(at), Some(date(2026, 3, 11).at(2, 0, 0, 0)));
        let every = Schedule::parse("every 6h").unwrap();
        assert_eq!(every.next_after(at), Some(date(2026, 3, 10).at(6, 0, 0, 0)));
        let weekly = Schedule::parse("weekly on sunday at 03:00").unwrap();
        assert_eq!(
            weekly.next_after(at),
            Some(date(2026, 3, 15).at(3, 0, 0, 0))
        );
        let cron = Schedule::parse("30 1 * * *").unwrap();
        assert_eq!(cron.next_after(at), Some(date(2026, 3, 11).at(1, 30, 0, 0)));
    }

    #[test]
    fn longest_gap_decides_which_rpo_can_be_met() {
        let gap = |s: &str| Schedule::parse(s).unwrap().longest_gap();
        assert_eq!(gap("daily at 02:00"), Some(Interval::from_days(1)));
        assert_eq!(gap("every 4h"), Some(Interval::from_hours(4)));
        assert_eq!(gap("manual"), None);
        // Weekdays only: the weekend gap is three days.
        assert_eq!(gap("0 2 * * 1-5"), Some(Interval::from_days(3)));
        assert_eq!(gap("*/15 * * * *"), Some(Interval::from_secs(900)));
    }
}
