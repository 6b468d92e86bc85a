//! Restore points as people think of them: one per asset, data set and time, held in one
//! or more repositories, with what is known of its integrity.

use jiff::Timestamp;
use reprise_catalog::RestorePoint;
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
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
    /// Tagged for the asset, but not made, copied or adopted by Reprise: listed, never
    /// restored unless named, never counted (`reprise snapshots adopt` trusts it).
    pub foreign: bool,
    /// Why its backup looks like an attack, or that it follows one that does: never the
    /// last verified good point, never chosen unless named, until cleared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspect: Option<String>,
}

impl PointView {
    /// Read back intact and not suspect: a point to count on.
    pub fn trusted(&self) -> bool {
        matches!(self.integrity, Integrity::Verified { .. }) && self.suspect.is_none()
    }
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
                    foreign: false,
                    suspect: p.suspect.clone(),
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
    views.sort_by(oldest_first);
    views
}

/// Restore points by time, then asset and data set.
fn oldest_first(a: &PointView, b: &PointView) -> std::cmp::Ordering {
    a.time
        .cmp(&b.time)
        .then(a.asset.cmp(&b.asset))
        .then(a.dataset.cmp(&b.dataset))
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
    Ok((with_foreign(ctx, asset).await?, unreachable))
}

/// The restore points of `asset` (all when `None`) and, marked, the foreign snapshots
/// tagged for it, oldest first.
pub async fn with_foreign(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<Vec<PointView>> {
    let mut views = group(&crate::suspects::points(ctx, asset).await?);
    let mut foreign = group(&ctx.catalog.foreign_points(asset).await?);
    for view in &mut foreign {
        view.foreign = true;
    }
    views.extend(foreign);
    views.sort_by(oldest_first);
    Ok(views)
}

/// What an operator says when trusting a snapshot Reprise did not make.
#[derive(Debug, Clone)]
pub struct Adoption {
    /// The snapshot's id, or enough of its start to name one.
    pub snapshot: String,
    pub asset: String,
    pub dataset: String,
    pub reason: String,
}

/// Trusts a foreign snapshot as a restore point of its asset and data set, journaled with
/// who and why. The asset and data set must be the ones it is tagged for: adopting is
/// confirming what it is, not relabelling it. Returns the repository and full id.
pub async fn adopt(ctx: &Ctx<'_>, adoption: &Adoption, actor: &str) -> AppResult<(String, String)> {
    let asset = ctx.asset(&adoption.asset)?;
    if adoption.reason.trim().is_empty() {
        return Err(AppError::Invalid(
            "say why this snapshot can be trusted, with --reason".into(),
        ));
    }
    let prefix = adoption.snapshot.trim();
    if prefix.len() < 4 {
        return Err(AppError::Invalid(format!(
            "`{prefix}`: give at least 4 characters of the snapshot's id"
        )));
    }
    crate::points::refresh(ctx, asset).await?;
    let foreign = ctx.catalog.foreign_points(None).await?;
    let found: Vec<&RestorePoint> = foreign
        .iter()
        .filter(|p| p.snapshot.starts_with(prefix))
        .collect();
    let point = match found.as_slice() {
        [one] => *one,
        [] => {
            let own = ctx.catalog.restore_points(None).await?;
            return Err(if own.iter().any(|p| p.snapshot.starts_with(prefix)) {
                AppError::Invalid(format!(
                    "`{prefix}` is already a restore point of Reprise's"
                ))
            } else {
                AppError::NotFound(format!(
                    "no foreign snapshot `{prefix}` tagged for an asset in the repositories (`reprise snapshots` lists them)"
                ))
            });
        }
        _ => {
            return Err(AppError::Invalid(format!(
                "`{prefix}` matches several snapshots: give more characters"
            )));
        }
    };
    if point.asset != adoption.asset || point.dataset != adoption.dataset {
        return Err(AppError::Invalid(format!(
            "snapshot {} is tagged asset:{} dataset:{}, not {}/{}",
            reprise_workspace::text::short(&point.snapshot),
            point.asset,
            point.dataset,
            adoption.asset,
            adoption.dataset
        )));
    }
    crate::points::trust(
        ctx,
        &point.repository,
        &point.snapshot,
        "adopted",
        Some(actor),
        Some(adoption.reason.trim().to_string()),
    )
    .await?;
    Ok((point.repository.clone(), point.snapshot.clone()))
}
