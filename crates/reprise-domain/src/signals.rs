//! Signals of an attack in a backup, and whether they make its restore point suspect.
//!
//! Ransomware shows in what a backup changed: most files rewritten at once with data that
//! no longer compresses (encrypted data does not), files deleted en masse, new files named
//! as ransomware names its notes or the files it encrypted. Each data set is judged
//! against its own history, like the anomalies (`anomaly`): a log directory that rotates
//! every file each night is not suspicious for doing it again.

use serde::{Deserialize, Serialize};

use crate::anomaly;

/// Names ransomware gives its notes and the files it encrypts (matched case-insensitively
/// against new files' names; `*` stands for anything).
pub const RANSOM_NAMES: &[&str] = &[
    "*how_to_decrypt*",
    "*how-to-decrypt*",
    "*how_to_recover*",
    "*how-to-recover*",
    "*how_to_restore*",
    "*decrypt_instruction*",
    "*decrypt-instruction*",
    "*readme_for_decrypt*",
    "*read_me_to_decrypt*",
    "*restore-my-files*",
    "*restore_my_files*",
    "*recover-files*",
    "*recovery_instructions*",
    "*your_files_are_encrypted*",
    "*files_encrypted*",
    "*help_decrypt*",
    "*decrypt_my_files*",
    "_readme.txt",
    "!!!*readme*",
    "*.locked",
    "*.locky",
    "*.wncry",
    "*.wnry",
    "*.cerber",
    "*.crypted",
    "*.encrypted",
    "*.lockbit",
    "*.ryk",
    "*.akira",
];

/// Fewer files than this in the point before, and shares of files say nothing.
const MIN_FILES: u64 = 10;

/// Less new data than this, and how it compressed says nothing.
pub const MIN_NEW_BYTES: u64 = 256 * 1024;

/// A share of files touched below this is an ordinary day, whatever the history.
const MIN_SHARE: f64 = 0.2;

/// New data compressing to more than this share of its size is incompressible.
const INCOMPRESSIBLE: f64 = 0.9;

/// What one backup changed, in shares of the files the point before held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// Files in the point before; shares are 0 when it held none.
    pub files_before: u64,
    pub changed: f64,
    pub deleted: f64,
    pub renamed: f64,
    pub added: f64,
    /// Compressed size of the new data over its size, when there was enough to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<f64>,
    /// New files named like ransom notes or encrypted files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// What a backup changed, in counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub files_before: u64,
    pub added: u64,
    pub changed: u64,
    pub deleted: u64,
    pub renamed: u64,
    pub new_bytes: u64,
    pub new_bytes_packed: u64,
}

impl Signals {
    pub fn measure(counts: Counts, names: Vec<String>) -> Self {
        let share = |n: u64| {
            if counts.files_before == 0 {
                0.0
            } else {
                n as f64 / counts.files_before as f64
            }
        };
        Self {
            files_before: counts.files_before,
            changed: share(counts.changed),
            deleted: share(counts.deleted),
            renamed: share(counts.renamed),
            added: share(counts.added),
            compression: (counts.new_bytes >= MIN_NEW_BYTES)
                .then(|| counts.new_bytes_packed as f64 / counts.new_bytes as f64),
            names,
        }
    }
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// Why the backup measured by `now` looks like an attack, judged against the data set's
/// earlier backups (`history`, any order): empty when it does not.
pub fn judge(history: &[Signals], now: &Signals) -> Vec<String> {
    let mut reasons = Vec::new();
    if !now.names.is_empty() {
        reasons.push(format!(
            "new files named as ransomware names its notes or encrypted files: {}",
            now.names.join(", ")
        ));
    }
    let compressions: Vec<f64> = history.iter().filter_map(|s| s.compression).collect();
    let usual_compression = median(&compressions);
    // New data that does not compress, where this data set's usually does.
    let incompressible = now.compression.is_some_and(|c| {
        c >= INCOMPRESSIBLE && usual_compression.is_none_or(|u| u < INCOMPRESSIBLE - 0.1)
    });
    let judged = history.len() >= anomaly::MIN_HISTORY;
    let unusual = |now: f64, pick: fn(&Signals) -> f64| {
        let past: Vec<f64> = history.iter().map(pick).collect();
        now >= MIN_SHARE && (!judged || anomaly::is_surge(&past, now))
    };
    if now.files_before >= MIN_FILES {
        let rewritten = now.changed + now.deleted.min(now.added);
        let rewritten_unusual = unusual(rewritten, |s| s.changed + s.deleted.min(s.added));
        let deleted_unusual = unusual(now.deleted, |s| s.deleted);
        // Rewritten with data that no longer compresses; or, without enough new data to
        // say, most of the files at once against a history that never did it.
        if rewritten_unusual
            && (incompressible || (judged && now.compression.is_none() && rewritten >= 0.5))
        {
            reasons.push(format!(
                "{} of the files rewritten in one backup{}",
                percent(rewritten),
                match now.compression {
                    Some(c) => format!(
                        ", with new data that does not compress (ratio {c:.2}{}) — it looks encrypted",
                        usual_compression
                            .map(|u| format!(", usually {u:.2}"))
                            .unwrap_or_default()
                    ),
                    None => String::new(),
                }
            ));
        }
        if deleted_unusual && now.deleted >= 0.5 && judged {
            reasons.push(format!(
                "{} of the files deleted in one backup",
                percent(now.deleted)
            ));
        }
    } else if judged && incompressible && usual_compression.is_some() {
        reasons.push(format!(
            "new data does not compress (ratio {:.2}, usually {:.2}) — it looks encrypted",
            now.compression.unwrap_or(1.0),
            usual_compression.unwrap_or(0.0)
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(changed: f64, compression: Option<f64>) -> Signals {
        Signals {
            files_before: 400,
            changed,
            added: 0.01,
            deleted: 0.005,
            compression,
            ..Signals::default()
        }
    }

    #[test]
    fn an_encryption_wave_is_suspect_and_an_ordinary_day_is_not() {
        let history: Vec<Signals> = (0..8)
            .map(|i| day(0.02 + i as f64 / 1000.0, Some(0.4)))
            .collect();
        assert!(judge(&history, &day(0.03, Some(0.42))).is_empty());
        let reasons = judge(&history, &day(0.97, Some(1.0)));
        assert_eq!(reasons.len(), 1, "{reasons:?}");
        assert!(
            reasons[0].starts_with("98 % of the files rewritten"),
            "{reasons:?}"
        );
        assert!(reasons[0].contains("usually 0.40"), "{reasons:?}");
    }

    #[test]
    fn a_data_set_that_always_rotates_everything_is_not_suspect() {
        let history: Vec<Signals> = (0..8).map(|_| day(1.0, Some(0.2))).collect();
        assert!(judge(&history, &day(1.0, Some(0.25))).is_empty());
    }

    #[test]
    fn a_rewrite_that_still_compresses_is_not_suspect() {
        let history: Vec<Signals> = (0..8).map(|_| day(0.02, Some(0.4))).collect();
        assert!(judge(&history, &day(0.9, Some(0.35))).is_empty());
    }

    #[test]
    fn without_history_only_incompressible_rewrites_and_names_count() {
        assert!(judge(&[], &day(0.9, Some(0.3))).is_empty());
        assert_eq!(judge(&[], &day(0.9, Some(0.99))).len(), 1);
        let mut noted = day(0.0, None);
        noted.names = vec!["/data/HOW_TO_DECRYPT.txt".into()];
        let reasons = judge(&[], &noted);
        assert!(
            reasons[0].contains("/data/HOW_TO_DECRYPT.txt"),
            "{reasons:?}"
        );
    }

    #[test]
    fn mass_deletion_against_history_is_suspect() {
        let history: Vec<Signals> = (0..8).map(|_| day(0.02, Some(0.4))).collect();
        let mut wiped = day(0.0, None);
        wiped.deleted = 0.8;
        let reasons = judge(&history, &wiped);
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("80 % of the files deleted")),
            "{reasons:?}"
        );
    }

    #[test]
    fn shares_are_of_the_files_before_and_compression_needs_enough_data() {
        let s = Signals::measure(
            Counts {
                files_before: 200,
                changed: 50,
                new_bytes: 1000,
                new_bytes_packed: 990,
                ..Counts::default()
            },
            vec![],
        );
        assert_eq!(s.changed, 0.25);
        assert_eq!(s.compression, None);
    }
}
