//! Records and privacy over the API: erasures with proof (`/erasures`), CSV exports
//! (`/exports/{kind}`) and evidence packs (`/evidence`). They concern the whole
//! workspace, so scoped accounts are refused.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use reprise_ops::erase::{self, ErasureView};
use reprise_ops::tokens::Principal;
use reprise_oversight::export::{self, Filter, Kind};
use serde::Deserialize;

use crate::State;
use crate::auth::require_everything;
use crate::http::{Actor, ApiError, ApiResult, body, query};

fn whole(principal: &Principal) -> Result<(), ApiError> {
    require_everything(principal, "records of the whole workspace")
}

pub async fn erasures(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Vec<ErasureView>> {
    whole(&principal)?;
    Ok(Json(erase::list(&state.ctx(), None).await?))
}

pub async fn erasure(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<ErasureView> {
    whole(&principal)?;
    Ok(Json(erase::show(&state.ctx(), id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanBody {
    asset: String,
    paths: Vec<String>,
    reason: String,
}

/// Plans an erasure: nothing is erased until it is executed.
pub async fn plan(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    payload: Result<Json<PlanBody>, JsonRejection>,
) -> Result<(StatusCode, Json<ErasureView>), ApiError> {
    whole(&principal)?;
    let b = body(payload)?;
    let view = erase::plan(&state.ctx(), &b.asset, &b.paths, &b.reason, &actor).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn execute(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    _: crate::http::NoBody,
) -> ApiResult<ErasureView> {
    whole(&principal)?;
    // An erasure prunes: none of this server's backups may run beside it.
    let mut key = state.writers();
    key.push(format!("erase:{id}"));
    if !state.claim(&key) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "busy",
            "a backup, an export or the self-backup is running on this server: an erasure prunes the repositories, so it waits until nothing writes to them; try again when it ends",
        ));
    }
    // A task of its own: a client that goes away does not stop an erasure half-way, and
    // the claim is given back whatever happens to this request.
    let worker = state.clone();
    let erasure = tokio::spawn(async move {
        let result = crate::job(&worker, erase::execute(&worker.ctx(), id, &actor)).await;
        worker.unclaim(&key);
        result
    });
    let result = erasure.await.map_err(|e| {
        tracing::error!(error = %e, "erasure task failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the erasure stopped unexpectedly; the server log has the details",
        )
    })?;
    Ok(Json(result?))
}

pub async fn cancel(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    _: crate::http::NoBody,
) -> ApiResult<ErasureView> {
    whole(&principal)?;
    Ok(Json(erase::cancel(&state.ctx(), id, &actor).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    site: Option<String>,
    /// First day included (`2026-07-01`).
    since: Option<jiff::civil::Date>,
    /// Last day included.
    until: Option<jiff::civil::Date>,
    #[serde(rename = "type")]
    kind_type: Option<String>,
}

fn bad(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// One export as CSV; `404 empty` saying why when no row matches.
pub async fn csv(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    Path(kind): Path<String>,
    q: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    whole(&principal)?;
    let q = query(q)?;
    let kind = Kind::parse(kind.trim_end_matches(".csv")).map_err(bad)?;
    let ctx = state.ctx();
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let start = |d: jiff::civil::Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| bad(e.to_string()))
    };
    let filter = Filter {
        site: q.site,
        since: q.since.map(start).transpose()?,
        until: q
            .until
            .map(|d| d.tomorrow().map_err(|e| bad(e.to_string())).and_then(start))
            .transpose()?,
        kind_type: q.kind_type,
    };
    let sheet = export::sheet(&ctx, kind, &filter).await?;
    if sheet.rows.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "empty",
            export::why_empty(kind, &filter, &tz),
        ));
    }
    let bytes = export::encode(&sheet.header, &sheet.rows);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}.csv\"", kind.as_str()),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EvidenceQuery {
    period: String,
}

/// The evidence pack of a period, as a `.tar.gz` archive.
pub async fn evidence(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    q: Result<Query<EvidenceQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    whole(&principal)?;
    let q = query(q)?;
    let ctx = state.ctx();
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let period = reprise_oversight::evidence::parse_period(&q.period, &tz).map_err(bad)?;
    let (name, bytes) = reprise_oversight::evidence::archive(&ctx, &period).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/gzip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
