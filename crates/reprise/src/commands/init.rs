//! `reprise init [DIR]`.

use std::path::{Path, PathBuf};

use reprise_workspace::workspace::{self, Created, INIT_TEMPLATE};

use crate::cli::Global;
use crate::exit;

pub async fn run(global: &Global, dir: Option<PathBuf>) -> anyhow::Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let (ws, created) = workspace::create(&dir, INIT_TEMPLATE)?;
    let location = ws.catalog_location(None, global.catalog.as_deref());
    let catalog = crate::catalog::open_journaled(&ws, &location, &super::acting_user()).await?;
    let loaded = ws.load()?;
    for repo in &loaded.config.inventory.repositories {
        reprise_ops::repos::init(&ws, repo).await?;
    }
    print_created("Created a Reprise workspace", &created, &catalog.location());
    let token = reprise_ops::tokens::first_admin(&*catalog, jiff::Timestamp::now()).await?;
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

/// `reprise init --from-repository LOCATION --password-file KEY [DIR]`: a workspace
/// rebuilt from Reprise's own backup, on a new machine.
pub async fn recover(
    dir: Option<PathBuf>,
    location: &str,
    key: &Path,
    master_key: Option<&Path>,
) -> anyhow::Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let recovered = reprise_ops::selfbackup::recover(
        &dir,
        &reprise_ops::selfbackup::RecoverFrom {
            location,
            password_file: key,
            master_key,
        },
        crate::progress::for_terminal(),
    )
    .await?;
    let tz = reprise_workspace::workspace::zone(None);
    println!(
        "Rebuilt the workspace {}in {}",
        recovered
            .workspace
            .as_deref()
            .map_or(String::new(), |n| format!("`{n}` ")),
        recovered.root.display()
    );
    println!(
        "  from           self-backup {} of {}",
        &recovered.snapshot[..8],
        crate::output::local_time(recovered.made, &tz)
    );
    println!(
        "  configuration  {}",
        recovered.root.join("reprise.toml").display()
    );
    if recovered.catalog_is_dump {
        println!(
            "  catalog        {} (a PostgreSQL dump: load it with `psql DATABASE_URL -f {}` before starting Reprise)",
            recovered.catalog.display(),
            recovered.catalog.display()
        );
    } else {
        println!("  catalog        {}", recovered.catalog.display());
    }
    match &recovered.repository {
        Some(repo) => println!("  key            repository `{repo}` (the key you gave)"),
        None => println!(
            "  key            no repository of the configuration is at {location}: adjust its `path` or `url`"
        ),
    }
    if recovered.master_key {
        println!("  master key     put back (it seals the journal)");
    }
    for note in &recovered.notes {
        println!("  note           {note}");
    }
    for missing in &recovered.missing_keys {
        println!(
            "  missing key    {} (put it back: a repository's key, or the master key that seals the journal — `--master-key-file`)",
            missing.display()
        );
    }
    println!(
        "
Next: `reprise check`, then `reprise status` shows the history as it was."
    );
    Ok(exit::SUCCESS)
}
