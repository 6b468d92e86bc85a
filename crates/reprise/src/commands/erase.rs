//! `reprise erase plan|run|cancel|list|show`.

use reprise_ops::erase::{self, ErasureView};

use super::{Session, acting_user};
use crate::cli::{EraseCommand, Global};
use crate::exit;
use crate::output::{Table, bytes, local_time, print_json};

pub async fn run(global: &Global, cmd: EraseCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let tz = &session.tz;
    let me = acting_user();
    match cmd {
        EraseCommand::Plan {
            asset,
            paths,
            reason,
            json,
        } => {
            let view = erase::plan(&ctx, &asset, &paths, &reason, &me).await?;
            if json {
                print_json(&view)?;
                return Ok(exit::SUCCESS);
            }
            print_view(&view, tz);
            println!(
                "Nothing is erased yet: `reprise erase run {id}` erases it, `reprise erase cancel {id}` drops the plan.",
                id = view.id
            );
        }
        EraseCommand::Run { id, json } => {
            let view = erase::execute(&ctx, id, &me).await?;
            if json {
                print_json(&view)?;
                return Ok(exit::SUCCESS);
            }
            let rewritten: usize = view.doc.result.iter().map(|r| r.rewritten.len()).sum();
            let freed: u64 = view.doc.result.iter().map(|r| r.bytes_freed).sum();
            let repos: Vec<&str> = view
                .doc
                .result
                .iter()
                .map(|r| r.repository.as_str())
                .collect();
            println!(
                "Erasure {id} executed: {rewritten} restore point(s) rewritten without the erased paths{}; {} freed.",
                if repos.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", repos.join(", "))
                },
                bytes(freed)
            );
            println!(
                "The proof is in the journal (erasure.executed); restores of `{}` never bring these paths back. `reprise erase show {id}` prints it.",
                view.asset
            );
        }
        EraseCommand::Cancel { id } => {
            erase::cancel(&ctx, id, &me).await?;
            println!("Erasure {id} cancelled: nothing was erased.");
        }
        EraseCommand::List { asset, json } => {
            let views = erase::list(&ctx, asset.as_deref()).await?;
            if json {
                print_json(&views)?;
                return Ok(exit::SUCCESS);
            }
            if views.is_empty() {
                println!("No erasure yet.");
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&[
                "ID", "ASSET", "STATE", "PLANNED", "FINISHED", "PATHS", "POINTS", "REASON",
            ]);
            for v in &views {
                table.row(vec![
                    v.id.to_string(),
                    v.asset.clone(),
                    v.state.clone(),
                    local_time(v.created, tz),
                    v.finished.map_or_else(|| "-".into(), |t| local_time(t, tz)),
                    v.doc.paths.len().to_string(),
                    v.doc.plan.len().to_string(),
                    v.doc.reason.clone(),
                ]);
            }
            print!("{}", table.render());
        }
        EraseCommand::Show { id, json } => {
            let view = erase::show(&ctx, id).await?;
            if json {
                print_json(&view)?;
                return Ok(exit::SUCCESS);
            }
            print_view(&view, tz);
            for r in &view.doc.result {
                println!(
                    "  `{}`: {} restore point(s) rewritten, {} freed",
                    r.repository,
                    r.rewritten.len(),
                    bytes(r.bytes_freed)
                );
                for (old, new) in &r.rewritten {
                    println!("    {} → {}", &old[..8], &new[..8]);
                }
            }
        }
    }
    Ok(exit::SUCCESS)
}

fn print_view(view: &ErasureView, tz: &jiff::tz::TimeZone) {
    let doc = &view.doc;
    println!(
        "Erasure {} of asset `{}`: {}",
        view.id, view.asset, view.state
    );
    println!(
        "Planned {} by {}",
        local_time(view.created, tz),
        doc.requested_by
    );
    if let (Some(by), Some(at)) = (&doc.executed_by, view.finished) {
        let mut state = view.state.clone();
        state[..1].make_ascii_uppercase();
        println!("{state} {} by {by}", local_time(at, tz));
    }
    println!("Reason: {}", doc.reason);
    println!("Paths:");
    for p in &doc.paths {
        println!("  {p}");
    }
    let repos: std::collections::BTreeSet<&str> =
        doc.plan.iter().map(|h| h.repository.as_str()).collect();
    println!(
        "Found in {} restore point(s) in {} repositor{}: {} file(s), {}",
        doc.plan.len(),
        repos.len(),
        if repos.len() == 1 { "y" } else { "ies" },
        view.files(),
        bytes(view.bytes())
    );
    if !doc.plan.is_empty() {
        let mut table = Table::new(&[
            "  REPOSITORY",
            "POINT",
            "TAKEN",
            "DATA SET",
            "FILES",
            "SIZE",
        ]);
        for h in &doc.plan {
            table.row(vec![
                format!("  {}", h.repository),
                h.snapshot[..8].to_string(),
                local_time(h.time, tz),
                h.dataset.clone(),
                h.files.to_string(),
                bytes(h.bytes),
            ]);
        }
        print!("{}", table.render());
    }
    for u in &doc.unreachable {
        println!("warning: repository {u}: its restore points could not be searched");
    }
    for p in &doc.still_in_source {
        println!(
            "warning: {p} is still in the live data: delete it there too, or the next backup takes it again"
        );
    }
    if let Some(e) = &doc.error {
        println!("error: {e}");
    }
}
