//! `reprise snapshots [ASSET]`, `reprise snapshots adopt ID`, `reprise snapshots suspect`,
//! `reprise snapshots clear ID`.

use reprise_ops::snapshots::{self, Adoption, Integrity};

use super::Session;
use crate::cli::{Global, SnapshotsCommand};
use crate::exit;
use crate::output::{Table, bytes, local_time, print_json};

pub async fn run(
    global: &Global,
    asset: Option<String>,
    json: bool,
    command: Option<SnapshotsCommand>,
) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    if let Some(SnapshotsCommand::Suspect { asset, json }) = command {
        let list = reprise_ops::suspects::list(&ctx, asset.as_deref()).await?;
        if json {
            print_json(&list)?;
            return Ok(exit::SUCCESS);
        }
        let mut table = Table::new(&["BACKUP OF", "ASSET", "DATA SET", "ID", "WHY", "CLEARED"]);
        for s in &list {
            table.row(vec![
                local_time(s.time, &session.tz),
                s.asset.clone(),
                s.dataset.clone(),
                reprise_workspace::text::short(&s.snapshot).to_string(),
                s.reasons.clone(),
                match (s.cleared, &s.cleared_by, &s.clearance) {
                    (Some(at), by, why) => format!(
                        "{} by {}: {}",
                        local_time(at, &session.tz),
                        by.as_deref().unwrap_or("someone"),
                        why.as_deref().unwrap_or("")
                    ),
                    _ => "NO: it and later points are not trusted".into(),
                },
            ]);
        }
        print!("{}", table.render());
        if list.is_empty() {
            println!("No backup ever looked like an attack.");
        }
        return Ok(exit::SUCCESS);
    }
    if let Some(SnapshotsCommand::Clear { snapshot, reason }) = command {
        let s =
            reprise_ops::suspects::clear(&ctx, &snapshot, &reason, &super::acting_user()).await?;
        println!(
            "The backup of {} of {}/{} is trusted again, and the points after it (journaled).",
            local_time(s.time, &session.tz),
            s.asset,
            s.dataset
        );
        return Ok(exit::SUCCESS);
    }
    if let Some(SnapshotsCommand::Adopt {
        snapshot,
        asset,
        dataset,
        reason,
    }) = command
    {
        let adoption = Adoption {
            snapshot,
            asset,
            dataset,
            reason,
        };
        let (repository, id) = snapshots::adopt(&ctx, &adoption, &super::acting_user()).await?;
        println!(
            "Snapshot {} of repository `{repository}` is now a restore point of {}/{} (journaled).",
            reprise_workspace::text::short(&id),
            adoption.asset,
            adoption.dataset
        );
        return Ok(exit::SUCCESS);
    }
    let (points, unreachable) = snapshots::list(&ctx, asset.as_deref()).await?;
    for problem in &unreachable {
        eprintln!("warning: repository {problem}");
    }
    if json {
        print_json(&points)?;
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&[
        "TIME",
        "ASSET",
        "DATA SET",
        "ID",
        "FILES",
        "SIZE",
        "COPIES",
        "INTEGRITY",
    ]);
    for p in &points {
        let integrity = match &p.integrity {
            _ if p.foreign => "FOREIGN: not made by Reprise, never used".to_string(),
            _ if p.suspect.is_some() => {
                format!("SUSPECT: {}", p.suspect.as_deref().unwrap_or_default())
            }
            Integrity::Unverified => "unverified".to_string(),
            Integrity::Verified { at } => format!("verified {}", local_time(*at, &session.tz)),
            Integrity::Failed { at, .. } => format!("FAILED {}", local_time(*at, &session.tz)),
        };
        let repos: Vec<&str> = p.copies.iter().map(|c| c.repository.as_str()).collect();
        table.row(vec![
            local_time(p.time, &session.tz),
            p.asset.clone(),
            p.dataset.clone(),
            p.copies[0].snapshot[..8].to_string(),
            p.files.map_or("-".into(), |f| f.to_string()),
            p.bytes.map_or("-".into(), bytes),
            repos.join(", "),
            integrity,
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}
