//! Verifying repositories: structure always; data read back and hashed when asked, all
//! of it, a random share, or one slice of a rolling cycle. A damaged pack is traced back
//! to the snapshots that need it.

use std::collections::{BTreeMap, BTreeSet};

use rustic_core::{
    CheckOptions, LsOptions, ReadSubsetOption,
    repofile::{NodeType, SnapshotFile},
};

use crate::{Repo, Result, repo_error};

/// How much data a check reads back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReadMode {
    /// Structure only: index, packs present with the right sizes, trees complete.
    Structure,
    /// Read and verify every pack.
    All,
    /// Read a random share of the data, in percent.
    Percent(f64),
    /// Read slice `index` of `of` (1-based): running 1..=of covers every pack once.
    Slice { index: u32, of: u32 },
}

/// A pack the check found damaged or missing. `pack` may be an abbreviated id: match it
/// as a prefix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PackProblem {
    pub pack: String,
    pub message: String,
}

/// What a check found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckReport {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    /// Damaged or missing packs, when the errors name them.
    pub damaged_packs: Vec<PackProblem>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

fn options(mode: ReadMode) -> CheckOptions {
    let (read_data, subset) = match mode {
        ReadMode::Structure => (false, ReadSubsetOption::All),
        ReadMode::All => (true, ReadSubsetOption::All),
        ReadMode::Percent(p) => (true, ReadSubsetOption::Percentage(p)),
        ReadMode::Slice { index, of } => (true, ReadSubsetOption::IdSubSet((index, of))),
    };
    CheckOptions::default()
        .trust_cache(true)
        .read_data(read_data)
        .read_data_subset(subset)
}

/// The pack id a check message names, if any: in full or abbreviated (`pack 0123abcd`,
/// `Pack:0123abcd`); callers match abbreviations as prefixes.
fn pack_of(message: &str) -> Option<String> {
    ["pack ", "Pack:"].iter().find_map(|marker| {
        message.split(marker).skip(1).find_map(|rest| {
            let id: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            (id.len() >= 8).then_some(id)
        })
    })
}

impl Repo {
    /// Checks the whole repository.
    pub fn check(&self, mode: ReadMode) -> Result<CheckReport> {
        guarded(|| self.inner.check(options(mode)), &self.location)
    }

    /// Checks exactly what one snapshot needs: its trees, and with `read_data` every pack
    /// holding its data, read back and hashed.
    pub fn check_snapshot(&self, snapshot: &str, read_data: bool) -> Result<CheckReport> {
        let snap = self.snapshot_file(snapshot)?;
        let mode = if read_data {
            ReadMode::All
        } else {
            ReadMode::Structure
        };
        guarded(
            || self.inner.check_with_trees(options(mode), vec![snap.tree]),
            &self.location,
        )
    }

    /// For each snapshot, the packs it needs. Used to say which restore points a damaged
    /// pack affects; walks every tree, so it is only called when something is wrong.
    pub fn packs_by_snapshot(&self) -> Result<BTreeMap<String, BTreeSet<String>>> {
        crate::no_panic(&self.location, || self.packs_by_snapshot_inner())
    }

    fn packs_by_snapshot_inner(&self) -> Result<BTreeMap<String, BTreeSet<String>>> {
        let repo = self
            .reopen()?
            .to_indexed()
            .map_err(repo_error(&self.location))?;
        let snaps: Vec<SnapshotFile> = repo
            .get_all_snapshots()
            .map_err(repo_error(&self.location))?;
        let mut out = BTreeMap::new();
        for snap in snaps {
            let mut packs = BTreeSet::new();
            // Missing blobs mean missing packs: they are reported by the check itself.
            if let Ok(entry) = repo.get_index_entry(&snap.tree) {
                packs.insert(entry.pack.to_string());
            }
            let root = repo
                .node_from_snapshot_and_path(&snap, "")
                .map_err(repo_error(&self.location))?;
            for item in repo
                .ls(&root, &LsOptions::default())
                .map_err(repo_error(&self.location))?
            {
                let Ok((_, node)) = item else { continue };
                if let Some(tree) = node.subtree
                    && let Ok(entry) = repo.get_index_entry(&tree)
                {
                    packs.insert(entry.pack.to_string());
                }
                if matches!(node.node_type, NodeType::File) {
                    for blob in node.content.iter().flatten() {
                        if let Ok(entry) = repo.get_index_entry(blob) {
                            packs.insert(entry.pack.to_string());
                        }
                    }
                }
            }
            out.insert(snap.id.to_string(), packs);
        }
        Ok(out)
    }
}

/// Runs a check, turning a panic of the engine library (seen on some damaged trees: its
/// worker threads stop on a closed channel) into a failed check instead of a crash.
fn guarded(
    check: impl FnOnce() -> rustic_core::RusticResult<rustic_core::CheckResults>,
    location: &str,
) -> Result<CheckReport> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
        Ok(results) => Ok(report(results.map_err(repo_error(location))?)),
        Err(panic) => {
            let why = crate::panic_message(&*panic);
            Ok(CheckReport {
                errors: vec![format!(
                    "the check stopped on damaged data (engine failure: {why})"
                )],
                ..CheckReport::default()
            })
        }
    }
}

fn report(results: rustic_core::CheckResults) -> CheckReport {
    let mut report = CheckReport::default();
    for (level, error) in results.0 {
        let message = crate::concise(&error.to_string());
        // The level's type is not exported by the engine library; its name is.
        let is_error = format!("{level:?}") == "Error";
        if is_error && let Some(pack) = pack_of(&message) {
            report.damaged_packs.push(PackProblem {
                pack,
                message: message.clone(),
            });
        }
        if is_error {
            report.errors.push(message);
        } else {
            report.warnings.push(message);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_ids_are_read_from_check_messages() {
        let id = "a".repeat(64);
        assert_eq!(
            pack_of(&format!(
                "pack {id}: Hash mismatch. Computed hash: {}",
                "b".repeat(64)
            )),
            Some(id.clone())
        );
        assert_eq!(pack_of(&format!("error reading pack {id} : io")), Some(id));
        assert_eq!(pack_of("error checking trees : boom"), None);
        assert_eq!(
            pack_of("error processing Pack:bd78aef3 at BlobLocation"),
            Some("bd78aef3".into())
        );
    }
}
