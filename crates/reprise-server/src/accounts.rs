//! `/api/v1/sessions` (sign in with a password), `/me`, `/users` (administrators) and
//! `/tokens` (each account its own; administrators every one).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, Path, State as Extract};
use axum::http::StatusCode;
use jiff::Timestamp;
use reprise_catalog::{TokenRow, UserRow};
use reprise_domain::Interval;
use reprise_domain::access::Role;
use reprise_ops::tokens::{self, Principal, Refused};
use serde::Deserialize;

use crate::State;
use crate::http::{ApiError, ApiResult, body};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignInBody {
    user: String,
    password: String,
}

/// Exchanges an account's password for a session token (12 hours). Unknown accounts and
/// wrong passwords get the same answer; from the fifth failure in a row the account is
/// locked for a while (429, with the time it opens again).
pub async fn sign_in(
    Extract(state): Extract<Arc<State>>,
    payload: Result<Json<SignInBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b = body(payload)?;
    let now = Timestamp::now();
    // Journaled as the account signing in, not as the server.
    let outcome = reprise_ops::journal::ACTOR
        .scope(
            b.user.clone(),
            tokens::sign_in(&*state.catalog, &b.user, &b.password, now),
        )
        .await?;
    match outcome {
        Ok((token, row)) => Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({ "token": token, "user": b.user, "expires": row.expires })),
        )),
        Err(Refused::Invalid) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown account or wrong password",
        )),
        Err(Refused::Locked { until }) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "locked",
            format!("too many failed sign-ins: try again after {until}"),
        )),
    }
}

pub async fn me(Extension(principal): Extension<Principal>) -> ApiResult<Principal> {
    Ok(Json(principal))
}

pub async fn users(Extract(state): Extract<Arc<State>>) -> ApiResult<Vec<UserRow>> {
    Ok(Json(state.catalog.users().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUserBody {
    name: String,
    role: String,
    #[serde(default)]
    scope: String,
    password: Option<String>,
}

pub async fn add_user(
    Extract(state): Extract<Arc<State>>,
    payload: Result<Json<NewUserBody>, JsonRejection>,
) -> Result<(StatusCode, Json<UserRow>), ApiError> {
    let b = body(payload)?;
    let user = tokens::add_user(
        &*state.catalog,
        &b.name,
        &b.role,
        &b.scope,
        b.password.as_deref(),
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// The caller's tokens; every token for an administrator.
pub async fn tokens(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Vec<TokenRow>> {
    let all = state.catalog.tokens().await?;
    Ok(Json(
        all.into_iter()
            .filter(|t| {
                principal.role == Role::Admin
                    || t.user.as_deref().unwrap_or(&t.name) == principal.user
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTokenBody {
    name: String,
    /// At most the caller's role.
    role: Option<String>,
    /// At most the caller's scope.
    scope: Option<String>,
    /// `90d`, `12h`.
    expires: Option<String>,
}

/// A token for the caller's own account, with at most the caller's rights.
pub async fn create_token(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    payload: Result<Json<NewTokenBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let b = body(payload)?;
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m);
    let expires = b
        .expires
        .as_deref()
        .map(|e| Interval::parse(e).map_err(|e| invalid(format!("`expires`: {e}"))))
        .transpose()?;
    // Never more than the token used to ask: its role and scope bound the new one.
    let role = b
        .role
        .unwrap_or_else(|| principal.role.as_str().to_string());
    if !Role::parse(&role).is_some_and(|r| r.within(principal.role)) {
        return Err(invalid(format!(
            "a token made with this one cannot have the role `{role}`"
        )));
    }
    let scope = b.scope.unwrap_or_else(|| principal.scope.to_string());
    let (token, row) = tokens::create(
        &*state.catalog,
        &principal.user,
        &b.name,
        Some(&role),
        Some(&scope),
        expires,
        Timestamp::now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            serde_json::json!({ "token": token, "name": row.name, "role": row.role, "scope": row.scope, "expires": row.expires }),
        ),
    ))
}

pub async fn revoke_token(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if tokens::revoke(&*state.catalog, &principal.user, &name, Timestamp::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("`{}` has no live token `{name}`", principal.user),
        ))
    }
}
