//! restic's REST protocol (v1 and v2) for local repositories, served to writers only, in
//! append-only mode: `rest:https://NAME:TOKEN@server/rest/REPO/` for stock restic.
//!
//! A writer reads its repository, adds files that do not exist yet (each checked against
//! its name, the SHA-256 of its content) and removes lock files; everything else is
//! refused with 403 and journaled. A new snapshot is recorded at once: a restore point of
//! the writer's asset when tagged for it, foreign otherwise.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use reprise_domain::RepoBackend;
use reprise_ops::writers::{self, Writer};
use sha2::{Digest as _, Sha256};

use crate::State;

/// The largest file a writer may add: restic's packs are at most 128 MiB.
const MAX_FILE: usize = 160 * 1024 * 1024;

const KINDS: [&str; 5] = ["data", "keys", "locks", "snapshots", "index"];

const V2: &str = "application/vnd.x.restic.rest.v2";

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route(
            "/rest/{repo}/",
            post(|state, repo, headers| refuse(state, repo, headers, "creating a repository")),
        )
        // A HEAD of the (small) configuration is answered by its GET, body left out.
        .route(
            "/rest/{repo}/config",
            get(read_config).post(|state, repo, headers| {
                refuse(state, repo, headers, "writing the configuration")
            }),
        )
        .route("/rest/{repo}/{kind}/", get(list))
        .route(
            "/rest/{repo}/{kind}/{name}",
            get(read_file)
                .head(head_file)
                .post(write_file)
                .delete(delete_file),
        )
        .layer(axum::extract::DefaultBodyLimit::max(MAX_FILE))
        .with_state(state)
}

fn answer(status: StatusCode, text: &str) -> Response {
    (status, format!("{text}\n")).into_response()
}

/// The token a request carries: the password of HTTP basic authentication (restic sends
/// the URL's `NAME:TOKEN@`), or a bearer token.
fn token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(bearer) = value.strip_prefix("Bearer ") {
        return Some(bearer.trim().to_string());
    }
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.strip_prefix("Basic ")?.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, pass)| pass.to_string())
}

/// The writer a request acts as, and the repository's directory; or the answer refusing
/// it. A credential that was valid once (revoked, expired, another repository's) is
/// journaled; an unknown one is not (anyone can send one).
async fn admit(
    state: &State,
    repo: &str,
    headers: &HeaderMap,
) -> Result<(Writer, PathBuf), Response> {
    let ctx = state.ctx();
    let dir = match ctx.repository(repo) {
        Ok(r) => match &r.backend {
            RepoBackend::Local { path } => ctx.workspace().resolve(path),
            _ => return Err(answer(StatusCode::NOT_FOUND, "not a local repository")),
        },
        Err(_) => return Err(answer(StatusCode::NOT_FOUND, "no such repository")),
    };
    let unauthorized = || {
        let mut response = answer(StatusCode::UNAUTHORIZED, "a writer's token is needed");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"reprise\""),
        );
        response
    };
    let Some(token) = token(headers) else {
        return Err(unauthorized());
    };
    let now = Timestamp::now();
    // An agent writes to its own host's repository only, and reads nothing else.
    match reprise_agents::fleet::authenticate(ctx.catalog, &token, now).await {
        Ok(Some(host)) => {
            return match reprise_agents::fleet::writer(&ctx, &host, repo) {
                Some(writer) => Ok((writer, dir)),
                None => {
                    reprise_agents::fleet::refused(
                        ctx.catalog,
                        &host,
                        &format!(
                            "access to repository `{repo}`, which keeps no data of this host only,"
                        ),
                    )
                    .await;
                    Err(answer(
                        StatusCode::FORBIDDEN,
                        &format!("repository `{repo}` is not the repository of host `{host}`"),
                    ))
                }
            };
        }
        Ok(None) => {
            if let Some(host) = reprise_agents::fleet::former_host(ctx.catalog, &token).await {
                reprise_agents::fleet::refused(
                    ctx.catalog,
                    &host,
                    &format!("access to repository `{repo}` with a revoked credential"),
                )
                .await;
                return Err(unauthorized());
            }
        }
        Err(e) => return Err(answer(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())),
    }
    match writers::authenticate(ctx.catalog, repo, &token, now).await {
        Ok(Some(writer)) => Ok((writer, dir)),
        Ok(None) => {
            if let Ok(Some(row)) = ctx.catalog.token(&reprise_ops::tokens::hash(&token)).await {
                writers::refused(
                    ctx.catalog,
                    repo,
                    &format!(
                        "token `{}` of {}",
                        row.name,
                        row.user.as_deref().unwrap_or("-")
                    ),
                    "access (revoked, expired or not a writer of this repository)",
                )
                .await;
            }
            Err(unauthorized())
        }
        Err(e) => Err(answer(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())),
    }
}

async fn forbid(state: &State, writer: &Writer, what: &str) -> Response {
    writers::refused(
        state.ctx().catalog,
        &writer.repository,
        &if writer.agent {
            format!("agent of host `{}`", writer.name)
        } else {
            format!("writer `{}`", writer.name)
        },
        what,
    )
    .await;
    answer(
        StatusCode::FORBIDDEN,
        &format!("append-only: {what} is not allowed to writers"),
    )
}

/// Where a file of the repository is, for a kind and name restic may use.
fn file_path(dir: &Path, kind: &str, name: &str) -> Option<PathBuf> {
    let hex = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
    if !KINDS.contains(&kind) || !hex {
        return None;
    }
    Some(if kind == "data" {
        dir.join("data").join(&name[..2]).join(name)
    } else {
        dir.join(kind).join(name)
    })
}

/// A request no writer may make: refused once the writer is known.
async fn refuse(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath(repo): UrlPath<String>,
    headers: HeaderMap,
    what: &'static str,
) -> Response {
    match admit(&state, &repo, &headers).await {
        Ok((writer, _)) => forbid(&state, &writer, what).await,
        Err(refusal) => refusal,
    }
}

async fn read_config(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath(repo): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    match admit(&state, &repo, &headers).await {
        Ok((_, dir)) => read(dir.join("config"), &headers).await,
        Err(refusal) => refusal,
    }
}

async fn list(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath((repo, kind)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let dir = match admit(&state, &repo, &headers).await {
        Ok((_, dir)) => dir,
        Err(refusal) => return refusal,
    };
    if !KINDS.contains(&kind.as_str()) {
        return answer(StatusCode::NOT_FOUND, "no such kind of file");
    }
    let v2 = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(V2));
    let files = tokio::task::spawn_blocking(move || list_files(&dir.join(&kind)))
        .await
        .unwrap_or_default();
    let body = if v2 {
        serde_json::json!(
            files
                .iter()
                .map(|(name, size)| serde_json::json!({"name": name, "size": size}))
                .collect::<Vec<_>>()
        )
    } else {
        serde_json::json!(files.iter().map(|(name, _)| name).collect::<Vec<_>>())
    };
    let mut response = body.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if v2 { V2 } else { "application/json" }),
    );
    response
}

/// The files of a kind's directory (and of `data`'s subdirectories), with their sizes.
fn list_files(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if meta.is_dir() {
            out.extend(list_files(&entry.path()));
        } else if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push((name, meta.len()));
        }
    }
    out
}

async fn head_file(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath((repo, kind, name)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match admit(&state, &repo, &headers).await {
        Ok((_, dir)) => match file_path(&dir, &kind, &name) {
            Some(path) => head(&path).await,
            None => answer(StatusCode::NOT_FOUND, "no such file"),
        },
        Err(refusal) => refusal,
    }
}

async fn head(path: &Path) -> Response {
    match tokio::fs::metadata(path).await {
        Ok(meta) if meta.is_file() => {
            let mut response = StatusCode::OK.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
            response
        }
        _ => answer(StatusCode::NOT_FOUND, "no such file"),
    }
}

async fn read_file(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath((repo, kind, name)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match admit(&state, &repo, &headers).await {
        Ok((_, dir)) => match file_path(&dir, &kind, &name) {
            Some(path) => read(path, &headers).await,
            None => answer(StatusCode::NOT_FOUND, "no such file"),
        },
        Err(refusal) => refusal,
    }
}

/// `bytes=START-END` or `bytes=START-`, as restic asks for part of a pack.
fn range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    let (start, end) = value.strip_prefix("bytes=")?.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        end => Some(end.parse().ok()?),
    };
    Some((start, end))
}

async fn read(path: PathBuf, headers: &HeaderMap) -> Response {
    let wanted = range(headers);
    let result = tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, u64)> {
        let mut file = std::fs::File::open(&path)?;
        let size = file.metadata()?.len();
        let (start, end) = match wanted {
            Some((start, end)) => (start, end.unwrap_or(size.saturating_sub(1))),
            None => (0, size.saturating_sub(1)),
        };
        if size == 0 {
            return Ok((Vec::new(), 0));
        }
        let end = end.min(size - 1);
        let mut buf = vec![0; usize::try_from(end.saturating_sub(start) + 1).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf)?;
        Ok((buf, size))
    })
    .await;
    match result {
        Ok(Ok((bytes, _))) => {
            let status = if wanted.is_some() {
                StatusCode::PARTIAL_CONTENT
            } else {
                StatusCode::OK
            };
            (status, bytes).into_response()
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            answer(StatusCode::NOT_FOUND, "no such file")
        }
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            answer(StatusCode::RANGE_NOT_SATISFIABLE, "range beyond the file")
        }
        _ => answer(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file"),
    }
}

async fn write_file(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath((repo, kind, name)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (writer, dir) = match admit(&state, &repo, &headers).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let Some(path) = file_path(&dir, &kind, &name) else {
        return answer(StatusCode::NOT_FOUND, "no such kind of file");
    };
    if kind == "keys" {
        return forbid(&state, &writer, "adding a key").await;
    }
    // Every restic file is named by the SHA-256 of its content: anything else is not
    // what restic wrote.
    let digest = Sha256::digest(&body);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if !hex.eq_ignore_ascii_case(&name) {
        return answer(
            StatusCode::BAD_REQUEST,
            "the content does not match its name (the SHA-256 of a restic file)",
        );
    }
    let written = tokio::task::spawn_blocking(move || add_file(&path, &body)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return forbid(&state, &writer, "writing over an existing file").await;
        }
        _ => return answer(StatusCode::INTERNAL_SERVER_ERROR, "cannot write the file"),
    }
    if kind == "snapshots" {
        let ctx = state.ctx();
        match writers::snapshot_added(&ctx, &writer, &name.to_ascii_lowercase()).await {
            Ok(added) => tracing::info!(
                repository = %writer.repository,
                writer = %writer.name,
                snapshot = %name,
                restore_point = matches!(added, writers::Added::Point { .. }),
                "snapshot added by a writer"
            ),
            Err(e) => tracing::error!(error = %e, "a writer's snapshot could not be recorded"),
        }
    }
    StatusCode::OK.into_response()
}

/// Writes a new file durably, never over an existing one: a temporary file, synced, then
/// linked under its name (which fails when the name exists), then the directory synced.
fn add_file(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .expect("a file of the repository has a directory");
    std::fs::create_dir_all(dir)?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(
        ".upload-{}",
        random
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(body)?;
        file.sync_all()?;
        std::fs::hard_link(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

async fn delete_file(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath((repo, kind, name)): UrlPath<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (writer, dir) = match admit(&state, &repo, &headers).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    if kind != "locks" {
        return forbid(&state, &writer, &format!("deleting from {kind}")).await;
    }
    let Some(path) = file_path(&dir, &kind, &name) else {
        return answer(StatusCode::NOT_FOUND, "no such file");
    };
    match tokio::fs::remove_file(&path).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            answer(StatusCode::NOT_FOUND, "no such file")
        }
        Err(_) => answer(StatusCode::INTERNAL_SERVER_ERROR, "cannot delete the file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_restic_names_of_known_kinds_map_to_files() {
        let dir = Path::new("/srv/repo");
        let name = "ab".repeat(32);
        assert_eq!(
            file_path(dir, "data", &name).unwrap(),
            dir.join("data/ab").join(&name)
        );
        assert_eq!(
            file_path(dir, "snapshots", &name).unwrap(),
            dir.join("snapshots").join(&name)
        );
        assert!(file_path(dir, "data", "../../etc/passwd").is_none());
        assert!(file_path(dir, "config", &name).is_none());
        assert!(file_path(dir, "data", &name[..10]).is_none());
    }

    #[test]
    fn restic_ranges_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=10-19"));
        assert_eq!(range(&headers), Some((10, Some(19))));
        headers.insert(header::RANGE, HeaderValue::from_static("bytes=5-"));
        assert_eq!(range(&headers), Some((5, None)));
        headers.insert(header::RANGE, HeaderValue::from_static("items=1-2"));
        assert_eq!(range(&headers), None);
    }

    #[test]
    fn the_token_is_the_basic_password_or_the_bearer() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic bWFpbC0wMTpycF9zZWNyZXQ="),
        );
        assert_eq!(token(&headers).as_deref(), Some("rp_secret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer rp_x"),
        );
        assert_eq!(token(&headers).as_deref(), Some("rp_x"));
    }
}
