//! `reprise restore ASSET --target DIR [--at TIME | --snapshot ID] [--path P]`.

use std::path::PathBuf;

use jiff::Timestamp;
use reprise_ops::restore::{self, RestoreOptions};

use super::Session;
use crate::cli::Global;
use crate::exit::{self, UsageError};
use crate::output::{bytes, local_time, print_json};

pub struct Args {
    pub asset: String,
    pub dataset: Option<String>,
    pub at: Option<String>,
    pub snapshot: Option<String>,
    pub path: Option<String>,
    pub target: PathBuf,
    pub overwrite: bool,
    pub verify: bool,
    pub override_reason: Option<String>,
    /// `host` or `server`, for an asset whose data lives on another host.
    pub on: Option<String>,
    pub deadline: Option<String>,
}

/// Reads `2026-11-20`, `2026-11-20 14:00` (in the workspace's zone) or RFC 3339.
pub fn parse_time(text: &str, tz: &jiff::tz::TimeZone) -> anyhow::Result<Timestamp> {
    reprise_workspace::dates::parse_time(text, tz).ok_or_else(|| {
        UsageError(format!(
            "`{text}` is not a time (write 2026-11-20, 2026-11-20 14:00 or 2026-11-20T14:00:00Z)"
        ))
        .into()
    })
}

pub async fn run(global: &Global, args: Args, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let at = args
        .at
        .as_deref()
        .map(|t| parse_time(t, &session.tz))
        .transpose()?;
    let ctx = session.ctx();
    let on_host = ctx.asset(&args.asset)?.host().map(str::to_string);
    let opts = RestoreOptions {
        asset: args.asset,
        dataset: args.dataset,
        at,
        snapshot: args.snapshot,
        path: args.path,
        target: args.target,
        overwrite: args.overwrite,
        verify: args.verify,
        on_server: true,
        host_check: None,
        scratch: false,
        guard: reprise_ops::target::Guard {
            override_reason: args.override_reason,
            ..reprise_ops::target::Guard::admin()
        },
    };
    if let Some(host) = on_host.filter(|_| args.on.as_deref() != Some("server")) {
        return on_host_restore(&session, &host, opts, args.deadline.as_deref(), json).await;
    }
    let restored = restore::run(&ctx, &opts).await?;
    if json {
        print_json(&restored)?;
        return Ok(exit::SUCCESS);
    }
    for r in &restored {
        let integrity = match r.verified_before {
            Some(at) => format!("last verified {}", local_time(at, &session.tz)),
            None => "never verified before".to_string(),
        };
        println!(
            "{}/{}: restore point {} of {} from `{}` ({integrity}{})",
            r.asset,
            r.dataset,
            &r.snapshot[..8],
            local_time(r.time, &session.tz),
            r.repository,
            if args.verify {
                ", data verified before writing"
            } else {
                ""
            }
        );
        if r.foreign {
            eprintln!(
                "warning: snapshot {} was not made by Reprise (foreign): restored only because you named it; this is journaled",
                &r.snapshot[..8]
            );
        }
        for note in &r.unavailable {
            println!("note: skipped {note}");
        }
        if r.erasures > 0 {
            match r.withheld.len() {
                0 => println!(
                    "erasure ledger: {} erasure(s) of this asset honoured; nothing erased was in this restore point",
                    r.erasures
                ),
                n => println!(
                    "erasure ledger: {n} erased path(s) still in this restore point were not restored ({} erasure(s) honoured)",
                    r.erasures
                ),
            }
        }
        if let Some(change) = r.predates_change {
            println!(
                "warning: this restore point predates the asset's configuration change of {}: redo the changes made since",
                local_time(change, &session.tz)
            );
        }
        println!(
            "  restored {} files ({}) into {} in {:.1}s",
            r.files,
            bytes(r.bytes),
            r.target.display(),
            r.seconds
        );
        // A device's configuration: how it goes back on the device.
        if let Ok(d) = reprise_ops::devices::find(&ctx, &r.asset, Some(&r.dataset)) {
            let file = r.target.join(reprise_ops::devices::file_name(&d));
            let steps = reprise_domain::device::push_steps(
                &d.model,
                d.collect,
                &file.display().to_string(),
            );
            if !steps.is_empty() {
                println!("  to load it back on {}:", d.collect.address);
                for (i, s) in steps.iter().enumerate() {
                    println!("    {}. {s}", i + 1);
                }
            }
            if d.model.apply.is_some() {
                println!(
                    "  or push it: reprise devices push {} --dataset {} --target DIR --apply",
                    r.asset, r.dataset
                );
            }
        }
    }
    Ok(exit::SUCCESS)
}

/// An asset whose data lives on another host: its agent restores it there, into the
/// target on that host; this waits for the agent's report.
async fn on_host_restore(
    session: &Session,
    host: &str,
    opts: RestoreOptions,
    deadline: Option<&str>,
    json: bool,
) -> anyhow::Result<u8> {
    let ctx = session.ctx();
    let limit = match deadline {
        Some(text) => reprise_domain::Interval::parse(text)
            .map_err(|e| UsageError(format!("--deadline: {e}")))?,
        None => reprise_agents::fleet::RESTORE_DEADLINE,
    };
    if !opts.verify {
        return Err(UsageError(
            "an agent always verifies the data it restores: leave out --no-verify, or restore `--on server`".into(),
        )
        .into());
    }
    let now = Timestamp::now();
    let deadline = now + jiff::SignedDuration::from_secs(limit.as_secs() as i64);
    let opts = RestoreOptions {
        on_server: false,
        guard: reprise_ops::target::Guard::admin(),
        ..opts
    };
    let jobs = reprise_agents::fleet::restore_on_host(&ctx, &opts, deadline, now).await?;
    if !json {
        eprintln!(
            "Restore of {} queued for the agent of host `{host}` (job {}); waiting until {} at the latest…",
            opts.asset,
            jobs.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            local_time(deadline, &session.tz)
        );
    }
    let mut done = Vec::new();
    for id in jobs {
        done.push(super::agent::wait(session, id).await?);
    }
    let mut code = exit::SUCCESS;
    if json {
        print_json(&done)?;
        if done
            .iter()
            .any(|j| j.state != reprise_catalog::JobState::Succeeded)
        {
            code = exit::FAILURE;
        }
        return Ok(code);
    }
    for job in &done {
        code = code.max(super::agent::finish(job, false)?);
    }
    Ok(code)
}
