//! Supervision: the conditions people must hear about before the day they need a restore
//! (R003.1), each an alert opened once, updated while it lasts, resolved when it clears.
//!
//! - RPO at risk or breached, from the last *verified* restore point;
//! - a backup that should have run and did not (absence is an alarm, not just failure);
//! - a failed last backup, a restore point found damaged;
//! - an anomaly: a run whose size, added bytes, file count or (for backups that take
//!   minutes) duration departs sharply from the data set's own history;
//! - a repository that does not answer or holds no repository;
//! - the 3-2-1 rule broken for an asset's newest restore point;
//! - a failed drill, or one that did not happen within its period (R002.9: quarterly);
//! - an open incident whose status update is late, whose assessment was not shared in
//!   time, whose GDPR notification deadline is near, or whose review is due;
//! - a backup that looks like an attack (its restore point is suspect until cleared);
//! - a device whose configuration changed (for a day, with its diff, secrets masked), or
//!   that cannot be read (R000.3).

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{Alert, RunFilter, RunKind, RunStatus};
use reprise_domain::anomaly;

use reprise_ops::context::Ctx;
use reprise_ops::error::AppResult;
pub use reprise_ops::notify::{Changes, Condition};
use reprise_ops::repos::RepoProbe;
use reprise_ops::snapshots::{Integrity, PointView, group};
use reprise_ops::status::{self, AssetStatus, RpoStatus};

/// Alert keys this module owns, by prefix: other alerts are never resolved here.
const PREFIXES: [&str; 16] = [
    "agent:",
    "agent-job:",
    "suspect:",
    "change:",
    "device:",
    "rotation:",
    "incident:",
    "drill:",
    "drill-due:",
    "rpo:",
    "missed:",
    "backup:",
    "integrity:",
    "anomaly:",
    "rule321:",
    "repo:",
];

fn human(d: SignedDuration) -> String {
    let s = d.as_secs().max(0);
    if s < 2 * 3600 {
        format!("{}m", s / 60)
    } else if s < 2 * 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// Durations shorter than this (seconds), now and in the history, are never anomalies.
const MIN_DURATION: f64 = 120.0;

/// One measure of a run, compared with the data set's history.
type Measure = fn(&reprise_catalog::Run) -> Option<u64>;

/// The conditions that hold at `now`, and each asset's status (in inventory order) they
/// were judged from. `probes` is the last look at each repository; `None` when none was
/// taken, and then repository alerts are left as they are.
pub async fn conditions(
    ctx: &Ctx<'_>,
    now: Timestamp,
    probes: Option<&[RepoProbe]>,
) -> AppResult<(Vec<Condition>, Vec<AssetStatus>)> {
    let mut out = repository_conditions(probes.unwrap_or_default());
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let runs = runs_of(ctx, RunKind::Backup).await?;
    let points = group(&reprise_ops::suspects::points(ctx, None).await?);
    out.extend(incident_conditions(ctx, now).await?);
    out.extend(device_conditions(ctx, now).await?);
    out.extend(agent_conditions(ctx, now).await?);
    out.extend(suspect_conditions(ctx).await?);
    out.extend(rotation_conditions(ctx, now, &tz).await?);
    let drill_runs = runs_of(ctx, RunKind::Drill).await?;
    let seen = Seen {
        ctx,
        now,
        tz: &tz,
        points_of: status::by_asset(&points, |p| p.asset.as_str()),
        runs_of: status::by_asset(&runs, |r| r.asset.as_deref().unwrap_or("")),
        last_drill: status::last_runs(&drill_runs),
        last_drill_of_set: status::last_runs_by_dataset(&drill_runs),
    };
    // One status per asset, in inventory order, from what was read above.
    let statuses = status::compute(ctx, now, &points, &status::last_runs(&runs));
    for (s, asset) in statuses.iter().zip(&ctx.inventory().assets) {
        out.extend(rpo_condition(s, asset));
        if !asset.datasets.is_empty() {
            out.extend(seen.drill_conditions(s, asset));
        }
        out.extend(rule_321_condition(s));
        // The asset's finished backups, newest first.
        let mine: Vec<&reprise_catalog::Run> = seen
            .runs_of
            .get(s.asset.as_str())
            .map(|runs| {
                runs.iter()
                    .copied()
                    .filter(|r| r.status != RunStatus::Running)
                    .collect()
            })
            .unwrap_or_default();
        out.extend(backup_condition(s, &mine));
        out.extend(seen.missed_condition(s, asset, &mine));
        out.extend(seen.integrity_condition(s));
        out.extend(anomaly_conditions(s, asset, &mine));
    }
    Ok((out, statuses))
}

/// A backup that looks like an attack, while no one has cleared it: one alert per data
/// set, about its first suspect point.
async fn suspect_conditions(ctx: &Ctx<'_>) -> AppResult<Vec<Condition>> {
    let mut out: Vec<Condition> = Vec::new();
    for s in ctx.catalog.suspicions(None).await? {
        let key = format!("suspect:{}/{}", s.asset, s.dataset);
        if s.cleared.is_some() || out.iter().any(|c| c.key == key) {
            continue;
        }
        out.push(Condition {
            key,
            severity: "critical",
            message: format!(
                "{}/{}: the backup of {} looks like an attack ({}) — its restore point and every later one are suspect; the last clean point is the one before (`reprise snapshots clear {}` once checked)",
                s.asset,
                s.dataset,
                s.time,
                s.reasons,
                reprise_workspace::text::short(&s.snapshot)
            ),
        });
    }
    Ok(out)
}

/// How long a device's change stays an open alert: long enough to be read the next
/// morning, short enough not to hide the next one.
const CHANGE_SHOWN_FOR: i64 = 24 * 3600;

/// The lines of a diff an alert carries; the rest is in `reprise devices diff`.
const DIFF_LINES: usize = 40;

/// A device changed within the day (with its masked diff), or whose last read failed.
async fn device_conditions(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<Condition>> {
    let records = reprise_ops::devices::records(ctx).await?;
    let open = ctx.catalog.alerts(true).await?;
    let mut out = Vec::new();
    for d in reprise_ops::devices::all(ctx) {
        let Some(r) = records
            .iter()
            .find(|r| r.asset == d.asset.id.as_str() && r.dataset == d.set.name)
        else {
            continue;
        };
        let key = format!("{}/{}", d.asset.id, d.set.name);
        if let Some(error) = &r.error {
            out.push(Condition {
                key: format!("device:{key}"),
                severity: "warning",
                message: format!(
                    "{} ({}): the configuration cannot be read: {error}",
                    d.asset.name, d.set.name
                ),
            });
        }
        if let (Some(at), Some(diff)) = (r.changed, &r.change)
            && now.duration_since(at).as_secs() < CHANGE_SHOWN_FOR
        {
            // Each change is heard of: a newer one than the open alert's replaces it
            // (closed quietly, opened again with its own diff).
            let change_key = format!("change:{key}");
            if let Some(earlier) = open.iter().find(|a| a.key == change_key)
                && earlier.opened < at
            {
                ctx.catalog.resolve_alert(&change_key, now).await?;
            }
            let lines: Vec<&str> = diff.lines().collect();
            let mut shown = lines
                .iter()
                .take(DIFF_LINES)
                .copied()
                .collect::<Vec<_>>()
                .join("\n");
            if lines.len() > DIFF_LINES {
                shown.push_str(&format!(
                    "\n… {} more lines: reprise devices diff {}",
                    lines.len() - DIFF_LINES,
                    d.asset.id
                ));
            }
            out.push(Condition {
                key: format!("change:{key}"),
                severity: "warning",
                message: format!(
                    "{} ({}): configuration changed on the device at {}; backed up as {} (secrets masked below)\n{shown}",
                    d.asset.name,
                    d.set.name,
                    at.strftime("%Y-%m-%d %H:%M UTC"),
                    r.snapshot.as_deref().map_or("-", reprise_workspace::text::short)
                ),
            });
        }
    }
    Ok(out)
}

/// Agents silent for longer than they may be, and jobs still waiting for an agent past
/// half their time (their deadline then fails them, and a backup's failure shows as such).
async fn agent_conditions(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<Condition>> {
    reprise_agents::fleet::expire(ctx, now).await?;
    let mut out = Vec::new();
    for a in reprise_agents::fleet::list(ctx, now).await? {
        if !a.silent {
            continue;
        }
        let last = match a.seen {
            Some(seen) => format!(
                "last check-in {} ago ({})",
                human(now.duration_since(seen)),
                seen.strftime("%Y-%m-%d %H:%M UTC")
            ),
            None => "it never checked in".into(),
        };
        out.push(Condition {
            key: format!("agent:{}", a.host),
            severity: if a.assets.is_empty() { "warning" } else { "critical" },
            message: format!(
                "the agent of host {} is silent: {last}, more than its {}; its assets ({}) are not backed up meanwhile",
                a.host,
                a.silent_after,
                if a.assets.is_empty() { "none".to_string() } else { a.assets.join(", ") }
            ),
        });
    }
    for job in ctx.catalog.agent_jobs(None, true).await? {
        if job.state == reprise_catalog::JobState::Waiting
            && now.duration_since(job.created) > (job.deadline.duration_since(job.created)) / 2
        {
            out.push(Condition {
                key: format!("agent-job:{}", job.id),
                severity: "warning",
                message: format!(
                    "job {} ({} of {}) is still waiting for the agent of host {}; it fails at {}",
                    job.id,
                    job.kind,
                    job.asset,
                    job.host,
                    job.deadline.strftime("%Y-%m-%d %H:%M UTC")
                ),
            });
        }
    }
    Ok(out)
}

/// Every run of `kind`, newest first.
async fn runs_of(ctx: &Ctx<'_>, kind: RunKind) -> AppResult<Vec<reprise_catalog::Run>> {
    Ok(ctx
        .catalog
        .runs(&RunFilter {
            kind: Some(kind),
            ..RunFilter::default()
        })
        .await?)
}

/// What `conditions` read once and judges every asset from.
struct Seen<'a> {
    ctx: &'a Ctx<'a>,
    now: Timestamp,
    tz: &'a jiff::tz::TimeZone,
    points_of: HashMap<&'a str, Vec<&'a PointView>>,
    runs_of: HashMap<&'a str, Vec<&'a reprise_catalog::Run>>,
    last_drill: HashMap<&'a str, &'a reprise_catalog::Run>,
    last_drill_of_set: HashMap<(&'a str, &'a str), &'a reprise_catalog::Run>,
}

/// A repository that does not answer or holds no repository.
fn repository_conditions(probes: &[RepoProbe]) -> Vec<Condition> {
    let mut out = Vec::new();
    for p in probes {
        let problem = match (&p.error, p.initialised) {
            (Some(e), _) => Some(format!("does not answer: {e}")),
            (None, false) => Some(format!(
                "holds no repository (run `reprise repo init {}`)",
                p.repository
            )),
            (None, true) => None,
        };
        if let Some(problem) = problem {
            out.push(Condition {
                key: format!("repo:{}", p.repository),
                severity: "critical",
                message: format!("repository `{}` ({}) {problem}", p.repository, p.location),
            });
        }
    }
    out
}

/// The RPO judged from the last verified restore point.
fn rpo_condition(s: &AssetStatus, asset: &reprise_domain::Asset) -> Option<Condition> {
    let rpo = s.rpo.clone().unwrap_or_default();
    let age = s
        .last_verified_age_seconds
        .map(|a| human(SignedDuration::from_secs(a)))
        .unwrap_or_default();
    let key = format!("rpo:{}", s.asset);
    match s.rpo_status {
        RpoStatus::AtRisk => Some(Condition {
            key,
            severity: "warning",
            message: format!(
                "{}: last verified restore point is {age} old, RPO {rpo} at risk",
                s.asset
            ),
        }),
        RpoStatus::Breached => Some(Condition {
            key,
            severity: "critical",
            message: format!(
                "{}: last verified restore point is {age} old, RPO {rpo} breached",
                s.asset
            ),
        }),
        RpoStatus::Never if !asset.datasets.is_empty() => Some(Condition {
            key,
            severity: "warning",
            message: format!("{}: no verified restore point yet (RPO {rpo})", s.asset),
        }),
        _ => None,
    }
}

/// The 3-2-1 rule for the newest restore point.
fn rule_321_condition(s: &AssetStatus) -> Option<Condition> {
    if s.restore_points == 0 || s.rule_3_2_1 {
        return None;
    }
    let mut missing = Vec::new();
    if s.copies < 3 {
        missing.push(format!("{} copies of 3 (counting the live data)", s.copies));
    }
    if s.media < 2 {
        missing.push(format!("{} medium of 2", s.media));
    }
    if !s.off_site {
        missing.push("no copy off-site".to_string());
    }
    missing.extend(s.placement.iter().cloned());
    Some(Condition {
        key: format!("rule321:{}", s.asset),
        severity: "warning",
        message: format!(
            "{}: the 3-2-1 rule does not hold for its newest restore point: {} (add `copy_to` to its policy)",
            s.asset,
            missing.join(", ")
        ),
    })
}

/// A failed last backup.
fn backup_condition(s: &AssetStatus, mine: &[&reprise_catalog::Run]) -> Option<Condition> {
    if let Some(last) = mine.first()
        && last.status != RunStatus::Succeeded
    {
        return Some(Condition {
            key: format!("backup:{}", s.asset),
            severity: "critical",
            message: format!(
                "{}: last backup {} ({})",
                s.asset,
                last.status.as_str(),
                last.error.as_deref().unwrap_or("no detail")
            ),
        });
    }
    None
}

/// A run whose size, added bytes, file count or (for backups that take minutes) duration
/// departs sharply from the data set's own history.
fn anomaly_conditions(
    s: &AssetStatus,
    asset: &reprise_domain::Asset,
    mine: &[&reprise_catalog::Run],
) -> Vec<Condition> {
    let mut out = Vec::new();
    for set in &asset.datasets {
        let history: Vec<_> = mine
            .iter()
            .filter(|r| {
                r.dataset.as_deref() == Some(set.name.as_str()) && r.status == RunStatus::Succeeded
            })
            .take(31)
            .collect();
        let Some((latest, earlier)) = history.split_first() else {
            continue;
        };
        // Size and file count matter both ways (an encryption wave, an empty dump);
        // added bytes and duration only upwards: deduplication makes a backup of data
        // seen before add next to nothing, and a quick backup is no alarm.
        let measures: [(&str, Measure, bool); 4] = [
            ("size", |r| r.bytes_read, false),
            ("added bytes", |r| r.bytes_added, true),
            ("file count", |r| r.files, false),
            (
                "duration in seconds",
                |r| r.duration().map(|d| d.as_secs().max(0) as u64),
                true,
            ),
        ];
        for (what, value, upwards) in measures {
            let past: Vec<f64> = earlier
                .iter()
                .filter_map(|r| value(r))
                .map(|v| v as f64)
                .collect();
            let Some(now_value) = value(latest) else {
                continue;
            };
            // A few seconds either way says nothing: durations are judged only
            // for backups that take minutes.
            let short = what.starts_with("duration")
                && past.iter().copied().fold(now_value as f64, f64::max) < MIN_DURATION;
            let unusual = if upwards {
                anomaly::is_surge(&past, now_value as f64)
            } else {
                anomaly::is_anomaly(&past, now_value as f64)
            };
            if !short && unusual {
                let mut sorted = past.clone();
                sorted.sort_by(f64::total_cmp);
                let usual = sorted[sorted.len() / 2];
                out.push(Condition {
                    key: format!("anomaly:{}/{}", s.asset, set.name),
                    severity: "warning",
                    message: format!(
                        "{}/{}: last backup {what} {now_value}, usually about {usual:.0}",
                        s.asset, set.name
                    ),
                });
                break;
            }
        }
    }
    out
}

impl Seen<'_> {
    /// A failed last drill, or one not run within its period (R002.9).
    fn drill_conditions(&self, s: &AssetStatus, asset: &reprise_domain::Asset) -> Vec<Condition> {
        let mut out = Vec::new();
        let every = asset
            .drill_every
            .or_else(|| self.ctx.inventory().policy_of(asset).map(|p| p.drill_every))
            .unwrap_or(reprise_domain::Interval::from_days(90));
        let last = self.last_drill.get(s.asset.as_str());
        // Each data set's own last drill: one that passed does not hide one that failed.
        let failed = asset.datasets.iter().find_map(|set| {
            self.last_drill_of_set
                .get(&(s.asset.as_str(), set.name.as_str()))
                .filter(|run| run.status != RunStatus::Succeeded)
                .map(|run| (set.name.as_str(), run))
        });
        if let Some((set, run)) = failed {
            out.push(Condition {
                key: format!("drill:{}", s.asset),
                severity: "critical",
                message: format!(
                    "{}/{set}: the last restore test failed ({}) — its backups are not proven to restore",
                    s.asset,
                    run.error.as_deref().unwrap_or("no detail")
                ),
            });
        }
        // Due a period after the last drill, or after the first restore point.
        let first_point = self
            .points_of
            .get(s.asset.as_str())
            .and_then(|p| p.iter().map(|p| p.time).min());
        if let Some(due) =
            reprise_recovery::drill::due_at(self.ctx, asset, last.map(|r| r.started), first_point)
            && due < self.now
        {
            out.push(Condition {
                key: format!("drill-due:{}", s.asset),
                severity: "warning",
                message: format!(
                    "{}: a restore test was due by {} (every {every}): `reprise drill run {}`",
                    s.asset,
                    due.to_zoned(self.tz.clone()).strftime("%Y-%m-%d"),
                    s.asset
                ),
            });
        }
        out
    }

    /// Absence is an alarm: the next slot after the last attempt has long passed.
    fn missed_condition(
        &self,
        s: &AssetStatus,
        asset: &reprise_domain::Asset,
        mine: &[&reprise_catalog::Run],
    ) -> Option<Condition> {
        if let Some(policy) = self.ctx.inventory().policy_of(asset)
            && !asset.datasets.is_empty()
            && let (Some(last), Some(gap)) = (mine.first(), policy.schedule.longest_gap())
        {
            let grace = SignedDuration::from_secs((gap.as_secs() as i64 / 10).max(300));
            let offset = reprise_ops::scheduler::offset_of(self.ctx, asset.id.as_str());
            if let Some(next) =
                reprise_ops::scheduler::next_slot(&policy.schedule, last.started, self.tz, offset)
                && next + grace < self.now
            {
                let next = next.to_zoned(self.tz.clone());
                return Some(Condition {
                    key: format!("missed:{}", s.asset),
                    severity: "warning",
                    message: format!(
                        "{}: the backup due at {} did not run (policy `{}`, {})",
                        s.asset,
                        next.strftime("%Y-%m-%d %H:%M"),
                        policy.id,
                        policy.schedule
                    ),
                });
            }
        }
        None
    }

    /// A restore point found damaged.
    fn integrity_condition(&self, s: &AssetStatus) -> Option<Condition> {
        if let Some(p) = self
            .points_of
            .get(s.asset.as_str())
            .into_iter()
            .flatten()
            .find(|p| matches!(p.integrity, Integrity::Failed { .. }))
            && let Integrity::Failed { reason, .. } = &p.integrity
        {
            return Some(Condition {
                key: format!("integrity:{}", s.asset),
                severity: "critical",
                message: format!(
                    "{}: restore point of {} is damaged ({reason})",
                    s.asset, p.time
                ),
            });
        }
        None
    }
}

/// Reminders of open incidents: the people in charge hear of them through the
/// channels (R000.6, R004.6, R001.3, R000.7).
async fn incident_conditions(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<Condition>> {
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let at = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut out = Vec::new();
    for row in ctx.catalog.incidents(true).await? {
        // The document alone: the timeline is not needed for deadlines.
        let Ok(loaded) = reprise_recovery::incident::from_row(row) else {
            continue;
        };
        let row = &loaded.row;
        let view = reprise_recovery::incident::deadlines(ctx, &loaded, now);
        let inc = &loaded;
        let id = row.id;
        let lead = inc
            .doc
            .roles
            .communications
            .clone()
            .unwrap_or_else(|| "the communications lead".into());
        if let (true, Some(due)) = (view.update_late, view.next_update_due) {
            out.push(Condition {
                key: format!("incident:{id}:update"),
                severity: "warning",
                message: format!(
                    "incident {id} ({}, {}): status update due since {} — {lead}: `reprise incident update {id}` drafts it",
                    row.title,
                    inc.severity.as_str(),
                    at(due)
                ),
            });
        }
        if view.assessment_shared_in_time == Some(false)
            && let Some(a) = &inc.doc.assessment
            && a.shared.is_none()
        {
            out.push(Condition {
                key: format!("incident:{id}:assessment"),
                severity: "warning",
                message: format!(
                    "incident {id} ({}): the damage assessment was due to the client by {} (`reprise incident assess {id} --share` once sent)",
                    row.title,
                    at(a.deadline)
                ),
            });
        }
        if let Some(deadline) = view.gdpr_deadline
            && now + jiff::SignedDuration::from_hours(24) > deadline
        {
            out.push(Condition {
                key: format!("incident:{id}:gdpr"),
                severity: "critical",
                message: format!(
                    "incident {id} ({}): personal data involved, the GDPR notification deadline is {}",
                    row.title,
                    at(deadline)
                ),
            });
        }
        if let Some(due) = view.review_due
            && inc.doc.review.as_ref().is_none_or(|r| r.held.is_none())
            && now + jiff::SignedDuration::from_hours(48) > due
        {
            let late = now > due;
            out.push(Condition {
                key: format!("incident:{id}:review"),
                severity: if late { "warning" } else { "info" },
                message: format!(
                    "incident {id} ({}): the post-incident review is {} {}",
                    row.title,
                    if late { "overdue since" } else { "due by" },
                    at(due)
                ),
            });
        }
    }
    Ok(out)
}

/// What an evaluation did and saw.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Alerts opened and resolved, for notifications.
    pub changes: Changes,
    /// Each asset's status, in inventory order.
    pub statuses: Vec<AssetStatus>,
    /// The alerts open afterwards.
    pub open: Vec<Alert>,
}

/// Evaluates the conditions, opens and updates their alerts, and resolves those that
/// cleared.
pub async fn evaluate(
    ctx: &Ctx<'_>,
    now: Timestamp,
    probes: Option<&[RepoProbe]>,
) -> AppResult<Evaluation> {
    let (current, statuses) = conditions(ctx, now, probes).await?;
    let mut changes = Changes::default();
    let mut open = Vec::new();
    // An alert open as it is stays untouched: a pass over ten thousand assets whose
    // alerts did not change writes nothing (and every kept answer stays current).
    let unchanged: std::collections::HashSet<(String, String, String)> = ctx
        .catalog
        .alerts(true)
        .await?
        .into_iter()
        .map(|a| (a.key, a.severity, a.message))
        .collect();
    for c in &current {
        if unchanged.contains(&(c.key.clone(), c.severity.to_string(), c.message.clone())) {
            continue;
        }
        if ctx
            .catalog
            .raise_alert(&c.key, c.severity, &c.message, now)
            .await?
        {
            changes.opened.push(c.clone());
        }
    }
    for alert in ctx.catalog.alerts(true).await? {
        let ours = PREFIXES.iter().any(|p| alert.key.starts_with(p))
            && (probes.is_some() || !alert.key.starts_with("repo:"));
        if ours && !current.iter().any(|c| c.key == alert.key) {
            ctx.catalog.resolve_alert(&alert.key, now).await?;
            changes.resolved.push(alert.key);
        } else {
            open.push(alert);
        }
    }
    Ok(Evaluation {
        changes,
        statuses,
        open,
    })
}

/// Repository keys older than their `rotate_every` (R002.8): since their last rotation,
/// or since their key file was written when never rotated.
async fn rotation_conditions(
    ctx: &Ctx<'_>,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<Condition>> {
    let rotations = ctx.catalog.rotations().await?;
    let mut out = Vec::new();
    for repo in &ctx.inventory().repositories {
        let Some(every) = repo.rotate_every else {
            continue;
        };
        let secret = format!("repository:{}", repo.id);
        let since = rotations
            .iter()
            .find(|(s, _)| *s == secret)
            .map(|(_, at)| *at)
            .or_else(|| {
                let file = ctx.workspace().resolve(repo.password_file.as_deref()?);
                let modified = std::fs::metadata(file).ok()?.modified().ok()?;
                Timestamp::try_from(modified).ok()
            });
        let Some(since) = since else { continue };
        let due = since + SignedDuration::from_secs(every.as_secs() as i64);
        if due < now {
            out.push(Condition {
                key: format!("rotation:{}", repo.id),
                severity: "warning",
                message: format!(
                    "repository `{}`: its key was due for rotation by {} (every {every}): `reprise repo rotate-key {}`",
                    repo.id,
                    due.to_zoned(tz.clone()).strftime("%Y-%m-%d"),
                    repo.id
                ),
            });
        }
    }
    if let Some(max) = ctx.loaded.config.supervision.secret_max_age {
        for s in reprise_ops::secrets::list(ctx.workspace())? {
            let due = s.rotated + SignedDuration::from_secs(max.as_secs() as i64);
            if due < now {
                out.push(Condition {
                    key: format!("rotation:secret:{}", s.name),
                    severity: "warning",
                    message: format!(
                        "secret `{}` was last changed {} (older than {max}): change it at its source, then `reprise secret set {}`",
                        s.name,
                        s.rotated.to_zoned(tz.clone()).strftime("%Y-%m-%d"),
                        s.name
                    ),
                });
            }
        }
    }
    Ok(out)
}
