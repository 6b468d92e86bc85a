//! `reprise backup [ASSET…] [--all] [--site S]`.

use reprise_ops::backup::{self, Selection};

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::{bytes, print_json};

pub async fn run(global: &Global, selection: Selection, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let outcomes = backup::run(&ctx, &selection).await?;
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    if json {
        print_json(&outcomes)?;
    } else {
        for o in &outcomes {
            if o.ok {
                let copies = if o.copied_to.is_empty() {
                    String::new()
                } else {
                    format!(", copied to {}", o.copied_to.join(", "))
                };
                println!(
                    "ok      {}/{} → {} {}: {} files, {} read, {} added in {:.1}s{copies}",
                    o.asset,
                    o.dataset,
                    o.repository,
                    o.snapshot
                        .as_deref()
                        .map_or("", |s| reprise_workspace::text::short(s)),
                    o.files.unwrap_or(0),
                    bytes(o.bytes.unwrap_or(0)),
                    bytes(o.bytes_added.unwrap_or(0)),
                    o.seconds
                );
                if !o.suspect.is_empty() {
                    println!(
                        "SUSPECT {}/{}: this backup looks like an attack: {}",
                        o.asset,
                        o.dataset,
                        o.suspect.join("; ")
                    );
                    println!(
                        "        it and every later point are not trusted until cleared: `reprise snapshots suspect {}`",
                        o.asset
                    );
                }
            } else {
                println!(
                    "FAILED  {}/{} → {}: {}",
                    o.asset,
                    o.dataset,
                    o.repository,
                    o.error.as_deref().unwrap_or("unknown error")
                );
            }
        }
        println!(
            "{} data set(s) backed up, {failed} failed",
            outcomes.len() - failed
        );
    }
    let suspect = outcomes.iter().any(|o| !o.suspect.is_empty());
    Ok(if failed > 0 {
        exit::FAILURE
    } else if suspect {
        exit::ATTENTION
    } else {
        exit::SUCCESS
    })
}
