//! Key files with restic's memory budget for the password's key derivation.
//!
//! The engine library writes new key files with scrypt's recommended parameters (N = 2^17,
//! r = 8: 128 MiB for every open of the repository, the largest allocation of most
//! commands). Stock restic keeps scrypt within 60 MiB and spends the same time with a
//! higher parallelism instead. A key file is rewritten that way right after it is made:
//! N = 2^15, r = 8, p = 4 (32 MiB, the same amount of work as before), the master key
//! itself unchanged. Stock restic and the engine library read such key files as they do
//! their own.

use std::sync::Arc;

use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use aes256ctr_poly1305aes::aead::{Aead, AeadInPlace};
use rustic_core::repofile::KeyFile;
use rustic_core::{FileType, Id, WriteBackend};
use sha2::{Digest, Sha256};

use crate::{EngineError, Result};

/// scrypt's cost: 128 × r × N bytes of memory (32 MiB), p rounds of it.
const N: u32 = 1 << 15;
const R: u32 = 8;
const P: u32 = 4;

type Nonce = aes256ctr_poly1305aes::aead::Nonce<Aes256CtrPoly1305Aes>;

/// The 64 bytes of an encryption and MAC key, as the AEAD takes them.
fn aead(key: (Vec<u8>, Vec<u8>, Vec<u8>)) -> Aes256CtrPoly1305Aes {
    let (encrypt, k, r) = key;
    let mut bytes = [0u8; 64];
    bytes.copy_from_slice(&[encrypt, k, r].concat());
    Aes256CtrPoly1305Aes::new(&bytes.into())
}

fn random<const L: usize>() -> Result<[u8; L]> {
    let mut bytes = [0u8; L];
    getrandom::fill(&mut bytes)
        .map_err(|e| EngineError::Io(format!("no randomness for a key file: {e}")))?;
    Ok(bytes)
}

/// Rewrites the key files that `password` opens and that cost more memory than restic's
/// to derive. Returns each rewritten key's former and new id.
pub(crate) fn lighten(
    be: &Arc<dyn WriteBackend>,
    password: &str,
    location: &str,
) -> Result<Vec<(Id, Id)>> {
    let fail = |what: &str, e: &dyn std::fmt::Display| EngineError::Repository {
        location: location.to_string(),
        reason: format!("{what}: {e}"),
    };
    let mut rewritten = Vec::new();
    for (id, _) in be
        .list_with_size(FileType::Key)
        .map_err(|e| fail("listing the keys", &e))?
    {
        let bytes = be
            .read_full(FileType::Key, &id)
            .map_err(|e| fail("reading a key", &e))?;
        let Ok(old) = serde_json::from_slice::<KeyFile>(&bytes) else {
            continue;
        };
        if old.kdf != "scrypt" || u64::from(old.n) * u64::from(old.r) <= u64::from(N * R) {
            continue;
        }
        // Another password's key: left as it is.
        let Ok(derived) = old.kdf_key(&password) else {
            continue;
        };
        let Some((nonce, sealed)) = old.data.split_first_chunk::<16>() else {
            continue;
        };
        let Ok(master) = aead(derived.to_keys()).decrypt(&Nonce::from(*nonce), sealed) else {
            continue;
        };
        let mut new: KeyFile =
            serde_json::from_slice(&bytes).map_err(|e| fail("reading a key", &e))?;
        new.n = N;
        new.r = R;
        new.p = P;
        new.salt = random::<64>()?.to_vec();
        let derived = new
            .kdf_key(&password)
            .map_err(|e| fail("deriving a key", &e))?;
        let nonce = random::<16>()?;
        let mut data = nonce.to_vec();
        data.extend_from_slice(&master);
        let tag = aead(derived.to_keys())
            .encrypt_in_place_detached(&Nonce::from(nonce), &[], &mut data[16..])
            .map_err(|e| fail("encrypting a key", &e))?;
        data.extend_from_slice(&tag);
        new.data = data;
        // The new key must open the repository before the old one goes.
        new.key_from_password(&password)
            .map_err(|e| fail("checking the rewritten key", &e))?;
        let json = serde_json::to_vec(&new).map_err(|e| fail("writing a key", &e))?;
        let new_id = Id::new(Sha256::digest(&json).into());
        be.write_bytes(FileType::Key, &new_id, false, json.into())
            .map_err(|e| fail("writing a key", &e))?;
        be.remove(FileType::Key, &id, false)
            .map_err(|e| fail("removing the former key", &e))?;
        rewritten.push((id, new_id));
    }
    Ok(rewritten)
}
