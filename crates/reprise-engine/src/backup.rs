//! Backing up: files and directories with excludes, or one staged file (a command's
//! output) stored under the name the user chose.

use std::path::PathBuf;

use jiff::Timestamp;
use rustic_core::{BackupOptions, PathList, SnapshotOptions};

use crate::{Changes, EngineError, Repo, Result, SnapshotInfo, repo_error};

/// What to back up.
#[derive(Debug, Clone)]
pub enum BackupSource {
    /// Absolute paths, and glob patterns of what to leave out (`*.tmp`, `**/cache/**`).
    Paths {
        paths: Vec<PathBuf>,
        exclude: Vec<String>,
    },
    /// One file (a command's output, staged on disk so that a failed command never
    /// becomes a restore point), recorded in the snapshot as `as_path`.
    File { staged: PathBuf, as_path: String },
}

/// One backup: the source and how the snapshot is labelled.
#[derive(Debug, Clone)]
pub struct BackupRequest {
    pub source: BackupSource,
    /// Recorded as the snapshot's host: Reprise uses the asset id, so that
    /// `restic snapshots --host ASSET` finds an asset's restore points.
    pub hostname: String,
    /// `key:value` tags (`asset:iredmail`, `dataset:mailboxes`, `policy:daily`).
    pub tags: Vec<String>,
    pub label: String,
    /// The snapshot's time; now when `None`.
    pub time: Option<Timestamp>,
    /// When set, what the backup changed against its parent snapshot is measured
    /// ([`Changes`]), and new files whose names match one of these patterns are named.
    pub changes: Option<Vec<String>>,
}

impl Repo {
    /// Backs up `request.source` into a new snapshot. Data already in the repository is
    /// not stored again. Interrupted at any point, the repository keeps every earlier
    /// snapshot intact: packs are written before the index, the index before the snapshot.
    pub fn backup(&self, request: &BackupRequest) -> Result<SnapshotInfo> {
        let mut snap_opts = SnapshotOptions::default()
            .host(request.hostname.clone())
            .label(request.label.clone());
        for tag in &request.tags {
            snap_opts = snap_opts
                .add_tags(tag)
                .map_err(repo_error(&self.location))?;
        }
        if let Some(time) = request.time {
            snap_opts.time = Some(time.to_zoned(jiff::tz::TimeZone::UTC));
        }
        let snap = snap_opts
            .to_snapshot()
            .map_err(repo_error(&self.location))?;

        let mut opts = BackupOptions::default();
        let paths: Vec<PathBuf> = match &request.source {
            BackupSource::Paths { paths, exclude } => {
                // Excludes are ignore-style globs; a leading `!` makes them excludes.
                opts.excludes.globs = exclude.iter().map(|g| format!("!{g}")).collect();
                paths.clone()
            }
            BackupSource::File { staged, as_path } => {
                opts.as_path = Some(PathBuf::from(as_path));
                vec![staged.clone()]
            }
        };
        for path in &paths {
            if std::fs::symlink_metadata(path).is_err() {
                return Err(EngineError::Io(format!(
                    "{} does not exist or cannot be read",
                    path.display()
                )));
            }
        }
        let list = PathList::from_iter(paths.iter())
            .sanitize()
            .map_err(|e| EngineError::Io(e.to_string()))?;
        let indexed = self
            .reopen()?
            .to_indexed_ids()
            .map_err(repo_error(&self.location))?;
        let saved = indexed
            .backup(&opts, &list, snap)
            .map_err(repo_error(&self.location))?;
        let mut info = SnapshotInfo::from_file(&saved);
        if let Some(patterns) = &request.changes {
            // The snapshot is saved: failing to measure what it changed (its parent
            // forgotten meanwhile, the storage gone for a moment) must not turn the
            // backup into a failure. It is then simply not judged.
            info.changes = self.changes_of(&saved, patterns).ok();
        }
        Ok(info)
    }

    /// What `snap` changed against its parent. The index is read again: the one the
    /// backup used does not know the trees it wrote.
    fn changes_of(
        &self,
        snap: &rustic_core::repofile::SnapshotFile,
        patterns: &[String],
    ) -> Result<Changes> {
        let started = std::time::Instant::now();
        let repo = self
            .reopen()?
            .to_indexed_ids()
            .map_err(repo_error(&self.location))?;
        let parent = match &snap.parent {
            Some(id) => repo
                .get_snapshots(&[id.to_string()])
                .map_err(repo_error(&self.location))?
                .pop(),
            None => None,
        };
        let mut changes =
            crate::changes::compare(&repo, parent.as_ref().map(|p| p.tree), snap.tree, patterns)
                .map_err(repo_error(&self.location))?;
        changes.files_before = parent
            .as_ref()
            .and_then(|p| p.summary.as_ref())
            .map_or(0, |s| s.total_files_processed);
        if let Some(summary) = &snap.summary {
            changes.new_bytes = summary.data_added_files;
            changes.new_bytes_packed = summary.data_added_files_packed;
        }
        changes.measured_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(changes)
    }
}
