//! The catalog: the record of what happened (inventory changes now; runs, restore points,
//! incidents and the journal as they land). The configuration file says what should be;
//! the catalog says what was.
//!
//! This crate owns the contract only: the [`Catalog`] trait, its row types, its error,
//! and [`conformance`], the suite every implementation must pass. It contains no SQL;
//! `reprise-catalog-sql` implements the trait once for SQLite and PostgreSQL, and only the
//! binary picks one.
//!
//! Times are [`jiff::Timestamp`]s passed in by the caller: the catalog never reads the
//! clock, so tests control time.

mod accounts;
mod agents;
mod alerts;
pub mod conformance;
mod devices;
mod erasures;
mod incidents;
mod inventory;
mod journal;
mod runs;

pub use accounts::{TokenRow, UserRow};
pub use agents::{AgentJob, AgentRecord, JobState, NewAgentJob};
pub use alerts::Alert;
pub use devices::DeviceRecord;
pub use erasures::ErasureRow;
pub use incidents::{
    Approval, IncidentEvent, IncidentRow, IncidentSave, NewIncidentRow, NewRequestRow,
    RequestEvent, RequestRow, RequestSave,
};
pub use inventory::{AssetChange, AssetRecord, ChangeKind, RecordedState, diff_inventory};
pub use journal::{JournalEntry, NewJournalEntry, Seal};
pub use runs::{
    NewRun, Provenance, RepoVerification, RestorePoint, Run, RunFilter, RunKind, RunOutcome,
    RunStatus, Suspicion, Verification,
};

use async_trait::async_trait;
use jiff::Timestamp;

/// Why a catalog operation failed. Messages name the operation; connection strings are
/// reported without their password.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot open the catalog at {location}: {reason}")]
    Open { location: String, reason: String },
    #[error("cannot migrate the catalog at {location}: {reason}")]
    Migrate { location: String, reason: String },
    #[error("catalog error while {action}: {reason}")]
    Query {
        action: &'static str,
        reason: String,
    },
    /// Someone else changed the record since it was read.
    #[error("{what} {id} was changed by someone else meanwhile: look at it again and retry")]
    Conflict { what: &'static str, id: i64 },
}

impl CatalogError {
    /// Wraps a driver error with the operation that failed.
    pub fn query(action: &'static str, err: impl std::fmt::Display) -> Self {
        CatalogError::Query {
            action,
            reason: err.to_string(),
        }
    }
}

/// Storage for everything Reprise records. Implementations must pass [`conformance`].
#[async_trait]
pub trait Catalog: Send + Sync {
    /// A human description of where the catalog lives (`sqlite:/path/catalog.db`,
    /// `postgres://host/db`), never including a password.
    fn location(&self) -> String;

    /// Records the inventory as loaded at `at`: assets that appeared, changed
    /// configuration, changed state or disappeared since the previous call. Returns the
    /// changes recorded, in inventory order. Recording the same inventory twice records
    /// nothing the second time.
    async fn record_inventory(
        &self,
        assets: &[AssetRecord],
        at: Timestamp,
    ) -> Result<Vec<AssetChange>, CatalogError>;

    /// Every recorded change of one asset, oldest first.
    async fn asset_history(&self, asset: &str) -> Result<Vec<AssetChange>, CatalogError>;

    /// Every recorded change of every asset, oldest first, ties in insertion order.
    async fn inventory_history(&self) -> Result<Vec<AssetChange>, CatalogError>;

    /// Records a state observed outside the configuration.
    async fn record_state(&self, state: &RecordedState) -> Result<(), CatalogError>;

    /// The newest recorded state of each asset that has one, by asset id.
    async fn recorded_states(&self) -> Result<Vec<RecordedState>, CatalogError>;

    /// Saves what was last seen of a device data set, replacing what was there.
    async fn save_device(&self, device: &DeviceRecord) -> Result<(), CatalogError>;

    /// Every device data set seen, by asset and data set.
    async fn devices(&self) -> Result<Vec<DeviceRecord>, CatalogError>;

    /// Saves what is known of an agent, replacing what was there.
    async fn save_agent(&self, agent: &AgentRecord) -> Result<(), CatalogError>;

    /// Every agent ever enrolled, by host.
    async fn agents(&self) -> Result<Vec<AgentRecord>, CatalogError>;

    /// Queues a job for an agent; returns its number.
    async fn queue_agent_job(&self, job: &NewAgentJob) -> Result<i64, CatalogError>;

    /// The jobs of one host (or all), the newest first; only those not finished when
    /// `open_only`.
    async fn agent_jobs(
        &self,
        host: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<AgentJob>, CatalogError>;

    /// One job.
    async fn agent_job(&self, id: i64) -> Result<Option<AgentJob>, CatalogError>;

    /// Moves a job from `from` to `to` (with the time it started or finished and the
    /// result); `false` when it was not in state `from` (another took or ended it).
    async fn move_agent_job(
        &self,
        id: i64,
        from: JobState,
        to: JobState,
        at: Timestamp,
        result: Option<&str>,
    ) -> Result<bool, CatalogError>;

    /// Records the start of a run and returns its id.
    async fn start_run(&self, run: &NewRun) -> Result<i64, CatalogError>;

    /// Records how a run ended.
    async fn finish_run(&self, id: i64, outcome: &RunOutcome) -> Result<(), CatalogError>;

    /// Runs matching `filter`, newest first.
    async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, CatalogError>;

    /// The latest finished run of `kind` of each asset (not the running ones), in no
    /// particular order: what status pages need, without reading every run.
    async fn latest_runs(&self, kind: RunKind) -> Result<Vec<Run>, CatalogError>;

    /// How many runs ended (or are running) of each kind and status: counters for
    /// metrics, without reading every run.
    async fn run_counts(&self) -> Result<Vec<(RunKind, RunStatus, u64)>, CatalogError>;

    /// Replaces what the catalog knows of `repository`'s restore points by `points`:
    /// new ones are added, vanished ones removed, and known ones keep their verification
    /// status.
    async fn sync_restore_points(
        &self,
        repository: &str,
        points: &[RestorePoint],
    ) -> Result<(), CatalogError>;

    /// Restore points of one asset (all when `None`), oldest first: only the snapshots
    /// with a provenance (made, copied or adopted by Reprise).
    async fn restore_points(&self, asset: Option<&str>) -> Result<Vec<RestorePoint>, CatalogError>;

    /// Snapshots tagged for an asset that Reprise did not make, copy or adopt, oldest
    /// first: listed, never used.
    async fn foreign_points(&self, asset: Option<&str>) -> Result<Vec<RestorePoint>, CatalogError>;

    /// Records why a snapshot is trusted; a snapshot already trusted keeps its first
    /// provenance.
    async fn record_provenance(&self, provenance: &Provenance) -> Result<(), CatalogError>;

    /// The provenance of a snapshot, if it has one.
    async fn provenance(
        &self,
        repository: &str,
        snapshot: &str,
    ) -> Result<Option<Provenance>, CatalogError>;

    /// Every recorded provenance, in one read (the journal checks them all).
    async fn provenances(&self) -> Result<Vec<Provenance>, CatalogError>;

    /// Records that a backup looks like an attack; a backup already suspect keeps its
    /// first record.
    async fn record_suspicion(&self, suspicion: &Suspicion) -> Result<(), CatalogError>;

    /// Clears the suspicion on the backup of `asset`/`dataset` taken at `time`; false when
    /// there was none left to clear.
    async fn clear_suspicion(
        &self,
        asset: &str,
        dataset: &str,
        time: Timestamp,
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<bool, CatalogError>;

    /// Suspicions of one asset (all when `None`), cleared ones included, oldest first.
    async fn suspicions(&self, asset: Option<&str>) -> Result<Vec<Suspicion>, CatalogError>;

    /// Records a verification of some restore points of a repository.
    async fn mark_verified(
        &self,
        repository: &str,
        snapshots: &[String],
        at: Timestamp,
        outcome: &Verification,
    ) -> Result<(), CatalogError>;

    /// Records a whole-repository verification.
    async fn record_verification(
        &self,
        verification: &RepoVerification,
    ) -> Result<(), CatalogError>;

    /// Whole-repository verifications of `repository`, oldest first.
    async fn verifications(&self, repository: &str) -> Result<Vec<RepoVerification>, CatalogError>;

    /// Stores an API token by its hash (the token itself is never stored).
    async fn create_token(&self, token: &TokenRow) -> Result<(), CatalogError>;

    /// The token with this hash, revoked or expired ones included (the caller decides).
    async fn token(&self, hash: &str) -> Result<Option<TokenRow>, CatalogError>;

    /// Every token, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRow>, CatalogError>;

    /// Revokes the token with this hash. Returns true when it was not revoked yet.
    async fn revoke_token(&self, hash: &str, at: Timestamp) -> Result<bool, CatalogError>;

    /// Creates or replaces an account (its creation time is kept).
    async fn save_user(&self, user: &UserRow) -> Result<(), CatalogError>;

    async fn user(&self, name: &str) -> Result<Option<UserRow>, CatalogError>;

    /// Sets an account's sign-in counters only while its failure count is still
    /// `expected` (compare and swap, in one statement), so that concurrent sign-ins each
    /// take an attempt of their own. Returns whether they were set.
    async fn swap_signins(
        &self,
        name: &str,
        expected: i64,
        failed: i64,
        locked_until: Option<Timestamp>,
    ) -> Result<bool, CatalogError>;

    /// Every account, by name.
    async fn users(&self) -> Result<Vec<UserRow>, CatalogError>;

    /// Opens the alert `key`, or updates it if it is already open. Returns true when it
    /// was newly opened (and people should be told).
    async fn raise_alert(
        &self,
        key: &str,
        severity: &str,
        message: &str,
        at: Timestamp,
    ) -> Result<bool, CatalogError>;

    /// Resolves the open alert `key`. Returns true when there was one.
    async fn resolve_alert(&self, key: &str, at: Timestamp) -> Result<bool, CatalogError>;

    /// Alerts, newest first: only open ones, or all.
    async fn alerts(&self, open_only: bool) -> Result<Vec<Alert>, CatalogError>;

    /// Records that `by` acknowledged the open alert `key`. `false` when no such alert is
    /// open.
    async fn acknowledge_alert(
        &self,
        key: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, CatalogError>;

    /// Takes the lease `key` for `holder` until `until`, if it is free, expired at `now`,
    /// or already held by `holder`. Atomic: of two servers asking, one gets it.
    async fn try_lease(
        &self,
        key: &str,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, CatalogError>;

    /// Who holds the lease `key` at `now`, if anyone.
    async fn lease_holder(&self, key: &str, now: Timestamp)
    -> Result<Option<String>, CatalogError>;

    /// Gives the lease back (only its holder can).
    async fn release_lease(&self, key: &str, holder: &str) -> Result<(), CatalogError>;

    /// Records a new incident (phase and document included) with its `opened` event,
    /// and returns its id.
    async fn create_incident(&self, new: &NewIncidentRow) -> Result<i64, CatalogError>;

    /// Saves a changed incident with the events that describe the change, atomically.
    /// Refused with [`CatalogError::Conflict`] if it changed since `save.version`.
    async fn save_incident(
        &self,
        save: &IncidentSave,
        events: &[IncidentEvent],
    ) -> Result<(), CatalogError>;

    async fn incident(&self, id: i64) -> Result<Option<IncidentRow>, CatalogError>;

    /// Incidents, newest first: only those not closed, or all.
    async fn incidents(&self, open_only: bool) -> Result<Vec<IncidentRow>, CatalogError>;

    /// The timeline of an incident, oldest first.
    async fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>, CatalogError>;

    /// Records a new restore request with its `submitted` event, and returns its id.
    async fn create_request(&self, new: &NewRequestRow) -> Result<i64, CatalogError>;

    /// Saves a changed request with the events that describe the change, atomically.
    /// Refused with [`CatalogError::Conflict`] if it changed since `save.version`.
    async fn save_request(
        &self,
        save: &RequestSave,
        events: &[RequestEvent],
    ) -> Result<(), CatalogError>;

    async fn request(&self, id: i64) -> Result<Option<RequestRow>, CatalogError>;

    /// Requests, newest first: only those not closed, or all.
    async fn requests(&self, open_only: bool) -> Result<Vec<RequestRow>, CatalogError>;

    /// The timeline of a request, oldest first.
    async fn request_events(&self, id: i64) -> Result<Vec<RequestEvent>, CatalogError>;

    /// Appends `entry` after the last one, atomically: of two appends at once, one comes
    /// after the other. `seal` computes the hash of the entry with its seq and previous
    /// hash filled in.
    async fn append_journal(
        &self,
        entry: &NewJournalEntry,
        seal: &Seal,
    ) -> Result<JournalEntry, CatalogError>;

    /// Journal entries with `seq` greater than `after`, oldest first, at most `limit`.
    async fn journal(
        &self,
        after: i64,
        limit: Option<i64>,
    ) -> Result<Vec<JournalEntry>, CatalogError>;

    /// Records that `secret` (`repository:ID`) was rotated at `at`.
    async fn record_rotation(&self, secret: &str, at: Timestamp) -> Result<(), CatalogError>;

    /// Records a planned erasure and returns its id.
    async fn create_erasure(
        &self,
        asset: &str,
        created: Timestamp,
        doc: &str,
    ) -> Result<i64, CatalogError>;

    /// Records how an erasure ended (`executed`, `failed`, `cancelled`) and its document.
    /// A `planned` erasure can end, and a `failed` one run again can end anew; `false`
    /// when it had already ended otherwise (executed or cancelled).
    async fn finish_erasure(
        &self,
        id: i64,
        state: &str,
        finished: Timestamp,
        doc: &str,
    ) -> Result<bool, CatalogError>;

    /// Erasures of one asset (all when `None`), oldest first.
    async fn erasures(&self, asset: Option<&str>) -> Result<Vec<ErasureRow>, CatalogError>;

    /// The last rotation of each secret, by name.
    async fn rotations(&self) -> Result<Vec<(String, Timestamp)>, CatalogError>;

    /// Journals an event that changes nothing in the catalog (a secret stored outside it)
    /// when this catalog keeps a journal; does nothing otherwise.
    async fn note(&self, action: &str, subject: &str, detail: &str) -> Result<(), CatalogError> {
        let _ = (action, subject, detail);
        Ok(())
    }

    /// Records an approval of an asset's RPO/RTO targets.
    async fn record_approval(&self, approval: &Approval) -> Result<(), CatalogError>;

    /// The newest approval of each asset.
    async fn approvals(&self) -> Result<Vec<Approval>, CatalogError>;

    /// Writes a consistent copy of the whole catalog into the directory `dir`, while it
    /// stays in use, and returns the file written: a SQLite database file (`catalog.db`)
    /// or a PostgreSQL dump (`catalog.sql`). This is what Reprise backs up of itself.
    async fn export_to(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, CatalogError>;

    /// A value that changes whenever anyone, this process or another, commits a change to
    /// the catalog: what was computed from the catalog under one stamp is still current
    /// while the stamp is the same. Cheap: one small query.
    async fn change_stamp(&self) -> Result<String, CatalogError>;
}

/// Converts a timestamp to the microseconds both dialects store.
pub fn to_micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

/// Converts stored microseconds back to a timestamp.
pub fn from_micros(us: i64) -> Result<Timestamp, CatalogError> {
    Timestamp::from_microsecond(us).map_err(|e| CatalogError::query("reading a timestamp", e))
}

/// Reads an optional stored count (dialects store counts as signed integers).
pub fn opt_u64(v: Option<i64>) -> Option<u64> {
    v.and_then(|v| u64::try_from(v).ok())
}

/// Converts an optional count to what the dialects store.
pub fn opt_i64(v: Option<u64>) -> Option<i64> {
    v.and_then(|v| i64::try_from(v).ok())
}

/// Reads an optional stored time.
pub fn opt_time(v: Option<i64>) -> Result<Option<Timestamp>, CatalogError> {
    v.map(from_micros).transpose()
}

/// Reads an optional stored asset state.
pub fn parse_state(
    text: Option<String>,
) -> Result<Option<reprise_domain::AssetState>, CatalogError> {
    text.map(|t| {
        reprise_domain::AssetState::parse(&t).map_err(|e| CatalogError::query("reading a state", e))
    })
    .transpose()
}
