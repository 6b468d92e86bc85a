//! A restic REST server on loopback, storing one repository in restic's directory layout
//! (so stock restic also opens the directory as a local repository). It speaks the REST
//! protocol as restic's `rest-server` does — version 1 and 2 listings, ranged reads — so
//! stock restic's own REST client is checked against it in the tests.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

const TYPES: [&str; 5] = ["data", "keys", "locks", "snapshots", "index"];
const V2: &str = "application/vnd.x.restic.rest.v2";

pub struct RestServer {
    /// `rest:http://127.0.0.1:PORT/`, restic's location of the repository.
    pub location: String,
    /// The directory holding the repository's files.
    pub dir: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    _root: tempfile::TempDir,
}

impl Drop for RestServer {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl RestServer {
    /// Starts a server for an empty repository (restic's `init` creates it).
    pub fn start() -> Self {
        let root = tempfile::Builder::new()
            .prefix("reprise-rest-")
            .tempdir()
            .expect("a directory for the REST server");
        let dir = root.path().join("repo");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let location = format!(
            "rest:http://{}/",
            listener.local_addr().expect("its address")
        );
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the REST server");
        let served = dir.clone();
        runtime.spawn(async move {
            let app = Router::new().fallback(move |method, uri, headers, body| {
                let dir = served.clone();
                async move { handle(&dir, method, uri, headers, body) }
            });
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            axum::serve(listener, app).await.expect("the REST server");
        });
        Self {
            location,
            dir,
            runtime: Some(runtime),
            _root: root,
        }
    }
}

/// Where a file of `tpe` named `name` lives (`data/ab/abcd…`, as restic lays it out).
fn file(dir: &Path, tpe: &str, name: &str) -> Option<PathBuf> {
    let hex = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
    if !TYPES.contains(&tpe) || !hex {
        return None;
    }
    Some(if tpe == "data" {
        dir.join("data").join(&name[..2]).join(name)
    } else {
        dir.join(tpe).join(name)
    })
}

/// A `Range: bytes=a-b` header (inclusive), as restic sends it.
fn range(headers: &HeaderMap, len: usize) -> Option<(usize, usize)> {
    let value = headers.get(header::RANGE)?.to_str().ok()?;
    let (start, end) = value.strip_prefix("bytes=")?.split_once('-')?;
    let start: usize = start.parse().ok()?;
    let end = if end.is_empty() {
        len.checked_sub(1)?
    } else {
        end.parse::<usize>().ok()?.min(len.checked_sub(1)?)
    };
    (start <= end).then_some((start, end))
}

fn write(path: &Path, body: &[u8]) -> StatusCode {
    let Some(parent) = path.parent() else {
        return StatusCode::BAD_REQUEST;
    };
    let tmp = parent.join(format!(
        ".tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    let done = std::fs::create_dir_all(parent)
        .and_then(|()| std::fs::write(&tmp, body))
        .and_then(|()| std::fs::rename(&tmp, path));
    match done {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn list(dir: &Path, tpe: &str, v2: bool) -> Response {
    let mut files = Vec::new();
    let mut dirs = vec![dir.join(tpe)];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            let name = entry.file_name().to_string_lossy().to_string();
            if meta.is_dir() {
                dirs.push(entry.path());
            } else if !name.starts_with(".tmp-") {
                files.push((name, meta.len()));
            }
        }
    }
    let body = if v2 {
        let items: Vec<String> = files
            .iter()
            .map(|(n, s)| format!("{{\"name\":\"{n}\",\"size\":{s}}}"))
            .collect();
        format!("[{}]", items.join(","))
    } else {
        let items: Vec<String> = files.iter().map(|(n, _)| format!("\"{n}\"")).collect();
        format!("[{}]", items.join(","))
    };
    let kind = if v2 { V2 } else { "application/json" };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

fn handle(dir: &Path, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().trim_start_matches('/');
    let v2 = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(V2));
    let target = match path {
        "" if method == Method::POST && uri.query() == Some("create=true") => {
            let made = TYPES
                .iter()
                .map(|t| dir.join(t))
                .chain((0..=255u8).map(|b| dir.join("data").join(format!("{b:02x}"))))
                .try_for_each(std::fs::create_dir_all);
            return match made {
                Ok(()) => StatusCode::OK.into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            };
        }
        "config" => dir.join("config"),
        _ => match path.trim_end_matches('/').split_once('/') {
            None if method == Method::GET && TYPES.contains(&path.trim_end_matches('/')) => {
                return list(dir, path.trim_end_matches('/'), v2);
            }
            Some((tpe, name)) => match file(dir, tpe, name) {
                Some(f) => f,
                None => return StatusCode::BAD_REQUEST.into_response(),
            },
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    match method {
        Method::HEAD => match std::fs::metadata(&target) {
            Ok(meta) => ([(header::CONTENT_LENGTH, meta.len().to_string())]).into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        Method::GET => match std::fs::read(&target) {
            Ok(bytes) => match headers.get(header::RANGE) {
                None => bytes.into_response(),
                Some(_) => match range(&headers, bytes.len()) {
                    Some((start, end)) => {
                        (StatusCode::PARTIAL_CONTENT, bytes[start..=end].to_vec()).into_response()
                    }
                    None => StatusCode::RANGE_NOT_SATISFIABLE.into_response(),
                },
            },
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        Method::POST => write(&target, &body).into_response(),
        Method::DELETE => match std::fs::remove_file(&target) {
            Ok(()) => StatusCode::OK.into_response(),
            Err(_) => StatusCode::NOT_FOUND.into_response(),
        },
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_bounded() {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, "bytes=2-5".parse().unwrap());
        assert_eq!(range(&h, 10), Some((2, 5)));
        h.insert(header::RANGE, "bytes=8-".parse().unwrap());
        assert_eq!(range(&h, 10), Some((8, 9)));
        h.insert(header::RANGE, "bytes=8-20".parse().unwrap());
        assert_eq!(range(&h, 10), Some((8, 9)));
        h.insert(header::RANGE, "bytes=12-20".parse().unwrap());
        assert_eq!(range(&h, 10), None);
        assert!(file(Path::new("/r"), "data", "../../etc").is_none());
    }
}
