//! `reprise repo init|env|list|rotate-key|locks|recover|writer`.

use reprise_ops::{locks, repos, writers};

use super::{Session, find_workspace};
use crate::cli::{Global, RepoCommand, WriterCommand};
use crate::exit::{self, UsageError};
use crate::output::{Table, local_time, print_json};

pub async fn run(global: &Global, cmd: RepoCommand) -> anyhow::Result<u8> {
    match cmd {
        RepoCommand::Env { repo } => {
            let ws = find_workspace(global)?;
            let loaded = ws.load()?;
            let repositories = &loaded.config.inventory.repositories;
            let config = match &repo {
                Some(id) => repositories.iter().find(|r| r.id.as_str() == id),
                None => repositories.first(),
            }
            .ok_or_else(|| {
                let ids: Vec<&str> = repositories.iter().map(|r| r.id.as_str()).collect();
                UsageError(format!(
                    "no repository `{}` (repositories: {})",
                    repo.as_deref().unwrap_or(""),
                    ids.join(", ")
                ))
            })?;
            println!("# stock restic for repository `{}`:", config.id);
            for (key, value) in repos::restic_env(&ws, config) {
                println!("export {key}='{}'", value.replace('\'', "'\\''"));
            }
            if matches!(config.backend, reprise_domain::RepoBackend::S3 { .. }) {
                println!("# and AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY as set for Reprise");
            }
            if let Some(command) = repos::restic_sftp_command(&ws, config) {
                println!("# and on every restic command: -o sftp.command='{command}'");
            }
            Ok(exit::SUCCESS)
        }
        RepoCommand::Init { repo } => {
            let session = Session::open(global).await?;
            let ctx = session.ctx();
            let targets = match &repo {
                Some(id) => vec![ctx.repository(id)?],
                None => ctx.inventory().repositories.iter().collect(),
            };
            for config in targets {
                let created = repos::init(ctx.workspace(), config).await?;
                println!(
                    "repository `{}` at {}: {}",
                    config.id,
                    repos::location(ctx.workspace(), config),
                    if created { "created" } else { "already exists" }
                );
            }
            Ok(exit::SUCCESS)
        }
        RepoCommand::List { json } => {
            let ws = find_workspace(global)?;
            let loaded = ws.load()?;
            let repositories = &loaded.config.inventory.repositories;
            if json {
                print_json(repositories)?;
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&["ID", "LOCATION", "MEDIUM", "SITE", "IMMUTABLE"]);
            for r in repositories {
                table.row(vec![
                    r.id.to_string(),
                    repos::location(&ws, r),
                    r.medium.clone(),
                    r.location.as_str().into(),
                    r.immutable.map_or_else(
                        || "-".to_string(),
                        |i| format!("{} ({})", i.period, i.mode.as_str()),
                    ),
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
        RepoCommand::RotateKey { repo, json } => {
            let session = Session::open(global).await?;
            let rotation = repos::rotate_key(&session.ctx(), &repo).await?;
            if json {
                print_json(&rotation)?;
            } else {
                for (rid, old, new) in &rotation.keys {
                    println!(
                        "Repository `{rid}`: new key {} added, old key {} removed.",
                        reprise_workspace::text::short(new),
                        old.as_deref()
                            .map_or("-", |k| reprise_workspace::text::short(k))
                    );
                }
                for rid in &rotation.old_key_locked {
                    println!(
                        "Repository `{rid}` is immutable: its old key is locked and stays; the old password opens it until the lock lapses."
                    );
                }
                println!(
                    "The new password is in {}: keep a copy safe, as you kept the old one.",
                    rotation.stored_in
                );
            }
            Ok(exit::SUCCESS)
        }
        RepoCommand::Locks { repo, json } => {
            let session = Session::open(global).await?;
            let locks = locks::extend(&session.ctx(), repo.as_deref()).await?;
            let code = if locks::all_held(&locks) {
                exit::SUCCESS
            } else {
                exit::FAILURE
            };
            if json {
                print_json(&locks)?;
                return Ok(code);
            }
            if locks.is_empty() {
                println!("No immutable repository (`immutable_for` on an S3 repository).");
            }
            for l in &locks {
                match (&l.report, &l.error) {
                    (Some(r), _) => {
                        println!(
                            "repository `{}` (immutable for {}, {}): {} object(s) a kept restore point needs, {} lock(s) extended, all locked until at least {}",
                            l.repository,
                            l.immutable_for,
                            l.mode,
                            r.objects,
                            r.extended,
                            r.earliest
                                .map_or_else(|| "-".to_string(), |t| local_time(t, &session.tz))
                        );
                        if !r.missing.is_empty() {
                            println!(
                                "  MISSING {} object(s) (deleted or hidden by someone): {}\n  Bring them back: reprise repo recover {}",
                                r.missing.len(),
                                r.missing.join(", "),
                                l.repository
                            );
                        }
                    }
                    (None, error) => println!(
                        "repository `{}`: FAILED: {}",
                        l.repository,
                        error.as_deref().unwrap_or("unknown error")
                    ),
                }
            }
            Ok(code)
        }
        RepoCommand::Recover { repo, json } => {
            let session = Session::open(global).await?;
            let recovered = locks::recover(&session.ctx(), &repo).await?;
            if json {
                print_json(&recovered)?;
                return Ok(exit::SUCCESS);
            }
            if recovered.restored.is_empty() {
                println!(
                    "repository `{repo}`: nothing was deleted or written over; the index was checked against the packs."
                );
            } else {
                println!(
                    "repository `{repo}`: {} object(s) brought back to the version Reprise wrote:",
                    recovered.restored.len()
                );
                for path in &recovered.restored {
                    println!("  {path}");
                }
                println!(
                    "The index was rebuilt from the packs. Check it: reprise verify --full, or restic check --read-data."
                );
            }
            Ok(exit::SUCCESS)
        }
        RepoCommand::Writer(cmd) => writer(global, cmd).await,
    }
}

async fn writer(global: &Global, cmd: WriterCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    match cmd {
        WriterCommand::Add {
            repo,
            name,
            assets,
            expires,
            json,
        } => {
            let expires = expires
                .map(|e| {
                    reprise_domain::Interval::parse(&e)
                        .map_err(|e| UsageError(format!("--expires: {e}")))
                })
                .transpose()?;
            let (token, writer) =
                writers::add(&ctx, &repo, &name, &assets, expires, jiff::Timestamp::now()).await?;
            let server = ctx
                .loaded
                .config
                .server
                .public_url
                .clone()
                .unwrap_or_else(|| "https://SERVER:8443".into());
            let host = server.trim_end_matches('/');
            let (scheme, rest) = host.split_once("://").unwrap_or(("https", host));
            let url = format!("rest:{scheme}://{name}:{token}@{rest}/rest/{repo}/");
            if json {
                print_json(
                    &serde_json::json!({ "writer": writer, "token": token, "restic_repository": url }),
                )?;
                return Ok(exit::SUCCESS);
            }
            println!(
                "Writer `{name}` of repository `{repo}` made, for {}. Its token is shown once: on the host, give restic",
                writer.assets.join(", ")
            );
            println!("  RESTIC_REPOSITORY='{url}'");
            println!(
                "  and the repository's password; tag each backup `--tag asset:ID` (one of its assets) so that it counts as a restore point."
            );
            println!(
                "It may read the repository and add to it; never delete or rewrite. Revoke it with `reprise repo writer revoke {repo} {name}`."
            );
            Ok(exit::SUCCESS)
        }
        WriterCommand::List { repo, json } => {
            let list = writers::list(ctx.catalog, repo.as_deref()).await?;
            if json {
                print_json(&list)?;
                return Ok(exit::SUCCESS);
            }
            let mut table = Table::new(&["REPOSITORY", "WRITER", "ASSETS", "CREATED", "STATE"]);
            for w in &list {
                let state = match (w.revoked, w.expires) {
                    (Some(at), _) => format!("revoked {}", local_time(at, &session.tz)),
                    (None, Some(at)) if at <= jiff::Timestamp::now() => {
                        format!("expired {}", local_time(at, &session.tz))
                    }
                    (None, Some(at)) => format!("until {}", local_time(at, &session.tz)),
                    (None, None) => "active".into(),
                };
                table.row(vec![
                    w.repository.clone(),
                    w.name.clone(),
                    w.assets.join(", "),
                    local_time(w.created, &session.tz),
                    state,
                ]);
            }
            print!("{}", table.render());
            Ok(exit::SUCCESS)
        }
        WriterCommand::Revoke { repo, name } => {
            if writers::revoke(ctx.catalog, &repo, &name, jiff::Timestamp::now()).await? {
                println!(
                    "Writer `{name}` of repository `{repo}` revoked: its next request is refused."
                );
                Ok(exit::SUCCESS)
            } else {
                Err(UsageError(format!("repository `{repo}` has no live writer `{name}`")).into())
            }
        }
    }
}
