//! Evidence packs for auditors (R001.7, R003.6): one archive per period holding the
//! backup plan (what, where, when, who — R002.9), policies and retention, drills with
//! their measured RTO and RPO, verification history, incidents and their reviews,
//! restore requests, readiness, key and secret rotations, erasures, alerts, and the
//! journal with its verification — each item mapped to the controls it supports, and a
//! summary (HTML and PDF, English and French) saying which controls have evidence for
//! the period and which do not.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use reprise_domain::DataSource;
use serde::Serialize;

use crate::export::{self, Filter, Kind, opt, time, write_table};
use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};

/// A period of time, half-open: `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Reads `2026-Q3`, `2026-11`, `2026` or `2026-07-01..2026-09-30` (days included), in
/// `tz`.
pub fn parse_period(text: &str, tz: &TimeZone) -> Result<Period, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "`{text}` is not a period: write a quarter (2026-Q3), a month (2026-11), a year (2026) or days (2026-07-01..2026-09-30)"
        )
    };
    let day = |y: i16, m: i8, d: i8| -> Result<Timestamp, String> {
        jiff::civil::date(y, m, d)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|_| bad())
    };
    let (from, to) = if let Some((a, b)) = text.split_once("..") {
        let a: jiff::civil::Date = a.trim().parse().map_err(|_| bad())?;
        let b: jiff::civil::Date = b.trim().parse().map_err(|_| bad())?;
        let b = b.tomorrow().map_err(|_| bad())?;
        if b <= a {
            return Err(format!("`{text}`: the period ends before it starts"));
        }
        (
            day(a.year(), a.month(), a.day())?,
            day(b.year(), b.month(), b.day())?,
        )
    } else {
        let parts: Vec<&str> = text.split('-').collect();
        let year: i16 = parts[0].parse().map_err(|_| bad())?;
        match parts.as_slice() {
            [_] => (day(year, 1, 1)?, day(year + 1, 1, 1)?),
            [_, q] if q.len() == 2 && (q.starts_with('Q') || q.starts_with('q')) => {
                let n: i8 = q[1..].parse().map_err(|_| bad())?;
                if !(1..=4).contains(&n) {
                    return Err(bad());
                }
                let start = (n - 1) * 3 + 1;
                let end = if n == 4 {
                    day(year + 1, 1, 1)?
                } else {
                    day(year, start + 3, 1)?
                };
                (day(year, start, 1)?, end)
            }
            [_, m] => {
                let m: i8 = m.parse().map_err(|_| bad())?;
                if !(1..=12).contains(&m) {
                    return Err(bad());
                }
                let end = if m == 12 {
                    day(year + 1, 1, 1)?
                } else {
                    day(year, m + 1, 1)?
                };
                (day(year, m, 1)?, end)
            }
            _ => return Err(bad()),
        }
    };
    Ok(Period {
        label: text.to_uppercase(),
        from,
        to,
    })
}

/// One kind of evidence in the pack, counted for the period.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub key: &'static str,
    pub file: String,
    pub en: &'static str,
    pub fr: &'static str,
    pub count: usize,
    /// Why the records, though present, do not evidence what the controls need (assets not
    /// ready, targets not approved, assets never restored in a test), in English and French.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shortfalls: Vec<(String, String)>,
}

/// A control of a framework and whether the period holds evidence for it.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    pub framework: &'static str,
    pub id: &'static str,
    pub title: &'static str,
    pub title_fr: &'static str,
    /// Items it needs; all must hold records for the period.
    pub required: Vec<&'static str>,
    /// Items that support it when present.
    pub supporting: Vec<&'static str>,
    pub evidenced: bool,
    /// What is missing, in English and French.
    pub gaps: Vec<(String, String)>,
}

/// What a pack holds.
#[derive(Debug, Clone, Serialize)]
pub struct Pack {
    pub workspace: String,
    pub period: Period,
    pub generated: Timestamp,
    pub journal_intact: bool,
    pub journal_entries: usize,
    pub items: Vec<Item>,
    pub controls: Vec<Control>,
    /// The archive (or directory) written.
    pub path: PathBuf,
}

/// The controls Reprise gathers evidence for, and the items each one rests on.
type ControlDef = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);
const CONTROLS: [ControlDef; 9] = [
    (
        "ISO 27001:2022",
        "A.5.29",
        "Information security during disruption",
        "Sécurité de l'information lors d'une perturbation",
        &["drills", "journal"],
        &["incidents", "reviews", "backup_plan"],
    ),
    (
        "ISO 27001:2022",
        "A.5.30",
        "ICT readiness for business continuity",
        "Préparation des TIC pour la continuité d'activité",
        &["drills", "readiness"],
        &["requests", "policies"],
    ),
    (
        "ISO 27001:2022",
        "A.8.13",
        "Information backup",
        "Sauvegarde des informations",
        &["backup_plan", "backups", "verifications"],
        &["policies", "rotations", "erasures"],
    ),
    (
        "ISO 27001:2022",
        "A.8.14",
        "Redundancy of information processing facilities",
        "Redondance des moyens de traitement de l'information",
        &["copies"],
        &["backup_plan"],
    ),
    (
        "SOC 2",
        "A1.2",
        "Backup processes and recovery infrastructure",
        "Processus de sauvegarde et infrastructure de reprise",
        &["backup_plan", "backups", "copies"],
        &["verifications", "rotations"],
    ),
    (
        "SOC 2",
        "A1.3",
        "Recovery plan procedures are tested",
        "Les procédures du plan de reprise sont testées",
        &["drills"],
        &["readiness"],
    ),
    (
        "SOC 2",
        "CC7.4",
        "Response to identified security incidents",
        "Réponse aux incidents de sécurité identifiés",
        &["journal"],
        &["incidents", "alerts"],
    ),
    (
        "SOC 2",
        "CC7.5",
        "Recovery from identified security incidents",
        "Rétablissement après les incidents de sécurité identifiés",
        &["drills", "reviews"],
        &["requests", "incidents"],
    ),
    (
        "NIST CSF 2.0",
        "RC.RP",
        "Incident recovery plan execution",
        "Exécution du plan de reprise après incident",
        &["drills", "reviews"],
        &["incidents", "requests", "backups"],
    ),
];

/// Builds the evidence pack for `period` at `out`: a `.tar.gz` archive when the name
/// ends so, else a directory.
pub async fn build(ctx: &Ctx<'_>, period: &Period, out: &Path) -> AppResult<Pack> {
    let archive = out.to_string_lossy().ends_with(".tar.gz");
    let name = format!("reprise-evidence-{}", period.label);
    let staging = if archive {
        ctx.workspace().root.join(".reprise").join(&name)
    } else {
        out.to_path_buf()
    };
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| AppError::Failed(format!("cannot write {}: {e}", staging.display())))?;
    let result = gather(ctx, period, &staging).await;
    let pack = match result {
        Ok(mut pack) => {
            if archive {
                write_archive(&staging, &name, out)?;
                let _ = std::fs::remove_dir_all(&staging);
            }
            pack.path = out.to_path_buf();
            pack
        }
        Err(e) => {
            if archive {
                let _ = std::fs::remove_dir_all(&staging);
            }
            return Err(e);
        }
    };
    Ok(pack)
}

/// The pack of `period` as the bytes of a `.tar.gz` archive, with its file name: what a
/// server sends. Built in the workspace's private directory, then removed.
pub async fn archive(ctx: &Ctx<'_>, period: &Period) -> AppResult<(String, Vec<u8>)> {
    let name = format!("reprise-evidence-{}.tar.gz", period.label);
    let out = ctx.workspace().root.join(".reprise").join(format!(
        "sending-{}-{name}",
        Timestamp::now().as_microsecond()
    ));
    let built = build(ctx, period, &out).await;
    let bytes = built.and_then(|_| {
        std::fs::read(&out)
            .map_err(|e| AppError::Failed(format!("cannot read {}: {e}", out.display())))
    });
    let _ = std::fs::remove_file(&out);
    Ok((name, bytes?))
}

fn write_archive(dir: &Path, name: &str, out: &Path) -> AppResult<()> {
    let fail = |e: &dyn std::fmt::Display| {
        AppError::Failed(format!("cannot write {}: {e}", out.display()))
    };
    let file = std::fs::File::create(out).map_err(|e| fail(&e))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(name, dir).map_err(|e| fail(&e))?;
    tar.into_inner()
        .and_then(|gz| gz.finish())
        .map_err(|e| fail(&e))?;
    Ok(())
}

async fn gather(ctx: &Ctx<'_>, period: &Period, dir: &Path) -> AppResult<Pack> {
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let mut items = Vec::new();
    backup_plan(ctx, dir, &mut items)?;
    policies(ctx, dir, &mut items)?;
    let in_period = Filter {
        since: Some(period.from),
        until: Some(period.to),
        ..Filter::default()
    };
    runs(ctx, &in_period, dir, &mut items).await?;
    drills(ctx, period, dir, &mut items).await?;
    let (reviews_count, unreviewed) = incidents(ctx, period, &in_period, dir, &mut items).await?;
    requests_and_alerts(ctx, &in_period, dir, &mut items).await?;
    readiness(ctx, dir, &mut items).await?;
    rotations(ctx, period, dir, &mut items).await?;
    erasures(ctx, period, dir, &mut items).await?;
    let (verdict, entries) = journal(ctx, period, dir, &mut items).await?;
    items.push(item(
        "reviews",
        "incident-reviews.csv",
        "Post-incident reviews of incidents closed in the period",
        "Revues post-incident des incidents clos sur la période",
        reviews_count,
    ));

    let controls = controls(&items, &unreviewed, verdict.first_problem().as_deref());
    write_controls(dir, &controls, &items)?;
    let pack = Pack {
        workspace: ctx
            .loaded
            .config
            .name
            .clone()
            .unwrap_or_else(|| "Reprise".into()),
        period: period.clone(),
        generated: Timestamp::now(),
        journal_intact: verdict.intact,
        journal_entries: entries.len(),
        items,
        controls,
        path: dir.to_path_buf(),
    };
    write_summaries(&pack, dir, &tz)?;
    Ok(pack)
}

fn item(key: &'static str, file: &str, en: &'static str, fr: &'static str, count: usize) -> Item {
    Item {
        key,
        file: file.to_string(),
        en,
        fr,
        count,
        shortfalls: Vec::new(),
    }
}

/// The backup plan: what, where, when, who (R002.9).
fn backup_plan(ctx: &Ctx<'_>, dir: &Path, items: &mut Vec<Item>) -> AppResult<()> {
    let inv = ctx.inventory();
    let mut plan_rows = Vec::new();
    for a in &inv.assets {
        let policy = ctx.policy_of(a).ok();
        for d in &a.datasets {
            let what = match &d.source {
                DataSource::Paths { paths, .. } => paths.join(" "),
                DataSource::Command { command, .. } => format!("$ {command}"),
                DataSource::Device { collect, .. } => {
                    format!("device {} ({})", collect.address, collect.model)
                }
            };
            plan_rows.push(vec![
                a.id.to_string(),
                a.site.to_string(),
                opt(a.owner.as_ref()),
                d.name.clone(),
                opt(d.category.as_ref()),
                what,
                opt(policy.map(|p| p.id.to_string())),
                opt(policy.map(|p| p.schedule.to_string())),
                opt(policy.map(|p| p.repository.to_string())),
                policy
                    .map(|p| {
                        p.copy_to
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default(),
                opt(a.rpo),
                opt(a.rto),
            ]);
        }
    }
    write_table(
        dir,
        "backup-plan",
        &[
            "asset",
            "site",
            "owner",
            "dataset",
            "category",
            "what",
            "policy",
            "schedule",
            "repository",
            "copies",
            "rpo",
            "rto",
        ],
        &plan_rows,
    )?;
    items.push(item(
        "backup_plan",
        "backup-plan.csv",
        "Backup plan: what, where, when, who",
        "Plan de sauvegarde : quoi, où, quand, qui",
        plan_rows.len(),
    ));

    Ok(())
}

/// Policies, their retention and the data categories.
fn policies(ctx: &Ctx<'_>, dir: &Path, items: &mut Vec<Item>) -> AppResult<()> {
    let inv = ctx.inventory();
    let policy_rows: Vec<Vec<String>> = inv
        .policies
        .iter()
        .map(|p| {
            let r = &p.retention;
            vec![
                p.id.to_string(),
                p.schedule.to_string(),
                p.repository.to_string(),
                p.copy_to
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                opt(r.keep_last),
                opt(r.keep_daily),
                opt(r.keep_weekly),
                opt(r.keep_monthly),
                opt(r.keep_yearly),
                opt(r.keep_within),
                opt(r.max_age),
                p.drill_every.to_string(),
            ]
        })
        .collect();
    write_table(
        dir,
        "policies",
        &[
            "policy",
            "schedule",
            "repository",
            "copies",
            "keep_last",
            "keep_daily",
            "keep_weekly",
            "keep_monthly",
            "keep_yearly",
            "keep_within",
            "max_age",
            "drill_every",
        ],
        &policy_rows,
    )?;
    let category_rows: Vec<Vec<String>> = inv
        .all_categories()
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                opt(c.description.as_ref()),
                opt(c.min_retention),
                opt(c.max_retention),
            ]
        })
        .collect();
    write_table(
        dir,
        "categories",
        &["category", "description", "min_retention", "max_retention"],
        &category_rows,
    )?;
    items.push(item(
        "policies",
        "policies.csv, categories.csv",
        "Policies, retention and data categories",
        "Politiques, rétention et catégories de données",
        policy_rows.len(),
    ));

    Ok(())
}

/// Backups, copies and verifications run in the period.
async fn runs(
    ctx: &Ctx<'_>,
    in_period: &Filter,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<()> {
    for (key, kind_type, file, en, fr) in [
        (
            "backups",
            "backup",
            "backups",
            "Backups run in the period",
            "Sauvegardes exécutées sur la période",
        ),
        (
            "copies",
            "copy",
            "copies",
            "Copies to other repositories (3-2-1)",
            "Copies vers d'autres dépôts (3-2-1)",
        ),
        (
            "verifications",
            "verify",
            "verifications",
            "Integrity verifications",
            "Vérifications d'intégrité",
        ),
    ] {
        let filter = Filter {
            kind_type: Some(kind_type.into()),
            ..in_period.clone()
        };
        let sheet = export::sheet(ctx, Kind::Runs, &filter).await?;
        write_table(dir, file, &sheet.header, &sheet.rows)?;
        let done = sheet.rows.iter().filter(|r| r[8] == "succeeded").count();
        items.push(item(key, &format!("{file}.csv"), en, fr, done));
    }
    // Copies made are not redundancy when they share a disk or no copy is off-site.
    let statuses = reprise_ops::status::run(ctx, Timestamp::now()).await?;
    let backed: Vec<_> = statuses.iter().filter(|s| s.restore_points > 0).collect();
    let short: Vec<&str> = backed
        .iter()
        .filter(|s| !s.rule_3_2_1)
        .map(|s| s.asset.as_str())
        .collect();
    if !short.is_empty()
        && let Some(copies) = items.iter_mut().find(|i| i.key == "copies")
    {
        let names = short.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        let more = if short.len() > 5 { ", …" } else { "" };
        copies.shortfalls.push((
            format!(
                "{} of {} assets with restore points do not meet the 3-2-1 rule ({names}{more}; `reprise status` says why)",
                short.len(),
                backed.len()
            ),
            format!(
                "{} actifs sur {} ayant des points de restauration ne respectent pas la règle 3-2-1 ({names}{more} ; `reprise status` dit pourquoi)",
                short.len(),
                backed.len()
            ),
        ));
    }

    Ok(())
}

/// Drills, with what they measured against the targets.
async fn drills(
    ctx: &Ctx<'_>,
    period: &Period,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<()> {
    let drills: Vec<_> = reprise_recovery::drill::history(ctx, None)
        .await?
        .into_iter()
        .filter(|d| d.started >= period.from && d.started < period.to)
        .collect();
    let drill_rows: Vec<Vec<String>> = drills
        .iter()
        .map(|d| {
            let r = d.record.as_ref();
            vec![
                d.asset.clone(),
                d.dataset.clone(),
                time(d.started),
                if d.ok { "passed" } else { "failed" }.to_string(),
                opt(d.snapshot.as_ref()),
                opt(r.map(|r| format!("{:.1}", r.measured_rto_seconds))),
                opt(r.and_then(|r| r.rto_seconds)),
                opt(r.map(|r| r.measured_rpo_seconds)),
                opt(r.map(|r| r.scenario.clone())),
                opt(r.map(|r| r.by.clone())),
                opt(d.error.as_ref()),
            ]
        })
        .collect();
    write_table(
        dir,
        "drills",
        &[
            "asset",
            "dataset",
            "started",
            "result",
            "restore_point",
            "measured_rto_s",
            "target_rto_s",
            "measured_rpo_s",
            "scenario",
            "by",
            "error",
        ],
        &drill_rows,
    )?;
    let mut found = item(
        "drills",
        "drills.csv",
        "Restore tests with measured RTO and RPO",
        "Tests de restauration avec RTO et RPO mesurés",
        drills.iter().filter(|d| d.ok).count(),
    );
    // Every data set of every asset holding data needs a passed test in the period.
    let inv = ctx.inventory();
    let untested: Vec<String> = inv
        .assets
        .iter()
        .flat_map(|a| {
            a.datasets
                .iter()
                .map(move |d| (a.id.as_str(), d.name.as_str()))
        })
        .filter(|(a, d)| {
            !drills
                .iter()
                .any(|x| x.ok && x.asset == *a && x.dataset == *d)
        })
        .map(|(a, d)| format!("{a}/{d}"))
        .collect();
    let sets = inv.assets.iter().map(|a| a.datasets.len()).sum::<usize>();
    if !untested.is_empty() && found.count > 0 {
        let shown = untested
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let more = if untested.len() > 5 { ", …" } else { "" };
        found.shortfalls.push((
            format!(
                "{} of {sets} data sets had no passed restore test in the period ({shown}{more})",
                untested.len()
            ),
            format!(
                "{} jeux de données sur {sets} n'ont eu aucun test de restauration réussi sur la période ({shown}{more})",
                untested.len()
            ),
        ));
    }
    items.push(found);

    Ok(())
}

/// Incidents of the period, and the reviews of those closed in it: how many were
/// reviewed, and which were closed without a review.
async fn incidents(
    ctx: &Ctx<'_>,
    period: &Period,
    in_period: &Filter,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<(usize, Vec<i64>)> {
    let incidents = export::sheet(ctx, Kind::Incidents, in_period).await?;
    write_table(dir, "incidents", &incidents.header, &incidents.rows)?;
    items.push(item(
        "incidents",
        "incidents.csv",
        "Incidents opened in the period",
        "Incidents ouverts sur la période",
        incidents.rows.len(),
    ));
    let mut review_rows = Vec::new();
    let mut unreviewed = Vec::new();
    for row in ctx.catalog.incidents(false).await? {
        let Some(closed) = row.closed else { continue };
        if closed < period.from || closed >= period.to {
            continue;
        }
        let incident = reprise_recovery::incident::from_row(row)?;
        let row = &incident.row;
        match &incident.doc.review {
            Some(review) => review_rows.push(vec![
                row.id.to_string(),
                row.title.clone(),
                time(closed),
                opt(review.held.map(time)),
                opt(review.root_cause.as_ref()),
                review.actions.len().to_string(),
            ]),
            None => unreviewed.push(row.id),
        }
    }
    write_table(
        dir,
        "incident-reviews",
        &[
            "incident",
            "title",
            "closed",
            "review_held",
            "root_cause",
            "actions",
        ],
        &review_rows,
    )?;
    let reviews_count = review_rows.len();

    Ok((reviews_count, unreviewed))
}

/// Restore requests and alerts of the period.
async fn requests_and_alerts(
    ctx: &Ctx<'_>,
    in_period: &Filter,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<()> {
    let requests = export::sheet(ctx, Kind::Requests, in_period).await?;
    write_table(dir, "requests", &requests.header, &requests.rows)?;
    items.push(item(
        "requests",
        "requests.csv",
        "Restore requests",
        "Demandes de restauration",
        requests.rows.len(),
    ));
    let alerts = export::sheet(ctx, Kind::Alerts, in_period).await?;
    write_table(dir, "alerts", &alerts.header, &alerts.rows)?;
    items.push(item(
        "alerts",
        "alerts.csv",
        "Alerts raised",
        "Alertes levées",
        alerts.rows.len(),
    ));

    Ok(())
}

/// Go-live readiness per site and asset, at generation.
async fn readiness(ctx: &Ctx<'_>, dir: &Path, items: &mut Vec<Item>) -> AppResult<()> {
    let readiness = reprise_recovery::readiness::check(ctx, None, Timestamp::now()).await?;
    std::fs::write(
        dir.join("readiness.json"),
        serde_json::to_string_pretty(&readiness).expect("serialisable"),
    )
    .map_err(|e| AppError::Failed(format!("cannot write readiness.json: {e}")))?;
    let mut found = item(
        "readiness",
        "readiness.json",
        "Go-live readiness per site and asset (at generation)",
        "Préparation au démarrage par site et actif (à la génération)",
        readiness.assets.len(),
    );
    let total = readiness.assets.len();
    let not_ready = readiness.assets.iter().filter(|a| !a.ready).count();
    if not_ready > 0 {
        found.shortfalls.push((
            format!("{not_ready} of {total} assets are not ready (readiness.json says what blocks each)"),
            format!("{not_ready} actifs sur {total} ne sont pas prêts (readiness.json dit ce qui bloque chacun)"),
        ));
    }
    let unapproved = readiness
        .assets
        .iter()
        .filter(|a| a.items.iter().any(|i| i.key == "approval" && !i.met))
        .count();
    if unapproved > 0 {
        found.shortfalls.push((
            format!("{unapproved} of {total} assets have RPO/RTO targets not approved by their owner"),
            format!("{unapproved} actifs sur {total} ont des objectifs RPO/RTO non validés par leur responsable"),
        ));
    }
    items.push(found);

    Ok(())
}

/// Key and secret rotations.
async fn rotations(
    ctx: &Ctx<'_>,
    period: &Period,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<()> {
    let rotations = ctx.catalog.rotations().await?;
    let rotation_rows: Vec<Vec<String>> = rotations
        .iter()
        .map(|(secret, at)| vec![secret.clone(), time(*at)])
        .collect();
    write_table(
        dir,
        "rotations",
        &["secret", "last_rotated"],
        &rotation_rows,
    )?;
    items.push(item(
        "rotations",
        "rotations.csv",
        "Key and secret rotations in the period",
        "Rotations de clés et de secrets sur la période",
        rotations
            .iter()
            .filter(|(_, at)| *at >= period.from && *at < period.to)
            .count(),
    ));

    Ok(())
}

/// Erasures of the period, with their proof.
async fn erasures(
    ctx: &Ctx<'_>,
    period: &Period,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<()> {
    let erasures: Vec<_> = reprise_ops::erase::list(ctx, None)
        .await?
        .into_iter()
        .filter(|e| e.created >= period.from && e.created < period.to)
        .collect();
    let erasure_rows: Vec<Vec<String>> = erasures
        .iter()
        .map(|e| {
            let rewritten: usize = e.doc.result.iter().map(|r| r.rewritten.len()).sum();
            vec![
                e.id.to_string(),
                e.asset.clone(),
                e.state.clone(),
                time(e.created),
                opt(e.finished.map(time)),
                e.doc.requested_by.clone(),
                opt(e.doc.executed_by.as_ref()),
                e.doc.reason.clone(),
                e.doc.paths.len().to_string(),
                rewritten.to_string(),
            ]
        })
        .collect();
    write_table(
        dir,
        "erasures",
        &[
            "erasure",
            "asset",
            "state",
            "planned",
            "finished",
            "requested_by",
            "executed_by",
            "reason",
            "paths",
            "restore_points_rewritten",
        ],
        &erasure_rows,
    )?;
    items.push(item(
        "erasures",
        "erasures.csv",
        "Erasures with proof (GDPR)",
        "Effacements avec preuve (RGPD)",
        erasures.iter().filter(|e| e.state == "executed").count(),
    ));

    Ok(())
}

/// The journal, exported with its verification: its verdict and entries.
async fn journal(
    ctx: &Ctx<'_>,
    period: &Period,
    dir: &Path,
    items: &mut Vec<Item>,
) -> AppResult<(
    reprise_ops::journal::Verdict,
    Vec<reprise_catalog::JournalEntry>,
)> {
    let (_, verdict) = reprise_ops::journal::export(ctx, &dir.join("journal")).await?;
    let (entries, _) = reprise_ops::journal::check(ctx).await?;
    items.push(item(
        "journal",
        "journal/",
        "Tamper-evident journal and its verification",
        "Journal inviolable et sa vérification",
        if verdict.first_break.is_none() {
            entries
                .iter()
                .filter(|e| e.at >= period.from && e.at < period.to)
                .count()
        } else {
            0
        },
    ));
    Ok((verdict, entries))
}

/// Each control, evidenced when every item it requires holds a record of the period.
fn controls(items: &[Item], unreviewed: &[i64], journal_broken: Option<&str>) -> Vec<Control> {
    let count = |key: &str| items.iter().find(|i| i.key == key).map_or(0, |i| i.count);
    CONTROLS
        .iter()
        .map(|(framework, id, title, title_fr, required, supporting)| {
            let mut gaps = Vec::new();
            for key in *required {
                // No incident closed in the period: no review was due.
                if *key == "reviews" {
                    for n in unreviewed {
                        gaps.push((
                            format!("incident {n} was closed without a post-incident review"),
                            format!("l'incident {n} a été clos sans revue post-incident"),
                        ));
                    }
                    continue;
                }
                if *key == "journal"
                    && let Some(problem) = journal_broken
                {
                    gaps.push((
                        format!("the journal's verification failed: {problem}"),
                        format!("la vérification du journal a échoué : {problem}"),
                    ));
                    continue;
                }
                if let Some(item) = items.iter().find(|i| i.key == *key) {
                    gaps.extend(item.shortfalls.iter().cloned());
                }
                if count(key) == 0 {
                    let item = items.iter().find(|i| i.key == *key).expect("item");
                    gaps.push((
                        format!("no record for the period: {}", item.en.to_lowercase()),
                        format!(
                            "aucun enregistrement sur la période : {}",
                            item.fr.to_lowercase()
                        ),
                    ));
                }
            }
            Control {
                framework,
                id,
                title,
                title_fr,
                required: required.to_vec(),
                supporting: supporting.to_vec(),
                evidenced: gaps.is_empty(),
                gaps,
            }
        })
        .collect()
}

/// The control mapping as a sheet.
fn write_controls(dir: &Path, controls: &[Control], items: &[Item]) -> AppResult<()> {
    let control_rows: Vec<Vec<String>> = controls
        .iter()
        .map(|c| {
            vec![
                c.framework.to_string(),
                c.id.to_string(),
                c.title.to_string(),
                if c.evidenced { "evidenced" } else { "gap" }.to_string(),
                c.required
                    .iter()
                    .chain(&c.supporting)
                    .filter_map(|k| items.iter().find(|i| i.key == *k))
                    .map(|i| i.file.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                c.gaps
                    .iter()
                    .map(|g| g.0.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    write_table(
        dir,
        "controls",
        &[
            "framework",
            "control",
            "title",
            "status",
            "evidence",
            "gaps",
        ],
        &control_rows,
    )?;
    Ok(())
}

/// The summary in both languages, as text, HTML and PDF.
fn write_summaries(pack: &Pack, dir: &Path, tz: &TimeZone) -> AppResult<()> {
    for fr in [false, true] {
        let lang = if fr { "fr" } else { "en" };
        let text = summary_text(pack, fr, tz);
        let title = text.lines().next().unwrap_or("Reprise").to_string();
        let write = |name: String, bytes: &[u8]| {
            std::fs::write(dir.join(&name), bytes)
                .map_err(|e| AppError::Failed(format!("cannot write {name}: {e}")))
        };
        write(format!("summary.{lang}.txt"), text.as_bytes())?;
        write(
            format!("summary.{lang}.html"),
            summary_html(pack, fr, tz).as_bytes(),
        )?;
        write(
            format!("summary.{lang}.pdf"),
            &reprise_workspace::pdf::text_document(&title, &text).map_err(|e| {
                AppError::Failed(format!("the summary's PDF could not be laid out: {e}"))
            })?,
        )?;
    }
    Ok(())
}

fn day(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%Y-%m-%d").to_string()
}

/// The last day of the period (its end is excluded).
fn last_day(p: &Period, tz: &TimeZone) -> String {
    day(p.to - jiff::SignedDuration::from_secs(1), tz)
}

/// Whether a control has evidence, in words.
fn status_label(evidenced: bool, fr: bool) -> &'static str {
    match (evidenced, fr) {
        (true, false) => "evidenced",
        (true, true) => "preuves présentes",
        (false, false) => "no evidence",
        (false, true) => "sans preuve",
    }
}

/// The summary as text: the title on the first line.
pub fn summary_text(pack: &Pack, fr: bool, tz: &TimeZone) -> String {
    let mut t = String::new();
    let p = &pack.period;
    let evidenced = pack.controls.iter().filter(|c| c.evidenced).count();
    let (from, to) = (day(p.from, tz), last_day(p, tz));
    let generated = pack
        .generated
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M");
    let (entries, total) = (pack.journal_entries, pack.controls.len());
    t += &if fr {
        format!(
            "Dossier de preuves {} — {}\n\nPériode : du {from} au {to} inclus. Généré le {generated}.\nJournal : {entries} entrées, {}.\n\nContrôles couverts : {evidenced} sur {total}\n",
            p.label,
            pack.workspace,
            if pack.journal_intact {
                "chaîne intacte"
            } else {
                "CHAÎNE ALTÉRÉE"
            },
        )
    } else {
        format!(
            "Evidence pack {} — {}\n\nPeriod: {from} to {to} included. Generated {generated}.\nJournal: {entries} entries, {}.\n\nControls with evidence: {evidenced} of {total}\n",
            p.label,
            pack.workspace,
            if pack.journal_intact {
                "chain intact"
            } else {
                "CHAIN ALTERED"
            },
        )
    };
    for c in &pack.controls {
        // A gap stands out in plain text.
        let status = if c.evidenced {
            status_label(true, fr).to_string()
        } else {
            status_label(false, fr).to_uppercase()
        };
        t += &format!(
            "  {} {} {} — {status}\n",
            c.framework,
            c.id,
            if fr { c.title_fr } else { c.title }
        );
        for (en, f) in &c.gaps {
            t += &format!("      {}\n", if fr { f } else { en });
        }
    }
    t += if fr {
        "\nPièces du dossier\n"
    } else {
        "\nItems in the pack\n"
    };
    for i in &pack.items {
        t += &format!(
            "  {} — {}: {}\n",
            i.file,
            if fr { i.fr } else { i.en },
            i.count
        );
    }
    t
}

use reprise_workspace::html::escape as esc;

/// The summary as one self-contained HTML page.
pub(crate) fn summary_html(pack: &Pack, fr: bool, tz: &TimeZone) -> String {
    let text = summary_text(pack, fr, tz);
    let title = esc(text.lines().next().unwrap_or(""));
    let intro: String = text
        .lines()
        .skip(2)
        .take(2)
        .map(|l| format!("<p>{}</p>\n", esc(l)))
        .collect();
    let (h_fw, h_ctl, h_status, h_evidence) = if fr {
        ("Référentiel", "Contrôle", "État", "Preuves et manques")
    } else {
        ("Framework", "Control", "Status", "Evidence and gaps")
    };
    let mut rows = String::new();
    for c in &pack.controls {
        let files: Vec<String> = c
            .required
            .iter()
            .chain(&c.supporting)
            .filter_map(|k| pack.items.iter().find(|i| i.key == *k))
            .map(|i| format!("<code>{}</code> ({})", esc(&i.file), i.count))
            .collect();
        let gaps: String = c
            .gaps
            .iter()
            .map(|(en, f)| format!("<li>{}</li>", esc(if fr { f } else { en })))
            .collect();
        rows += &format!(
            "<tr class=\"{cls}\"><td>{}</td><td><strong>{}</strong> {}</td><td>{}</td><td>{}{}</td></tr>\n",
            esc(c.framework),
            esc(c.id),
            esc(if fr { c.title_fr } else { c.title }),
            status_label(c.evidenced, fr),
            files.join(", "),
            if gaps.is_empty() {
                String::new()
            } else {
                format!("<ul>{gaps}</ul>")
            },
            cls = if c.evidenced { "ok" } else { "gap" },
        );
    }
    let items: String = pack
        .items
        .iter()
        .map(|i| {
            format!(
                "<li><code>{}</code> — {}: {}</li>\n",
                esc(&i.file),
                esc(if fr { i.fr } else { i.en }),
                i.count
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>\nbody {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; }}\ntable {{ border-collapse: collapse; width: 100%; }}\nth, td {{ border-bottom: 1px solid #ccc; padding: .4rem; text-align: left; vertical-align: top; }}\ntr.ok td:nth-child(3) {{ color: #0a5d1a; font-weight: 600; }}\ntr.gap td:nth-child(3) {{ color: #9b1c1c; font-weight: 600; }}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n{intro}<table>\n<thead><tr><th scope=\"col\">{h_fw}</th><th scope=\"col\">{h_ctl}</th><th scope=\"col\">{h_status}</th><th scope=\"col\">{h_evidence}</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n<h2>{h_items}</h2>\n<ul>\n{items}</ul>\n</body>\n</html>\n",
        lang = if fr { "fr" } else { "en" },
        h_items = if fr {
            "Pièces du dossier"
        } else {
            "Items in the pack"
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_quarters_months_years_or_days() {
        let utc = TimeZone::UTC;
        let q = parse_period("2026-Q3", &utc).unwrap();
        assert_eq!(q.from, "2026-07-01T00:00:00Z".parse().unwrap());
        assert_eq!(q.to, "2026-10-01T00:00:00Z".parse().unwrap());
        let q4 = parse_period("2026-q4", &utc).unwrap();
        assert_eq!(q4.to, "2027-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(q4.label, "2026-Q4");
        let m = parse_period("2026-02", &utc).unwrap();
        assert_eq!(m.to, "2026-03-01T00:00:00Z".parse().unwrap());
        let days = parse_period("2026-07-01..2026-07-15", &utc).unwrap();
        assert_eq!(days.to, "2026-07-16T00:00:00Z".parse().unwrap());
        assert!(parse_period("2026-Q5", &utc).is_err());
        assert!(
            parse_period("last quarter", &utc)
                .unwrap_err()
                .contains("2026-Q3")
        );
    }
}
