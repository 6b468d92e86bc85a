//! `backup`: every data set of the selected assets into its policy's repository, then
//! copied to the policy's other repositories (3-2-1). One data set failing does not stop
//! the others; every run is recorded with its outcome.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reprise_catalog::{NewRun, RunKind, RunOutcome, RunStatus};
use reprise_domain::{Asset, DataSet, DataSource, Interval};
use reprise_engine::{BackupRequest, BackupSource, Repo};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::repos::{self, blocking};
use reprise_workspace::workspace::STATE_DIR;

/// Which assets to back up.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub assets: Vec<String>,
    pub all: bool,
    pub site: Option<String>,
    /// Why this backup runs (`schedule`, `after change: new firmware`), kept with each run.
    pub reason: Option<String>,
    /// Only these data sets of the assets (all when empty).
    pub datasets: Vec<String>,
    /// Device configurations already read (asset, data set, bytes): backed up as they are
    /// instead of reading the device again.
    pub collected: Vec<(String, String, Vec<u8>)>,
}

/// The outcome of backing up one data set.
#[derive(Debug, Clone, Serialize)]
pub struct DataSetOutcome {
    pub asset: String,
    pub dataset: String,
    pub repository: String,
    pub ok: bool,
    pub snapshot: Option<String>,
    pub files: Option<u64>,
    pub bytes: Option<u64>,
    pub bytes_added: Option<u64>,
    pub seconds: f64,
    /// Repositories the new restore point was copied to.
    pub copied_to: Vec<String>,
    pub error: Option<String>,
    /// Why the new restore point looks like an attack (it is then suspect).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspect: Vec<String>,
}

impl DataSetOutcome {
    /// A data set's backup not done yet: nothing stored, no error.
    pub fn new(asset: &str, dataset: &str, repository: &str) -> Self {
        Self {
            asset: asset.to_string(),
            dataset: dataset.to_string(),
            repository: repository.to_string(),
            ok: false,
            snapshot: None,
            files: None,
            bytes: None,
            bytes_added: None,
            seconds: 0.0,
            copied_to: vec![],
            error: None,
            suspect: vec![],
        }
    }
}

/// Resolves a selection to assets, in inventory order.
pub fn select<'a>(ctx: &'a Ctx<'_>, selection: &Selection) -> AppResult<Vec<&'a Asset>> {
    let inv = ctx.inventory();
    if let Some(site) = &selection.site
        && inv.site(site).is_none()
    {
        return Err(AppError::Invalid(format!("no site `{site}`")));
    }
    for id in &selection.assets {
        ctx.asset(id)?;
    }
    if selection.assets.is_empty() && !selection.all && selection.site.is_none() {
        return Err(AppError::Invalid(
            "name the assets to back up, or pass --all or --site SITE".into(),
        ));
    }
    Ok(inv
        .assets
        .iter()
        .filter(|a| {
            selection.all
                || selection.assets.iter().any(|id| id == a.id.as_str())
                || selection.site.as_deref() == Some(a.site.as_str())
        })
        .collect())
}

/// Backs up the selected assets. `reason` is recorded with each run (`after change:
/// firmware upgrade`).
pub async fn run(ctx: &Ctx<'_>, selection: &Selection) -> AppResult<Vec<DataSetOutcome>> {
    let assets = select(ctx, selection)?;
    if let [only] = assets.as_slice()
        && only.datasets.is_empty()
    {
        return Err(AppError::Invalid(format!(
            "asset `{}` has no data set to back up",
            only.id
        )));
    }
    let mut open: BTreeMap<String, Arc<Repo>> = BTreeMap::new();
    let mut touched: Vec<String> = Vec::new();
    let mut outcomes = Vec::new();
    for asset in assets {
        if asset.datasets.is_empty() {
            continue;
        }
        let policy = ctx.policy_of(asset)?;
        if let Some(host) = asset.host() {
            // Its data is on another machine: the server's files of the same name are
            // not it. The host's agent backs it up; `--all` or a site leaves it to it,
            // naming it is asking the wrong machine.
            if !selection.assets.iter().any(|a| a == asset.id.as_str()) {
                continue;
            }
            let why = format!(
                "its data is on host `{host}`: the host's agent backs it up (`reprise agent backup {}` queues one now)",
                asset.id
            );
            outcomes.extend(not_run(asset, &policy.repository.to_string(), &why));
            continue;
        }
        let lease = crate::leases::backup_key(asset.id.as_str());
        if !crate::leases::acquire(ctx.catalog, &lease).await? {
            // Another process is backing this asset up right now (running it twice
            // would only waste a backup window), or pruning its repository.
            outcomes.extend(not_run(
                asset,
                &policy.repository.to_string(),
                "another process is backing this asset up, or pruning its repository, right now",
            ));
            continue;
        }
        // Renewed while it runs: a long backup keeps its lease.
        let every_set = async {
            for set in asset
                .datasets
                .iter()
                .filter(|s| selection.datasets.is_empty() || selection.datasets.contains(&s.name))
            {
                let target = policy.repository.to_string();
                let outcome = back_up_one(
                    ctx,
                    asset,
                    set,
                    &policy.id.to_string(),
                    &target,
                    selection,
                    &mut open,
                )
                .await;
                let mut outcome = match outcome {
                    Ok(o) => o,
                    Err((o, _)) => o,
                };
                if !touched.contains(&target) {
                    touched.push(target.clone());
                }
                if let (true, Some(snapshot)) = (outcome.ok, outcome.snapshot.clone()) {
                    for copy in &policy.copy_to {
                        let copy = copy.to_string();
                        match copy_one(ctx, asset, set, &target, &copy, &snapshot, &mut open).await
                        {
                            Ok(()) => outcome.copied_to.push(copy.clone()),
                            Err(e) => {
                                outcome.ok = false;
                                let message = format!("copy to `{copy}` failed: {e}");
                                outcome.error = Some(match outcome.error.take() {
                                    Some(earlier) => format!("{earlier}; {message}"),
                                    None => message,
                                });
                            }
                        }
                        if !touched.contains(&copy) {
                            touched.push(copy);
                        }
                    }
                }
                outcomes.push(outcome);
            }
        };
        crate::leases::renewing(ctx.catalog, std::slice::from_ref(&lease), every_set).await;
        crate::leases::release(ctx.catalog, &lease).await?;
    }
    for id in touched {
        if let Some(repo) = open.get(&id) {
            crate::points::sync(ctx, &id, repo.clone()).await?;
        }
    }
    Ok(outcomes)
}

/// Every data set of `asset`, not backed up, and why.
fn not_run(asset: &Asset, repository: &str, why: &str) -> Vec<DataSetOutcome> {
    asset
        .datasets
        .iter()
        .map(|set| DataSetOutcome {
            error: Some(why.to_string()),
            ..DataSetOutcome::new(asset.id.as_str(), &set.name, repository)
        })
        .collect()
}

async fn repo_for(
    ctx: &Ctx<'_>,
    id: &str,
    open: &mut BTreeMap<String, Arc<Repo>>,
) -> AppResult<Arc<Repo>> {
    if let Some(repo) = open.get(id) {
        return Ok(repo.clone());
    }
    let config = ctx.repository(id)?;
    let repo = repos::open(ctx.workspace(), config, ctx.progress.clone()).await?;
    open.insert(id.to_string(), repo.clone());
    Ok(repo)
}

/// Backs up one data set; on failure the outcome carries the error in words.
async fn back_up_one(
    ctx: &Ctx<'_>,
    asset: &Asset,
    set: &DataSet,
    policy: &str,
    repository: &str,
    selection: &Selection,
    open: &mut BTreeMap<String, Arc<Repo>>,
) -> Result<DataSetOutcome, (DataSetOutcome, AppError)> {
    let reason = selection.reason.as_deref();
    let collected = selection
        .collected
        .iter()
        .find(|(a, d, _)| a == asset.id.as_str() && *d == set.name)
        .map(|(_, _, bytes)| bytes.clone());
    let started = Timestamp::now();
    let clock = Instant::now();
    let mut outcome = DataSetOutcome::new(asset.id.as_str(), &set.name, repository);
    let run_id = ctx
        .catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Backup),
            asset: Some(asset.id.to_string()),
            dataset: Some(set.name.clone()),
            repository: Some(repository.to_string()),
            started: Some(started),
        })
        .await;
    let result = attempt(ctx, asset, set, policy, repository, collected, open).await;
    outcome.seconds = clock.elapsed().as_secs_f64();
    record(
        ctx,
        run_id.ok(),
        &set.name,
        reason,
        &result,
        &mut outcome,
        ("backup", None),
    )
    .await;
    match result {
        Ok(_) => Ok(outcome),
        Err(e) => Err((outcome, e)),
    }
}

/// Records what came of a backup (made here, or by a host's agent): its run, the
/// restore point's provenance (`made_by`: how and by whom), its signals judged against
/// the data set's history, and whether an open incident makes it suspect.
pub async fn record(
    ctx: &Ctx<'_>,
    run_id: Option<i64>,
    dataset: &str,
    reason: Option<&str>,
    result: &Result<reprise_engine::SnapshotInfo, AppError>,
    outcome: &mut DataSetOutcome,
    made_by: (&str, Option<&str>),
) {
    let repository = outcome.repository.clone();
    let mut record = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
    let mut detail = serde_json::Map::new();
    if let Some(r) = reason {
        detail.insert("reason".into(), r.into());
    }
    match result {
        Ok(snap) => {
            outcome.ok = true;
            outcome.snapshot = Some(snap.id.clone());
            outcome.files = snap.files;
            outcome.bytes = snap.bytes;
            outcome.bytes_added = snap.bytes_added;
            record.snapshot = Some(snap.id.clone());
            record.files = snap.files;
            record.bytes_read = snap.bytes;
            record.bytes_added = snap.bytes_added;
        }
        Err(e) => {
            outcome.error = Some(e.to_string());
            record.status = RunStatus::Failed;
            record.error = Some(e.to_string());
        }
    }
    if let Ok(snap) = result {
        // Made by Reprise (here, or by the host's agent): a restore point. A snapshot
        // written by anyone else is not.
        let _ = crate::points::trust(ctx, &repository, &snap.id, made_by.0, made_by.1, None).await;
        if let Some(signals) = crate::suspects::measured(snap) {
            // Judged before this run is recorded: against the earlier ones only.
            // A catalog failing here shows when the run is recorded, just below.
            outcome.suspect =
                crate::suspects::judge(ctx, &outcome.asset, dataset, &repository, snap, &signals)
                    .await
                    .unwrap_or_default();
            if let Ok(value) = serde_json::to_value(&signals) {
                detail.insert("signals".into(), value);
            }
            if let Some(changes) = &snap.changes {
                detail.insert("signals_ms".into(), changes.measured_ms.into());
            }
        }
        // Whatever it changed, a backup of a host an open incident says is compromised
        // holds what the intruder left.
        if outcome.suspect.is_empty()
            && let Ok(Some(why)) =
                crate::suspects::judge_compromise(ctx, &outcome.asset, dataset, &repository, snap)
                    .await
        {
            outcome.suspect.push(why);
        }
    }
    record.detail = (!detail.is_empty()).then(|| serde_json::Value::Object(detail).to_string());
    if let Some(id) = run_id {
        // A catalog that fails here must not hide the backup's own result.
        let _ = ctx.catalog.finish_run(id, &record).await;
    }
}

async fn attempt(
    ctx: &Ctx<'_>,
    asset: &Asset,
    set: &DataSet,
    policy: &str,
    repository: &str,
    collected: Option<Vec<u8>>,
    open: &mut BTreeMap<String, Arc<Repo>>,
) -> AppResult<reprise_engine::SnapshotInfo> {
    let root = ctx.workspace().root.clone();
    let user = ctx.loaded.config.server.commands_user.as_deref();
    let repo = repo_for(ctx, repository, open).await?;
    if let Some(hook) = &set.pre_hook {
        hook_run(&root, hook, asset, set, None, user).await?;
    }
    let staged_dir = root
        .join(STATE_DIR)
        .join("staging")
        .join(asset.id.as_str())
        .join(&set.name);
    let mut reading_kept = None;
    let source = match &set.source {
        DataSource::Paths { paths, exclude } => BackupSource::Paths {
            paths: paths.iter().map(|p| ctx.workspace().resolve(p)).collect(),
            exclude: exclude.clone(),
        },
        DataSource::Command {
            command,
            filename,
            timeout,
        } => {
            let staged = staged_dir.join(filename);
            capture(&root, command, &staged, *timeout, user)
                .await
                .map_err(|e| {
                    AppError::Failed(format!(
                        "asset `{}`, data set `{}`: {e}",
                        asset.id, set.name
                    ))
                })?;
            BackupSource::File {
                staged,
                as_path: format!("/{filename}"),
            }
        }
        DataSource::Device { filename, .. } => {
            let device = crate::devices::find(ctx, asset.id.as_str(), Some(&set.name))?;
            let read = match collected {
                Some(raw) => device.judge(raw),
                None => device.read(ctx).await,
            };
            let reading = match read {
                Ok(r) => r,
                Err(e) => {
                    crate::devices::failed(ctx, &device, Timestamp::now(), &e.to_string()).await?;
                    return Err(e);
                }
            };
            let staged = crate::devices::stage(&staged_dir, filename, &reading.raw)
                .map_err(|e| AppError::Failed(format!("{}: {e}", asset.id)))?;
            reading_kept = Some(reading);
            BackupSource::File {
                staged,
                as_path: format!("/{filename}"),
            }
        }
    };
    let request = BackupRequest {
        source,
        hostname: asset.id.to_string(),
        tags: vec![
            format!("asset:{}", asset.id),
            format!("dataset:{}", set.name),
            format!("policy:{policy}"),
        ],
        label: format!("{}/{}", asset.id, set.name),
        time: None,
        changes: Some(crate::suspects::patterns(ctx)),
    };
    let result = blocking(move || repo.backup(&request)).await;
    let _ = std::fs::remove_dir_all(&staged_dir);
    if let Some(hook) = &set.post_hook {
        let status = if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        };
        hook_run(&root, hook, asset, set, Some(status), user).await?;
    }
    if let (Ok(snap), Some(reading)) = (&result, &reading_kept) {
        let device = crate::devices::find(ctx, asset.id.as_str(), Some(&set.name))?;
        crate::devices::stored(ctx, &device, Timestamp::now(), reading, &snap.id).await?;
    }
    result.map_err(|e| {
        AppError::Failed(format!(
            "asset `{}`, data set `{}`: {e}",
            asset.id, set.name
        ))
    })
}

pub async fn copy_one(
    ctx: &Ctx<'_>,
    asset: &Asset,
    set: &DataSet,
    from: &str,
    to: &str,
    snapshot: &str,
    open: &mut BTreeMap<String, Arc<Repo>>,
) -> AppResult<()> {
    let started = Timestamp::now();
    let run = ctx
        .catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Copy),
            asset: Some(asset.id.to_string()),
            dataset: Some(set.name.clone()),
            repository: Some(to.to_string()),
            started: Some(started),
        })
        .await?;
    let result: AppResult<()> = async {
        let source = repo_for(ctx, from, open).await?;
        let dest = repo_for(ctx, to, open).await?;
        // The new point, and the earlier ones of this data set made since the newest copy
        // there (the destination was away): copying again finishes what a failure left.
        // Older points are left alone: retention may have removed their copies.
        let points = ctx.catalog.restore_points(Some(asset.id.as_str())).await?;
        let newest_copy = points
            .iter()
            .filter(|p| p.repository == to && p.dataset == set.name)
            .map(|p| p.time)
            .max();
        let mut ids: Vec<String> = points
            .iter()
            .filter(|p| p.repository == from && p.dataset == set.name)
            .filter(|p| newest_copy.is_none_or(|t| p.time > t))
            .map(|p| p.snapshot.clone())
            .collect();
        if !ids.iter().any(|i| i == snapshot) {
            ids.push(snapshot.to_string());
        }
        let copies = blocking(move || source.copy_to(&dest, &ids))
            .await
            .map_err(AppError::from)?;
        for (original, copy) in copies {
            crate::points::trust(
                ctx,
                to,
                &copy,
                "copy",
                None,
                Some(format!("of {original} in {from}")),
            )
            .await?;
        }
        Ok(())
    }
    .await;
    let mut outcome = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
    outcome.snapshot = Some(snapshot.to_string());
    if let Err(e) = &result {
        outcome.status = RunStatus::Failed;
        outcome.error = Some(e.to_string());
    }
    ctx.catalog.finish_run(run, &outcome).await?;
    result
}

/// Runs a command whose standard output is the data, into `staged`, within `timeout`.
/// A command that fails, or runs out of time, never becomes a restore point.
pub async fn capture(
    root: &Path,
    command: &str,
    staged: &Path,
    timeout: Interval,
    user: Option<&str>,
) -> Result<(), String> {
    if let Some(dir) = staged.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let file = std::fs::File::create(staged)
        .map_err(|e| format!("cannot create {}: {e}", staged.display()))?;
    let mut child = crate::commands::shell(command, user)
        .map_err(|e| e.to_string())?
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(file))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let mut stderr = child.stderr.take();
    let limit = Duration::from_secs(timeout.as_secs());
    let status = match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => status.map_err(|e| format!("`{command}` could not be waited for: {e}"))?,
        Err(_) => {
            let _ = child.kill().await;
            return Err(format!(
                "`{command}` did not finish within {timeout} and was stopped"
            ));
        }
    };
    if !status.success() {
        let mut text = String::new();
        if let Some(err) = stderr.as_mut() {
            use tokio::io::AsyncReadExt;
            let _ = err.read_to_string(&mut text).await;
        }
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!(
            "`{command}` failed ({status}){}",
            if last.is_empty() {
                String::new()
            } else {
                format!(": {last}")
            }
        ));
    }
    Ok(())
}

async fn hook_run(
    root: &PathBuf,
    hook: &str,
    asset: &Asset,
    set: &DataSet,
    status: Option<&str>,
    user: Option<&str>,
) -> AppResult<()> {
    let mut cmd = crate::commands::shell(hook, user)?;
    cmd.current_dir(root)
        .env("REPRISE_ASSET", asset.id.as_str())
        .env("REPRISE_DATASET", &set.name)
        .stdin(Stdio::null());
    if let Some(status) = status {
        cmd.env("REPRISE_STATUS", status);
    }
    let out = cmd.output().await.map_err(|e| {
        AppError::Failed(format!(
            "asset `{}`: cannot run hook `{hook}`: {e}",
            asset.id
        ))
    })?;
    if !out.status.success() {
        let which = if status.is_some() { "post" } else { "pre" };
        return Err(AppError::Failed(format!(
            "asset `{}`, data set `{}`: {which}-hook `{hook}` failed ({}): {}",
            asset.id,
            set.name,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}
