//! Immutable repositories (`immutable_for`): their locks kept ahead of their lapse, and
//! the repository brought back after someone deleted or overwrote its objects.

use jiff::Timestamp;
use reprise_domain::Repository;
use reprise_engine::{LockReport, Recovered};
use serde::Serialize;

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use crate::repos::{self, blocking};

/// One immutable repository's locks after extending them.
#[derive(Debug, Clone, Serialize)]
pub struct RepoLocks {
    pub repository: String,
    /// `30d`.
    pub immutable_for: String,
    /// `compliance` or `governance`.
    pub mode: &'static str,
    /// What extending found (missing objects included); `None` when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<LockReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The immutable repository `id`, or why it is not one.
fn immutable<'a>(ctx: &'a Ctx<'_>, id: &str) -> AppResult<&'a Repository> {
    let repo = ctx.repository(id)?;
    if repo.immutable.is_none() {
        return Err(AppError::Invalid(format!(
            "repository `{id}` is not immutable: give it `immutable_for = \"30d\"` (an S3 bucket with Object Lock)"
        )));
    }
    Ok(repo)
}

/// Extends the locks of every immutable repository (or only `only`): what a kept restore
/// point needs is locked for the full period again once half of it has passed; the
/// points retention removes are left to lapse. Objects found missing are reported.
pub async fn extend(ctx: &Ctx<'_>, only: Option<&str>) -> AppResult<Vec<RepoLocks>> {
    if let Some(id) = only
        && !matches!(
            immutable(ctx, id)?.backend,
            reprise_domain::RepoBackend::S3 { .. }
        )
    {
        return Err(AppError::Invalid(format!(
            "repository `{id}` is a local immutable repository: Reprise keeps its points and packs for the period by its own rules, there is no lock to extend"
        )));
    }
    let targets: Vec<&Repository> = ctx
        .inventory()
        .repositories
        .iter()
        .filter(|r| {
            r.immutable.is_some()
                && matches!(r.backend, reprise_domain::RepoBackend::S3 { .. })
                && only.is_none_or(|id| r.id.as_str() == id)
        })
        .collect();
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    // Points retention would remove but their lock holds: they must be left to lapse.
    let plans = crate::retention::plan(ctx, &[], Timestamp::now()).await?;
    let mut out = Vec::new();
    for repo in targets {
        let releasing: Vec<String> = plans
            .iter()
            .filter(|p| p.repository == repo.id.as_str())
            .flat_map(|p| p.locked.iter().cloned())
            .collect();
        let immutable = repo.immutable.expect("filtered on immutable repositories");
        let result = async {
            let open = repos::open(ctx.workspace(), repo, ctx.progress.clone())
                .await
                .map_err(|e| {
                    AppError::Failed(format!(
                        "{e}; if someone deleted or wrote over its objects, `reprise repo recover {}` brings back what Reprise wrote",
                        repo.id
                    ))
                })?;
            Ok::<_, AppError>(blocking(move || open.extend_locks(&releasing)).await?)
        }
        .await;
        let (report, error) = match result {
            Ok(report) => (Some(report), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.push(RepoLocks {
            repository: repo.id.to_string(),
            immutable_for: immutable.period.to_string(),
            mode: immutable.mode.as_str(),
            report,
            error,
        });
    }
    Ok(out)
}

/// Whether every repository's locks were extended and nothing was missing.
pub fn all_held(locks: &[RepoLocks]) -> bool {
    locks
        .iter()
        .all(|l| l.error.is_none() && l.report.as_ref().is_some_and(|r| r.missing.is_empty()))
}

/// Brings back what was deleted or written over in the immutable repository `id` (see
/// `reprise_engine::recover`), with the repository's writers stopped; journaled.
pub async fn recover(ctx: &Ctx<'_>, id: &str) -> AppResult<Recovered> {
    let repo = immutable(ctx, id)?;
    if !matches!(repo.backend, reprise_domain::RepoBackend::S3 { .. }) {
        return Err(AppError::Invalid(format!(
            "repository `{id}` is local: only an S3 bucket keeps the versions to recover from"
        )));
    }
    let spec = repos::spec(ctx.workspace(), repo)?;
    let progress = ctx.progress.clone();
    let recovered = crate::leases::with_writers_stopped(ctx, &[id], async {
        Ok(blocking(move || reprise_engine::recover(&spec, progress)).await?)
    })
    .await?;
    let open = repos::open(ctx.workspace(), repo, ctx.progress.clone()).await?;
    crate::points::sync(ctx, id, open).await?;
    ctx.catalog
        .note(
            "repository.recovered",
            id,
            &format!(
                "{} object(s) deleted or written over brought back: {}",
                recovered.restored.len(),
                recovered.restored.join(", ")
            ),
        )
        .await?;
    Ok(recovered)
}
