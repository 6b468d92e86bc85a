//! Retention: which restore points each policy keeps, shown as a plan with the reason for
//! every decision, then applied (forget, then prune) only when asked.

use std::collections::BTreeMap;

use jiff::Timestamp;
use reprise_catalog::{NewRun, RunKind, RunOutcome, RunStatus};
use reprise_domain::{RetentionDecision, plan_retention};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::AppResult;
use crate::repos::{self, blocking};

/// The decisions for one asset's data set in one repository.
#[derive(Debug, Clone, Serialize)]
pub struct GroupPlan {
    pub repository: String,
    pub asset: String,
    pub dataset: String,
    pub policy: String,
    /// The data set's category, whose maximum retention caps the policy's.
    pub category: Option<String>,
    pub decisions: Vec<RetentionDecision>,
    /// Points the rules remove but an immutable repository's lock still holds (kept,
    /// and left to lapse: their locks are not extended).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locked: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub repository: String,
    /// Restore points forgotten (none when it failed).
    pub removed: usize,
    pub bytes_freed: u64,
    /// Why this repository was left as it was: its points are still to remove, and
    /// applying the plan again removes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Restore points still to remove here.
    pub left: usize,
    /// Packs no longer needed that stay, locked, until the earliest of these dates: a
    /// prune after it removes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_locked: Option<KeptLocked>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeptLocked {
    pub packs: usize,
    pub until: Timestamp,
}

/// Whether every repository was done.
pub fn complete(applied: &[Applied]) -> bool {
    applied.iter().all(|a| a.error.is_none())
}

/// Plans retention for `assets` (all when empty) at `now`.
pub async fn plan(ctx: &Ctx<'_>, assets: &[String], now: Timestamp) -> AppResult<Vec<GroupPlan>> {
    for id in assets {
        ctx.asset(id)?;
    }
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let mut plans = Vec::new();
    // What each repository holds now; one out of reach is planned from what the catalog
    // last saw of it (applying then fails there, says so, and is run again later). An
    // immutable repository also says which snapshots are still locked, and until when.
    let mut locks: BTreeMap<String, BTreeMap<String, Timestamp>> = BTreeMap::new();
    for repo in &ctx.inventory().repositories {
        if let Ok(open) = repos::open(ctx.workspace(), repo, ctx.progress.clone()).await {
            if repo.immutable.is_some() {
                let handle = open.clone();
                let held = blocking(move || handle.snapshot_locks()).await?;
                locks.insert(repo.id.to_string(), held);
            }
            crate::points::sync(ctx, repo.id.as_str(), open).await?;
        }
    }
    let points = ctx.catalog.restore_points(None).await?;
    let mut groups: BTreeMap<(String, String, String), Vec<(String, Timestamp)>> = BTreeMap::new();
    for p in points {
        if !assets.is_empty() && !assets.contains(&p.asset) {
            continue;
        }
        groups
            .entry((p.repository.clone(), p.asset.clone(), p.dataset.clone()))
            .or_default()
            .push((p.snapshot, p.time));
    }
    for ((repository, asset_id, dataset), group) in groups {
        // Points of assets no longer configured are kept: deleting them is a decision
        // for a person, not a side effect of editing the configuration.
        let Some(asset) = ctx.inventory().asset(&asset_id) else {
            continue;
        };
        let Ok(policy) = ctx.policy_of(asset) else {
            continue;
        };
        // The data set's category caps how long anything is kept, whatever the policy.
        let category = asset
            .datasets
            .iter()
            .find(|d| d.name == dataset)
            .and_then(|d| d.category.as_deref())
            .and_then(|name| ctx.inventory().category(name));
        let rules = policy.retention.bounded_by(category.as_ref());
        let mut decisions = plan_retention(&group, &rules, now, &tz);
        if let Some(c) = &category
            && rules.max_age != policy.retention.max_age
            && let Some(max) = rules.max_age
        {
            for d in decisions.iter_mut().filter(|d| !d.keep) {
                if d.reasons
                    .iter()
                    .any(|r| r.starts_with("older than the maximum age"))
                {
                    d.reasons = vec![format!(
                        "older than data category `{}` allows ({max})",
                        c.name
                    )];
                }
            }
        }
        // A lock nobody can lift keeps a point whatever the rules say.
        let mut locked = Vec::new();
        if let Some(held) = locks.get(&repository) {
            let period = ctx
                .repository(&repository)
                .ok()
                .and_then(|r| r.immutable)
                .map(|i| i.period.to_string())
                .unwrap_or_default();
            for d in decisions.iter_mut().filter(|d| !d.keep) {
                let lock = held
                    .iter()
                    .find(|(id, _)| id.starts_with(d.id.as_str()))
                    .map(|(_, until)| *until);
                if let Some(until) = lock {
                    d.keep = true;
                    d.reasons = vec![format!(
                        "locked until {} (immutable for {period}), then removed",
                        until.strftime("%Y-%m-%d %H:%M UTC")
                    )];
                    locked.push(d.id.clone());
                }
            }
        }
        plans.push(GroupPlan {
            locked,
            repository,
            asset: asset_id,
            dataset,
            policy: policy.id.to_string(),
            category: category.map(|c| c.name),
            decisions,
        });
    }
    Ok(plans)
}

/// The part of the plan that data protection imposes: restore points past their policy's
/// maximum age or their data category's maximum retention, in every repository (copies
/// included). Points that merely no rule keeps are left for a person to remove. Only
/// groups with something to purge are returned.
pub async fn expired(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<GroupPlan>> {
    let mut plans = plan(ctx, &[], now).await?;
    for plan in &mut plans {
        for d in &mut plan.decisions {
            if !d.keep && !d.reasons.iter().any(|r| r.starts_with("older than")) {
                d.keep = true;
            }
        }
    }
    plans.retain(|p| p.decisions.iter().any(|d| !d.keep));
    Ok(plans)
}

/// Forgets the points the plan removes, then prunes the repositories concerned. A
/// repository that fails (unreachable, say) does not stop the others: its outcome says
/// what is left there, and applying a plan again finishes it.
pub async fn apply(ctx: &Ctx<'_>, plans: &[GroupPlan]) -> AppResult<Vec<Applied>> {
    let repositories: Vec<&str> = plans.iter().map(|p| p.repository.as_str()).collect();
    crate::leases::with_writers_stopped(ctx, &repositories, apply_now(ctx, plans)).await
}

async fn apply_now(ctx: &Ctx<'_>, plans: &[GroupPlan]) -> AppResult<Vec<Applied>> {
    let mut by_repo: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for plan in plans {
        by_repo.entry(plan.repository.as_str()).or_default().extend(
            plan.decisions
                .iter()
                .filter(|d| !d.keep)
                .map(|d| d.id.clone()),
        );
    }
    let mut applied = Vec::new();
    for (repo_id, ids) in by_repo {
        if ids.is_empty() {
            continue;
        }
        let run = ctx
            .catalog
            .start_run(&NewRun {
                kind: Some(RunKind::Retention),
                repository: Some(repo_id.to_string()),
                started: Some(Timestamp::now()),
                ..NewRun::default()
            })
            .await?;
        let config = ctx.repository(repo_id)?;
        let result = async {
            let repo = repos::open(ctx.workspace(), config, ctx.progress.clone()).await?;
            let worker = repo.clone();
            let forget = ids.clone();
            let (freed, kept) = blocking(move || {
                worker.forget(&forget)?;
                let freed = worker.prune()?;
                let kept = worker.kept_locked();
                // The locks of what is left are kept ahead of their lapse.
                if worker.has_object_lock() {
                    worker.extend_locks(&[])?;
                }
                Ok::<_, reprise_engine::EngineError>((freed, kept))
            })
            .await?;
            crate::points::sync(ctx, repo_id, repo).await?;
            let kept = kept
                .iter()
                .map(|(_, until)| *until)
                .min()
                .map(|until| KeptLocked {
                    packs: kept.len(),
                    until,
                });
            Ok::<_, crate::error::AppError>((freed, kept))
        }
        .await;
        let mut outcome = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
        outcome.detail = Some(format!("{{\"removed\":{}}}", ids.len()));
        if let Err(e) = &result {
            outcome.status = RunStatus::Failed;
            outcome.error = Some(e.to_string());
        }
        ctx.catalog.finish_run(run, &outcome).await?;
        applied.push(match result {
            Ok((freed, kept_locked)) => Applied {
                repository: repo_id.to_string(),
                removed: ids.len(),
                bytes_freed: freed,
                error: None,
                left: 0,
                kept_locked,
            },
            // Another writer is a reason to wait, not a failure of this repository.
            Err(e @ crate::error::AppError::Busy(_)) => return Err(e),
            Err(e) => Applied {
                repository: repo_id.to_string(),
                removed: 0,
                bytes_freed: 0,
                error: Some(e.to_string()),
                left: ids.len(),
                kept_locked: None,
            },
        });
    }
    Ok(applied)
}
