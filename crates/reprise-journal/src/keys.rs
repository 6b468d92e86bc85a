//! The workspace's master key: it seals the journal and encrypts the secret store, and
//! never enters the catalog.

use std::path::{Path, PathBuf};

use reprise_workspace::text::{hex, unhex};
use reprise_workspace::workspace::Workspace;

/// The environment variable that may hold the master key (64 hex characters) instead of
/// the key file.
pub const MASTER_KEY_ENV: &str = "REPRISE_MASTER_KEY";

/// Where the master key lives: `.reprise/keys/master.key`, owner-only.
pub fn master_key_path(ws: &Workspace) -> PathBuf {
    ws.state_dir().join("keys").join("master.key")
}

/// The workspace's master key: from `REPRISE_MASTER_KEY`, else the key file, created
/// (32 random bytes, mode 0600) the first time it is needed.
pub fn master_key(ws: &Workspace) -> Result<Vec<u8>, String> {
    if let Ok(v) = std::env::var(MASTER_KEY_ENV) {
        return unhex(&v)
            .filter(|k| k.len() >= 32)
            .ok_or_else(|| format!("{MASTER_KEY_ENV} must be at least 64 hexadecimal characters"));
    }
    let path = master_key_path(ws);
    if !path.exists() {
        create_key_file(&path)?;
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the master key {}: {e}", path.display()))?;
    unhex(&text).filter(|k| k.len() >= 32).ok_or_else(|| {
        format!(
            "{} is not a master key (64 hexadecimal characters)",
            path.display()
        )
    })
}

/// The master key if there is one (`REPRISE_MASTER_KEY` or the key file), never
/// creating it.
pub fn existing_master_key(ws: &Workspace) -> Result<Option<Vec<u8>>, String> {
    if std::env::var(MASTER_KEY_ENV).is_ok() || master_key_path(ws).exists() {
        master_key(ws).map(Some)
    } else {
        Ok(None)
    }
}

fn create_key_file(path: &Path) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create the master key {}: {e}", path.display()))?;
    writeln!(file, "{}", hex(&bytes)).map_err(|e| e.to_string())?;
    file.sync_all().map_err(|e| e.to_string())
}
