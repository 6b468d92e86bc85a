//! The erasure ledger (R002.3): every erasure, planned then executed, kept so that a
//! restore never brings back what was erased, and as proof of what was erased, from
//! where, when and by whom — never the erased data itself.

use jiff::Timestamp;
use serde::Serialize;

/// One erasure. What it erased and where is one JSON document (`doc`): the paths, the
/// reason, the plan and the result, read by the application layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureRow {
    pub id: i64,
    pub asset: String,
    /// `planned`, `executed`, `failed` or `cancelled`.
    pub state: String,
    pub created: Timestamp,
    /// When it was executed (or failed).
    pub finished: Option<Timestamp>,
    #[serde(skip)]
    pub doc: String,
}
