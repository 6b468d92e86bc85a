//! `reprise alerts [--all]`.

use jiff::Timestamp;

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::{Table, local_time, print_json};

pub async fn run(global: &Global, all: bool, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let inv = ctx.inventory();
    let probes = reprise_app::repos::probe_all(ctx.workspace(), &inv.repositories).await;
    let changes = reprise_app::supervise::evaluate(&ctx, Timestamp::now(), Some(&probes)).await?;
    let messages = reprise_app::notify::messages(&changes);
    for failure in reprise_app::notify::send(ctx.workspace(), &inv.notifiers, &messages).await {
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
    let mut table = Table::new(&["OPENED", "SEVERITY", "KEY", "MESSAGE", "RESOLVED"]);
    for a in &alerts {
        table.row(vec![
            local_time(a.opened, &session.tz),
            a.severity.clone(),
            a.key.clone(),
            a.message.clone(),
            a.resolved
                .map_or("-".into(), |t| local_time(t, &session.tz)),
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}
