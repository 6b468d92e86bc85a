//! Supervision alerts as recorded: one open alert per condition key.

use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    /// What the alert is about, stable while the condition lasts (`rpo:iredmail`).
    pub key: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub message: String,
    pub opened: Timestamp,
    pub updated: Timestamp,
    pub resolved: Option<Timestamp>,
    /// When someone said they are on it, and who.
    pub acknowledged: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
}
