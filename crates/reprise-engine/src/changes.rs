//! What a backup changed against the snapshot it started from: files added, changed,
//! deleted and renamed, found by comparing the two trees (a subtree with the same id on
//! both sides is the same and is never read), how well its new data compressed, and new
//! files whose names ransomware gives its notes or its encrypted files.

use std::collections::{BTreeMap, HashMap};

use rustic_core::{DataId, IndexedTree, Repository, TreeId, repofile::NodeType};

/// The most paths of suspicious names a backup reports.
const MAX_NAMES: usize = 10;

/// What changed between a snapshot and its parent (or since nothing, for a first one).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Changes {
    /// Files in the parent snapshot (0 for a first backup).
    pub files_before: u64,
    pub added: u64,
    /// Files at the same path with other contents.
    pub changed: u64,
    pub deleted: u64,
    /// Files gone from one path and present with the same contents at another.
    pub renamed: u64,
    /// Bytes of new file data, before and after compression: encrypted data does not
    /// compress.
    pub new_bytes: u64,
    pub new_bytes_packed: u64,
    /// New files (at most ten) whose names match the patterns asked for.
    pub suspicious_names: Vec<String>,
    /// How long measuring this took (the index read again, the trees compared), in
    /// milliseconds: the signals' cost beside the backup's own duration.
    #[serde(default)]
    pub measured_ms: u64,
}

/// Whether `name` matches `pattern`, case-insensitively; `*` stands for any run of
/// characters.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    fn glob(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| glob(rest, &n[i..])),
            Some((c, rest)) => n
                .split_first()
                .is_some_and(|(d, tail)| c == d && glob(rest, tail)),
        }
    }
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let n: Vec<char> = name.to_lowercase().chars().collect();
    glob(&p, &n)
}

/// What a part of the trees holds that differs.
#[derive(Default)]
struct Found {
    changes: Changes,
    /// Contents of deleted files, and how many were deleted with each.
    deleted: HashMap<Vec<DataId>, u64>,
    /// Contents of added files.
    added: Vec<Vec<DataId>>,
}

impl Found {
    fn merge(&mut self, other: Found) {
        let (c, o) = (&mut self.changes, other.changes);
        c.added += o.added;
        c.changed += o.changed;
        c.deleted += o.deleted;
        for name in o.suspicious_names {
            if c.suspicious_names.len() < MAX_NAMES {
                c.suspicious_names.push(name);
            }
        }
        for (content, n) in other.deleted {
            *self.deleted.entry(content).or_default() += n;
        }
        self.added.extend(other.added);
    }
}

enum Node {
    File(Vec<DataId>),
    Dir(TreeId),
}

fn nodes<S: IndexedTree>(
    repo: &Repository<S>,
    tree: Option<TreeId>,
) -> rustic_core::RusticResult<BTreeMap<String, Node>> {
    let mut out = BTreeMap::new();
    if let Some(id) = tree {
        for node in repo.get_tree(&id)?.nodes {
            let kind = match node.node_type {
                NodeType::File => Node::File(node.content.unwrap_or_default()),
                NodeType::Dir => match node.subtree {
                    Some(t) => Node::Dir(t),
                    None => continue,
                },
                _ => continue,
            };
            out.insert(node.name, kind);
        }
    }
    Ok(out)
}

/// What differs below `path` between the trees `old` and `new`; subdirectories are
/// compared in parallel (reading and decrypting trees is the work), in order, so the
/// outcome is the same as one walk's.
fn diff<S: IndexedTree + Sync>(
    repo: &Repository<S>,
    patterns: &[String],
    path: &str,
    old: Option<TreeId>,
    new: Option<TreeId>,
) -> rustic_core::RusticResult<Found> {
    use rayon::prelude::*;
    let mut found = Found::default();
    if old == new {
        return Ok(found);
    }
    let before = nodes(repo, old)?;
    let after = nodes(repo, new)?;
    let mut dirs: Vec<(String, Option<TreeId>, Option<TreeId>)> = Vec::new();
    for (name, node) in &before {
        let child = format!("{path}/{name}");
        match (node, after.get(name)) {
            (Node::Dir(a), Some(Node::Dir(b))) => dirs.push((child, Some(*a), Some(*b))),
            (Node::File(a), Some(Node::File(b))) => {
                if a != b {
                    found.changes.changed += 1;
                }
            }
            (Node::Dir(a), _) => dirs.push((child, Some(*a), None)),
            (Node::File(a), _) => {
                found.changes.deleted += 1;
                if !a.is_empty() {
                    *found.deleted.entry(a.clone()).or_default() += 1;
                }
            }
        }
    }
    for (name, node) in &after {
        let child = format!("{path}/{name}");
        match (node, before.get(name)) {
            (Node::Dir(_), Some(Node::Dir(_))) | (Node::File(_), Some(Node::File(_))) => {}
            (Node::Dir(b), _) => dirs.push((child, None, Some(*b))),
            (Node::File(b), _) => {
                found.changes.added += 1;
                if !b.is_empty() {
                    found.added.push(b.clone());
                }
                if found.changes.suspicious_names.len() < MAX_NAMES
                    && patterns.iter().any(|p| name_matches(p, name))
                {
                    found.changes.suspicious_names.push(child);
                }
            }
        }
    }
    let below: Vec<rustic_core::RusticResult<Found>> = dirs
        .into_par_iter()
        .map(|(child, a, b)| diff(repo, patterns, &child, a, b))
        .collect();
    for part in below {
        found.merge(part?);
    }
    Ok(found)
}

/// Compares the tree `new` with `old` (none for a first backup).
pub(crate) fn compare<S: IndexedTree + Sync>(
    repo: &Repository<S>,
    old: Option<TreeId>,
    new: TreeId,
    patterns: &[String],
) -> rustic_core::RusticResult<Changes> {
    let mut walk = diff(repo, patterns, "", old, Some(new))?;
    for content in std::mem::take(&mut walk.added) {
        if let Some(left) = walk.deleted.get_mut(&content)
            && *left > 0
        {
            *left -= 1;
            walk.changes.renamed += 1;
            walk.changes.added -= 1;
            walk.changes.deleted -= 1;
        }
    }
    Ok(walk.changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_case_insensitively_with_stars() {
        assert!(name_matches("*how_to_decrypt*", "HOW_TO_DECRYPT_FILES.txt"));
        assert!(name_matches("*.locked", "report.docx.LOCKED"));
        assert!(name_matches("_readme.txt", "_readme.txt"));
        assert!(!name_matches("_readme.txt", "my_readme.txt"));
        assert!(!name_matches("*.locked", "locked.txt"));
    }
}
