//! Runs (what Reprise did, when, and how it ended) and restore points (what the
//! repositories hold, and what is known of their integrity).

use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Backup,
    Restore,
    Verify,
    Retention,
    Copy,
    /// Reprise backing up its own catalog and configuration.
    #[serde(rename = "self-backup")]
    SelfBackup,
    /// A restore test into a sandbox, with its verification (R002.9, R003.5).
    Drill,
    /// A scheduled CSV export (R002.4); its `dataset` holds the export's id.
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    /// The process stopped before the run ended (killed, crashed, shut down).
    Interrupted,
}

macro_rules! text_enum {
    ($name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(RunKind {
    Backup = "backup",
    Restore = "restore",
    Verify = "verify",
    Retention = "retention",
    Copy = "copy",
    SelfBackup = "self-backup",
    Drill = "drill",
    Export = "export",
});

text_enum!(RunStatus {
    Running = "running",
    Succeeded = "succeeded",
    Failed = "failed",
    Interrupted = "interrupted",
});

/// A run as it starts.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub kind: Option<RunKind>,
    pub asset: Option<String>,
    pub dataset: Option<String>,
    pub repository: Option<String>,
    pub started: Option<Timestamp>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    pub finished: Timestamp,
    pub status: RunStatus,
    pub snapshot: Option<String>,
    pub files: Option<u64>,
    pub bytes_read: Option<u64>,
    pub bytes_added: Option<u64>,
    /// The failure in words, for failed runs.
    pub error: Option<String>,
    /// Free-form JSON with what else the run reports (a restore's target, a check's mode).
    pub detail: Option<String>,
}

impl RunOutcome {
    pub fn new(finished: Timestamp, status: RunStatus) -> Self {
        Self {
            finished,
            status,
            snapshot: None,
            files: None,
            bytes_read: None,
            bytes_added: None,
            error: None,
            detail: None,
        }
    }
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Run {
    pub id: i64,
    pub kind: RunKind,
    pub asset: Option<String>,
    pub dataset: Option<String>,
    pub repository: Option<String>,
    pub started: Timestamp,
    pub finished: Option<Timestamp>,
    pub status: RunStatus,
    pub snapshot: Option<String>,
    pub files: Option<u64>,
    pub bytes_read: Option<u64>,
    pub bytes_added: Option<u64>,
    pub error: Option<String>,
    pub detail: Option<String>,
}

impl Run {
    /// Wall-clock duration, for finished runs.
    pub fn duration(&self) -> Option<jiff::SignedDuration> {
        self.finished.map(|f| f.duration_since(self.started))
    }
}

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub asset: Option<String>,
    pub kind: Option<RunKind>,
    /// The newest `limit` runs; all when `None`.
    pub limit: Option<u32>,
}

/// A restore point in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestorePoint {
    pub repository: String,
    pub snapshot: String,
    pub asset: String,
    pub dataset: String,
    pub policy: Option<String>,
    pub time: Timestamp,
    pub files: Option<u64>,
    pub bytes: Option<u64>,
    pub bytes_added: Option<u64>,
    /// When its data was last read back and found intact.
    pub verified: Option<Timestamp>,
    /// When a verification last found it damaged (cleared by a later success).
    pub failed: Option<Timestamp>,
    pub failure: Option<String>,
    /// Why its backup looks like an attack, while no one has cleared it: a suspect point
    /// is never the last verified good one.
    pub suspect: Option<String>,
}

/// A backup whose signals look like an attack (files rewritten with data that does not
/// compress, mass deletion, ransom notes). It concerns the moment backed up, so every
/// repository holding that backup (copies too) holds a suspect point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suspicion {
    pub asset: String,
    pub dataset: String,
    /// The restore point's time.
    pub time: Timestamp,
    /// Where it was found suspect first.
    pub repository: String,
    pub snapshot: String,
    pub at: Timestamp,
    /// Why, reasons separated by `; `.
    pub reasons: String,
    /// The signals measured, as JSON.
    pub signals: Option<String>,
    /// When a person cleared it, who, and why.
    pub cleared: Option<Timestamp>,
    pub cleared_by: Option<String>,
    pub clearance: Option<String>,
}

/// Why Reprise trusts a snapshot as a restore point: it made it, copied it, or an
/// operator adopted it with a reason. A snapshot without provenance is foreign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub repository: String,
    pub snapshot: String,
    /// `backup`, `copy` (`reason` names the original), `adopted`, or `recorded` for the
    /// points known before provenance was kept.
    pub how: String,
    pub at: Timestamp,
    pub actor: Option<String>,
    pub reason: Option<String>,
}

/// The outcome of verifying restore points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Passed,
    Failed(String),
}

/// A whole-repository verification, kept to know when a rolling cycle covered everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepoVerification {
    pub repository: String,
    pub at: Timestamp,
    /// `structure`, `all`, `percent` or `slice`.
    pub mode: String,
    pub slice: Option<(u32, u32)>,
    pub ok: bool,
}
