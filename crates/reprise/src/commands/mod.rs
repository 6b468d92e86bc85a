//! One module per subcommand. Each parses nothing (clap did), calls the use cases of
//! `reprise-ops`, `reprise-recovery` and `reprise-oversight`, and renders.

mod agent;
mod alerts;
mod backup;
mod categories;
mod check;
mod demo;
mod devices;
mod drill;
mod erase;
mod evidence;
mod export;
mod incident;
mod init;
mod inventory;
mod journal;
mod man;
mod plan;
mod readiness;
mod repo;
mod request;
mod restore;
mod retention;
mod runs;
mod self_backup;
mod serve;
mod snapshots;
mod status;
mod users;
mod verify;

use std::path::PathBuf;

use anyhow::Context;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use reprise_catalog::Catalog;
use reprise_workspace::workspace::{self, Loaded, Workspace};

use crate::cli::{Cli, Command, Global};

pub async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Init {
            dir,
            from_repository: Some(location),
            password_file: Some(key),
            master_key_file,
        } => init::recover(dir, &location, &key, master_key_file.as_deref()).await,
        Command::Init { dir, .. } => init::run(&cli.global, dir).await,
        Command::Demo { dir } => demo::run(&cli.global, dir).await,
        Command::Completions { shell } => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "reprise", &mut std::io::stdout());
            Ok(crate::exit::SUCCESS)
        }
        Command::Man { out } => man::run(&out),
        Command::Check { json } => check::run(&cli.global, json).await,
        Command::Inventory(cmd) => inventory::run(&cli.global, cmd).await,
        Command::Devices { json, command } => devices::run(&cli.global, json, command).await,
        Command::Agent(cmd) => agent::run(&cli.global, cmd).await,
        Command::Backup {
            assets,
            all,
            site,
            reason,
            json,
        } => {
            let selection = reprise_ops::backup::Selection {
                assets,
                all,
                site,
                reason,
                ..Default::default()
            };
            backup::run(&cli.global, selection, json).await
        }
        Command::Snapshots {
            asset,
            json,
            command,
        } => snapshots::run(&cli.global, asset, json, command).await,
        Command::Restore {
            asset,
            dataset,
            at,
            snapshot,
            path,
            target,
            overwrite,
            no_verify,
            allow_protected_target,
            on,
            deadline,
            json,
        } => {
            let opts = restore::Args {
                on,
                deadline,
                asset,
                dataset,
                at,
                snapshot,
                path,
                target,
                overwrite,
                verify: !no_verify,
                override_reason: allow_protected_target,
            };
            restore::run(&cli.global, opts, json).await
        }
        Command::Verify {
            assets,
            read_data,
            subset,
            rolling,
            json,
        } => verify::run(&cli.global, assets, read_data, subset, rolling, json).await,
        Command::Retention(cmd) => retention::run(&cli.global, cmd).await,
        Command::Erase(cmd) => erase::run(&cli.global, cmd).await,
        Command::Export(cmd) => export::run(&cli.global, cmd).await,
        Command::Evidence { period, out, json } => {
            evidence::run(&cli.global, &period, out, json).await
        }
        Command::Categories { json } => categories::run(&cli.global, json).await,
        Command::Status { json } => status::run(&cli.global, json).await,
        Command::Alerts { all, ack, json } => alerts::run(&cli.global, all, ack, json).await,
        Command::Runs {
            asset,
            kind,
            limit,
            json,
        } => runs::run(&cli.global, asset, kind, limit, json).await,
        Command::Repo(cmd) => repo::run(&cli.global, cmd).await,
        Command::Drill(cmd) => drill::run(&cli.global, cmd).await,
        Command::Request(cmd) => request::run(&cli.global, cmd).await,
        Command::Journal(cmd) => journal::run(&cli.global, cmd).await,
        Command::Readiness {
            approve,
            site,
            lang,
            json,
        } => readiness::run(&cli.global, approve, site, lang, json).await,
        Command::Incident(cmd) => incident::run(&cli.global, cmd).await,
        Command::Runbook(crate::cli::RunbookCommand::Export { out, lang }) => {
            let session = Session::open(&cli.global).await?;
            let html = reprise_recovery::runbook::export(
                &session.ctx(),
                lang == crate::cli::Lang::Fr,
                Timestamp::now(),
            )
            .await?;
            std::fs::write(&out, html).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "Wrote {} — print it or keep it offline; it holds no password.",
                out.display()
            );
            Ok(crate::exit::SUCCESS)
        }
        Command::Plan {
            simulate,
            minimal,
            technicians,
            lang,
            json,
        } => {
            let opts = reprise_recovery::plan::PlanOptions {
                simulate,
                minimal,
                technicians,
            };
            plan::run(&cli.global, opts, lang, json).await
        }
        Command::SelfBackup { json } => self_backup::run(&cli.global, json).await,
        Command::Serve {
            listen,
            allow_remote_http,
            tls_cert,
            tls_key,
            log_format,
            tick,
        } => {
            let options = serve::Options {
                listen,
                allow_remote_http,
                tls: tls_cert.zip(tls_key),
                log_format,
                tick,
            };
            serve::run(&cli.global, options).await
        }
        Command::Token(cmd) => users::token(&cli.global, cmd).await,
        Command::User(cmd) => users::user(&cli.global, cmd).await,
        Command::Secret(cmd) => users::secret(&cli.global, cmd).await,
    }
}

/// Who is acting, for incident timelines and drill records: `REPRISE_USER`, else the
/// login name.
pub fn acting_user() -> String {
    std::env::var("REPRISE_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into())
}

/// Days given on the command line as a period in `tz`: from the start of `since` to the
/// end of `until` (the next midnight, excluded).
pub fn day_period(
    tz: &TimeZone,
    since: Option<jiff::civil::Date>,
    until: Option<jiff::civil::Date>,
) -> anyhow::Result<(Option<Timestamp>, Option<Timestamp>)> {
    let start = |d: jiff::civil::Date| -> anyhow::Result<Timestamp> {
        Ok(d.to_zoned(tz.clone())?.timestamp())
    };
    let from = since.map(start).transpose()?;
    let to = until.map(|d| start(d.tomorrow()?)).transpose()?;
    Ok((from, to))
}

/// The workspace named by `--workspace`, or found from the current directory.
pub fn find_workspace(global: &Global) -> anyhow::Result<Workspace> {
    Ok(match &global.workspace {
        Some(dir) => Workspace::at(dir)?,
        None => {
            let cwd: PathBuf = std::env::current_dir().context("reading the current directory")?;
            Workspace::discover(&cwd)?
        }
    })
}

/// A loaded workspace with its catalog open and the inventory recorded.
pub struct Session {
    /// Each asset in its current state: the configuration's, or one recorded since.
    pub loaded: std::sync::Arc<Loaded>,
    pub catalog: Box<dyn Catalog>,
    pub tz: TimeZone,
}

impl Session {
    pub async fn open(global: &Global) -> anyhow::Result<Self> {
        Self::open_as(global, &acting_user()).await
    }

    /// A session whose changes are journaled as `actor`.
    pub async fn open_as(global: &Global, actor: &str) -> anyhow::Result<Self> {
        let ws = find_workspace(global)?;
        let mut loaded = ws.load()?;
        for warning in &loaded.warnings {
            eprintln!("{warning}");
        }
        let location = ws.catalog_location(Some(&loaded.config), global.catalog.as_deref());
        let catalog = crate::catalog::open_journaled(&ws, &location, actor).await?;
        // The configuration's states are recorded as written, then each asset takes its
        // current state (one recorded since, by hand or by a finished step).
        workspace::record_inventory(&*catalog, &loaded.config.inventory, Timestamp::now()).await?;
        reprise_ops::states::apply(&*catalog, &mut loaded.config.inventory).await?;
        let tz = zone(loaded.config.timezone.as_deref());
        Ok(Self {
            loaded: std::sync::Arc::new(loaded),
            catalog,
            tz,
        })
    }
}

pub use reprise_workspace::workspace::zone;

impl Session {
    /// The context use cases run in, with progress bars on a terminal.
    pub fn ctx(&self) -> reprise_ops::context::Ctx<'_> {
        reprise_ops::context::Ctx {
            loaded: self.loaded.clone(),
            catalog: &*self.catalog,
            progress: crate::progress::for_terminal(),
        }
    }
}
