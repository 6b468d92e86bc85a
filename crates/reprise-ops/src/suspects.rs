//! Suspect restore points: every backup measures what it changed (files rewritten,
//! deleted, renamed, added; how its new data compressed; ransom-note names), judged
//! against the data set's own earlier backups. A backup that looks like an attack is
//! recorded suspect (journaled), and so is every later point of its data set, which holds
//! what the attack left: none of them is the last verified good point, nor chosen by a
//! restore, a plan, a request or a drill, until a person clears the suspicion (journaled,
//! with a reason). The newest point before the first suspect one is the last clean point.

use std::collections::BTreeMap;

use jiff::Timestamp;
use reprise_catalog::{RestorePoint, RunFilter, RunKind, RunStatus, Suspicion};
use reprise_domain::incident::{IncidentDoc, is_compromise};
use reprise_domain::signals::{self, Counts, Signals};
use reprise_engine::SnapshotInfo;

use crate::context::Ctx;
use crate::error::{AppError, AppResult};

/// How many of a data set's earlier backups a new one is judged against.
const HISTORY: usize = 30;

/// The name patterns every backup looks for in its new files: the built-in ones and
/// `[supervision] ransom_names`.
pub fn patterns(ctx: &Ctx<'_>) -> Vec<String> {
    signals::RANSOM_NAMES
        .iter()
        .map(|p| p.to_string())
        .chain(ctx.loaded.config.supervision.ransom_names.iter().cloned())
        .collect()
}

/// The signals of a backup just made, if it measured them.
pub fn measured(snap: &SnapshotInfo) -> Option<Signals> {
    let c = snap.changes.as_ref()?;
    Some(Signals::measure(
        Counts {
            files_before: c.files_before,
            added: c.added,
            changed: c.changed,
            deleted: c.deleted,
            renamed: c.renamed,
            new_bytes: c.new_bytes,
            new_bytes_packed: c.new_bytes_packed,
        },
        c.suspicious_names.clone(),
    ))
}

/// The signals an earlier run recorded in its detail.
fn recorded(detail: Option<&str>) -> Option<Signals> {
    let value: serde_json::Value = serde_json::from_str(detail?).ok()?;
    serde_json::from_value(value.get("signals")?.clone()).ok()
}

/// Judges `now` against the data set's earlier backups and records the point suspect
/// when it looks like an attack. Returns the reasons (empty when it does not).
pub async fn judge(
    ctx: &Ctx<'_>,
    asset: &str,
    dataset: &str,
    repository: &str,
    snap: &SnapshotInfo,
    now: &Signals,
) -> AppResult<Vec<String>> {
    // The newest runs of the asset, enough to hold each data set's history twice over.
    let sets = ctx.asset(asset).map_or(1, |a| a.datasets.len().max(1));
    let runs = ctx
        .catalog
        .runs(&RunFilter {
            asset: Some(asset.to_string()),
            kind: Some(RunKind::Backup),
            limit: Some(u32::try_from(sets * HISTORY * 2).unwrap_or(u32::MAX)),
        })
        .await?;
    let history: Vec<Signals> = runs
        .iter()
        .filter(|r| r.dataset.as_deref() == Some(dataset) && r.status == RunStatus::Succeeded)
        .filter_map(|r| recorded(r.detail.as_deref()))
        .take(HISTORY)
        .collect();
    let reasons = signals::judge(&history, now);
    if !reasons.is_empty() {
        ctx.catalog
            .record_suspicion(&Suspicion {
                asset: asset.to_string(),
                dataset: dataset.to_string(),
                time: snap.time,
                repository: repository.to_string(),
                snapshot: snap.id.clone(),
                at: Timestamp::now(),
                reasons: reasons.join("; "),
                signals: serde_json::to_string(now).ok(),
                cleared: None,
                cleared_by: None,
                clearance: None,
            })
            .await?;
    }
    Ok(reasons)
}

/// Marks every point taken after a data set's first suspect one as suspect too: it holds
/// what the attack left.
pub fn taint(points: &mut [RestorePoint]) {
    let all = points.to_vec();
    taint_from(&all, points);
}

/// Marks the points of `points` taken after the first suspect one of `all` in their data
/// sets.
fn taint_from(all: &[RestorePoint], points: &mut [RestorePoint]) {
    let mut first: BTreeMap<(String, String), Timestamp> = BTreeMap::new();
    for p in all.iter().filter(|p| p.suspect.is_some()) {
        let at = first
            .entry((p.asset.clone(), p.dataset.clone()))
            .or_insert(p.time);
        *at = (*at).min(p.time);
    }
    for p in points.iter_mut().filter(|p| p.suspect.is_none()) {
        if let Some(since) = first.get(&(p.asset.clone(), p.dataset.clone()))
            && p.time > *since
        {
            p.suspect = Some(format!("taken after the suspect backup of {since}"));
        }
    }
}

/// The restore points of `asset` (all when `None`), oldest first, suspect ones marked,
/// later points of their data sets included.
pub async fn points(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<Vec<RestorePoint>> {
    let mut points = ctx.catalog.restore_points(asset).await?;
    taint(&mut points);
    Ok(points)
}

/// An open incident's compromise of an asset: what was backed up since it began holds
/// what the intruder left.
#[derive(Debug, Clone)]
pub struct Compromise {
    pub incident: i64,
    pub asset: String,
    pub nature: String,
    pub since: Timestamp,
}

/// The compromises that open incidents report (of `asset`, all when `None`): affected
/// assets whose nature of damage is a compromise (`ransomware`, `intrusion`…), since the
/// time they are affected from.
pub async fn compromises(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<Vec<Compromise>> {
    let mut out = Vec::new();
    for row in ctx.catalog.incidents(true).await? {
        let Ok(doc) = serde_json::from_str::<IncidentDoc>(&row.doc) else {
            continue;
        };
        for a in doc.affected {
            if asset.is_some_and(|id| id != a.asset) {
                continue;
            }
            if let Some(nature) = a.nature.filter(|n| is_compromise(n)) {
                out.push(Compromise {
                    incident: row.id,
                    asset: a.asset,
                    nature,
                    since: a.since.unwrap_or(row.opened),
                });
            }
        }
    }
    Ok(out)
}

/// Records as suspect every restore point of a compromised asset taken since its
/// compromise began (of `asset`, all when `None`), so that no restore, plan, request or
/// drill picks one by default and the last clean point is the one before. Points already
/// suspect, or cleared by a person, keep their record. Returns how many were recorded.
pub async fn mark_compromised(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<usize> {
    let windows = compromises(ctx, asset).await?;
    if windows.is_empty() {
        return Ok(0);
    }
    let mut known: std::collections::BTreeSet<(String, String, Timestamp)> = ctx
        .catalog
        .suspicions(asset)
        .await?
        .into_iter()
        .map(|s| (s.asset, s.dataset, s.time))
        .collect();
    let points = ctx.catalog.restore_points(asset).await?;
    let mut recorded = 0;
    for p in &points {
        if !known.insert((p.asset.clone(), p.dataset.clone(), p.time)) {
            continue;
        }
        // The earliest compromise that covers the point says why.
        let Some(w) = windows
            .iter()
            .filter(|w| w.asset == p.asset && p.time >= w.since)
            .min_by_key(|w| w.since)
        else {
            continue;
        };
        ctx.catalog
            .record_suspicion(&compromised(
                w,
                &p.asset,
                &p.dataset,
                p.time,
                &p.repository,
                &p.snapshot,
            ))
            .await?;
        recorded += 1;
    }
    Ok(recorded)
}

/// A backup just made of an asset an open incident says is compromised since before it:
/// recorded suspect, and why.
pub async fn judge_compromise(
    ctx: &Ctx<'_>,
    asset: &str,
    dataset: &str,
    repository: &str,
    snap: &SnapshotInfo,
) -> AppResult<Option<String>> {
    let windows = compromises(ctx, Some(asset)).await?;
    let Some(w) = windows
        .iter()
        .filter(|w| snap.time >= w.since)
        .min_by_key(|w| w.since)
    else {
        return Ok(None);
    };
    let suspicion = compromised(w, asset, dataset, snap.time, repository, &snap.id);
    ctx.catalog.record_suspicion(&suspicion).await?;
    Ok(Some(suspicion.reasons))
}

/// The suspicion of a point taken during the compromise `w`.
fn compromised(
    w: &Compromise,
    asset: &str,
    dataset: &str,
    time: Timestamp,
    repository: &str,
    snapshot: &str,
) -> Suspicion {
    Suspicion {
        asset: asset.to_string(),
        dataset: dataset.to_string(),
        time,
        repository: repository.to_string(),
        snapshot: snapshot.to_string(),
        at: Timestamp::now(),
        reasons: format!(
            "taken since the {} of incident {} began ({})",
            w.nature, w.incident, w.since
        ),
        signals: None,
        cleared: None,
        cleared_by: None,
        clearance: None,
    }
}

/// Suspicions, cleared ones too, oldest first.
pub async fn list(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<Vec<Suspicion>> {
    if let Some(a) = asset {
        ctx.asset(a)?;
    }
    Ok(ctx.catalog.suspicions(asset).await?)
}

/// Clears the suspicion on the backup `snapshot` (an id or its first characters) after a
/// person checked it: journaled with who and why.
pub async fn clear(
    ctx: &Ctx<'_>,
    snapshot: &str,
    reason: &str,
    actor: &str,
) -> AppResult<Suspicion> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Invalid(
            "say what was checked and why the point can be trusted, with --reason".into(),
        ));
    }
    let prefix = snapshot.trim();
    if prefix.len() < 4 {
        return Err(AppError::Invalid(format!(
            "`{prefix}`: give at least 4 characters of the snapshot's id"
        )));
    }
    let points = ctx.catalog.restore_points(None).await?;
    let mut found: Vec<&RestorePoint> = points
        .iter()
        .filter(|p| p.snapshot.starts_with(prefix))
        .collect();
    found.dedup_by(|a, b| a.asset == b.asset && a.dataset == b.dataset && a.time == b.time);
    let point = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(AppError::NotFound(format!(
                "no restore point `{prefix}` (`reprise snapshots` lists them)"
            )));
        }
        _ => {
            return Err(AppError::Invalid(format!(
                "`{prefix}` matches several restore points: give more characters"
            )));
        }
    };
    let open = ctx
        .catalog
        .suspicions(Some(&point.asset))
        .await?
        .into_iter()
        .find(|s| s.dataset == point.dataset && s.time == point.time && s.cleared.is_none());
    let Some(mut suspicion) = open else {
        let mut tainted = vec![point.clone()];
        taint_from(&points, &mut tainted);
        return Err(AppError::Invalid(match &tainted[0].suspect {
            Some(why) => format!(
                "restore point `{prefix}` of {}/{} is suspect only as {why}: clear that one",
                point.asset, point.dataset
            ),
            None => format!(
                "restore point `{prefix}` of {}/{} is not suspect",
                point.asset, point.dataset
            ),
        }));
    };
    let at = Timestamp::now();
    ctx.catalog
        .clear_suspicion(&point.asset, &point.dataset, point.time, at, actor, reason)
        .await?;
    suspicion.cleared = Some(at);
    suspicion.cleared_by = Some(actor.to_string());
    suspicion.clearance = Some(reason.to_string());
    Ok(suspicion)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(dataset: &str, at: i64, suspect: Option<&str>) -> RestorePoint {
        RestorePoint {
            repository: "local".into(),
            snapshot: format!("{dataset}{at}"),
            asset: "files".into(),
            dataset: dataset.into(),
            policy: None,
            time: Timestamp::from_second(at).unwrap(),
            files: None,
            bytes: None,
            bytes_added: None,
            verified: None,
            failed: None,
            failure: None,
            suspect: suspect.map(str::to_string),
        }
    }

    #[test]
    fn points_after_a_suspect_one_are_suspect_and_other_data_sets_are_not() {
        let mut points = vec![
            point("docs", 10, None),
            point("docs", 20, Some("rewritten")),
            point("docs", 30, None),
            point("db", 30, None),
        ];
        taint(&mut points);
        let suspect: Vec<bool> = points.iter().map(|p| p.suspect.is_some()).collect();
        assert_eq!(suspect, [false, true, true, false]);
        assert!(
            points[2]
                .suspect
                .as_deref()
                .unwrap()
                .starts_with("taken after the suspect backup of 1970-01-01T00:00:20Z")
        );
    }
}
