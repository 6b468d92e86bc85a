//! Accounts and API tokens (R002.5).
//!
//! An account has a role and a scope (sites, tenants), and a password hashed with
//! Argon2id. A token acts for an account with at most its role and scope, until it expires
//! or is revoked; it is 32 random bytes shown once and stored as its SHA-256. Signing in
//! with a password gives a session token; repeated failures lock the account for a while,
//! longer at each further failure. Tokens made before accounts existed have no account:
//! they act as their name with every right, as they did.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{Catalog, TokenRow, UserRow};
use reprise_domain::Interval;
use reprise_domain::access::{Role, Scope};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use reprise_workspace::text::hex;

/// The hash under which a token is stored and looked up.
pub fn hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// The shortest password accepted.
pub(crate) const MIN_PASSWORD: usize = 12;
/// Failed sign-ins in a row before the account is locked.
pub(crate) const FREE_ATTEMPTS: i64 = 5;
/// How long a signed-in session lasts.
pub const SESSION: SignedDuration = SignedDuration::from_hours(12);

/// Who a request acts as, and what it may touch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    pub user: String,
    pub role: Role,
    pub scope: Scope,
    /// The token's label.
    pub token: String,
    pub lang: Option<String>,
}

impl Principal {
    /// Everything, for the command line and the scheduler (whoever can read the
    /// workspace's files already holds its keys).
    pub fn local(user: &str) -> Self {
        Self {
            user: user.to_string(),
            role: Role::Admin,
            scope: Scope::default(),
            token: "local".into(),
            lang: None,
        }
    }
}

fn parse_role(text: &str) -> AppResult<Role> {
    Role::parse(text).ok_or_else(|| {
        AppError::Invalid(format!(
            "unknown role `{text}` (admin, operator, auditor, viewer)"
        ))
    })
}

fn parse_scope(text: &str) -> AppResult<Scope> {
    Scope::parse(text).map_err(AppError::Invalid)
}

pub(crate) fn hash_password(password: &str) -> AppResult<String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AppError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Failed(format!("cannot hash the password: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).ok().is_some_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Creates an account. `password` may be left out for an account that only uses tokens.
pub async fn add_user(
    catalog: &dyn Catalog,
    name: &str,
    role: &str,
    scope: &str,
    password: Option<&str>,
    now: Timestamp,
) -> AppResult<UserRow> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if !valid {
        return Err(AppError::Invalid(format!(
            "`{name}` is not an account name: letters, digits, - _ . @"
        )));
    }
    if catalog.user(name).await?.is_some() {
        return Err(AppError::Invalid(format!(
            "account `{name}` exists already"
        )));
    }
    let role = parse_role(role)?;
    let scope = parse_scope(scope)?;
    let user = UserRow {
        name: name.to_string(),
        role: role.as_str().into(),
        scope: scope.to_string(),
        password_hash: password.map(hash_password).transpose()?,
        created: now,
        disabled: None,
        failed_signins: 0,
        locked_until: None,
        lang: None,
    };
    catalog.save_user(&user).await?;
    Ok(user)
}

/// What to change of an account.
#[derive(Debug, Default)]
pub struct UserChange {
    pub role: Option<String>,
    pub scope: Option<String>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
    pub unlock: bool,
    pub lang: Option<String>,
}

pub async fn change_user(
    catalog: &dyn Catalog,
    name: &str,
    change: &UserChange,
    now: Timestamp,
) -> AppResult<UserRow> {
    let mut user = catalog.user(name).await?.ok_or_else(|| {
        AppError::Invalid(format!("no account `{name}` (see `reprise user list`)"))
    })?;
    if let Some(r) = &change.role {
        user.role = parse_role(r)?.as_str().into();
    }
    if let Some(s) = &change.scope {
        user.scope = parse_scope(s)?.to_string();
    }
    if let Some(p) = &change.password {
        user.password_hash = Some(hash_password(p)?);
    }
    match change.disabled {
        Some(true) => user.disabled = Some(now),
        Some(false) => user.disabled = None,
        None => {}
    }
    if change.unlock {
        user.failed_signins = 0;
        user.locked_until = None;
    }
    if let Some(l) = &change.lang {
        if !matches!(l.as_str(), "en" | "fr") {
            return Err(AppError::Invalid(format!(
                "unknown language `{l}` (en or fr)"
            )));
        }
        user.lang = Some(l.clone());
    }
    catalog.save_user(&user).await?;
    Ok(user)
}

/// Makes a token for `user` (an existing account), with at most its role and scope.
/// Returns the token: the only time it is ever visible.
pub async fn create(
    catalog: &dyn Catalog,
    user: &str,
    name: &str,
    role: Option<&str>,
    scope: Option<&str>,
    expires_in: Option<Interval>,
    now: Timestamp,
) -> AppResult<(String, TokenRow)> {
    // A token is revoked and listed by its name: it needs one that can be written.
    let named = !name.trim().is_empty()
        && name.chars().count() <= 64
        && !name.chars().any(char::is_control);
    if !named {
        return Err(AppError::Invalid(format!(
            "`{name}` is not a token name: give it one (1 to 64 characters, `ci`, `prometheus`)"
        )));
    }
    let account = catalog.user(user).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "no account `{user}` (see `reprise user list`; `reprise user add {user} --role admin` creates it)"
        ))
    })?;
    let account_role = parse_role(&account.role)?;
    let account_scope = parse_scope(&account.scope)?;
    let role = role.map(parse_role).transpose()?;
    if let Some(r) = role
        && !r.within(account_role)
    {
        return Err(AppError::Invalid(format!(
            "a token of `{user}` cannot have the role {} (the account is {})",
            r.as_str(),
            account_role.as_str()
        )));
    }
    let scope = scope.map(parse_scope).transpose()?;
    if let Some(s) = &scope
        && !s.within(&account_scope)
    {
        return Err(AppError::Invalid(format!(
            "a token of `{user}` cannot see beyond the account's scope `{account_scope}`"
        )));
    }
    if has_live(catalog, user, name, now).await? {
        return Err(AppError::Invalid(format!(
            "`{user}` already has a token `{name}`: revoke it first, or choose another name"
        )));
    }
    let token = new_token()?;
    let row = TokenRow {
        hash: hash(&token),
        name: name.to_string(),
        user: Some(user.to_string()),
        role: role.map(|r| r.as_str().to_string()),
        scope: scope.map(|s| s.to_string()),
        created: now,
        expires: expires_in.map(|i| now + SignedDuration::from_secs(i.as_secs() as i64)),
        revoked: None,
    };
    catalog.create_token(&row).await?;
    Ok((token, row))
}

/// Whether `user` has a live (neither revoked nor expired) token `name`.
pub async fn has_live(
    catalog: &dyn Catalog,
    user: &str,
    name: &str,
    now: Timestamp,
) -> AppResult<bool> {
    Ok(catalog.tokens().await?.into_iter().any(|t| {
        t.user.as_deref() == Some(user)
            && t.name == name
            && t.revoked.is_none()
            && t.expires.is_none_or(|e| e > now)
    }))
}

/// A new token: 32 random bytes, written `rp_` and hex.
pub fn new_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Failed(format!("no randomness for a token: {e}")))?;
    Ok(format!("rp_{}", hex(&bytes)))
}

/// The first account of a new workspace, `admin`, with a token (returned, shown once):
/// tokens only until `reprise user passwd admin`.
pub async fn first_admin(catalog: &dyn Catalog, now: Timestamp) -> AppResult<String> {
    add_user(catalog, "admin", "admin", "", None, now).await?;
    let (token, _) = create(catalog, "admin", "admin", None, None, None, now).await?;
    Ok(token)
}

/// Who a token acts as, if it is valid now.
pub async fn authenticate(
    catalog: &dyn Catalog,
    token: &str,
    now: Timestamp,
) -> AppResult<Option<Principal>> {
    let Some(row) = catalog.token(&hash(token)).await? else {
        return Ok(None);
    };
    if row.revoked.is_some() || row.expires.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let Some(user) = &row.user else {
        // Made before accounts existed: acts as its name, with every right.
        return Ok(Some(Principal {
            user: row.name.clone(),
            role: Role::Admin,
            scope: Scope::default(),
            token: row.name,
            lang: None,
        }));
    };
    let Some(account) = catalog.user(user).await? else {
        return Ok(None);
    };
    if account.disabled.is_some() {
        return Ok(None);
    }
    let account_role = parse_role(&account.role)?;
    let account_scope = parse_scope(&account.scope)?;
    // Never more than the account has now, even if it lost rights since.
    let role = row
        .role
        .as_deref()
        .and_then(Role::parse)
        .filter(|r| r.within(account_role))
        .unwrap_or(account_role);
    let scope = row
        .scope
        .as_deref()
        .and_then(|s| Scope::parse(s).ok())
        .filter(|s| s.within(&account_scope))
        .unwrap_or(account_scope);
    Ok(Some(Principal {
        user: account.name,
        role,
        scope,
        token: row.name,
        lang: account.lang,
    }))
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Refused {
    /// Unknown account, wrong password, disabled account or no password set: not told
    /// apart, so that names cannot be probed.
    Invalid,
    /// Too many failures in a row: refused until then, even with the right password.
    Locked { until: Timestamp },
}

/// Checks a password and returns a session token, or why not. Failures count; from the
/// fifth in a row the account is locked 1, 2, 4… minutes (at most 15).
pub async fn sign_in(
    catalog: &dyn Catalog,
    name: &str,
    password: &str,
    now: Timestamp,
) -> AppResult<Result<(String, TokenRow), Refused>> {
    // Each attempt first takes its place in the count of failures, atomically (compare
    // and swap in the catalog), and only then is its password checked: however many
    // arrive at once, no more than the free attempts are checked before the lock.
    let user = loop {
        let Some(user) = catalog.user(name).await? else {
            // The same work as for a real account.
            let _ = password_matches(password, DUMMY_HASH);
            return Ok(Err(Refused::Invalid));
        };
        if let Some(until) = user.locked_until
            && until > now
        {
            return Ok(Err(Refused::Locked { until }));
        }
        let failed = user.failed_signins + 1;
        let locked = (failed >= FREE_ATTEMPTS).then(|| {
            let minutes = 1i64 << (failed - FREE_ATTEMPTS).min(4);
            now + SignedDuration::from_mins(minutes.min(15))
        });
        if catalog
            .swap_signins(name, user.failed_signins, failed, locked)
            .await?
        {
            break UserRow {
                failed_signins: failed,
                locked_until: locked,
                ..user
            };
        }
    };
    let ok = user.disabled.is_none()
        && user
            .password_hash
            .as_deref()
            .is_some_and(|h| password_matches(password, h));
    if !ok {
        crate::journal::note(
            catalog,
            "signin.failed",
            &format!("account {name}"),
            format!(
                "{} failure(s) in a row{}",
                user.failed_signins,
                user.locked_until
                    .map(|u| format!("; locked until {u}"))
                    .unwrap_or_default()
            ),
        )
        .await?;
        return Ok(Err(match user.locked_until {
            Some(until) if until > now => Refused::Locked { until },
            _ => Refused::Invalid,
        }));
    }
    // The right password: the count starts again (unless another attempt counted since).
    catalog
        .swap_signins(name, user.failed_signins, 0, None)
        .await?;
    // Unique per sign-in, so that signing out (which revokes by label) ends only this one.
    let label = format!("session-{}", now.as_microsecond());
    let (token, row) = create(
        catalog,
        name,
        &label,
        None,
        None,
        Some(Interval::from_secs(SESSION.as_secs() as u64)),
        now,
    )
    .await?;
    Ok(Ok((token, row)))
}

/// A valid Argon2id hash of a random password, checked against when the account does not
/// exist, so that a sign-in takes as long either way.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Rj0ZzVf7x0f3qM2V9Yh0yQm3+o7Bq7y3dC1oQdQfD0Q";

/// Revokes `user`'s live token `name`. Returns whether there was one.
pub async fn revoke(
    catalog: &dyn Catalog,
    user: &str,
    name: &str,
    now: Timestamp,
) -> AppResult<bool> {
    let mut revoked = false;
    for t in catalog.tokens().await? {
        let owner = t.user.as_deref().unwrap_or(t.name.as_str());
        if owner == user && t.name == name && t.revoked.is_none() {
            revoked |= catalog.revoke_token(&t.hash, now).await?;
        }
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_argon2id_and_checked() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &h));
        assert!(!password_matches("correct horse batterY", &h));
        assert!(hash_password("short").is_err());
        assert!(!password_matches("anything", DUMMY_HASH));
    }
}
