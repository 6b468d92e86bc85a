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
        JournalCommand::Verify { against, json } => {
            let (_, verdict) = journal::check_against(&ctx, &against).await?;
            if json {
                print_json(&verdict)?;
            } else {
                print_verdict(&verdict);
            }
            Ok(if verdict.intact {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
        JournalCommand::Seal {
            reason,
            accept_changes,
            json,
        } => {
            let sealed = journal::seal_as_is(&ctx, &reason, accept_changes).await?;
            if json {
                print_json(&sealed)?;
                return Ok(exit::SUCCESS);
            }
            for r in &sealed.records {
                println!("sealed {r}");
            }
            if let Some((seq, _)) = &sealed.head {
                println!(
                    "{} record(s) sealed; the head file witnesses entry {seq}",
                    sealed.records.len()
                );
            }
            let (_, verdict) = journal::check(&ctx).await?;
            if !verdict.intact {
                print_verdict(&verdict);
                return Ok(exit::FAILURE);
            }
            Ok(exit::SUCCESS)
        }
        JournalCommand::Export { dir } => {
            let (files, verdict) = journal::export(&ctx, &dir).await?;
            for f in &files {
                println!("wrote {}", f.display());
            }
            match verdict.first_problem() {
                Some(p) => println!("verification: BROKEN: {p}"),
                None => println!(
                    "verification: intact ({} entries, {} sealed records)",
                    verdict.entries, verdict.records
                ),
            }
            Ok(if verdict.intact {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
    }
}

fn print_verdict(verdict: &journal::Verdict) {
    match (&verdict.first_break, &verdict.head) {
        (Some(b), _) => println!(
            "BROKEN at entry {}: {} ({} entries read)",
            b.seq, b.message, verdict.entries
        ),
        (None, Some((seq, hash))) => println!(
            "chain intact: {} entries, each sealed and following the previous one; head {seq} {hash}",
            verdict.entries
        ),
        (None, None) => println!("chain intact: the journal is empty"),
    }
    for w in &verdict.witnesses {
        println!("BROKEN: {w}");
    }
    for p in &verdict.record_problems {
        println!("BROKEN: {}", p.message);
    }
    if verdict.intact {
        println!(
            "intact: {} records sealed by the journal match the catalog",
            verdict.records
        );
    }
}
