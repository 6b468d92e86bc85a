//! Repositories over SFTP, as restic reaches them: the system's `ssh` started with
//! `-s sftp` (its configuration, agent and known hosts apply), one connection per open
//! repository, in restic's layout. The ssh process ends with the backend.
//!
//! Locations are restic's: `sftp:[user@]host:path` or `sftp://[user@]host[:port]//abs/path`
//! (one slash: relative to the home directory).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use openssh_sftp_client::{Sftp, SftpOptions};
use rustic_core::{
    BytesList, ErrorKind, FileType, Id, ReadBackend, RusticError, RusticResult, WriteBackend,
};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::{EngineError, KnownHosts, Result, SshOptions};

/// The ssh destination and the directory of an `sftp:` location, as restic reads them.
pub(crate) fn parse(location: &str) -> Result<(String, String)> {
    let invalid = || EngineError::Repository {
        location: location.to_string(),
        reason: "an SFTP location reads `sftp:user@host:/path` or `sftp://user@host:port//path`"
            .into(),
    };
    let rest = location.strip_prefix("sftp:").ok_or_else(invalid)?;
    let (destination, path) = if let Some(url) = rest.strip_prefix("//") {
        // sftp://user@host:port/path: the path starts after the first slash.
        let (authority, path) = url.split_once('/').ok_or_else(invalid)?;
        (format!("ssh://{authority}"), path.to_string())
    } else {
        // sftp:user@host:path (an IPv6 host in brackets).
        let split = if rest.starts_with('[') {
            rest.find("]:").map(|i| i + 1)
        } else {
            rest.find(':')
        };
        let i = split.ok_or_else(invalid)?;
        (rest[..i].to_string(), rest[i + 1..].to_string())
    };
    if destination.trim_start_matches("ssh://").is_empty() || path.is_empty() {
        return Err(invalid());
    }
    Ok((destination, path))
}

/// The ssh arguments that reach `destination`'s SFTP server (before the destination).
pub(crate) fn ssh_args(ssh: &SshOptions) -> Vec<String> {
    let mut args = vec!["-o".to_string(), "BatchMode=yes".to_string()];
    if let Some(key) = &ssh.key {
        args.extend(["-i".to_string(), key.display().to_string()]);
    }
    let strict = match ssh.known_hosts {
        KnownHosts::Strict => None,
        KnownHosts::Add => Some("accept-new"),
        KnownHosts::Accept => Some("no"),
    };
    if let Some(s) = strict {
        args.extend(["-o".to_string(), format!("StrictHostKeyChecking={s}")]);
    }
    args
}

#[derive(Debug)]
pub(crate) struct SftpBackend {
    sftp: Option<Sftp>,
    /// `ssh … -s sftp`, killed if still running when the backend goes.
    child: Option<tokio::process::Child>,
    runtime: Option<tokio::runtime::Runtime>,
    root: PathBuf,
    location: String,
}

impl Drop for SftpBackend {
    fn drop(&mut self) {
        let (Some(runtime), sftp, child) =
            (self.runtime.take(), self.sftp.take(), self.child.take())
        else {
            return;
        };
        // The connection closes, then ssh ends, before the backend is gone. The backend
        // may be dropped from async code, where a runtime cannot be waited on: the
        // closing then happens on a thread of its own, waited for.
        let close = move || {
            if let Some(sftp) = sftp {
                let _ = runtime.block_on(sftp.close());
            }
            if let Some(mut child) = child {
                let _ = child.start_kill();
                let _ = runtime.block_on(child.wait());
            }
            runtime.shutdown_background();
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(close).join();
        } else {
            close();
        }
    }
}

impl SftpBackend {
    pub(crate) fn open(location: &str, ssh: &SshOptions) -> Result<Self> {
        let (destination, root) = parse(location)?;
        let fail = |reason: String| EngineError::Repository {
            location: location.to_string(),
            reason,
        };
        // The engine library calls backends from its own threads, synchronously: the
        // connection runs on a runtime of its own.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the SFTP runtime: {e}")))?;
        let (child, sftp) = runtime.block_on(async {
            let mut child = tokio::process::Command::new("ssh")
                .args(ssh_args(ssh))
                .arg(&destination)
                .args(["-s", "sftp"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| fail(format!("cannot run ssh: {e}")))?;
            let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
            let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
                return Err(fail("ssh gave no pipes".into()));
            };
            match Sftp::new(stdin, stdout, SftpOptions::default()).await {
                Ok(sftp) => Ok((child, sftp)),
                Err(e) => {
                    // What ssh said is the cause people can act on.
                    let mut said = String::new();
                    if let Some(mut err) = child.stderr.take() {
                        let _ = err.read_to_string(&mut said).await;
                    }
                    let said = said.trim();
                    Err(fail(if said.is_empty() {
                        format!("ssh to {destination} failed: {e}")
                    } else {
                        format!("ssh to {destination}: {said}")
                    }))
                }
            }
        })?;
        Ok(Self {
            sftp: Some(sftp),
            child: Some(child),
            runtime: Some(runtime),
            root: PathBuf::from(root),
            location: location.to_string(),
        })
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the backend")
            .block_on(future)
    }

    fn sftp(&self) -> &Sftp {
        self.sftp
            .as_ref()
            .expect("the connection lives as long as the backend")
    }

    fn path(&self, tpe: FileType, id: &Id) -> PathBuf {
        self.root.join(crate::object::layout(tpe, id))
    }

    fn fail(
        &self,
        what: &'static str,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Box<RusticError> {
        RusticError::with_source(ErrorKind::Backend, "SFTP request failed: {what}", err)
            .attach_context("what", what)
            .attach_context("location", self.location.clone())
    }

    /// The files of a directory with their sizes (none when it does not exist).
    async fn list_dir(&self, dir: &Path) -> Vec<(String, u64)> {
        let mut fs = self.sftp().fs();
        let Ok(handle) = fs.open_dir(dir).await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut entries = std::pin::pin!(handle.read_dir());
        while let Some(Ok(entry)) = entries.next().await {
            let meta = entry.metadata();
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file {
                let name = entry.filename().to_string_lossy().to_string();
                out.push((name, meta.len().unwrap_or(0)));
            }
        }
        out
    }
}

impl ReadBackend for SftpBackend {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn list_with_size(&self, tpe: FileType) -> RusticResult<Vec<(Id, u32)>> {
        if tpe == FileType::Config {
            let path = self.root.join("config");
            let mut fs = self.sftp().fs();
            return Ok(match self.block_on(fs.metadata(&path)) {
                Ok(meta) => vec![(
                    Id::default(),
                    u32::try_from(meta.len().unwrap_or(0)).unwrap_or(u32::MAX),
                )],
                Err(_) => Vec::new(),
            });
        }
        let base = self.root.join(tpe.dirname());
        let dirs: Vec<PathBuf> = if tpe == FileType::Pack {
            (0..=255u8).map(|b| base.join(format!("{b:02x}"))).collect()
        } else {
            vec![base]
        };
        let mut out = Vec::new();
        for dir in dirs {
            for (name, size) in self.block_on(self.list_dir(&dir)) {
                if let Some(id) = Id::parse_some(&name, tpe) {
                    out.push((id, u32::try_from(size).unwrap_or(u32::MAX)));
                }
            }
        }
        Ok(out)
    }

    fn read_full(&self, tpe: FileType, id: &Id) -> RusticResult<Bytes> {
        let path = self.path(tpe, id);
        let mut fs = self.sftp().fs();
        self.block_on(fs.read(&path))
            .map(BytesMut::freeze)
            .map_err(|e| self.fail("read", e))
    }

    fn read_partial(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        offset: u32,
        length: u32,
    ) -> RusticResult<Bytes> {
        let path = self.path(tpe, id);
        self.block_on(async {
            let mut file = self.sftp().open(&path).await?;
            file.seek(std::io::SeekFrom::Start(u64::from(offset)))
                .await?;
            let data = file.read_all(length as usize, BytesMut::new()).await?;
            let _ = file.close().await;
            Ok::<_, openssh_sftp_client::Error>(data.freeze())
        })
        .map_err(|e| self.fail("read", e))
    }

    fn warmup_path(&self, tpe: FileType, id: &Id) -> String {
        self.path(tpe, id).display().to_string()
    }
}

impl WriteBackend for SftpBackend {
    fn create(&self) -> RusticResult<()> {
        // restic's layout, made up front (an existing directory is fine).
        let mut dirs = vec![self.root.clone()];
        dirs.extend(
            ["keys", "snapshots", "index", "locks", "data"]
                .iter()
                .map(|d| self.root.join(d)),
        );
        dirs.extend((0..=255u8).map(|b| self.root.join(format!("data/{b:02x}"))));
        let mut fs = self.sftp().fs();
        // Made in order: when the last one exists, the layout is complete (a second
        // create, as at init, costs one round trip instead of 261).
        if let Some(last) = dirs.last()
            && self.block_on(fs.metadata(last)).is_ok()
        {
            return Ok(());
        }
        for dir in dirs {
            if let Err(e) = self.block_on(fs.create_dir(&dir))
                && self.block_on(fs.metadata(&dir)).is_err()
            {
                return Err(self.fail("create a directory", e));
            }
        }
        Ok(())
    }

    fn write_bytes(
        &self,
        tpe: FileType,
        id: &Id,
        _cacheable: bool,
        content: BytesList,
    ) -> RusticResult<()> {
        // Written aside, then renamed: a file is whole or absent, even if the connection
        // drops half-way.
        let path = self.path(tpe, id);
        let tmp = path.with_extension("tmp");
        let mut fs = self.sftp().fs();
        self.block_on(async {
            let mut file = self.sftp().create(&tmp).await?;
            for part in content.into_vec() {
                file.write_all(&part).await?;
            }
            file.close().await?;
            fs.rename(&tmp, &path).await
        })
        .map_err(|e| self.fail("write", e))
    }

    fn remove(&self, tpe: FileType, id: &Id, _cacheable: bool) -> RusticResult<()> {
        let path = self.path(tpe, id);
        let mut fs = self.sftp().fs();
        self.block_on(fs.remove_file(&path))
            .map_err(|e| self.fail("delete", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_read_like_restic() {
        assert_eq!(
            parse("sftp:backup@nas.local:/srv/restic").unwrap(),
            ("backup@nas.local".into(), "/srv/restic".into())
        );
        assert_eq!(
            parse("sftp:nas:repo").unwrap(),
            ("nas".into(), "repo".into())
        );
        assert_eq!(
            parse("sftp://backup@nas.local:2222//srv/restic").unwrap(),
            ("ssh://backup@nas.local:2222".into(), "/srv/restic".into())
        );
        assert_eq!(
            parse("sftp:[::1]:/srv/restic").unwrap(),
            ("[::1]".into(), "/srv/restic".into())
        );
        assert!(parse("sftp:nas").is_err());
        assert!(parse("sftp://nas").is_err());
    }
}
