//! Backup policies and the repositories they write to.

use serde::Serialize;

use crate::{Interval, PolicyId, RepoId, Schedule};

/// How often an asset is backed up, how long restore points are kept, and where they go.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    pub id: PolicyId,
    #[serde(serialize_with = "display")]
    pub schedule: Schedule,
    pub retention: Retention,
    /// The repository each backup is written to first.
    pub repository: RepoId,
    /// Repositories new snapshots are copied to (the "2" and "1" of 3-2-1).
    pub copy_to: Vec<RepoId>,
    /// How often a restore test (drill) must prove the assets' restore points (R002.9:
    /// quarterly).
    pub drill_every: Interval,
}

fn display<S: serde::Serializer>(v: &Schedule, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Which restore points to keep. The defaults follow seed 003: daily backups kept 14 days.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Retention {
    pub keep_last: Option<u32>,
    pub keep_hourly: Option<u32>,
    pub keep_daily: Option<u32>,
    pub keep_weekly: Option<u32>,
    pub keep_monthly: Option<u32>,
    pub keep_yearly: Option<u32>,
    /// Keep everything younger than this.
    pub keep_within: Option<Interval>,
    /// Never keep anything older than this, whatever the other rules say (R002.3: data
    /// must not be kept longer than its purpose allows).
    pub max_age: Option<Interval>,
}

impl Retention {
    pub fn seed_default() -> Self {
        Self {
            keep_daily: Some(14),
            max_age: Some(Interval::from_days(14)),
            ..Self::default()
        }
    }
}

/// Where restore points are stored. Repositories use restic's format, so stock `restic`
/// can read them when Reprise itself is unavailable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repository {
    pub id: RepoId,
    pub backend: RepoBackend,
    /// Where the repository password comes from. Never the password itself.
    pub password_file: Option<String>,
    pub password_env: Option<String>,
    pub password_command: Option<String>,
    /// The name of a secret of Reprise's encrypted store (`reprise secret set`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// How often its key must be rotated (R002.8); an alert fires past it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotate_every: Option<crate::Interval>,
    /// The kind of medium (`disk`, `nas`, `object-storage`, `tape`…) for the 3-2-1 rule.
    pub medium: String,
    pub location: Location,
    /// How long nobody, Reprise's own credentials included, can delete what is written
    /// there (S3 Object Lock), and in which mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub immutable: Option<Immutability>,
}

/// An immutable repository's lock: `immutable_for = "30d"`, `lock_mode = "compliance"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Immutability {
    pub period: crate::Interval,
    /// `compliance` (nobody lifts it) or `governance` (lifted with a special right).
    pub mode: LockMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockMode {
    #[default]
    Compliance,
    Governance,
}

impl LockMode {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "compliance" => Some(Self::Compliance),
            "governance" => Some(Self::Governance),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliance => "compliance",
            Self::Governance => "governance",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RepoBackend {
    Local {
        path: String,
    },
    S3 {
        url: String,
    },
    Sftp {
        url: String,
        /// A private key file for ssh (relative to the workspace).
        #[serde(skip_serializing_if = "Option::is_none")]
        ssh_key: Option<String>,
        /// `strict` (default), `add` or `accept`: what ssh does with an unknown host key.
        known_hosts: String,
    },
    Rest {
        url: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Location {
    OnSite,
    OffSite,
}

impl Location {
    pub fn parse(word: &str) -> Option<Self> {
        match crate::vocabulary::normalize_word(word).as_str() {
            "on site" | "onsite" | "sur site" | "local" => Some(Location::OnSite),
            "off site" | "offsite" | "hors site" | "remote" | "distant" => Some(Location::OffSite),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Location::OnSite => "on-site",
            Location::OffSite => "off-site",
        }
    }
}
