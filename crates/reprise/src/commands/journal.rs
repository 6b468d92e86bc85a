//! `reprise journal list|verify|export`.

use reprise_ops::journal;

use super::Session;
use crate::cli::{Global, JournalCommand};
use crate::exit;
use crate::output::{Table, local_time, print_json};

pub async fn run(global: &Global, cmd: JournalCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    match cmd {
        JournalCommand::List { limit, json } => {
            let (entries, _) = journal::check(&ctx).await?;
            let shown = &entries[entries.len().saturating_sub(limit)..];
            if json {
                print_json(&shown)?;
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&["SEQ", "WHEN", "WHO", "WHAT", "SUBJECT", "DETAIL"]);
            for e in shown {
                table.row(vec![
                    e.seq.to_string(),
                    local_time(e.at, &session.tz),
                    e.actor.clone(),
                    e.action.clone(),
                    e.subject.clone(),
                    e.detail.chars().take(100).collect(),
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
        JournalCommand::Verify { json } => {
            let (_, verdict) = journal::check(&ctx).await?;
            if json {
                print_json(&verdict)?;
            } else {
                match (&verdict.first_break, &verdict.head) {
                    (Some(b), _) => println!(
                        "BROKEN at entry {}: {} ({} entries read)",
                        b.seq, b.message, verdict.entries
                    ),
                    (None, Some((seq, hash))) => println!(
                        "intact: {} entries, each sealed and following the previous one; head {seq} {hash}",
                        verdict.entries
                    ),
                    (None, None) => println!("intact: the journal is empty"),
                }
            }
            Ok(if verdict.intact {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
        JournalCommand::Export { dir } => {
            let (files, verdict) = journal::export(&ctx, &dir).await?;
            for f in &files {
                println!("wrote {}", f.display());
            }
            match &verdict.first_break {
                Some(b) => println!("verification: BROKEN at entry {}: {}", b.seq, b.message),
                None => println!("verification: intact ({} entries)", verdict.entries),
            }
            Ok(if verdict.intact {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
    }
}
