//! CSV exports (R002.4, R002.6): runs, restore points, incidents, drills, restore
//! requests, alerts and the inventory, filtered by site, period and type, on demand or on
//! a schedule (`[[export]]`) into a directory or a repository. An export with no row says
//! why (the period, the site, the type) instead of writing an empty file.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use reprise_catalog::{NewRun, RunFilter, RunKind, RunOutcome, RunStatus};
use reprise_engine::{BackupRequest, BackupSource};
use serde::Serialize;

use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::repos::{self, blocking};
use reprise_workspace::config::ExportSettings;

pub use reprise_workspace::config::ExportKind as Kind;

/// Which rows to export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filter {
    pub site: Option<String>,
    /// Rows at or after this time.
    pub since: Option<Timestamp>,
    /// Rows before this time.
    pub until: Option<Timestamp>,
    /// See [`Kind::type_meaning`].
    #[serde(rename = "type")]
    pub kind_type: Option<String>,
}

impl Filter {
    fn in_period(&self, at: Timestamp) -> bool {
        self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at < u)
    }

    fn of_type(&self, value: &str) -> bool {
        self.kind_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case(value))
    }
}

/// One export's rows.
#[derive(Debug, Clone, Serialize)]
pub struct Sheet {
    pub kind: Kind,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// What an export wrote (or why it wrote nothing).
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub kind: Kind,
    pub file: Option<PathBuf>,
    pub rows: usize,
    /// Why nothing was written.
    pub empty: Option<String>,
}

pub(crate) fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(crate) fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The rows of `kind` matching `filter`.
pub async fn sheet(ctx: &Ctx<'_>, kind: Kind, filter: &Filter) -> AppResult<Sheet> {
    if let Some(site) = &filter.site
        && !ctx.inventory().sites.iter().any(|s| s.id.as_str() == site)
    {
        return Err(AppError::Invalid(format!("unknown site `{site}`")));
    }
    let within = Within {
        inv: ctx.inventory(),
        filter,
    };
    let (header, rows) = match kind {
        Kind::Runs | Kind::Drills => runs(ctx, &within, kind).await?,
        Kind::Points => points(ctx, &within).await?,
        Kind::Incidents => incidents(ctx, &within).await?,
        Kind::Requests => requests(ctx, &within).await?,
        Kind::Alerts => alerts(ctx, &within).await?,
        Kind::Inventory => assets(ctx, &within).await?,
    };
    Ok(Sheet { kind, header, rows })
}

/// A sheet's header and rows.
type Columns = (Vec<&'static str>, Vec<Vec<String>>);

/// What a sheet is filtered by.
struct Within<'a> {
    inv: &'a reprise_domain::Inventory,
    filter: &'a Filter,
}

impl Within<'_> {
    fn site_of(&self, asset: &str) -> Option<String> {
        self.inv.asset(asset).map(|a| a.site.to_string())
    }

    fn at_site(&self, asset: Option<&str>) -> bool {
        match &self.filter.site {
            None => true,
            Some(site) => asset.and_then(|a| self.site_of(a)).as_deref() == Some(site.as_str()),
        }
    }
}

async fn runs(ctx: &Ctx<'_>, within: &Within<'_>, kind: Kind) -> AppResult<Columns> {
    let runs = ctx
        .catalog
        .runs(&RunFilter {
            kind: (kind == Kind::Drills).then_some(RunKind::Drill),
            ..RunFilter::default()
        })
        .await?;
    let header = vec![
        "id",
        "kind",
        "site",
        "asset",
        "dataset",
        "repository",
        "started",
        "finished",
        "status",
        "seconds",
        "snapshot",
        "files",
        "bytes_read",
        "bytes_added",
        "error",
    ];
    let mut rows: Vec<Vec<String>> = runs
        .into_iter()
        .filter(|r| within.at_site(r.asset.as_deref()) && within.filter.in_period(r.started))
        .filter(|r| match kind {
            Kind::Drills => within.filter.of_type(r.status.as_str()),
            _ => within.filter.of_type(r.kind.as_str()),
        })
        .map(|r| {
            vec![
                r.id.to_string(),
                r.kind.as_str().to_string(),
                opt(r.asset.as_deref().and_then(|a| within.site_of(a))),
                opt(r.asset.clone()),
                opt(r.dataset.clone()),
                opt(r.repository.clone()),
                time(r.started),
                opt(r.finished.map(time)),
                r.status.as_str().to_string(),
                opt(r.duration().map(|d| format!("{:.1}", d.as_secs_f64()))),
                opt(r.snapshot.clone()),
                opt(r.files),
                opt(r.bytes_read),
                opt(r.bytes_added),
                opt(r.error.clone()),
            ]
        })
        .collect();
    rows.reverse();
    Ok((header, rows))
}

async fn points(ctx: &Ctx<'_>, within: &Within<'_>) -> AppResult<Columns> {
    let header = vec![
        "repository",
        "snapshot",
        "site",
        "asset",
        "dataset",
        "category",
        "policy",
        "time",
        "files",
        "bytes",
        "verified",
        "damaged",
        "suspect",
    ];
    let rows = reprise_ops::suspects::points(ctx, None)
        .await?
        .into_iter()
        .filter(|p| within.at_site(Some(&p.asset)) && within.filter.in_period(p.time))
        .filter_map(|p| {
            let category = within
                .inv
                .asset(&p.asset)
                .and_then(|a| a.datasets.iter().find(|d| d.name == p.dataset))
                .and_then(|d| d.category.clone());
            within
                .filter
                .of_type(category.as_deref().unwrap_or(""))
                .then(|| {
                    vec![
                        p.repository.clone(),
                        p.snapshot.clone(),
                        opt(within.site_of(&p.asset)),
                        p.asset.clone(),
                        p.dataset.clone(),
                        opt(category),
                        opt(p.policy.clone()),
                        time(p.time),
                        opt(p.files),
                        opt(p.bytes),
                        opt(p.verified.map(time)),
                        opt(p.failed.map(time)),
                        opt(p.suspect.clone()),
                    ]
                })
        })
        .collect();
    Ok((header, rows))
}

async fn incidents(ctx: &Ctx<'_>, within: &Within<'_>) -> AppResult<Columns> {
    let header = vec![
        "id", "title", "severity", "phase", "source", "opened", "closed", "sites", "assets",
    ];
    let mut rows = Vec::new();
    for row in ctx.catalog.incidents(false).await? {
        let incident = reprise_recovery::incident::from_row(row)?;
        let row = &incident.row;
        let assets: Vec<String> = incident
            .doc
            .affected
            .iter()
            .map(|a| a.asset.clone())
            .collect();
        let mut sites: Vec<String> = assets.iter().filter_map(|a| within.site_of(a)).collect();
        sites.sort();
        sites.dedup();
        let site_ok = within
            .filter
            .site
            .as_ref()
            .is_none_or(|s| sites.iter().any(|x| x == s));
        if !site_ok || !within.filter.in_period(row.opened) || !within.filter.of_type(&row.severity)
        {
            continue;
        }
        rows.push(vec![
            row.id.to_string(),
            row.title.clone(),
            row.severity.clone(),
            row.phase.clone(),
            opt(row.source.clone()),
            time(row.opened),
            opt(row.closed.map(time)),
            sites.join(" "),
            assets.join(" "),
        ]);
    }
    Ok((header, rows))
}

async fn requests(ctx: &Ctx<'_>, within: &Within<'_>) -> AppResult<Columns> {
    let header = vec![
        "id",
        "state",
        "requester",
        "environment",
        "urgency",
        "context",
        "created",
        "closed",
        "sites",
        "assets",
        "datasets",
    ];
    let mut rows = Vec::new();
    for r in reprise_recovery::request::list(ctx, true).await? {
        let req = &r.doc.request;
        let mut sites: Vec<String> = req.scope.sites.clone();
        sites.extend(req.scope.assets.iter().filter_map(|a| within.site_of(a)));
        sites.sort();
        sites.dedup();
        let site_ok = within
            .filter
            .site
            .as_ref()
            .is_none_or(|s| sites.iter().any(|x| x == s));
        if !site_ok
            || !within.filter.in_period(r.row.created)
            || !within.filter.of_type(&r.row.state)
        {
            continue;
        }
        rows.push(vec![
            r.row.id.to_string(),
            r.row.state.clone(),
            r.row.requester.clone(),
            req.environment.clone(),
            req.urgency
                .label(reprise_domain::plan::Lang::En)
                .to_string(),
            req.context
                .kind
                .label(reprise_domain::plan::Lang::En)
                .to_string(),
            time(r.row.created),
            opt(r.row.closed.map(time)),
            sites.join(" "),
            req.scope.assets.join(" "),
            req.scope.datasets.join(" "),
        ]);
    }
    rows.reverse();
    Ok((header, rows))
}

async fn alerts(ctx: &Ctx<'_>, within: &Within<'_>) -> AppResult<Columns> {
    let header = vec![
        "id", "key", "severity", "site", "asset", "message", "opened", "resolved",
    ];
    let rows = ctx
        .catalog
        .alerts(false)
        .await?
        .into_iter()
        .filter_map(|a| {
            let asset = a
                .key
                .split_once(':')
                .map(|(_, rest)| rest.to_string())
                .filter(|r| within.inv.asset(r).is_some());
            (within.at_site(asset.as_deref())
                && within.filter.in_period(a.opened)
                && within.filter.of_type(&a.severity))
            .then(|| {
                vec![
                    a.id.to_string(),
                    a.key.clone(),
                    a.severity.clone(),
                    opt(asset.as_deref().and_then(|a| within.site_of(a))),
                    opt(asset),
                    a.message.clone(),
                    time(a.opened),
                    opt(a.resolved.map(time)),
                ]
            })
        })
        .collect();
    Ok((header, rows))
}

async fn assets(ctx: &Ctx<'_>, within: &Within<'_>) -> AppResult<Columns> {
    let header = vec![
        "id",
        "name",
        "site",
        "category",
        "criticality",
        "state",
        "zone",
        "function",
        "owner",
        "environment",
        "rpo",
        "rto",
        "policy",
        "depends_on",
        "datasets",
        "data_categories",
    ];
    let rows = within
        .inv
        .assets
        .iter()
        .filter(|a| {
            within.at_site(Some(a.id.as_str())) && within.filter.of_type(a.category.as_str())
        })
        .map(|a| {
            let mut categories: Vec<String> = a
                .datasets
                .iter()
                .filter_map(|d| d.category.clone())
                .collect();
            categories.sort();
            categories.dedup();
            vec![
                a.id.to_string(),
                a.name.clone(),
                a.site.to_string(),
                a.category.as_str().to_string(),
                a.criticality.as_str().to_string(),
                a.state.as_str().to_string(),
                opt(a.zone.as_ref()),
                opt(a.function.as_ref()),
                opt(a.owner.as_ref()),
                opt(a.environment.as_ref()),
                opt(a.rpo),
                opt(a.rto),
                opt(ctx.policy_of(a).ok().map(|p| p.id.to_string())),
                a.depends_on
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                a.datasets
                    .iter()
                    .map(|d| d.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                categories.join(" "),
            ]
        })
        .collect();
    Ok((header, rows))
}

/// Why `kind` has no row under `filter`, in words that say what to widen.
pub fn why_empty(kind: Kind, filter: &Filter, tz: &jiff::tz::TimeZone) -> String {
    let mut scope = Vec::new();
    if let Some(site) = &filter.site {
        scope.push(format!("at site `{site}`"));
    }
    let day = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    match (filter.since, filter.until) {
        (Some(s), Some(u)) => scope.push(format!("from {} to before {}", day(s), day(u))),
        (Some(s), None) => scope.push(format!("since {}", day(s))),
        (None, Some(u)) => scope.push(format!("before {}", day(u))),
        (None, None) => {}
    }
    if let Some(t) = &filter.kind_type {
        scope.push(format!("of {} `{t}`", kind.type_meaning()));
    }
    if scope.is_empty() {
        format!("no {} recorded yet", kind.as_str())
    } else {
        format!(
            "no {} {}: widen the period or check the site and type",
            kind.as_str(),
            scope.join(" ")
        )
    }
}

/// A cell as written: spreadsheet formulas (`=`, `+`, `-`, `@` first) are defused with a
/// leading quote, so that opening an export never runs what an error message held.
fn cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    }
}

/// Writes `sheet` as `dir/KIND.csv` (UTF-8, header row).
pub(crate) fn write_csv(sheet: &Sheet, dir: &Path) -> AppResult<PathBuf> {
    write_table(dir, sheet.kind.as_str(), &sheet.header, &sheet.rows)
}

/// The CSV text of a table: UTF-8, a header row, formulas defused.
pub fn encode(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing into memory cannot fail.
    w.write_record(header).expect("in memory");
    for row in rows {
        w.write_record(row.iter().map(|c| cell(c)))
            .expect("in memory");
    }
    w.into_inner().expect("in memory")
}

/// Writes `dir/NAME.csv` (see [`encode`]).
pub(crate) fn write_table(
    dir: &Path,
    name: &str,
    header: &[&str],
    rows: &[Vec<String>],
) -> AppResult<PathBuf> {
    let fail = |p: &Path, e: &dyn std::fmt::Display| {
        AppError::Failed(format!("cannot write {}: {e}", p.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, encode(header, rows)).map_err(|e| fail(&path, &e))?;
    Ok(path)
}

/// Exports `kinds` under `filter` into `dir`, one file per kind with rows.
pub async fn write(
    ctx: &Ctx<'_>,
    kinds: &[Kind],
    filter: &Filter,
    dir: &Path,
) -> AppResult<Vec<Written>> {
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let mut out = Vec::new();
    for &kind in kinds {
        let sheet = sheet(ctx, kind, filter).await?;
        if sheet.rows.is_empty() {
            out.push(Written {
                kind,
                file: None,
                rows: 0,
                empty: Some(why_empty(kind, filter, &tz)),
            });
            continue;
        }
        let file = write_csv(&sheet, dir)?;
        out.push(Written {
            kind,
            file: Some(file),
            rows: sheet.rows.len(),
            empty: None,
        });
    }
    Ok(out)
}

/// The configured exports due at `now` (the server's start `since` stands for a last run
/// when there was none).
pub async fn due<'a>(
    ctx: &'a Ctx<'_>,
    since: Timestamp,
    now: Timestamp,
) -> AppResult<Vec<&'a ExportSettings>> {
    let runs = ctx
        .catalog
        .runs(&RunFilter {
            kind: Some(RunKind::Export),
            ..RunFilter::default()
        })
        .await?;
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    Ok(ctx
        .loaded
        .config
        .exports
        .iter()
        .filter(|e| {
            // Runs come newest first.
            let last = runs
                .iter()
                .find(|r| r.dataset.as_deref() == Some(e.id.as_str()));
            reprise_ops::scheduler::is_due(
                &e.schedule,
                last.map(|r| r.started),
                last.is_some_and(|r| r.status == RunStatus::Interrupted),
                since,
                now,
                &tz,
                0,
            )
        })
        .collect())
}

/// What a configured export did.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduledRun {
    pub export: String,
    pub written: Vec<Written>,
    /// Where the files went: a directory, or a repository's snapshot.
    pub directory: Option<PathBuf>,
    pub repository: Option<String>,
    pub snapshot: Option<String>,
}

/// Runs the configured export `id` now, recorded as a run.
pub async fn run_configured(ctx: &Ctx<'_>, id: &str, now: Timestamp) -> AppResult<ScheduledRun> {
    let settings = ctx
        .loaded
        .config
        .exports
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| {
            let ids: Vec<&str> = ctx
                .loaded
                .config
                .exports
                .iter()
                .map(|e| e.id.as_str())
                .collect();
            AppError::Invalid(format!(
                "no export `{id}` in the configuration ({})",
                if ids.is_empty() {
                    "it declares none: add an [[export]]".to_string()
                } else {
                    ids.join(", ")
                }
            ))
        })?;
    let run = ctx
        .catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Export),
            dataset: Some(settings.id.clone()),
            repository: settings.repository.clone(),
            started: Some(now),
            ..NewRun::default()
        })
        .await?;
    let result = run_settings(ctx, settings, now).await;
    let mut outcome = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
    match &result {
        Ok(done) => {
            outcome.snapshot = done.snapshot.clone();
            outcome.detail = serde_json::to_string(done).ok();
        }
        Err(e) => {
            outcome.status = RunStatus::Failed;
            outcome.error = Some(e.to_string());
        }
    }
    ctx.catalog.finish_run(run, &outcome).await?;
    result
}

async fn run_settings(
    ctx: &Ctx<'_>,
    settings: &ExportSettings,
    now: Timestamp,
) -> AppResult<ScheduledRun> {
    let filter = Filter {
        site: settings.site.clone(),
        since: settings
            .period
            .map(|p| now - jiff::SignedDuration::from_secs(p.as_secs() as i64)),
        until: Some(now),
        kind_type: settings.kind_type.clone(),
    };
    let stamp = now.strftime("%Y%m%d-%H%M%S").to_string();
    match (&settings.directory, &settings.repository) {
        (Some(dir), _) => {
            let dir = ctx
                .workspace()
                .resolve(dir)
                .join(format!("{}-{stamp}", settings.id));
            let written = write(ctx, &settings.kinds, &filter, &dir).await?;
            Ok(ScheduledRun {
                export: settings.id.clone(),
                written,
                directory: Some(dir),
                repository: None,
                snapshot: None,
            })
        }
        (None, Some(repo_id)) => {
            // Staged in the workspace, then stored encrypted in the repository.
            let staging = ctx
                .workspace()
                .root
                .join(".reprise/exports")
                .join(&settings.id);
            let _ = std::fs::remove_dir_all(&staging);
            // The plaintext copy never outlives the run: removed once stored, and when
            // anything fails on the way (an unreachable repository, a busy lease).
            let stored = store_staged(ctx, settings, &filter, &staging, repo_id, now).await;
            let _ = std::fs::remove_dir_all(&staging);
            let (written, snapshot) = stored?;
            Ok(ScheduledRun {
                export: settings.id.clone(),
                written,
                directory: None,
                repository: Some(repo_id.clone()),
                snapshot,
            })
        }
        (None, None) => Err(AppError::Invalid(format!(
            "export `{}` has no directory or repository",
            settings.id
        ))),
    }
}

/// Writes the export's files into `staging` (owner-only) and backs them up into the
/// repository `repo_id`; the files written and the snapshot, if any file was.
async fn store_staged(
    ctx: &Ctx<'_>,
    settings: &ExportSettings,
    filter: &Filter,
    staging: &Path,
    repo_id: &str,
    now: Timestamp,
) -> AppResult<(Vec<Written>, Option<String>)> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(staging)
        .and_then(|()| std::fs::set_permissions(staging, std::fs::Permissions::from_mode(0o700)))
        .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", staging.display())))?;
    let written = write(ctx, &settings.kinds, filter, staging).await?;
    if !written.iter().any(|w| w.file.is_some()) {
        return Ok((written, None));
    }
    let repo = ctx.repository(repo_id)?;
    let open = repos::open(ctx.workspace(), repo, ctx.progress.clone()).await?;
    let request = BackupRequest {
        source: BackupSource::Paths {
            paths: vec![staging.to_path_buf()],
            exclude: vec![],
        },
        hostname: "reprise".into(),
        tags: vec![format!("export:{}", settings.id)],
        label: format!("Reprise export {}", settings.id),
        time: Some(now),
        changes: None,
    };
    // Held while it writes, so that no prune runs beside it.
    let lease = reprise_ops::leases::export_key(&settings.id);
    if !reprise_ops::leases::acquire(ctx.catalog, &lease).await? {
        return Err(AppError::Busy(format!(
            "another process is writing export `{}`, or pruning its repository, right now",
            settings.id
        )));
    }
    let stored = blocking(move || open.backup(&request)).await;
    reprise_ops::leases::release(ctx.catalog, &lease).await?;
    Ok((written, Some(stored?.id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_text_kept() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("-1+2"), "'-1+2");
        assert_eq!(cell("Siège, Paris"), "Siège, Paris");
    }

    #[test]
    fn an_empty_export_says_what_to_widen() {
        let filter = Filter {
            site: Some("entrepot".into()),
            since: Some("2026-01-01T00:00:00Z".parse().unwrap()),
            until: Some("2026-02-01T00:00:00Z".parse().unwrap()),
            kind_type: None,
        };
        assert_eq!(
            why_empty(Kind::Runs, &filter, &jiff::tz::TimeZone::UTC),
            "no runs at site `entrepot` from 2026-01-01 00:00 to before 2026-02-01 00:00: widen the period or check the site and type"
        );
    }
}
