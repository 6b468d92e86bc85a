//! Reprise's backup engine: restic-format repositories, written and read through
//! `rustic_core`, so stock `restic` can list, check and restore everything Reprise writes.
//!
//! This crate is the only one that names a `rustic_core` type. It offers plain values
//! ([`SnapshotInfo`], [`RestoreSummary`], [`CheckReport`]) and a small progress trait
//! ([`Progress`]) instead. Every call is synchronous and may block for a long time (and,
//! for remote backends, runs its own runtime): async callers run it on a blocking thread.
//!
//! Plan, then execute: [`Repo::plan_restore`] checks a restore (hostile paths, existing
//! files, integrity of exactly the data it needs) before [`Repo::restore`] writes anything.

mod backup;
mod changes;
mod check;
mod confined;
mod erase;
mod immutable;
mod keys;
mod lock;
mod object;
mod progress;
mod restore;
mod sftp;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;
use rustic_backend::BackendOptions;
use rustic_core::{
    ConfigOptions, Credentials, FileType, KeyOptions, OpenStatus, Repository, RepositoryOptions,
    repofile::{MasterKey, SnapshotFile},
};

pub use backup::{BackupRequest, BackupSource};
pub use changes::{Changes, name_matches};
pub use check::{CheckReport, PackProblem, ReadMode};
pub use erase::{Erased, Found, is_erased};
pub use immutable::{LockReport, Recovered, object_lock_enabled, recover};
pub use lock::{LockMode, ObjectLock};
pub use progress::{NoProgress, Progress, ProgressKind, Task};
pub use restore::{RestorePlan, RestoreRequest, RestoreSummary};

/// An engine failure, in words a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("repository {location}: wrong password (the key does not open this repository)")]
    WrongPassword { location: String },
    #[error("repository {location} does not exist or is not initialised ({reason})")]
    NotFound { location: String, reason: String },
    #[error("repository {location}: {reason}")]
    Repository { location: String, reason: String },
    #[error("no snapshot `{0}` in the repository")]
    NoSuchSnapshot(String),
    #[error("the snapshot has no path `{0}`")]
    NoSuchPath(String),
    #[error("refusing to restore: {0}")]
    Refused(String),
    #[error("{0}")]
    Io(String),
}

pub type Result<T> = std::result::Result<T, EngineError>;

/// Where a repository is and how to open it.
#[derive(Clone)]
pub struct RepoSpec {
    /// A local directory or a restic location (`rest:http://…`, `s3:https://host/bucket`,
    /// `sftp:user@host:/path`).
    pub location: String,
    pub password: Secret,
    /// Credentials of an `s3:` location; read from `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` when `None`, as restic does.
    pub s3: Option<S3Credentials>,
    /// How an `sftp:` location is reached.
    pub ssh: SshOptions,
    /// An immutable repository's Object Lock (`s3:` locations only).
    pub lock: Option<ObjectLock>,
    /// A PEM certificate to trust for a `rest:https://…` location, beside the system's
    /// authorities (a private CA, or a server's own certificate).
    pub rest_cacert: Option<std::path::PathBuf>,
}

impl RepoSpec {
    /// A repository reached with the defaults: S3 credentials from the environment, ssh
    /// with its own configuration and strict host key checking.
    pub fn new(location: impl Into<String>, password: Secret) -> Self {
        Self {
            location: location.into(),
            password,
            s3: None,
            ssh: SshOptions::default(),
            lock: None,
            rest_cacert: None,
        }
    }
}

/// The ssh command that reaches an `sftp:` location's server, as stock restic takes it
/// (`-o sftp.command='…'`).
pub fn ssh_command(location: &str, ssh: &SshOptions) -> Option<String> {
    let (destination, _) = sftp::parse(location).ok()?;
    let mut words = vec!["ssh".to_string()];
    words.extend(sftp::ssh_args(ssh));
    words.extend([destination, "-s".into(), "sftp".into()]);
    Some(words.join(" "))
}

/// How the system's `ssh` reaches an SFTP repository, beyond its own configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshOptions {
    /// A private key file (`ssh -i`).
    pub key: Option<PathBuf>,
    pub known_hosts: KnownHosts,
}

/// What ssh does with a host key it does not know (`StrictHostKeyChecking`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KnownHosts {
    /// Only hosts already in the known hosts file (`yes`).
    #[default]
    Strict,
    /// Adds a new host, refuses a changed key (`accept-new`).
    Add,
    /// Anything (`no`): for a throwaway test server only.
    Accept,
}

impl KnownHosts {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "strict" => Some(Self::Strict),
            "add" | "accept-new" => Some(Self::Add),
            "accept" | "no" => Some(Self::Accept),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Add => "add",
            Self::Accept => "accept",
        }
    }
}

/// Access to an S3 bucket.
#[derive(Clone, Debug)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// A password that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Reads a restic-style password file: the first line, without its line ending.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(Self(text.lines().next().unwrap_or("").to_string()))
    }

    /// The secret itself: for the engine, and for the one place it leaves Reprise (an
    /// agent's assignment, over TLS, to the host that encrypts its own backups).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl std::fmt::Debug for RepoSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoSpec")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// A restore point as stored in the repository.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotInfo {
    /// The full snapshot id (64 hex characters).
    pub id: String,
    pub time: Timestamp,
    pub hostname: String,
    pub paths: Vec<String>,
    pub tags: Vec<String>,
    /// Files in the snapshot, when the snapshot carries a summary.
    pub files: Option<u64>,
    /// Bytes of the source (the size of the restore point).
    pub bytes: Option<u64>,
    /// Bytes this snapshot added to the repository (after deduplication).
    pub bytes_added: Option<u64>,
    pub duration_seconds: Option<f64>,
    /// What a backup just made changed against its parent, when it was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

impl SnapshotInfo {
    fn from_file(snap: &SnapshotFile) -> Self {
        let summary = snap.summary.as_ref();
        Self {
            id: snap.id.to_string(),
            time: snap.time.timestamp(),
            hostname: snap.hostname.clone(),
            paths: snap.paths.iter().cloned().collect(),
            tags: snap.tags.iter().cloned().collect(),
            files: summary.map(|s| s.total_files_processed),
            bytes: summary.map(|s| s.total_bytes_processed),
            bytes_added: summary.map(|s| s.data_added_packed),
            duration_seconds: summary.map(|s| s.backup_duration),
            changes: None,
        }
    }

    /// The value of a `key:value` tag (`asset:iredmail` → `iredmail`).
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find_map(|t| t.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
    }
}

/// An open repository.
pub struct Repo {
    inner: Repository<OpenStatus>,
    spec: RepoSpec,
    progress: Arc<dyn Progress>,
    location: String,
    /// The object storage `inner` writes to, for what Object Lock needs beyond it.
    object: Option<Arc<object::ObjectBackend>>,
}

fn options() -> RepositoryOptions {
    // No local cache: Reprise may run as a service user without a home directory, and a
    // local repository gains nothing from one.
    RepositoryOptions::default().no_cache(true)
}

fn backends(spec: &RepoSpec) -> Result<rustic_core::RepositoryBackends> {
    backends_with_object(spec).map(|(backends, _)| backends)
}

/// The backends of a repository, and its object storage when it is in a bucket.
fn backends_with_object(
    spec: &RepoSpec,
) -> Result<(
    rustic_core::RepositoryBackends,
    Option<Arc<object::ObjectBackend>>,
)> {
    if spec.location.starts_with("s3:") {
        let object = Arc::new(object::ObjectBackend::open_s3(
            &spec.location,
            spec.s3.as_ref(),
            spec.lock,
        )?);
        return Ok((
            rustic_core::RepositoryBackends::new(object.clone(), None),
            Some(object),
        ));
    }
    if spec.lock.is_some() && local_path(&spec.location).is_none() {
        return Err(EngineError::Repository {
            location: spec.location.clone(),
            reason: "only S3 storage with Object Lock, or a local repository Reprise serves \
                     to writers, can be immutable"
                .into(),
        });
    }
    backends_plain(spec).map(|backends| (backends, None))
}

fn backends_plain(spec: &RepoSpec) -> Result<rustic_core::RepositoryBackends> {
    let remote: Option<Arc<dyn rustic_core::WriteBackend>> = if spec.location.starts_with("sftp:") {
        Some(Arc::new(sftp::SftpBackend::open(
            &spec.location,
            &spec.ssh,
        )?))
    } else {
        None
    };
    if let Some(backend) = remote {
        return Ok(rustic_core::RepositoryBackends::new(backend, None));
    }
    let mut options = BackendOptions::default().repository(spec.location.clone());
    if let Some(ca) = spec
        .rest_cacert
        .as_ref()
        .filter(|_| spec.location.starts_with("rest:"))
    {
        options
            .options
            .insert("cacert".into(), ca.display().to_string());
    }
    options.to_backends().map_err(|e| EngineError::Repository {
        location: spec.location.clone(),
        reason: concise(&e.to_string()),
    })
}

fn repo_error(location: &str) -> impl Fn(Box<rustic_core::RusticError>) -> EngineError + '_ {
    move |e| EngineError::Repository {
        location: location.to_string(),
        reason: concise(&e.to_string()),
    }
}

/// Runs engine work that walks trees, turning a panic of the engine library (its worker
/// threads stop on a closed channel when a tree is damaged) into an error.
pub(crate) fn no_panic<T>(location: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        Err(EngineError::Repository {
            location: location.to_string(),
            reason: format!(
                "stopped on damaged data (engine failure: {})",
                panic_message(&*panic)
            ),
        })
    })
}

/// The text a panic carried, if it carried text.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The engine library's error reports span many lines (messages, causes, context,
/// backtraces). People need the messages: this keeps each `Message:` and the first line
/// of each cause, joined on one line.
pub(crate) fn concise(report: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut lines = report.lines().peekable();
    let first = report.lines().next().unwrap_or("").trim();
    while let Some(line) = lines.next() {
        let heading = line.trim();
        if (heading == "Message:" || heading == "Caused by:")
            && let Some(next) = lines.next()
        {
            let text = next.trim().trim_end_matches(" : (source: aead::Error)");
            if !text.is_empty()
                && !text.starts_with("`rustic_core` experienced")
                && !parts.iter().any(|p| p == text)
            {
                parts.push(text.to_string());
            }
        }
    }
    if parts.is_empty() {
        return first.to_string();
    }
    // Keep the leading words of the outer message when they add context
    // (`error checking trees :`).
    match first.split_once(" : ") {
        Some((context, _)) if !context.contains("rustic_core") => {
            format!("{context}: {}", parts.join(": "))
        }
        _ => parts.join(": "),
    }
}

/// Creates a new repository at `spec.location` (which must not hold one yet).
pub fn init(spec: &RepoSpec) -> Result<()> {
    if let Some(path) = local_path(&spec.location) {
        std::fs::create_dir_all(&path)
            .map_err(|e| EngineError::Io(format!("cannot create {}: {e}", path.display())))?;
    }
    if spec.lock.is_some() && !object_lock_enabled(spec)? {
        return Err(EngineError::Repository {
            location: spec.location.clone(),
            reason: "the bucket has no Object Lock: an immutable repository needs a bucket \
                     created with Object Lock enabled (`aws s3api create-bucket \
                     --object-lock-enabled-for-bucket`, or your provider's console)"
                .into(),
        });
    }
    let backends = backends(spec)?;
    let repo = Repository::new(&options(), &backends).map_err(repo_error(&spec.location))?;
    if repo
        .config_id()
        .map_err(repo_error(&spec.location))?
        .is_some()
    {
        return Err(EngineError::Repository {
            location: spec.location.clone(),
            reason: "a repository already exists there".into(),
        });
    }
    // The key file first, written by Reprise (see keys.rs), then the configuration: a
    // repository exists once its configuration does, and then a key opens it.
    let be = backends.repository();
    be.create().map_err(repo_error(&spec.location))?;
    // Key files without a configuration are what an interrupted init leaves: they open
    // no repository, and one of them found first by a password would hide the real key.
    for (id, _) in be
        .list_with_size(FileType::Key)
        .map_err(repo_error(&spec.location))?
    {
        be.remove(FileType::Key, &id, false)
            .map_err(repo_error(&spec.location))?;
    }
    let master = MasterKey::new();
    let key = keys::write(&be, &master, spec.password.expose(), &spec.location)?;
    // Data packs from 8 MiB (the engine library starts at 32 MiB, restic makes 16 MiB),
    // growing with the repository as the engine library does, up to 32 MiB: a backup and
    // a verification hold a pack per worker in memory. Up to twice restic's file count
    // in small repositories, fewer files than restic's past 64 GiB.
    let config = ConfigOptions::default()
        .set_datapack_size(Some(bytesize::ByteSize::mib(8)))
        .set_datapack_size_limit(Some(bytesize::ByteSize::mib(32)));
    if let Err(e) = repo.init(
        &Credentials::Masterkey(master),
        &KeyOptions::default(),
        &config,
    ) {
        // Nothing half-made is left behind: a stray key would open no repository.
        let _ = be.remove(FileType::Key, &key, false);
        return Err(repo_error(&spec.location)(e));
    }
    Ok(())
}

/// Whether a repository has been initialised at `spec.location`.
pub fn exists(spec: &RepoSpec) -> Result<bool> {
    let repo = Repository::new(&options(), &backends(spec)?).map_err(repo_error(&spec.location))?;
    Ok(repo
        .config_id()
        .map_err(repo_error(&spec.location))?
        .is_some())
}

/// What a look at a repository found, without its password: whether it answers, holds
/// a repository, and how many bytes its files take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub initialised: bool,
    pub files: u64,
    pub bytes: u64,
}

/// Looks at a repository without opening it (no key derivation): cheap enough to run
/// every few minutes. An error means the storage did not answer.
pub fn probe(spec: &RepoSpec) -> Result<Probe> {
    let repo = Repository::new(&options(), &backends(spec)?).map_err(repo_error(&spec.location))?;
    let initialised = repo
        .config_id()
        .map_err(repo_error(&spec.location))?
        .is_some();
    if !initialised {
        return Ok(Probe {
            initialised,
            files: 0,
            bytes: 0,
        });
    }
    let infos = repo.infos_files().map_err(repo_error(&spec.location))?;
    Ok(Probe {
        initialised,
        files: infos.repo.iter().map(|i| i.count).sum(),
        bytes: infos.repo.iter().map(|i| i.size).sum(),
    })
}

fn local_path(location: &str) -> Option<PathBuf> {
    match location.split_once(':') {
        Some(("local", path)) => Some(PathBuf::from(path)),
        Some(_) => None,
        None => Some(PathBuf::from(location)),
    }
}

impl Repo {
    /// Opens the repository, telling a wrong password from a missing repository.
    pub fn open(spec: &RepoSpec, progress: Arc<dyn Progress>) -> Result<Self> {
        let location = spec.location.clone();
        let (backends, object) = backends_with_object(spec)?;
        let repo =
            Repository::new_with_progress(&options(), &backends, progress::Bars(progress.clone()))
                .map_err(repo_error(&location))?;
        match repo.config_id() {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(EngineError::NotFound {
                    location,
                    reason: "no config file".into(),
                });
            }
            Err(e) => {
                return Err(EngineError::NotFound {
                    location,
                    reason: concise(&e.to_string()),
                });
            }
        }
        let inner = repo
            .open(&Credentials::password(spec.password.expose()))
            .map_err(|e| {
                let text = concise(&e.to_string());
                if text.to_lowercase().contains("password") || text.contains("key") {
                    EngineError::WrongPassword {
                        location: location.clone(),
                    }
                } else {
                    EngineError::Repository {
                        location: location.clone(),
                        reason: text,
                    }
                }
            })?;
        Ok(Self {
            inner,
            spec: spec.clone(),
            progress,
            location,
            object,
        })
    }

    /// A second handle on the same repository, opened with the master key already
    /// decrypted (no password derivation again). Operations that need the index consume
    /// a handle, so they use one of these.
    fn reopen(&self) -> Result<Repository<OpenStatus>> {
        let key = self.inner.key();
        Repository::new_with_progress(
            &options(),
            &backends(&self.spec)?,
            progress::Bars(self.progress.clone()),
        )
        .and_then(|r| r.open(&Credentials::Masterkey(key)))
        .map_err(repo_error(&self.location))
    }

    /// The id of the key this handle was opened with.
    pub fn key_id(&self) -> Option<String> {
        self.inner
            .key_id()
            .map(|id| id.into_inner().to_hex().to_string())
    }

    /// Adds a key protected by `password` (the same master key inside: nothing is
    /// re-encrypted) and returns its id.
    pub fn add_key(&self, password: &Secret) -> Result<String> {
        let be = backends(&self.spec)?.repository();
        let id = keys::write(&be, &self.inner.key(), password.expose(), &self.location)?;
        Ok(id.to_hex().to_string())
    }

    /// Removes the key `id` (never the one this handle was opened with).
    pub fn delete_key(&self, id: &str) -> Result<()> {
        let key_id =
            id.parse::<rustic_core::repofile::KeyId>()
                .map_err(|e| EngineError::Repository {
                    location: self.location.clone(),
                    reason: format!("`{id}` is not a key id: {e}"),
                })?;
        no_panic(&self.location, || {
            self.inner
                .delete_key(&key_id)
                .map_err(repo_error(&self.location))
        })
    }

    /// The ids of every key of the repository.
    pub fn key_ids(&self) -> Result<Vec<String>> {
        use rustic_core::repofile::KeyId;
        no_panic(&self.location, || {
            self.inner
                .list::<KeyId>()
                .map(|ids| {
                    ids.map(|id: KeyId| id.into_inner().to_hex().to_string())
                        .collect()
                })
                .map_err(repo_error(&self.location))
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// Every snapshot, oldest first.
    pub fn snapshots(&self) -> Result<Vec<SnapshotInfo>> {
        let mut snaps: Vec<SnapshotInfo> = self
            .inner
            .get_all_snapshots()
            .map_err(repo_error(&self.location))?
            .iter()
            .map(SnapshotInfo::from_file)
            .collect();
        snaps.sort_by(|a, b| a.time.cmp(&b.time).then(a.id.cmp(&b.id)));
        Ok(snaps)
    }

    fn snapshot_file(&self, id: &str) -> Result<SnapshotFile> {
        let snaps = self
            .inner
            .get_snapshots(&[id])
            .map_err(|_| EngineError::NoSuchSnapshot(id.to_string()))?;
        snaps
            .into_iter()
            .next()
            .ok_or_else(|| EngineError::NoSuchSnapshot(id.to_string()))
    }

    /// Removes snapshots (restore points) by id. Their data stays until [`Repo::prune`].
    pub fn forget(&self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let snaps = self
            .inner
            .get_snapshots(ids)
            .map_err(repo_error(&self.location))?;
        let ids: Vec<_> = snaps.iter().map(|s| s.id).collect();
        self.inner
            .delete_snapshots(&ids)
            .map_err(repo_error(&self.location))
    }

    /// Removes data no snapshot references any more. Returns the bytes of data removed.
    /// A local immutable repository keeps every pack younger than its period.
    pub fn prune(&self) -> Result<u64> {
        let mut opts = rustic_core::PruneOptions::default().instant_delete(true);
        if let Some(lock) = self.spec.lock
            && self.object.is_none()
        {
            opts = opts.keep_pack(jiff::Span::new().seconds(lock.period.as_secs()));
        }
        self.prune_with(opts)
    }

    /// Removes every byte no snapshot references: packs holding any unused data are
    /// repacked, whatever it costs, so that erased data is gone from the repository's
    /// files, not only from its snapshots.
    pub(crate) fn prune_all_unused(&self) -> Result<u64> {
        self.prune_with(
            rustic_core::PruneOptions::default()
                .instant_delete(true)
                .max_unused(rustic_core::LimitOption::Percentage(0))
                .max_repack(rustic_core::LimitOption::Unlimited),
        )
    }

    fn prune_with(&self, opts: rustic_core::PruneOptions) -> Result<u64> {
        let plan = self
            .inner
            .prune_plan(&opts)
            .map_err(repo_error(&self.location))?;
        // Blobs removed with their packs, and those dropped when packs are repacked.
        let sizes = plan.stats.size_sum();
        let freed = sizes.remove + sizes.repackrm;
        self.inner
            .prune(&opts, plan)
            .map_err(repo_error(&self.location))?;
        Ok(freed)
    }

    /// Copies snapshots to another repository, skipping those already there, and returns
    /// each copy made as (the original's id, the copy's own id). Data is deduplicated
    /// against what the destination holds.
    pub fn copy_to(&self, dest: &Repo, ids: &[String]) -> Result<Vec<(String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let snaps = self
            .inner
            .get_snapshots(ids)
            .map_err(repo_error(&self.location))?;
        let relevant: Vec<SnapshotFile> = dest
            .inner
            .relevant_copy_snapshots(|_| true, &snaps)
            .map_err(repo_error(&dest.location))?
            .into_iter()
            .filter(|c| c.relevant)
            .map(|c| c.sn)
            .collect();
        let dest_indexed = dest
            .reopen()?
            .to_indexed_ids()
            .map_err(repo_error(&dest.location))?;
        let src_indexed = self
            .reopen()?
            .to_indexed()
            .map_err(repo_error(&self.location))?;
        src_indexed
            .copy(&dest_indexed, relevant.iter())
            .map_err(repo_error(&dest.location))?;
        // A copy gets an id of its own: it is the destination's snapshot of the same
        // tree, time, host and tags.
        let copied = dest
            .reopen()?
            .get_all_snapshots()
            .map_err(repo_error(&dest.location))?;
        Ok(copied
            .iter()
            .filter_map(|c| {
                relevant
                    .iter()
                    .find(|s| {
                        c.tree == s.tree
                            && c.time == s.time
                            && c.hostname == s.hostname
                            && c.tags == s.tags
                    })
                    .map(|s| (s.id.to_string(), c.id.to_string()))
            })
            .collect())
    }
}
