//! Data categories (R002.1, R002.3): records, documents and consents, settings, logs — or
//! the user's own — each with the shortest and longest time its restore points may be
//! kept. A policy that would keep a category's data past its maximum, or drop it before
//! its minimum, is refused when the configuration is read; points past the maximum are
//! purged by retention whatever the policy says.

use serde::Serialize;

use crate::{Interval, Retention};

/// A data category and its retention bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataCategory {
    pub name: String,
    pub description: Option<String>,
    /// Restore points must cover at least this long (legal retention).
    pub min_retention: Option<Interval>,
    /// No restore point may be kept longer (GDPR: no longer than the purpose needs).
    pub max_retention: Option<Interval>,
}

/// The categories every workspace knows, with their English and French descriptions.
/// Their bounds are the user's to set (`[[category]] name = "records" max_retention = …`).
pub const BUILT_IN_CATEGORIES: [(&str, &str, &str); 4] = [
    (
        "records",
        "business records (visits, visitors)",
        "enregistrements métier (visites, visiteurs)",
    ),
    (
        "documents",
        "documents and consents",
        "documents et consentements",
    ),
    ("settings", "settings and configuration", "paramétrage"),
    ("logs", "logs and audit trails", "journaux"),
];

impl DataCategory {
    pub(crate) fn built_in(name: &str) -> Option<Self> {
        BUILT_IN_CATEGORIES
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(n, en, _)| Self {
                name: (*n).to_string(),
                description: Some((*en).to_string()),
                min_retention: None,
                max_retention: None,
            })
    }

    /// Whether `rules`, run on `schedule_gap`, respect these bounds: `Err` says how
    /// long the policy keeps data and which bound that breaks.
    pub fn check(&self, rules: &Retention, schedule_gap: Option<Interval>) -> Result<(), Breach> {
        let kept = rules.longest_kept(schedule_gap);
        if let Some(max) = self.max_retention {
            let too_long = match kept {
                None => true,
                Some(kept) => kept > max,
            };
            if too_long {
                return Err(Breach::TooLong { max, kept });
            }
        }
        if let Some(min) = self.min_retention
            && let Some(kept) = kept
            && kept < min
        {
            return Err(Breach::TooShort { min, kept });
        }
        Ok(())
    }
}

/// How a policy breaks a category's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// Keeps data `kept` (`None`: forever) where the category allows `max`.
    TooLong {
        max: Interval,
        kept: Option<Interval>,
    },
    /// Keeps data only `kept` where the category requires `min`.
    TooShort { min: Interval, kept: Interval },
}

impl Retention {
    /// The longest a restore point can stay under these rules, for backups at most
    /// `schedule_gap` apart: `None` when some point may be kept forever (`keep_last`
    /// on a manual schedule with no `max_age`). Calendar rules count their longest
    /// buckets (a month is 31 days, a year 366), so the answer is an upper bound.
    pub fn longest_kept(&self, schedule_gap: Option<Interval>) -> Option<Interval> {
        const DAY: u64 = 86_400;
        let mut longest = Some(0u64);
        let mut extend = |secs: Option<u64>| {
            longest = match (longest, secs) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        };
        if let Some(n) = self.keep_last {
            extend(schedule_gap.map(|gap| u64::from(n) * gap.as_secs()));
        }
        let buckets = [
            (self.keep_hourly, 3_600),
            (self.keep_daily, DAY),
            (self.keep_weekly, 7 * DAY),
            (self.keep_monthly, 31 * DAY),
            (self.keep_yearly, 366 * DAY),
        ];
        for (count, size) in buckets {
            if let Some(n) = count {
                extend(Some(u64::from(n) * size));
            }
        }
        if let Some(within) = self.keep_within {
            extend(Some(within.as_secs()));
        }
        match (longest, self.max_age) {
            (Some(l), Some(max)) => Some(Interval::from_secs(l.min(max.as_secs()))),
            (None, Some(max)) => Some(max),
            (l, None) => l.map(Interval::from_secs),
        }
    }

    /// These rules with the category's maximum applied as a maximum age.
    pub fn bounded_by(&self, category: Option<&DataCategory>) -> Retention {
        let mut rules = self.clone();
        if let Some(max) = category.and_then(|c| c.max_retention) {
            rules.max_age = Some(rules.max_age.map_or(max, |own| own.min(max)));
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(min: Option<&str>, max: Option<&str>) -> DataCategory {
        DataCategory {
            name: "records".into(),
            description: None,
            min_retention: min.map(|m| Interval::parse(m).unwrap()),
            max_retention: max.map(|m| Interval::parse(m).unwrap()),
        }
    }

    #[test]
    fn the_longest_rule_decides_how_long_data_stays() {
        let daily = Retention::seed_default();
        assert_eq!(daily.longest_kept(None), Some(Interval::from_days(14)));
        let monthly = Retention {
            keep_daily: Some(7),
            keep_monthly: Some(12),
            ..Retention::default()
        };
        assert_eq!(monthly.longest_kept(None), Some(Interval::from_days(372)));
        let last = Retention {
            keep_last: Some(10),
            ..Retention::default()
        };
        assert_eq!(
            last.longest_kept(Some(Interval::from_days(1))),
            Some(Interval::from_days(10))
        );
        assert_eq!(last.longest_kept(None), None, "manual: kept forever");
    }

    #[test]
    fn a_policy_past_the_maximum_or_short_of_the_minimum_is_a_breach() {
        let yearly = Retention {
            keep_yearly: Some(2),
            ..Retention::default()
        };
        assert_eq!(
            category(None, Some("1y")).check(&yearly, None),
            Err(Breach::TooLong {
                max: Interval::from_days(365),
                kept: Some(Interval::from_days(732)),
            })
        );
        assert!(category(None, Some("3y")).check(&yearly, None).is_ok());
        assert_eq!(
            category(Some("30d"), None).check(&Retention::seed_default(), None),
            Err(Breach::TooShort {
                min: Interval::from_days(30),
                kept: Interval::from_days(14),
            })
        );
    }

    #[test]
    fn the_category_maximum_caps_the_policy() {
        let rules = Retention {
            keep_monthly: Some(24),
            ..Retention::default()
        };
        let capped = rules.bounded_by(Some(&category(None, Some("90d"))));
        assert_eq!(capped.max_age, Some(Interval::from_days(90)));
        let own = Retention::seed_default().bounded_by(Some(&category(None, Some("90d"))));
        assert_eq!(
            own.max_age,
            Some(Interval::from_days(14)),
            "the shorter wins"
        );
    }
}
