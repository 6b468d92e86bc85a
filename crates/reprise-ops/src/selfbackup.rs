//! Reprise protecting itself: the disaster that takes the Reprise server must not take
//! its history with it.
//!
//! [`run`] writes a consistent copy of the catalog (SQLite's `VACUUM INTO`, or
//! `pg_dump`), the configuration and a small manifest into a staging directory, and backs
//! that up into every repository of the workspace as a snapshot tagged [`TAG`]. The
//! scheduler does it on `[supervision] self_backup` (daily at 03:00 by default).
//!
//! [`recover`] is the other half, for `reprise init --from-repository`: from a repository
//! and its key alone, it finds the newest self-backup, restores it (verified before
//! anything is written) and lays out a working workspace.

use std::fs;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use reprise_catalog::{NewRun, RunFilter, RunKind, RunOutcome, RunStatus};
use reprise_domain::{RepoBackend, Schedule};
use reprise_engine::{
    BackupRequest, BackupSource, Progress, Repo, RepoSpec, RestoreRequest, Secret,
};
use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::repos::{self, blocking};
use reprise_workspace::workspace::{CONFIG_FILE, STATE_DIR, Workspace};

/// The tag of Reprise's own snapshots: `restic snapshots --tag reprise-self` lists them.
pub(crate) const TAG: &str = "reprise-self";
/// Self-backups kept per repository; older ones are forgotten (their data goes at the
/// next prune).
pub(crate) const KEEP: usize = 14;
const MANIFEST: &str = "reprise-manifest.json";

/// What a self-backup holds besides the files themselves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub workspace: Option<String>,
    pub made: Timestamp,
    pub version: String,
    /// `catalog.db` (SQLite) or `catalog.sql` (a PostgreSQL dump).
    pub catalog_file: String,
    pub catalog_location: String,
    /// The journal's newest entry when the catalog was copied: the restored journal must
    /// hold it (`reprise journal verify --against reprise-manifest.json`).
    #[serde(default)]
    pub journal_head: Option<crate::journal::Head>,
}

/// The outcome in one repository.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub repository: String,
    pub ok: bool,
    pub snapshot: Option<String>,
    pub bytes_added: Option<u64>,
    pub error: Option<String>,
}

/// Whether the self-backup is due at `now` (its schedule, counted from the last attempt,
/// or from `since` when there was none).
pub async fn due(ctx: &Ctx<'_>, since: Timestamp, now: Timestamp) -> AppResult<bool> {
    let schedule = &ctx.loaded.config.supervision.self_backup;
    if matches!(schedule, Schedule::Manual) {
        return Ok(false);
    }
    let last = ctx
        .catalog
        .runs(&RunFilter {
            kind: Some(RunKind::SelfBackup),
            limit: Some(1),
            ..RunFilter::default()
        })
        .await?
        .first()
        .map(|r| r.started);
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    Ok(crate::scheduler::is_due(
        schedule, last, false, since, now, &tz, 0,
    ))
}

/// Backs up the catalog and configuration into every repository of the workspace.
/// Two processes sharing the catalog never do it at once (a lease), so the staging
/// directory can keep one path: restic then sees one series of snapshots.
pub async fn run(ctx: &Ctx<'_>) -> AppResult<Vec<Outcome>> {
    let lease = crate::leases::SELF_BACKUP_KEY;
    if !crate::leases::acquire(ctx.catalog, lease).await? {
        return Err(AppError::Failed(
            "another Reprise process is backing up the catalog right now".into(),
        ));
    }
    let staging = ctx.workspace().state_dir().join("staging").join("self");
    let _ = fs::remove_dir_all(&staging);
    let result = stage_and_back_up(ctx, &staging).await;
    let _ = fs::remove_dir_all(&staging);
    crate::leases::release(ctx.catalog, lease).await?;
    result
}

async fn stage_and_back_up(ctx: &Ctx<'_>, staging: &Path) -> AppResult<Vec<Outcome>> {
    let ws = ctx.workspace();
    fs::create_dir_all(staging)
        .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", staging.display())))?;
    let journal_head = ctx
        .catalog
        .journal(0, None)
        .await?
        .pop()
        .map(|e| crate::journal::Head {
            seq: e.seq,
            hash: e.hash,
            catalog: None,
        });
    let catalog_file = ctx.catalog.export_to(staging).await?;
    fs::copy(ws.config_path(), staging.join(CONFIG_FILE)).map_err(|e| {
        AppError::Failed(format!("cannot copy {}: {e}", ws.config_path().display()))
    })?;
    let manifest = Manifest {
        workspace: ctx.loaded.config.name.clone(),
        made: Timestamp::now(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        catalog_file: catalog_file
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default(),
        catalog_location: ctx.catalog.location(),
        journal_head,
    };
    fs::write(
        staging.join(MANIFEST),
        serde_json::to_vec_pretty(&manifest).expect("a manifest serialises"),
    )
    .map_err(|e| AppError::Failed(format!("cannot write the manifest: {e}")))?;

    let mut outcomes = Vec::new();
    for repo in &ctx.inventory().repositories {
        let id = repo.id.to_string();
        let started = Timestamp::now();
        let run_id = ctx
            .catalog
            .start_run(&NewRun {
                kind: Some(RunKind::SelfBackup),
                repository: Some(id.clone()),
                started: Some(started),
                ..NewRun::default()
            })
            .await;
        let result = back_up_into(ctx, repo, staging).await;
        let mut record = RunOutcome::new(Timestamp::now(), RunStatus::Succeeded);
        let outcome = match result {
            Ok(snap) => {
                record.snapshot = Some(snap.id.clone());
                record.files = snap.files;
                record.bytes_read = snap.bytes;
                record.bytes_added = snap.bytes_added;
                Outcome {
                    repository: id,
                    ok: true,
                    snapshot: Some(snap.id),
                    bytes_added: snap.bytes_added,
                    error: None,
                }
            }
            Err(e) => {
                record.status = RunStatus::Failed;
                record.error = Some(e.to_string());
                Outcome {
                    repository: id,
                    ok: false,
                    snapshot: None,
                    bytes_added: None,
                    error: Some(e.to_string()),
                }
            }
        };
        if let Ok(run) = run_id {
            let _ = ctx.catalog.finish_run(run, &record).await;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

async fn back_up_into(
    ctx: &Ctx<'_>,
    repo: &reprise_domain::Repository,
    staging: &Path,
) -> AppResult<reprise_engine::SnapshotInfo> {
    let open = repos::open(ctx.workspace(), repo, ctx.progress.clone()).await?;
    let request = BackupRequest {
        source: BackupSource::Paths {
            paths: vec![staging.to_path_buf()],
            exclude: vec![],
        },
        hostname: "reprise".into(),
        // Which repository of the configuration this is, for a rebuild to find its key.
        tags: vec![TAG.to_string(), format!("repository:{}", repo.id)],
        label: "Reprise catalog and configuration".into(),
        time: None,
        changes: None,
    };
    let snap = blocking({
        let open = open.clone();
        move || open.backup(&request)
    })
    .await?;
    // Keep the newest few; the data of the others goes at the next prune.
    blocking(move || {
        let mine: Vec<String> = open
            .snapshots()?
            .into_iter()
            .filter(|s| s.tags.iter().any(|t| t == TAG))
            .map(|s| s.id)
            .collect();
        let old = mine.len().saturating_sub(KEEP);
        open.forget(&mine[..old])
    })
    .await?;
    Ok(snap)
}

/// What [`recover`] laid out.
#[derive(Debug, Clone, Serialize)]
pub struct Recovered {
    pub root: PathBuf,
    pub snapshot: String,
    pub made: Timestamp,
    pub workspace: Option<String>,
    /// Where the catalog was put: the SQLite file, or the dump to load into PostgreSQL.
    pub catalog: PathBuf,
    pub catalog_is_dump: bool,
    /// The repository of the configuration that was restored from, when one matches.
    pub repository: Option<String>,
    /// Key files of other repositories that must be put back by hand (and the master key
    /// when it was not given).
    pub missing_keys: Vec<PathBuf>,
    /// The master key was put back.
    pub master_key: bool,
    /// What the operator should know (a repository configured where it is not).
    pub notes: Vec<String>,
}

/// Where a rebuild reads from: a repository, its password, and the master key's safe copy.
pub struct RecoverFrom<'a> {
    pub location: &'a str,
    pub password_file: &'a Path,
    pub master_key: Option<&'a Path>,
}

/// Rebuilds a workspace in `dir` from the newest self-backup in the repository at
/// `location`, opened with the password in `password_file`. Refuses a directory that
/// already holds a workspace.
pub async fn recover(
    dir: &Path,
    source: &RecoverFrom<'_>,
    progress: Arc<dyn Progress>,
) -> AppResult<Recovered> {
    let (location, password_file) = (source.location, source.password_file);
    if dir.join(CONFIG_FILE).exists() {
        return Err(AppError::Invalid(format!(
            "{} already holds a Reprise workspace; recover into an empty directory",
            dir.display()
        )));
    }
    let password = Secret::from_file(password_file).map_err(|e| {
        AppError::Invalid(format!(
            "cannot read the key file {}: {e}",
            password_file.display()
        ))
    })?;
    let spec = RepoSpec::new(location, password);
    let repo = blocking(move || Repo::open(&spec, progress)).await?;
    let repo = Arc::new(repo);
    let newest = blocking({
        let repo = repo.clone();
        move || repo.snapshots()
    })
    .await?
    .into_iter()
    .filter(|s| s.tags.iter().any(|t| t == TAG))
    .max_by_key(|s| s.time)
    .ok_or_else(|| {
        AppError::Invalid(format!(
            "{location} holds no self-backup of Reprise (tag `{TAG}`): `reprise serve` makes one daily, `reprise self-backup` on demand"
        ))
    })?;
    fs::create_dir_all(dir)
        .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", dir.display())))?;
    let root = dir
        .canonicalize()
        .map_err(|e| AppError::Failed(format!("cannot read {}: {e}", dir.display())))?;
    let state = root.join(STATE_DIR);
    let unpacked = state.join("recovered");
    fs::create_dir_all(&unpacked)
        .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", unpacked.display())))?;
    let _ = fs::set_permissions(&state, fs::Permissions::from_mode(0o700));
    let request = RestoreRequest {
        snapshot: newest.id.clone(),
        path: None,
        target: unpacked.clone(),
        overwrite: true,
        verify: true,
        erased: Vec::new(),
    };
    blocking({
        let repo = repo.clone();
        move || {
            let plan = repo.plan_restore(&request)?;
            repo.restore(plan)
        }
    })
    .await?;
    let manifest: Manifest = fs::read(unpacked.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            AppError::Failed(format!(
                "snapshot {} has no readable {MANIFEST}",
                &newest.id[..8]
            ))
        })?;
    fs::rename(unpacked.join(CONFIG_FILE), root.join(CONFIG_FILE))
        .map_err(|e| AppError::Failed(format!("cannot put the configuration back: {e}")))?;
    let _ = fs::set_permissions(&unpacked, fs::Permissions::from_mode(0o700));
    let ws = Workspace { root: root.clone() };
    let parsed = ws.parse()?;
    let config = parsed.config.ok_or_else(|| {
        AppError::Failed(
            "the recovered configuration does not validate: run `reprise check`".into(),
        )
    })?;

    // The catalog: a SQLite file goes where the configuration expects it; a dump stays
    // beside it, to be loaded into the PostgreSQL server.
    let from = unpacked.join(&manifest.catalog_file);
    let catalog_is_dump = manifest.catalog_file.ends_with(".sql");
    let catalog = if catalog_is_dump {
        from
    } else {
        let to = match ws.catalog_location(Some(&config), None) {
            reprise_workspace::workspace::CatalogLocation::Sqlite(path) => path,
            reprise_workspace::workspace::CatalogLocation::Postgres(_) => state.join("catalog.db"),
        };
        if let Some(parent) = to.parent() {
            let _ = fs::create_dir_all(parent);
        }
        fs::rename(&from, &to)
            .map_err(|e| AppError::Failed(format!("cannot put the catalog back: {e}")))?;
        to
    };
    // The catalog holds the history, accounts and token hashes: owner-only.
    fs::set_permissions(&catalog, fs::Permissions::from_mode(0o600))
        .map_err(|e| AppError::Failed(format!("cannot restrict {}: {e}", catalog.display())))?;

    // The key we were given belongs to the repository we restored from.
    let same = |repo: &reprise_domain::Repository| match &repo.backend {
        RepoBackend::Local { path } => {
            let configured = ws.resolve(path);
            configured.canonicalize().ok() == Path::new(location).canonicalize().ok()
                || configured == Path::new(location)
        }
        RepoBackend::S3 { url } | RepoBackend::Sftp { url, .. } | RepoBackend::Rest { url } => {
            url == location
        }
    };
    // The self-backup names the repository it was written into; older ones are matched
    // by location.
    let named = newest
        .tags
        .iter()
        .find_map(|t| t.strip_prefix("repository:"))
        .map(str::to_string);
    let matched = config
        .inventory
        .repositories
        .iter()
        .find(|r| named.as_deref() == Some(r.id.as_str()))
        .or_else(|| config.inventory.repositories.iter().find(|r| same(r)));
    let mut notes = Vec::new();
    if let Some(m) = matched
        && !same(m)
    {
        notes.push(match &m.backend {
            RepoBackend::Local { path } => format!(
                "repository `{}` is configured at {} (`path = \"{path}\"`, from the workspace), not at {location}: move it there or set its `path` in reprise.toml",
                m.id,
                ws.resolve(path).display()
            ),
            RepoBackend::S3 { url } | RepoBackend::Sftp { url, .. } | RepoBackend::Rest { url } => {
                format!(
                    "repository `{}` is configured at {url}, not at {location}: set its `url` in reprise.toml if it moved",
                    m.id
                )
            }
        });
    }
    let mut missing_keys = Vec::new();
    for repo in &config.inventory.repositories {
        let Some(file) = &repo.password_file else {
            continue;
        };
        let path = ws.resolve(file);
        if matched.is_some_and(|m| m.id == repo.id) {
            write_private(&path, &fs::read(password_file).unwrap_or_default())?;
        } else if !path.exists() {
            missing_keys.push(path);
        }
    }
    // The journal's seals need the master key that wrote them; the head the self-backup
    // witnessed is kept beside it, so that a journal cut short since is told.
    let master = crate::keys::master_key_path(&ws);
    let master_key = match source.master_key {
        Some(file) => {
            let text = fs::read_to_string(file).map_err(|e| {
                AppError::Invalid(format!(
                    "cannot read the master key {}: {e}",
                    file.display()
                ))
            })?;
            if reprise_workspace::text::unhex(text.trim()).is_none_or(|k| k.len() < 32) {
                return Err(AppError::Invalid(format!(
                    "{} is not a master key (64 hexadecimal characters)",
                    file.display()
                )));
            }
            write_private(&master, text.as_bytes())?;
            true
        }
        None => false,
    };
    if !master.exists() && std::env::var(crate::keys::MASTER_KEY_ENV).is_err() {
        missing_keys.push(master);
    }
    if let Some(head) = &manifest.journal_head {
        reprise_journal::keep_head(&ws, head).map_err(AppError::Failed)?;
    }
    Ok(Recovered {
        root,
        snapshot: newest.id,
        made: manifest.made,
        workspace: manifest.workspace,
        catalog,
        catalog_is_dump,
        repository: matched.map(|r| r.id.to_string()),
        missing_keys,
        master_key,
        notes,
    })
}

/// Writes a key file only its owner can read, in a directory only its owner can enter.
fn write_private(path: &Path, content: &[u8]) -> AppResult<()> {
    let failed =
        |e: std::io::Error| AppError::Failed(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(failed)?;
        let _ = fs::set_permissions(parent, fs::Permissions::from_mode(0o700));
    }
    use std::io::Write;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(failed)?;
    file.write_all(content).map_err(failed)
}
