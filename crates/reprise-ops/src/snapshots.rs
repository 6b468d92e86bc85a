//! Restore points as people think of them: one per asset, data set and time, held in one
//! or more repositories, with what is known of its integrity.

use jiff::Timestamp;
use reprise_catalog::RestorePoint;
use serde::Serialize;

use crate::context::Ctx;
use crate::error::AppResult;
use crate::repos;

/// Integrity of a restore point, from the catalog's verification records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Integrity {
    Unverified,
    Verified { at: Timestamp },
    Failed { at: Timestamp, reason: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct Copy {
    pub repository: String,
    pub snapshot: String,
    pub integrity: Integrity,
}

#[derive(Debug, Clone, Serialize)]
pub struct PointView {
    pub asset: String,
    pub dataset: String,
    pub time: Timestamp,
    pub files: Option<u64>,
    pub bytes: Option<u64>,
    /// The best-known integrity over all copies (a verified copy makes it restorable).
    pub integrity: Integrity,
    pub copies: Vec<Copy>,
}

pub fn integrity(p: &RestorePoint) -> Integrity {
    match (p.verified, p.failed) {
        (_, Some(failed)) if p.verified.is_none_or(|v| v < failed) => Integrity::Failed {
            at: failed,
            reason: p.failure.clone().unwrap_or_default(),
        },
        (Some(at), _) => Integrity::Verified { at },
        _ => Integrity::Unverified,
    }
}

/// Groups restore points by asset, data set and time (a copy keeps its time), oldest
/// first.
pub fn group(points: &[RestorePoint]) -> Vec<PointView> {
    let mut views: Vec<PointView> = Vec::new();
    // Where each (asset, data set, time) went: linear in the number of points, which
    // matters with tens of thousands of them.
    let mut index: std::collections::HashMap<(&str, &str, Timestamp), usize> =
        std::collections::HashMap::new();
    for p in points {
        let copy = Copy {
            repository: p.repository.clone(),
            snapshot: p.snapshot.clone(),
            integrity: integrity(p),
        };
        match index.entry((p.asset.as_str(), p.dataset.as_str(), p.time)) {
            std::collections::hash_map::Entry::Occupied(at) => views[*at.get()].copies.push(copy),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(views.len());
                views.push(PointView {
                    asset: p.asset.clone(),
                    dataset: p.dataset.clone(),
                    time: p.time,
                    files: p.files,
                    bytes: p.bytes,
                    integrity: Integrity::Unverified,
                    copies: vec![copy],
                });
            }
        }
    }
    for view in &mut views {
        let verified = view
            .copies
            .iter()
            .filter_map(|c| match c.integrity {
                Integrity::Verified { at } => Some(at),
                _ => None,
            })
            .max();
        view.integrity = match verified {
            Some(at) => Integrity::Verified { at },
            None => view
                .copies
                .iter()
                .map(|c| c.integrity.clone())
                .find(|i| matches!(i, Integrity::Failed { .. }))
                .unwrap_or(Integrity::Unverified),
        };
    }
    views.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then(a.asset.cmp(&b.asset))
            .then(a.dataset.cmp(&b.dataset))
    });
    views
}

/// Refreshes from every reachable repository, then lists the restore points of `asset`
/// (all when `None`). Unreachable repositories are reported, not fatal.
pub async fn list(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<(Vec<PointView>, Vec<String>)> {
    if let Some(id) = asset {
        ctx.asset(id)?;
    }
    let mut unreachable = Vec::new();
    for repo in &ctx.inventory().repositories {
        match repos::open(ctx.workspace(), repo, ctx.progress.clone()).await {
            Ok(open) => {
                crate::points::sync(ctx, repo.id.as_str(), open).await?;
            }
            Err(e) => unreachable.push(format!("{}: {e}", repo.id)),
        }
    }
    let points = ctx.catalog.restore_points(asset).await?;
    Ok((group(&points), unreachable))
}
