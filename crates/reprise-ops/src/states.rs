//! The current state of each asset. The configuration's `state` is the starting point; a
//! state recorded since — by hand (`reprise inventory set-state`, the "état des lieux au
//! …" of R004.1) or by a finished recovery step — is the current one, until the
//! configuration's state is changed again.

use std::collections::HashMap;

use jiff::Timestamp;
use reprise_catalog::{Catalog, CatalogError, RecordedState};
use reprise_domain::{AssetState, Inventory};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{AppError, AppResult};

/// An asset's current state, since when, and who said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Current {
    pub state: AssetState,
    /// Since when: as recorded, or when the configuration last set it.
    pub since: Option<Timestamp>,
    /// `configuration`, or who recorded it.
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Every asset's current state, by id.
pub async fn current(
    catalog: &dyn Catalog,
    inventory: &Inventory,
) -> Result<HashMap<String, Current>, CatalogError> {
    let recorded = catalog.recorded_states().await?;
    current_from(catalog, inventory, recorded).await
}

/// [`current`], from the recorded states already read.
async fn current_from(
    catalog: &dyn Catalog,
    inventory: &Inventory,
    recorded: Vec<RecordedState>,
) -> Result<HashMap<String, Current>, CatalogError> {
    let recorded: HashMap<String, RecordedState> =
        recorded.into_iter().map(|r| (r.asset.clone(), r)).collect();
    // When the configuration last set each asset's state.
    let mut configured: HashMap<String, Timestamp> = HashMap::new();
    for c in catalog.inventory_history().await? {
        if c.to_state.is_some() {
            configured.insert(c.asset, c.at);
        }
    }
    Ok(inventory
        .assets
        .iter()
        .map(|a| {
            let set_at = configured.get(a.id.as_str()).copied();
            let current = match recorded.get(a.id.as_str()) {
                Some(r) if set_at.is_none_or(|t| r.at > t) => Current {
                    state: r.state,
                    since: Some(r.since),
                    by: r.actor.clone().unwrap_or_else(|| "someone".into()),
                    note: r.note.clone(),
                },
                _ => Current {
                    state: a.state,
                    since: set_at,
                    by: "configuration".into(),
                    note: None,
                },
            };
            (a.id.to_string(), current)
        })
        .collect())
}

/// Puts each asset's current state in `inventory`, so that every view and every plan
/// starts from it. Reads nothing more when no state was ever recorded.
pub async fn apply(catalog: &dyn Catalog, inventory: &mut Inventory) -> Result<(), CatalogError> {
    let recorded = catalog.recorded_states().await?;
    if recorded.is_empty() {
        return Ok(());
    }
    let now = current_from(catalog, inventory, recorded).await?;
    for a in &mut inventory.assets {
        if let Some(c) = now.get(a.id.as_str()) {
            a.state = c.state;
        }
    }
    Ok(())
}

/// What a recorded state says, beside the asset and the state.
pub struct Observed {
    /// Since when (now when not given).
    pub since: Option<Timestamp>,
    pub note: Option<String>,
    pub by: String,
}

/// Records `state` for `asset` as observed; journaled.
pub async fn record(
    ctx: &Ctx<'_>,
    asset: &str,
    state: AssetState,
    observed: Observed,
) -> AppResult<RecordedState> {
    let Observed { since, note, by } = observed;
    let asset = ctx.asset(asset)?.id.to_string();
    let now = Timestamp::now();
    let since = since.unwrap_or(now);
    if since > now {
        return Err(AppError::Invalid(format!(
            "--since {since} is in the future: a state is recorded as observed"
        )));
    }
    let recorded = RecordedState {
        asset,
        state,
        since,
        at: now,
        actor: Some(by),
        note: note.filter(|n| !n.trim().is_empty()),
    };
    ctx.catalog.record_state(&recorded).await?;
    Ok(recorded)
}
