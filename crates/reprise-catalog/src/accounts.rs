//! Accounts and API tokens as stored. Passwords and tokens are kept only as hashes.

use jiff::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    pub name: String,
    /// `admin`, `operator`, `auditor`, `viewer`.
    pub role: String,
    /// `site:ID,tenant:NAME,…`; empty for everything.
    pub scope: String,
    /// Argon2id PHC string; `None` until a password is set (tokens only).
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created: Timestamp,
    pub disabled: Option<Timestamp>,
    /// Failed sign-ins in a row, and until when sign-in is refused.
    pub failed_signins: i64,
    pub locked_until: Option<Timestamp>,
    /// The preferred language of pages and reports (`en`, `fr`).
    pub lang: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRow {
    /// SHA-256 of the token, hex.
    #[serde(skip)]
    pub hash: String,
    /// A label, unique per account (`ci`, `grafana`, `session`).
    pub name: String,
    /// The account it acts for; `None` for tokens made before accounts existed, which act
    /// as `name` with every right.
    pub user: Option<String>,
    /// At most the account's role; the account's when `None`.
    pub role: Option<String>,
    /// At most the account's scope; the account's when `None`.
    pub scope: Option<String>,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    pub revoked: Option<Timestamp>,
}
