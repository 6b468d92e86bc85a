//! The agents' side of the server (`/agent/v1/…`): enrollment with a one-time code, then
//! check-ins, jobs taken and reported, each with the agent's own credential — and the
//! people's side under `/api/v1/agents`: list, invite, revoke, queue a backup.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use reprise_agents::fleet::{self as agents, AgentView, Assignment, Invite, Report};
use reprise_domain::Interval;
use reprise_ops::tokens::Principal;
use serde::{Deserialize, Serialize};

use crate::State;
use crate::http::{ApiError, ApiResult, body};

/// The agents' own routes, outside the API (their credentials open no API route).
pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/agent/v1/enrollment", post(enroll))
        .route("/agent/v1/check-in", post(check_in))
        .route("/agent/v1/jobs/{id}/take", post(take))
        .route("/agent/v1/jobs/{id}/report", post(report))
        .with_state(state)
}

/// The people's routes, nested under `/api/v1` (behind its authorization).
pub(crate) fn api() -> Router<Arc<State>> {
    Router::new()
        .route("/agents", get(list))
        .route("/agents/jobs", get(jobs))
        .route("/agents/invitations", post(invite))
        .route("/agents/{host}", delete(revoke))
        .route("/agents/{host}/backups", post(queue_backup))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The host a request's agent credential belongs to; 401 otherwise (journaled when the
/// credential was an agent's once).
async fn agent(state: &State, headers: &HeaderMap) -> Result<String, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an agent's credential is needed (enroll with `reprise agent enroll`)",
        )
    };
    let token = bearer(headers).ok_or_else(unauthorized)?;
    let catalog = &*state.catalog;
    match agents::authenticate(catalog, token, Timestamp::now()).await? {
        Some(host) => Ok(host),
        None => {
            if let Some(host) = agents::former_host(catalog, token).await {
                agents::refused(catalog, &host, "a check-in with a revoked credential").await;
            }
            Err(unauthorized())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrollBody {
    host: String,
    code: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Serialize)]
struct Enrolled {
    host: String,
    token: String,
}

async fn enroll(
    Extract(state): Extract<Arc<State>>,
    payload: Result<Json<EnrollBody>, JsonRejection>,
) -> ApiResult<Enrolled> {
    let b = body(payload)?;
    let token = agents::enroll(
        &state.ctx(),
        &b.host,
        &b.code,
        b.version.as_deref(),
        None,
        Timestamp::now(),
    )
    .await?;
    Ok(Json(Enrolled {
        host: b.host,
        token,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CheckInBody {
    #[serde(default)]
    version: Option<String>,
}

async fn check_in(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    payload: Result<Json<CheckInBody>, JsonRejection>,
) -> ApiResult<Assignment> {
    let host = agent(&state, &headers).await?;
    let b = body(payload)?;
    let assignment = agents::check_in(
        &state.ctx(),
        &host,
        b.version.as_deref(),
        None,
        state.started,
        Timestamp::now(),
    )
    .await?;
    Ok(Json(assignment))
}

async fn take(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<reprise_catalog::AgentJob> {
    let host = agent(&state, &headers).await?;
    Ok(Json(
        agents::take(&state.ctx(), &host, id, Timestamp::now()).await?,
    ))
}

#[derive(Serialize)]
struct Reported {
    job: reprise_catalog::AgentJob,
    datasets: Vec<reprise_ops::backup::DataSetOutcome>,
}

async fn report(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    payload: Result<Json<Report>, JsonRejection>,
) -> ApiResult<Reported> {
    let host = agent(&state, &headers).await?;
    let r = body(payload)?;
    let (job, datasets) = agents::report(&state.ctx(), &host, id, r, Timestamp::now()).await?;
    // New runs and restore points: the kept answers are stale.
    state.forget_overview();
    Ok(Json(Reported { job, datasets }))
}

async fn list(Extract(state): Extract<Arc<State>>) -> ApiResult<Vec<AgentView>> {
    Ok(Json(agents::list(&state.ctx(), Timestamp::now()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    #[serde(default)]
    host: Option<String>,
}

async fn jobs(
    Extract(state): Extract<Arc<State>>,
    query: Result<axum::extract::Query<JobsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Vec<reprise_catalog::AgentJob>> {
    let q = crate::http::query(query)?;
    Ok(Json(
        state.catalog.agent_jobs(q.host.as_deref(), false).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteBody {
    host: String,
    /// How long the code stays valid (`24h` by default).
    #[serde(default)]
    valid_for: Option<String>,
}

async fn invite(
    Extract(state): Extract<Arc<State>>,
    payload: Result<Json<InviteBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Invite>), ApiError> {
    let b = body(payload)?;
    let valid_for = match &b.valid_for {
        Some(text) => Interval::parse(text).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("valid_for: {e}"),
            )
        })?,
        None => Interval::from_secs(24 * 3600),
    };
    let made = agents::invite(&state.ctx(), &b.host, valid_for, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

async fn revoke(
    Extract(state): Extract<Arc<State>>,
    Path(host): Path<String>,
) -> Result<StatusCode, ApiError> {
    if agents::revoke(&state.ctx(), &host, Timestamp::now()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("host `{host}` has no agent nor invitation to revoke"),
        ))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct QueueBody {
    asset: String,
    #[serde(default)]
    datasets: Vec<String>,
}

#[derive(Serialize)]
struct Queued {
    job: i64,
}

async fn queue_backup(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    Path(host): Path<String>,
    payload: Result<Json<QueueBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Queued>), ApiError> {
    let b = body(payload)?;
    crate::auth::check_asset(&state, &principal, &b.asset)?;
    let ctx = state.ctx();
    if ctx.asset(&b.asset)?.host() != Some(host.as_str()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("asset `{}` is not on host `{host}`", b.asset),
        ));
    }
    let job = agents::queue_backup(
        &ctx,
        &b.asset,
        &b.datasets,
        Some(&format!("asked by {}", principal.user)),
        Timestamp::now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(Queued { job })))
}
