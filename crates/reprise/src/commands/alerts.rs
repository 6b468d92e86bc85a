//! `reprise alerts [--all] [--ack KEY]`.

use jiff::Timestamp;

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::{Table, local_time, print_json};

pub async fn run(
    global: &Global,
    all: bool,
    ack: Option<String>,
    json: bool,
) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    if let Some(key) = ack {
        let me = super::acting_user();
        if !session
            .catalog
            .acknowledge_alert(&key, &me, Timestamp::now())
            .await?
        {
            eprintln!("error: no open alert `{key}` (see `reprise alerts`)");
            return Ok(exit::USAGE);
        }
        println!("Alert `{key}` acknowledged by {me}: it stays open until its cause is gone.");
        return Ok(exit::SUCCESS);
    }
    let inv = ctx.inventory();
    let probes = reprise_ops::repos::probe_all(ctx.workspace(), &inv.repositories).await;
    let changes = reprise_oversight::supervise::evaluate(&ctx, Timestamp::now(), Some(&probes))
        .await?
        .changes;
    let messages = reprise_ops::notify::messages(&changes, inv);
    for failure in reprise_ops::notify::send(
        ctx.workspace(),
        &inv.notifiers,
        ctx.loaded.config.server.public_url.as_deref(),
        &messages,
    )
    .await
    {
        eprintln!("warning: {failure}");
    }
    let alerts = session.catalog.alerts(!all).await?;
    if json {
        print_json(&alerts)?;
        return Ok(exit::SUCCESS);
    }
    if alerts.is_empty() {
        println!("No open alert.");
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&[
        "OPENED",
        "SEVERITY",
        "KEY",
        "MESSAGE",
        "ACKNOWLEDGED",
        "RESOLVED",
    ]);
    for a in &alerts {
        table.row(vec![
            local_time(a.opened, &session.tz),
            a.severity.clone(),
            a.key.clone(),
            // The first line: a device change carries its diff below (`reprise devices diff`).
            a.message.lines().next().unwrap_or("").to_string(),
            a.acknowledged_by.clone().unwrap_or_else(|| "-".into()),
            a.resolved
                .map_or("-".into(), |t| local_time(t, &session.tz)),
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}
