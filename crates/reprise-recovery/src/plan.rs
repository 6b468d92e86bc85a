//! `plan`: the recovery plan for the situation at hand (the assets the inventory says are
//! failed or partial) or for a simulated one ("what if these fail?"), with each step's
//! restore points and a predicted duration drawn from what was measured.
//!
//! Predictions, per asset: the measured duration of its latest successful restore of
//! each data set; else its restore points' size at the repository's measured restore
//! throughput (else `[recovery] assumed_throughput`); plus `[recovery] manual_step` when
//! the asset has a manual procedure or nothing to restore.

use std::collections::HashMap;

use jiff::Timestamp;
use reprise_catalog::{Run, RunFilter, RunKind, RunStatus};
use reprise_domain::AssetState;
use reprise_domain::plan::{self, Plan, PlanError, PlanRequest};
use serde::Serialize;

use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::snapshots::{Integrity, PointView, group};
use reprise_workspace::text::human;

#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Assets to treat as failed; empty: the inventory's failed and partial assets.
    pub simulate: Vec<String>,
    /// Only the top tier, with stand-in actions (R000.2).
    pub minimal: bool,
    /// Overrides `[recovery] technicians`.
    pub technicians: Option<u32>,
}

/// The restore point a restore step will use.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedPoint {
    pub dataset: String,
    pub snapshot: String,
    pub repository: String,
    pub time: Timestamp,
    pub integrity: Integrity,
}

/// How a step's duration was predicted, in words.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub asset: String,
    pub seconds: u64,
    pub basis: String,
    pub basis_fr: String,
    /// The restore points a restore step will use (the newest verified per data set,
    /// else the newest).
    pub points: Vec<PlannedPoint>,
    /// Data sets with no restore point at all: their step cannot restore them.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanView {
    pub simulated: bool,
    #[serde(flatten)]
    pub plan: Plan,
    pub estimates: Vec<Estimate>,
}

pub async fn compute(ctx: &Ctx<'_>, opts: &PlanOptions) -> AppResult<PlanView> {
    let inv = ctx.inventory();
    let scope: Vec<(String, AssetState)> = if opts.simulate.is_empty() {
        inv.assets
            .iter()
            .filter(|a| a.state != AssetState::Working)
            .map(|a| (a.id.to_string(), a.state))
            .collect()
    } else {
        let mut scope = Vec::new();
        for id in &opts.simulate {
            let asset = ctx.asset(id)?;
            scope.push((asset.id.to_string(), AssetState::Failed));
        }
        scope
    };
    if scope.is_empty() {
        return Err(AppError::Invalid(
            "nothing to recover: every asset is working (ask \"what if?\" with `reprise plan --simulate ASSET…`)".into(),
        ));
    }
    let estimates = estimate(ctx, &scope).await?;
    let durations: HashMap<String, u64> = estimates
        .iter()
        .map(|e| (e.asset.clone(), e.seconds))
        .collect();
    let settings = &ctx.loaded.config.recovery;
    let plan = plan::compute(
        inv,
        &PlanRequest {
            scope,
            rules: &ctx.loaded.config.priority_rules,
            technicians: opts.technicians.unwrap_or(settings.technicians).max(1) as usize,
            durations: &durations,
            default_seconds: settings.manual_step.as_secs(),
            minimal: opts.minimal,
        },
    )
    .map_err(|e| match e {
        PlanError::Empty => AppError::Invalid(e.to_string()),
        other => AppError::Invalid(format!("cannot plan: {other}")),
    })?;
    let in_plan: Vec<&str> = plan.steps.iter().map(|s| s.asset.as_str()).collect();
    let estimates = estimates
        .into_iter()
        .filter(|e| in_plan.contains(&e.asset.as_str()))
        .collect();
    Ok(PlanView {
        simulated: !opts.simulate.is_empty(),
        plan,
        estimates,
    })
}

/// Predicted durations of the assets in `scope`, with their basis.
async fn estimate(ctx: &Ctx<'_>, scope: &[(String, AssetState)]) -> AppResult<Vec<Estimate>> {
    let settings = &ctx.loaded.config.recovery;
    let restores: Vec<Run> = ctx
        .catalog
        .runs(&RunFilter {
            kind: Some(RunKind::Restore),
            limit: Some(5000),
            ..RunFilter::default()
        })
        .await?
        .into_iter()
        .filter(|r| r.status == RunStatus::Succeeded)
        .collect();
    let throughput = measured_throughput(&restores);
    let points = group(&reprise_ops::suspects::points(ctx, None).await?);
    let points_of = reprise_ops::status::by_asset(&points, |p| p.asset.as_str());
    let manual = settings.manual_step.as_secs();
    let mut out = Vec::new();
    for (id, _) in scope {
        let Some(asset) = ctx.inventory().asset(id) else {
            continue;
        };
        let mine: Vec<&PointView> = points_of.get(id.as_str()).cloned().unwrap_or_default();
        let mut seconds = 0u64;
        let mut basis = Vec::new();
        let mut basis_fr = Vec::new();
        let mut planned = Vec::new();
        let mut missing = Vec::new();
        for set in &asset.datasets {
            let candidates: Vec<&&PointView> =
                mine.iter().filter(|p| p.dataset == set.name).collect();
            // Never a suspect point: the newest trusted one, else the newest clean one.
            let best = candidates
                .iter()
                .filter(|p| p.trusted())
                .max_by_key(|p| p.time)
                .or_else(|| {
                    candidates
                        .iter()
                        .filter(|p| p.suspect.is_none())
                        .max_by_key(|p| p.time)
                });
            let Some(point) = best else {
                missing.push(set.name.clone());
                continue;
            };
            if let Some(skipped) = candidates
                .iter()
                .filter(|p| p.suspect.is_some() && p.time > point.time)
                .min_by_key(|p| p.time)
            {
                basis.push(format!(
                    "{}: the last clean point, not the suspect ones since {} ({})",
                    set.name,
                    skipped.time,
                    skipped.suspect.as_deref().unwrap_or_default()
                ));
                basis_fr.push(format!(
                    "{} : le dernier point sain, pas les points suspects depuis {} ({})",
                    set.name,
                    skipped.time,
                    skipped.suspect.as_deref().unwrap_or_default()
                ));
            }
            if let Some(copy) = point.copies.first() {
                planned.push(PlannedPoint {
                    dataset: set.name.clone(),
                    snapshot: copy.snapshot.clone(),
                    repository: copy.repository.clone(),
                    time: point.time,
                    integrity: point.integrity.clone(),
                });
            }
            let measured = restores.iter().find(|r| {
                r.asset.as_deref() == Some(id.as_str()) && r.dataset.as_deref() == Some(&set.name)
            });
            match measured.and_then(|r| r.duration()) {
                Some(d) => {
                    let s = d.as_secs().max(1) as u64;
                    seconds += s;
                    basis.push(format!("{}: measured restore {}", set.name, human(s)));
                    basis_fr.push(format!("{} : restauration mesurée {}", set.name, human(s)));
                }
                None => {
                    let bytes = point.bytes.unwrap_or(0);
                    let (rate, measured) = match throughput {
                        Some(t) => (t, true),
                        None => (settings.assumed_throughput as f64, false),
                    };
                    let s = ((bytes as f64 / rate).ceil() as u64).max(1);
                    seconds += s;
                    let how = if measured { "measured" } else { "assumed" };
                    let how_fr = if measured { "mesuré" } else { "supposé" };
                    basis.push(format!(
                        "{}: {} at {} ({how}) ≈ {}",
                        set.name,
                        size(bytes),
                        rate_text(rate),
                        human(s)
                    ));
                    basis_fr.push(format!(
                        "{} : {} à {} ({how_fr}) ≈ {}",
                        set.name,
                        size(bytes),
                        rate_text(rate),
                        human(s)
                    ));
                }
            }
        }
        if asset.procedure.is_some() || asset.datasets.is_empty() {
            seconds += manual;
            basis.push(format!("manual action {}", human(manual)));
            basis_fr.push(format!("action manuelle {}", human(manual)));
        }
        out.push(Estimate {
            asset: id.clone(),
            seconds,
            basis: basis.join(" + "),
            basis_fr: basis_fr.join(" + "),
            points: planned,
            missing,
        });
    }
    Ok(out)
}

/// Bytes per second of the recent successful restores, as their median.
fn measured_throughput(restores: &[Run]) -> Option<f64> {
    let mut rates: Vec<f64> = restores
        .iter()
        .filter_map(|r| {
            let bytes = r.bytes_read? as f64;
            let secs = r.duration()?.as_secs_f64();
            (bytes > 1_000_000.0 && secs > 0.0).then_some(bytes / secs)
        })
        .take(50)
        .collect();
    if rates.is_empty() {
        return None;
    }
    rates.sort_by(f64::total_cmp);
    Some(rates[rates.len() / 2])
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b if b < 1024 * 1024 * 1024 => format!("{:.1} MiB", b as f64 / 1024.0 / 1024.0),
        b => format!("{:.1} GiB", b as f64 / 1024.0 / 1024.0 / 1024.0),
    }
}

fn rate_text(bytes_per_second: f64) -> String {
    format!("{:.0} MiB/s", bytes_per_second / 1024.0 / 1024.0)
}
