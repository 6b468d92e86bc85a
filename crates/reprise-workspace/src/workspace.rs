//! A workspace is a directory holding `reprise.toml` and a `.reprise/` state directory
//! (catalog, keys). Commands find it like git finds a repository: from the current
//! directory upwards, unless told where it is.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use reprise_catalog::{AssetChange, AssetRecord, Catalog, CatalogError};
use reprise_domain::{DataSource, Inventory, RepoBackend};
use sha2::{Digest, Sha256};

use crate::config::{self, Config, Diagnostic, Severity, Source};

pub const CONFIG_FILE: &str = "reprise.toml";
pub const STATE_DIR: &str = ".reprise";
pub(crate) const CATALOG_FILE: &str = "catalog.db";

#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(
        "no Reprise workspace found in {start} or any parent directory (run `reprise init` to create one, or pass --workspace DIR)"
    )]
    NotFound { start: PathBuf },
    #[error("{dir} is not a Reprise workspace: {file} does not exist")]
    NotAWorkspace { dir: PathBuf, file: PathBuf },
    #[error("{dir} already holds a Reprise workspace ({file}); refusing to overwrite it")]
    AlreadyExists { dir: PathBuf, file: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The configuration has errors; each diagnostic locates one.
    #[error("{} has {} error(s)", file.display(), diagnostics.iter().filter(|d| d.severity == Severity::Error).count())]
    Invalid {
        file: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// Where the catalog lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
}

/// A workspace with its configuration read and validated.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub workspace: Workspace,
    pub config: Config,
    /// Warnings found while reading (errors make loading fail).
    pub warnings: Vec<Diagnostic>,
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Write {
        path: path.to_path_buf(),
        source,
    }
}

impl Workspace {
    /// Finds the workspace containing `start`, walking up to the filesystem root.
    pub fn discover(start: &Path) -> Result<Self, WorkspaceError> {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            if d.join(CONFIG_FILE).is_file() {
                return Ok(Self {
                    root: d.to_path_buf(),
                });
            }
            dir = d.parent();
        }
        Err(WorkspaceError::NotFound { start })
    }

    /// The workspace at exactly `dir` (from `--workspace` or `REPRISE_WORKSPACE`).
    pub fn at(dir: &Path) -> Result<Self, WorkspaceError> {
        let file = dir.join(CONFIG_FILE);
        if !file.is_file() {
            return Err(WorkspaceError::NotAWorkspace {
                dir: dir.to_path_buf(),
                file,
            });
        }
        Ok(Self {
            root: dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()),
        })
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(STATE_DIR)
    }

    /// Resolves a path from the configuration: relative paths are relative to the
    /// workspace root, so a workspace can be moved or checked out elsewhere.
    pub fn resolve(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// Reads and parses the configuration without failing on errors: `reprise check`
    /// shows every diagnostic.
    pub fn parse(&self) -> Result<config::Parsed, WorkspaceError> {
        let path = self.config_path();
        let text = fs::read_to_string(&path).map_err(|source| WorkspaceError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(config::parse(&path, &text))
    }

    /// Reads the configuration and fails with every located error if it is invalid.
    pub fn load(&self) -> Result<Loaded, WorkspaceError> {
        let parsed = self.parse()?;
        match parsed.config {
            Some(config) => Ok(Loaded {
                workspace: self.clone(),
                config,
                warnings: parsed.diagnostics,
            }),
            None => Err(WorkspaceError::Invalid {
                file: self.config_path(),
                diagnostics: parsed.diagnostics,
            }),
        }
    }

    /// The catalog to use: `override_url` (from `REPRISE_CATALOG`), else the
    /// configuration's `catalog`, else the SQLite file in `.reprise/`.
    pub fn catalog_location(
        &self,
        config: Option<&Config>,
        override_url: Option<&str>,
    ) -> CatalogLocation {
        let configured = override_url.or(config.and_then(|c| c.catalog.as_deref()));
        match configured {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                CatalogLocation::Postgres(url.to_string())
            }
            Some(url) => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or(url);
                CatalogLocation::Sqlite(self.resolve(path))
            }
            None => CatalogLocation::Sqlite(self.state_dir().join(CATALOG_FILE)),
        }
    }
}

impl Loaded {
    /// Checks what only the disk can tell: the repository key exists and is private, local
    /// repository locations exist, data-set paths exist. Warnings, since a path may be
    /// mounted only at backup time.
    /// What an immutable repository's lock implies, as warnings on its `immutable_for`:
    /// a policy removing points sooner than the lock lets it, and the storage the longer
    /// life of removed data costs (from `added_per_day`, each repository's new data per
    /// day over the last 30 days, when known).
    pub fn lock_checks(
        &self,
        added_per_day: &std::collections::BTreeMap<String, u64>,
    ) -> Vec<Diagnostic> {
        let path = self.workspace.config_path();
        let text = fs::read_to_string(&path).unwrap_or_default();
        let source = Source::new(&path, &text);
        let inv = &self.config.inventory;
        let mut out = Vec::new();
        for (i, repo) in inv.repositories.iter().enumerate() {
            let Some(immutable) = repo.immutable else {
                continue;
            };
            let warn = |message: String| {
                source.diagnostic(
                    Severity::Warning,
                    self.config.repository_span(i),
                    Some(format!("repository `{}`", repo.id)),
                    Some("immutable_for"),
                    message,
                )
            };
            for policy in inv
                .policies
                .iter()
                .filter(|p| p.repository.as_str() == repo.id.as_str())
            {
                if let Some(max) = policy.retention.max_age
                    && max.as_secs() < immutable.period.as_secs()
                {
                    out.push(warn(format!(
                        "policy `{}` removes points after {max}, but they are locked for {}: each stays until its lock lapses",
                        policy.id, immutable.period
                    )));
                }
            }
            // Removed data stays until its lock lapses (the lock of what a kept point
            // needs is renewed for a full period once half has passed), and its packs
            // until a prune after that: up to twice the period.
            let days = immutable.period.as_secs().div_ceil(86_400) * 2;
            let cost = added_per_day
                .get(repo.id.as_str())
                .map_or_else(String::new, |b| {
                    format!(
                        ", about {} more at the last 30 days' rate of new data",
                        crate::text::bytes(b.saturating_mul(days))
                    )
                });
            out.push(warn(match repo.backend {
                RepoBackend::S3 { .. } => format!(
                    "immutable for {} ({}): removed restore points and their data stay stored up to {days} days longer{cost}; retention and prune leave what is locked, and the server renews the locks daily",
                    immutable.period,
                    immutable.mode.as_str()
                ),
                _ => format!(
                    "immutable for {}: writers only append, and Reprise's retention and prune keep every restore point and pack younger than that{cost}; whoever is root on this host can still delete the directory (S3 Object Lock protects against that)",
                    immutable.period
                ),
            }));
        }
        out
    }

    pub fn disk_checks(&self) -> Vec<Diagnostic> {
        let path = self.workspace.config_path();
        let text = fs::read_to_string(&path).unwrap_or_default();
        let source = Source::new(&path, &text);
        let mut out = Vec::new();
        let inv = &self.config.inventory;
        for (i, repo) in inv.repositories.iter().enumerate() {
            let span = self.config.repository_span(i);
            let subject = Some(format!("repository `{}`", repo.id));
            if let Some(file) = &repo.password_file {
                let path = self.workspace.resolve(file);
                match fs::metadata(&path) {
                    Err(_) => out.push(source.diagnostic(
                        Severity::Error,
                        span.clone(),
                        subject.clone(),
                        Some("password_file"),
                        format!("the key file {} does not exist", path.display()),
                    )),
                    Ok(meta) if meta.permissions().mode() & 0o077 != 0 => out
                        .push(source.diagnostic(
                        Severity::Warning,
                        span.clone(),
                        subject.clone(),
                        Some("password_file"),
                        format!(
                            "the key file {} can be read by other users (run `chmod 600` on it)",
                            path.display()
                        ),
                    )),
                    Ok(_) => {}
                }
            }
            if let RepoBackend::Local { path } = &repo.backend {
                let path = self.workspace.resolve(path);
                if !path.exists() {
                    out.push(source.diagnostic(
                        Severity::Warning,
                        span,
                        subject,
                        Some("path"),
                        format!(
                            "the repository location {} does not exist yet",
                            path.display()
                        ),
                    ));
                }
            }
        }
        for (a, asset) in inv.assets.iter().enumerate() {
            for (d, set) in asset.datasets.iter().enumerate() {
                let DataSource::Paths { paths, .. } = &set.source else {
                    continue;
                };
                for (p, path) in paths.iter().enumerate() {
                    let full = self.workspace.resolve(path);
                    if !full.exists() {
                        out.push(source.diagnostic(
                            Severity::Warning,
                            self.config.dataset_path_span(a, d, p),
                            Some(format!("asset `{}`, data set `{}`", asset.id, set.name)),
                            Some("paths"),
                            format!("{} does not exist", full.display()),
                        ));
                    }
                }
            }
        }
        out
    }
}

/// What the catalog remembers of each asset: its state and a fingerprint of the rest.
pub(crate) fn asset_records(inventory: &Inventory) -> Vec<AssetRecord> {
    inventory
        .assets
        .iter()
        .map(|asset| {
            // State and planned date describe the situation, not the configuration: they
            // are left out so that a state change is not also a configuration change.
            let mut configuration = asset.clone();
            configuration.state = reprise_domain::AssetState::Working;
            configuration.planned_resolution = None;
            let json = serde_json::to_vec(&configuration).expect("assets serialise");
            let digest = Sha256::digest(&json);
            AssetRecord {
                id: asset.id.to_string(),
                state: asset.state,
                fingerprint: crate::text::hex(&digest[..16]),
            }
        })
        .collect()
}

/// Records the loaded inventory in the catalog, returning what changed since last time.
pub async fn record_inventory(
    catalog: &dyn Catalog,
    inventory: &Inventory,
    now: Timestamp,
) -> Result<Vec<AssetChange>, CatalogError> {
    catalog
        .record_inventory(&asset_records(inventory), now)
        .await
}

/// The workspace's time zone, or the machine's.
pub fn zone(name: Option<&str>) -> jiff::tz::TimeZone {
    name.and_then(|n| jiff::tz::TimeZone::get(n).ok())
        .unwrap_or_else(jiff::tz::TimeZone::system)
}

/// What `init` created, for the command to report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Created {
    pub root: PathBuf,
    pub config: PathBuf,
    pub repository: PathBuf,
    pub key: PathBuf,
}

/// Creates a workspace in `dir` with `config_text` as its configuration: the state
/// directory, a generated repository key readable only by its owner, and the local
/// repository location. Refuses to touch a directory that already has a workspace.
pub fn create(dir: &Path, config_text: &str) -> Result<(Workspace, Created), WorkspaceError> {
    let config = dir.join(CONFIG_FILE);
    if config.exists() {
        return Err(WorkspaceError::AlreadyExists {
            dir: dir.to_path_buf(),
            file: config,
        });
    }
    fs::create_dir_all(dir).map_err(write_error(dir))?;
    let root = dir.canonicalize().map_err(write_error(dir))?;
    let keys = root.join(STATE_DIR).join("keys");
    fs::create_dir_all(&keys).map_err(write_error(&keys))?;
    fs::set_permissions(root.join(STATE_DIR), fs::Permissions::from_mode(0o700))
        .map_err(write_error(&keys))?;
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o700)).map_err(write_error(&keys))?;
    let key = keys.join("local.key");
    write_key(&key)?;
    let repository = root.join("repository");
    fs::create_dir_all(&repository).map_err(write_error(&repository))?;
    let config = root.join(CONFIG_FILE);
    fs::write(&config, config_text).map_err(write_error(&config))?;
    Ok((
        Workspace { root: root.clone() },
        Created {
            root,
            config,
            repository,
            key,
        },
    ))
}

/// Writes 32 random bytes, hex-encoded, to a new file only its owner can read.
fn write_key(path: &Path) -> Result<(), WorkspaceError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WorkspaceError::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_error(path))?;
    writeln!(file, "{}", crate::text::hex(&bytes)).map_err(write_error(path))?;
    file.sync_all().map_err(write_error(path))
}

/// The commented configuration `reprise init` writes: valid as it is, and a guide to
/// every section.
pub const INIT_TEMPLATE: &str = r#"# Reprise workspace configuration.
#
# This file says what should be: sites, assets, their dependencies, backup policies and
# repositories. It can live in git. What happens (backups, restores, incidents) is
# recorded in the catalog, by default .reprise/catalog.db.
#
# Check it with `reprise check`; durations are written 15m, 4h, 14d.

[workspace]
name = "My organisation"
default_policy = "daily"
# timezone = "Europe/Paris"            # schedules run in this zone (default: the machine's)
# catalog = "postgres://reprise@db.example/reprise"   # default: .reprise/catalog.db

[[site]]
id = "main"
name = "Main site"
# address = "47 boulevard de Courcelles, 75008 Paris"
# contact = "it@example.org"

# Where restore points are stored, in restic's format: stock `restic` can read them
# when Reprise itself is down. The password is never written here.
[[repository]]
id = "local"
path = "repository"
password_file = ".reprise/keys/local.key"
medium = "disk"
location = "on-site"

# Daily backups kept 14 days (seed 003's policy).
[[policy]]
id = "daily"
schedule = "daily at 02:00"            # also: hourly, every 6h, weekly on sunday at 03:00, cron
repository = "local"
keep_daily = 14
max_age = "14d"
# copy_to = ["offsite"]                # 3-2-1: copy new restore points to other repositories

# One block per asset. Import a table with `reprise inventory import FILE.csv`.
#
# [[asset]]
# id = "mail"
# name = "Mail server"
# site = "main"
# category = "mail"                    # camera, recorder, switch, router, server, vm, database, mail, vpn, supervision, storage, application…
# criticality = "major"                # critical, major, minor
# state = "working"                    # working, partial, failed
# function = "messaging"
# owner = "Mohamed"
# environment = "production"           # staging, or tenant:NAME for a client (restore requests name it)
# rpo = "24h"
# rto = "4h"
# depends_on = ["router"]
# procedure = "Restart the services, restore the mailboxes, send and receive a test message."
#
# [[asset.dataset]]
# name = "mailboxes"
# paths = ["/var/vmail"]
# exclude = ["*.tmp"]
# category = "records"                 # data category (records, documents, settings, logs, or
#                                      # your own): its retention bounds apply, requests select by it
# drill_check = "test -d vmail"        # run in a restored copy (drills, restore requests)
#
# [[asset.dataset]]
# name = "database"
# command = "mysqldump --all-databases"
# filename = "all-databases.sql"
# timeout = "30m"

# Data categories and how long their restore points may be kept (R002.3): a policy
# keeping data longer is refused, and points past the maximum are purged.
#
# [[category]]
# name = "records"
# min_retention = "30d"
# max_retention = "1y"

# CSV exports on a schedule (R002.4), into a directory or a repository.
#
# [[export]]
# id = "weekly"
# kinds = ["runs", "requests", "inventory"]
# schedule = "weekly on monday at 06:00"
# period = "7d"
# directory = "exports"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_template_is_a_valid_configuration() {
        let parsed = config::parse(Path::new(CONFIG_FILE), INIT_TEMPLATE);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let config = parsed.config.unwrap();
        assert_eq!(config.inventory.policies[0].id.as_str(), "daily");
    }

    #[test]
    fn discovery_walks_up_like_git() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CONFIG_FILE), INIT_TEMPLATE).unwrap();
        let deep = dir.path().join("a/b/c");
        fs::create_dir_all(&deep).unwrap();
        let found = Workspace::discover(&deep).unwrap();
        assert_eq!(found.root, dir.path().canonicalize().unwrap());
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(matches!(
            Workspace::discover(elsewhere.path()),
            Err(WorkspaceError::NotFound { .. })
        ));
    }

    #[test]
    fn a_state_change_does_not_change_the_fingerprint() {
        let mut inv = config::parse(Path::new("r.toml"), INIT_TEMPLATE)
            .config
            .unwrap()
            .inventory;
        let text = format!(
            "{INIT_TEMPLATE}\n[[asset]]\nid = \"r\"\nname = \"R\"\nsite = \"main\"\ncategory = \"router\"\ncriticality = \"critical\"\n"
        );
        inv.assets = config::parse(Path::new("r.toml"), &text)
            .config
            .unwrap()
            .inventory
            .assets;
        let before = asset_records(&inv);
        inv.assets[0].state = reprise_domain::AssetState::Failed;
        let after = asset_records(&inv);
        assert_eq!(before[0].fingerprint, after[0].fingerprint);
        inv.assets[0].owner = Some("Mohamed".into());
        assert_ne!(asset_records(&inv)[0].fingerprint, before[0].fingerprint);
    }
}
