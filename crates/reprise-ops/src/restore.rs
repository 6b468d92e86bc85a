//! `restore`: the newest restore point at or before a time (or a named one), checked
//! before anything is written, recorded with its duration (the raw material of measured
//! RTO).

use std::path::{Path, PathBuf};
use std::time::Instant;

use jiff::Timestamp;
use reprise_catalog::{
    ChangeKind, NewRun, RestorePoint, RunKind, RunOutcome, RunStatus, Verification,
};
use reprise_engine::RestoreRequest;
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::repos::{self, blocking};
use crate::target::Guard;

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub asset: String,
    pub dataset: Option<String>,
    /// Newest point at or before this time; now when `None`.
    pub at: Option<Timestamp>,
    /// A snapshot id or prefix, instead of `at`.
    pub snapshot: Option<String>,
    /// A path inside the data set: relative paths are relative to the workspace, as
    /// data-set paths are.
    pub path: Option<String>,
    pub target: PathBuf,
    pub overwrite: bool,
    pub verify: bool,
    /// Who asks, which decides where the restore may write (see [`crate::target`]).
    pub guard: Guard,
    /// Restore on this machine even when the asset's data lives on another host (whose
    /// agent restores it otherwise, into the target on that host: see
    /// `reprise_agents::fleet::restore`, which every front end calls).
    pub on_server: bool,
    /// On a host: a command its agent runs in the restored copy, within a time (a
    /// drill's check); its result comes back in [`Restored::host_check`].
    pub host_check: Option<(String, reprise_domain::Interval)>,
    /// A sandbox (a drill's): on a host, its agent removes it once checked.
    pub scratch: bool,
}

/// What a check run in a restored copy on a host gave (a drill's `drill_check`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CheckReport {
    pub ok: bool,
    /// The end of its output, or why it did not run.
    pub output: String,
    pub seconds: f64,
}

/// What was restored, for one data set.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub asset: String,
    pub dataset: String,
    pub repository: String,
    pub snapshot: String,
    pub time: Timestamp,
    /// When the point was last proven intact before this restore.
    pub verified_before: Option<Timestamp>,
    /// Set when the point predates the asset's last recorded configuration change
    /// (R000.3): changes made since then must be redone by hand.
    pub predates_change: Option<Timestamp>,
    pub target: PathBuf,
    pub files: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Copies that could not be used, and why, before this one was.
    pub unavailable: Vec<String>,
    /// How many erasures of the asset the restore honoured (the erasure ledger).
    pub erasures: usize,
    /// Erased paths this restore point still held, which were not written.
    pub withheld: Vec<String>,
    /// The point was not made by Reprise: restored only because it was named, and
    /// journaled.
    pub foreign: bool,
    /// Restored on this host, by its agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// What the check asked in [`RestoreOptions::host_check`] gave on the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_check: Option<CheckReport>,
}

/// Chooses, per data set, the restore point to use.
pub fn choose(points: &[RestorePoint], opts: &RestoreOptions) -> AppResult<Vec<RestorePoint>> {
    let mut by_dataset: Vec<String> = points.iter().map(|p| p.dataset.clone()).collect();
    by_dataset.sort();
    by_dataset.dedup();
    if let Some(d) = &opts.dataset {
        if !by_dataset.contains(d) {
            return Err(AppError::Invalid(format!(
                "asset `{}` has no restore point for data set `{d}` (data sets with restore points: {})",
                opts.asset,
                if by_dataset.is_empty() {
                    "none".to_string()
                } else {
                    by_dataset.join(", ")
                }
            )));
        }
        by_dataset = vec![d.clone()];
    }
    if let Some(prefix) = &opts.snapshot {
        let found: Vec<&RestorePoint> = points
            .iter()
            .filter(|p| p.snapshot.starts_with(prefix.as_str()))
            .collect();
        return match found.as_slice() {
            [] => Err(AppError::Invalid(format!(
                "asset `{}` has no restore point `{prefix}` (see `reprise snapshots {}`)",
                opts.asset, opts.asset
            ))),
            [one] => Ok(vec![(*one).clone()]),
            _ => Err(AppError::Invalid(format!(
                "`{prefix}` matches several restore points: give more characters"
            ))),
        };
    }
    let at = opts.at.unwrap_or_else(Timestamp::now);
    let mut chosen = Vec::new();
    for dataset in by_dataset {
        // Prefer the primary repository's copy: it is listed first for equal times. Never
        // a suspect point unless it is named.
        let newest = |suspect: bool| {
            points
                .iter()
                .filter(|p| p.dataset == dataset && p.time <= at && p.suspect.is_some() == suspect)
                .max_by(|a, b| a.time.cmp(&b.time).then(b.repository.cmp(&a.repository)))
        };
        match (newest(false), newest(true)) {
            (Some(p), _) => chosen.push(p.clone()),
            (None, Some(p)) => {
                return Err(AppError::Invalid(format!(
                    "asset `{}`, data set `{dataset}`: every restore point at or before {at} is suspect ({}); check one and name it with --snapshot, or clear it with `reprise snapshots clear`",
                    opts.asset,
                    p.suspect.as_deref().unwrap_or_default()
                )));
            }
            (None, None) => {
                return Err(AppError::Invalid(format!(
                    "asset `{}`, data set `{dataset}`: no restore point at or before {at}",
                    opts.asset
                )));
            }
        }
    }
    if chosen.is_empty() {
        return Err(AppError::Invalid(format!(
            "asset `{}` has no restore point yet (run `reprise backup {}`)",
            opts.asset, opts.asset
        )));
    }
    Ok(chosen)
}

/// The restore points to use, from the points they were chosen among (the copies of
/// each are found there), and whether they are foreign. Reprise's own points only,
/// unless `--snapshot` names a foreign one: it is never chosen otherwise.
pub async fn choose_points(
    ctx: &Ctx<'_>,
    asset: &str,
    opts: &RestoreOptions,
) -> AppResult<(Vec<RestorePoint>, Vec<RestorePoint>, bool)> {
    let points = crate::suspects::points(ctx, Some(asset)).await?;
    let refused = match choose(&points, opts) {
        Ok(chosen) => return Ok((points, chosen, false)),
        Err(e) => e,
    };
    if opts.snapshot.is_some() {
        let foreign = ctx.catalog.foreign_points(Some(asset)).await?;
        if let Ok(chosen) = choose(&foreign, opts) {
            return Ok((foreign, chosen, true));
        }
    }
    Err(refused)
}

/// Resolves the target of a restore and checks it against the places a restore must
/// not touch (see [`crate::target`]); the path inside the data set is checked too.
pub(crate) fn check_target(ctx: &Ctx<'_>, opts: &RestoreOptions) -> AppResult<PathBuf> {
    if let Some(path) = &opts.path {
        crate::target::check_text("path", std::path::Path::new(path))?;
    }
    let catalog = ctx.workspace().catalog_location(
        Some(&ctx.loaded.config),
        std::env::var("REPRISE_CATALOG").ok().as_deref(),
    );
    crate::target::check(&ctx.loaded, Some(&catalog), &opts.target, &opts.guard)
}

/// Everything a restore can be refused for, found before it starts: the target, the
/// restore points, and (on the first copy that opens) the path inside the point and what
/// the target already holds. Returns the points that will be restored, and the target
/// resolved.
pub async fn prepare(
    ctx: &Ctx<'_>,
    opts: &RestoreOptions,
) -> AppResult<(Vec<RestorePoint>, PathBuf)> {
    let asset = ctx.asset(&opts.asset)?;
    let target = check_target(ctx, opts)?;
    let (_, chosen, _) = choose_points(ctx, asset.id.as_str(), opts).await?;
    let ledger = crate::erase::ledger(ctx, asset.id.as_str()).await?;
    let several = chosen.len() > 1;
    for point in &chosen {
        let (target, path) = destination(ctx, opts, &target, point, several);
        let Ok(config) = ctx.repository(&point.repository) else {
            continue;
        };
        let Ok(repo) = repos::open(ctx.workspace(), config, ctx.progress.clone()).await else {
            continue;
        };
        let request = RestoreRequest {
            snapshot: point.snapshot.clone(),
            path,
            target,
            overwrite: opts.overwrite,
            verify: false,
            erased: ledger.paths.clone(),
        };
        blocking(move || repo.plan_restore(&request).map(|_| ())).await?;
    }
    Ok((chosen, target))
}

/// Where one restore point goes, and the path inside it to restore. With several data
/// sets each goes to a directory of its own under the target. The path is absolute as
/// snapshots record it: a relative one is relative to the workspace, as data-set paths
/// are.
fn destination(
    ctx: &Ctx<'_>,
    opts: &RestoreOptions,
    root: &Path,
    point: &RestorePoint,
    several: bool,
) -> (PathBuf, Option<String>) {
    let target = if several {
        root.join(&point.dataset)
    } else {
        root.to_path_buf()
    };
    let path = opts.path.as_ref().map(|p| {
        if p.starts_with('/') {
            p.clone()
        } else {
            ctx.workspace().resolve(p).display().to_string()
        }
    });
    (target, path)
}

pub async fn run(ctx: &Ctx<'_>, opts: &RestoreOptions) -> AppResult<Vec<Restored>> {
    let asset = ctx.asset(&opts.asset)?;
    let root = check_target(ctx, opts)?;
    if let Some(reason) = &opts.guard.override_reason {
        crate::journal::note(
            ctx.catalog,
            "restore.override",
            asset.id.as_str(),
            format!(
                "restore into protected place {} allowed: {reason}",
                root.display()
            ),
        )
        .await?;
    }
    crate::points::refresh(ctx, asset).await?;
    let (points, chosen, foreign) = choose_points(ctx, asset.id.as_str(), opts).await?;
    if foreign {
        for point in &chosen {
            crate::journal::note(
                ctx.catalog,
                "restore.foreign",
                asset.id.as_str(),
                format!(
                    "restore of snapshot {} ({}/{}), which Reprise did not make, named by hand",
                    point.snapshot, point.asset, point.dataset
                ),
            )
            .await?;
        }
    }
    let history = ctx.catalog.asset_history(asset.id.as_str()).await?;
    // The inventory's record of a change, or the device's own, seen by reading it.
    let last_change = history
        .iter()
        .filter(|c| c.kind == ChangeKind::ConfigChanged)
        .map(|c| c.at)
        .chain(crate::devices::changed_at(ctx, asset.id.as_str()).await?)
        .max();
    let several = chosen.len() > 1;
    // What was erased from this asset is never restored, whatever a point still holds.
    let ledger = crate::erase::ledger(ctx, asset.id.as_str()).await?;
    // The policy's target first, then its copies, in the order the policy names them.
    let order: Vec<String> = ctx
        .repositories_of(asset)?
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let mut restored = Vec::new();
    for point in chosen {
        let (target, path) = destination(ctx, opts, &root, &point, several);
        // The same point in the policy's other repositories: if the first copy cannot
        // be read (the disk died with the server), the next one is used (3-2-1).
        let mut copies: Vec<&RestorePoint> = points
            .iter()
            .filter(|p| p.dataset == point.dataset && p.time == point.time)
            .collect();
        copies.sort_by_key(|p| {
            order
                .iter()
                .position(|r| *r == p.repository)
                .unwrap_or(usize::MAX)
        });
        let mut notes = Vec::new();
        let mut done = None;
        for copy in copies {
            let started = Timestamp::now();
            let clock = Instant::now();
            match restore_copy(ctx, copy, path.clone(), &target, opts, &ledger.paths).await {
                Ok(summary) => {
                    done = Some((
                        copy.clone(),
                        summary,
                        clock.elapsed().as_secs_f64(),
                        started,
                    ));
                    break;
                }
                // The target or the request is at fault, not this copy: another copy
                // would be refused the same way.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::Conflict | ErrorKind::Refused | ErrorKind::Invalid
                    ) =>
                {
                    return Err(e);
                }
                Err(e) => notes.push(format!("repository `{}`: {e}", copy.repository)),
            }
        }
        let Some((used, summary, seconds, started)) = done else {
            return Err(AppError::Failed(format!(
                "asset `{}`, data set `{}`: {}",
                point.asset,
                point.dataset,
                notes.join("; ")
            )));
        };
        if opts.verify {
            // The restore read back and verified every pack of this point first.
            ctx.catalog
                .mark_verified(
                    &used.repository,
                    std::slice::from_ref(&used.snapshot),
                    started,
                    &Verification::Passed,
                )
                .await?;
        }
        let point = used;
        restored.push(Restored {
            asset: point.asset.clone(),
            dataset: point.dataset.clone(),
            repository: point.repository.clone(),
            snapshot: point.snapshot.clone(),
            time: point.time,
            verified_before: point.verified,
            predates_change: last_change.filter(|c| *c > point.time),
            target,
            files: summary.files,
            bytes: summary.bytes,
            seconds,
            unavailable: notes,
            erasures: ledger.erasures,
            withheld: summary.withheld,
            foreign,
            host: None,
            host_check: None,
        });
    }
    Ok(restored)
}

/// Restores one copy of a point, recorded as a run with its duration.
async fn restore_copy(
    ctx: &Ctx<'_>,
    point: &RestorePoint,
    path: Option<String>,
    target: &std::path::Path,
    opts: &RestoreOptions,
    erased: &[String],
) -> AppResult<reprise_engine::RestoreSummary> {
    let run = ctx
        .catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Restore),
            asset: Some(point.asset.clone()),
            dataset: Some(point.dataset.clone()),
            repository: Some(point.repository.clone()),
            started: Some(Timestamp::now()),
        })
        .await?;
    let repo_config = ctx.repository(&point.repository)?;
    let result = async {
        let repo = repos::open(ctx.workspace(), repo_config, ctx.progress.clone()).await?;
        let request = RestoreRequest {
            snapshot: point.snapshot.clone(),
            path,
            target: target.to_path_buf(),
            overwrite: opts.overwrite,
            verify: opts.verify,
            erased: erased.to_vec(),
        };
        blocking(move || {
            let plan = repo.plan_restore(&request)?;
            repo.restore(plan)
        })
        .await
        .map_err(AppError::from)
    }
    .await;
    let mut outcome = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
    outcome.snapshot = Some(point.snapshot.clone());
    outcome.detail = Some(format!(
        "{{\"target\":{:?},\"verified\":{}}}",
        target.display().to_string(),
        opts.verify
    ));
    match &result {
        Ok(summary) => {
            outcome.files = Some(summary.files);
            outcome.bytes_read = Some(summary.bytes);
        }
        Err(e) => {
            outcome.status = RunStatus::Failed;
            outcome.error = Some(e.to_string());
        }
    }
    ctx.catalog.finish_run(run, &outcome).await?;
    result
}
