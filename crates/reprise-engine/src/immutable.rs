//! Immutable repositories in S3 with Object Lock: locks extended while a kept restore
//! point needs them, packs a prune leaves while locked, and the repository brought back
//! after an intruder deleted or overwrote its objects.

use futures_util::StreamExt as _;
use jiff::Timestamp;
use rustic_core::{FileType, ReadBackend, RepairIndexOptions, repofile::IndexFile};
use serde::Serialize;

use crate::lock::{LockMode, ObjectLock, S3Api, originals_hidden};
use crate::object::{self, ObjectBackend};
use crate::{EngineError, Progress, Repo, RepoSpec, Result, repo_error};

/// What extending the locks found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockReport {
    /// Objects a kept restore point needs (configuration, keys, snapshots, packs).
    pub objects: usize,
    /// Of those, the ones whose lock was extended (or taken, for one found unlocked).
    pub extended: usize,
    /// The earliest date any of them is locked until, after extending.
    pub earliest: Option<Timestamp>,
    /// Needed objects the bucket no longer shows: deleted or hidden by someone, to
    /// bring back with [`recover`].
    pub missing: Vec<String>,
}

/// What [`recover`] brought back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// Repository paths whose original version is current again.
    pub restored: Vec<String>,
}

fn not_immutable(location: &str) -> EngineError {
    EngineError::Repository {
        location: location.to_string(),
        reason: "not an immutable repository (no `immutable_for`)".into(),
    }
}

fn lock_error(location: &str) -> impl Fn(String) -> EngineError + '_ {
    move |reason| EngineError::Repository {
        location: location.to_string(),
        reason,
    }
}

/// Whether the bucket of an `s3:` location has Object Lock enabled.
pub fn object_lock_enabled(spec: &RepoSpec) -> Result<bool> {
    let lock = spec.lock.unwrap_or(ObjectLock {
        period: jiff::SignedDuration::from_hours(24),
        mode: LockMode::Compliance,
    });
    let object = ObjectBackend::open_s3(&spec.location, spec.s3.as_ref(), Some(lock))?;
    let (_, api) = object
        .locked()
        .ok_or_else(|| not_immutable(&spec.location))?;
    object
        .block_on(api.lock_enabled())
        .map_err(lock_error(&spec.location))
}

/// Paths restic keeps a file of this type under.
fn is_repository_path(path: &str) -> bool {
    path == "config"
        || ["keys/", "snapshots/", "index/", "data/"]
            .iter()
            .any(|dir| path.starts_with(dir))
}

/// Brings back every object of the repository that was deleted or written over since
/// Reprise wrote it: its first version becomes current again (locked anew when it is
/// of a locked kind), then the index is rebuilt from the packs if it lacks any. Locked
/// versions cannot have been destroyed, so what a kept restore point needs comes back.
pub fn recover(spec: &RepoSpec, progress: std::sync::Arc<dyn Progress>) -> Result<Recovered> {
    let object = ObjectBackend::open_s3(&spec.location, spec.s3.as_ref(), spec.lock)?;
    let (lock, api) = object
        .locked()
        .ok_or_else(|| not_immutable(&spec.location))?;
    let versions = object
        .block_on(api.versions())
        .map_err(lock_error(&spec.location))?;
    let versions: Vec<_> = versions
        .into_iter()
        .filter(|v| api.path(&v.key).is_some_and(is_repository_path))
        .collect();
    let until = lock.until(Timestamp::now());
    let mut restored = Vec::new();
    for (key, version) in originals_hidden(&versions) {
        let path = api.path(&key).unwrap_or(&key).to_string();
        let relock = !path.starts_with("index/");
        object
            .block_on(api.restore_version(&key, &version, relock.then_some(*lock), until))
            .map_err(lock_error(&spec.location))?;
        restored.push(path);
    }
    drop(object);
    // Index files are derived data: whatever is missing from them is read back from the
    // packs' own headers.
    let repo = Repo::open(spec, progress)?;
    repo.inner
        .repair_index(&RepairIndexOptions::default(), false)
        .map_err(repo_error(&spec.location))?;
    Ok(Recovered { restored })
}

/// A needed object as extending found it: its path, and (when the bucket has it) whether
/// its lock was extended and until when it holds.
type Looked = std::result::Result<(String, Option<(bool, Timestamp)>), String>;

impl Repo {
    fn locked(&self) -> Result<(&ObjectBackend, ObjectLock, &S3Api)> {
        let object = self
            .object
            .as_deref()
            .ok_or_else(|| not_immutable(&self.location))?;
        let (lock, api) = object
            .locked()
            .ok_or_else(|| not_immutable(&self.location))?;
        Ok((object, *lock, api))
    }

    /// Whether the repository is written under S3 Object Lock.
    pub fn has_object_lock(&self) -> bool {
        self.locked().is_ok()
    }

    /// Whether the repository is immutable: under Object Lock, or a local one whose
    /// restore points and packs Reprise keeps for the period.
    pub fn is_immutable(&self) -> bool {
        self.spec.lock.is_some()
    }

    /// Extends the lock of every object a kept restore point needs, when less than half
    /// its period is left; the snapshots in `releasing` (those retention is about to
    /// forget) are left to lapse.
    pub fn extend_locks(&self, releasing: &[String]) -> Result<LockReport> {
        let (object, lock, api) = self.locked()?;
        let backend_error = repo_error(&self.location);
        let mut paths = vec!["config".to_string()];
        for (id, _) in object
            .list_with_size(FileType::Key)
            .map_err(&backend_error)?
        {
            paths.push(object::layout(FileType::Key, &id));
        }
        for (id, _) in object
            .list_with_size(FileType::Snapshot)
            .map_err(&backend_error)?
        {
            let hex = id.to_hex().to_string();
            if !releasing.iter().any(|r| hex.starts_with(r.as_str())) {
                paths.push(object::layout(FileType::Snapshot, &id));
            }
        }
        for file in self
            .inner
            .stream_files::<IndexFile>()
            .map_err(&backend_error)?
        {
            let (_, index) = file.map_err(&backend_error)?;
            for pack in index.packs {
                paths.push(object::layout(FileType::Pack, &pack.id));
            }
        }
        paths.sort();
        paths.dedup();
        let now = Timestamp::now();
        let until = lock.until(now);
        let outcomes: Vec<Looked> = object.block_on(
            futures_util::stream::iter(paths.iter().map(|path| async move {
                let key = api.key(path);
                let Some(head) = api.head(&key, None).await? else {
                    return Ok((path.clone(), None));
                };
                if lock.needs_extension(head.retain_until, now) {
                    api.retain(&key, head.version_id.as_deref(), lock, until)
                        .await?;
                    Ok((path.clone(), Some((true, until))))
                } else {
                    Ok((
                        path.clone(),
                        Some((false, head.retain_until.unwrap_or(until))),
                    ))
                }
            }))
            .buffer_unordered(16)
            .collect(),
        );
        let mut report = LockReport {
            objects: paths.len(),
            ..LockReport::default()
        };
        for outcome in outcomes {
            match outcome.map_err(lock_error(&self.location))? {
                (path, None) => report.missing.push(path),
                (_, Some((extended, locked_until))) => {
                    report.extended += usize::from(extended);
                    report.earliest = Some(match report.earliest {
                        Some(e) if e < locked_until => e,
                        _ => locked_until,
                    });
                }
            }
        }
        report.missing.sort();
        Ok(report)
    }

    /// Until when each snapshot (by full id) whose lock still holds is locked. In a
    /// local immutable repository, a snapshot is held for the period after its time.
    pub fn snapshot_locks(&self) -> Result<std::collections::BTreeMap<String, Timestamp>> {
        let now = Timestamp::now();
        if let (Some(lock), None) = (self.spec.lock, &self.object) {
            let snapshots = self
                .inner
                .get_all_snapshots()
                .map_err(repo_error(&self.location))?;
            return Ok(snapshots
                .iter()
                .map(|s| (s.id.to_hex().to_string(), lock.until(s.time.timestamp())))
                .filter(|(_, until)| *until > now)
                .collect());
        }
        let (object, _, api) = self.locked()?;
        let ids = object
            .list_with_size(FileType::Snapshot)
            .map_err(repo_error(&self.location))?;
        let heads: Vec<std::result::Result<(String, Option<Timestamp>), String>> = object.block_on(
            futures_util::stream::iter(ids.iter().map(|(id, _)| async move {
                let key = api.key(&object::layout(FileType::Snapshot, id));
                let head = api.head(&key, None).await?;
                Ok((id.to_hex().to_string(), head.and_then(|h| h.retain_until)))
            }))
            .buffer_unordered(16)
            .collect(),
        );
        let mut out = std::collections::BTreeMap::new();
        for head in heads {
            if let (id, Some(until)) = head.map_err(lock_error(&self.location))?
                && until > now
            {
                out.insert(id, until);
            }
        }
        Ok(out)
    }

    /// The packs the last prune no longer needed but left in place, locked, with the
    /// date each lock lapses (the next prune after it removes them).
    pub fn kept_locked(&self) -> Vec<(String, Timestamp)> {
        self.object
            .as_deref()
            .map(ObjectBackend::take_kept)
            .unwrap_or_default()
    }
}
