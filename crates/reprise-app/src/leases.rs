//! Leases in the catalog, so that two processes sharing it (two servers on one
//! PostgreSQL catalog, or a server and a `reprise backup` by hand) never run the same job
//! at once. A lease lasts [`TTL`] and is renewed while its job runs; a holder that died on
//! this machine is recognised at once (its process is gone), one elsewhere when its lease
//! expires.

use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{Catalog, RunFilter, RunOutcome, RunStatus};

use crate::error::AppResult;
use crate::workspace::hex;

pub const TTL: SignedDuration = SignedDuration::from_secs(30 * 60);

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
