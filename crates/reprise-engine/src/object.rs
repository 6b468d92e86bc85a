//! Repositories in S3-compatible object storage, in restic's layout (`config`, `keys/`,
//! `snapshots/`, `index/`, `data/xx/`), so stock `restic -r s3:…` reads what Reprise
//! writes. Requests go through OpenDAL.
//!
//! Locations are restic's: `s3:https://host[:port]/bucket[/prefix]` (or without the
//! scheme for HTTPS). Credentials come from the environment, as for restic:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and `AWS_DEFAULT_REGION` (default
//! `us-east-1`); they never appear in the configuration.
//!
//! An immutable repository (`lock`) writes what a restore needs with an Object Lock
//! retention, and deletes by version only what is no longer locked (see `lock.rs`).

use std::future::IntoFuture;

use bytes::Bytes;
use opendal::Operator;
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};

use crate::lock::{ObjectLock, S3Api};
use crate::{EngineError, Result, S3Credentials};

/// A bucket (and prefix) holding one repository.
#[derive(Debug)]
pub(crate) struct ObjectBackend {
    /// Taken when the backend is dropped, to close its connections first.
    op: Option<Operator>,
    runtime: Option<tokio::runtime::Runtime>,
    location: String,
    /// The lock of an immutable repository, and the requests OpenDAL cannot make.
    locked: Option<(ObjectLock, S3Api)>,
    /// Packs a prune no longer needed but left in place because their lock holds.
    kept: std::sync::Mutex<Vec<(String, jiff::Timestamp)>>,
}

/// Whether a file of this type is locked in an immutable repository: what a restore
/// needs. Index files are derived from the packs, lock files are transient.
pub(crate) fn locked_type(tpe: FileType) -> bool {
    matches!(
        tpe,
        FileType::Config | FileType::Key | FileType::Snapshot | FileType::Pack
    )
}

impl Drop for ObjectBackend {
    fn drop(&mut self) {
        // Connections close first (an SFTP connection stops its ssh process), on the
        // runtime they were made on. The backend may be dropped from async code (the
        // server, the CLI's runtime), where waiting for a runtime to stop is not allowed.
        if let Some(runtime) = self.runtime.take() {
            let entered = runtime.enter();
            drop(self.op.take());
            drop(entered);
            // Its tasks end before it goes (a connection being made finishes, then
            // closes); from async code, on a thread of its own.
            let stop = move || runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(stop);
            } else {
                stop();
            }
        }
    }
}

/// Endpoint, bucket and prefix of an `s3:` location.
fn parse_s3(location: &str) -> Result<(String, String, String)> {
    let rest = location.strip_prefix("s3:").unwrap_or(location);
    let (scheme, rest) = match rest.split_once("://") {
        Some((scheme, rest)) => (scheme.to_string(), rest),
        None => ("https".to_string(), rest),
    };
    let mut parts = rest.splitn(3, '/');
    let host = parts.next().unwrap_or_default();
    let bucket = parts.next().unwrap_or_default();
    let prefix = parts.next().unwrap_or_default().trim_matches('/');
    if host.is_empty() || bucket.is_empty() {
        return Err(EngineError::Repository {
            location: location.to_string(),
            reason: "an S3 location reads `s3:https://host/bucket[/prefix]`".into(),
        });
    }
    Ok((
        format!("{scheme}://{host}"),
        bucket.to_string(),
        format!("/{prefix}"),
    ))
}

/// Where restic keeps a file of a repository, relative to its root (`data/ab/abcd…`).
pub(crate) fn layout(tpe: FileType, id: &Id) -> String {
    let hex = id.to_hex();
    let hex = hex.as_str();
    match tpe {
        FileType::Config => "config".to_string(),
        FileType::Pack => format!("data/{}/{hex}", &hex[..2]),
        _ => format!("{}/{hex}", tpe.dirname()),
    }
}

fn env(name: &str, location: &str) -> Result<String> {
    std::env::var(name).map_err(|_| EngineError::Repository {
        location: location.to_string(),
        reason: format!(
            "{name} is not set (S3 credentials come from the environment, as for restic)"
        ),
    })
}

impl ObjectBackend {
    pub(crate) fn open_s3(
        location: &str,
        credentials: Option<&S3Credentials>,
        lock: Option<ObjectLock>,
    ) -> Result<Self> {
        let (endpoint, bucket, root) = parse_s3(location)?;
        // Installs the HTTP client once per process (later calls do nothing).
        opendal::install_default();
        let region = std::env::var("AWS_DEFAULT_REGION").unwrap_or_else(|_| "us-east-1".into());
        let key_id = match credentials {
            Some(c) => c.access_key_id.clone(),
            None => env("AWS_ACCESS_KEY_ID", location)?,
        };
        let secret = match credentials {
            Some(c) => c.secret_access_key.expose().to_string(),
            None => env("AWS_SECRET_ACCESS_KEY", location)?,
        };
        let builder = opendal::services::S3::default()
            .endpoint(&endpoint)
            .bucket(&bucket)
            .root(&root)
            .region(&region)
            .access_key_id(&key_id)
            .secret_access_key(&secret)
            .disable_config_load()
            .disable_ec2_metadata();
        let locked = match lock {
            Some(lock) => Some((
                lock,
                S3Api::new(&endpoint, &bucket, &root, &region, &key_id, &secret).map_err(
                    |reason| EngineError::Repository {
                        location: location.to_string(),
                        reason,
                    },
                )?,
            )),
            None => None,
        };
        Self::with(Operator::new(builder), location, locked)
    }

    fn with(
        op: opendal::Result<Operator>,
        location: &str,
        locked: Option<(ObjectLock, S3Api)>,
    ) -> Result<Self> {
        let op = op
            .map_err(|e| EngineError::Repository {
                location: location.to_string(),
                reason: e.to_string(),
            })?
            .layer(opendal::layers::RetryLayer::new());
        // The engine library calls backends from its own threads, synchronously: the
        // backend drives its requests on a runtime of its own.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| EngineError::Io(format!("cannot start the S3 runtime: {e}")))?;
        Ok(Self {
            op: Some(op),
            runtime: Some(runtime),
            location: location.to_string(),
            locked,
            kept: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The lock and the signed requests of an immutable repository.
    pub(crate) fn locked(&self) -> Option<&(ObjectLock, S3Api)> {
        self.locked.as_ref()
    }

    /// Drains the packs a prune left because their lock holds.
    pub(crate) fn take_kept(&self) -> Vec<(String, jiff::Timestamp)> {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn fail_lock(&self, what: String) -> Box<RusticError> {
        RusticError::new(ErrorKind::Backend, "S3 Object Lock: {what}")
            .attach_context("what", what)
            .attach_context("location", self.location.clone())
    }

    fn op(&self) -> &Operator {
        self.op
            .as_ref()
            .expect("the operator lives as long as the backend")
    }

    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the backend")
            .block_on(future)
    }

    fn path(tpe: FileType, id: &Id) -> String {
        layout(tpe, id)
    }

    fn fail(&self, what: &'static str, err: opendal::Error) -> Box<RusticError> {
        RusticError::with_source(ErrorKind::Backend, "S3 request failed: {what}", err)
            .attach_context("what", what)
            .attach_context("location", self.location.clone())
    }
}

impl ReadBackend for ObjectBackend {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            return match self.block_on(self.op().stat("config")) {
                Ok(meta) => Ok(vec![(
                    Id::default(),
                    u32::try_from(meta.content_length()).unwrap_or(u32::MAX),
                )]),
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(Vec::new()),
                Err(e) => Err(self.fail("stat config", e)),
            };
        }
        let dir = format!("{}/", tpe.dirname());
        let entries = self
            .block_on(self.op().list_with(&dir).recursive(true).into_future())
            .or_else(|e| {
                if e.kind() == opendal::ErrorKind::NotFound {
                    Ok(Vec::new())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| self.fail("list", e))?;
        let mut out = Vec::new();
        for entry in entries {
            if entry.metadata().is_dir() {
                continue;
            }
            let Some(id) = Id::parse_some(entry.name(), tpe) else {
                continue;
            };
            let size = u32::try_from(entry.metadata().content_length()).unwrap_or(u32::MAX);
            out.push((id, size));
        }
        Ok(out)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let buffer = self
            .block_on(self.op().read(&Self::path(tpe, id)))
            .map_err(|e| self.fail("read", e))?;
        Ok(buffer.to_bytes())
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let start = u64::from(offset);
        let end = start + u64::from(length);
        let buffer = self
            .block_on(
                self.op()
                    .read_with(&Self::path(tpe, id))
                    .range(start..end)
                    .into_future(),
            )
            .map_err(|e| self.fail("read", e))?;
        Ok(buffer.to_bytes())
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        Self::path(tpe, id)
    }
}

impl WriteBackend for ObjectBackend {
    fn create(&self) -> RusticResult<()> {
        // Object storage has no directories to create.
        Ok(())
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        if let Some((lock, api)) = &self.locked
            && locked_type(tpe)
        {
            let body: Vec<u8> = content.into_vec().concat();
            let key = api.key(&Self::path(tpe, id));
            let until = lock.until(jiff::Timestamp::now());
            return self
                .block_on(api.put_locked(&key, Bytes::from(body), *lock, until))
                .map_err(|e| self.fail_lock(e));
        }
        let buffer: opendal::Buffer = content.into_vec().into_iter().collect();
        self.block_on(self.op().write(&Self::path(tpe, id), buffer))
            .map_err(|e| self.fail("write", e))?;
        Ok(())
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let Some((_, api)) = &self.locked else {
            return self
                .block_on(self.op().delete(&Self::path(tpe, id)))
                .map_err(|e| self.fail("delete", e));
        };
        // Never a delete of a locked object: a pack no longer needed stays until its lock
        // lapses (the next prune takes it), anything else is refused. What is deleted is
        // deleted by version, so that the storage is freed and no delete marker hides it.
        let key = api.key(&Self::path(tpe, id));
        let head = self
            .block_on(api.head(&key, None))
            .map_err(|e| self.fail_lock(e))?;
        let Some(head) = head else {
            return Ok(());
        };
        let now = jiff::Timestamp::now();
        if let Some(until) = head.retain_until.filter(|until| *until > now) {
            if tpe == FileType::Pack {
                self.kept
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((key, until));
                return Ok(());
            }
            return Err(self.fail_lock(format!(
                "{key} is locked until {until}: it cannot be deleted before"
            )));
        }
        match head.version_id {
            Some(version) => self
                .block_on(api.delete_version(&key, &version))
                .map_err(|e| self.fail_lock(e)),
            None => self
                .block_on(self.op().delete(&Self::path(tpe, id)))
                .map_err(|e| self.fail("delete", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_like_restic() {
        assert_eq!(
            parse_s3("s3:http://127.0.0.1:9000/backups/reprise").unwrap(),
            (
                "http://127.0.0.1:9000".into(),
                "backups".into(),
                "/reprise".into()
            )
        );
        assert_eq!(
            parse_s3("s3:s3.example.org/bucket").unwrap(),
            ("https://s3.example.org".into(), "bucket".into(), "/".into())
        );
        assert!(parse_s3("s3:host-only").is_err());
    }
}
