//! `reprise agent invite|enroll|run|list|jobs|backup|revoke`: the server's side (a
//! workspace) and the host's side (an agent's home, no workspace).

use std::io::BufRead as _;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use reprise_agents::{fleet as agents, host as agent_host};
use reprise_catalog::{AgentJob, JobState};

use super::Session;
use crate::cli::{AgentCommand, Global};
use crate::exit::{self, UsageError};
use crate::output::{Table, local_time, or_dash, print_json};

pub async fn run(global: &Global, cmd: AgentCommand) -> anyhow::Result<u8> {
    match cmd {
        AgentCommand::Enroll {
            server,
            host,
            ca,
            fingerprint,
            home,
        } => enroll(&server, &host, ca, fingerprint.as_deref(), home).await,
        AgentCommand::Run { once, home } => run_agent(once, home).await,
        AgentCommand::Invite {
            host,
            valid_for,
            json,
        } => {
            let valid_for = reprise_domain::Interval::parse(&valid_for)
                .map_err(|e| UsageError(format!("--valid-for: {e}")))?;
            let session = Session::open(global).await?;
            let ctx = session.ctx();
            let invite = agents::invite(&ctx, &host, valid_for, Timestamp::now()).await?;
            let server = &ctx.loaded.config.server;
            let address = server
                .public_url
                .clone()
                .unwrap_or_else(|| "https://SERVER:8443".into());
            let pin = server.tls_cert.as_ref().and_then(|cert| {
                let text = std::fs::read_to_string(ctx.workspace().resolve(cert)).ok()?;
                agent_host::first_certificate(&text).map(|der| agent_host::fingerprint(&der))
            });
            if json {
                print_json(&serde_json::json!({
                    "host": invite.host,
                    "code": invite.code,
                    "expires": invite.expires,
                    "server": address,
                    "fingerprint": pin,
                }))?;
                return Ok(exit::SUCCESS);
            }
            let assets = agents::assets_of(&ctx, &host);
            println!(
                "One-time code for host `{host}` (shown once, valid until {}):",
                local_time(invite.expires, &session.tz)
            );
            println!("  {}", invite.code);
            println!("On {host}, as the user that reads its data:");
            let trust = match &pin {
                Some(pin) => format!(" --fingerprint {pin}"),
                None => " [--ca CA.pem]".into(),
            };
            println!("  echo CODE | reprise agent enroll {address} --host {host}{trust}");
            println!("  reprise agent run   # or the systemd unit reprise-agent.service");
            if assets.is_empty() {
                println!(
                    "No asset names `host = \"{host}\"` yet: add it to the assets whose data lives there."
                );
            } else {
                let ids: Vec<&str> = assets.iter().map(|a| a.id.as_str()).collect();
                println!("It will back up: {}.", ids.join(", "));
            }
            Ok(exit::SUCCESS)
        }
        AgentCommand::List { json } => {
            let session = Session::open(global).await?;
            let ctx = session.ctx();
            let all = agents::list(&ctx, Timestamp::now()).await?;
            if json {
                print_json(&all)?;
                return Ok(exit::SUCCESS);
            }
            if all.is_empty() {
                println!(
                    "No host: name one on an asset (`host = \"mail-01\"`), then `reprise agent invite mail-01`."
                );
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&[
                "HOST",
                "AGENT",
                "VERSION",
                "LAST SEEN",
                "ASSETS",
                "LAST BACKUP",
                "WAITING",
            ]);
            for a in &all {
                let state = if !a.active {
                    if a.enrolled.is_some() {
                        "revoked"
                    } else {
                        "not enrolled"
                    }
                } else if a.silent {
                    "SILENT"
                } else {
                    "ok"
                };
                table.row(vec![
                    a.host.clone(),
                    state.into(),
                    or_dash(a.version.as_ref()),
                    or_dash(a.seen.map(|t| local_time(t, &session.tz))),
                    if a.assets.is_empty() {
                        "-".into()
                    } else {
                        a.assets.join(", ")
                    },
                    or_dash(a.last_backup.map(|t| local_time(t, &session.tz))),
                    a.waiting_jobs.to_string(),
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
        AgentCommand::Jobs { host, json } => {
            let session = Session::open(global).await?;
            let jobs = session.catalog.agent_jobs(host.as_deref(), false).await?;
            if json {
                print_json(&jobs)?;
                return Ok(exit::SUCCESS);
            }
            let mut table =
                Table::new(&["JOB", "HOST", "KIND", "ASSET", "STATE", "QUEUED", "RESULT"]);
            for j in &jobs {
                table.row(vec![
                    j.id.to_string(),
                    j.host.clone(),
                    j.kind.clone(),
                    j.asset.clone(),
                    j.state.as_str().into(),
                    local_time(j.created, &session.tz),
                    result_line(j),
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
        AgentCommand::Backup {
            asset,
            datasets,
            no_wait,
            json,
        } => {
            let session = Session::open(global).await?;
            let ctx = session.ctx();
            let id = agents::queue_backup(
                &ctx,
                &asset,
                &datasets,
                Some("asked on the command line"),
                Timestamp::now(),
            )
            .await?;
            let host = ctx.asset(&asset)?.host().unwrap_or_default().to_string();
            if no_wait {
                if json {
                    print_json(&serde_json::json!({ "job": id, "host": host }))?;
                } else {
                    println!(
                        "Job {id} queued: the agent of host `{host}` takes it at its next check-in."
                    );
                }
                return Ok(exit::SUCCESS);
            }
            if !json {
                eprintln!("Job {id} queued; waiting for the agent of host `{host}`…");
            }
            let job = wait(&session, id).await?;
            finish(&job, json)
        }
        AgentCommand::Revoke { host } => {
            let session = Session::open(global).await?;
            let ctx = session.ctx();
            if agents::revoke(&ctx, &host, Timestamp::now()).await? {
                println!(
                    "The agent of host `{host}` is revoked: its next request is refused (and journaled). Enroll it again with a new code."
                );
                Ok(exit::SUCCESS)
            } else {
                Err(UsageError(format!(
                    "host `{host}` has no agent nor invitation to revoke"
                ))
                .into())
            }
        }
    }
}

/// A job's result in a few words.
fn result_line(job: &AgentJob) -> String {
    let Some(result) = &job.result else {
        return match job.state {
            JobState::Waiting => "waiting for the agent".into(),
            JobState::Running => "the agent is on it".into(),
            _ => "-".into(),
        };
    };
    let value: serde_json::Value = serde_json::from_str(result).unwrap_or_default();
    if let Some(error) = value["error"].as_str() {
        return error.to_string();
    }
    if let Some(sets) = value["datasets"].as_array() {
        return sets
            .iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s["dataset"].as_str().unwrap_or("?"),
                    s["snapshot"]
                        .as_str()
                        .map_or("-", reprise_workspace::text::short)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
    }
    if let Some(files) = value["files"].as_u64() {
        return format!("{files} files restored");
    }
    "-".into()
}

/// Waits for a job to end (its deadline fails it at the latest).
pub async fn wait(session: &Session, id: i64) -> anyhow::Result<AgentJob> {
    loop {
        let ctx = session.ctx();
        agents::expire(&ctx, Timestamp::now()).await?;
        let job = session
            .catalog
            .agent_job(id)
            .await?
            .ok_or_else(|| UsageError(format!("no job {id}")))?;
        if !job.state.is_open() {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Prints how a job ended; its exit code.
pub fn finish(job: &AgentJob, json: bool) -> anyhow::Result<u8> {
    if json {
        print_json(job)?;
    } else {
        println!(
            "Job {} ({} of {} on host `{}`): {} — {}",
            job.id,
            job.kind,
            job.asset,
            job.host,
            job.state.as_str(),
            result_line(job)
        );
    }
    Ok(if job.state == JobState::Succeeded {
        exit::SUCCESS
    } else {
        exit::FAILURE
    })
}

fn home_or_default(home: Option<PathBuf>) -> PathBuf {
    home.unwrap_or_else(agent_host::default_home)
}

async fn enroll(
    server: &str,
    host: &str,
    ca: Option<PathBuf>,
    fingerprint: Option<&str>,
    home: Option<PathBuf>,
) -> anyhow::Result<u8> {
    let code = match std::env::var("REPRISE_ENROLL_CODE") {
        Ok(code) if !code.trim().is_empty() => code,
        _ => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprint!("Enrollment code (from `reprise agent invite {host}` on the server): ");
            }
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line
        }
    };
    if code.trim().is_empty() {
        return Err(UsageError(
            "no enrollment code: give it on standard input or in REPRISE_ENROLL_CODE (never as an argument)".into(),
        )
        .into());
    }
    let home = home_or_default(home);
    let enrolment =
        agent_host::enroll(server, host, code.trim(), ca.as_deref(), fingerprint, &home).await?;
    println!(
        "Enrolled as host `{}` with {}; credential kept in {} (owner only).",
        enrolment.host,
        enrolment.server,
        home.join("agent.json").display()
    );
    println!("Start it: `reprise agent run` (or the systemd unit reprise-agent.service).");
    Ok(exit::SUCCESS)
}

async fn run_agent(once: bool, home: Option<PathBuf>) -> anyhow::Result<u8> {
    let home = home_or_default(home);
    let agent = agent_host::Agent::open(&home)?;
    let progress = if once && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        crate::progress::for_terminal()
    } else {
        agent_host::quiet()
    };
    if !once {
        eprintln!(
            "reprise agent of host `{}`: checking in with {}",
            agent.host(),
            agent.server()
        );
    }
    let mut failed_before = false;
    loop {
        let wait = match agent.pass(progress.clone()).await {
            Ok(pass) => {
                for job in &pass.jobs {
                    match &job.error {
                        None => eprintln!(
                            "job {} ({} of {}): done in {:.1}s",
                            job.id, job.kind, job.asset, job.seconds
                        ),
                        Some(e) => eprintln!(
                            "job {} ({} of {}): FAILED: {e}",
                            job.id, job.kind, job.asset
                        ),
                    }
                }
                if once {
                    return Ok(if pass.jobs.iter().all(|j| j.ok) {
                        exit::SUCCESS
                    } else {
                        exit::FAILURE
                    });
                }
                failed_before = false;
                pass.check_in_every.max(1)
            }
            Err(e) => {
                if once {
                    return Err(e.into());
                }
                // Said once per outage, not every 30 seconds.
                if !failed_before {
                    eprintln!("warning: {e}; trying again");
                }
                failed_before = true;
                reprise_agents::fleet::CHECK_IN_EVERY
            }
        };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(wait)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(exit::SUCCESS),
            () = terminated() => return Ok(exit::SUCCESS),
        }
    }
}

/// SIGTERM (systemd stopping the service).
async fn terminated() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
