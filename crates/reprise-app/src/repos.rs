//! From a configured repository to an open one: location, password source, and the
//! lines that let stock `restic` open it when Reprise itself is unavailable.

use std::process::Command;
use std::sync::Arc;

use reprise_domain::{RepoBackend, Repository};
use reprise_engine::{Progress, Repo, RepoSpec, Secret};

use crate::error::{AppError, AppResult};
use crate::workspace::Workspace;

/// The restic location string of a repository (`/srv/reprise/repository`, `rest:…`).
pub fn location(ws: &Workspace, repo: &Repository) -> String {
    match &repo.backend {
        RepoBackend::Local { path } => ws.resolve(path).display().to_string(),
        RepoBackend::S3 { url } | RepoBackend::Sftp { url } | RepoBackend::Rest { url } => {
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
    if matches!(repo.backend, RepoBackend::Sftp { .. }) {
        return Err(AppError::Invalid(format!(
            "repository `{}`: SFTP repositories are not supported by this build yet (use a local path, S3 or restic's REST server)",
            repo.id
        )));
    }
    Ok(RepoSpec {
        location: location(ws, repo),
        password: password(ws, repo)?,
        // S3 credentials come from the environment, as for restic.
        s3: None,
    })
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
        let result = if matches!(repo.backend, RepoBackend::Sftp { .. }) {
            Err("SFTP repositories are not supported by this build".to_string())
        } else {
            let spec = RepoSpec {
                location: location.clone(),
                password: Secret::new(""),
                s3: None,
            };
            blocking(move || reprise_engine::probe(&spec))
                .await
                .map_err(|e| e.to_string())
        };
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
