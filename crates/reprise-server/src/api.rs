//! The routes. Everything under `/api/v1` needs `Authorization: Bearer TOKEN`; errors are
//! `{"code": "...", "message": "..."}` with a stable code.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State as Extract};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use reprise_catalog::{RunFilter, RunKind};
use reprise_ops::backup::Selection;
use serde::Deserialize;

use crate::State;
pub(crate) use crate::http::{Actor, ApiError, ApiResult, MAX_BODY, NoBody, body, query};
use reprise_ops::tokens::Principal;

pub fn router(state: Arc<State>) -> Router {
    let api = Router::new()
        .route("/assets", get(assets))
        .route("/assets/{id}/state", post(record_state))
        .route("/status", get(status))
        .route("/runs", get(runs))
        .route("/restore-points", get(restore_points))
        .route("/backups", post(backups))
        .route("/verifications", post(verifications))
        .route("/restores", post(restores))
        .route("/self-backups", post(self_backups))
        .route("/repositories", get(repositories))
        .route("/alerts", get(alerts))
        .route("/devices", get(devices))
        .route("/suspicions", get(suspicions))
        .route("/suspicions/clearances", post(clear_suspicion))
        .route("/devices/checks", post(check_devices))
        .route("/alerts/acknowledgements", post(acknowledge_alert))
        .route(
            "/incidents",
            get(crate::incidents::list).post(crate::incidents::open),
        )
        .route("/incidents/{id}", get(crate::incidents::show))
        .route("/incidents/{id}/plan", post(crate::incidents::approve))
        .route(
            "/incidents/{id}/steps/{asset}",
            post(crate::incidents::step),
        )
        .route("/incidents/{id}/checks", post(crate::incidents::check))
        .route(
            "/requests",
            get(crate::requests::list).post(crate::requests::submit),
        )
        .route("/requests/{id}", get(crate::requests::show))
        .route("/requests/{id}/assessment", post(crate::requests::assess))
        .route("/requests/{id}/approval", post(crate::requests::approve))
        .route("/requests/{id}/rejection", post(crate::requests::reject))
        .route("/requests/{id}/cancellation", post(crate::requests::cancel))
        .route("/requests/{id}/checks", post(crate::requests::check))
        .route("/requests/{id}/report", get(crate::requests::report))
        .route("/journal", get(journal))
        .route("/journal/verification", get(journal_verification))
        .route("/readiness", get(readiness))
        .route("/categories", get(categories))
        .route(
            "/erasures",
            get(crate::records::erasures).post(crate::records::plan),
        )
        .route("/erasures/{id}", get(crate::records::erasure))
        .route("/erasures/{id}/execution", post(crate::records::execute))
        .route("/erasures/{id}/cancellation", post(crate::records::cancel))
        .route("/exports/{kind}", get(crate::records::csv))
        .route("/evidence", get(crate::records::evidence))
        .route("/readiness/approvals", post(approve))
        .route("/me", get(crate::accounts::me))
        .route(
            "/users",
            get(crate::accounts::users).post(crate::accounts::add_user),
        )
        .route(
            "/tokens",
            get(crate::accounts::tokens).post(crate::accounts::create_token),
        )
        .route(
            "/tokens/{name}",
            axum::routing::delete(crate::accounts::revoke_token),
        )
        .merge(crate::agents::api())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authorize,
        ))
        .route("/openapi.json", get(crate::openapi::document));
    // Metrics name every asset and its RPO: they need a token, like the API.
    let metrics = Router::new()
        .route("/metrics", get(crate::metrics::render))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::authorize,
        ));
    let api = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .merge(metrics)
        .route("/api/v1/sessions", post(crate::accounts::sign_in))
        .nest("/api/v1", api)
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .layer(middleware::map_response(json_errors))
        .with_state(state.clone());
    // The web UI's pages answer in HTML; everything else keeps the API's JSON errors.
    let limited = crate::web::router(state.clone())
        .merge(api)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            crate::http::BODY_TIMEOUT,
        ))
        .layer(middleware::from_fn(crate::http::declared_size));
    // restic's REST protocol for writers takes packs: limits of its own.
    let limited = limited
        .merge(crate::agents::router(state.clone()).layer(middleware::map_response(json_errors)));
    limited.merge(crate::rest::router(state).layer(
        tower_http::timeout::RequestBodyTimeoutLayer::new(std::time::Duration::from_secs(600)),
    ))
}

/// Errors axum answers by itself (a method the route does not take, a path parameter of
/// the wrong type) get our JSON format too: `{"code", "message"}`.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal_error",
        _ => "invalid_request",
    };
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_string()
    } else {
        text
    };
    ApiError::new(status, code, message).into_response()
}

async fn assets(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
) -> Result<Response, ApiError> {
    let key = format!("assets#{}", crate::cache::scope_key(&principal));
    let body = state
        .answers
        .get_or_compute(&*state.catalog, &key, {
            let (state, principal) = (state.clone(), principal.clone());
            move || async move {
                let ctx = state.ctx();
                let current =
                    reprise_ops::states::current(&*state.catalog, ctx.inventory()).await?;
                let mine: Vec<serde_json::Value> = ctx
                    .inventory()
                    .assets
                    .iter()
                    .filter(|a| principal.scope.covers(a))
                    .map(|a| {
                        let mut v = serde_json::to_value(a).unwrap_or_default();
                        if let (Some(c), Some(o)) = (current.get(a.id.as_str()), v.as_object_mut())
                        {
                            o.insert("state_since".into(), serde_json::json!(c.since));
                            o.insert("state_by".into(), serde_json::json!(c.by));
                        }
                        v
                    })
                    .collect();
                Ok(crate::cache::to_json(&mine))
            }
        })
        .await?;
    Ok(crate::cache::json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
    since: Option<Timestamp>,
    note: Option<String>,
}

/// Records the state an asset is in, as observed (R004.1): its current state from now on.
async fn record_state(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::extract::Extension(Actor(actor)): axum::extract::Extension<Actor>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    payload: Result<Json<StateBody>, JsonRejection>,
) -> ApiResult<reprise_catalog::RecordedState> {
    let b = body(payload)?;
    crate::auth::check_asset(&state, &principal, &id)?;
    let asset_state = reprise_domain::AssetState::parse(&b.state)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", format!("`state`: {e}")))?;
    let recorded = reprise_ops::states::record(
        &state.ctx(),
        &id,
        asset_state,
        reprise_ops::states::Observed {
            since: b.since,
            note: b.note,
            by: actor,
        },
    )
    .await?;
    state.refresh_states().await?;
    state.forget_overview();
    Ok(Json(recorded))
}

async fn status(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
) -> Result<Response, ApiError> {
    let key = format!("status#{}", crate::cache::scope_key(&principal));
    let body = state
        .answers
        .get_or_compute(&*state.catalog, &key, {
            let (state, principal) = (state.clone(), principal.clone());
            move || async move {
                // A state recorded beside the server (`reprise inventory set-state`) counts.
                state.refresh_states().await?;
                let mut all = reprise_ops::status::run(&state.ctx(), Timestamp::now()).await?;
                all.retain(|s| crate::auth::covers(&state, &principal, &s.asset));
                Ok(crate::cache::to_json(&all))
            }
        })
        .await?;
    Ok(crate::cache::json(body))
}

#[derive(Deserialize)]
struct RunQuery {
    asset: Option<String>,
    kind: Option<String>,
    limit: Option<u32>,
}

async fn runs(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    q: Result<Query<RunQuery>, QueryRejection>,
) -> ApiResult<Vec<reprise_catalog::Run>> {
    let q = query(q)?;
    if let Some(a) = &q.asset {
        crate::auth::check_asset(&state, &principal, a)?;
    }
    let kind = match q.kind.as_deref() {
        None => None,
        Some(k) => Some(RunKind::parse(k).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!(
                    "unknown run kind `{k}` (backup, restore, verify, retention, copy, self-backup)"
                ),
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
        .await?
        .into_iter()
        .filter(|r| {
            principal.scope.is_everything()
                || r.asset
                    .as_deref()
                    .is_some_and(|a| crate::auth::covers(&state, &principal, a))
        })
        .collect();
    Ok(Json(runs))
}

#[derive(Deserialize)]
struct AssetQuery {
    asset: Option<String>,
}

async fn restore_points(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    q: Result<Query<AssetQuery>, QueryRejection>,
) -> ApiResult<Vec<reprise_ops::snapshots::PointView>> {
    let q = query(q)?;
    if let Some(id) = &q.asset {
        state.ctx().asset(id)?;
        crate::auth::check_asset(&state, &principal, id)?;
    }
    let mut points = reprise_ops::snapshots::with_foreign(&state.ctx(), q.asset.as_deref()).await?;
    points.retain(|p| crate::auth::covers(&state, &principal, &p.asset));
    Ok(Json(points))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    body: Result<Json<BackupBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let body = self::body(body)?;
    if body.all {
        crate::auth::require_everything(&principal, "backing up every asset")?;
    }
    for a in &body.assets {
        crate::auth::check_asset(&state, &principal, a)?;
    }
    let selection = Selection {
        assets: body.assets,
        all: body.all,
        site: None,
        reason: Some(
            body.reason
                .unwrap_or_else(|| "requested through the API".into()),
        ),
        ..Selection::default()
    };
    let ctx = state.ctx();
    let assets: Vec<String> = reprise_ops::backup::select(&ctx, &selection)?
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    if !crate::spawn_backup(&state, assets.clone(), selection) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_running",
            "a backup of one of these assets is already queued or running on this server",
        ));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "accepted": assets })),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    /// Only the repositories of these assets (every repository when left out; an empty
    /// list is refused, being most likely a mistake).
    assets: Option<Vec<String>>,
    /// `structure` (default), `read-data`, `subset` (with `percent`) or `rolling` (with
    /// `slices`).
    #[serde(default)]
    mode: Option<String>,
    percent: Option<f64>,
    slices: Option<u32>,
}

/// Starts a verification in the background; its results land in the runs and in the
/// restore points' integrity.
async fn verifications(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    body: Result<Json<VerifyBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let body = self::body(body)?;
    // A repository holds every site's data: verifying it is not a site's business.
    crate::auth::require_everything(&principal, "verifying repositories")?;
    use reprise_ops::verify::Mode;
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m);
    let mode = match body.mode.as_deref().unwrap_or("structure") {
        "structure" => Mode::Structure,
        "read-data" => Mode::ReadAll,
        "subset" => match body.percent {
            Some(p) if p > 0.0 && p <= 100.0 => Mode::Subset(p),
            _ => {
                return Err(invalid(
                    "`subset` needs `percent`, above 0 and at most 100".into(),
                ));
            }
        },
        "rolling" => match body.slices {
            Some(n) if n >= 1 => Mode::Rolling { of: n },
            _ => {
                return Err(invalid(
                    "`rolling` needs `slices`, 1 or more (30: all data every 30 runs)".into(),
                ));
            }
        },
        other => {
            return Err(invalid(format!(
                "unknown mode `{other}` (structure, read-data, subset, rolling)"
            )));
        }
    };
    let assets = match body.assets {
        Some(list) if list.is_empty() => {
            return Err(invalid(
                "`assets` is empty: name at least one asset, or leave `assets` out to verify every repository".into(),
            ));
        }
        Some(list) => list,
        None => Vec::new(),
    };
    for id in &assets {
        state.ctx().asset(id)?;
    }
    let worker = state.clone();
    let accepted = assets.clone();
    tokio::spawn(async move {
        crate::job(&worker, async {
            match reprise_ops::verify::run(&worker.ctx(), &assets, mode).await {
                Ok(reports) => {
                    for r in reports {
                        if r.ok {
                            tracing::info!(repository = %r.repository, mode = %r.mode, proven = r.proven, "verification passed");
                        } else {
                            tracing::error!(repository = %r.repository, mode = %r.mode, errors = ?r.errors, damaged_packs = r.damaged_packs.len(), "verification found damage");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "verification failed"),
            }
        })
        .await;
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(
            serde_json::json!({ "accepted": accepted, "mode": body.mode.unwrap_or_else(|| "structure".into()) }),
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    asset: String,
    dataset: Option<String>,
    /// The newest restore point at or before this time (RFC 3339 or `2026-11-20 14:00`).
    at: Option<String>,
    snapshot: Option<String>,
    path: Option<String>,
    /// An absolute directory on the server; nothing is written outside it.
    target: String,
    #[serde(default)]
    overwrite: bool,
    /// An administrator's reason to restore into a protected place (journaled).
    #[serde(rename = "override")]
    override_reason: Option<String>,
}

/// Checks a restore at once (asset, restore point, target), then runs it in the
/// background: it reads back and verifies the data it needs before writing anything.
async fn restores(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    body: Result<Json<RestoreBody>, JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let body = self::body(body)?;
    crate::auth::check_asset(&state, &principal, &body.asset)?;
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m);
    let target = std::path::PathBuf::from(&body.target);
    if !target.is_absolute() {
        return Err(invalid(format!(
            "`target` must be an absolute directory on the server, not `{}`",
            body.target
        )));
    }
    let tz = reprise_workspace::workspace::zone(state.loaded.config.timezone.as_deref());
    let at = match &body.at {
        None => None,
        Some(text) => Some(
            reprise_workspace::dates::parse_time(text, &tz).ok_or_else(|| {
                invalid(format!(
                    "`at`: `{text}` is not a time (2026-11-20, 2026-11-20 14:00 or RFC 3339)"
                ))
            })?,
        ),
    };
    let opts = reprise_ops::restore::RestoreOptions {
        asset: body.asset.clone(),
        dataset: body.dataset,
        at,
        snapshot: body.snapshot,
        path: body.path,
        target,
        overwrite: body.overwrite,
        verify: true,
        on_server: false,
        host_check: None,
        scratch: false,
        guard: reprise_ops::target::Guard {
            override_reason: body.override_reason,
            ..reprise_ops::target::Guard::for_role(principal.role)
        },
    };
    // Everything that can be refused is refused now, not in the background: the target
    // (resolved), the restore points, the path inside them, what the target holds.
    let (chosen, target) = reprise_ops::restore::prepare(&state.ctx(), &opts).await?;
    let worker = state.clone();
    tokio::spawn(async move {
        crate::job(&worker, async {
            match reprise_agents::fleet::restore(&worker.ctx(), &opts).await {
                Ok(done) => {
                    for r in done {
                        tracing::info!(asset = %r.asset, dataset = %r.dataset, snapshot = %r.snapshot, files = r.files, seconds = r.seconds, target = %r.target.display(), "restore succeeded");
                    }
                }
                Err(e) => tracing::error!(asset = %opts.asset, error = %e, "restore failed"),
            }
        })
        .await;
    });
    let points: Vec<serde_json::Value> = chosen
        .iter()
        .map(|p| {
            serde_json::json!({
                "dataset": p.dataset,
                "snapshot": p.snapshot,
                "repository": p.repository,
                "time": p.time,
                "verified": p.verified,
            })
        })
        .collect();
    Ok((
        StatusCode::ACCEPTED,
        Json(
            serde_json::json!({ "asset": body.asset, "target": target, "restore_points": points }),
        ),
    ))
}

/// Backs up Reprise's own catalog and configuration now.
async fn self_backups(
    Extract(state): Extract<Arc<State>>,
    _: NoBody,
) -> Result<Json<Vec<reprise_ops::selfbackup::Outcome>>, ApiError> {
    let outcomes = crate::job(&state, reprise_ops::selfbackup::run(&state.ctx())).await?;
    Ok(Json(outcomes))
}

/// Each repository as last probed: reachable, initialised, size.
async fn repositories(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
) -> ApiResult<Vec<reprise_ops::repos::RepoProbe>> {
    crate::auth::require_everything(&principal, "the repositories, shared by every site")?;
    let probes = match state.probes() {
        Some(p) => p,
        None => {
            reprise_ops::repos::probe_all(
                &state.loaded.workspace,
                &state.loaded.config.inventory.repositories,
            )
            .await
        }
    };
    Ok(Json(probes))
}

#[derive(Deserialize)]
struct AlertQuery {
    #[serde(default)]
    all: bool,
}

async fn alerts(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    q: Result<Query<AlertQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = query(q)?;
    let key = format!(
        "alerts?all={}#{}",
        q.all,
        crate::cache::scope_key(&principal)
    );
    let body = state
        .answers
        .get_or_compute(&*state.catalog, &key, {
            let (state, principal) = (state.clone(), principal.clone());
            let all = q.all;
            move || async move {
                let mut alerts = state.catalog.alerts(!all).await?;
                // Alert keys name their asset after the colon (`rpo:erp`, `drill:erp`); the
                // others (repositories, incidents) concern every site.
                alerts.retain(|a| {
                    principal.scope.is_everything()
                        || a.key
                            .split_once(':')
                            // A device's alerts name its data set after the asset
                            // (`change:sw1/config`).
                            .map(|(_, subject)| subject.split('/').next().unwrap_or(subject))
                            .is_some_and(|asset| crate::auth::covers(&state, &principal, asset))
                });
                Ok(crate::cache::to_json(&alerts))
            }
        })
        .await?;
    Ok(crate::cache::json(body))
}

/// Backups that looked like an attack, cleared ones too, oldest first.
async fn suspicions(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    q: Result<Query<AssetQuery>, QueryRejection>,
) -> ApiResult<Vec<reprise_catalog::Suspicion>> {
    let q = query(q)?;
    if let Some(id) = &q.asset {
        crate::auth::check_asset(&state, &principal, id)?;
    }
    let mut all = reprise_ops::suspects::list(&state.ctx(), q.asset.as_deref()).await?;
    all.retain(|s| crate::auth::covers(&state, &principal, &s.asset));
    Ok(Json(all))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClearanceBody {
    /// The suspect snapshot's id, or its first characters.
    snapshot: String,
    /// What was checked, and why the point can be trusted.
    reason: String,
}

/// Trusts a suspect restore point again (and the points after it), journaled with who
/// and why: a decision on trust, for administrators.
async fn clear_suspicion(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(Actor(actor)): axum::extract::Extension<Actor>,
    payload: Result<Json<ClearanceBody>, JsonRejection>,
) -> ApiResult<reprise_catalog::Suspicion> {
    let b = body(payload)?;
    let cleared =
        reprise_ops::suspects::clear(&state.ctx(), &b.snapshot, &b.reason, &actor).await?;
    state.forget_overview();
    Ok(Json(cleared))
}

async fn devices(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
) -> ApiResult<Vec<reprise_oversight::devices::DeviceView>> {
    let mut all = reprise_oversight::devices::list(&state.ctx()).await?;
    all.retain(|d| crate::auth::covers(&state, &principal, &d.asset));
    Ok(Json(all))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceCheckBody {
    /// The assets whose devices are read now (every device the token covers when empty).
    #[serde(default)]
    assets: Vec<String>,
}

/// Reads devices now: a change (or a first read) is backed up at once; answers what each
/// read found.
async fn check_devices(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    payload: Result<Json<DeviceCheckBody>, JsonRejection>,
) -> ApiResult<Vec<reprise_ops::watch::CheckOutcome>> {
    let b = body(payload)?;
    for a in &b.assets {
        crate::auth::check_asset(&state, &principal, a)?;
    }
    let ctx = state.ctx();
    let chosen: Vec<reprise_ops::devices::Device<'_>> = reprise_ops::devices::all(&ctx)
        .into_iter()
        .filter(|d| {
            (b.assets.is_empty() || b.assets.iter().any(|a| a == d.asset.id.as_str()))
                && crate::auth::covers(&state, &principal, d.asset.id.as_str())
        })
        .collect();
    for a in &b.assets {
        if !chosen.iter().any(|d| d.asset.id.as_str() == a) {
            reprise_ops::devices::find(&ctx, a, None)?;
        }
    }
    let assets: Vec<String> = chosen.iter().map(|d| d.asset.id.to_string()).collect();
    if !state.claim(&assets) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_running",
            "a backup or read of one of these devices is already running on this server",
        ));
    }
    let outcomes = crate::job(&state, reprise_ops::watch::check(&ctx, &chosen)).await;
    state.unclaim(&assets);
    state.forget_overview();
    Ok(Json(outcomes?))
}

#[derive(Deserialize)]
struct SiteQuery {
    site: Option<String>,
}

async fn readiness(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    q: Result<Query<SiteQuery>, QueryRejection>,
) -> ApiResult<reprise_recovery::readiness::Readiness> {
    let q = query(q)?;
    let mut r =
        reprise_recovery::readiness::check(&state.ctx(), q.site.as_deref(), Timestamp::now())
            .await?;
    r.assets
        .retain(|a| crate::auth::covers(&state, &principal, &a.asset));
    r.sites
        .retain(|s| principal.scope.is_everything() || principal.scope.sites.contains(&s.site));
    Ok(Json(r))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    key: String,
}

/// Acknowledges an open alert for the caller: someone is on it.
async fn acknowledge_alert(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(Actor(actor)): axum::extract::Extension<Actor>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
    payload: Result<Json<AckBody>, JsonRejection>,
) -> ApiResult<serde_json::Value> {
    let b = body(payload)?;
    if let Some((_, rest)) = b.key.split_once(':')
        && state.loaded.config.inventory.asset(rest).is_some()
    {
        crate::auth::check_asset(&state, &principal, rest)?;
    } else {
        crate::auth::require_everything(&principal, "this alert")?;
    }
    if !state
        .catalog
        .acknowledge_alert(&b.key, &actor, Timestamp::now())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no open alert `{}`", b.key),
        ));
    }
    Ok(Json(
        serde_json::json!({ "key": b.key, "acknowledged_by": actor }),
    ))
}

/// Data categories and what each holds, limited to the caller's scope.
async fn categories(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(principal): axum::extract::Extension<Principal>,
) -> ApiResult<Vec<reprise_ops::categories::CategoryView>> {
    let mut views = reprise_ops::categories::list(&state.ctx()).await?;
    for v in &mut views {
        v.datasets
            .retain(|d| crate::auth::covers(&state, &principal, &d.asset));
    }
    Ok(Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApproveBody {
    asset: String,
    /// The business owner approving; the token's name when absent.
    by: Option<String>,
}

/// Records that the business owner approved an asset's current RPO and RTO.
async fn approve(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Extension(Actor(actor)): axum::extract::Extension<Actor>,
    payload: Result<Json<ApproveBody>, JsonRejection>,
) -> Result<(StatusCode, Json<reprise_catalog::Approval>), ApiError> {
    let b = body(payload)?;
    let by = b.by.unwrap_or(actor);
    let approval =
        reprise_recovery::readiness::approve(&state.ctx(), &b.asset, &by, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(approval)))
}

#[derive(Deserialize)]
pub(crate) struct JournalQuery {
    /// Entries after this sequence number.
    #[serde(default)]
    after: i64,
    limit: Option<i64>,
}

/// Journal entries, oldest first.
async fn journal(
    Extract(state): Extract<Arc<State>>,
    q: Result<Query<JournalQuery>, QueryRejection>,
) -> ApiResult<Vec<reprise_catalog::JournalEntry>> {
    let q = query(q)?;
    Ok(Json(
        state
            .catalog
            .journal(q.after, Some(q.limit.unwrap_or(1000).clamp(1, 10_000)))
            .await?,
    ))
}

/// Checks the whole chain: intact, or the first entry altered, removed or reordered.
async fn journal_verification(
    Extract(state): Extract<Arc<State>>,
) -> ApiResult<reprise_ops::journal::Verdict> {
    let (_, verdict) = reprise_ops::journal::check(&state.ctx()).await?;
    Ok(Json(verdict))
}
