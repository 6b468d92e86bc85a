//! Secrets at rest (R002.8): repository passwords, SMTP passwords and webhook URLs kept
//! encrypted under the workspace's master key, in `.reprise/secrets/NAME.json` (owner-only),
//! each sealed with XChaCha20-Poly1305 bound to its name. The configuration refers to them
//! by name (`password_secret`, `url_secret`); values go in through standard input and come
//! out only to the programs that need them, never to a terminal, a log or an argument.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::{AppError, AppResult};
use reprise_workspace::text::{hex, unhex};
use reprise_workspace::workspace::Workspace;

/// A stored secret, without its value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    pub name: String,
    pub created: Timestamp,
    /// When its value last changed.
    pub rotated: Timestamp,
    /// Nonce then ciphertext, hex.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    sealed: String,
}

/// The encrypted store's directory.
pub fn dir(ws: &Workspace) -> PathBuf {
    ws.state_dir().join("secrets")
}

fn check_name(name: &str) -> AppResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(AppError::Invalid(format!(
            "`{name}` is not a secret name: letters, digits, - _ . (64 at most)"
        )))
    }
}

fn path(ws: &Workspace, name: &str) -> PathBuf {
    dir(ws).join(format!("{name}.json"))
}

fn cipher(ws: &Workspace) -> AppResult<XChaCha20Poly1305> {
    let master = crate::keys::master_key(ws).map_err(AppError::Failed)?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&master).expect("HMAC takes any key length");
    mac.update(b"reprise secrets v1");
    let key = mac.finalize().into_bytes();
    Ok(XChaCha20Poly1305::new(&key))
}

fn read(ws: &Workspace, name: &str) -> AppResult<Option<Stored>> {
    check_name(name)?;
    let p = path(ws, name);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AppError::Failed(format!(
                "cannot read {}: {e}",
                p.display()
            )));
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| AppError::Failed(format!("{} is damaged: {e}", p.display())))
}

/// Stores `value` under `name`, encrypted; keeps its creation time when it replaces one.
pub fn set(ws: &Workspace, name: &str, value: &str, now: Timestamp) -> AppResult<Stored> {
    check_name(name)?;
    if value.is_empty() {
        return Err(AppError::Invalid(format!("secret `{name}`: empty value")));
    }
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|e| AppError::Failed(format!("no randomness: {e}")))?;
    let sealed = cipher(ws)?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: value.as_bytes(),
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| AppError::Failed(format!("cannot encrypt secret `{name}`")))?;
    let created = read(ws, name)?.map_or(now, |s| s.created);
    let stored = Stored {
        name: name.to_string(),
        created,
        rotated: now,
        sealed: format!("{}{}", hex(&nonce), hex(&sealed)),
    };
    write_private(
        &path(ws, name),
        &serde_json::to_string_pretty(&stored).expect("a secret serialises"),
    )?;
    Ok(Stored {
        sealed: String::new(),
        ..stored
    })
}

/// The value of secret `name`.
pub fn get(ws: &Workspace, name: &str) -> AppResult<String> {
    let stored = read(ws, name)?.ok_or_else(|| {
        AppError::Invalid(format!(
            "no secret `{name}` (set it with `reprise secret set {name}`, the value on standard input)"
        ))
    })?;
    let bytes = unhex(&stored.sealed)
        .filter(|b| b.len() > 24)
        .ok_or_else(|| AppError::Failed(format!("secret `{name}` is damaged")))?;
    let (nonce, sealed) = bytes.split_at(24);
    let nonce: [u8; 24] = nonce.try_into().expect("24 bytes, split above");
    let plain = cipher(ws)?
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: sealed,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| {
            AppError::Failed(format!(
                "secret `{name}` cannot be decrypted: altered, or sealed under another master key"
            ))
        })?;
    String::from_utf8(plain).map_err(|_| AppError::Failed(format!("secret `{name}` is not text")))
}

/// Every stored secret, by name, without values.
pub fn list(ws: &Workspace) -> AppResult<Vec<Stored>> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir(ws)) else {
        return Ok(out);
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        if let Some(name) = file.strip_suffix(".json")
            && let Some(mut s) = read(ws, name)?
        {
            s.sealed.clear();
            out.push(s);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Removes secret `name`. Returns whether it existed.
pub fn delete(ws: &Workspace, name: &str) -> AppResult<bool> {
    check_name(name)?;
    match std::fs::remove_file(path(ws, name)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(AppError::Failed(format!(
            "cannot remove secret `{name}`: {e}"
        ))),
    }
}

/// Writes a file only its owner can read, atomically, in a directory only its owner can
/// enter.
fn write_private(path: &Path, text: &str) -> AppResult<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail =
        |e: std::io::Error| AppError::Failed(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .map_err(fail)?;
    }
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_encrypted_at_rest_and_bound_to_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace {
            root: dir.path().to_path_buf(),
        };
        let now = Timestamp::now();
        set(&ws, "smtp", "hunter2-hunter2", now).unwrap();
        assert_eq!(get(&ws, "smtp").unwrap(), "hunter2-hunter2");
        let on_disk = std::fs::read_to_string(path(&ws, "smtp")).unwrap();
        assert!(!on_disk.contains("hunter2"));
        // Moved under another name, it no longer opens.
        std::fs::copy(path(&ws, "smtp"), path(&ws, "other")).unwrap();
        assert!(get(&ws, "other").is_err());
        // Replaced: the creation time stays, the rotation time moves.
        let later = now + jiff::SignedDuration::from_secs(60);
        let s = set(&ws, "smtp", "new-value-0000", later).unwrap();
        assert_eq!((s.created, s.rotated), (now, later));
        assert_eq!(list(&ws).unwrap().len(), 2);
        assert!(set(&ws, "../escape", "x", now).is_err());
        assert!(delete(&ws, "other").unwrap());
    }
}
