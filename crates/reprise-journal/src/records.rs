//! The records the journal seals: what users rely on besides the journal's own lines —
//! incidents and requests with their timelines, approvals, erasures, accounts, tokens and
//! where each restore point comes from. Every change made through [`super::Journaled`]
//! appends an entry naming the record (`incident:3`) with the SHA-256 of its content as
//! stored right after the change; [`check`] reads every record again and compares it with
//! the newest digest the journal holds for it, so an edit made in the catalog's tables is
//! found and named.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use reprise_catalog::{
    Approval, Catalog, CatalogError, ErasureRow, IncidentEvent, IncidentRow, JournalEntry,
    Provenance, RequestEvent, RequestRow, TokenRow, UserRow,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use reprise_workspace::text::hex;

/// A record's content, field by field, each prefixed by its length so that no two
/// different records read the same.
struct Fields(Sha256);

impl Fields {
    fn new(kind: &str) -> Self {
        let mut f = Self(Sha256::new());
        f.text(kind);
        f
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.0.update(s.len().to_string().as_bytes());
        self.0.update(b":");
        self.0.update(s.as_bytes());
        self
    }

    fn opt(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text("some").text(s),
            None => self.text("none"),
        }
    }

    fn at(&mut self, t: Timestamp) -> &mut Self {
        self.text(&reprise_catalog::to_micros(t).to_string())
    }

    fn at_opt(&mut self, t: Option<Timestamp>) -> &mut Self {
        self.opt(
            t.map(|t| reprise_catalog::to_micros(t).to_string())
                .as_deref(),
        )
    }

    fn num(&mut self, n: i64) -> &mut Self {
        self.text(&n.to_string())
    }

    fn finish(self) -> String {
        hex(&self.0.finalize())
    }
}

/// An event of a timeline, whichever document it belongs to: when, kind, actor, text and
/// its French.
type Event<'e> = (
    Timestamp,
    &'e str,
    Option<&'e str>,
    &'e str,
    Option<&'e str>,
);

/// A document row's own fields are written by the caller; then its timeline.
fn timeline<'e>(f: &mut Fields, events: impl ExactSizeIterator<Item = Event<'e>>) {
    f.num(events.len() as i64);
    for (at, kind, actor, text, fr) in events {
        f.at(at).text(kind).opt(actor).text(text).opt(fr);
    }
}

pub(crate) fn incident_key(id: i64) -> String {
    format!("incident:{id}")
}

pub(crate) fn incident(row: &IncidentRow, events: &[IncidentEvent]) -> String {
    let mut f = Fields::new("incident");
    f.num(row.id)
        .text(&row.title)
        .text(&row.severity)
        .text(&row.phase)
        .opt(row.source.as_deref())
        .at(row.opened)
        .at(row.updated)
        .at_opt(row.closed)
        .num(row.version)
        .text(&row.doc);
    timeline(
        &mut f,
        events.iter().map(|e| {
            (
                e.at,
                e.kind.as_str(),
                e.actor.as_deref(),
                e.text.as_str(),
                e.text_fr.as_deref(),
            )
        }),
    );
    f.finish()
}

pub(crate) fn request_key(id: i64) -> String {
    format!("request:{id}")
}

pub(crate) fn request(row: &RequestRow, events: &[RequestEvent]) -> String {
    let mut f = Fields::new("request");
    f.num(row.id)
        .text(&row.state)
        .text(&row.requester)
        .at(row.created)
        .at(row.updated)
        .at_opt(row.closed)
        .num(row.version)
        .text(&row.doc);
    timeline(
        &mut f,
        events.iter().map(|e| {
            (
                e.at,
                e.kind.as_str(),
                e.actor.as_deref(),
                e.text.as_str(),
                e.text_fr.as_deref(),
            )
        }),
    );
    f.finish()
}

pub(crate) fn approval_key(asset: &str) -> String {
    format!("approval:{asset}")
}

pub(crate) fn approval(a: &Approval) -> String {
    let mut f = Fields::new("approval");
    f.text(&a.asset)
        .opt(a.rpo.as_deref())
        .opt(a.rto.as_deref())
        .text(&a.by)
        .at(a.at);
    f.finish()
}

pub(crate) fn erasure_key(id: i64) -> String {
    format!("erasure:{id}")
}

pub(crate) fn erasure(e: &ErasureRow) -> String {
    let mut f = Fields::new("erasure");
    f.num(e.id)
        .text(&e.asset)
        .text(&e.state)
        .at(e.created)
        .at_opt(e.finished)
        .text(&e.doc);
    f.finish()
}

pub(crate) fn account_key(name: &str) -> String {
    format!("account:{name}")
}

/// An account without its sign-in counters, which change on every attempt (sign-in
/// journals its outcomes itself).
pub(crate) fn account(u: &UserRow) -> String {
    let mut f = Fields::new("account");
    f.text(&u.name)
        .text(&u.role)
        .text(&u.scope)
        .opt(u.password_hash.as_deref())
        .at(u.created)
        .at_opt(u.disabled)
        .opt(u.lang.as_deref());
    f.finish()
}

pub(crate) fn token_key(t: &TokenRow) -> String {
    match &t.user {
        Some(u) => format!("token:{u}/{}", t.name),
        None => format!("token:{}", t.name),
    }
}

/// A token with its hash: putting a known token's hash in place of a revoked one's is an
/// edit like any other.
pub(crate) fn token(t: &TokenRow) -> String {
    let mut f = Fields::new("token");
    f.text(&t.hash)
        .text(&t.name)
        .opt(t.user.as_deref())
        .opt(t.role.as_deref())
        .opt(t.scope.as_deref())
        .at(t.created)
        .at_opt(t.expires)
        .at_opt(t.revoked);
    f.finish()
}

pub(crate) fn provenance_key(repository: &str, snapshot: &str) -> String {
    format!("provenance:{repository}/{snapshot}")
}

pub(crate) fn provenance(p: &Provenance) -> String {
    let mut f = Fields::new("provenance");
    f.text(&p.repository)
        .text(&p.snapshot)
        .text(&p.how)
        .at(p.at)
        .opt(p.actor.as_deref())
        .opt(p.reason.as_deref());
    f.finish()
}

pub(crate) fn suspicion_key(asset: &str, dataset: &str, time: Timestamp) -> String {
    format!("suspicion:{asset}/{dataset}/{time}")
}

/// A suspicion and its clearance: removing or clearing one by hand would make a
/// suspect point trusted again.
pub(crate) fn suspicion(s: &reprise_catalog::Suspicion) -> String {
    let mut f = Fields::new("suspicion");
    f.text(&s.asset)
        .text(&s.dataset)
        .at(s.time)
        .text(&s.repository)
        .text(&s.snapshot)
        .at(s.at)
        .text(&s.reasons)
        .opt(s.signals.as_deref())
        .at_opt(s.cleared)
        .opt(s.cleared_by.as_deref())
        .opt(s.clearance.as_deref());
    f.finish()
}

/// The digest sealing a record an administrator accepted as removed.
pub const REMOVED: &str = "removed";

/// What is wrong with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordFault {
    /// Its content is not what the journal sealed last.
    Changed,
    /// The journal never sealed it: written outside Reprise (or before records were
    /// sealed: `reprise journal seal` takes them as they are).
    Unsealed,
    /// The journal sealed it, the catalog no longer has it.
    Removed,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordProblem {
    pub record: String,
    pub fault: RecordFault,
    pub message: String,
}

/// Every record of the catalog the journal seals, by key, with its digest now.
pub async fn current(catalog: &dyn Catalog) -> Result<BTreeMap<String, String>, CatalogError> {
    let mut out = BTreeMap::new();
    for row in catalog.incidents(false).await? {
        let events = catalog.incident_events(row.id).await?;
        out.insert(incident_key(row.id), incident(&row, &events));
    }
    for row in catalog.requests(false).await? {
        let events = catalog.request_events(row.id).await?;
        out.insert(request_key(row.id), request(&row, &events));
    }
    for a in catalog.approvals().await? {
        out.insert(approval_key(&a.asset), approval(&a));
    }
    for e in catalog.erasures(None).await? {
        out.insert(erasure_key(e.id), erasure(&e));
    }
    for u in catalog.users().await? {
        out.insert(account_key(&u.name), account(&u));
    }
    for t in catalog.tokens().await? {
        out.insert(token_key(&t), token(&t));
    }
    for s in catalog.suspicions(None).await? {
        out.insert(suspicion_key(&s.asset, &s.dataset, s.time), suspicion(&s));
    }
    // The provenance of every restore point still listed, read at once.
    let listed: BTreeSet<(String, String)> = catalog
        .restore_points(None)
        .await?
        .into_iter()
        .map(|p| (p.repository, p.snapshot))
        .collect();
    for prov in catalog.provenances().await? {
        if listed.contains(&(prov.repository.clone(), prov.snapshot.clone())) {
            out.insert(
                provenance_key(&prov.repository, &prov.snapshot),
                provenance(&prov),
            );
        }
    }
    Ok(out)
}

/// The newest digest the journal holds for each record, with the entry that sealed it.
pub fn sealed(entries: &[JournalEntry]) -> BTreeMap<&str, (i64, &str)> {
    let mut out = BTreeMap::new();
    for e in entries.iter().filter(|e| !e.record.is_empty()) {
        out.insert(e.record.as_str(), (e.seq, e.digest.as_str()));
    }
    out
}

/// Compares the records now with what the journal sealed; the problems in key order.
pub fn compare(
    now: &BTreeMap<String, String>,
    sealed: &BTreeMap<&str, (i64, &str)>,
) -> Vec<RecordProblem> {
    let mut problems = Vec::new();
    for (key, digest) in now {
        match sealed.get(key.as_str()) {
            Some((_, d)) if d == digest => {}
            Some((seq, _)) => problems.push(RecordProblem {
                record: key.clone(),
                fault: RecordFault::Changed,
                message: format!(
                    "{key} was changed in the catalog since entry {seq} sealed it: not through Reprise"
                ),
            }),
            None => problems.push(RecordProblem {
                record: key.clone(),
                fault: RecordFault::Unsealed,
                message: format!(
                    "{key} is not in the journal: written outside Reprise (or before records were sealed; `reprise journal seal` takes such records as they are)"
                ),
            }),
        }
    }
    for (key, (seq, digest)) in sealed {
        // A restore point forgotten by retention leaves its provenance sealed: only the
        // points still listed are compared.
        if !now.contains_key(*key) && *digest != REMOVED && !key.starts_with("provenance:") {
            problems.push(RecordProblem {
                record: key.to_string(),
                fault: RecordFault::Removed,
                message: format!(
                    "{key}, sealed by entry {seq}, is no longer in the catalog: removed outside Reprise"
                ),
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(title: &str) -> IncidentRow {
        IncidentRow {
            id: 3,
            title: title.into(),
            severity: "SEV1".into(),
            phase: "detection".into(),
            source: None,
            opened: Timestamp::from_second(1_700_000_000).unwrap(),
            updated: Timestamp::from_second(1_700_000_000).unwrap(),
            closed: None,
            version: 1,
            doc: "{}".into(),
        }
    }

    #[test]
    fn a_record_edited_unsealed_or_removed_is_named() {
        let sealed_digest = incident(&row("Ransomware"), &[]);
        let entries = vec![JournalEntry {
            seq: 7,
            at: Timestamp::from_second(1_700_000_000).unwrap(),
            actor: "amina".into(),
            action: "incident.opened".into(),
            subject: "incident 3".into(),
            detail: String::new(),
            prev_hash: String::new(),
            hash: String::new(),
            record: incident_key(3),
            digest: sealed_digest.clone(),
        }];
        let sealed = sealed(&entries);
        let same = BTreeMap::from([(incident_key(3), sealed_digest)]);
        assert!(compare(&same, &sealed).is_empty());

        let edited = BTreeMap::from([(incident_key(3), incident(&row("Panne"), &[]))]);
        let p = compare(&edited, &sealed);
        assert_eq!(p[0].fault, RecordFault::Changed);
        assert!(p[0].message.contains("incident:3") && p[0].message.contains("entry 7"));

        let forged = BTreeMap::from([
            (incident_key(3), incident(&row("Ransomware"), &[])),
            (request_key(9), "00".into()),
        ]);
        let p = compare(&forged, &sealed);
        assert_eq!(
            (p[0].record.as_str(), &p[0].fault),
            ("request:9", &RecordFault::Unsealed)
        );

        let p = compare(&BTreeMap::new(), &sealed);
        assert_eq!(p[0].fault, RecordFault::Removed);
    }

    #[test]
    fn sign_in_counters_are_not_part_of_an_account() {
        let mut u = UserRow {
            name: "amina".into(),
            role: "operator".into(),
            scope: String::new(),
            password_hash: Some("$argon2id$x".into()),
            created: Timestamp::from_second(1_700_000_000).unwrap(),
            disabled: None,
            failed_signins: 0,
            locked_until: None,
            lang: None,
        };
        let before = account(&u);
        u.failed_signins = 3;
        assert_eq!(account(&u), before);
        u.role = "admin".into();
        assert_ne!(account(&u), before);
    }
}
