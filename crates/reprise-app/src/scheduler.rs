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
/// waits for its first slot instead of running at once.
pub fn is_due(
    schedule: &Schedule,
    last: Option<Timestamp>,
    interrupted: bool,
    since: Timestamp,
    now: Timestamp,
    tz: &TimeZone,
) -> bool {
    if interrupted {
        return true;
    }
    let base = last.unwrap_or(since).to_zoned(tz.clone()).datetime();
    match schedule.next_after(base) {
        Some(next) => next
            .to_zoned(tz.clone())
            .map(|z| z.timestamp() <= now)
            .unwrap_or(false),
        None => false,
    }
}

/// Assets due for a backup at `now`, in inventory order.
pub async fn due<'a>(
    ctx: &'a Ctx<'_>,
    since: Timestamp,
    now: Timestamp,
) -> AppResult<Vec<&'a Asset>> {
    let tz = crate::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let runs: Vec<Run> = ctx
        .catalog
        .runs(&RunFilter {
            kind: Some(RunKind::Backup),
            ..RunFilter::default()
        })
        .await?;
    let mut out = Vec::new();
    for asset in &ctx.inventory().assets {
        if asset.datasets.is_empty() {
            continue;
        }
        let Some(policy) = ctx.inventory().policy_of(asset) else {
            continue;
        };
        let mine: Vec<&Run> = runs
            .iter()
            .filter(|r| r.asset.as_deref() == Some(asset.id.as_str()))
            .collect();
        if mine.iter().any(|r| r.status == RunStatus::Running) {
            continue;
        }
        // Newest first: the latest attempt decides.
        let interrupted = mine
            .first()
            .is_some_and(|r| r.status == RunStatus::Interrupted);
        let last = mine
            .iter()
            .find(|r| r.status != RunStatus::Interrupted)
            .map(|r| r.started);
        if is_due(&policy.schedule, last, interrupted, since, now, &tz) {
            out.push(asset);
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
            &tz
        ));
        // …and after that run, not again before 06:00.
        assert!(!is_due(
            &hourly,
            Some(at(5, 30)),
            false,
            at(5, 30),
            at(5, 45),
            &tz
        ));
        assert!(is_due(
            &hourly,
            Some(at(5, 30)),
            false,
            at(5, 30),
            at(6, 0),
            &tz
        ));
    }

    #[test]
    fn new_assets_wait_for_their_slot_and_interrupted_runs_retry_at_once() {
        let daily = Schedule::parse("daily at 02:00").unwrap();
        let tz = TimeZone::UTC;
        assert!(!is_due(&daily, None, false, at(10, 0), at(11, 0), &tz));
        assert!(is_due(
            &daily,
            Some(at(2, 0)),
            true,
            at(10, 0),
            at(10, 1),
            &tz
        ));
        assert!(!is_due(
            &Schedule::Manual,
            None,
            false,
            at(0, 0),
            at(23, 0),
            &tz
        ));
    }
}
