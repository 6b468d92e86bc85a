//! Erasure (R002.3): finding given paths in restore points, then rewriting those restore
//! points without them — new snapshots with the same time, host, paths and tags, the
//! originals deleted — and pruning the data nothing references any more. Stock restic
//! reads the rewritten snapshots like any other.

use std::path::Path;
use std::str::FromStr;

use rustic_core::{
    LsOptions, RewriteOptions, RewriteTreesOptions, StringList, repofile::SnapshotFile,
};

use crate::{EngineError, Repo, Result, repo_error};

/// One erased path found in one snapshot, with what lies below it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    pub snapshot: String,
    /// The path as the snapshot records it (absolute).
    pub path: String,
    pub files: u64,
    pub bytes: u64,
}

/// What an erasure did to one repository.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Erased {
    /// (original snapshot id, rewritten snapshot id).
    pub rewritten: Vec<(String, String)>,
    pub bytes_freed: u64,
}

/// A path, absolute or not, as the tree path rewrite patterns match (`a/b/c`).
fn tree_path(path: &str) -> String {
    path.trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

/// An exclude pattern matching exactly `path` (and everything below it when it is a
/// directory): anchored, with glob characters escaped.
fn exact_exclude(path: &str) -> String {
    let mut escaped = String::from("!/");
    for c in tree_path(path).chars() {
        if matches!(c, '\\' | '*' | '?' | '[' | ']' | '{' | '}') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

impl Repo {
    /// Where `paths` (absolute, as snapshots record them) are in `snapshots`.
    pub fn find_paths(&self, snapshots: &[String], paths: &[String]) -> Result<Vec<Found>> {
        crate::no_panic(&self.location, || {
            let repo = self
                .reopen()?
                .to_indexed()
                .map_err(repo_error(&self.location))?;
            let mut found = Vec::new();
            for id in snapshots {
                let snap = self.snapshot_file(id)?;
                for path in paths {
                    let Ok(node) = repo.node_from_snapshot_and_path(&snap, path) else {
                        continue;
                    };
                    let (mut files, mut bytes) = (0, 0);
                    if node.is_dir() {
                        for item in repo
                            .ls(&node, &LsOptions::default())
                            .map_err(repo_error(&self.location))?
                        {
                            let (_, n) = item.map_err(repo_error(&self.location))?;
                            if !n.is_dir() {
                                files += 1;
                                bytes += n.meta.size;
                            }
                        }
                    } else {
                        files = 1;
                        bytes = node.meta.size;
                    }
                    found.push(Found {
                        snapshot: snap.id.to_string(),
                        path: path.clone(),
                        files,
                        bytes,
                    });
                }
            }
            Ok(found)
        })
    }

    /// Rewrites `snapshots` without `paths`, tagging the new ones `tag`, deletes the
    /// originals, then prunes what nothing references any more, repacking the packs
    /// that held the erased data so that none of it stays in the repository's files. Snapshots that do not
    /// hold any of the paths are left as they are.
    pub fn erase(&self, snapshots: &[String], paths: &[String], tag: &str) -> Result<Erased> {
        crate::no_panic(&self.location, || {
            if snapshots.is_empty() || paths.is_empty() {
                return Ok(Erased {
                    rewritten: Vec::new(),
                    bytes_freed: 0,
                });
            }
            let repo = self
                .reopen()?
                .to_indexed()
                .map_err(repo_error(&self.location))?;
            let originals: Vec<SnapshotFile> = snapshots
                .iter()
                .map(|id| self.snapshot_file(id))
                .collect::<Result<_>>()?;
            let mut tree_opts = RewriteTreesOptions::default();
            tree_opts.excludes.globs = paths.iter().map(|p| exact_exclude(p)).collect();
            let tags = StringList::from_str(tag)
                .map_err(|e| EngineError::Refused(format!("bad tag `{tag}`: {e}")))?;
            let opts = RewriteOptions::default()
                .forget(true)
                .tags_rewritten(Some(tags));
            let changed = repo
                .rewrite_snapshots_and_trees(originals, &opts, &tree_opts)
                .map_err(repo_error(&self.location))?;
            // The rewritten snapshots come back with their old ids: find the new ones by
            // tree and time.
            let now = self.reopen()?;
            let all = now
                .get_all_snapshots()
                .map_err(repo_error(&self.location))?;
            let mut rewritten = Vec::new();
            for old in &changed {
                let new = all
                    .iter()
                    .find(|s| s.tree == old.tree && s.time == old.time && s.id != old.id)
                    .ok_or_else(|| {
                        EngineError::Refused(format!(
                            "the rewritten copy of snapshot {} cannot be found",
                            &old.id.to_string()[..8]
                        ))
                    })?;
                rewritten.push((old.id.to_string(), new.id.to_string()));
            }
            let bytes_freed = if rewritten.is_empty() {
                0
            } else {
                self.prune_all_unused()?
            };
            Ok(Erased {
                rewritten,
                bytes_freed,
            })
        })
    }
}

/// Whether `path` (relative to a restored tree's snapshot root) is `erased` or lies
/// below it.
pub fn is_erased(path: &Path, erased: &[String]) -> bool {
    let path = tree_path(&path.to_string_lossy());
    erased.iter().any(|e| {
        let e = tree_path(e);
        path == e || path.starts_with(&format!("{e}/"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_patterns_match_exactly_the_path_given() {
        assert_eq!(
            exact_exclude("/srv/visits/alice.csv"),
            "!/srv/visits/alice.csv"
        );
        assert_eq!(exact_exclude("/srv/a[1]*.csv"), "!/srv/a\\[1\\]\\*.csv");
    }

    #[test]
    fn below_an_erased_directory_is_erased() {
        let erased = vec!["/srv/consents/alice".to_string()];
        assert!(is_erased(Path::new("srv/consents/alice/form.pdf"), &erased));
        assert!(is_erased(Path::new("/srv/consents/alice"), &erased));
        assert!(!is_erased(Path::new("srv/consents/alice2"), &erased));
    }
}
