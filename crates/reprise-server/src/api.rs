//! The routes. Everything under `/api/v1` needs `Authorization: Bearer TOKEN`; errors are
//! `{"code": "...", "message": "..."}` with a stable code.

use std::sync::Arc;

use axum::extract::{Query, Request, State as Extract};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use reprise_app::backup::Selection;
use reprise_app::error::AppError;
use reprise_catalog::{RunFilter, RunKind};
use serde::Deserialize;

use crate::State;

/// An API error: a stable code for programs, a message for people. Internal details are
/// logged, never sent.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m),
            other => {
                eprintln!("api: {other}");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "the operation failed; the server log has the details",
                )
            }
        }
    }
}

impl From<reprise_catalog::CatalogError> for ApiError {
    fn from(err: reprise_catalog::CatalogError) -> Self {
        AppError::from(err).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "code": self.code, "message": self.message })),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn router(state: Arc<State>) -> Router {
    let api = Router::new()
        .route("/assets", get(assets))
        .route("/status", get(status))
        .route("/runs", get(runs))
        .route("/restore-points", get(restore_points))
        .route("/backups", post(backups))
        .route("/alerts", get(alerts))
        .route_layer(middleware::from_fn_with_state(state.clone(), bearer))
        .route("/openapi.json", get(crate::openapi::document));
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(crate::metrics::render))
        .nest("/api/v1", api)
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .with_state(state)
}

/// Refuses requests without a valid bearer token.
async fn bearer(Extract(state): Extract<Arc<State>>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer TOKEN` (tokens come from `reprise init` or `reprise token create`)",
        )
        .into_response();
    };
    match reprise_app::tokens::check(&*state.catalog, token).await {
        Ok(Some(_)) => next.run(request).await,
        Ok(None) => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or revoked token",
        )
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn assets(Extract(state): Extract<Arc<State>>) -> ApiResult<serde_json::Value> {
    Ok(Json(
        serde_json::to_value(&state.loaded.config.inventory.assets).unwrap_or_default(),
    ))
}

async fn status(
    Extract(state): Extract<Arc<State>>,
) -> ApiResult<Vec<reprise_app::status::AssetStatus>> {
    Ok(Json(
        reprise_app::status::run(&state.ctx(), Timestamp::now()).await?,
    ))
}

#[derive(Deserialize)]
struct RunQuery {
    asset: Option<String>,
    kind: Option<String>,
    limit: Option<u32>,
}

async fn runs(
    Extract(state): Extract<Arc<State>>,
    Query(q): Query<RunQuery>,
) -> ApiResult<Vec<reprise_catalog::Run>> {
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(RunKind::parse(k).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("unknown run kind `{k}` (backup, restore, verify, retention, copy)"),
            )
        })?),
    };
    let runs = state
        .catalog
        .runs(&RunFilter {
            asset: q.asset,
            kind,
            limit: Some(q.limit.unwrap_or(100).min(10_000)),
        })
        .await?;
    Ok(Json(runs))
}

#[derive(Deserialize)]
struct AssetQuery {
    asset: Option<String>,
}

async fn restore_points(
    Extract(state): Extract<Arc<State>>,
    Query(q): Query<AssetQuery>,
) -> ApiResult<Vec<reprise_app::snapshots::PointView>> {
    if let Some(id) = &q.asset {
        state.ctx().asset(id)?;
    }
    let points = state.catalog.restore_points(q.asset.as_deref()).await?;
    Ok(Json(reprise_app::snapshots::group(&points)))
}

#[derive(Deserialize)]
struct BackupBody {
    #[serde(default)]
    assets: Vec<String>,
    #[serde(default)]
    all: bool,
    /// Why: `after change: firmware upgrade` (R000.3: a backup after every change).
    reason: Option<String>,
}

/// Starts a backup in the background and answers at once with what will run.
async fn backups(
    Extract(state): Extract<Arc<State>>,
    Json(body): Json<BackupBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let selection = Selection {
        assets: body.assets,
        all: body.all,
        site: None,
        reason: Some(
            body.reason
                .unwrap_or_else(|| "requested through the API".into()),
        ),
    };
    let ctx = state.ctx();
    let assets: Vec<String> = reprise_app::backup::select(&ctx, &selection)?
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    let worker = state.clone();
    tokio::spawn(async move {
        for line in crate::run_backup(&worker, selection).await {
            eprintln!("api backup: {line}");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "accepted": assets })),
    ))
}

#[derive(Deserialize)]
struct AlertQuery {
    #[serde(default)]
    all: bool,
}

async fn alerts(
    Extract(state): Extract<Arc<State>>,
    Query(q): Query<AlertQuery>,
) -> ApiResult<Vec<reprise_catalog::Alert>> {
    Ok(Json(state.catalog.alerts(!q.all).await?))
}
