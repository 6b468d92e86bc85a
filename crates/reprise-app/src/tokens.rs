//! API tokens: 32 random bytes shown once, stored as their SHA-256.

use jiff::Timestamp;
use reprise_catalog::Catalog;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::workspace::hex;

/// The hash under which a token is stored and looked up.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Creates a token named `name` and returns it: the only time it is ever visible.
pub async fn create(catalog: &dyn Catalog, name: &str, now: Timestamp) -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Failed(format!("no randomness for a token: {e}")))?;
    let token = format!("rp_{}", hex(&bytes));
    catalog.create_token(name, &hash(&token), now).await?;
    Ok(token)
}

/// The name of the token's owner, if the token is valid.
pub async fn check(catalog: &dyn Catalog, token: &str) -> AppResult<Option<String>> {
    Ok(catalog.token_name(&hash(token)).await?)
}
