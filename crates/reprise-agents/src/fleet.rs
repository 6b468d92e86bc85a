//! Agents: `reprise agent` on the hosts whose data the server does not hold (a mail
//! server, a storage server). An agent enrolls once with a one-time code, then connects
//! out to the server only: at each check-in it gets its assignment (the data sets of the
//! assets whose `host` it is) and the jobs queued for it (backups when due, restores),
//! runs them on its host, streams the data into its repository through the server's
//! append-only REST endpoint, and reports. The server records every run as its own:
//! runs, restore points, signals, copies, RPO, alerts, journal.
//!
//! Credentials are tokens of the catalog: an invitation is owned by `agent-invite:HOST`
//! (one use, 24 h by default), an agent's credential by `agent:HOST` — names no account
//! can take, so neither opens an API route.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{AgentJob, AgentRecord, Catalog, JobState, NewAgentJob, NewRun, RunKind};
use reprise_domain::{Asset, DataSource, Interval};
use reprise_engine::{Repo, SnapshotInfo};
use serde::{Deserialize, Serialize};

use reprise_ops::backup::DataSetOutcome;
use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::tokens;
use reprise_ops::writers::Writer;

/// How often an agent checks in, in seconds, unless the server says otherwise.
pub const CHECK_IN_EVERY: u64 = 30;
/// How long a backup job may wait for its agent before it fails.
pub const BACKUP_DEADLINE: Interval = Interval::from_secs(6 * 3600);
/// How long a restore job waits for its agent by default.
pub const RESTORE_DEADLINE: Interval = Interval::from_secs(3600);
/// How often, at most, an agent's unchanged sighting is written (seconds).
const SEEN_EVERY: u64 = 300;
/// Silence allowed to an agent whose assets have no schedule.
const SILENT_DEFAULT: Interval = Interval::from_secs(3600);

const ROLE: &str = "agent";
const INVITE_ROLE: &str = "invite";

fn owner(host: &str) -> String {
    format!("agent:{host}")
}

fn invite_owner(host: &str) -> String {
    format!("agent-invite:{host}")
}

fn checked_host(host: &str) -> AppResult<()> {
    if reprise_domain::is_host_name(host) {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "`{host}` is not a host name: 1 to 64 letters, digits, `-`, `_`, `.` (`mail-01`)"
        )))
    }
}

fn after(now: Timestamp, interval: Interval) -> Timestamp {
    now + SignedDuration::from_secs(i64::try_from(interval.as_secs()).unwrap_or(i64::MAX / 2))
}

/// A one-time enrollment code, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct Invite {
    pub host: String,
    pub code: String,
    pub expires: Timestamp,
}

/// Makes a one-time code with which host `host` enrolls its agent, valid for
/// `valid_for`; an earlier unused code of that host stops working.
pub async fn invite(
    ctx: &Ctx<'_>,
    host: &str,
    valid_for: Interval,
    now: Timestamp,
) -> AppResult<Invite> {
    checked_host(host)?;
    tokens::revoke(ctx.catalog, &invite_owner(host), host, now).await?;
    let code = tokens::new_token()?;
    let expires = after(now, valid_for);
    ctx.catalog
        .create_token(&reprise_catalog::TokenRow {
            hash: tokens::hash(&code),
            name: host.to_string(),
            user: Some(invite_owner(host)),
            role: Some(INVITE_ROLE.into()),
            scope: None,
            created: now,
            expires: Some(expires),
            revoked: None,
        })
        .await?;
    ctx.catalog
        .note(
            "agent.invited",
            host,
            &format!("one-time enrollment code made, valid until {expires}"),
        )
        .await?;
    Ok(Invite {
        host: host.to_string(),
        code,
        expires,
    })
}

/// Enrolls the agent of `host` with its one-time `code`: the code is spent, an earlier
/// credential of the host is revoked, and the new one is returned (shown once).
pub async fn enroll(
    ctx: &Ctx<'_>,
    host: &str,
    code: &str,
    version: Option<&str>,
    address: Option<&str>,
    now: Timestamp,
) -> AppResult<String> {
    checked_host(host)?;
    let refused = || {
        AppError::Refused(format!(
            "this enrollment code is unknown, spent, expired or made for another host than `{host}`: make a new one on the server with `reprise agent invite {host}`"
        ))
    };
    let row = ctx.catalog.token(&tokens::hash(code)).await?;
    let valid = row.as_ref().is_some_and(|r| {
        r.role.as_deref() == Some(INVITE_ROLE)
            && r.user.as_deref() == Some(invite_owner(host).as_str())
            && r.revoked.is_none()
            && r.expires.is_some_and(|e| e > now)
    });
    let Some(row) = row.filter(|_| valid) else {
        ctx.catalog
            .note(
                "agent.refused",
                host,
                &format!(
                    "enrollment refused from {}: {}",
                    address.unwrap_or("?"),
                    "unknown, spent or expired code"
                ),
            )
            .await?;
        return Err(refused());
    };
    // Spent here, once: of two enrollments racing with one code, one wins.
    if !ctx.catalog.revoke_token(&row.hash, now).await? {
        return Err(refused());
    }
    tokens::revoke(ctx.catalog, &owner(host), host, now).await?;
    let token = tokens::new_token()?;
    ctx.catalog
        .create_token(&reprise_catalog::TokenRow {
            hash: tokens::hash(&token),
            name: host.to_string(),
            user: Some(owner(host)),
            role: Some(ROLE.into()),
            scope: None,
            created: now,
            expires: None,
            revoked: None,
        })
        .await?;
    ctx.catalog
        .save_agent(&AgentRecord {
            host: host.to_string(),
            enrolled: now,
            seen: Some(now),
            version: version.map(str::to_string),
            address: address.map(str::to_string),
        })
        .await?;
    ctx.catalog
        .note(
            "agent.enrolled",
            host,
            &format!(
                "agent enrolled from {} (version {})",
                address.unwrap_or("?"),
                version.unwrap_or("?")
            ),
        )
        .await?;
    Ok(token)
}

/// The host whose live agent credential `token` is.
pub async fn authenticate(
    catalog: &dyn Catalog,
    token: &str,
    now: Timestamp,
) -> AppResult<Option<String>> {
    let Some(row) = catalog.token(&tokens::hash(token)).await? else {
        return Ok(None);
    };
    if row.revoked.is_some() || row.expires.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    if row.role.as_deref() != Some(ROLE) {
        return Ok(None);
    }
    Ok(row
        .user
        .as_deref()
        .and_then(|u| u.strip_prefix("agent:"))
        .filter(|h| *h == row.name)
        .map(str::to_string))
}

/// Journals a request refused to a credential that was an agent's once (revoked), or
/// to an agent reaching beyond its host.
pub async fn refused(catalog: &dyn Catalog, host: &str, what: &str) {
    let _ = catalog
        .note("agent.refused", host, &format!("{what} refused"))
        .await;
}

/// The host a token was an agent's credential for, even revoked (for the journal).
pub async fn former_host(catalog: &dyn Catalog, token: &str) -> Option<String> {
    let row = catalog.token(&tokens::hash(token)).await.ok()??;
    (row.role.as_deref() == Some(ROLE)).then_some(row.name)
}

/// Revokes the agent of `host` (and any unused code): its next request is refused, and
/// the jobs waiting for it fail. Returns whether there was one.
pub async fn revoke(ctx: &Ctx<'_>, host: &str, now: Timestamp) -> AppResult<bool> {
    let had = tokens::revoke(ctx.catalog, &owner(host), host, now).await?;
    let invited = tokens::revoke(ctx.catalog, &invite_owner(host), host, now).await?;
    if had || invited {
        ctx.catalog
            .note("agent.revoked", host, "agent credential revoked")
            .await?;
        for job in ctx.catalog.agent_jobs(Some(host), true).await? {
            fail(ctx, &job, "the agent of this host was revoked", now).await?;
        }
    }
    Ok(had || invited)
}

/// The assets whose data lives on `host`.
pub fn assets_of<'a>(ctx: &'a Ctx<'_>, host: &str) -> Vec<&'a Asset> {
    ctx.inventory()
        .assets
        .iter()
        .filter(|a| a.host() == Some(host))
        .collect()
}

/// What the agent of `host` may do on `repository` through the REST endpoint: append
/// the backups of its assets kept there. `None` when no asset of the host keeps its
/// points there, or when the repository also holds data that is not the host's (the
/// agent would read it).
pub fn writer(ctx: &Ctx<'_>, host: &str, repository: &str) -> Option<Writer> {
    let inv = ctx.inventory();
    let mut mine = Vec::new();
    for asset in inv.assets.iter().filter(|a| !a.datasets.is_empty()) {
        let Some(policy) = inv.policy_of(asset) else {
            continue;
        };
        let keeps_here = policy.repository.as_str() == repository
            || policy.copy_to.iter().any(|c| c.as_str() == repository);
        if !keeps_here {
            continue;
        }
        if asset.host() != Some(host) {
            return None;
        }
        if policy.repository.as_str() == repository {
            mine.push(asset.id.to_string());
        }
    }
    (!mine.is_empty()).then(|| Writer {
        repository: repository.to_string(),
        name: host.to_string(),
        assets: mine,
        created: Timestamp::UNIX_EPOCH,
        expires: None,
        revoked: None,
        agent: true,
    })
}

/// One data set an agent backs up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assigned {
    pub asset: String,
    pub dataset: String,
    pub repository: String,
    pub policy: String,
    /// The policy's schedule, in words (`daily 02:00`); the server says when it is due.
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// A command whose output is the data, stored as `filename`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_hook: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_hook: Option<String>,
}

/// A repository an agent writes to: its REST path on the server, and its password (the
/// agent encrypts on its host; the server never sees the data in clear).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignedRepo {
    pub id: String,
    pub path: String,
    pub password: String,
}

impl std::fmt::Debug for AssignedRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssignedRepo")
            .field("id", &self.id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A job handed to an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOrder {
    pub id: i64,
    pub kind: String,
    pub asset: String,
    pub spec: serde_json::Value,
    pub deadline: Timestamp,
}

/// What an agent gets at each check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub host: String,
    pub check_in_every: u64,
    pub datasets: Vec<Assigned>,
    pub repositories: Vec<AssignedRepo>,
    /// File names of ransom notes, judged on the host while it backs up.
    pub ransom_names: Vec<String>,
    pub jobs: Vec<JobOrder>,
}

/// What a backup job asks: data sets of one asset (all when empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupSpec {
    #[serde(default)]
    pub datasets: Vec<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a restore job asks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreSpec {
    pub repository: String,
    pub snapshot: String,
    pub dataset: String,
    /// A directory on the host (absolute).
    pub target: String,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub overwrite: bool,
    /// Paths erased for good: never written.
    #[serde(default)]
    pub erased: Vec<String>,
    /// A command to run in the restored copy (a drill's check), and its time limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_timeout_secs: Option<u64>,
    /// A sandbox (a drill's): removed once checked, whatever the outcome.
    #[serde(default)]
    pub scratch: bool,
}

pub use reprise_ops::restore::CheckReport;

/// How one data set's backup went on the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSetReport {
    pub dataset: String,
    pub started: Timestamp,
    pub seconds: f64,
    #[serde(default)]
    pub snapshot: Option<SnapshotInfo>,
    #[serde(default)]
    pub error: Option<String>,
}

/// How a restore went on the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    pub started: Timestamp,
    pub seconds: f64,
    #[serde(default)]
    pub files: u64,
    #[serde(default)]
    pub bytes: u64,
    /// Where it was written on the host.
    #[serde(default)]
    pub target: Option<String>,
    /// Erased paths the point still held, which were not written.
    #[serde(default)]
    pub withheld: Vec<String>,
    #[serde(default)]
    pub check: Option<CheckReport>,
    #[serde(default)]
    pub error: Option<String>,
}

/// What an agent reports at the end of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Report {
    Backup { datasets: Vec<DataSetReport> },
    Restore(RestoreReport),
}

fn assigned(ctx: &Ctx<'_>, asset: &Asset) -> AppResult<Vec<Assigned>> {
    let policy = ctx.policy_of(asset)?;
    Ok(asset
        .datasets
        .iter()
        .filter_map(|set| {
            let mut a = Assigned {
                asset: asset.id.to_string(),
                dataset: set.name.clone(),
                repository: policy.repository.to_string(),
                policy: policy.id.to_string(),
                schedule: policy.schedule.to_string(),
                paths: vec![],
                exclude: vec![],
                command: None,
                filename: None,
                timeout_secs: None,
                pre_hook: set.pre_hook.clone(),
                post_hook: set.post_hook.clone(),
            };
            match &set.source {
                DataSource::Paths { paths, exclude } => {
                    a.paths = paths.clone();
                    a.exclude = exclude.clone();
                }
                DataSource::Command {
                    command,
                    filename,
                    timeout,
                } => {
                    a.command = Some(command.clone());
                    a.filename = Some(filename.clone());
                    a.timeout_secs = Some(timeout.as_secs());
                }
                // Devices are read by the server (the configuration refuses them here).
                DataSource::Device { .. } => return None,
            }
            Some(a)
        })
        .collect())
}

/// A check-in of the agent of `host`: records that it was seen, fails the jobs whose
/// deadline passed, queues the backups that are due, and returns its assignment.
/// `since` is when the server's scheduler started (see [`reprise_ops::scheduler::due`]).
pub async fn check_in(
    ctx: &Ctx<'_>,
    host: &str,
    version: Option<&str>,
    address: Option<&str>,
    since: Timestamp,
    now: Timestamp,
) -> AppResult<Assignment> {
    let known = ctx
        .catalog
        .agents()
        .await?
        .into_iter()
        .find(|a| a.host == host);
    // A sighting is written when it says something new (a first one, another version),
    // and otherwise at most every 5 minutes (half the host's `silent_after` when that is
    // shorter): a thousand agents checking in every 30 seconds would otherwise write to
    // the catalog 33 times a second, and every kept answer would be computed again.
    let every = SEEN_EVERY.min(silent_after(ctx, host).as_secs() / 2);
    let stale = known.as_ref().is_none_or(|a| {
        a.version.as_deref() != version
            || a.address.as_deref() != address
            || a.seen.is_none_or(|s| {
                now.duration_since(s).as_secs() >= i64::try_from(every).unwrap_or(0)
            })
    });
    if stale {
        ctx.catalog
            .save_agent(&AgentRecord {
                host: host.to_string(),
                enrolled: known.as_ref().map_or(now, |a| a.enrolled),
                seen: Some(now),
                version: version.map(str::to_string),
                address: address.map(str::to_string),
            })
            .await?;
    }
    expire(ctx, now).await?;
    // An agent checks in between jobs, never during one: a job it took and did not
    // report was cut short (the agent was killed, the host restarted). What it wrote is
    // in the repository or not at all; the next backup runs as usual.
    for job in ctx.catalog.agent_jobs(Some(host), true).await? {
        if job.state == JobState::Running {
            fail(
                ctx,
                &job,
                &format!(
                    "the agent of host `{host}` stopped before reporting it (killed or restarted); earlier restore points are intact"
                ),
                now,
            )
            .await?;
        }
    }
    let open = ctx.catalog.agent_jobs(Some(host), true).await?;
    let mine = assets_of(ctx, host);
    for asset in reprise_ops::scheduler::due_among(ctx, &mine, since, now).await? {
        if open
            .iter()
            .any(|j| j.kind == "backup" && j.asset == asset.id.as_str())
        {
            continue;
        }
        queue_backup(ctx, asset.id.as_str(), &[], Some("schedule"), now).await?;
    }
    let mut datasets = Vec::new();
    let mut repositories: Vec<AssignedRepo> = Vec::new();
    for asset in assets_of(ctx, host) {
        for a in assigned(ctx, asset)? {
            if !repositories.iter().any(|r| r.id == a.repository) {
                let repo = ctx.repository(&a.repository)?;
                repositories.push(AssignedRepo {
                    id: a.repository.clone(),
                    path: format!("/rest/{}/", a.repository),
                    password: reprise_ops::repos::password(ctx.workspace(), repo)?
                        .expose()
                        .to_string(),
                });
            }
            datasets.push(a);
        }
    }
    let jobs = ctx
        .catalog
        .agent_jobs(Some(host), true)
        .await?
        .into_iter()
        .rev()
        .filter(|j| j.state == JobState::Waiting)
        .map(|j| JobOrder {
            id: j.id,
            kind: j.kind,
            asset: j.asset,
            spec: serde_json::from_str(&j.spec).unwrap_or(serde_json::Value::Null),
            deadline: j.deadline,
        })
        .collect();
    Ok(Assignment {
        host: host.to_string(),
        check_in_every: CHECK_IN_EVERY,
        datasets,
        repositories,
        ransom_names: reprise_ops::suspects::patterns(ctx),
        jobs,
    })
}

/// Queues a backup of `asset` (some data sets, or all) for its host's agent.
pub async fn queue_backup(
    ctx: &Ctx<'_>,
    asset: &str,
    datasets: &[String],
    reason: Option<&str>,
    now: Timestamp,
) -> AppResult<i64> {
    let a = ctx.asset(asset)?;
    let Some(host) = a.host() else {
        return Err(AppError::Invalid(format!(
            "asset `{asset}` is backed up by the server itself (it names no `host`)"
        )));
    };
    for name in datasets {
        if !a.datasets.iter().any(|s| &s.name == name) {
            return Err(AppError::Invalid(format!(
                "asset `{asset}` has no data set `{name}`"
            )));
        }
    }
    let spec = BackupSpec {
        datasets: datasets.to_vec(),
        reason: reason.map(str::to_string),
    };
    queue(
        ctx,
        host,
        "backup",
        asset,
        &serde_json::to_value(&spec).unwrap_or_default(),
        after(now, BACKUP_DEADLINE),
        now,
    )
    .await
}

/// Queues a restore of `spec` for the agent of `asset`'s host, to be done before
/// `deadline`. A relative target is under the agent's `restores` directory.
pub async fn queue_restore(
    ctx: &Ctx<'_>,
    asset: &str,
    spec: &RestoreSpec,
    deadline: Timestamp,
    now: Timestamp,
) -> AppResult<i64> {
    let a = ctx.asset(asset)?;
    let Some(host) = a.host() else {
        return Err(AppError::Invalid(format!(
            "asset `{asset}` names no `host`: the server restores it"
        )));
    };
    queue(
        ctx,
        host,
        "restore",
        asset,
        &serde_json::to_value(spec).unwrap_or_default(),
        deadline,
        now,
    )
    .await
}

async fn queue(
    ctx: &Ctx<'_>,
    host: &str,
    kind: &str,
    asset: &str,
    spec: &serde_json::Value,
    deadline: Timestamp,
    now: Timestamp,
) -> AppResult<i64> {
    Ok(ctx
        .catalog
        .queue_agent_job(&NewAgentJob {
            host: host.to_string(),
            kind: kind.to_string(),
            asset: asset.to_string(),
            spec: spec.to_string(),
            created: now,
            deadline,
        })
        .await?)
}

/// Fails the jobs whose deadline passed without an answer.
pub async fn expire(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<()> {
    for job in ctx.catalog.agent_jobs(None, true).await? {
        if job.deadline <= now {
            let why = match job.state {
                JobState::Waiting => format!(
                    "the agent of host `{}` did not check in before the deadline ({})",
                    job.host, job.deadline
                ),
                _ => format!(
                    "the agent of host `{}` took the job but did not report before the deadline ({})",
                    job.host, job.deadline
                ),
            };
            fail(ctx, &job, &why, now).await?;
        }
    }
    Ok(())
}

/// Fails a job; a backup that never ran is recorded as a failed run of each data set,
/// so that supervision and the RPO see it like a failed backup of the server's own.
async fn fail(ctx: &Ctx<'_>, job: &AgentJob, why: &str, now: Timestamp) -> AppResult<()> {
    let result = serde_json::json!({ "error": why }).to_string();
    if !ctx
        .catalog
        .move_agent_job(job.id, job.state, JobState::Failed, now, Some(&result))
        .await?
    {
        return Ok(());
    }
    if job.kind == "backup"
        && let Ok(asset) = ctx.asset(&job.asset)
        && let Ok(policy) = ctx.policy_of(asset)
    {
        let spec: BackupSpec = serde_json::from_str(&job.spec).unwrap_or(BackupSpec {
            datasets: vec![],
            reason: None,
        });
        for set in asset
            .datasets
            .iter()
            .filter(|s| spec.datasets.is_empty() || spec.datasets.contains(&s.name))
        {
            let run = ctx
                .catalog
                .start_run(&NewRun {
                    kind: Some(RunKind::Backup),
                    asset: Some(job.asset.clone()),
                    dataset: Some(set.name.clone()),
                    repository: Some(policy.repository.to_string()),
                    started: Some(job.created),
                })
                .await?;
            let mut outcome =
                reprise_catalog::RunOutcome::new(now, reprise_catalog::RunStatus::Failed);
            outcome.error = Some(why.to_string());
            ctx.catalog.finish_run(run, &outcome).await?;
        }
    }
    Ok(())
}

/// The agent of `host` takes job `id`: it must be that host's, and still waiting.
pub async fn take(ctx: &Ctx<'_>, host: &str, id: i64, now: Timestamp) -> AppResult<AgentJob> {
    let job = own_job(ctx, host, id).await?;
    if !ctx
        .catalog
        .move_agent_job(id, JobState::Waiting, JobState::Running, now, None)
        .await?
    {
        return Err(AppError::Conflict(format!(
            "job {id} is {} already",
            job.state.as_str()
        )));
    }
    Ok(job)
}

async fn own_job(ctx: &Ctx<'_>, host: &str, id: i64) -> AppResult<AgentJob> {
    match ctx.catalog.agent_job(id).await? {
        Some(job) if job.host == host => Ok(job),
        Some(_) => {
            refused(ctx.catalog, host, &format!("job {id} of another host")).await;
            Err(AppError::NotFound(format!("no job {id} for host `{host}`")))
        }
        None => Err(AppError::NotFound(format!("no job {id} for host `{host}`"))),
    }
}

/// The agent of `host` reports the end of job `id`. A backup is recorded data set by
/// data set like one of the server's: the run, the restore point (checked against the
/// repository: a snapshot it does not hold, or tagged for another asset, is no restore
/// point), its signals, and the policy's copies, made by the server.
pub async fn report(
    ctx: &Ctx<'_>,
    host: &str,
    id: i64,
    report: Report,
    now: Timestamp,
) -> AppResult<(AgentJob, Vec<DataSetOutcome>)> {
    let job = own_job(ctx, host, id).await?;
    if job.state != JobState::Running {
        return Err(AppError::Conflict(format!(
            "job {id} is {}: only a job taken can be reported",
            job.state.as_str()
        )));
    }
    let mut outcomes = Vec::new();
    let (ok, result) = match report {
        Report::Backup { datasets } if job.kind == "backup" => {
            outcomes = record_backups(ctx, host, &job, datasets).await?;
            let errors: Vec<String> = outcomes
                .iter()
                .filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.dataset)))
                .collect();
            let ok = errors.is_empty() && !outcomes.is_empty();
            let value = serde_json::json!({
                "datasets": outcomes,
                "error": (!errors.is_empty()).then(|| errors.join("; ")),
            });
            (ok, value)
        }
        Report::Restore(r) if job.kind == "restore" => {
            let spec: RestoreSpec = serde_json::from_str(&job.spec)
                .map_err(|e| AppError::Failed(format!("job {id}: {e}")))?;
            let run = ctx
                .catalog
                .start_run(&NewRun {
                    kind: Some(RunKind::Restore),
                    asset: Some(job.asset.clone()),
                    dataset: Some(spec.dataset.clone()),
                    repository: Some(spec.repository.clone()),
                    started: Some(r.started),
                })
                .await?;
            let status = if r.error.is_none() {
                reprise_catalog::RunStatus::Succeeded
            } else {
                reprise_catalog::RunStatus::Failed
            };
            let mut outcome = reprise_catalog::RunOutcome::new(now, status);
            outcome.snapshot = Some(spec.snapshot.clone());
            outcome.files = Some(r.files);
            outcome.bytes_read = Some(r.bytes);
            outcome.error = r.error.clone();
            outcome.detail =
                Some(serde_json::json!({ "host": host, "target": spec.target }).to_string());
            ctx.catalog.finish_run(run, &outcome).await?;
            (
                r.error.is_none(),
                serde_json::to_value(&r).unwrap_or_default(),
            )
        }
        _ => {
            return Err(AppError::Invalid(format!(
                "job {id} is a {}: report it as one",
                job.kind
            )));
        }
    };
    let to = if ok {
        JobState::Succeeded
    } else {
        JobState::Failed
    };
    ctx.catalog
        .move_agent_job(id, JobState::Running, to, now, Some(&result.to_string()))
        .await?;
    let job = ctx
        .catalog
        .agent_job(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no job {id}")))?;
    Ok((job, outcomes))
}

async fn record_backups(
    ctx: &Ctx<'_>,
    host: &str,
    job: &AgentJob,
    reports: Vec<DataSetReport>,
) -> AppResult<Vec<DataSetOutcome>> {
    let asset = ctx.asset(&job.asset)?;
    let policy = ctx.policy_of(asset)?;
    let repository = policy.repository.to_string();
    let spec: BackupSpec = serde_json::from_str(&job.spec).unwrap_or(BackupSpec {
        datasets: vec![],
        reason: None,
    });
    let mut open: BTreeMap<String, Arc<Repo>> = BTreeMap::new();
    let repo = reprise_ops::repos::open(
        ctx.workspace(),
        ctx.repository(&repository)?,
        ctx.progress.clone(),
    )
    .await?;
    open.insert(repository.clone(), repo.clone());
    let held = reprise_ops::points::sync(ctx, &repository, repo).await?;
    let mut outcomes = Vec::new();
    for set in asset
        .datasets
        .iter()
        .filter(|s| spec.datasets.is_empty() || spec.datasets.contains(&s.name))
    {
        let report = reports.iter().find(|r| r.dataset == set.name);
        let mut outcome = DataSetOutcome {
            seconds: report.map_or(0.0, |r| r.seconds),
            ..DataSetOutcome::new(asset.id.as_str(), &set.name, &repository)
        };
        let result: Result<SnapshotInfo, AppError> = match report {
            None => Err(AppError::Failed(format!(
                "the agent of host `{host}` did not report this data set"
            ))),
            Some(r) => match (&r.snapshot, &r.error) {
                (_, Some(e)) => Err(AppError::Failed(e.clone())),
                (None, None) => Err(AppError::Failed("the agent reported no snapshot".into())),
                (Some(snap), None) => {
                    // Believed only as far as the repository holds it, for this asset.
                    let stored = held.iter().find(|s| {
                        s.id == snap.id
                            && s.tag("asset") == Some(asset.id.as_str())
                            && s.tag("dataset") == Some(set.name.as_str())
                    });
                    match stored {
                        Some(stored) => Ok(SnapshotInfo {
                            changes: snap.changes.clone(),
                            ..stored.clone()
                        }),
                        None => Err(AppError::Failed(format!(
                            "the agent reported snapshot {} that repository `{repository}` does not hold for this data set",
                            reprise_workspace::text::short(&snap.id)
                        ))),
                    }
                }
            },
        };
        let run = ctx
            .catalog
            .start_run(&NewRun {
                kind: Some(RunKind::Backup),
                asset: Some(asset.id.to_string()),
                dataset: Some(set.name.clone()),
                repository: Some(repository.clone()),
                started: Some(report.map_or(job.created, |r| r.started)),
            })
            .await
            .ok();
        let reason = spec
            .reason
            .clone()
            .map(|r| format!("{r} (agent of {host})"));
        reprise_ops::backup::record(
            ctx,
            run,
            &set.name,
            reason.as_deref().or(Some(host)),
            &result,
            &mut outcome,
            ("agent", Some(host)),
        )
        .await;
        if let (true, Some(snapshot)) = (outcome.ok, outcome.snapshot.clone()) {
            for copy in &policy.copy_to {
                let copy = copy.to_string();
                match reprise_ops::backup::copy_one(
                    ctx,
                    asset,
                    set,
                    &repository,
                    &copy,
                    &snapshot,
                    &mut open,
                )
                .await
                {
                    Ok(()) => outcome.copied_to.push(copy),
                    Err(e) => {
                        outcome.ok = false;
                        outcome.error = Some(format!("copy to `{copy}` failed: {e}"));
                    }
                }
            }
        }
        outcomes.push(outcome);
    }
    for copy in &policy.copy_to {
        if let Some(repo) = open.get(copy.as_str()) {
            reprise_ops::points::sync(ctx, copy.as_str(), repo.clone()).await?;
        }
    }
    Ok(outcomes)
}

/// An agent as listed.
#[derive(Debug, Clone, Serialize)]
pub struct AgentView {
    pub host: String,
    pub enrolled: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Whether its credential is live (enrolled and not revoked).
    pub active: bool,
    pub assets: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<Timestamp>,
    /// The silence after which it is reported.
    pub silent_after: Interval,
    /// Not heard from for longer than `silent_after`.
    pub silent: bool,
    pub waiting_jobs: usize,
}

/// How long the agent of `host` may stay silent: its `[[host]] silent_after`, else
/// twice its assets' shortest schedule.
pub fn silent_after(ctx: &Ctx<'_>, host: &str) -> Interval {
    if let Some(set) = ctx
        .inventory()
        .hosts
        .iter()
        .find(|h| h.name == host)
        .and_then(|h| h.silent_after)
    {
        return set;
    }
    assets_of(ctx, host)
        .into_iter()
        .filter(|a| !a.datasets.is_empty())
        .filter_map(|a| ctx.inventory().policy_of(a))
        .filter_map(|p| p.schedule.longest_gap())
        .min()
        .map_or(SILENT_DEFAULT, |gap| {
            Interval::from_secs(gap.as_secs().saturating_mul(2))
        })
}

/// Every host with an agent, an invitation or an asset, by host.
pub async fn list(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<AgentView>> {
    let records = ctx.catalog.agents().await?;
    let tokens = ctx.catalog.tokens().await?;
    let live = |host: &str| {
        tokens.iter().any(|t| {
            t.role.as_deref() == Some(ROLE)
                && t.user.as_deref() == Some(owner(host).as_str())
                && t.revoked.is_none()
        })
    };
    let mut hosts: Vec<String> = records.iter().map(|r| r.host.clone()).collect();
    for asset in &ctx.inventory().assets {
        if let Some(h) = asset.host()
            && !hosts.iter().any(|x| x == h)
        {
            hosts.push(h.to_string());
        }
    }
    hosts.sort();
    let runs = ctx.catalog.latest_runs(RunKind::Backup).await?;
    let jobs = ctx.catalog.agent_jobs(None, true).await?;
    let mut out = Vec::new();
    for host in hosts {
        let record = records.iter().find(|r| r.host == host);
        let assets: Vec<String> = assets_of(ctx, &host)
            .iter()
            .map(|a| a.id.to_string())
            .collect();
        let last_backup = runs
            .iter()
            .filter(|r| {
                r.status == reprise_catalog::RunStatus::Succeeded
                    && r.asset
                        .as_deref()
                        .is_some_and(|a| assets.iter().any(|x| x == a))
            })
            .filter_map(|r| r.finished)
            .max();
        let limit = silent_after(ctx, &host);
        let active = live(&host);
        let seen = record.and_then(|r| r.seen);
        let silent =
            active && seen.is_none_or(|s| now.duration_since(s).as_secs() > limit.as_secs() as i64);
        out.push(AgentView {
            enrolled: record.map(|r| r.enrolled),
            seen,
            version: record.and_then(|r| r.version.clone()),
            address: record.and_then(|r| r.address.clone()),
            active,
            assets,
            last_backup,
            silent_after: limit,
            silent,
            waiting_jobs: jobs.iter().filter(|j| j.host == host).count(),
            host,
        });
    }
    Ok(out)
}

/// A restore of an asset whose data lives on a host, queued for that host's agent: the
/// same choice of restore points as a restore here (never a suspect one unless named),
/// the erasure ledger honoured, into `opts.target` on the host (absolute). Returns the
/// job of each data set. The agent reads only its host's repository: a point held only
/// in a copy must be restored `--on server`.
pub async fn restore_on_host(
    ctx: &Ctx<'_>,
    opts: &reprise_ops::restore::RestoreOptions,
    deadline: Timestamp,
    now: Timestamp,
) -> AppResult<Vec<i64>> {
    if !opts.target.is_absolute() {
        let host = ctx
            .asset(&opts.asset)?
            .host()
            .unwrap_or_default()
            .to_string();
        return Err(AppError::Invalid(format!(
            "the target `{}` must be an absolute path on host `{host}`",
            opts.target.display()
        )));
    }
    let target = opts.target.display().to_string();
    Ok(queue_restores(ctx, opts, &target, deadline, now)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect())
}

async fn queue_restores(
    ctx: &Ctx<'_>,
    opts: &reprise_ops::restore::RestoreOptions,
    target: &str,
    deadline: Timestamp,
    now: Timestamp,
) -> AppResult<Vec<(i64, reprise_catalog::RestorePoint)>> {
    let asset = ctx.asset(&opts.asset)?;
    let Some(host) = asset.host() else {
        return Err(AppError::Invalid(format!(
            "asset `{}` names no `host`: the server restores it",
            asset.id
        )));
    };
    if let Some(path) = &opts.path {
        reprise_ops::target::check_text("path", std::path::Path::new(path))?;
    }
    reprise_ops::target::check_text("target", std::path::Path::new(target))?;
    reprise_ops::points::refresh(ctx, asset).await?;
    let primary = ctx.policy_of(asset)?.repository.to_string();
    let (points, chosen, _) =
        reprise_ops::restore::choose_points(ctx, asset.id.as_str(), opts).await?;
    let ledger = reprise_ops::erase::ledger(ctx, asset.id.as_str()).await?;
    let several = chosen.len() > 1;
    let mut specs = Vec::new();
    for point in &chosen {
        let held = points.iter().find(|p| {
            p.repository == primary && p.dataset == point.dataset && p.time == point.time
        });
        let Some(held) = held else {
            return Err(AppError::Invalid(format!(
                "the restore point of {} for `{}` is not in repository `{primary}`, the only one the agent of host `{host}` reads: restore it with `--on server`",
                point.time, point.dataset
            )));
        };
        specs.push((
            RestoreSpec {
                repository: primary.clone(),
                snapshot: held.snapshot.clone(),
                dataset: held.dataset.clone(),
                target: if several {
                    format!("{}/{}", target.trim_end_matches('/'), held.dataset)
                } else {
                    target.to_string()
                },
                path: opts.path.clone(),
                overwrite: opts.overwrite,
                erased: ledger.paths.clone(),
                check: opts.host_check.as_ref().map(|(c, _)| c.clone()),
                check_timeout_secs: opts.host_check.as_ref().map(|(_, t)| t.as_secs()),
                scratch: opts.scratch,
            },
            held.clone(),
        ));
    }
    let mut jobs = Vec::new();
    for (spec, point) in specs {
        jobs.push((
            queue_restore(ctx, asset.id.as_str(), &spec, deadline, now).await?,
            point,
        ));
    }
    Ok(jobs)
}

/// A restore, wherever the asset's data lives: by the host's agent when the asset names a
/// `host` (unless `on_server`), by this machine otherwise. Every front end (the command
/// line, the API, incident steps, restore requests, drills) calls this.
pub async fn restore(
    ctx: &Ctx<'_>,
    opts: &reprise_ops::restore::RestoreOptions,
) -> AppResult<Vec<reprise_ops::restore::Restored>> {
    if ctx.asset(&opts.asset)?.host().is_some() && !opts.on_server {
        restore_and_wait(ctx, opts).await
    } else {
        reprise_ops::restore::run(ctx, opts).await
    }
}

/// A restore asked of the server (an incident's step, a restore request, a drill) for an
/// asset whose data lives on a host: its agent does it, and this waits for its report.
/// A target inside the workspace (the server's default places) becomes the same path
/// under the agent's `restores` directory on the host.
pub async fn restore_and_wait(
    ctx: &Ctx<'_>,
    opts: &reprise_ops::restore::RestoreOptions,
) -> AppResult<Vec<reprise_ops::restore::Restored>> {
    let root = &ctx.workspace().root;
    let target = match opts.target.strip_prefix(root) {
        Ok(inside) => inside.display().to_string(),
        Err(_) if opts.target.is_absolute() => opts.target.display().to_string(),
        Err(_) => opts.target.display().to_string(),
    };
    let now = Timestamp::now();
    let deadline = after(now, RESTORE_DEADLINE);
    let host = ctx
        .asset(&opts.asset)?
        .host()
        .unwrap_or_default()
        .to_string();
    let jobs = queue_restores(ctx, opts, &target, deadline, now).await?;
    let ledger = reprise_ops::erase::ledger(ctx, &opts.asset).await?;
    let mut out = Vec::new();
    for (id, point) in jobs {
        let job = loop {
            expire(ctx, Timestamp::now()).await?;
            match ctx.catalog.agent_job(id).await? {
                Some(job) if !job.state.is_open() => break job,
                Some(_) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
                None => return Err(AppError::Failed(format!("job {id} vanished"))),
            }
        };
        let report: Option<RestoreReport> = job
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok());
        let error = report.as_ref().and_then(|r| r.error.clone()).or_else(|| {
            job.result.as_deref().and_then(|r| {
                serde_json::from_str::<serde_json::Value>(r)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_string))
            })
        });
        let (JobState::Succeeded, Some(report)) = (job.state, report) else {
            return Err(AppError::Failed(format!(
                "{}/{}: the restore on host `{host}` failed (job {id}): {}",
                point.asset,
                point.dataset,
                error.unwrap_or_else(|| "no report".into())
            )));
        };
        out.push(reprise_ops::restore::Restored {
            asset: point.asset.clone(),
            dataset: point.dataset.clone(),
            repository: point.repository.clone(),
            snapshot: point.snapshot.clone(),
            time: point.time,
            verified_before: point.verified,
            predates_change: None,
            target: std::path::PathBuf::from(report.target.clone().unwrap_or(target.clone())),
            files: report.files,
            bytes: report.bytes,
            seconds: report.seconds,
            unavailable: vec![],
            erasures: ledger.erasures,
            withheld: report.withheld.clone(),
            foreign: false,
            host: Some(host.clone()),
            host_check: report.check.clone(),
        });
    }
    Ok(out)
}
