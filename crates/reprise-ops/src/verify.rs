//! `verify`: repository structure always; data read back when asked — all of it, a random
//! share, or the next slice of a rolling cycle that reads every pack once per period.
//! Restore points are marked proven when all their data was read back intact; a damaged
//! pack is reported as the restore points and assets that need it.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use reprise_catalog::RestorePoint;
use reprise_catalog::{NewRun, RepoVerification, RunKind, RunOutcome, RunStatus, Verification};
use reprise_engine::{CheckReport, ReadMode, Repo};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::AppResult;
use crate::repos::{self, blocking};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    Structure,
    ReadAll,
    Subset(f64),
    /// The next slice of a cycle of `of` slices (e.g. 30: all data every 30 runs).
    Rolling {
        of: u32,
    },
}

/// A restore point a damaged pack makes unrestorable.
#[derive(Debug, Clone, Serialize)]
pub struct Affected {
    pub asset: String,
    pub dataset: String,
    pub snapshot: String,
    pub time: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepoReport {
    pub repository: String,
    pub mode: String,
    pub ok: bool,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    pub damaged_packs: Vec<String>,
    pub affected: Vec<Affected>,
    /// Restore points newly proven intact by this run.
    pub proven: usize,
}

/// Verifies the repositories holding `assets`' restore points (all when empty).
pub async fn run(ctx: &Ctx<'_>, assets: &[String], mode: Mode) -> AppResult<Vec<RepoReport>> {
    let mut repo_ids: Vec<String> = Vec::new();
    if assets.is_empty() {
        repo_ids = ctx
            .inventory()
            .repositories
            .iter()
            .map(|r| r.id.to_string())
            .collect();
    } else {
        for id in assets {
            let asset = ctx.asset(id)?;
            for repo in ctx.repositories_of(asset)? {
                if !repo_ids.contains(&repo.id.to_string()) {
                    repo_ids.push(repo.id.to_string());
                }
            }
        }
    }
    let mut reports = Vec::new();
    for id in repo_ids {
        reports.push(verify_repo(ctx, &id, mode).await?);
    }
    Ok(reports)
}

async fn verify_repo(ctx: &Ctx<'_>, id: &str, mode: Mode) -> AppResult<RepoReport> {
    let started = Timestamp::now();
    let run = ctx
        .catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Verify),
            repository: Some(id.to_string()),
            started: Some(started),
            ..NewRun::default()
        })
        .await?;
    let config = ctx.repository(id)?;
    let repo = match repos::open(ctx.workspace(), config, ctx.progress.clone()).await {
        Ok(r) => r,
        Err(e) => {
            let mut outcome = RunOutcome::new(Timestamp::now(), RunStatus::Failed);
            outcome.error = Some(e.to_string());
            ctx.catalog.finish_run(run, &outcome).await?;
            return Ok(RepoReport {
                repository: id.to_string(),
                mode: mode_name(mode).into(),
                ok: false,
                errors: vec![e.to_string()],
                warnings: vec![],
                damaged_packs: vec![],
                affected: vec![],
                proven: 0,
            });
        }
    };
    crate::points::sync(ctx, id, repo.clone()).await?;
    let history = ctx.catalog.verifications(id).await?;
    let (read_mode, slice) = read_mode(mode, &history);
    let checker = repo.clone();
    let report = blocking(move || checker.check(read_mode)).await?;
    let ok = report.ok();
    ctx.catalog
        .record_verification(&RepoVerification {
            repository: id.to_string(),
            at: started,
            mode: mode_name(mode).into(),
            slice,
            ok,
        })
        .await?;

    let points: Vec<_> = ctx
        .catalog
        .restore_points(None)
        .await?
        .into_iter()
        .filter(|p| p.repository == id)
        .collect();
    let mut affected = Vec::new();
    if !ok && report.damaged_packs.is_empty() {
        affected = unnamed_damage(ctx, &repo, id, &points, mode, &report, started).await?;
    }
    if !report.damaged_packs.is_empty() {
        affected.extend(pack_damage(ctx, &repo, id, &points, &report, started).await?);
    }

    let failed: BTreeSet<&str> = affected.iter().map(|a| a.snapshot.as_str()).collect();
    let mut proven = proven(mode, ok, id, &history, slice, started, &points);
    proven.retain(|s| !failed.contains(s.as_str()));
    if !proven.is_empty() {
        ctx.catalog
            .mark_verified(id, &proven, started, &Verification::Passed)
            .await?;
    }
    let mut outcome = RunOutcome::new(
        Timestamp::now(),
        if ok {
            RunStatus::Succeeded
        } else {
            RunStatus::Failed
        },
    );
    if !ok {
        outcome.error = Some(report.errors.join("; "));
    }
    outcome.detail = Some(format!("{{\"mode\":\"{}\"}}", mode_name(mode)));
    ctx.catalog.finish_run(run, &outcome).await?;
    Ok(RepoReport {
        repository: id.to_string(),
        mode: match slice {
            Some((k, n)) => format!("rolling {k}/{n}"),
            None => mode_name(mode).into(),
        },
        ok,
        errors: report.errors,
        warnings: report.warnings,
        damaged_packs: report.damaged_packs.into_iter().map(|p| p.pack).collect(),
        affected,
        proven: proven.len(),
    })
}

/// What this run reads, and for a rolling cycle which slice of how many.
fn read_mode(mode: Mode, history: &[RepoVerification]) -> (ReadMode, Option<(u32, u32)>) {
    match mode {
        Mode::Structure => (ReadMode::Structure, None),
        Mode::ReadAll => (ReadMode::All, None),
        Mode::Subset(p) => (ReadMode::Percent(p), None),
        Mode::Rolling { of } => {
            let done = history
                .iter()
                .filter(|v| v.slice.is_some_and(|(_, n)| n == of))
                .count() as u32;
            let index = done % of + 1;
            (ReadMode::Slice { index, of }, Some((index, of)))
        }
    }
}

/// The check could not name the packs: each restore point's own data is checked, and
/// those that fail are marked failed.
async fn unnamed_damage(
    ctx: &Ctx<'_>,
    repo: &Arc<Repo>,
    id: &str,
    points: &[RestorePoint],
    mode: Mode,
    report: &CheckReport,
    started: Timestamp,
) -> AppResult<Vec<Affected>> {
    let mut affected = Vec::new();
    // The check could not name the packs: check each restore point's own data.
    let mut hit = Vec::new();
    for point in points {
        let checker = repo.clone();
        let id = point.snapshot.clone();
        let read = !matches!(mode, Mode::Structure);
        let own = blocking(move || checker.check_snapshot(&id, read)).await;
        if !own.is_ok_and(|r| r.ok()) {
            hit.push(point.snapshot.clone());
            affected.push(Affected {
                asset: point.asset.clone(),
                dataset: point.dataset.clone(),
                snapshot: point.snapshot.clone(),
                time: point.time,
            });
        }
    }
    let why = report.errors.join("; ");
    ctx.catalog
        .mark_verified(id, &hit, started, &Verification::Failed(why))
        .await?;
    Ok(affected)
}

/// The restore points (and Reprise's own backups) that need a damaged pack; the points
/// are marked failed.
async fn pack_damage(
    ctx: &Ctx<'_>,
    repo: &Arc<Repo>,
    id: &str,
    points: &[RestorePoint],
    report: &CheckReport,
    started: Timestamp,
) -> AppResult<Vec<Affected>> {
    let mut affected = Vec::new();
    let mapper = repo.clone();
    let by_snapshot = blocking(move || mapper.packs_by_snapshot())
        .await
        .unwrap_or_default();
    let damaged: Vec<&str> = report
        .damaged_packs
        .iter()
        .map(|p| p.pack.as_str())
        .collect();
    let mut hit = Vec::new();
    for point in points {
        let needs = by_snapshot.get(&point.snapshot);
        let broken = match needs {
            Some(packs) => packs
                .iter()
                .any(|p| damaged.iter().any(|d| p.starts_with(d))),
            // Its trees could not even be read: it needs a damaged pack.
            None => true,
        };
        if broken {
            hit.push(point.snapshot.clone());
            affected.push(Affected {
                asset: point.asset.clone(),
                dataset: point.dataset.clone(),
                snapshot: point.snapshot.clone(),
                time: point.time,
            });
        }
    }
    // Reprise's own backups live in the same repositories: say when they are hit.
    let lister = repo.clone();
    let own = blocking(move || lister.snapshots())
        .await
        .unwrap_or_default();
    for snap in own
        .iter()
        .filter(|s| s.tags.iter().any(|t| t == crate::selfbackup::TAG))
    {
        let broken = by_snapshot.get(&snap.id).is_none_or(|packs| {
            packs
                .iter()
                .any(|p| damaged.iter().any(|d| p.starts_with(d)))
        });
        if broken {
            affected.push(Affected {
                asset: "(reprise)".into(),
                dataset: "self-backup".into(),
                snapshot: snap.id.clone(),
                time: snap.time,
            });
        }
    }
    let why = format!("damaged pack(s): {}", damaged.join(", "));
    ctx.catalog
        .mark_verified(id, &hit, started, &Verification::Failed(why))
        .await?;
    Ok(affected)
}

// Which points are now proven: all data read in this run, or every slice of the
// rolling cycle passed since the point was made.
fn proven(
    mode: Mode,
    ok: bool,
    id: &str,
    history: &[RepoVerification],
    slice: Option<(u32, u32)>,
    started: Timestamp,
    points: &[RestorePoint],
) -> Vec<String> {
    match mode {
        Mode::ReadAll if ok => points.iter().map(|p| p.snapshot.clone()).collect(),
        Mode::Rolling { of } if ok => {
            let mut all = history.to_vec();
            let mut proven = Vec::new();
            all.push(RepoVerification {
                repository: id.to_string(),
                at: started,
                mode: "rolling".into(),
                slice,
                ok,
            });
            for p in points {
                let covered = (1..=of).all(|k| {
                    all.iter()
                        .any(|v| v.ok && v.slice == Some((k, of)) && v.at >= p.time)
                });
                if covered && p.verified.is_none_or(|v| v < p.time) {
                    proven.push(p.snapshot.clone());
                }
            }
            proven
        }
        _ => Vec::new(),
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Structure => "structure",
        Mode::ReadAll => "read-data",
        Mode::Subset(_) => "subset",
        Mode::Rolling { .. } => "rolling",
    }
}
