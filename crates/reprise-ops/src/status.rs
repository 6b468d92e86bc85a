//! `status`: per asset, the age of its last *verified* restore point against its RPO,
//! its last backup, and whether the 3-2-1 rule holds for its newest restore point.

use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;

use reprise_catalog::{Run, RunKind, RunStatus};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::AppResult;
use crate::snapshots::{PointView, group};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RpoStatus {
    Ok,
    AtRisk,
    Breached,
    /// No verified restore point at all.
    Never,
    /// No RPO is set.
    NoTarget,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssetStatus {
    pub asset: String,
    pub name: String,
    pub site: String,
    /// The asset's current state (the configuration's, or one recorded since).
    pub state: reprise_domain::AssetState,
    /// Since when (filled by [`run`]; `None` from [`compute`] alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_since: Option<Timestamp>,
    pub rpo: Option<String>,
    pub rpo_seconds: Option<u64>,
    /// Time of the newest restore point proven intact (the oldest over data sets).
    pub last_verified: Option<Timestamp>,
    pub last_verified_age_seconds: Option<i64>,
    pub rpo_status: RpoStatus,
    pub last_backup: Option<Timestamp>,
    pub last_backup_ok: Option<bool>,
    pub restore_points: usize,
    /// Copies of the newest restore point, counting the live data.
    pub copies: usize,
    pub media: usize,
    pub off_site: bool,
    pub rule_3_2_1: bool,
    /// What the repositories' labels claim that their places do not bear out (two on one
    /// filesystem or host, an "off-site" one on the workspace's disk).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub placement: Vec<String>,
}

/// Groups `items` by asset, keeping their order.
pub fn by_asset<'a, T>(
    items: &'a [T],
    asset: impl Fn(&'a T) -> &'a str,
) -> HashMap<&'a str, Vec<&'a T>> {
    let mut out: HashMap<&str, Vec<&T>> = HashMap::new();
    for item in items {
        out.entry(asset(item)).or_default().push(item);
    }
    out
}

/// Each asset's latest finished run, from runs listed newest first.
pub fn last_runs(runs: &[Run]) -> HashMap<&str, &Run> {
    let mut out: HashMap<&str, &Run> = HashMap::new();
    for run in runs.iter().filter(|r| r.status != RunStatus::Running) {
        if let Some(asset) = run.asset.as_deref() {
            out.entry(asset).or_insert(run);
        }
    }
    out
}

/// Each (asset, data set)'s latest finished run, from runs listed newest first: an
/// asset is as proven as its least proven data set.
pub fn last_runs_by_dataset(runs: &[Run]) -> HashMap<(&str, &str), &Run> {
    let mut out: HashMap<(&str, &str), &Run> = HashMap::new();
    for run in runs.iter().filter(|r| r.status != RunStatus::Running) {
        if let (Some(asset), Some(dataset)) = (run.asset.as_deref(), run.dataset.as_deref()) {
            out.entry((asset, dataset)).or_insert(run);
        }
    }
    out
}

/// Each asset's status at `now`, in inventory order.
pub async fn run(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<AssetStatus>> {
    let points = group(&crate::suspects::points(ctx, None).await?);
    let runs = ctx.catalog.latest_runs(RunKind::Backup).await?;
    let mut statuses = compute(ctx, now, &points, &last_runs(&runs));
    let current = crate::states::current(ctx.catalog, ctx.inventory()).await?;
    for s in &mut statuses {
        s.state_since = current.get(&s.asset).and_then(|c| c.since);
    }
    Ok(statuses)
}

/// Each asset's status at `now`, in inventory order, from the restore points and each
/// asset's latest finished backup (for callers that have read them already).
pub fn compute(
    ctx: &Ctx<'_>,
    now: Timestamp,
    points: &[PointView],
    last_runs: &HashMap<&str, &Run>,
) -> Vec<AssetStatus> {
    let inv = ctx.inventory();
    // Past this share of the RPO an asset is "at risk" (`[supervision] rpo_at_risk`).
    let at_risk = ctx.loaded.config.supervision.rpo_at_risk;
    let points_of = by_asset(points, |p| p.asset.as_str());
    let places = crate::places::Places::find(ctx.workspace(), &inv.repositories);
    let mut out = Vec::new();
    for asset in &inv.assets {
        let mine: Vec<&PointView> = points_of
            .get(asset.id.as_str())
            .cloned()
            .unwrap_or_default();
        // Per data set, the newest verified point; the asset is as old as its oldest.
        let mut verified: Option<Timestamp> = None;
        let mut all_sets_verified = !asset.datasets.is_empty();
        for set in &asset.datasets {
            let best = mine
                .iter()
                .filter(|p| p.dataset == set.name && p.trusted())
                .map(|p| p.time)
                .max();
            match best {
                Some(t) => verified = Some(verified.map_or(t, |v: Timestamp| v.min(t))),
                None => all_sets_verified = false,
            }
        }
        let verified = verified.filter(|_| all_sets_verified);
        let age = verified.map(|t| now.duration_since(t));
        let rpo_status = match (asset.rpo, age) {
            (None, _) => RpoStatus::NoTarget,
            (Some(_), None) => RpoStatus::Never,
            (Some(rpo), Some(age)) => {
                let rpo = SignedDuration::from_secs(rpo.as_secs() as i64);
                if age > rpo {
                    RpoStatus::Breached
                } else if age.as_secs_f64() > rpo.as_secs_f64() * at_risk {
                    RpoStatus::AtRisk
                } else {
                    RpoStatus::Ok
                }
            }
        };
        let last_run = last_runs.get(asset.id.as_str()).copied();
        let newest = mine.iter().max_by_key(|p| p.time);
        let spread = match newest {
            Some(p) => {
                let repos: Vec<_> = p
                    .copies
                    .iter()
                    .filter_map(|c| {
                        inv.repositories
                            .iter()
                            .find(|r| r.id.as_str() == c.repository)
                    })
                    .collect();
                crate::places::spread(&places, &repos)
            }
            None => crate::places::Spread {
                copies: 1,
                media: 1,
                off_site: false,
                warnings: Vec::new(),
            },
        };
        let (copies, media, off_site) = (spread.copies, spread.media, spread.off_site);
        out.push(AssetStatus {
            asset: asset.id.to_string(),
            name: asset.name.clone(),
            site: asset.site.to_string(),
            state: asset.state,
            state_since: None,
            rpo: asset.rpo.map(|r| r.to_string()),
            rpo_seconds: asset.rpo.map(|r| r.as_secs()),
            last_verified: verified,
            last_verified_age_seconds: age.map(|a| a.as_secs()),
            rpo_status,
            last_backup: last_run.map(|r| r.started),
            last_backup_ok: last_run.map(|r| r.status == RunStatus::Succeeded),
            restore_points: mine.len(),
            copies,
            media,
            off_site,
            rule_3_2_1: copies >= 3 && media >= 2 && off_site,
            placement: spread.warnings,
        });
    }
    out
}
