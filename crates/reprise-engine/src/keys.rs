//! Key files, written by Reprise within restic's memory budget.
//!
//! A key file holds the repository's master key, encrypted with a key that scrypt derives
//! from a password. The engine library would write them with scrypt's recommended
//! parameters (N = 2^17, r = 8): 128 MiB at every open of the repository, the largest
//! allocation of most commands. Stock restic keeps scrypt within 60 MiB and spends the
//! same time with a higher parallelism instead. Reprise writes its key files itself (at
//! init, and for each new password) with N = 2^15, r = 8, p = 4: 32 MiB, the same amount
//! of work. Stock restic and the engine library read them as they read their own.

use std::sync::Arc;

use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use aes256ctr_poly1305aes::aead::AeadInPlace;
use rustic_core::repofile::{KeyFile, MasterKey};
use rustic_core::{FileType, Id, WriteBackend};
use sha2::{Digest, Sha256};

use crate::{EngineError, Result};

/// scrypt's cost: 128 × r × N bytes of memory (32 MiB), p rounds of it.
const N: u32 = 1 << 15;
const R: u32 = 8;
const P: u32 = 4;

type Nonce = aes256ctr_poly1305aes::aead::Nonce<Aes256CtrPoly1305Aes>;

fn random<const L: usize>() -> Result<[u8; L]> {
    let mut bytes = [0u8; L];
    getrandom::fill(&mut bytes)
        .map_err(|e| EngineError::Io(format!("no randomness for a key file: {e}")))?;
    Ok(bytes)
}

/// Writes a key file that opens `master` with `password`, and returns its id.
pub(crate) fn write(
    be: &Arc<dyn WriteBackend>,
    master: &MasterKey,
    password: &str,
    location: &str,
) -> Result<Id> {
    let fail = |what: &str, e: &dyn std::fmt::Display| EngineError::Repository {
        location: location.to_string(),
        reason: format!("{what}: {e}"),
    };
    let mut file = KeyFile {
        hostname: Some("reprise".to_string()),
        username: None,
        created: Some(jiff::Zoned::now()),
        kdf: "scrypt".to_string(),
        n: N,
        r: R,
        p: P,
        data: Vec::new(),
        salt: random::<64>()?.to_vec(),
    };
    let (encrypt, k, r) = file
        .kdf_key(&password)
        .map_err(|e| fail("deriving a key", &e))?
        .to_keys();
    // The AEAD takes the encryption key and the two MAC keys as one 64-byte key.
    let mut key = [0u8; 64];
    key.copy_from_slice(&[encrypt, k, r].concat());
    let aead = Aes256CtrPoly1305Aes::new(&key.into());
    // As restic stores it: nonce, the master key's JSON encrypted, the MAC.
    let nonce = random::<16>()?;
    let mut sealed = serde_json::to_vec(master).map_err(|e| fail("writing a key", &e))?;
    let tag = aead
        .encrypt_in_place_detached(&Nonce::from(nonce), &[], &mut sealed)
        .map_err(|e| fail("encrypting a key", &e))?;
    file.data = [&nonce[..], &sealed, &tag].concat();
    let json = serde_json::to_vec(&file).map_err(|e| fail("writing a key", &e))?;
    let id = Id::new(Sha256::digest(&json).into());
    be.write_bytes(FileType::Key, &id, false, json.into())
        .map_err(|e| fail("writing a key", &e))?;
    Ok(id)
}
