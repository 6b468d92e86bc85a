//! What every use case works with: the loaded workspace, the catalog, and where progress
//! goes.

use std::sync::Arc;

use reprise_catalog::Catalog;
use reprise_domain::{Asset, Policy, Repository};
use reprise_engine::Progress;

use crate::error::{AppError, AppResult};
use reprise_workspace::workspace::{Loaded, Workspace};

pub struct Ctx<'a> {
    /// The workspace as loaded, each asset in its current state (see the `states` module).
    pub loaded: Arc<Loaded>,
    pub catalog: &'a dyn Catalog,
    pub progress: Arc<dyn Progress>,
}

impl Ctx<'_> {
    pub fn workspace(&self) -> &Workspace {
        &self.loaded.workspace
    }

    pub fn inventory(&self) -> &reprise_domain::Inventory {
        &self.loaded.config.inventory
    }

    /// The asset `id`, or an error that suggests close ids.
    pub fn asset(&self, id: &str) -> AppResult<&Asset> {
        find_asset(self.inventory(), id)
    }

    pub fn repository(&self, id: &str) -> AppResult<&Repository> {
        self.inventory()
            .repositories
            .iter()
            .find(|r| r.id.as_str() == id)
            .ok_or_else(|| {
                let ids: Vec<&str> = self
                    .inventory()
                    .repositories
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect();
                AppError::NotFound(format!(
                    "no repository `{id}` (repositories: {})",
                    ids.join(", ")
                ))
            })
    }

    /// The policy of an asset, or an error saying it has none.
    pub fn policy_of(&self, asset: &Asset) -> AppResult<&Policy> {
        self.inventory().policy_of(asset).ok_or_else(|| {
            AppError::Invalid(format!(
                "asset `{}` has no backup policy (set `policy` on it or `default_policy` under [workspace])",
                asset.id
            ))
        })
    }

    /// Every repository an asset's restore points live in: the policy's target first,
    /// then its copies.
    pub fn repositories_of(&self, asset: &Asset) -> AppResult<Vec<&Repository>> {
        let policy = self.policy_of(asset)?;
        std::iter::once(&policy.repository)
            .chain(policy.copy_to.iter())
            .map(|id| self.repository(id.as_str()))
            .collect()
    }
}

/// The asset `id` of `inventory`, or an error that suggests close ids.
pub fn find_asset<'i>(inventory: &'i reprise_domain::Inventory, id: &str) -> AppResult<&'i Asset> {
    inventory.asset(id).ok_or_else(|| {
        let close: Vec<&str> = inventory
            .assets
            .iter()
            .map(|a| a.id.as_str())
            .filter(|a| a.contains(id) || id.contains(a))
            .collect();
        let hint = if close.is_empty() {
            "run `reprise inventory list` to see the ids".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        AppError::NotFound(format!("no asset `{id}` ({hint})"))
    })
}
