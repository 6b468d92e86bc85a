//! `reprise devices [check|diff|trust|push]`: equipment whose configuration is collected.

use jiff::Timestamp;
use reprise_ops::restore::{self, RestoreOptions};
use reprise_ops::{devices, watch};

use super::Session;
use crate::cli::{DevicesCommand, Global};
use crate::exit;
use crate::output::{Table, local_time, or_dash, print_json, term};

pub async fn run(
    global: &Global,
    json: bool,
    command: Option<DevicesCommand>,
) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    match command {
        None => list(&session, json).await,
        Some(DevicesCommand::Check {
            assets,
            dataset,
            json,
        }) => {
            let chosen: Vec<devices::Device<'_>> = if assets.is_empty() {
                devices::all(&ctx)
            } else {
                let mut out = Vec::new();
                for a in &assets {
                    if dataset.is_some() {
                        out.push(devices::find(&ctx, a, dataset.as_deref())?);
                    } else {
                        ctx.asset(a)?;
                        let mine: Vec<_> = devices::all(&ctx)
                            .into_iter()
                            .filter(|d| d.asset.id.as_str() == a)
                            .collect();
                        if mine.is_empty() {
                            devices::find(&ctx, a, None)?;
                        }
                        out.extend(mine);
                    }
                }
                out
            };
            if chosen.is_empty() {
                println!(
                    "No device: collect a data set with `collect = {{ model = \"vyos\", address = \"…\" }}`."
                );
                return Ok(exit::SUCCESS);
            }
            let outcomes = watch::check(&ctx, &chosen).await?;
            // Alerts for what was seen (a change and its diff, a device that does not
            // answer) go out now, as the server would send them.
            let inv = ctx.inventory();
            let changes = reprise_oversight::supervise::evaluate(&ctx, Timestamp::now(), None)
                .await?
                .changes;
            let messages = reprise_ops::notify::messages(&changes, inv);
            for failure in reprise_ops::notify::send(
                ctx.workspace(),
                &inv.notifiers,
                ctx.loaded.config.server.public_url.as_deref(),
                &messages,
            )
            .await
            {
                eprintln!("warning: {failure}");
            }
            let failed = outcomes.iter().any(|o| o.result == "failed");
            if json {
                print_json(&outcomes)?;
            } else {
                for o in &outcomes {
                    let what = match o.result {
                        "unchanged" => {
                            "unchanged: nothing stored, the read is recorded".to_string()
                        }
                        "first" => format!(
                            "first read: backed up as {}",
                            o.snapshot
                                .as_deref()
                                .map_or("-", reprise_workspace::text::short)
                        ),
                        "changed" => format!(
                            "CHANGED (+{} −{} lines): backed up as {}",
                            o.added,
                            o.removed,
                            o.snapshot
                                .as_deref()
                                .map_or("-", reprise_workspace::text::short)
                        ),
                        _ => format!("FAILED: {}", o.error.as_deref().unwrap_or("")),
                    };
                    println!("{}/{}: {}", o.asset, o.dataset, term(&what));
                    if let Some(diff) = &o.diff {
                        for line in diff.lines() {
                            println!("    {}", term(line));
                        }
                    }
                }
            }
            Ok(if failed { exit::FAILURE } else { exit::SUCCESS })
        }
        Some(DevicesCommand::Diff { asset, dataset }) => {
            let d = devices::find(&ctx, &asset, dataset.as_deref())?;
            let record = devices::records(&ctx)
                .await?
                .into_iter()
                .find(|r| r.asset == asset && r.dataset == d.set.name);
            match record.and_then(|r| r.change.zip(r.changed)) {
                Some((diff, at)) => {
                    println!(
                        "{}/{}: changed on the device, seen {} (secrets masked):",
                        asset,
                        d.set.name,
                        local_time(at, &session.tz)
                    );
                    print!("{}", term(&diff));
                }
                None => println!(
                    "{}/{}: no change seen since it was first read.",
                    asset, d.set.name
                ),
            }
            Ok(exit::SUCCESS)
        }
        Some(DevicesCommand::Trust {
            asset,
            dataset,
            fingerprint,
        }) => {
            let d = devices::find(&ctx, &asset, dataset.as_deref())?;
            let (prints, trusted) = devices::trust(&ctx, &d, fingerprint.as_deref()).await?;
            if trusted {
                println!(
                    "{} trusted for {asset}: {}",
                    d.collect.address,
                    fingerprint.unwrap_or_default()
                );
                return Ok(exit::SUCCESS);
            }
            println!("{} offers these host keys:", d.collect.address);
            for p in &prints {
                println!("  {p}");
            }
            println!(
                "Check one against the device itself (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there), then run:\n  reprise devices trust {asset} --fingerprint SHA256:…"
            );
            Ok(exit::FAILURE)
        }
        Some(DevicesCommand::Push {
            asset,
            dataset,
            snapshot,
            target,
            apply,
        }) => {
            let d = devices::find(&ctx, &asset, dataset.as_deref())?;
            let restored = restore::run(
                &ctx,
                &RestoreOptions {
                    asset: asset.clone(),
                    dataset: Some(d.set.name.clone()),
                    at: None,
                    snapshot,
                    path: None,
                    target: target.clone(),
                    overwrite: true,
                    verify: true,
                    on_server: false,
                    host_check: None,
                    scratch: false,
                    guard: reprise_ops::target::Guard::admin(),
                },
            )
            .await?;
            let Some(r) = restored.first() else {
                anyhow::bail!("nothing was restored");
            };
            let file = r.target.join(devices::file_name(&d));
            println!(
                "{}/{}: configuration of restore point {} ({}) written to {}",
                asset,
                d.set.name,
                reprise_workspace::text::short(&r.snapshot),
                local_time(r.time, &session.tz),
                file.display()
            );
            let steps = reprise_domain::device::push_steps(
                &d.model,
                d.collect,
                &file.display().to_string(),
            );
            if !steps.is_empty() {
                println!("To load it back on the device:");
                for (i, s) in steps.iter().enumerate() {
                    println!("  {}. {}", i + 1, term(s));
                }
            }
            if !apply {
                if d.model.apply.is_some() {
                    println!("Nothing was sent to the device; add --apply to push it now.");
                }
                return Ok(exit::SUCCESS);
            }
            let outcome = devices::push(&ctx, &d, &file, &r.snapshot).await;
            match outcome {
                Ok(output) => {
                    println!("Pushed to {}; the device answered:", d.collect.address);
                    for line in output.lines() {
                        println!("  {}", term(line));
                    }
                    Ok(exit::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: the push to {} failed: {e}", d.collect.address);
                    Ok(exit::FAILURE)
                }
            }
        }
    }
}

async fn list(session: &Session, json: bool) -> anyhow::Result<u8> {
    let ctx = session.ctx();
    let views = reprise_oversight::devices::list(&ctx).await?;
    if json {
        print_json(&views)?;
        return Ok(exit::SUCCESS);
    }
    if views.is_empty() {
        println!(
            "No device: collect a data set with `collect = {{ model = \"vyos\", address = \"…\" }}`."
        );
        return Ok(exit::SUCCESS);
    }
    let tz = &session.tz;
    let mut table = Table::new(&[
        "ASSET",
        "DATA SET",
        "MODEL",
        "ADDRESS",
        "WATCH",
        "LAST READ",
        "LAST CHANGE",
        "LAST BACKUP",
        "STATUS",
    ]);
    for v in &views {
        table.row(vec![
            v.asset.clone(),
            v.dataset.clone(),
            v.model.clone(),
            v.address.clone(),
            or_dash(v.watch.as_ref()),
            v.checked.map_or("-".into(), |t| local_time(t, tz)),
            v.changed.map_or("-".into(), |t| local_time(t, tz)),
            v.backed_up.map_or("-".into(), |t| local_time(t, tz)),
            match &v.error {
                Some(e) => format!("FAILING: {e}"),
                None => v.status.to_string(),
            },
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}
