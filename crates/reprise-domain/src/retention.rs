//! Which restore points a retention policy keeps, and why. The rules are restic's
//! (`keep-last`, `keep-hourly` … `keep-yearly`, `keep-within`), plus a maximum age that
//! overrides them all: data must not be kept longer than its purpose allows (R002.3).

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::Retention;

/// The verdict on one restore point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionDecision {
    pub id: String,
    pub time: Timestamp,
    pub keep: bool,
    /// Why it is kept (`last 1`, `daily 2026-11-20`, `within 14d`) or removed (`older
    /// than the maximum age 14d`, `no rule keeps it`).
    pub reasons: Vec<String>,
}

/// Decides, for the restore points of one group (one asset's data set), which to keep.
/// `points` may come in any order; decisions come newest first. Buckets (days, weeks…)
/// are counted in `tz`, the workspace's zone.
pub fn plan_retention(
    points: &[(String, Timestamp)],
    rules: &Retention,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<RetentionDecision> {
    let mut sorted: Vec<&(String, Timestamp)> = points.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let mut decisions: Vec<RetentionDecision> = sorted
        .iter()
        .map(|(id, time)| RetentionDecision {
            id: id.clone(),
            time: *time,
            keep: false,
            reasons: Vec::new(),
        })
        .collect();

    if let Some(n) = rules.keep_last {
        for d in decisions.iter_mut().take(n as usize) {
            d.reasons.push(format!("last {n}"));
        }
    }
    type Bucket = fn(&jiff::Zoned) -> String;
    let buckets: [(&str, Option<u32>, Bucket); 5] = [
        ("hourly", rules.keep_hourly, |z| {
            z.strftime("%Y-%m-%d %H:00").to_string()
        }),
        ("daily", rules.keep_daily, |z| {
            z.strftime("%Y-%m-%d").to_string()
        }),
        ("weekly", rules.keep_weekly, |z| {
            z.strftime("%G-W%V").to_string()
        }),
        ("monthly", rules.keep_monthly, |z| {
            z.strftime("%Y-%m").to_string()
        }),
        ("yearly", rules.keep_yearly, |z| {
            z.strftime("%Y").to_string()
        }),
    ];
    for (name, count, bucket_of) in buckets {
        let Some(count) = count else { continue };
        let mut last_bucket: Option<String> = None;
        let mut used = 0;
        for d in decisions.iter_mut() {
            if used >= count {
                break;
            }
            let bucket = bucket_of(&d.time.to_zoned(tz.clone()));
            // Newest first: the first point seen in a bucket is that bucket's latest.
            if last_bucket.as_ref() != Some(&bucket) {
                d.reasons.push(format!("{name} {bucket}"));
                last_bucket = Some(bucket);
                used += 1;
            }
        }
    }
    if let (Some(within), Some(latest)) = (rules.keep_within, decisions.first().map(|d| d.time)) {
        let span = jiff::SignedDuration::from_secs(within.as_secs() as i64);
        for d in decisions.iter_mut() {
            if latest.duration_since(d.time) <= span {
                d.reasons.push(format!("within {within} of the latest"));
            }
        }
    }
    for d in decisions.iter_mut() {
        d.keep = !d.reasons.is_empty();
        if let Some(max) = rules.max_age {
            let age = now.duration_since(d.time);
            if age > jiff::SignedDuration::from_secs(max.as_secs() as i64) {
                d.keep = false;
                d.reasons = vec![format!("older than the maximum age {max}")];
            }
        }
        if !d.keep && d.reasons.is_empty() {
            d.reasons.push("no rule keeps it".to_string());
        }
    }
    decisions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Interval;

    fn day(d: i8, h: i8) -> Timestamp {
        jiff::civil::date(2026, 11, d)
            .at(h, 0, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
    }

    fn points() -> Vec<(String, Timestamp)> {
        // Two backups a day from the 1st to the 20th.
        (1..=20)
            .flat_map(|d| {
                [
                    (format!("{d}-a"), day(d, 2)),
                    (format!("{d}-b"), day(d, 14)),
                ]
            })
            .collect()
    }

    #[test]
    fn seed_003_keeps_one_point_a_day_for_14_days() {
        let rules = Retention::seed_default();
        let now = day(20, 18);
        let plan = plan_retention(&points(), &rules, now, &TimeZone::UTC);
        let kept: Vec<&str> = plan
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.id.as_str())
            .collect();
        // The 14-day maximum age starts on the 6th at 18:00: the 7th is the oldest day.
        assert_eq!(kept.len(), 14);
        assert_eq!(kept[0], "20-b");
        assert_eq!(*kept.last().unwrap(), "7-b");
        let gone = plan.iter().find(|d| d.id == "20-a").unwrap();
        assert_eq!(gone.reasons, vec!["no rule keeps it"]);
        let old = plan.iter().find(|d| d.id == "6-b").unwrap();
        assert_eq!(old.reasons, vec!["older than the maximum age 14d"]);
        let newest = &plan[0];
        assert_eq!(newest.reasons, vec!["daily 2026-11-20"]);
    }

    #[test]
    fn the_maximum_age_overrides_every_keep_rule() {
        let rules = Retention {
            keep_last: Some(100),
            max_age: Some(Interval::from_days(2)),
            ..Retention::default()
        };
        let plan = plan_retention(&points(), &rules, day(20, 18), &TimeZone::UTC);
        assert_eq!(plan.iter().filter(|d| d.keep).count(), 4);
    }

    #[test]
    fn keep_within_counts_from_the_latest_point() {
        let rules = Retention {
            keep_within: Some(Interval::from_days(1)),
            ..Retention::default()
        };
        // Long after the last backup: keep-within still keeps the last day's points.
        let plan = plan_retention(&points(), &rules, day(28, 0), &TimeZone::UTC);
        let kept: Vec<&str> = plan
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(kept, vec!["20-b", "20-a", "19-b"]);
    }
}
