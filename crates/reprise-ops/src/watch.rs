//! Watching devices (R000.3): each read compared with the newest restore point; a change
//! (or a first read) is backed up at once with the bytes just read, through `backup`.

use jiff::Timestamp;
use serde::Serialize;

use crate::context::Ctx;
use crate::devices::{Device, all, change_of, failed, record_of, records};
use crate::error::AppResult;

/// What a check of one device found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    pub asset: String,
    pub dataset: String,
    /// `unchanged`, `changed` (a backup was taken), `first` (nothing stored before:
    /// backed up), or `failed`.
    pub result: &'static str,
    pub snapshot: Option<String>,
    pub added: usize,
    pub removed: usize,
    /// The change, secrets masked.
    pub diff: Option<String>,
    pub error: Option<String>,
}

/// Reads `devices` and compares each with its newest restore point: unchanged, only the
/// read is recorded; changed (or never stored), a backup of that data set is taken at
/// once, with the reading itself.
pub async fn check(ctx: &Ctx<'_>, devices: &[Device<'_>]) -> AppResult<Vec<CheckOutcome>> {
    let mut out = Vec::new();
    for d in devices {
        let now = Timestamp::now();
        let mut outcome = CheckOutcome {
            asset: d.asset.id.to_string(),
            dataset: d.set.name.clone(),
            result: "failed",
            snapshot: None,
            added: 0,
            removed: 0,
            diff: None,
            error: None,
        };
        let reading = match d.read(ctx).await {
            Ok(r) => r,
            Err(e) => {
                failed(ctx, d, now, &e.to_string()).await?;
                outcome.error = Some(e.to_string());
                out.push(outcome);
                continue;
            }
        };
        let mut record = record_of(ctx, d).await?;
        if record.fingerprint.as_deref() == Some(reading.fingerprint.as_str()) {
            record.checked = Some(now);
            record.checks += 1;
            record.error = None;
            ctx.catalog.save_device(&record).await?;
            outcome.result = "unchanged";
            outcome.snapshot = record.snapshot.clone();
            out.push(outcome);
            continue;
        }
        let first = record.fingerprint.is_none();
        let change = change_of(&record, &reading);
        let selection = crate::backup::Selection {
            assets: vec![d.asset.id.to_string()],
            datasets: vec![d.set.name.clone()],
            reason: Some(if first {
                "first read of the device".into()
            } else {
                "configuration changed on the device".into()
            }),
            collected: vec![(d.asset.id.to_string(), d.set.name.clone(), reading.raw)],
            ..Default::default()
        };
        let results = crate::backup::run(ctx, &selection).await?;
        let result = results.into_iter().find(|o| o.dataset == d.set.name);
        if let Some(c) = &change {
            outcome.added = c.added;
            outcome.removed = c.removed;
            outcome.diff = Some(c.diff.clone());
        }
        match result {
            Some(o) if o.ok => {
                outcome.result = if first { "first" } else { "changed" };
                outcome.snapshot = o.snapshot;
            }
            failed_backup => {
                let error = failed_backup
                    .and_then(|o| o.error)
                    .unwrap_or_else(|| "the backup did not run".into());
                // The change is known even though it could not be kept: the assessment
                // must know the newest point predates it.
                let mut r = record_of(ctx, d).await?;
                r.checked = Some(now);
                r.checks += 1;
                r.error = Some(format!("changed on the device, and not backed up: {error}"));
                if let Some(c) = &change {
                    r.changed = Some(now);
                    r.change = Some(c.diff.clone());
                }
                ctx.catalog.save_device(&r).await?;
                outcome.error = Some(error);
            }
        }
        out.push(outcome);
    }
    Ok(out)
}

/// The device data sets whose watch is due at `now`: never read, or read longer ago
/// than their `watch`.
pub async fn due<'a>(ctx: &'a Ctx<'_>, now: Timestamp) -> AppResult<Vec<Device<'a>>> {
    let records = records(ctx).await?;
    Ok(all(ctx)
        .into_iter()
        .filter(|d| {
            let Some(every) = d.collect.watch else {
                return false;
            };
            let last = records
                .iter()
                .find(|r| r.asset == d.asset.id.as_str() && r.dataset == d.set.name)
                .and_then(|r| r.checked);
            last.is_none_or(|t| now.duration_since(t).as_secs() >= every.as_secs() as i64)
        })
        .collect())
}
