//! `reprise drill run|history|report`.

use reprise_recovery::drill::{self, DrillOptions};

use super::Session;
use crate::cli::{DrillCommand, Global, Lang};
use crate::exit;
use crate::output::{Table, local_time, print_json};

pub async fn run(global: &Global, cmd: DrillCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let tz = &session.tz;
    match cmd {
        DrillCommand::Run {
            assets,
            random,
            scenario,
            json,
        } => {
            let by = super::acting_user();
            let outcomes = drill::run(
                &ctx,
                &DrillOptions {
                    assets,
                    random,
                    scenario,
                },
                &by,
            )
            .await?;
            let failed = outcomes.iter().any(|o| !o.ok);
            if json {
                print_json(&outcomes)?;
            } else {
                for o in &outcomes {
                    print_outcome(o);
                }
                println!(
                    "{} drill(s), {} failed; sandboxes removed.",
                    outcomes.len(),
                    outcomes.iter().filter(|o| !o.ok).count()
                );
            }
            Ok(if failed { exit::FAILURE } else { exit::SUCCESS })
        }
        DrillCommand::History { asset, json } => {
            let drills = drill::history(&ctx, asset.as_deref()).await?;
            if json {
                print_json(&drills)?;
                return Ok(exit::SUCCESS);
            }
            if drills.is_empty() {
                println!("No drill yet: `reprise drill run` restores into a sandbox and verifies.");
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&[
                "WHEN",
                "ASSET/DATA SET",
                "RESULT",
                "RTO MEASURED",
                "RPO MEASURED",
                "BY",
            ]);
            for d in &drills {
                let (rto, rpo, by) = match &d.record {
                    Some(r) => (
                        format!("{:.1}s", r.measured_rto_seconds),
                        reprise_workspace::text::human(r.measured_rpo_seconds.max(0) as u64),
                        r.by.clone(),
                    ),
                    None => ("-".into(), "-".into(), "-".into()),
                };
                table.row(vec![
                    local_time(d.started, tz),
                    format!("{}/{}", d.asset, d.dataset),
                    if d.ok {
                        "passed".into()
                    } else {
                        "FAILED".into()
                    },
                    rto,
                    rpo,
                    by,
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
        DrillCommand::Report {
            asset,
            since,
            until,
            lang,
            out,
            html,
            pdf,
        } => {
            let fr = lang == Lang::Fr;
            let (from, to) = super::day_period(tz, since, until)?;
            let drills: Vec<_> = drill::history(&ctx, asset.as_deref())
                .await?
                .into_iter()
                .filter(|d| from.is_none_or(|f| d.started >= f) && to.is_none_or(|t| d.started < t))
                .collect();
            let mut title = ctx
                .loaded
                .config
                .name
                .clone()
                .unwrap_or_else(|| "Reprise".into());
            if since.is_some() || until.is_some() {
                let show =
                    |d: Option<jiff::civil::Date>| d.map_or("…".to_string(), |d| d.to_string());
                title.push_str(&format!(" — {} → {}", show(since), show(until)));
            }
            let text = drill::report_text(&drills, fr, tz, &title);
            if let Some(path) = &pdf {
                std::fs::write(path, drill::report_pdf(&ctx, &drills, fr, tz, &title)?)?;
            }
            if pdf.is_none() || out.is_some() || html.is_some() {
                crate::output::write_report(&text, fr, out.as_deref(), html.as_deref(), None)?;
            }
            Ok(exit::SUCCESS)
        }
    }
}

/// One drill's result on one line, and its failed checks below it.
fn print_outcome(o: &drill::DrillOutcome) {
    let head = if o.ok { "PASSED" } else { "FAILED" };
    match &o.record {
        Some(r) => {
            let rto = match r.rto_seconds {
                Some(t) if r.measured_rto_seconds <= t as f64 => {
                    format!("within its RTO of {}", reprise_workspace::text::human(t))
                }
                Some(t) => {
                    format!("OVER its RTO of {}", reprise_workspace::text::human(t))
                }
                None => "no RTO set".into(),
            };
            println!(
                "{head}  {}/{}: restored in {:.1}s, verified in {:.1}s — measured RTO {:.1}s, {rto}; the point was {} old",
                o.asset,
                o.dataset,
                r.restore_seconds,
                r.verify_seconds,
                r.measured_rto_seconds,
                reprise_workspace::text::human(r.measured_rpo_seconds.max(0) as u64)
            );
            for c in r.checks.iter().filter(|c| !c.ok) {
                println!("        {}: {}", c.name, c.detail);
            }
        }
        None => println!(
            "{head}  {}/{}: {}",
            o.asset,
            o.dataset,
            o.error.as_deref().unwrap_or("")
        ),
    }
}
