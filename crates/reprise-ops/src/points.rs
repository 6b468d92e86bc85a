//! Keeping the catalog's view of restore points in step with the repositories, which are
//! the source of truth.

use std::sync::Arc;

use reprise_catalog::RestorePoint;
use reprise_engine::{Repo, SnapshotInfo};

use crate::context::Ctx;
use crate::error::AppResult;
use crate::repos::blocking;

/// Restore points made by Reprise, read from their tags; other snapshots (made by hand
/// with restic) are left out.
pub(crate) fn from_snapshots(repository: &str, snaps: &[SnapshotInfo]) -> Vec<RestorePoint> {
    snaps
        .iter()
        .filter_map(|s| {
            Some(RestorePoint {
                repository: repository.to_string(),
                snapshot: s.id.clone(),
                asset: s.tag("asset")?.to_string(),
                dataset: s.tag("dataset")?.to_string(),
                policy: s.tag("policy").map(str::to_string),
                time: s.time,
                files: s.files,
                bytes: s.bytes,
                bytes_added: s.bytes_added,
                verified: None,
                failed: None,
                failure: None,
            })
        })
        .collect()
}

/// Reads a repository's snapshots and records them in the catalog.
pub async fn sync(
    ctx: &Ctx<'_>,
    repository: &str,
    repo: Arc<Repo>,
) -> AppResult<Vec<SnapshotInfo>> {
    let snaps = blocking(move || repo.snapshots()).await?;
    ctx.catalog
        .sync_restore_points(repository, &from_snapshots(repository, &snaps))
        .await?;
    Ok(snaps)
}
