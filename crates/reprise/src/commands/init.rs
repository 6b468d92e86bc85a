//! `reprise init [DIR]`.

use std::path::PathBuf;

use reprise_app::workspace::{self, Created, INIT_TEMPLATE};

use crate::cli::Global;
use crate::exit;

pub async fn run(global: &Global, dir: Option<PathBuf>) -> anyhow::Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let (ws, created) = workspace::create(&dir, INIT_TEMPLATE)?;
    let location = ws.catalog_location(None, global.catalog.as_deref());
    let catalog = crate::catalog::open(&location).await?;
    let loaded = ws.load()?;
    for repo in &loaded.config.inventory.repositories {
        reprise_app::repos::init(&ws, repo).await?;
    }
    print_created("Created a Reprise workspace", &created, &catalog.location());
    let token = reprise_app::tokens::create(&*catalog, "admin", jiff::Timestamp::now()).await?;
    println!();
    println!("API token for `reprise serve` (shown once, stored only as a hash):");
    println!("  {token}");
    println!("\nNext: describe your sites and assets in reprise.toml, then run `reprise check`.");
    Ok(exit::SUCCESS)
}

/// What was created, and the warning about the key that a user must not miss.
pub fn print_created(title: &str, created: &Created, catalog: &str) {
    println!("{title} in {}", created.root.display());
    println!("  configuration  {}", created.config.display());
    println!("  catalog        {catalog}");
    println!(
        "  repository     {} (local, restic format)",
        created.repository.display()
    );
    println!("  key            {}", created.key.display());
    println!();
    println!("The key is the only way to read your backups. Keep a copy somewhere safe,");
    println!("away from this machine (a password manager, a sealed envelope in a safe).");
}
