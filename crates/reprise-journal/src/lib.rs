//! The tamper-evident journal (R001.7, R002.3, R003.2, R003.6).
//!
//! Every change of state recorded in the catalog — inventory changes, runs (backups,
//! restores, verifications, retention, copies, drills), verification results, alerts,
//! tokens, incident and request events, approvals — is also appended to the journal by
//! [`Journaled`], a catalog that wraps the real one, with who did it. Each entry's hash is
//! an HMAC-SHA256, keyed by the workspace's master key, over its fields and the previous
//! entry's hash: whoever can write the catalog's tables but lacks the key cannot alter,
//! remove or reorder an entry without [`verify`] pointing at it.
//!
//! The records users rely on besides the journal's lines (incidents, requests, approvals,
//! erasures, accounts, tokens, provenance) are sealed too: each change appends an entry
//! carrying the record's digest ([`records`]), so an edit made in the catalog's tables is
//! named. The newest entries are witnessed outside the catalog ([`head`]): a truncated
//! journal no longer holds the head its witnesses kept.

pub mod head;
pub mod keys;
pub mod records;

pub use head::Head;
pub use records::{RecordFault, RecordProblem};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use reprise_catalog::{
    Alert, Approval, AssetChange, AssetRecord, Catalog, CatalogError, ErasureRow, IncidentEvent,
    IncidentRow, IncidentSave, JournalEntry, NewIncidentRow, NewJournalEntry, NewRequestRow,
    NewRun, Provenance, RecordedState, RepoVerification, RequestEvent, RequestRow, RequestSave,
    RestorePoint, Run, RunFilter, RunKind, RunOutcome, Seal, TokenRow, UserRow, Verification,
};
use serde::Serialize;
use sha2::Sha256;

use reprise_workspace::text::hex;

type HmacSha256 = Hmac<Sha256>;

/// The key that seals journal entries, derived from the master key.
pub fn journal_key(master: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(b"reprise journal v1");
    mac.finalize().into_bytes().to_vec()
}

/// The hash of an entry: HMAC-SHA256 over every field but the hash, each prefixed by its
/// length so that no two different entries read the same.
/// An entry that seals a record covers its name and digest as well (entries without one
/// keep the seal they were written with).
pub fn seal(key: &[u8], e: &JournalEntry) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    let at = reprise_catalog::to_micros(e.at).to_string();
    let seq = e.seq.to_string();
    let mut fields = vec![
        seq.as_str(),
        at.as_str(),
        &e.actor,
        &e.action,
        &e.subject,
        &e.detail,
        &e.prev_hash,
    ];
    if !e.record.is_empty() || !e.digest.is_empty() {
        fields.extend([e.record.as_str(), e.digest.as_str()]);
    }
    for field in fields {
        mac.update(field.len().to_string().as_bytes());
        mac.update(b":");
        mac.update(field.as_bytes());
    }
    hex(&mac.finalize().into_bytes())
}

/// What is wrong at the first broken entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BreakKind {
    /// Its content does not match its hash: altered (or another master key).
    Altered,
    /// Entries before it are missing.
    Removed,
    /// It does not follow the entry before it.
    Reordered,
}

#[derive(Debug, Clone, Serialize)]
pub struct Break {
    pub seq: i64,
    pub kind: BreakKind,
    pub message: String,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub entries: usize,
    /// The chain, its witnesses and the sealed records all hold.
    pub intact: bool,
    pub first_break: Option<Break>,
    /// The last entry's seq and hash: note them to detect a later truncation.
    pub head: Option<(i64, String)>,
    /// Witnesses of the head the journal no longer holds (truncated, or rewritten).
    #[serde(default)]
    pub witnesses: Vec<String>,
    /// Sealed records compared with the catalog's.
    #[serde(default)]
    pub records: usize,
    /// Records whose content is not what the journal sealed, in key order.
    #[serde(default)]
    pub record_problems: Vec<RecordProblem>,
}

impl Verdict {
    /// The first thing wrong, in a sentence; `None` when all holds.
    pub fn first_problem(&self) -> Option<String> {
        if let Some(b) = &self.first_break {
            return Some(format!("entry {}: {}", b.seq, b.message));
        }
        if let Some(w) = self.witnesses.first() {
            return Some(w.clone());
        }
        self.record_problems.first().map(|p| p.message.clone())
    }

    /// Settles `intact` once the witnesses and records were checked too.
    pub fn settle(&mut self) {
        self.intact = self.first_break.is_none()
            && self.witnesses.is_empty()
            && self.record_problems.is_empty();
    }
}

/// Checks that every entry is sealed with `key`, follows the previous one, and that none
/// is missing; points at the first that is not.
pub fn verify(entries: &[JournalEntry], key: &[u8]) -> Verdict {
    let mut first_break = None;
    let mut expected_seq = 1;
    let mut prev_hash = String::new();
    for e in entries {
        let broken = if e.seq != expected_seq {
            Some(Break {
                seq: e.seq,
                kind: if e.seq > expected_seq {
                    BreakKind::Removed
                } else {
                    BreakKind::Reordered
                },
                message: if e.seq > expected_seq {
                    format!(
                        "entries {expected_seq}–{} are missing before entry {}",
                        e.seq - 1,
                        e.seq
                    )
                } else {
                    format!("entry {} comes where {expected_seq} should", e.seq)
                },
            })
        } else if seal(key, e) != e.hash {
            Some(Break {
                seq: e.seq,
                kind: BreakKind::Altered,
                message: format!(
                    "entry {} does not match its seal: altered since it was written (or the master key is not the one that wrote it)",
                    e.seq
                ),
            })
        } else if e.prev_hash != prev_hash {
            Some(Break {
                seq: e.seq,
                kind: BreakKind::Reordered,
                message: format!(
                    "entry {} does not follow entry {}: entries were removed or reordered",
                    e.seq,
                    e.seq - 1
                ),
            })
        } else {
            None
        };
        if let Some(b) = broken {
            first_break = Some(b);
            break;
        }
        expected_seq = e.seq + 1;
        prev_hash = e.hash.clone();
    }
    Verdict {
        entries: entries.len(),
        intact: first_break.is_none(),
        first_break,
        head: entries.last().map(|e| (e.seq, e.hash.clone())),
        witnesses: Vec::new(),
        records: 0,
        record_problems: Vec::new(),
    }
}

tokio::task_local! {
    /// Who is acting in this task (an API token's user), over [`Journaled`]'s default.
    pub static ACTOR: String;
}

/// A catalog that journals every change of state it records, as `actor` (or the task's
/// [`ACTOR`]).
pub struct Journaled {
    inner: Box<dyn Catalog>,
    key: Arc<Vec<u8>>,
    actor: String,
    /// What each run started here concerns, to say it again when it finishes.
    runs: std::sync::Mutex<std::collections::HashMap<i64, (&'static str, String)>>,
    /// The file beside the master key that witnesses the head.
    head_file: Option<PathBuf>,
}

impl Journaled {
    pub fn new(inner: Box<dyn Catalog>, master: &[u8], actor: &str) -> Self {
        Self {
            inner,
            key: Arc::new(journal_key(master)),
            actor: actor.to_string(),
            runs: Default::default(),
            head_file: None,
        }
    }

    /// Keeps the head of the journal in `path` after every entry (see [`head`]).
    pub fn with_head_file(mut self, path: PathBuf) -> Self {
        self.head_file = Some(path);
        self
    }

    fn actor(&self) -> String {
        ACTOR
            .try_with(|a| a.clone())
            .unwrap_or_else(|_| self.actor.clone())
    }

    /// Appends one entry, as the current actor.
    pub async fn record(
        &self,
        action: &str,
        subject: &str,
        detail: impl Into<String>,
    ) -> Result<JournalEntry, CatalogError> {
        self.append(action, subject, detail.into(), None).await
    }

    /// Appends one entry that seals `record` as it now is (`digest`; `None` when the
    /// catalog no longer has it).
    /// The suspicion stored for a data set's point at `time`, as sealed.
    async fn stored_suspicion(
        &self,
        asset: &str,
        dataset: &str,
        time: Timestamp,
    ) -> Result<Option<reprise_catalog::Suspicion>, CatalogError> {
        Ok(self
            .inner
            .suspicions(Some(asset))
            .await?
            .into_iter()
            // The catalog keeps microseconds.
            .find(|s| s.dataset == dataset && s.time.as_microsecond() == time.as_microsecond()))
    }

    async fn sealing(
        &self,
        action: &str,
        subject: &str,
        detail: impl Into<String>,
        record: String,
        digest: Option<String>,
    ) -> Result<JournalEntry, CatalogError> {
        self.append(action, subject, detail.into(), digest.map(|d| (record, d)))
            .await
    }

    async fn append(
        &self,
        action: &str,
        subject: &str,
        detail: String,
        sealed: Option<(String, String)>,
    ) -> Result<JournalEntry, CatalogError> {
        let (record, digest) = sealed.unwrap_or_default();
        let key = self.key.clone();
        let seal_with: Box<Seal> = Box::new(move |e: &JournalEntry| seal(&key, e));
        let entry = self
            .inner
            .append_journal(
                &NewJournalEntry {
                    at: Timestamp::now(),
                    actor: self.actor(),
                    action: action.into(),
                    subject: subject.into(),
                    detail,
                    record,
                    digest,
                },
                &*seal_with,
            )
            .await?;
        if let Some(path) = &self.head_file {
            head::advance(path, &entry, &*self.inner).await;
        }
        Ok(entry)
    }

    async fn incident_digest(&self, id: i64) -> Result<Option<String>, CatalogError> {
        let Some(row) = self.inner.incident(id).await? else {
            return Ok(None);
        };
        let events = self.inner.incident_events(id).await?;
        Ok(Some(records::incident(&row, &events)))
    }

    async fn request_digest(&self, id: i64) -> Result<Option<String>, CatalogError> {
        let Some(row) = self.inner.request(id).await? else {
            return Ok(None);
        };
        let events = self.inner.request_events(id).await?;
        Ok(Some(records::request(&row, &events)))
    }

    async fn erasure_digest(&self, id: i64) -> Result<Option<String>, CatalogError> {
        let all = self.inner.erasures(None).await?;
        Ok(all.iter().find(|e| e.id == id).map(records::erasure))
    }

    async fn token_sealing(
        &self,
        hash: &str,
        action: &str,
        detail: String,
    ) -> Result<(), CatalogError> {
        let Some(t) = self.inner.token(hash).await? else {
            return Ok(());
        };
        let subject = format!(
            "token {}{}",
            t.name,
            t.user
                .as_ref()
                .map(|u| format!(" of {u}"))
                .unwrap_or_default()
        );
        self.sealing(
            action,
            &subject,
            detail,
            records::token_key(&t),
            Some(records::token(&t)),
        )
        .await?;
        Ok(())
    }
}

/// Journals an action that changes no catalog record of its own (an override, say),
/// through the journaled catalog the use cases receive.
pub async fn note(
    catalog: &dyn Catalog,
    action: &str,
    subject: &str,
    detail: String,
) -> Result<JournalEntry, CatalogError> {
    let entry = NewJournalEntry {
        at: Timestamp::now(),
        actor: String::new(),
        action: action.into(),
        subject: subject.into(),
        detail,
        record: String::new(),
        digest: String::new(),
    };
    catalog
        .append_journal(&entry, &|_: &JournalEntry| String::new())
        .await
}

fn run_subject(asset: Option<&str>, dataset: Option<&str>, repository: Option<&str>) -> String {
    match (asset, dataset, repository) {
        (Some(a), Some(d), _) => format!("{a}/{d}"),
        (Some(a), None, _) => a.to_string(),
        (None, _, Some(r)) => format!("repository {r}"),
        _ => "workspace".into(),
    }
}

#[async_trait]
impl Catalog for Journaled {
    fn location(&self) -> String {
        self.inner.location()
    }

    async fn record_inventory(
        &self,
        assets: &[AssetRecord],
        at: Timestamp,
    ) -> Result<Vec<AssetChange>, CatalogError> {
        let changes = self.inner.record_inventory(assets, at).await?;
        for c in &changes {
            let detail = match (c.from_state, c.to_state) {
                (Some(from), Some(to)) if from != to => {
                    format!("{} → {}", from.as_str(), to.as_str())
                }
                _ => String::new(),
            };
            self.record(&format!("inventory.{}", c.kind.as_str()), &c.asset, detail)
                .await?;
        }
        Ok(changes)
    }

    async fn asset_history(&self, asset: &str) -> Result<Vec<AssetChange>, CatalogError> {
        self.inner.asset_history(asset).await
    }

    async fn inventory_history(&self) -> Result<Vec<AssetChange>, CatalogError> {
        self.inner.inventory_history().await
    }

    async fn record_state(&self, s: &RecordedState) -> Result<(), CatalogError> {
        self.inner.record_state(s).await?;
        self.record(
            "asset.state",
            &s.asset,
            format!(
                "{} since {}{}",
                s.state.as_str(),
                s.since,
                s.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            ),
        )
        .await?;
        Ok(())
    }

    async fn recorded_states(&self) -> Result<Vec<RecordedState>, CatalogError> {
        self.inner.recorded_states().await
    }

    /// A cache of the newest restore point's content and of reads: not journaled (a
    /// watch every few minutes would bury the journal); the change it sees is, through
    /// the backup it starts and its alert.
    async fn save_device(
        &self,
        device: &reprise_catalog::DeviceRecord,
    ) -> Result<(), CatalogError> {
        self.inner.save_device(device).await
    }

    async fn devices(&self) -> Result<Vec<reprise_catalog::DeviceRecord>, CatalogError> {
        self.inner.devices().await
    }

    /// Check-ins are not journaled (every agent, every minute); enrollment and
    /// revocation are, by the operations that make them.
    async fn save_agent(&self, agent: &reprise_catalog::AgentRecord) -> Result<(), CatalogError> {
        self.inner.save_agent(agent).await
    }

    async fn agents(&self) -> Result<Vec<reprise_catalog::AgentRecord>, CatalogError> {
        self.inner.agents().await
    }

    async fn queue_agent_job(
        &self,
        job: &reprise_catalog::NewAgentJob,
    ) -> Result<i64, CatalogError> {
        let id = self.inner.queue_agent_job(job).await?;
        self.record(
            "agent.job",
            &job.host,
            format!("job {id} queued: {} of {}", job.kind, job.asset),
        )
        .await?;
        Ok(id)
    }

    async fn agent_jobs(
        &self,
        host: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<reprise_catalog::AgentJob>, CatalogError> {
        self.inner.agent_jobs(host, open_only).await
    }

    async fn agent_job(&self, id: i64) -> Result<Option<reprise_catalog::AgentJob>, CatalogError> {
        self.inner.agent_job(id).await
    }

    async fn move_agent_job(
        &self,
        id: i64,
        from: reprise_catalog::JobState,
        to: reprise_catalog::JobState,
        at: Timestamp,
        result: Option<&str>,
    ) -> Result<bool, CatalogError> {
        let moved = self.inner.move_agent_job(id, from, to, at, result).await?;
        if moved && !to.is_open() {
            let host = self
                .inner
                .agent_job(id)
                .await?
                .map(|j| j.host)
                .unwrap_or_default();
            self.record("agent.job", &host, format!("job {id} {}", to.as_str()))
                .await?;
        }
        Ok(moved)
    }

    async fn start_run(&self, run: &NewRun) -> Result<i64, CatalogError> {
        let id = self.inner.start_run(run).await?;
        let kind = run.kind.unwrap_or(RunKind::Backup).as_str();
        let subject = run_subject(
            run.asset.as_deref(),
            run.dataset.as_deref(),
            run.repository.as_deref(),
        );
        self.runs
            .lock()
            .expect("runs map")
            .insert(id, (kind, subject.clone()));
        self.record(
            &format!("{kind}.started"),
            &subject,
            format!(
                "run {id}{}",
                run.repository
                    .as_ref()
                    .map(|r| format!(", repository {r}"))
                    .unwrap_or_default()
            ),
        )
        .await?;
        Ok(id)
    }

    async fn finish_run(&self, id: i64, outcome: &RunOutcome) -> Result<(), CatalogError> {
        self.inner.finish_run(id, outcome).await?;
        let (kind, subject) = self
            .runs
            .lock()
            .expect("runs map")
            .remove(&id)
            .unwrap_or(("run", "workspace".to_string()));
        let mut detail = format!("run {id} {}", outcome.status.as_str());
        if let Some(s) = &outcome.snapshot {
            detail.push_str(&format!(", snapshot {}", reprise_workspace::text::short(s)));
        }
        if let Some(e) = &outcome.error {
            detail.push_str(&format!(": {e}"));
        }
        self.record(&format!("{kind}.finished"), &subject, detail)
            .await?;
        Ok(())
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, CatalogError> {
        self.inner.runs(filter).await
    }

    async fn latest_runs(&self, kind: RunKind) -> Result<Vec<Run>, CatalogError> {
        self.inner.latest_runs(kind).await
    }

    async fn run_counts(
        &self,
    ) -> Result<Vec<(RunKind, reprise_catalog::RunStatus, u64)>, CatalogError> {
        self.inner.run_counts().await
    }

    async fn sync_restore_points(
        &self,
        repository: &str,
        points: &[RestorePoint],
    ) -> Result<(), CatalogError> {
        // A cache of what the repositories hold: the runs that changed them are journaled.
        self.inner.sync_restore_points(repository, points).await
    }

    async fn restore_points(&self, asset: Option<&str>) -> Result<Vec<RestorePoint>, CatalogError> {
        self.inner.restore_points(asset).await
    }

    async fn foreign_points(&self, asset: Option<&str>) -> Result<Vec<RestorePoint>, CatalogError> {
        self.inner.foreign_points(asset).await
    }

    async fn record_suspicion(&self, s: &reprise_catalog::Suspicion) -> Result<(), CatalogError> {
        self.inner.record_suspicion(s).await?;
        let stored = self.stored_suspicion(&s.asset, &s.dataset, s.time).await?;
        self.sealing(
            "point.suspect",
            &format!("{}/{}", s.asset, s.dataset),
            format!(
                "restore point {} of {} ({}) is suspect: {}",
                reprise_workspace::text::short(&s.snapshot),
                s.repository,
                s.time,
                s.reasons
            ),
            records::suspicion_key(
                &s.asset,
                &s.dataset,
                stored.as_ref().map_or(s.time, |stored| stored.time),
            ),
            stored.as_ref().map(records::suspicion),
        )
        .await?;
        Ok(())
    }

    async fn clear_suspicion(
        &self,
        asset: &str,
        dataset: &str,
        time: Timestamp,
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<bool, CatalogError> {
        let cleared = self
            .inner
            .clear_suspicion(asset, dataset, time, at, by, reason)
            .await?;
        if cleared {
            let stored = self.stored_suspicion(asset, dataset, time).await?;
            self.sealing(
                "point.cleared",
                &format!("{asset}/{dataset}"),
                format!("the restore point of {time} cleared by {by}: {reason}"),
                records::suspicion_key(
                    asset,
                    dataset,
                    stored.as_ref().map_or(time, |stored| stored.time),
                ),
                stored.as_ref().map(records::suspicion),
            )
            .await?;
        }
        Ok(cleared)
    }

    async fn suspicions(
        &self,
        asset: Option<&str>,
    ) -> Result<Vec<reprise_catalog::Suspicion>, CatalogError> {
        self.inner.suspicions(asset).await
    }

    async fn record_provenance(&self, p: &Provenance) -> Result<(), CatalogError> {
        self.inner.record_provenance(p).await?;
        // What is stored (a second record of the same snapshot keeps the first) is sealed:
        // a row written in the table by hand would make a snapshot trusted.
        let stored = self.inner.provenance(&p.repository, &p.snapshot).await?;
        let subject = format!("{}/{}", p.repository, p.snapshot);
        let (action, detail) = if p.how == "adopted" {
            (
                "snapshot.adopted",
                format!(
                    "snapshot {} of repository {} adopted as a restore point: {}",
                    p.snapshot,
                    p.repository,
                    p.reason.as_deref().unwrap_or("")
                ),
            )
        } else if p.how == "writer" {
            (
                "snapshot.recorded",
                format!(
                    "snapshot {} of repository {} added by writer {}",
                    reprise_workspace::text::short(&p.snapshot),
                    p.repository,
                    p.actor.as_deref().unwrap_or("?")
                ),
            )
        } else {
            (
                "snapshot.recorded",
                format!(
                    "snapshot {} of repository {} made by Reprise ({}{})",
                    reprise_workspace::text::short(&p.snapshot),
                    p.repository,
                    p.how,
                    p.reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ),
            )
        };
        self.sealing(
            action,
            &subject,
            detail,
            records::provenance_key(&p.repository, &p.snapshot),
            stored.as_ref().map(records::provenance),
        )
        .await?;
        Ok(())
    }

    async fn provenance(
        &self,
        repository: &str,
        snapshot: &str,
    ) -> Result<Option<Provenance>, CatalogError> {
        self.inner.provenance(repository, snapshot).await
    }

    async fn provenances(&self) -> Result<Vec<Provenance>, CatalogError> {
        self.inner.provenances().await
    }

    async fn mark_verified(
        &self,
        repository: &str,
        snapshots: &[String],
        at: Timestamp,
        outcome: &Verification,
    ) -> Result<(), CatalogError> {
        self.inner
            .mark_verified(repository, snapshots, at, outcome)
            .await?;
        let (action, detail) = match outcome {
            Verification::Passed => (
                "points.verified",
                format!("{} restore point(s) intact", snapshots.len()),
            ),
            Verification::Failed(why) => (
                "points.damaged",
                format!("{} restore point(s) damaged: {why}", snapshots.len()),
            ),
        };
        self.record(action, &format!("repository {repository}"), detail)
            .await?;
        Ok(())
    }

    async fn record_verification(&self, v: &RepoVerification) -> Result<(), CatalogError> {
        self.inner.record_verification(v).await
    }

    async fn verifications(&self, repository: &str) -> Result<Vec<RepoVerification>, CatalogError> {
        self.inner.verifications(repository).await
    }

    async fn create_token(&self, token: &TokenRow) -> Result<(), CatalogError> {
        self.inner.create_token(token).await?;
        let mut detail = String::new();
        if let Some(r) = &token.role {
            detail.push_str(&format!("role {r} "));
        }
        if let Some(s) = token.scope.as_ref().filter(|s| !s.is_empty()) {
            detail.push_str(&format!("scope {s} "));
        }
        if let Some(e) = token.expires {
            detail.push_str(&format!("until {e}"));
        }
        let action = if token.name.starts_with("session-") {
            "signin"
        } else {
            "token.created"
        };
        self.token_sealing(&token.hash, action, detail.trim().to_string())
            .await
    }

    async fn token(&self, hash: &str) -> Result<Option<TokenRow>, CatalogError> {
        self.inner.token(hash).await
    }

    async fn tokens(&self) -> Result<Vec<TokenRow>, CatalogError> {
        self.inner.tokens().await
    }

    async fn revoke_token(&self, hash: &str, at: Timestamp) -> Result<bool, CatalogError> {
        let revoked = self.inner.revoke_token(hash, at).await?;
        if revoked {
            self.token_sealing(hash, "token.revoked", String::new())
                .await?;
        }
        Ok(revoked)
    }

    async fn swap_signins(
        &self,
        name: &str,
        expected: i64,
        failed: i64,
        locked_until: Option<Timestamp>,
    ) -> Result<bool, CatalogError> {
        // Sign-in counters change on every attempt: sign-in journals its outcome.
        self.inner
            .swap_signins(name, expected, failed, locked_until)
            .await
    }

    async fn save_user(&self, user: &UserRow) -> Result<(), CatalogError> {
        let before = self.inner.user(&user.name).await?;
        self.inner.save_user(user).await?;
        // Sign-in counters change on every attempt: sign-in journals its failures itself.
        let mut changes = Vec::new();
        match &before {
            None => changes.push(format!("created, role {}", user.role)),
            Some(b) => {
                if b.role != user.role {
                    changes.push(format!("role {} → {}", b.role, user.role));
                }
                if b.scope != user.scope {
                    changes.push(format!("scope `{}` → `{}`", b.scope, user.scope));
                }
                if b.password_hash != user.password_hash {
                    changes.push("password changed".into());
                }
                if b.disabled.is_some() != user.disabled.is_some() {
                    changes.push(
                        if user.disabled.is_some() {
                            "disabled"
                        } else {
                            "enabled"
                        }
                        .into(),
                    );
                }
            }
        }
        if before.is_none() && !user.scope.is_empty() {
            changes.push(format!("scope {}", user.scope));
        }
        let after = self.inner.user(&user.name).await?;
        let digest = after.as_ref().map(records::account);
        if let (Some(b), Some(a)) = (&before, &after)
            && b.lang != a.lang
        {
            changes.push(format!("language {}", a.lang.as_deref().unwrap_or("-")));
        }
        if !changes.is_empty() || before.as_ref().map(records::account) != digest {
            self.sealing(
                "account.changed",
                &format!("account {}", user.name),
                changes.join(", "),
                records::account_key(&user.name),
                digest,
            )
            .await?;
        }
        Ok(())
    }

    async fn user(&self, name: &str) -> Result<Option<UserRow>, CatalogError> {
        self.inner.user(name).await
    }

    async fn users(&self) -> Result<Vec<UserRow>, CatalogError> {
        self.inner.users().await
    }

    async fn raise_alert(
        &self,
        key: &str,
        severity: &str,
        message: &str,
        at: Timestamp,
    ) -> Result<bool, CatalogError> {
        let opened = self.inner.raise_alert(key, severity, message, at).await?;
        if opened {
            self.record("alert.opened", key, format!("{severity}: {message}"))
                .await?;
        }
        Ok(opened)
    }

    async fn resolve_alert(&self, key: &str, at: Timestamp) -> Result<bool, CatalogError> {
        let resolved = self.inner.resolve_alert(key, at).await?;
        if resolved {
            self.record("alert.resolved", key, "").await?;
        }
        Ok(resolved)
    }

    async fn alerts(&self, open_only: bool) -> Result<Vec<Alert>, CatalogError> {
        self.inner.alerts(open_only).await
    }

    async fn try_lease(
        &self,
        key: &str,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, CatalogError> {
        self.inner.try_lease(key, holder, until, now).await
    }

    async fn lease_holder(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<String>, CatalogError> {
        self.inner.lease_holder(key, now).await
    }

    async fn release_lease(&self, key: &str, holder: &str) -> Result<(), CatalogError> {
        self.inner.release_lease(key, holder).await
    }

    async fn create_incident(&self, new: &NewIncidentRow) -> Result<i64, CatalogError> {
        let id = self.inner.create_incident(new).await?;
        self.sealing(
            "incident.opened",
            &format!("incident {id}"),
            format!("{} {}", new.severity, new.title),
            records::incident_key(id),
            self.incident_digest(id).await?,
        )
        .await?;
        Ok(id)
    }

    async fn save_incident(
        &self,
        save: &IncidentSave,
        events: &[IncidentEvent],
    ) -> Result<(), CatalogError> {
        self.inner.save_incident(save, events).await?;
        let subject = format!("incident {}", save.id);
        let (last, before) = match events.split_last() {
            Some((last, before)) => (Some(last), before),
            None => (None, events),
        };
        for e in before {
            self.record(&format!("incident.{}", e.kind), &subject, e.text.clone())
                .await?;
        }
        // The last entry of a save seals the incident as it now is.
        let (action, text) = last.map_or(("incident.saved".to_string(), String::new()), |e| {
            (format!("incident.{}", e.kind), e.text.clone())
        });
        self.sealing(
            &action,
            &subject,
            text,
            records::incident_key(save.id),
            self.incident_digest(save.id).await?,
        )
        .await?;
        Ok(())
    }

    async fn incident(&self, id: i64) -> Result<Option<IncidentRow>, CatalogError> {
        self.inner.incident(id).await
    }

    async fn incidents(&self, open_only: bool) -> Result<Vec<IncidentRow>, CatalogError> {
        self.inner.incidents(open_only).await
    }

    async fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>, CatalogError> {
        self.inner.incident_events(id).await
    }

    async fn create_request(&self, new: &NewRequestRow) -> Result<i64, CatalogError> {
        let id = self.inner.create_request(new).await?;
        self.sealing(
            "request.submitted",
            &format!("request {id}"),
            format!("{} — {}", new.requester, new.text),
            records::request_key(id),
            self.request_digest(id).await?,
        )
        .await?;
        Ok(id)
    }

    async fn save_request(
        &self,
        save: &RequestSave,
        events: &[RequestEvent],
    ) -> Result<(), CatalogError> {
        self.inner.save_request(save, events).await?;
        let subject = format!("request {}", save.id);
        let (last, before) = match events.split_last() {
            Some((last, before)) => (Some(last), before),
            None => (None, events),
        };
        for e in before {
            self.record(&format!("request.{}", e.kind), &subject, e.text.clone())
                .await?;
        }
        let (action, text) = last.map_or(("request.saved".to_string(), String::new()), |e| {
            (format!("request.{}", e.kind), e.text.clone())
        });
        self.sealing(
            &action,
            &subject,
            text,
            records::request_key(save.id),
            self.request_digest(save.id).await?,
        )
        .await?;
        Ok(())
    }

    async fn request(&self, id: i64) -> Result<Option<RequestRow>, CatalogError> {
        self.inner.request(id).await
    }

    async fn requests(&self, open_only: bool) -> Result<Vec<RequestRow>, CatalogError> {
        self.inner.requests(open_only).await
    }

    async fn request_events(&self, id: i64) -> Result<Vec<RequestEvent>, CatalogError> {
        self.inner.request_events(id).await
    }

    /// Appends an entry sealed with this journal's key, as the current actor: a caller
    /// never holds the key, so the seal it passes is not used.
    async fn append_journal(
        &self,
        entry: &NewJournalEntry,
        _seal: &Seal,
    ) -> Result<JournalEntry, CatalogError> {
        let sealed =
            (!entry.record.is_empty()).then(|| (entry.record.clone(), entry.digest.clone()));
        self.append(&entry.action, &entry.subject, entry.detail.clone(), sealed)
            .await
    }

    async fn journal(
        &self,
        after: i64,
        limit: Option<i64>,
    ) -> Result<Vec<JournalEntry>, CatalogError> {
        self.inner.journal(after, limit).await
    }

    async fn record_approval(&self, approval: &Approval) -> Result<(), CatalogError> {
        self.inner.record_approval(approval).await?;
        let stored = self.inner.approvals().await?;
        self.sealing(
            "rpo-rto.approved",
            &approval.asset,
            format!(
                "RPO {} RTO {} approved by {}",
                approval.rpo.as_deref().unwrap_or("-"),
                approval.rto.as_deref().unwrap_or("-"),
                approval.by
            ),
            records::approval_key(&approval.asset),
            stored
                .iter()
                .find(|a| a.asset == approval.asset)
                .map(records::approval),
        )
        .await?;
        Ok(())
    }

    async fn note(&self, action: &str, subject: &str, detail: &str) -> Result<(), CatalogError> {
        self.record(action, subject, detail).await.map(|_| ())
    }

    async fn record_rotation(&self, secret: &str, at: Timestamp) -> Result<(), CatalogError> {
        self.inner.record_rotation(secret, at).await?;
        self.record("secret.rotated", secret, "").await?;
        Ok(())
    }

    async fn rotations(&self) -> Result<Vec<(String, Timestamp)>, CatalogError> {
        self.inner.rotations().await
    }

    async fn acknowledge_alert(
        &self,
        key: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, CatalogError> {
        let done = self.inner.acknowledge_alert(key, by, at).await?;
        if done {
            self.record("alert.acknowledged", key, by).await?;
        }
        Ok(done)
    }

    async fn create_erasure(
        &self,
        asset: &str,
        created: Timestamp,
        doc: &str,
    ) -> Result<i64, CatalogError> {
        let id = self.inner.create_erasure(asset, created, doc).await?;
        self.sealing(
            "erasure.planned",
            &format!("erasure:{id}"),
            asset,
            records::erasure_key(id),
            self.erasure_digest(id).await?,
        )
        .await?;
        Ok(id)
    }

    async fn finish_erasure(
        &self,
        id: i64,
        state: &str,
        finished: Timestamp,
        doc: &str,
    ) -> Result<bool, CatalogError> {
        let done = self.inner.finish_erasure(id, state, finished, doc).await?;
        if done {
            // The proof: the document says what was erased and where, never the data.
            self.sealing(
                &format!("erasure.{state}"),
                &format!("erasure:{id}"),
                doc,
                records::erasure_key(id),
                self.erasure_digest(id).await?,
            )
            .await?;
        }
        Ok(done)
    }

    async fn erasures(&self, asset: Option<&str>) -> Result<Vec<ErasureRow>, CatalogError> {
        self.inner.erasures(asset).await
    }

    async fn approvals(&self) -> Result<Vec<Approval>, CatalogError> {
        self.inner.approvals().await
    }

    async fn export_to(&self, dir: &Path) -> Result<PathBuf, CatalogError> {
        self.inner.export_to(dir).await
    }

    async fn change_stamp(&self) -> Result<String, CatalogError> {
        self.inner.change_stamp().await
    }
}

/// What to say when the master key is gone and the journal holds entries it sealed.
pub fn missing_key(ws: &reprise_workspace::workspace::Workspace) -> String {
    format!(
        "the master key is missing: {} is not there and {} is not set. The journal's entries were sealed with it, so nothing can be verified without it: put the key back from its safe copy (`reprise init --from-repository` restores it from a self-backup); a new key would make every entry look altered",
        keys::master_key_path(ws).display(),
        keys::MASTER_KEY_ENV
    )
}

/// The key that seals this workspace's journal: the master key, created the first time
/// only while the catalog's journal is empty (a missing key is otherwise an error that
/// says so, never silently replaced).
pub async fn key_for(
    ws: &reprise_workspace::workspace::Workspace,
    catalog: &dyn Catalog,
) -> Result<Vec<u8>, String> {
    if let Some(k) = keys::existing_master_key(ws)? {
        return Ok(k);
    }
    let journal = catalog
        .journal(0, Some(1))
        .await
        .map_err(|e| e.to_string())?;
    if !journal.is_empty() {
        return Err(missing_key(ws));
    }
    keys::master_key(ws)
}

/// The journal's catalog for `ws`: every change sealed under its master key, the head kept
/// beside the key.
pub async fn open(
    ws: &reprise_workspace::workspace::Workspace,
    inner: Box<dyn Catalog>,
    actor: &str,
) -> Result<Journaled, String> {
    let master = key_for(ws, &*inner).await?;
    Ok(Journaled::new(inner, &master, actor).with_head_file(head::file(ws)))
}

/// Has the head file witness `head` (a rebuilt workspace, from its self-backup's manifest).
pub fn keep_head(ws: &reprise_workspace::workspace::Workspace, head: &Head) -> Result<(), String> {
    let path = head::file(ws);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    head::reset(&path, head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(key: &[u8], n: i64) -> Vec<JournalEntry> {
        let mut out: Vec<JournalEntry> = Vec::new();
        for i in 0..n {
            let mut e = NewJournalEntry {
                at: Timestamp::from_second(1_700_000_000 + i).unwrap(),
                actor: "mohamed".into(),
                action: "backup.finished".into(),
                subject: "erp/files".into(),
                detail: format!("run {i} succeeded"),
                record: String::new(),
                digest: String::new(),
            }
            .after(out.last().map(|l| (l.seq, l.hash.clone())));
            e.hash = seal(key, &e);
            out.push(e);
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies_and_gives_its_head() {
        let key = journal_key(&[7u8; 32]);
        let entries = chain(&key, 5);
        let v = verify(&entries, &key);
        assert!(v.intact);
        assert_eq!(v.head.unwrap().0, 5);
    }

    #[test]
    fn an_altered_removed_or_reordered_entry_is_pointed_at() {
        let key = journal_key(&[7u8; 32]);
        let mut altered = chain(&key, 5);
        altered[2].detail = "run 2 failed".into();
        let b = verify(&altered, &key).first_break.unwrap();
        assert_eq!((b.seq, b.kind), (3, BreakKind::Altered));

        let mut removed = chain(&key, 5);
        removed.remove(3);
        let b = verify(&removed, &key).first_break.unwrap();
        assert_eq!((b.seq, b.kind), (5, BreakKind::Removed));

        // Swapping two entries' contents and renumbering them: the seals no longer match.
        let mut swapped = chain(&key, 5);
        swapped.swap(1, 2);
        swapped[1].seq = 2;
        swapped[2].seq = 3;
        let b = verify(&swapped, &key).first_break.unwrap();
        assert_eq!(b.seq, 2);

        // Resealed by someone without the key: still altered.
        let mut forged = chain(&key, 3);
        forged[1].detail = "nothing happened".into();
        forged[1].hash = seal(b"not the key", &forged[1]);
        assert_eq!(verify(&forged, &key).first_break.unwrap().seq, 2);
    }
}
