//! Drills: proof that backups restore (R002.9, R003.5, R003.6).
//!
//! A drill restores a restore point (the newest, or one at random) of each data set of
//! an asset into a sandbox under `.reprise/drills/`, never the production location, then
//! verifies it: Reprise's own checks (every blob's hash was checked against the snapshot
//! while restoring; file count and size match the snapshot) and the data set's
//! `drill_check` command, run in the sandbox with its timeout, whose exit code decides.
//! Each drill is recorded as a run of kind `drill` with the measured time to restore and
//! to verify (measured RTO) against the RTO, and the age of the point (measured RPO).
//! The sandbox is removed whatever the outcome; one left by a killed process is removed
//! by the next drill.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reprise_catalog::{NewRun, Run, RunFilter, RunKind, RunOutcome, RunStatus};
use serde::{Deserialize, Serialize};

use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::restore::RestoreOptions;

/// One verification of a drill.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrillCheck {
    pub name: String,
    pub name_fr: String,
    pub ok: bool,
    /// What was compared, or the command's output (its last 4 KiB).
    pub detail: String,
    pub detail_fr: String,
}

/// What a drill recorded, kept as the run's detail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrillRecord {
    pub scenario: String,
    pub scenario_fr: String,
    pub by: String,
    pub point_time: Timestamp,
    pub restore_seconds: f64,
    pub verify_seconds: f64,
    /// Restore plus verification: the RTO this drill measured.
    pub measured_rto_seconds: f64,
    pub rto_seconds: Option<u64>,
    /// How old the restored point was: the RPO this drill measured.
    pub measured_rpo_seconds: i64,
    pub checks: Vec<DrillCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillOutcome {
    pub asset: String,
    pub dataset: String,
    pub snapshot: Option<String>,
    pub ok: bool,
    pub error: Option<String>,
    pub record: Option<DrillRecord>,
}

#[derive(Debug, Clone, Default)]
pub struct DrillOptions {
    pub assets: Vec<String>,
    /// A restore point at random instead of the newest.
    pub random: bool,
    /// What the drill simulates (`loss of the mail server`).
    pub scenario: Option<String>,
}

/// Where drills restore: never a production location.
fn sandboxes(ctx: &Ctx<'_>) -> PathBuf {
    ctx.workspace().state_dir().join("drills")
}

/// Removes sandboxes left by drills whose process died (killed mid-restore).
fn clean_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = name.split('-').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes its directory when dropped, whatever happened.
struct Sandbox(PathBuf);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs drills of `opts.assets` (all assets with data sets when empty).
pub async fn run(ctx: &Ctx<'_>, opts: &DrillOptions, by: &str) -> AppResult<Vec<DrillOutcome>> {
    let inv = ctx.inventory();
    let assets: Vec<&reprise_domain::Asset> = if opts.assets.is_empty() {
        inv.assets
            .iter()
            .filter(|a| !a.datasets.is_empty())
            .collect()
    } else {
        opts.assets
            .iter()
            .map(|id| ctx.asset(id))
            .collect::<AppResult<_>>()?
    };
    let root = sandboxes(ctx);
    clean_stale(&root);
    let mut out = Vec::new();
    for asset in assets {
        if asset.datasets.is_empty() {
            return Err(AppError::Invalid(format!(
                "asset `{}` has no data set: nothing to drill",
                asset.id
            )));
        }
        for set in &asset.datasets {
            out.push(drill_one(ctx, asset, set, opts, by, &root).await?);
        }
    }
    Ok(out)
}

async fn drill_one(
    ctx: &Ctx<'_>,
    asset: &reprise_domain::Asset,
    set: &reprise_domain::DataSet,
    opts: &DrillOptions,
    by: &str,
    root: &Path,
) -> AppResult<DrillOutcome> {
    let started = Timestamp::now();
    let mut suffix = [0u8; 4];
    let _ = getrandom::fill(&mut suffix);
    let sandbox = Sandbox(root.join(format!(
        "drill-{}-{}-{}",
        std::process::id(),
        reprise_workspace::text::hex(&suffix),
        asset.id
    )));
    // Suspect points are never drilled by choice: a drill tests what a restore would use.
    let points: Vec<_> = reprise_ops::suspects::points(ctx, Some(asset.id.as_str()))
        .await?
        .into_iter()
        .filter(|p| p.dataset == set.name && p.suspect.is_none())
        .collect();
    let chosen = if opts.random && !points.is_empty() {
        let mut b = [0u8; 8];
        let _ = getrandom::fill(&mut b);
        Some(points[(u64::from_le_bytes(b) % points.len() as u64) as usize].clone())
    } else {
        points.iter().max_by_key(|p| p.time).cloned()
    };
    let (scenario, scenario_fr) = match &opts.scenario {
        Some(s) => (s.clone(), s.clone()),
        None => (
            format!(
                "restore {} of {} from {}",
                set.name,
                asset.id,
                if opts.random {
                    "a random restore point"
                } else {
                    "the newest restore point"
                }
            ),
            format!(
                "restaurer {} de {} depuis {}",
                set.name,
                asset.id,
                if opts.random {
                    "un point de restauration au hasard"
                } else {
                    "le point de restauration le plus récent"
                }
            ),
        ),
    };
    let run_id = ctx
        .catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Drill),
            asset: Some(asset.id.to_string()),
            dataset: Some(set.name.clone()),
            repository: chosen.as_ref().map(|p| p.repository.clone()),
            started: Some(started),
        })
        .await?;
    let who = Who {
        scenario: &scenario,
        scenario_fr: &scenario_fr,
        by,
        started,
    };
    let result = attempt(ctx, asset, set, chosen.as_ref(), &sandbox.0, &who).await;
    drop(sandbox);
    let mut outcome = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
    outcome.snapshot = chosen.as_ref().map(|p| p.snapshot.clone());
    let (ok, error, record) = match result {
        Ok(record) => {
            let ok = record.checks.iter().all(|c| c.ok);
            let failed: Vec<&str> = record
                .checks
                .iter()
                .filter(|c| !c.ok)
                .map(|c| c.name.as_str())
                .collect();
            (
                ok,
                (!ok).then(|| format!("failed: {}", failed.join(", "))),
                Some(record),
            )
        }
        Err(e) => (false, Some(e.to_string()), None),
    };
    if !ok {
        outcome.status = RunStatus::Failed;
        outcome.error = error.clone();
    }
    outcome.detail = record
        .as_ref()
        .map(|r| serde_json::to_string(r).expect("a drill record serialises"));
    ctx.catalog.finish_run(run_id, &outcome).await?;
    Ok(DrillOutcome {
        asset: asset.id.to_string(),
        dataset: set.name.clone(),
        snapshot: chosen.map(|p| p.snapshot),
        ok,
        error,
        record,
    })
}

/// What a drill records about itself besides its measures.
struct Who<'a> {
    scenario: &'a str,
    scenario_fr: &'a str,
    by: &'a str,
    started: Timestamp,
}

async fn attempt(
    ctx: &Ctx<'_>,
    asset: &reprise_domain::Asset,
    set: &reprise_domain::DataSet,
    point: Option<&reprise_catalog::RestorePoint>,
    sandbox: &Path,
    who: &Who<'_>,
) -> AppResult<DrillRecord> {
    let (scenario, by, started) = (who.scenario, who.by, who.started);
    let point = point.ok_or_else(|| {
        AppError::Failed(format!(
            "asset `{}`, data set `{}` has no restore point to drill",
            asset.id, set.name
        ))
    })?;
    std::fs::create_dir_all(sandbox).map_err(|e| {
        AppError::Failed(format!(
            "cannot create the sandbox {}: {e}",
            sandbox.display()
        ))
    })?;
    let clock = Instant::now();
    let restored = reprise_agents::fleet::restore(
        ctx,
        &RestoreOptions {
            asset: asset.id.to_string(),
            dataset: Some(set.name.clone()),
            at: None,
            snapshot: Some(point.snapshot.clone()),
            path: None,
            target: sandbox.to_path_buf(),
            overwrite: false,
            verify: true,
            on_server: false,
            // On a host, its agent restores and runs the check there.
            host_check: asset
                .host()
                .and(set.drill_check.clone())
                .map(|c| (c, set.drill_timeout)),
            scratch: true,
            guard: reprise_ops::target::Guard::operator(),
        },
    )
    .await?;
    let restore_seconds = clock.elapsed().as_secs_f64();
    let clock = Instant::now();
    let mut checks = vec![DrillCheck {
        name: "content".into(),
        name_fr: "contenu".into(),
        ok: true,
        detail:
            "every block read back and checked against the snapshot's hashes before it was written"
                .into(),
        detail_fr: "chaque bloc relu et comparé aux empreintes de la sauvegarde avant d'être écrit"
            .into(),
    }];
    let files: u64 = restored.iter().map(|r| r.files).sum();
    if let Some(expected) = point.files {
        checks.push(DrillCheck {
            name: "file count".into(),
            name_fr: "nombre de fichiers".into(),
            ok: files == expected,
            detail: format!("{files} restored, {expected} in the snapshot"),
            detail_fr: format!("{files} restaurés, {expected} dans la sauvegarde"),
        });
    }
    let bytes: u64 = restored.iter().map(|r| r.bytes).sum();
    if let Some(expected) = point.bytes {
        checks.push(DrillCheck {
            name: "size".into(),
            name_fr: "taille".into(),
            ok: bytes == expected,
            detail: format!("{bytes} bytes restored, {expected} in the snapshot"),
            detail_fr: format!("{bytes} octets restaurés, {expected} dans la sauvegarde"),
        });
    }
    let on_host = restored
        .iter()
        .find_map(|r| r.host.as_ref().map(|h| (h.clone(), r.host_check.clone())));
    if let (Some(command), Some((host, report))) = (&set.drill_check, on_host) {
        let (ok, detail) = match report {
            Some(r) => (
                r.ok,
                format!(
                    "{} on host {host} — {}",
                    if r.ok { "passed" } else { "failed" },
                    r.output.trim()
                ),
            ),
            None => (false, format!("the agent of host {host} did not run it")),
        };
        checks.push(DrillCheck {
            name: format!("command `{command}`"),
            name_fr: format!("commande `{command}`"),
            ok,
            detail: detail.clone(),
            detail_fr: detail,
        });
    } else if let Some(command) = &set.drill_check {
        checks.push(
            run_check(
                command,
                sandbox,
                Duration::from_secs(set.drill_timeout.as_secs()),
                ctx.loaded.config.server.commands_user.as_deref(),
            )
            .await,
        );
    }
    let verify_seconds = clock.elapsed().as_secs_f64();
    Ok(DrillRecord {
        scenario: scenario.to_string(),
        scenario_fr: who.scenario_fr.to_string(),
        by: by.to_string(),
        point_time: point.time,
        restore_seconds,
        verify_seconds,
        measured_rto_seconds: restore_seconds + verify_seconds,
        rto_seconds: asset.rto.map(|r| r.as_secs()),
        measured_rpo_seconds: started.duration_since(point.time).as_secs(),
        checks,
    })
}

/// Runs the data set's check in the sandbox, with its timeout; the exit code decides.
pub(crate) async fn run_check(
    command: &str,
    sandbox: &Path,
    timeout: Duration,
    user: Option<&str>,
) -> DrillCheck {
    let mut cmd = match reprise_ops::commands::shell(command, user) {
        Ok(cmd) => cmd,
        Err(e) => {
            return DrillCheck {
                name: format!("command `{command}`"),
                name_fr: format!("commande `{command}`"),
                ok: false,
                detail: e.to_string(),
                detail_fr: e.to_string(),
            };
        }
    };
    let child = cmd
        .current_dir(sandbox)
        .env("REPRISE_DRILL_DIR", sandbox)
        .env("REPRISE_RESTORE_DIR", sandbox)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let name = format!("command `{command}`");
    let check = |ok: bool, detail: String, detail_fr: String| DrillCheck {
        name: name.clone(),
        name_fr: format!("commande `{command}`"),
        ok,
        detail,
        detail_fr,
    };
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            return check(
                false,
                format!("cannot run it: {e}"),
                format!("impossible de la lancer : {e}"),
            );
        }
    };
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Err(_) => check(
            false,
            format!("did not finish within {}s", timeout.as_secs()),
            format!("pas terminée en {} s", timeout.as_secs()),
        ),
        Ok(Err(e)) => check(false, e.to_string(), e.to_string()),
        Ok(Ok(out)) => {
            let mut text = String::from_utf8_lossy(&out.stdout).to_string();
            text.push_str(&String::from_utf8_lossy(&out.stderr));
            let tail: String = if text.len() > 4096 {
                let cut = text.len() - 4096;
                let start = (cut..text.len())
                    .find(|&i| text.is_char_boundary(i))
                    .unwrap_or(text.len());
                text[start..].to_string()
            } else {
                text
            };
            let detail = format!("{} — {}", out.status, tail.trim());
            check(out.status.success(), detail.clone(), detail)
        }
    }
}

/// When an asset's next restore test is due: a period (`drill_every` of the asset, else
/// of its policy) after its last drill, or after its first restore point when it never
/// had one. `None` when it has no data set or nothing to drill yet.
pub fn due_at(
    ctx: &Ctx<'_>,
    asset: &reprise_domain::Asset,
    last_drill: Option<Timestamp>,
    first_point: Option<Timestamp>,
) -> Option<Timestamp> {
    if asset.datasets.is_empty() {
        return None;
    }
    let every = asset
        .drill_every
        .or_else(|| ctx.inventory().policy_of(asset).map(|p| p.drill_every))?;
    let base = last_drill.or(first_point)?;
    base.checked_add(jiff::SignedDuration::from_secs(every.as_secs() as i64))
        .ok()
}

/// The assets whose restore test is due at `now`, for the server to run.
pub async fn due(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Vec<String>> {
    let drills = ctx.catalog.latest_runs(RunKind::Drill).await?;
    let last = reprise_ops::status::last_runs(&drills);
    // One read of every point, not one per asset: this runs on every scheduler pass.
    let mut first_points: std::collections::HashMap<String, Timestamp> = Default::default();
    for p in ctx.catalog.restore_points(None).await? {
        let first = first_points.entry(p.asset).or_insert(p.time);
        *first = (*first).min(p.time);
    }
    let mut out = Vec::new();
    for asset in &ctx.inventory().assets {
        let last_drill = last.get(asset.id.as_str()).map(|r| r.started);
        let first_point = first_points.get(asset.id.as_str()).copied();
        if due_at(ctx, asset, last_drill, first_point).is_some_and(|d| d <= now) {
            out.push(asset.id.to_string());
        }
    }
    Ok(out)
}

/// A recorded drill, read back.
#[derive(Debug, Clone, Serialize)]
pub struct DrillView {
    pub asset: String,
    pub dataset: String,
    pub started: Timestamp,
    pub ok: bool,
    pub snapshot: Option<String>,
    pub error: Option<String>,
    pub record: Option<DrillRecord>,
}

/// Drills, newest first (one asset's, or all).
pub async fn history(ctx: &Ctx<'_>, asset: Option<&str>) -> AppResult<Vec<DrillView>> {
    if let Some(a) = asset {
        ctx.asset(a)?;
    }
    let runs: Vec<Run> = ctx
        .catalog
        .runs(&RunFilter {
            asset: asset.map(str::to_string),
            kind: Some(RunKind::Drill),
            ..RunFilter::default()
        })
        .await?;
    Ok(runs
        .into_iter()
        .filter(|r| r.status != RunStatus::Running)
        .map(|r| DrillView {
            asset: r.asset.clone().unwrap_or_default(),
            dataset: r.dataset.clone().unwrap_or_default(),
            started: r.started,
            ok: r.status == RunStatus::Succeeded,
            snapshot: r.snapshot.clone(),
            error: r.error.clone(),
            record: r
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
        })
        .collect())
}

/// The drill report as text (what, when, who, how long, result), for auditors.
pub fn report_text(drills: &[DrillView], fr: bool, tz: &jiff::tz::TimeZone, title: &str) -> String {
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    let time = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let human = |s: f64| reprise_workspace::text::human(s.round().max(0.0) as u64);
    let mut out = format!(
        "{} — {title}\n{} {}\n\n",
        l(
            "RESTORE TEST (DRILL) REPORT",
            "RAPPORT DES TESTS DE RESTAURATION"
        ),
        drills.len(),
        l("drill(s)", "test(s)")
    );
    for d in drills {
        let result = if d.ok {
            l("PASSED", "RÉUSSI")
        } else {
            l("FAILED", "ÉCHOUÉ")
        };
        out.push_str(&format!(
            "- {} {}/{} — {result}\n",
            time(d.started),
            d.asset,
            d.dataset
        ));
        if let Some(r) = &d.record {
            let scenario = if fr { &r.scenario_fr } else { &r.scenario };
            out.push_str(&format!(
                "    {} {scenario}\n",
                l("scenario:", "scénario :")
            ));
            out.push_str(&format!("    {} {}\n", l("by:", "par :"), r.by));
            out.push_str(&format!(
                "    {} {} ({}, {} {})\n",
                l("restore point:", "point de restauration :"),
                d.snapshot
                    .as_deref()
                    .map_or("—", |s| reprise_workspace::text::short(s)),
                time(r.point_time),
                l("measured RPO", "RPO mesuré"),
                human(r.measured_rpo_seconds as f64)
            ));
            let rto = match r.rto_seconds {
                Some(t) if r.measured_rto_seconds <= t as f64 => {
                    format!("RTO {} ✓", reprise_workspace::text::human(t))
                }
                Some(t) => format!("RTO {} ✗", reprise_workspace::text::human(t)),
                None => l("no RTO", "pas de RTO").to_string(),
            };
            out.push_str(&format!(
                "    {} {} + {} {} = {} {} ({rto})\n",
                l("restore", "restauration"),
                human(r.restore_seconds),
                l("verification", "vérification"),
                human(r.verify_seconds),
                l("measured RTO", "RTO mesuré"),
                human(r.measured_rto_seconds)
            ));
            for c in &r.checks {
                let (name, detail) = if fr {
                    (&c.name_fr, &c.detail_fr)
                } else {
                    (&c.name, &c.detail)
                };
                out.push_str(&format!(
                    "    [{}] {name} — {detail}\n",
                    if c.ok { "ok" } else { "KO" }
                ));
            }
        }
        if let Some(e) = &d.error {
            out.push_str(&format!("    {} {e}\n", l("error:", "erreur :")));
        }
    }
    out
}

/// The drill report as a document for auditors (PDF): the provider's letterhead, a
/// summary, one table row per drill (when, what, who, the point and its age, the
/// measured RTO against the target, the result), then each failed check, in English or
/// French. Laid out by Typst, fonts embedded.
pub fn report_pdf(
    ctx: &Ctx<'_>,
    drills: &[DrillView],
    fr: bool,
    tz: &jiff::tz::TimeZone,
    title: &str,
) -> AppResult<Vec<u8>> {
    use crate::pv::{facts_table, letterhead, provider_and_client, render, table};
    use reprise_workspace::pdf::{escape, preamble};
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    let time = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let human = |s: f64| reprise_workspace::text::human(s.round().max(0.0) as u64);
    let heading = l(
        "RESTORE TEST (DRILL) REPORT",
        "RAPPORT DES TESTS DE RESTAURATION",
    );
    let (provider, client) = provider_and_client(ctx);
    let mut m = preamble(
        &format!("{heading} — {title}"),
        &format!("{provider} — {heading}"),
    );
    let (head, files) = letterhead(ctx)?;
    m.push_str(&head);
    m.push_str(&format!(
        "#align(center)[#text(size: 15pt, weight: \"bold\")[{}] \\ #text(size: 10pt)[{}]]\n#v(0.3cm)\n",
        escape(heading),
        escape(title)
    ));
    let passed = drills.iter().filter(|d| d.ok).count();
    let rto_met = drills
        .iter()
        .filter_map(|d| d.record.as_ref())
        .filter(|r| {
            r.rto_seconds
                .is_some_and(|t| r.measured_rto_seconds <= t as f64)
        })
        .count();
    let with_rto = drills
        .iter()
        .filter_map(|d| d.record.as_ref())
        .filter(|r| r.rto_seconds.is_some())
        .count();
    facts_table(
        &mut m,
        &[
            (l("Client", "Client"), client.clone()),
            (l("Provider", "Prestataire"), provider.clone()),
            (l("Drills", "Tests"), drills.len().to_string()),
            (
                l("Passed", "Réussis"),
                format!("{passed} / {}", drills.len()),
            ),
            (
                l("Within the RTO", "Dans le RTO"),
                format!("{rto_met} / {with_rto}"),
            ),
        ],
    );
    m.push_str(&format!("\n== {}\n", escape(l("Drills", "Tests"))));
    if drills.is_empty() {
        m.push_str(&format!(
            "{}\n",
            escape(l(
                "No drill in this period.",
                "Aucun test sur cette période."
            ))
        ));
    } else {
        let rows: Vec<Vec<String>> = drills
            .iter()
            .map(|d| {
                let result = if d.ok {
                    l("✓ PASSED", "✓ RÉUSSI")
                } else {
                    l("✗ FAILED", "✗ ÉCHOUÉ")
                };
                let (scenario, point, rto, target) = match &d.record {
                    Some(r) => (
                        format!(
                            "{}, {}",
                            if fr { &r.scenario_fr } else { &r.scenario },
                            r.by
                        ),
                        format!(
                            "{} ({})",
                            d.snapshot
                                .as_deref()
                                .map_or("—", |s| reprise_workspace::text::short(s)),
                            human(r.measured_rpo_seconds as f64)
                        ),
                        format!(
                            "{} + {} = {}",
                            human(r.restore_seconds),
                            human(r.verify_seconds),
                            human(r.measured_rto_seconds)
                        ),
                        match r.rto_seconds {
                            Some(t) if r.measured_rto_seconds <= t as f64 => {
                                format!("{} ✓", reprise_workspace::text::human(t))
                            }
                            Some(t) => format!("{} ✗", reprise_workspace::text::human(t)),
                            None => l("none", "aucune").to_string(),
                        },
                    ),
                    None => ("—".into(), "—".into(), "—".into(), "—".into()),
                };
                vec![
                    time(d.started),
                    format!("{}/{}", d.asset, d.dataset),
                    scenario,
                    point,
                    rto,
                    target,
                    result.to_string(),
                ]
            })
            .collect();
        table(
            &mut m,
            "(1fr, 1.5fr, 1.6fr, 0.9fr, 1.4fr, 1.1fr, 0.8fr)",
            &[
                l("When", "Date"),
                l("Asset / data set", "Actif / jeu"),
                l("Scenario, by", "Scénario, par"),
                l("Point (RPO)", "Point (RPO)"),
                l("Measured RTO", "RTO mesuré"),
                l("Target", "Cible"),
                l("Result", "Résultat"),
            ],
            &rows,
        );
    }
    // Every check of every drill, and the errors, in words. A command's output can be
    // long: its start says what happened.
    let brief = |text: &str| -> String {
        let text = text.trim();
        match text.char_indices().nth(240) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text.to_string(),
        }
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for d in drills {
        let what = format!("{} {}/{}", time(d.started), d.asset, d.dataset);
        for c in d.record.iter().flat_map(|r| r.checks.iter()) {
            let (name, detail) = if fr {
                (&c.name_fr, &c.detail_fr)
            } else {
                (&c.name, &c.detail)
            };
            let mark = if c.ok { "✓" } else { "✗" };
            rows.push(vec![what.clone(), name.clone(), mark.into(), brief(detail)]);
        }
        if let Some(e) = &d.error {
            rows.push(vec![
                what.clone(),
                l("error", "erreur").into(),
                "✗".into(),
                brief(e),
            ]);
        }
    }
    m.push_str(&format!("\n== {}\n", escape(l("Checks", "Vérifications"))));
    table(
        &mut m,
        "(1.3fr, 1.3fr, 0.6fr, 2.6fr)",
        &[
            l("Drill", "Test"),
            l("Check", "Vérification"),
            l("Result", "Résultat"),
            l("Detail", "Détail"),
        ],
        &rows,
    );
    render(&m, &files)
}
