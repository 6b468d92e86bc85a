//! What Reprise last saw of each device whose configuration it collects.

use jiff::Timestamp;
use serde::Serialize;

/// The last reads of one device data set: a cache of what the newest restore point
/// holds, so that a watch compares without reading the repository. Secrets never enter
/// it: the configuration is kept masked, the restore point keeps it whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub asset: String,
    pub dataset: String,
    /// The last read, whatever came of it, and how many reads were made.
    pub checked: Option<Timestamp>,
    pub checks: u64,
    /// Why the last read failed; `None` once one succeeds.
    pub error: Option<String>,
    /// SHA-256 of the configuration stored last, as compared (volatile lines removed).
    pub fingerprint: Option<String>,
    /// That configuration with its secrets masked.
    pub redacted: Option<String>,
    /// When a change was last seen on the device, and what changed (secrets masked).
    pub changed: Option<Timestamp>,
    pub change: Option<String>,
    /// The newest restore point taken from it.
    pub backed_up: Option<Timestamp>,
    pub snapshot: Option<String>,
}
