//! `reprise repo init|env|list|rotate-key`.

use reprise_ops::repos;

use super::{Session, find_workspace};
use crate::cli::{Global, RepoCommand};
use crate::exit::{self, UsageError};
use crate::output::{Table, print_json};

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
            let mut table = Table::new(&["ID", "LOCATION", "MEDIUM", "SITE"]);
            for r in repositories {
                table.row(vec![
                    r.id.to_string(),
                    repos::location(&ws, r),
                    r.medium.clone(),
                    r.location.as_str().into(),
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
                println!(
                    "The new password is in {}: keep a copy safe, as you kept the old one.",
                    rotation.stored_in
                );
            }
            Ok(exit::SUCCESS)
        }
    }
}
