//! `reprise retention plan|apply [ASSET…]`, `reprise retention purge`.

use jiff::Timestamp;
use reprise_ops::retention;

use super::Session;
use crate::cli::{Global, RetentionCommand};
use crate::exit;
use crate::output::{bytes, local_time, print_json};

pub async fn run(global: &Global, cmd: RetentionCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let (plans, json, apply) = match cmd {
        RetentionCommand::Plan { assets, json } => (
            retention::plan(&ctx, &assets, Timestamp::now()).await?,
            json,
            false,
        ),
        RetentionCommand::Apply { assets, json } => (
            retention::plan(&ctx, &assets, Timestamp::now()).await?,
            json,
            true,
        ),
        RetentionCommand::Purge { json } => (
            retention::expired(&ctx, Timestamp::now()).await?,
            json,
            true,
        ),
    };
    let applied = if apply {
        Some(retention::apply(&ctx, &plans).await?)
    } else {
        None
    };
    if json {
        print_json(&serde_json::json!({ "plan": plans, "applied": applied }))?;
        return Ok(exit::SUCCESS);
    }
    for plan in &plans {
        let removed = plan.decisions.iter().filter(|d| !d.keep).count();
        println!(
            "{}/{} in `{}` (policy `{}`): keep {}, remove {removed}",
            plan.asset,
            plan.dataset,
            plan.repository,
            plan.policy,
            plan.decisions.len() - removed
        );
        for d in &plan.decisions {
            println!(
                "  {} {}  {}  {}",
                if d.keep { "keep  " } else { "remove" },
                &d.id[..8],
                local_time(d.time, &session.tz),
                d.reasons.join(", ")
            );
        }
    }
    match applied {
        Some(applied) => {
            for a in &applied {
                println!(
                    "repository `{}`: removed {} restore point(s), freed {}",
                    a.repository,
                    a.removed,
                    bytes(a.bytes_freed)
                );
            }
            if applied.is_empty() {
                println!("Nothing to remove.");
            }
        }
        None => println!("This is a plan: `reprise retention apply` removes what it says."),
    }
    Ok(exit::SUCCESS)
}
