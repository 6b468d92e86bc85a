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
    // A repository left as it was makes the command fail, whatever the others did.
    let code = match &applied {
        Some(a) if !retention::complete(a) => exit::FAILURE,
        _ => exit::SUCCESS,
    };
    if json {
        print_json(&serde_json::json!({ "plan": plans, "applied": applied }))?;
        return Ok(code);
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
                match &a.error {
                    None => {
                        println!(
                            "repository `{}`: removed {} restore point(s), freed {}",
                            a.repository,
                            a.removed,
                            bytes(a.bytes_freed)
                        );
                        if let Some(k) = &a.kept_locked {
                            println!(
                                "  {} pack(s) no longer needed stay, locked until {} at the earliest: a prune after that removes them",
                                k.packs,
                                local_time(k.until, &session.tz)
                            );
                        }
                    }
                    Some(e) => println!(
                        "repository `{}`: FAILED, {} restore point(s) left to remove: {e}",
                        a.repository, a.left
                    ),
                }
            }
            if !retention::complete(&applied) {
                println!(
                    "Not finished: run the same command again once the repositories above answer; it removes what is left."
                );
            }
            if applied.is_empty() {
                println!("Nothing to remove.");
            }
        }
        None => println!("This is a plan: `reprise retention apply` removes what it says."),
    }
    Ok(code)
}
