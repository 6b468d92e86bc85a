//! `reprise runs [ASSET] [--kind K] [--limit N]`.

use reprise_catalog::{RunFilter, RunKind, RunStatus};

use super::Session;
use crate::cli::Global;
use crate::exit::{self, UsageError};
use crate::output::{Table, bytes, local_time, print_json};

pub async fn run(
    global: &Global,
    asset: Option<String>,
    kind: Option<String>,
    limit: u32,
    json: bool,
) -> anyhow::Result<u8> {
    let kind = kind
        .map(|k| {
            RunKind::parse(&k).ok_or_else(|| {
                UsageError(format!(
                    "unknown run kind `{k}` (expected one of: backup, restore, verify, retention, copy)"
                ))
            })
        })
        .transpose()?;
    let session = Session::open(global).await?;
    if let Some(id) = &asset {
        reprise_ops::context::find_asset(&session.loaded.config.inventory, id)?;
    }
    let runs = session
        .catalog
        .runs(&RunFilter {
            asset,
            kind,
            limit: Some(limit),
        })
        .await?;
    if json {
        print_json(&runs)?;
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&[
        "STARTED",
        "KIND",
        "ASSET",
        "DATA SET",
        "REPOSITORY",
        "STATUS",
        "DURATION",
        "DATA",
        "ERROR",
    ]);
    for r in &runs {
        let status = match r.status {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "ok",
            RunStatus::Failed => "FAILED",
            RunStatus::Interrupted => "interrupted",
        };
        table.row(vec![
            local_time(r.started, &session.tz),
            r.kind.as_str().into(),
            r.asset.clone().unwrap_or_else(|| "-".into()),
            r.dataset.clone().unwrap_or_else(|| "-".into()),
            r.repository.clone().unwrap_or_else(|| "-".into()),
            status.into(),
            r.duration()
                .map_or("-".into(), |d| format!("{:.1}s", d.as_secs_f64())),
            r.bytes_read.map_or("-".into(), bytes),
            r.error.clone().unwrap_or_default(),
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}
