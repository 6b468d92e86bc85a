//! `reprise export csv|run|list`.

use jiff::Timestamp;
use reprise_catalog::{RunFilter, RunKind};
use reprise_oversight::export::{self, Filter, Kind, Written};

use super::{Session, day_period};
use crate::cli::{ExportCommand, Global};
use crate::exit;
use crate::output::{Table, local_time, or_dash, print_json};

pub async fn run(global: &Global, cmd: ExportCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    match cmd {
        ExportCommand::Csv {
            kinds,
            out,
            site,
            since,
            until,
            kind_type,
            json,
        } => {
            let kinds = if kinds.is_empty() {
                Kind::ALL.to_vec()
            } else {
                let mut parsed = Vec::new();
                for k in &kinds {
                    match Kind::parse(k) {
                        Ok(kind) => parsed.push(kind),
                        Err(e) => {
                            eprintln!("error: {e}");
                            return Ok(exit::USAGE);
                        }
                    }
                }
                parsed
            };
            let (since, until) = day_period(&session.tz, since, until)?;
            let filter = Filter {
                site,
                since,
                until,
                kind_type,
            };
            let written = export::write(&ctx, &kinds, &filter, &out).await?;
            if json {
                print_json(&written)?;
            } else {
                print_written(&written);
            }
            Ok(exit::SUCCESS)
        }
        ExportCommand::Run { id, json } => {
            let done = export::run_configured(&ctx, &id, Timestamp::now()).await?;
            if json {
                print_json(&done)?;
                return Ok(exit::SUCCESS);
            }
            print_written(&done.written);
            match (&done.directory, &done.repository, &done.snapshot) {
                (Some(dir), ..) => println!("Export `{id}` written into {}.", dir.display()),
                (None, Some(repo), Some(snap)) => println!(
                    "Export `{id}` stored in repository `{repo}` as snapshot {} (tag export:{id}).",
                    &snap[..8]
                ),
                _ => println!("Export `{id}` had nothing to store."),
            }
            Ok(exit::SUCCESS)
        }
        ExportCommand::List { json } => {
            let runs = ctx
                .catalog
                .runs(&RunFilter {
                    kind: Some(RunKind::Export),
                    ..RunFilter::default()
                })
                .await?;
            let rows: Vec<serde_json::Value> = ctx
                .loaded
                .config
                .exports
                .iter()
                .map(|e| {
                    let last = runs.iter().find(|r| r.dataset.as_deref() == Some(&e.id));
                    serde_json::json!({
                        "id": e.id,
                        "kinds": e.kinds,
                        "schedule": e.schedule.to_string(),
                        "period": e.period.map(|p| p.to_string()),
                        "site": e.site,
                        "type": e.kind_type,
                        "directory": e.directory,
                        "repository": e.repository,
                        "last_run": last.map(|r| r.started),
                        "last_status": last.map(|r| r.status.as_str()),
                    })
                })
                .collect();
            if json {
                print_json(&rows)?;
                return Ok(exit::SUCCESS);
            }
            if rows.is_empty() {
                println!("No export configured: add an [[export]] to reprise.toml.");
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&["ID", "WHAT", "SCHEDULE", "PERIOD", "INTO", "LAST RUN"]);
            for e in &ctx.loaded.config.exports {
                let last = runs.iter().find(|r| r.dataset.as_deref() == Some(&e.id));
                table.row(vec![
                    e.id.clone(),
                    e.kinds
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                    e.schedule.to_string(),
                    or_dash(e.period),
                    e.directory.clone().unwrap_or_else(|| {
                        format!("repository {}", e.repository.as_deref().unwrap_or("?"))
                    }),
                    last.map_or_else(
                        || "never".to_string(),
                        |r| {
                            format!(
                                "{} ({})",
                                local_time(r.started, &session.tz),
                                r.status.as_str()
                            )
                        },
                    ),
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
    }
}

fn print_written(written: &[Written]) {
    for w in written {
        match (&w.file, &w.empty) {
            (Some(file), _) => println!(
                "{}: {} row(s) → {}",
                w.kind.as_str(),
                w.rows,
                file.display()
            ),
            (None, Some(why)) => println!("{}: nothing exported, {why}", w.kind.as_str()),
            (None, None) => {}
        }
    }
}
