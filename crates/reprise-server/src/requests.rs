//! `/api/v1/requests`: submit restore requests (refused whole when incomplete, in the
//! requester's language), follow them, judge them again, approve, reject or cancel them,
//! record checks, and read their report. The server runs approved requests in their
//! window by itself. The token's name is the actor in the request's timeline.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use reprise_domain::plan::Lang;
use reprise_domain::request::Draft;
use reprise_recovery::request::{self, RequestView, Submission};
use serde::Deserialize;

use crate::State;
use crate::http::{Actor, ApiError, ApiResult, body, optional_body, query};
use reprise_ops::tokens::Principal;

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    all: bool,
}

pub async fn list(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Vec<request::Loaded>> {
    let q = query(q)?;
    let mut all = request::list(&state.ctx(), q.all).await?;
    all.retain(|r| {
        r.doc
            .items
            .iter()
            .all(|i| crate::auth::covers(&state, &principal, &i.asset))
    });
    Ok(Json(all))
}

pub async fn show(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> ApiResult<RequestView> {
    check_request(&state, &principal, id).await?;
    Ok(Json(request::show(&state.ctx(), id).await?))
}

/// The language a client asked for, from `Accept-Language`.
fn accepted_lang(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let first = value.split(',').next()?.trim().to_ascii_lowercase();
    if first.starts_with("fr") {
        Some("fr")
    } else if first.starts_with("en") {
        Some("en")
    } else {
        None
    }
}

/// Submits a request: `201` with the request and its feasibility, or `422` listing every
/// missing or wrong field (nothing recorded).
pub async fn submit(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
    payload: Result<Json<Draft>, JsonRejection>,
) -> Result<Response, ApiError> {
    let mut draft = body(payload)?;
    if draft.lang.is_none() {
        draft.lang = accepted_lang(&headers).map(str::to_string);
    }
    // A scoped account asks only for its own sites' data.
    if !principal.scope.is_everything() {
        let tz = reprise_workspace::workspace::zone(state.loaded.config.timezone.as_deref());
        if let Ok(r) = reprise_domain::request::validate(&draft, &tz)
            && let Ok(items) = reprise_domain::request::resolve(&state.loaded.config.inventory, &r)
            && let Some(i) = items
                .iter()
                .find(|i| !crate::auth::covers(&state, &principal, &i.asset))
        {
            return Err(crate::auth::out_of_scope(
                &principal,
                &format!("asset `{}`", i.asset),
            ));
        }
    }
    Ok(match request::submit(&state.ctx(), &draft, &actor).await? {
        Submission::Refused { missing } => {
            let fr = draft.lang.as_deref() == Some("fr");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({
                    "code": "incomplete_request",
                    "message": if fr {
                        "demande refusée : rien n'a été enregistré"
                    } else {
                        "request refused: nothing was recorded"
                    },
                    "missing": missing,
                })),
            )
                .into_response()
        }
        Submission::Recorded { view } => (StatusCode::CREATED, Json(view)).into_response(),
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssessBody {
    at: Option<String>,
    from: Option<String>,
    to: Option<String>,
    snapshot: Option<String>,
}

/// Judges a request again, optionally with another target (an offered alternative).
pub async fn assess(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    payload: Result<Json<AssessBody>, JsonRejection>,
) -> ApiResult<RequestView> {
    check_request(&state, &principal, id).await?;
    let b = optional_body(payload)?;
    let ctx = state.ctx();
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let draft = reprise_domain::request::TargetDraft {
        at: b.at,
        from: b.from,
        to: b.to,
        snapshot: b.snapshot,
    };
    let target = reprise_domain::request::retarget(&draft, &tz)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m))?;
    Ok(Json(request::reassess(&ctx, id, target, &actor).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    note: Option<String>,
}

pub async fn approve(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    payload: Result<Json<ApproveBody>, JsonRejection>,
) -> ApiResult<RequestView> {
    check_request(&state, &principal, id).await?;
    let b = optional_body(payload)?;
    Ok(Json(
        request::approve(&state.ctx(), id, &actor, b.note.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonBody {
    reason: String,
}

pub async fn reject(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    payload: Result<Json<ReasonBody>, JsonRejection>,
) -> ApiResult<RequestView> {
    check_request(&state, &principal, id).await?;
    let b = body(payload)?;
    Ok(Json(
        request::close(&state.ctx(), id, &actor, &b.reason, true).await?,
    ))
}

pub async fn cancel(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    payload: Result<Json<ReasonBody>, JsonRejection>,
) -> ApiResult<RequestView> {
    check_request(&state, &principal, id).await?;
    let b = body(payload)?;
    Ok(Json(
        request::close(&state.ctx(), id, &actor, &b.reason, false).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckBody {
    asset: String,
    key: String,
    /// `pass` or `fail`.
    result: String,
    note: Option<String>,
}

pub async fn check(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    payload: Result<Json<CheckBody>, JsonRejection>,
) -> ApiResult<RequestView> {
    check_request(&state, &principal, id).await?;
    let b = body(payload)?;
    let ok = match b.result.as_str() {
        "pass" => true,
        "fail" => false,
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("unknown result `{other}` (pass or fail)"),
            ));
        }
    };
    Ok(Json(
        request::check(
            &state.ctx(),
            id,
            &b.asset,
            &b.key,
            ok,
            b.note.as_deref(),
            &actor,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
pub(crate) struct ReportQuery {
    lang: Option<String>,
}

/// The request's report as text, in the asked language (the request's otherwise).
pub async fn report(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    check_request(&state, &principal, id).await?;
    let q = query(q)?;
    let ctx = state.ctx();
    let view = request::show(&ctx, id).await?;
    let lang = match q.lang.as_deref() {
        None => view.request.doc.request.lang,
        Some(l) => Lang::parse(l).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("unknown language `{l}` (en or fr)"),
            )
        })?,
    };
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let text = request::report_text(&view, lang, &tz);
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// Refuses a request whose data sets lie beyond the principal's scope.
async fn check_request(state: &State, principal: &Principal, id: i64) -> Result<(), ApiError> {
    if principal.scope.is_everything() {
        return Ok(());
    }
    let r = request::load(&state.ctx(), id).await?;
    if r.doc
        .items
        .iter()
        .all(|i| crate::auth::covers(state, principal, &i.asset))
    {
        Ok(())
    } else {
        Err(crate::auth::out_of_scope(
            principal,
            &format!("request {id}"),
        ))
    }
}
