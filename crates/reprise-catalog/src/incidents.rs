//! Incidents as recorded: a few columns to list and filter them, the rest as one JSON
//! document the use cases read and write whole, and an append-only timeline.

use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentRow {
    pub id: i64,
    pub title: String,
    /// `SEV1` … `SEV4`.
    pub severity: String,
    pub phase: String,
    /// What detected it (`alert rpo:iredmail`, `client call`, `monitoring`).
    pub source: Option<String>,
    pub opened: Timestamp,
    pub updated: Timestamp,
    pub closed: Option<Timestamp>,
    /// Incremented on every save: a save based on an older version is refused.
    pub version: i64,
    /// The JSON document (the domain's `IncidentDoc`).
    #[serde(skip)]
    pub doc: String,
}

/// A new incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncidentRow {
    pub title: String,
    pub severity: String,
    pub phase: String,
    pub source: Option<String>,
    pub opened: Timestamp,
    pub doc: String,
    /// Who opened it, and the timeline's first sentence in English and French.
    pub actor: Option<String>,
    pub text: String,
    pub text_fr: Option<String>,
}

/// What changes when an incident is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSave {
    pub id: i64,
    /// The version the change was based on.
    pub version: i64,
    pub severity: String,
    pub phase: String,
    pub updated: Timestamp,
    pub closed: Option<Timestamp>,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentEvent {
    pub incident: i64,
    pub at: Timestamp,
    /// `opened`, `phase`, `role`, `assessment`, `plan`, `step`, `state`, `check`,
    /// `update`, `note`, `sign-off`, `review`, `closed`.
    pub kind: String,
    pub actor: Option<String>,
    pub text: String,
    /// The same sentence in French (absent from events recorded before it existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_fr: Option<String>,
}

/// RPO/RTO targets approved by the business owner (R003.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    pub asset: String,
    /// The targets as written when approved (`4h`), to tell when they changed since.
    pub rpo: Option<String>,
    pub rto: Option<String>,
    pub by: String,
    pub at: Timestamp,
}

/// A restore request as recorded: its state and requester as columns, the request, its
/// feasibility, plan, execution and checks as one JSON document, and a timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    pub id: i64,
    /// `awaiting-approval`, `infeasible`, `scheduled`, `running`, `checking`,
    /// `completed`, `failed`, `rejected`, `cancelled`.
    pub state: String,
    pub requester: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    /// Set once the request reached a final state.
    pub closed: Option<Timestamp>,
    pub version: i64,
    #[serde(skip)]
    pub doc: String,
}

/// A new restore request, with the text of its first event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequestRow {
    pub state: String,
    pub requester: String,
    pub created: Timestamp,
    pub doc: String,
    pub actor: Option<String>,
    pub text: String,
    pub text_fr: Option<String>,
}

/// What changes when a request is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSave {
    pub id: i64,
    /// The version the change was based on.
    pub version: i64,
    pub state: String,
    pub updated: Timestamp,
    pub closed: Option<Timestamp>,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestEvent {
    pub request: i64,
    pub at: Timestamp,
    /// `submitted`, `assessed`, `approved`, `rejected`, `started`, `restored`, `check`,
    /// `completed`, `failed`, `cancelled`.
    pub kind: String,
    pub actor: Option<String>,
    pub text: String,
    /// The same sentence in French (absent from events recorded before it existed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_fr: Option<String>,
}
