//! The journal: an append-only record of every change of state, each entry sealed with a
//! hash that covers the previous entry's hash, so that an entry altered, removed or
//! reordered breaks the chain at that point. The catalog assigns the sequence number and
//! the previous hash under a lock; the caller's `seal` computes the hash (with a key the
//! catalog never sees).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// 1, 2, 3… without gaps.
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    /// `backup.started`, `run.finished`, `incident.phase`, `token.created`…
    pub action: String,
    /// What it concerns (`erp/files`, `incident 3`, `token admin`).
    pub subject: String,
    pub detail: String,
    /// The hash of entry `seq - 1` (empty for the first).
    pub prev_hash: String,
    pub hash: String,
    /// The record this entry seals (`incident:3`, `account:alice`), empty for none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub record: String,
    /// SHA-256 of that record's content right after the change, hex.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub digest: String,
}

/// What a caller appends; the catalog fills in `seq` and `prev_hash`, then `seal` fills
/// in `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJournalEntry {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    /// The record sealed and its digest (see [`JournalEntry::record`]), empty for none.
    pub record: String,
    pub digest: String,
}

impl NewJournalEntry {
    /// The entry as it will be stored after `last` (seq and previous hash), before sealing.
    pub fn after(&self, last: Option<(i64, String)>) -> JournalEntry {
        let (seq, prev_hash) = last.map_or((1, String::new()), |(s, h)| (s + 1, h));
        JournalEntry {
            seq,
            at: self.at,
            actor: self.actor.clone(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            detail: self.detail.clone(),
            prev_hash,
            hash: String::new(),
            record: self.record.clone(),
            digest: self.digest.clone(),
        }
    }
}

/// Computes an entry's hash from every other field.
pub type Seal = dyn Fn(&JournalEntry) -> String + Send + Sync;
