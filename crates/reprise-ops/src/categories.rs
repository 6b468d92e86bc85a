//! Data categories as they stand (R002.1, R002.3): per category, its bounds, the data
//! sets in it, and where their restore points are — every repository, copies included —
//! with the oldest one and until when it may be kept.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use reprise_domain::{DataCategory, Interval};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::AppResult;

/// One category and what it holds.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryView {
    pub name: String,
    pub description: Option<String>,
    pub min_retention: Option<Interval>,
    pub max_retention: Option<Interval>,
    pub datasets: Vec<DataSetHolding>,
}

/// One data set of the category and its policy.
#[derive(Debug, Clone, Serialize)]
pub struct DataSetHolding {
    pub asset: String,
    pub site: String,
    pub dataset: String,
    pub policy: Option<String>,
    /// The longest a restore point stays under the policy capped by the category
    /// (`None`: no bound at all).
    pub kept_for: Option<Interval>,
    pub copies: Vec<Copy>,
}

/// The restore points of a data set in one repository.
#[derive(Debug, Clone, Serialize)]
pub struct Copy {
    pub repository: String,
    pub medium: Option<String>,
    pub location: Option<String>,
    pub points: usize,
    /// The size of its largest restore point.
    pub bytes: u64,
    pub oldest: Timestamp,
    pub newest: Timestamp,
    /// When the oldest point reaches its maximum retention and is purged.
    pub oldest_until: Option<Timestamp>,
}

/// Every category (built-in, declared, then `(none)` for data sets without one if any),
/// from the restore points the catalog knows.
pub async fn list(ctx: &Ctx<'_>) -> AppResult<Vec<CategoryView>> {
    let inv = ctx.inventory();
    let mut views: Vec<CategoryView> = inv
        .all_categories()
        .into_iter()
        .map(|c| view_of(&c))
        .collect();
    let mut points: BTreeMap<(String, String), Vec<reprise_catalog::RestorePoint>> =
        BTreeMap::new();
    for p in ctx.catalog.restore_points(None).await? {
        points
            .entry((p.asset.clone(), p.dataset.clone()))
            .or_default()
            .push(p);
    }
    for asset in &inv.assets {
        let policy = ctx.policy_of(asset).ok();
        for set in &asset.datasets {
            let name = set.category.clone().unwrap_or_else(|| "(none)".to_string());
            let category = inv.category(&name);
            let kept_for = policy.and_then(|p| {
                p.retention
                    .bounded_by(category.as_ref())
                    .longest_kept(p.schedule.longest_gap())
            });
            let mut by_repo: BTreeMap<&str, Vec<&reprise_catalog::RestorePoint>> = BTreeMap::new();
            for p in points
                .get(&(asset.id.to_string(), set.name.clone()))
                .into_iter()
                .flatten()
            {
                by_repo.entry(p.repository.as_str()).or_default().push(p);
            }
            let copies = by_repo
                .into_iter()
                .map(|(repo, pts)| {
                    let config = ctx.repository(repo).ok();
                    let oldest = pts.iter().map(|p| p.time).min().expect("non-empty");
                    Copy {
                        repository: repo.to_string(),
                        medium: config.map(|r| r.medium.clone()),
                        location: config.map(|r| r.location.as_str().to_string()),
                        points: pts.len(),
                        bytes: pts.iter().filter_map(|p| p.bytes).max().unwrap_or(0),
                        oldest,
                        newest: pts.iter().map(|p| p.time).max().expect("non-empty"),
                        oldest_until: kept_for.and_then(|k| {
                            oldest
                                .checked_add(SignedDuration::from_secs(k.as_secs() as i64))
                                .ok()
                        }),
                    }
                })
                .collect();
            let holding = DataSetHolding {
                asset: asset.id.to_string(),
                site: asset.site.to_string(),
                dataset: set.name.clone(),
                policy: policy.map(|p| p.id.to_string()),
                kept_for,
                copies,
            };
            match views.iter_mut().find(|v| v.name == name) {
                Some(v) => v.datasets.push(holding),
                None => {
                    let mut v = view_of(&DataCategory {
                        name,
                        description: None,
                        min_retention: None,
                        max_retention: None,
                    });
                    v.datasets.push(holding);
                    views.push(v);
                }
            }
        }
    }
    Ok(views)
}

fn view_of(c: &DataCategory) -> CategoryView {
    CategoryView {
        name: c.name.clone(),
        description: c.description.clone(),
        min_retention: c.min_retention,
        max_retention: c.max_retention,
        datasets: Vec::new(),
    }
}
