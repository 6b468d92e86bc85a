//! Erasure with proof (R002.3): given paths (a person's file, a folder of consents) are
//! removed from every restore point of an asset in every repository holding it. A plan
//! comes first (which restore points, which copies, how many bytes); executing it
//! rewrites those restore points without the paths and prunes what nothing else
//! references. The ledger (the catalog's erasures, journaled) is the proof — what, from
//! where, when, by whom, never the data — and every restore reads it, so that nothing
//! erased ever comes back.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use reprise_catalog::{ErasureRow, RestorePoint, Verification};
use reprise_domain::{Asset, DataSource};
use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::repos::{self, blocking};

/// What an erasure is, was planned to do, and did: the catalog's document.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErasureDoc {
    /// The erased paths, absolute, as restore points record them.
    pub paths: Vec<String>,
    pub reason: String,
    pub requested_by: String,
    /// The restore points holding the paths when it was planned.
    pub plan: Vec<Hit>,
    /// Paths still present in the live data: the next backup would take them again.
    pub still_in_source: Vec<String>,
    /// Repositories that could not be read, and why.
    pub unreachable: Vec<String>,
    pub executed_by: Option<String>,
    /// Per repository, what execution did.
    pub result: Vec<RepoResult>,
    pub error: Option<String>,
}

/// A restore point holding erased paths.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hit {
    pub repository: String,
    pub snapshot: String,
    pub dataset: String,
    pub time: Timestamp,
    /// The erased paths it holds.
    pub paths: Vec<String>,
    pub files: u64,
    pub bytes: u64,
}

/// What execution did in one repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoResult {
    pub repository: String,
    /// (restore point erased, its rewritten replacement).
    pub rewritten: Vec<(String, String)>,
    pub bytes_freed: u64,
}

/// An erasure as shown to people and programs.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureView {
    pub id: i64,
    pub asset: String,
    pub state: String,
    pub created: Timestamp,
    pub finished: Option<Timestamp>,
    #[serde(flatten)]
    pub doc: ErasureDoc,
}

impl ErasureView {
    fn from_row(row: ErasureRow) -> AppResult<Self> {
        let doc = serde_json::from_str(&row.doc).map_err(|e| {
            AppError::Failed(format!(
                "erasure {} is unreadable in the catalog: {e}",
                row.id
            ))
        })?;
        Ok(Self {
            id: row.id,
            asset: row.asset,
            state: row.state,
            created: row.created,
            finished: row.finished,
            doc,
        })
    }

    pub fn files(&self) -> u64 {
        self.doc.plan.iter().map(|h| h.files).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.doc.plan.iter().map(|h| h.bytes).sum()
    }
}

/// `path` made absolute (relative paths are relative to the workspace, like data-set
/// paths), with its deepest existing ancestor's symbolic links resolved: the file itself
/// is often already gone from the live data.
fn absolute(ctx: &Ctx<'_>, path: &str) -> PathBuf {
    let full = ctx.workspace().resolve(path);
    let mut existing = full.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return full,
        }
    }
    let mut out = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.iter().rev() {
        out.push(name);
    }
    out
}

/// The roots of the asset's file data sets, resolved like [`absolute`].
fn dataset_roots(ctx: &Ctx<'_>, asset: &Asset) -> Vec<(String, PathBuf)> {
    asset
        .datasets
        .iter()
        .flat_map(|d| match &d.source {
            DataSource::Paths { paths, .. } => paths
                .iter()
                .map(|p| (d.name.clone(), absolute(ctx, p)))
                .collect(),
            DataSource::Command { .. } | DataSource::Device { .. } => Vec::new(),
        })
        .collect()
}

/// Finds `paths` in every restore point of `asset` in every repository, and records the
/// plan. Nothing is erased yet.
pub async fn plan(
    ctx: &Ctx<'_>,
    asset_id: &str,
    paths: &[String],
    reason: &str,
    by: &str,
) -> AppResult<ErasureView> {
    let asset = ctx.asset(asset_id)?;
    if paths.is_empty() {
        return Err(AppError::Invalid("name at least one path to erase".into()));
    }
    if reason.trim().is_empty() {
        return Err(AppError::Invalid(
            "say why (--reason): the proof of erasure records it".into(),
        ));
    }
    let roots = dataset_roots(ctx, asset);
    let mut absolute_paths = Vec::new();
    for p in paths {
        let full = absolute(ctx, p);
        if !roots.iter().any(|(_, root)| full.starts_with(root)) {
            let shown: Vec<String> = roots
                .iter()
                .map(|(name, root)| format!("{name}: {}", root.display()))
                .collect();
            return Err(AppError::Invalid(format!(
                "`{p}` is not inside a data set of asset `{asset_id}` ({})",
                if shown.is_empty() {
                    "it has no file data set".to_string()
                } else {
                    shown.join(", ")
                }
            )));
        }
        absolute_paths.push(full.display().to_string());
    }
    absolute_paths.sort();
    absolute_paths.dedup();
    let (hits, unreachable) = find(ctx, asset, &absolute_paths).await?;
    let doc = ErasureDoc {
        still_in_source: absolute_paths
            .iter()
            .filter(|p| Path::new(p).symlink_metadata().is_ok())
            .cloned()
            .collect(),
        paths: absolute_paths,
        reason: reason.trim().to_string(),
        requested_by: by.to_string(),
        plan: hits,
        unreachable,
        ..ErasureDoc::default()
    };
    let text = serde_json::to_string(&doc).expect("serialisable");
    let id = ctx
        .catalog
        .create_erasure(asset.id.as_str(), Timestamp::now(), &text)
        .await?;
    show(ctx, id).await
}

/// The restore points of `asset` holding any of `paths`, per repository, and the
/// repositories that could not be read.
async fn find(
    ctx: &Ctx<'_>,
    asset: &Asset,
    paths: &[String],
) -> AppResult<(Vec<Hit>, Vec<String>)> {
    let mut hits = Vec::new();
    let mut unreachable = Vec::new();
    for repo in &ctx.inventory().repositories {
        let open = match repos::open(ctx.workspace(), repo, ctx.progress.clone()).await {
            Ok(open) => open,
            Err(e) => {
                unreachable.push(format!("{}: {e}", repo.id));
                continue;
            }
        };
        crate::points::sync(ctx, repo.id.as_str(), open.clone()).await?;
        let points: Vec<RestorePoint> = every_snapshot(ctx, asset.id.as_str())
            .await?
            .into_iter()
            .filter(|p| p.repository == repo.id.as_str())
            .collect();
        if points.is_empty() {
            continue;
        }
        let ids: Vec<String> = points.iter().map(|p| p.snapshot.clone()).collect();
        let wanted = paths.to_vec();
        let found = blocking(move || open.find_paths(&ids, &wanted)).await?;
        for point in &points {
            let here: Vec<&reprise_engine::Found> = found
                .iter()
                .filter(|f| f.snapshot == point.snapshot)
                .collect();
            if here.is_empty() {
                continue;
            }
            hits.push(Hit {
                repository: repo.id.to_string(),
                snapshot: point.snapshot.clone(),
                dataset: point.dataset.clone(),
                time: point.time,
                paths: here.iter().map(|f| f.path.clone()).collect(),
                files: here.iter().map(|f| f.files).sum(),
                bytes: here.iter().map(|f| f.bytes).sum(),
            });
        }
    }
    Ok((hits, unreachable))
}

/// Executes a planned erasure: finds the paths again (backups may have run since the
/// plan), rewrites every restore point holding them in every repository, prunes, and
/// records the result. Rewritten points keep their verification once their new trees
/// check out: their data is the same, minus what was erased.
pub async fn execute(ctx: &Ctx<'_>, id: i64, by: &str) -> AppResult<ErasureView> {
    let view = show(ctx, id).await?;
    // A failed erasure is run again: it finds what still holds the paths and finishes.
    if view.state != "planned" && view.state != "failed" {
        return Err(AppError::Conflict(format!(
            "erasure {id} is {}: only a planned erasure, or one that failed, can be run",
            view.state
        )));
    }
    // Nothing writes into the repositories meanwhile (the erasure prunes); when
    // something does, the erasure stays planned.
    let repositories: Vec<&str> = ctx
        .inventory()
        .repositories
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    crate::leases::with_writers_stopped(ctx, &repositories, execute_now(ctx, id, view, by)).await
}

async fn execute_now(
    ctx: &Ctx<'_>,
    id: i64,
    view: ErasureView,
    by: &str,
) -> AppResult<ErasureView> {
    let asset = ctx.asset(&view.asset)?;
    let mut doc = view.doc.clone();
    doc.executed_by = Some(by.to_string());
    let outcome = async {
        let (hits, unreachable) = find(ctx, asset, &doc.paths).await?;
        doc.plan = hits.clone();
        doc.unreachable = unreachable.clone();
        for repo in &ctx.inventory().repositories {
            let mine: Vec<&Hit> = hits
                .iter()
                .filter(|h| h.repository == repo.id.as_str())
                .collect();
            if mine.is_empty() {
                continue;
            }
            let open = repos::open(ctx.workspace(), repo, ctx.progress.clone()).await?;
            let before: Vec<RestorePoint> = ctx
                .catalog
                .restore_points(Some(asset.id.as_str()))
                .await?
                .into_iter()
                .filter(|p| p.repository == repo.id.as_str())
                .collect();
            let snapshots: Vec<String> = mine.iter().map(|h| h.snapshot.clone()).collect();
            if open.is_immutable() {
                // A lock nobody can lift: rewriting would leave the originals in place.
                let handle = open.clone();
                let held = blocking(move || handle.snapshot_locks()).await?;
                let locked: Vec<_> = held
                    .iter()
                    .filter(|(sid, _)| snapshots.iter().any(|s| sid.starts_with(s.as_str())))
                    .collect();
                if let Some(latest) = locked.iter().map(|(_, until)| **until).max() {
                    return Err(AppError::Refused(format!(
                        "repository `{}` is immutable: {} restore point(s) holding these paths are locked until {} at the latest, and nobody can delete them before; the erasure stays pending (run `reprise erase run {id}` again once they are no longer kept and their locks lapsed)",
                        repo.id,
                        locked.len(),
                        latest.strftime("%Y-%m-%d %H:%M UTC")
                    )));
                }
            }
            let paths = doc.paths.clone();
            let worker = open.clone();
            let tag = format!("erased:{id}");
            let erased = blocking(move || worker.erase(&snapshots, &paths, &tag)).await?;
            crate::points::sync(ctx, repo.id.as_str(), open.clone()).await?;
            carry_provenance(ctx, repo.id.as_str(), id, &before, &erased.rewritten).await?;
            carry_verification(ctx, repo.id.as_str(), &open, &before, &erased.rewritten).await?;
            doc.result.push(RepoResult {
                repository: repo.id.to_string(),
                rewritten: erased.rewritten,
                bytes_freed: erased.bytes_freed,
            });
        }
        if !unreachable.is_empty() {
            return Err(AppError::Failed(format!(
                "some repositories could not be read, so their restore points still hold the paths: {}; once they are back, `reprise erase run {id}` again finishes the erasure",
                unreachable.join("; ")
            )));
        }
        Ok(())
    }
    .await;
    let state = match &outcome {
        Ok(()) => "executed",
        Err(e) => {
            doc.error = Some(e.to_string());
            "failed"
        }
    };
    let text = serde_json::to_string(&doc).expect("serialisable");
    if !ctx
        .catalog
        .finish_erasure(id, state, Timestamp::now(), &text)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "erasure {id} was executed or cancelled by someone else meanwhile"
        )));
    }
    outcome?;
    show(ctx, id).await
}

/// Every snapshot tagged for the asset, Reprise's and foreign: personal data is erased
/// wherever it is kept.
async fn every_snapshot(ctx: &Ctx<'_>, asset: &str) -> AppResult<Vec<RestorePoint>> {
    let mut all = ctx.catalog.restore_points(Some(asset)).await?;
    all.extend(ctx.catalog.foreign_points(Some(asset)).await?);
    Ok(all)
}

/// A rewritten restore point is still Reprise's own; a rewritten foreign snapshot stays
/// foreign.
async fn carry_provenance(
    ctx: &Ctx<'_>,
    repository: &str,
    erasure: i64,
    trusted: &[RestorePoint],
    rewritten: &[(String, String)],
) -> AppResult<()> {
    for (old, new) in rewritten {
        if trusted.iter().any(|p| &p.snapshot == old) {
            crate::points::trust(
                ctx,
                repository,
                new,
                "rewritten",
                None,
                Some(format!("{old} without the paths of erasure {erasure}")),
            )
            .await?;
        }
    }
    Ok(())
}

/// Gives each rewritten restore point its original's verification once its new trees
/// check out.
async fn carry_verification(
    ctx: &Ctx<'_>,
    repository: &str,
    open: &std::sync::Arc<reprise_engine::Repo>,
    before: &[RestorePoint],
    rewritten: &[(String, String)],
) -> AppResult<()> {
    for (old, new) in rewritten {
        let Some(verified) = before
            .iter()
            .find(|p| &p.snapshot == old)
            .and_then(|p| p.verified)
        else {
            continue;
        };
        let worker = open.clone();
        let id = new.clone();
        let report = blocking(move || worker.check_snapshot(&id, false)).await?;
        if report.ok() {
            ctx.catalog
                .mark_verified(
                    repository,
                    std::slice::from_ref(new),
                    verified,
                    &Verification::Passed,
                )
                .await?;
        }
    }
    Ok(())
}

/// Cancels a planned erasure.
pub async fn cancel(ctx: &Ctx<'_>, id: i64, by: &str) -> AppResult<ErasureView> {
    let view = show(ctx, id).await?;
    let mut doc = view.doc;
    doc.executed_by = Some(by.to_string());
    let text = serde_json::to_string(&doc).expect("serialisable");
    if !ctx
        .catalog
        .finish_erasure(id, "cancelled", Timestamp::now(), &text)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "erasure {id} is {}: only a planned erasure can be cancelled",
            view.state
        )));
    }
    show(ctx, id).await
}

pub async fn show(ctx: &Ctx<'_>, id: i64) -> AppResult<ErasureView> {
    ctx.catalog
        .erasures(None)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| AppError::NotFound(format!("no erasure {id} (see `reprise erase list`)")))
        .and_then(ErasureView::from_row)
}

pub async fn list(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<Vec<ErasureView>> {
    ctx.catalog
        .erasures(asset)
        .await?
        .into_iter()
        .map(ErasureView::from_row)
        .collect()
}

/// What a restore of an asset must never write.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// How many erasures of the asset count (executed ones, and failed ones, which may
    /// have erased part).
    pub erasures: usize,
    /// Their paths, absolute, as restore points record them.
    pub paths: Vec<String>,
}

/// The erasure ledger of `asset`.
pub async fn ledger(ctx: &Ctx<'_>, asset: &str) -> AppResult<Ledger> {
    let counted: Vec<ErasureView> = list(ctx, Some(asset))
        .await?
        .into_iter()
        .filter(|e| e.state == "executed" || e.state == "failed")
        .collect();
    let mut paths: Vec<String> = counted.iter().flat_map(|e| e.doc.paths.clone()).collect();
    paths.sort();
    paths.dedup();
    Ok(Ledger {
        erasures: counted.len(),
        paths,
    })
}
