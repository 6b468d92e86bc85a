//! Who may call what. Every request under `/api/v1` (but signing in) carries a bearer
//! token; the token gives a [`Principal`] (account, role, scope); each route needs a kind
//! of [`Action`] its role must allow; handlers then keep a scoped account to its own
//! sites and tenants.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State as Extract};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use reprise_domain::access::Action;
use reprise_ops::tokens::Principal;

use crate::State;
use crate::http::{Actor, ApiError};

/// The kind of action a route needs. Unknown routes need the most.
pub fn policy(method: &Method, path: &str) -> Action {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let read = method == Method::GET;
    match path {
        "/me" | "/tokens" | "/tokens/{name}" => Action::Read,
        "/assets" | "/status" | "/runs" | "/restore-points" | "/alerts" | "/repositories"
        | "/readiness" | "/categories" | "/openapi.json" | "/metrics" | "/devices"
        | "/suspicions" | "/agents" | "/agents/jobs"
            if read =>
        {
            Action::Read
        }
        // Anyone may ask for data back (a client, within its scope); deciding is operating.
        "/requests" if !read => Action::Read,
        // A requester follows its own requests (within its scope).
        p if read && p.starts_with("/requests") => Action::Read,
        p if read && p.starts_with("/incidents") => Action::ReadRecords,
        "/journal" | "/journal/verification" => Action::Audit,
        // Proofs of erasure, exports and evidence packs are for auditors; erasing is
        // administering.
        "/erasures" | "/erasures/{id}" | "/exports/{kind}" | "/evidence" if read => Action::Audit,
        "/backups"
        | "/verifications"
        | "/restores"
        | "/alerts/acknowledgements"
        | "/devices/checks"
        | "/agents/{host}/backups"
        | "/assets/{id}/state" => Action::Operate,
        p if p.starts_with("/incidents") || p.starts_with("/requests") => Action::Operate,
        _ => Action::Administer,
    }
}

fn action_words(action: Action) -> &'static str {
    match action {
        Action::Read => "read dashboards",
        Action::ReadRecords => "read incidents and restore requests",
        Action::Audit => "read the journal",
        Action::Operate => "run backups, restores, incidents and requests",
        Action::Administer => "administer accounts, tokens and approvals",
    }
}

/// Refuses requests without a valid token (401) or whose role does not allow the route
/// (403); otherwise passes the principal on, and journals what follows as its account.
pub(crate) async fn authorize(
    Extract(state): Extract<Arc<State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer TOKEN` (from `reprise token create`, or POST /api/v1/sessions with an account's password)",
        )
        .into_response();
    };
    let principal =
        match reprise_ops::tokens::authenticate(&*state.catalog, token, Timestamp::now()).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "this token is unknown, revoked or expired, or its account is disabled",
                )
                .into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        };
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let needed = policy(request.method(), &path);
    if !principal.role.allows(needed) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the role {} of `{}` may not {}",
                principal.role.as_str(),
                principal.user,
                action_words(needed)
            ),
        )
        .into_response();
    }
    let spans_every_site = [
        "/api/v1/incidents",
        "/api/v1/journal",
        "/api/v1/self-backups",
        "/api/v1/users",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    if spans_every_site && !principal.scope.is_everything() {
        return out_of_scope(&principal, "this (it spans every site)").into_response();
    }
    let user = principal.user.clone();
    request.extensions_mut().insert(Actor(user.clone()));
    request.extensions_mut().insert(principal);
    // What this request changes is journaled as the account.
    reprise_ops::journal::ACTOR
        .scope(user, next.run(request))
        .await
}

/// A 403 for something beyond the principal's scope.
pub fn out_of_scope(principal: &Principal, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "out_of_scope",
        format!(
            "`{}` is limited to {}: {what} is beyond it",
            principal.user, principal.scope
        ),
    )
}

/// Whether the principal may see asset `id` (unknown ids are left to the handler).
pub fn covers(state: &State, principal: &Principal, id: &str) -> bool {
    principal.scope.is_everything()
        || state
            .loaded
            .config
            .inventory
            .asset(id)
            .is_some_and(|a| principal.scope.covers(a))
}

/// Refuses an asset beyond the principal's scope.
pub(crate) fn check_asset(state: &State, principal: &Principal, id: &str) -> Result<(), ApiError> {
    if covers(state, principal, id) {
        Ok(())
    } else {
        Err(out_of_scope(principal, &format!("asset `{id}`")))
    }
}

/// Refuses what spans every site (incidents, repositories' verification) to a scoped
/// principal.
pub(crate) fn require_everything(principal: &Principal, what: &str) -> Result<(), ApiError> {
    if principal.scope.is_everything() {
        Ok(())
    } else {
        Err(out_of_scope(principal, what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_needs_the_right_kind_of_action() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(policy(&get, "/api/v1/status"), Action::Read);
        assert_eq!(policy(&get, "/api/v1/incidents/{id}"), Action::ReadRecords);
        assert_eq!(policy(&post, "/api/v1/incidents"), Action::Operate);
        assert_eq!(policy(&post, "/api/v1/requests"), Action::Read);
        assert_eq!(policy(&get, "/api/v1/requests/{id}"), Action::Read);
        assert_eq!(
            policy(&post, "/api/v1/requests/{id}/approval"),
            Action::Operate
        );
        assert_eq!(policy(&get, "/api/v1/journal"), Action::Audit);
        assert_eq!(policy(&get, "/api/v1/evidence"), Action::Audit);
        assert_eq!(policy(&post, "/api/v1/erasures"), Action::Administer);
        assert_eq!(
            policy(&post, "/api/v1/erasures/{id}/execution"),
            Action::Administer
        );
        assert_eq!(policy(&post, "/api/v1/backups"), Action::Operate);
        assert_eq!(policy(&post, "/api/v1/assets/{id}/state"), Action::Operate);
        assert_eq!(policy(&post, "/api/v1/self-backups"), Action::Administer);
        assert_eq!(
            policy(&post, "/api/v1/readiness/approvals"),
            Action::Administer
        );
        assert_eq!(policy(&get, "/api/v1/users"), Action::Administer);
        assert_eq!(policy(&post, "/api/v1/somewhere-new"), Action::Administer);
    }
}
