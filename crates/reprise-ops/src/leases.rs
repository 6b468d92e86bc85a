//! Leases in the catalog, so that two processes sharing it (two servers on one
//! PostgreSQL catalog, or a server and a `reprise backup` by hand) never run the same job
//! at once. A lease lasts [`TTL`] and is renewed while its job runs; a holder that died on
//! this machine is recognised at once (its process is gone), one elsewhere when its lease
//! expires.

use std::future::Future;
use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{Catalog, RunFilter, RunOutcome, RunStatus};

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use reprise_workspace::text::hex;

pub(crate) const TTL: SignedDuration = SignedDuration::from_secs(30 * 60);

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// This process, as a lease holder: `host:pid:random`.
pub fn holder() -> &'static str {
    static HOLDER: OnceLock<String> = OnceLock::new();
    HOLDER.get_or_init(|| {
        let mut bytes = [0u8; 4];
        let _ = getrandom::fill(&mut bytes);
        format!("{}:{}:{}", hostname(), std::process::id(), hex(&bytes))
    })
}

/// A holder that was a process of this machine which no longer runs.
pub fn is_dead_local(holder: &str) -> bool {
    let mut parts = holder.split(':');
    match (
        parts.next(),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) {
        (Some(host), Some(pid)) => {
            host == hostname() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// Takes (or renews) the lease `key`; takes over one whose holder died on this machine.
pub async fn acquire(catalog: &dyn Catalog, key: &str) -> AppResult<bool> {
    let now = Timestamp::now();
    if catalog.try_lease(key, holder(), now + TTL, now).await? {
        return Ok(true);
    }
    if let Some(current) = catalog.lease_holder(key, now).await?
        && is_dead_local(&current)
    {
        catalog.release_lease(key, &current).await?;
        return Ok(catalog.try_lease(key, holder(), now + TTL, now).await?);
    }
    Ok(false)
}

pub async fn release(catalog: &dyn Catalog, key: &str) -> AppResult<()> {
    Ok(catalog.release_lease(key, holder()).await?)
}

/// The lease key of an asset's backup.
pub fn backup_key(asset: &str) -> String {
    format!("backup:{asset}")
}

/// The lease key of the catalog's self-backup (into every repository).
pub(crate) const SELF_BACKUP_KEY: &str = "self-backup";

/// The lease key of an export written into a repository.
pub fn export_key(id: &str) -> String {
    format!("export:{id}")
}

/// Runs `work`, renewing the leases `keys` every few minutes meanwhile: a long job keeps
/// them past their [`TTL`].
pub(crate) async fn renewing<T>(
    catalog: &dyn Catalog,
    keys: &[String],
    work: impl Future<Output = T>,
) -> T {
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            result = &mut work => return result,
            () = tokio::time::sleep(RENEW_EVERY) => {
                for key in keys {
                    // A failed renewal leaves the lease to its expiry: the work goes on.
                    let _ = acquire(catalog, key).await;
                }
            }
        }
    }
}

/// How often held leases are renewed while their work runs.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// Runs `work` (a prune) while holding the lease of everything that writes into
/// `repositories`: the backups of the assets whose policy writes or copies there, the
/// exports kept there, and the self-backup. A prune deletes the packs no index lists
/// yet, and those whose data no snapshot uses: beside a running backup, in this process
/// or another sharing the catalog, it could delete what that backup is writing or
/// deduplicating against. Fails at once, holding nothing, when one of them runs.
pub(crate) async fn with_writers_stopped<T>(
    ctx: &Ctx<'_>,
    repositories: &[&str],
    work: impl Future<Output = AppResult<T>>,
) -> AppResult<T> {
    let writes_here = |repo: &str| repositories.contains(&repo);
    let inv = ctx.inventory();
    let mut keys: Vec<String> = inv
        .assets
        .iter()
        .filter(|asset| {
            inv.policy_of(asset).is_some_and(|p| {
                writes_here(p.repository.as_str())
                    || p.copy_to.iter().any(|r| writes_here(r.as_str()))
            })
        })
        .map(|asset| backup_key(asset.id.as_str()))
        .collect();
    keys.extend(
        ctx.loaded
            .config
            .exports
            .iter()
            .filter(|e| e.repository.as_deref().is_some_and(writes_here))
            .map(|e| export_key(&e.id)),
    );
    keys.push(SELF_BACKUP_KEY.to_string());

    for (taken, key) in keys.iter().enumerate() {
        if !acquire(ctx.catalog, key).await? {
            for earlier in &keys[..taken] {
                release(ctx.catalog, earlier).await?;
            }
            let what = match key.split_once(':') {
                Some(("backup", asset)) => format!("a backup of `{asset}`"),
                Some(("export", id)) => format!("export `{id}`"),
                _ => "the self-backup".to_string(),
            };
            return Err(AppError::Busy(format!(
                "{what} is running: repositories are pruned only while nothing writes to them; try again when it ends"
            )));
        }
    }
    let result = renewing(ctx.catalog, &keys, work).await;
    for key in &keys {
        // One left behind expires after its TTL; the work's outcome matters more.
        let _ = release(ctx.catalog, key).await;
    }
    result
}

/// Marks as interrupted the runs left `running` by a process that is gone: no live lease
/// holds their asset. Runs of a live process (another server) are left alone.
pub async fn recover_interrupted(catalog: &dyn Catalog, now: Timestamp) -> AppResult<usize> {
    let mut count = 0;
    for run in catalog.runs(&RunFilter::default()).await? {
        if run.status != RunStatus::Running {
            continue;
        }
        let alive = match &run.asset {
            Some(asset) => match catalog.lease_holder(&backup_key(asset), now).await? {
                Some(h) => !is_dead_local(&h),
                None => false,
            },
            None => false,
        };
        if !alive {
            let mut outcome = RunOutcome::new(now, RunStatus::Interrupted);
            outcome.error = Some("the process stopped before the run ended".into());
            catalog.finish_run(run.id, &outcome).await?;
            count += 1;
        }
    }
    Ok(count)
}
