//! Command-line arguments. One enum variant per subcommand; each is run by the module of
//! the same name in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "reprise",
    version,
    about = "Self-hosted disaster recovery: back up what you must not lose, prove it restores, run the recovery.",
    after_help = "Exit codes: 0 success, 1 the operation failed, 2 bad usage or invalid input (arguments, configuration, imported file)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The workspace directory (default: the nearest directory upwards holding reprise.toml).
    #[arg(long, global = true, env = "REPRISE_WORKSPACE", value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// The catalog to use instead of the configured one (`postgres://…` or a SQLite path).
    #[arg(
        long,
        global = true,
        env = "REPRISE_CATALOG",
        value_name = "URL",
        hide_env_values = true
    )]
    pub catalog: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace: a commented reprise.toml, the catalog and a repository key.
    Init {
        /// Where to create it (default: the current directory).
        dir: Option<PathBuf>,
    },
    /// Build a demo workspace from the seed documents, with real data files, to explore.
    Demo {
        /// Where to create it.
        #[arg(default_value = "reprise-demo")]
        dir: PathBuf,
    },
    /// Validate the workspace: configuration, keys, paths and catalog.
    Check {
        /// Print the diagnostics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sites, assets and their dependencies.
    #[command(subcommand)]
    Inventory(InventoryCommand),
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// List assets.
    List {
        /// Only the assets of this site.
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Everything about one asset: fields, data sets, dependencies, dependents, history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Draw the dependency graph.
    Graph {
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Only the assets of this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Every asset that depends on ID, directly or transitively.
    Impact {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Each asset's recorded states over time (the evolution table).
    History {
        /// Only this asset.
        id: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Import an inventory table (CSV, English or French headers) into reprise.toml.
    Import {
        file: PathBuf,
        /// Site of rows that name none.
        #[arg(long)]
        site: Option<String>,
        /// Show what would change without writing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}
