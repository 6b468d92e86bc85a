//! The scheduler's decision: which assets are due for a backup now. Jobs live in the
//! catalog as runs, so the decision survives restarts: after downtime a missed window
//! runs once (not once per missed slot), and a run left `interrupted` by a killed
//! server is retried at once.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use reprise_catalog::{Run, RunFilter, RunKind, RunStatus};
use reprise_domain::{Asset, Schedule};

use crate::context::Ctx;
use crate::error::AppResult;

/// Whether an asset whose last backup attempt started at `last` is due at `now`.
/// `since` stands for `last` when there was none (the scheduler's start): a new asset
/// waits for its first slot instead of running at once. `offset` (seconds) delays every
/// slot of this asset by its share of the server's jitter window.
pub fn is_due(
    schedule: &Schedule,
    last: Option<Timestamp>,
    interrupted: bool,
    since: Timestamp,
    now: Timestamp,
    tz: &TimeZone,
    offset: u64,
) -> bool {
    if interrupted {
        return true;
    }
    next_slot(schedule, last.unwrap_or(since), tz, offset).is_some_and(|next| next <= now)
}

/// The first slot after `base`, delayed by `offset` seconds. The offset is taken off
/// `base` first, so that a run that started at its delayed slot counts for that slot.
pub fn next_slot(
    schedule: &Schedule,
    base: Timestamp,
    tz: &TimeZone,
    offset: u64,
) -> Option<Timestamp> {
    let offset = jiff::SignedDuration::from_secs(offset as i64);
    let base = (base - offset).to_zoned(tz.clone()).datetime();
    let next = schedule.next_after(base)?.to_zoned(tz.clone()).ok()?;
    Some(next.timestamp() + offset)
}

/// This asset's fixed delay within the server's jitter window, in seconds.
pub fn offset_of(ctx: &Ctx<'_>, asset: &str) -> u64 {
    reprise_domain::jitter_offset(asset, ctx.loaded.config.server.jitter)
}

/// Assets due for a backup at `now`, in inventory order.
pub async fn due<'a>(
    ctx: &'a Ctx<'_>,
    since: Timestamp,
    now: Timestamp,
) -> AppResult<Vec<&'a Asset>> {
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let runs: Vec<Run> = ctx
        .catalog
        .runs(&RunFilter {
            kind: Some(RunKind::Backup),
            ..RunFilter::default()
        })
        .await?;
    let runs_of = crate::status::by_asset(&runs, |r| r.asset.as_deref().unwrap_or(""));
    let mut out = Vec::new();
    for asset in &ctx.inventory().assets {
        if asset.datasets.is_empty() {
            continue;
        }
        let Some(policy) = ctx.inventory().policy_of(asset) else {
            continue;
        };
        let mine: &[&Run] = runs_of
            .get(asset.id.as_str())
            .map_or(&[], |runs| runs.as_slice());
        if decide(ctx, asset, &policy.schedule, mine, since, now, &tz) {
            out.push(asset);
        }
    }
    Ok(out)
}

/// Whether `asset`, whose backup runs are `mine` (newest first), is due: never while one
/// runs; the latest attempt decides (an interrupted one is retried at once).
fn decide(
    ctx: &Ctx<'_>,
    asset: &Asset,
    schedule: &Schedule,
    mine: &[&Run],
    since: Timestamp,
    now: Timestamp,
    tz: &TimeZone,
) -> bool {
    if mine.iter().any(|r| r.status == RunStatus::Running) {
        return false;
    }
    let interrupted = mine
        .first()
        .is_some_and(|r| r.status == RunStatus::Interrupted);
    let last = mine
        .iter()
        .find(|r| r.status != RunStatus::Interrupted)
        .map(|r| r.started);
    let offset = offset_of(ctx, asset.id.as_str());
    is_due(schedule, last, interrupted, since, now, tz, offset)
}

/// Of `assets` (a host's few), those due for a backup at `now`: the same decision as
/// [`due`], reading only these assets' newest runs.
pub async fn due_among<'a>(
    ctx: &Ctx<'_>,
    assets: &[&'a Asset],
    since: Timestamp,
    now: Timestamp,
) -> AppResult<Vec<&'a Asset>> {
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let mut out = Vec::new();
    for asset in assets {
        if asset.datasets.is_empty() {
            continue;
        }
        let Some(policy) = ctx.inventory().policy_of(asset) else {
            continue;
        };
        let mine = ctx
            .catalog
            .runs(&RunFilter {
                asset: Some(asset.id.to_string()),
                kind: Some(RunKind::Backup),
                limit: Some(50),
            })
            .await?;
        let mine: Vec<&Run> = mine.iter().collect();
        if decide(ctx, asset, &policy.schedule, &mine, since, now, &tz) {
            out.push(*asset);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: i8, m: i8) -> Timestamp {
        jiff::civil::date(2026, 11, 22)
            .at(h, m, 0, 0)
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn a_missed_window_runs_once_not_once_per_slot() {
        let hourly = Schedule::parse("hourly").unwrap();
        let tz = TimeZone::UTC;
        // Last ran at 01:00; the server was down until 05:30: due once now…
        assert!(is_due(
            &hourly,
            Some(at(1, 0)),
            false,
            at(5, 30),
            at(5, 30),
            &tz,
            0
        ));
        // …and after that run, not again before 06:00.
        assert!(!is_due(
            &hourly,
            Some(at(5, 30)),
            false,
            at(5, 30),
            at(5, 45),
            &tz,
            0
        ));
        assert!(is_due(
            &hourly,
            Some(at(5, 30)),
            false,
            at(5, 30),
            at(6, 0),
            &tz,
            0
        ));
    }

    #[test]
    fn new_assets_wait_for_their_slot_and_interrupted_runs_retry_at_once() {
        let daily = Schedule::parse("daily at 02:00").unwrap();
        let tz = TimeZone::UTC;
        assert!(!is_due(&daily, None, false, at(10, 0), at(11, 0), &tz, 0));
        assert!(is_due(
            &daily,
            Some(at(2, 0)),
            true,
            at(10, 0),
            at(10, 1),
            &tz,
            0
        ));
        assert!(!is_due(
            &Schedule::Manual,
            None,
            false,
            at(0, 0),
            at(23, 0),
            &tz,
            0
        ));
    }

    #[test]
    fn jitter_delays_each_slot_by_the_asset_offset_and_keeps_the_interval() {
        let daily = Schedule::parse("daily at 02:00").unwrap();
        let tz = TimeZone::UTC;
        // Last ran yesterday at its delayed slot, 02:07.
        let yesterday = at(2, 7) - jiff::SignedDuration::from_hours(24);
        let offset = 7 * 60;
        assert!(!is_due(
            &daily,
            Some(yesterday),
            false,
            yesterday,
            at(2, 0),
            &tz,
            offset
        ));
        assert!(!is_due(
            &daily,
            Some(yesterday),
            false,
            yesterday,
            at(2, 6),
            &tz,
            offset
        ));
        assert!(is_due(
            &daily,
            Some(yesterday),
            false,
            yesterday,
            at(2, 7),
            &tz,
            offset
        ));
        // Having run at 02:07 today, it is not due again before tomorrow's 02:07.
        assert!(!is_due(
            &daily,
            Some(at(2, 7)),
            false,
            at(2, 7),
            at(23, 0),
            &tz,
            offset
        ));
    }
}
