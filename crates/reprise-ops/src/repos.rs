//! From a configured repository to an open one: location, password source, and the
//! lines that let stock `restic` open it when Reprise itself is unavailable.

use std::process::Command;
use std::sync::Arc;

use reprise_domain::{RepoBackend, Repository};
use reprise_engine::{KnownHosts, Progress, Repo, RepoSpec, Secret, SshOptions};

use crate::error::{AppError, AppResult};
use reprise_workspace::workspace::Workspace;

/// The restic location string of a repository (`/srv/reprise/repository`, `rest:…`).
pub fn location(ws: &Workspace, repo: &Repository) -> String {
    match &repo.backend {
        RepoBackend::Local { path } => ws.resolve(path).display().to_string(),
        RepoBackend::S3 { url } | RepoBackend::Sftp { url, .. } | RepoBackend::Rest { url } => {
            url.clone()
        }
    }
}

/// Reads the repository password from where the configuration says it is.
pub fn password(ws: &Workspace, repo: &Repository) -> AppResult<Secret> {
    if let Some(file) = &repo.password_file {
        let path = ws.resolve(file);
        return Secret::from_file(&path).map_err(|e| {
            AppError::Failed(format!(
                "repository `{}`: cannot read the key file {}: {e}",
                repo.id,
                path.display()
            ))
        });
    }
    if let Some(var) = &repo.password_env {
        return std::env::var(var).map(Secret::new).map_err(|_| {
            AppError::Failed(format!(
                "repository `{}`: the environment variable {var} holding its password is not set",
                repo.id
            ))
        });
    }
    if let Some(name) = &repo.password_secret {
        return crate::secrets::get(ws, name)
            .map(Secret::new)
            .map_err(|e| AppError::Failed(format!("repository `{}`: {e}", repo.id)));
    }
    if let Some(command) = &repo.password_command {
        let out = Command::new("sh")
            .args(["-c", command])
            .current_dir(&ws.root)
            .output()
            .map_err(|e| {
                AppError::Failed(format!(
                    "repository `{}`: cannot run its password command: {e}",
                    repo.id
                ))
            })?;
        if !out.status.success() {
            return Err(AppError::Failed(format!(
                "repository `{}`: its password command failed ({})",
                repo.id, out.status
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        return Ok(Secret::new(text.lines().next().unwrap_or("")));
    }
    Err(AppError::Invalid(format!(
        "repository `{}` has no password source",
        repo.id
    )))
}

pub fn spec(ws: &Workspace, repo: &Repository) -> AppResult<RepoSpec> {
    let mut spec = RepoSpec::new(location(ws, repo), password(ws, repo)?);
    spec.ssh = ssh(ws, repo);
    spec.lock = repo.immutable.map(lock);
    Ok(spec)
}

/// The engine's Object Lock for a repository's `immutable_for`.
pub fn lock(immutable: reprise_domain::Immutability) -> reprise_engine::ObjectLock {
    reprise_engine::ObjectLock {
        period: jiff::SignedDuration::from_secs(
            i64::try_from(immutable.period.as_secs()).unwrap_or(i64::MAX),
        ),
        mode: match immutable.mode {
            reprise_domain::LockMode::Compliance => reprise_engine::LockMode::Compliance,
            reprise_domain::LockMode::Governance => reprise_engine::LockMode::Governance,
        },
    }
}

/// How ssh reaches an SFTP repository (S3 credentials come from the environment, as for
/// restic).
fn ssh(ws: &Workspace, repo: &Repository) -> SshOptions {
    match &repo.backend {
        RepoBackend::Sftp {
            ssh_key,
            known_hosts,
            ..
        } => SshOptions {
            key: ssh_key.as_ref().map(|k| ws.resolve(k)),
            known_hosts: KnownHosts::parse(known_hosts).unwrap_or_default(),
        },
        _ => SshOptions::default(),
    }
}

/// What the last look at a repository found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RepoProbe {
    pub repository: String,
    pub location: String,
    /// The storage answered.
    pub reachable: bool,
    /// It holds a repository (`reprise repo init` was run).
    pub initialised: bool,
    pub files: Option<u64>,
    pub bytes: Option<u64>,
    pub error: Option<String>,
    pub at: jiff::Timestamp,
}

/// Looks at every repository (without their passwords), one blocking thread each.
pub async fn probe_all(ws: &Workspace, repositories: &[Repository]) -> Vec<RepoProbe> {
    let mut out = Vec::new();
    for repo in repositories {
        let location = location(ws, repo);
        let id = repo.id.to_string();
        let mut spec = RepoSpec::new(location.clone(), Secret::new(""));
        spec.ssh = ssh(ws, repo);
        let result = blocking(move || reprise_engine::probe(&spec))
            .await
            .map_err(|e| e.to_string());
        out.push(match result {
            Ok(p) => RepoProbe {
                repository: id,
                location,
                reachable: true,
                initialised: p.initialised,
                files: Some(p.files),
                bytes: Some(p.bytes),
                error: None,
                at: jiff::Timestamp::now(),
            },
            Err(e) => RepoProbe {
                repository: id,
                location,
                reachable: false,
                initialised: false,
                files: None,
                bytes: None,
                error: Some(e),
                at: jiff::Timestamp::now(),
            },
        });
    }
    out
}

/// Opens a repository on a blocking thread (the engine is synchronous).
pub async fn open(
    ws: &Workspace,
    repo: &Repository,
    progress: Arc<dyn Progress>,
) -> AppResult<Arc<Repo>> {
    let spec = spec(ws, repo)?;
    let id = repo.id.to_string();
    blocking(move || Repo::open(&spec, progress))
        .await
        .map(Arc::new)
        .map_err(|e| match e {
            reprise_engine::EngineError::NotFound { .. } => AppError::Failed(format!(
                "repository `{id}` is not initialised yet: run `reprise repo init {id}` ({e})"
            )),
            other => AppError::Engine(other),
        })
}

/// Creates the repository if it does not exist yet; returns whether it was created.
pub async fn init(ws: &Workspace, repo: &Repository) -> AppResult<bool> {
    let spec = spec(ws, repo)?;
    blocking(move || {
        if reprise_engine::exists(&spec)? {
            return Ok(false);
        }
        reprise_engine::init(&spec).map(|()| true)
    })
    .await
    .map_err(AppError::Engine)
}

/// The ssh command stock `restic` needs for an SFTP repository with a key or a host-key
/// strategy of its own (`restic -o sftp.command='…'`); `None` when ssh's defaults do.
pub fn restic_sftp_command(ws: &Workspace, repo: &Repository) -> Option<String> {
    let RepoBackend::Sftp { url, .. } = &repo.backend else {
        return None;
    };
    let ssh = ssh(ws, repo);
    if ssh == SshOptions::default() {
        return None;
    }
    reprise_engine::ssh_command(url, &ssh)
}

/// The environment lines for stock `restic`: the repository, and where its password
/// comes from, never the password itself.
pub fn restic_env(ws: &Workspace, repo: &Repository) -> Vec<(String, String)> {
    let mut lines = vec![("RESTIC_REPOSITORY".to_string(), location(ws, repo))];
    if let Some(file) = &repo.password_file {
        lines.push((
            "RESTIC_PASSWORD_FILE".to_string(),
            ws.resolve(file).display().to_string(),
        ));
    } else if let Some(var) = &repo.password_env {
        lines.push((
            "RESTIC_PASSWORD_COMMAND".to_string(),
            format!("printenv {var}"),
        ));
    } else if let Some(command) = &repo.password_command {
        lines.push(("RESTIC_PASSWORD_COMMAND".to_string(), command.clone()));
    } else if let Some(name) = &repo.password_secret {
        // Reprise hands the decrypted password to restic through a pipe, never a file.
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "reprise".into());
        lines.push((
            "RESTIC_PASSWORD_COMMAND".to_string(),
            format!("{exe} --workspace {} secret show {name}", ws.root.display()),
        ));
    }
    lines
}

/// Runs engine work on a blocking thread, so async callers (the server) stay responsive.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// What rotating a repository's key did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rotation {
    /// The repository asked for, and the others sharing its key file (all rotated
    /// together, or the others could no longer be opened).
    pub repositories: Vec<String>,
    /// The key file or the secret that now holds the password.
    pub stored_in: String,
    /// Per repository: the old key removed and the new one.
    pub keys: Vec<(String, Option<String>, String)>,
    /// Immutable repositories whose old key could not be removed: it is locked, and
    /// the old password opens them until the lock lapses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub old_key_locked: Vec<String>,
    pub at: jiff::Timestamp,
}

/// Rotates a repository's key (R002.8): adds a key with a new random password to it (and
/// to every repository sharing its password), checks that the new password opens each,
/// puts it in the key file or the secret (atomically), then removes the old keys. A crash
/// at any step leaves a password that opens every repository. For a `password_file` or a
/// `password_secret`.
pub async fn rotate_key(ctx: &crate::context::Ctx<'_>, id: &str) -> AppResult<Rotation> {
    let repo = ctx.repository(id)?;
    let ws = ctx.workspace();
    // Where the password lives, and every repository that shares it.
    let (key_file, secret) = match (&repo.password_file, &repo.password_secret) {
        (Some(file), _) => (Some(ws.resolve(file)), None),
        (None, Some(name)) => (None, Some(name.clone())),
        _ => {
            return Err(AppError::Invalid(format!(
                "repository `{id}` takes its password from {}: rotate it there, then add the new key with stock restic (`restic key add`); `reprise repo rotate-key` writes a password_file or a password_secret",
                if repo.password_env.is_some() {
                    "the environment"
                } else {
                    "a command"
                }
            )));
        }
    };
    let group: Vec<&Repository> = ctx
        .inventory()
        .repositories
        .iter()
        .filter(|r| match (&key_file, &secret) {
            (Some(f), _) => r.password_file.as_deref().map(|x| ws.resolve(x)).as_ref() == Some(f),
            (None, Some(n)) => r.password_secret.as_ref() == Some(n),
            _ => false,
        })
        .collect();
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Failed(format!("no randomness for a key: {e}")))?;
    let new_text = reprise_workspace::text::hex(&bytes);
    let new_password = Secret::new(new_text.clone());
    // 1. A new key in every repository of the group; the old password still opens them.
    let mut opened = Vec::new();
    for r in &group {
        let old = open(ws, r, ctx.progress.clone()).await?;
        let pw = new_password.clone();
        let handle = old.clone();
        let added = blocking(move || handle.add_key(&pw)).await?;
        opened.push((r.id.to_string(), old, added));
    }
    // 2. The new password proven on every repository before it replaces the old one.
    let mut reopened = Vec::new();
    for (r, (rid, _, added)) in group.iter().zip(&opened) {
        let mut new_spec = spec(ws, r)?;
        new_spec.password = new_password.clone();
        let progress = ctx.progress.clone();
        let handle = blocking(move || reprise_engine::Repo::open(&new_spec, progress)).await;
        match handle {
            Ok(h) if h.key_id().as_deref() == Some(added.as_str()) => reopened.push(h),
            _ => {
                return Err(AppError::Failed(format!(
                    "repository `{rid}`: the new key {added} does not open it; the old password is kept"
                )));
            }
        }
    }
    // 3. The new password in place of the old, atomically.
    let stored_in = match (&key_file, &secret) {
        (Some(file), _) => {
            let pending = file.with_extension("key.new");
            write_secret_file(&pending, &format!("{new_text}\n"))?;
            std::fs::rename(&pending, file).map_err(|e| {
                AppError::Failed(format!(
                    "cannot put the new key in {}: {e} (the new password is in {})",
                    file.display(),
                    pending.display()
                ))
            })?;
            file.display().to_string()
        }
        (None, Some(name)) => {
            crate::secrets::set(ws, name, &new_text, jiff::Timestamp::now())?;
            format!("secret `{name}`")
        }
        _ => unreachable!("one of them, checked above"),
    };
    // 4. The old keys out.
    let mut keys = Vec::new();
    let mut old_key_locked = Vec::new();
    for ((rid, old, added), handle) in opened.into_iter().zip(reopened) {
        let old_key = old.key_id();
        if handle.has_object_lock() {
            old_key_locked.push(rid.clone());
        } else if let Some(old_id) = old_key.clone() {
            blocking(move || handle.delete_key(&old_id)).await?;
        }
        keys.push((rid, old_key, added));
    }
    let at = jiff::Timestamp::now();
    for (rid, _, _) in &keys {
        ctx.catalog
            .record_rotation(&format!("repository:{rid}"), at)
            .await?;
    }
    Ok(Rotation {
        repositories: keys.iter().map(|k| k.0.clone()).collect(),
        stored_in,
        keys,
        old_key_locked,
        at,
    })
}

/// Writes a secret to a new file only its owner can read (replacing a leftover).
fn write_secret_file(path: &std::path::Path, text: &str) -> AppResult<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let fail =
        |e: std::io::Error| AppError::Failed(format!("cannot write {}: {e}", path.display()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)
}
