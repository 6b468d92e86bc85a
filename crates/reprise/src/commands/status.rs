//! `reprise status`.

use jiff::Timestamp;
use reprise_ops::status::{self, RpoStatus};

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::{Table, local_time, print_json};

fn age(seconds: i64) -> String {
    match seconds {
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

pub async fn run(global: &Global, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let statuses = status::run(&ctx, Timestamp::now()).await?;
    if json {
        print_json(&statuses)?;
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&[
        "ASSET",
        "STATE",
        "RPO",
        "LAST VERIFIED",
        "AGE",
        "RPO STATUS",
        "LAST BACKUP",
        "3-2-1",
    ]);
    for s in &statuses {
        let rpo_status = match s.rpo_status {
            RpoStatus::Ok => "ok",
            RpoStatus::AtRisk => "at risk",
            RpoStatus::Breached => "BREACHED",
            RpoStatus::Never => "never verified",
            RpoStatus::NoTarget => "no target",
        };
        let backup = match (s.last_backup, s.last_backup_ok) {
            (Some(at), Some(true)) => local_time(at, &session.tz),
            (Some(at), _) => format!("FAILED {}", local_time(at, &session.tz)),
            _ => "never".into(),
        };
        let rule = format!(
            "{} ({} copies, {} media, {})",
            if s.rule_3_2_1 { "yes" } else { "no" },
            s.copies,
            s.media,
            if s.off_site {
                "off-site"
            } else {
                "no off-site"
            }
        );
        table.row(vec![
            s.asset.clone(),
            match s.state_since {
                Some(t) => format!("{} since {}", s.state, local_time(t, &session.tz)),
                None => s.state.to_string(),
            },
            s.rpo.clone().unwrap_or_else(|| "-".into()),
            s.last_verified
                .map_or("-".into(), |t| local_time(t, &session.tz)),
            s.last_verified_age_seconds.map_or("-".into(), age),
            rpo_status.into(),
            backup,
            rule,
        ]);
    }
    print!("{}", table.render());
    // What the labels claim and the places do not bear out, once per sentence.
    let mut placement: Vec<&String> = statuses.iter().flat_map(|s| &s.placement).collect();
    placement.sort();
    placement.dedup();
    for w in placement {
        println!("3-2-1: {w}");
    }
    let requests = reprise_recovery::request::list(&ctx, false).await?;
    if !requests.is_empty() {
        println!("\nRestore requests in progress:");
        for r in &requests {
            let scope: Vec<String> = r
                .doc
                .items
                .iter()
                .map(|i| format!("{}/{}", i.asset, i.dataset))
                .collect();
            let when = match (r.state, r.doc.request.window) {
                (reprise_recovery::request::State::Scheduled, Some(w)) => format!(
                    " — window {} → {}",
                    local_time(w.from, &session.tz),
                    local_time(w.to, &session.tz)
                ),
                _ => String::new(),
            };
            println!(
                "  #{} {} — {} for {}{when}",
                r.row.id,
                r.state.as_str(),
                scope.join(", "),
                r.doc.request.requester
            );
        }
    }
    Ok(exit::SUCCESS)
}
