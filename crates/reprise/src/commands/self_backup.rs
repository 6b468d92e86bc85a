//! `reprise self-backup`: Reprise's catalog and configuration into every repository.

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::{Table, print_json};

pub async fn run(global: &Global, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let outcomes = reprise_ops::selfbackup::run(&session.ctx()).await?;
    let failed = outcomes.iter().any(|o| !o.ok);
    if json {
        print_json(&outcomes)?;
    } else {
        let mut table = Table::new(&["REPOSITORY", "RESULT", "SNAPSHOT", "ADDED"]);
        for o in &outcomes {
            table.row(vec![
                o.repository.clone(),
                match &o.error {
                    None => "ok".into(),
                    Some(e) => format!("failed: {e}"),
                },
                o.snapshot.as_deref().map_or("-".into(), |s| {
                    reprise_workspace::text::short(s).to_string()
                }),
                o.bytes_added.map_or("-".into(), |b| format!("{b} B")),
            ]);
        }
        print!("{}", table.render());
        if !failed {
            println!(
                "\nOn a new machine, `reprise init --from-repository LOCATION --password-file KEY` rebuilds this workspace."
            );
        }
    }
    Ok(if failed { exit::FAILURE } else { exit::SUCCESS })
}
