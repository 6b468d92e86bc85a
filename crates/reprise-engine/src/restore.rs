//! Restoring, planned first: the plan lists what will be written, refuses hostile paths
//! and existing files, and verifies the integrity of exactly the data the snapshot needs,
//! before anything is written.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustic_core::{
    IndexedFull, LsOptions,
    repofile::{BlobType, Node, NodeType},
};

use crate::confined::{Confined, Existing};
use crate::{EngineError, Repo, Result, SnapshotInfo, repo_error};

/// What to restore, and where.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub snapshot: String,
    /// A path inside the snapshot (absolute, as the snapshot records it). When `None`,
    /// the snapshot's one backed-up path (its content lands directly in the target), or
    /// the whole tree when it has several.
    pub path: Option<String>,
    /// The directory to restore into. Nothing is ever written outside it.
    pub target: PathBuf,
    /// Replace files that already exist in the target.
    pub overwrite: bool,
    /// Read back and verify every pack the snapshot needs before writing.
    pub verify: bool,
    /// Paths erased for good (absolute, as snapshots record them): never written, even
    /// when the snapshot still holds them (a copy rewritten before the erasure existed).
    pub erased: Vec<String>,
}

/// A checked restore, ready to run.
#[derive(Debug)]
pub struct RestorePlan {
    pub snapshot: SnapshotInfo,
    pub target: PathBuf,
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Whether the snapshot's data was read back and verified while planning.
    pub verified: bool,
    /// Erased paths the snapshot still held, left out of the restore.
    pub withheld: Vec<String>,
    request: RestoreRequest,
    expect_file: bool,
    nodes: Vec<(PathBuf, Node)>,
}

/// What a restore wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RestoreSummary {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Erased paths the restore point still held, which were not written.
    pub withheld: Vec<String>,
}

/// A path from a snapshot is safe to join to the target when it only goes down.
fn is_safe(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::Normal(_)))
}

impl Repo {
    pub fn plan_restore(&self, request: &RestoreRequest) -> Result<RestorePlan> {
        crate::no_panic(&self.location, || self.plan_restore_inner(request))
    }

    fn plan_restore_inner(&self, request: &RestoreRequest) -> Result<RestorePlan> {
        let snap_file = self.snapshot_file(&request.snapshot)?;
        let snapshot = SnapshotInfo::from_file(&snap_file);
        if request.verify {
            let report = self.check_snapshot(&snapshot.id, true)?;
            if !report.ok() {
                return Err(EngineError::Refused(format!(
                    "the integrity check of restore point {} failed: {}",
                    &snapshot.id[..8],
                    report.errors.join("; ")
                )));
            }
        }
        let repo = self
            .reopen()?
            .to_indexed()
            .map_err(repo_error(&self.location))?;
        // A snapshot of one path restores that path's content into the target, rather
        // than the whole absolute path below it.
        let inner_path = match (&request.path, snapshot.paths.as_slice()) {
            (Some(path), _) => path.clone(),
            (None, [only]) => only.clone(),
            (None, _) => String::new(),
        };
        let node = repo
            .node_from_snapshot_and_path(&snap_file, &inner_path)
            .map_err(|_| EngineError::NoSuchPath(inner_path.clone()))?;
        let expect_file = !node.is_dir();
        let mut nodes = Vec::new();
        let mut withheld = std::collections::BTreeSet::new();
        for item in repo
            .ls(&node, &LsOptions::default())
            .map_err(repo_error(&self.location))?
        {
            let (path, node) = item.map_err(repo_error(&self.location))?;
            let in_snapshot = Path::new(&inner_path).join(&path);
            if crate::is_erased(&in_snapshot, &request.erased) {
                withheld.insert(in_snapshot.to_string_lossy().to_string());
                continue;
            }
            nodes.push((path, node));
        }
        if nodes.is_empty() && !withheld.is_empty() {
            return Err(EngineError::Refused(format!(
                "everything requested was erased ({}): there is nothing to restore",
                withheld.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }

        let mut seen = HashSet::new();
        let mut links = HashSet::new();
        let mut existing = Vec::new();
        let (mut files, mut dirs, mut bytes) = (0u64, 0u64, 0u64);
        // What is in the target now, looked at without following a link: a link or a
        // file where the restore needs a directory is refused here, before anything is
        // written (and again by the writer, should one appear meanwhile).
        let confined = Confined::open(&request.target, false)?;
        for (path, node) in &nodes {
            let name_ok = !node.name.contains('/') && node.name != "." && node.name != "..";
            let below_link = path.ancestors().skip(1).any(|a| links.contains(a));
            if !is_safe(path) && !path.as_os_str().is_empty() || !name_ok || below_link {
                return Err(EngineError::Refused(format!(
                    "the snapshot holds a path that would escape the target: {}",
                    path.display()
                )));
            }
            if !seen.insert(path.clone()) {
                return Err(EngineError::Refused(format!(
                    "the snapshot holds {} twice",
                    path.display()
                )));
            }
            let rel = relative(expect_file, path, node);
            let now = match &confined {
                Some(confined) => confined.probe(&rel)?,
                None => Existing::Absent,
            };
            let full = request.target.join(&rel);
            match &node.node_type {
                NodeType::Dir => {
                    dirs += 1;
                    if let (false, Some(confined)) =
                        (matches!(now, Existing::Absent | Existing::Dir), &confined)
                    {
                        return Err(confined.not_followed(&rel, now));
                    }
                }
                other => {
                    if matches!(other, NodeType::Symlink { .. }) {
                        links.insert(path.clone());
                    }
                    files += 1;
                    if matches!(other, NodeType::File) {
                        bytes += node.meta.size;
                    }
                    match now {
                        Existing::Absent => {}
                        Existing::Dir => {
                            return Err(EngineError::Refused(format!(
                                "{} is a directory in the target, where the restore point has a file",
                                full.display()
                            )));
                        }
                        _ => existing.push(full),
                    }
                }
            }
        }
        if !existing.is_empty() && !request.overwrite {
            let shown: Vec<String> = existing
                .iter()
                .take(5)
                .map(|p| p.display().to_string())
                .collect();
            let more = existing.len().saturating_sub(5);
            return Err(EngineError::Refused(format!(
                "{} file(s) already exist in the target ({}{}); choose an empty target or pass --overwrite",
                existing.len(),
                shown.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            )));
        }
        Ok(RestorePlan {
            snapshot,
            target: request.target.clone(),
            files,
            dirs,
            bytes,
            verified: request.verify,
            withheld: withheld.into_iter().collect(),
            request: request.clone(),
            expect_file,
            nodes,
        })
    }

    /// Writes a planned restore.
    pub fn restore(&self, plan: RestorePlan) -> Result<RestoreSummary> {
        crate::no_panic(&self.location, || self.restore_inner(plan))
    }

    fn restore_inner(&self, plan: RestorePlan) -> Result<RestoreSummary> {
        let target = &plan.request.target;
        let confined = Confined::open(target, true)?
            .ok_or_else(|| EngineError::Io(format!("cannot create {}", target.display())))?;
        let repo = self
            .reopen()?
            .to_indexed()
            .map_err(repo_error(&self.location))?;
        let overwrite = plan.request.overwrite;
        let entries: Vec<(PathBuf, &Node)> = plan
            .nodes
            .iter()
            .map(|(path, node)| (relative(plan.expect_file, path, node), node))
            .collect();
        // Directories first, in order, then file contents, streamed: each worker holds
        // one blob at a time, so memory stays small whatever the size of the point.
        for (rel, node) in &entries {
            if node.is_dir() {
                confined.mkdir(rel)?;
            }
        }
        let mut first_of: HashMap<(u64, u64), PathBuf> = HashMap::new();
        let mut contents = Vec::new();
        let mut linked = Vec::new();
        for (rel, node) in &entries {
            if matches!(node.node_type, NodeType::File) {
                let m = &node.meta;
                let key = (m.links > 1 && m.inode != 0).then_some((m.device_id, m.inode));
                match key.map(|k| first_of.entry(k)) {
                    Some(std::collections::hash_map::Entry::Occupied(first)) => {
                        linked.push((first.get().clone(), rel.clone()));
                    }
                    Some(std::collections::hash_map::Entry::Vacant(slot)) => {
                        slot.insert(rel.clone());
                        contents.push((rel.clone(), *node));
                    }
                    None => contents.push((rel.clone(), *node)),
                }
            }
        }
        self.write_contents(&repo, &confined, &contents, overwrite)?;
        // Then hard links, symbolic links and special files, and last the directories'
        // metadata, deepest first (writing into a directory changes its times).
        for (first, rel) in &linked {
            confined.hard_link(first, rel, overwrite)?;
        }
        for (rel, node) in &entries {
            match node.node_type {
                NodeType::Symlink { .. } => confined.symlink(rel, node, overwrite)?,
                NodeType::Dir | NodeType::File => {}
                _ => confined.special(rel, node, overwrite)?,
            }
        }
        for (rel, node) in entries.iter().rev() {
            if node.is_dir() {
                confined.set_dir_meta(rel, &node.meta)?;
            }
        }
        Ok(RestoreSummary {
            files: plan.files,
            dirs: plan.dirs,
            bytes: plan.bytes,
            withheld: plan.withheld,
        })
    }

    /// Writes every regular file's content, a few files at a time, each with its
    /// metadata set before it takes its name.
    fn write_contents<S: IndexedFull + Sync>(
        &self,
        repo: &rustic_core::Repository<S>,
        confined: &Confined,
        files: &[(PathBuf, &Node)],
        overwrite: bool,
    ) -> Result<()> {
        let task = self
            .progress
            .task(crate::ProgressKind::Bytes, "restoring file contents…");
        task.set_length(files.iter().map(|(_, n)| n.meta.size).sum());
        let workers = std::thread::available_parallelism()
            .map_or(2, usize::from)
            .saturating_mul(2)
            .clamp(2, 8);
        let next = AtomicUsize::new(0);
        let failed: Mutex<Option<EngineError>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((rel, node)) = files.get(i) else {
                            return;
                        };
                        if failed.lock().expect("not poisoned").is_some() {
                            return;
                        }
                        let written = confined.write_file(rel, node, overwrite, |file| {
                            self.write_blobs(repo, file, rel, node, &*task)
                        });
                        if let Err(e) = written {
                            failed.lock().expect("not poisoned").get_or_insert(e);
                            return;
                        }
                    }
                });
            }
        });
        task.finish();
        match failed.into_inner().expect("not poisoned") {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn write_blobs<S: IndexedFull + Sync>(
        &self,
        repo: &rustic_core::Repository<S>,
        file: &mut std::fs::File,
        rel: &Path,
        node: &Node,
        task: &dyn crate::Task,
    ) -> Result<()> {
        let io =
            |e: std::io::Error| EngineError::Io(format!("cannot write {}: {e}", rel.display()));
        for id in node.content.iter().flatten() {
            // Read past the engine library's blob cache: each blob is needed once.
            let blob = repo
                .cat_blob(BlobType::Data, &id.to_hex())
                .map_err(repo_error(&self.location))?;
            file.write_all(&blob).map_err(io)?;
            task.advance(blob.len() as u64);
        }
        Ok(())
    }
}

/// Where a node lands, relative to the target: a single file at its name, the rest at
/// its path in the snapshot below the restored path.
fn relative(expect_file: bool, path: &Path, node: &Node) -> PathBuf {
    if expect_file {
        PathBuf::from(node.name().into_owned())
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_that_go_down_are_safe() {
        assert!(is_safe(Path::new("etc/app/config")));
        assert!(!is_safe(Path::new("../outside")));
        assert!(!is_safe(Path::new("a/../../b")));
        assert!(!is_safe(Path::new("/etc/passwd")));
    }
}
