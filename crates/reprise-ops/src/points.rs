//! Keeping the catalog's view of restore points in step with the repositories, which are
//! the source of truth.

use std::sync::Arc;

use jiff::Timestamp;
use reprise_catalog::{Provenance, RestorePoint};
use reprise_engine::{Repo, SnapshotInfo};

use crate::context::Ctx;
use crate::error::AppResult;
use crate::repos::blocking;

/// The snapshots tagged for an asset and data set, read from their tags; untagged ones
/// are left out. Which of them are restore points is the catalog's provenance: those
/// Reprise made, copied or adopted.
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
                suspect: None,
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

/// Records that `snapshot` of `repository` is a restore point, and why.
pub async fn trust(
    ctx: &Ctx<'_>,
    repository: &str,
    snapshot: &str,
    how: &str,
    actor: Option<&str>,
    reason: Option<String>,
) -> AppResult<()> {
    ctx.catalog
        .record_provenance(&Provenance {
            repository: repository.to_string(),
            snapshot: snapshot.to_string(),
            how: how.to_string(),
            at: Timestamp::now(),
            actor: actor.map(str::to_string),
            reason,
        })
        .await?;
    Ok(())
}

/// Refreshes the catalog from every reachable repository of `asset`'s policy: the catalog
/// may lag behind them. One out of reach is skipped; its points stay as last seen.
pub async fn refresh(ctx: &Ctx<'_>, asset: &reprise_domain::Asset) -> AppResult<()> {
    for repo in ctx.repositories_of(asset)? {
        if let Ok(open) = crate::repos::open(ctx.workspace(), repo, ctx.progress.clone()).await {
            sync(ctx, repo.id.as_str(), open).await?;
        }
    }
    Ok(())
}
