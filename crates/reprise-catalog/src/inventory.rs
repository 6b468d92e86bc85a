//! Inventory history: what each asset looked like each time the configuration was loaded,
//! so that "since when is it failed" (R000.1), "did its configuration change after the last
//! backup" (R000.3) and the evolution table (R004.4) are answered from facts.

use std::collections::HashMap;

use jiff::Timestamp;
use reprise_domain::AssetState;
use serde::Serialize;

/// An asset as the catalog remembers it: its state and a fingerprint of the rest of its
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRecord {
    pub id: String,
    pub state: AssetState,
    /// A hash of the asset's configuration other than its state; a new value means the
    /// configuration changed.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    ConfigChanged,
    StateChanged,
    Removed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::ConfigChanged => "config_changed",
            ChangeKind::StateChanged => "state_changed",
            ChangeKind::Removed => "removed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ChangeKind::Added,
            ChangeKind::ConfigChanged,
            ChangeKind::StateChanged,
            ChangeKind::Removed,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// A state recorded for an asset outside the configuration: by hand (`reprise inventory
/// set-state`, the "état des lieux au …" of R004.1) or by a finished recovery step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedState {
    pub asset: String,
    pub state: AssetState,
    /// Since when the asset is in that state (as observed, may be earlier than `at`).
    pub since: Timestamp,
    /// When it was recorded.
    pub at: Timestamp,
    pub actor: Option<String>,
    /// Why, or by what (`incident 3: step done`).
    pub note: Option<String>,
}

/// One recorded change of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetChange {
    pub asset: String,
    pub at: Timestamp,
    pub kind: ChangeKind,
    /// The state before, for state changes and removals.
    pub from_state: Option<AssetState>,
    /// The state after, for additions and state changes.
    pub to_state: Option<AssetState>,
}

/// The changes that turn `previous` into `current`, in `current`'s order, removals last.
/// Shared by every implementation so they agree on what counts as a change.
pub fn diff_inventory(
    previous: &[AssetRecord],
    current: &[AssetRecord],
    at: Timestamp,
) -> Vec<AssetChange> {
    let before: HashMap<&str, &AssetRecord> = previous.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut changes = Vec::new();
    let change = |asset: &str, kind, from_state, to_state| AssetChange {
        asset: asset.to_string(),
        at,
        kind,
        from_state,
        to_state,
    };
    for record in current {
        match before.get(record.id.as_str()) {
            None => changes.push(change(
                &record.id,
                ChangeKind::Added,
                None,
                Some(record.state),
            )),
            Some(old) => {
                if old.fingerprint != record.fingerprint {
                    changes.push(change(&record.id, ChangeKind::ConfigChanged, None, None));
                }
                if old.state != record.state {
                    changes.push(change(
                        &record.id,
                        ChangeKind::StateChanged,
                        Some(old.state),
                        Some(record.state),
                    ));
                }
            }
        }
    }
    let now: HashMap<&str, ()> = current.iter().map(|r| (r.id.as_str(), ())).collect();
    for old in previous {
        if !now.contains_key(old.id.as_str()) {
            changes.push(change(&old.id, ChangeKind::Removed, Some(old.state), None));
        }
    }
    changes
}
