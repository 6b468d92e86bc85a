//! `/api/v1/incidents`: open, list and read incidents, approve their plan, move steps
//! and record checks. The token's name is the actor in the incident's timeline.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Extension, Path, Query, State as Extract};
use axum::http::StatusCode;
use jiff::Timestamp;
use reprise_recovery::incident::{self, CheckInput, NewIncident, StepMove};
use serde::Deserialize;

use crate::State;
use crate::http::{Actor, ApiError, ApiResult, body, optional_body, query};

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    all: bool,
}

pub async fn list(
    Extract(state): Extract<Arc<State>>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Vec<reprise_catalog::IncidentRow>> {
    let q = query(q)?;
    Ok(Json(state.catalog.incidents(!q.all).await?))
}

pub async fn show(
    Extract(state): Extract<Arc<State>>,
    Path(id): Path<i64>,
) -> ApiResult<incident::IncidentView> {
    Ok(Json(
        incident::show(&state.ctx(), id, Timestamp::now()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    title: String,
    severity: Option<String>,
    /// `ID` or `ID=partial`; empty: the assets the inventory says are not working.
    #[serde(default)]
    assets: Vec<String>,
    source: Option<String>,
    nature: Option<String>,
    #[serde(default)]
    personal_data: bool,
    commander: Option<String>,
    /// RFC 3339; deadlines count from it.
    detected: Option<Timestamp>,
    /// RFC 3339: since when the assets are affected, if before detection (for a
    /// compromise, the points taken since are suspect).
    since: Option<Timestamp>,
}

pub async fn open(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    payload: Result<Json<OpenBody>, JsonRejection>,
) -> Result<(StatusCode, Json<incident::IncidentView>), ApiError> {
    let b = body(payload)?;
    let ctx = state.ctx();
    let new = NewIncident {
        title: b.title,
        severity: b.severity,
        assets: b.assets,
        source: b.source,
        nature: b.nature,
        personal_data: b.personal_data,
        commander: b.commander,
        detected: b.detected,
        since: b.since,
    };
    let id = incident::open(&ctx, &new, Some(&actor), Timestamp::now()).await?;
    let view = incident::show(&ctx, id, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApproveBody {
    #[serde(default)]
    minimal: bool,
    technicians: Option<u32>,
}

/// Computes and approves the recovery plan.
pub async fn approve(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Path(id): Path<i64>,
    payload: Result<Json<ApproveBody>, JsonRejection>,
) -> ApiResult<reprise_domain::incident::ApprovedPlan> {
    // The body is optional: `POST …/plan` alone approves the plan as computed.
    let b = optional_body(payload)?;
    let plan = incident::approve_plan(
        &state.ctx(),
        id,
        b.minimal,
        b.technicians,
        &actor,
        Timestamp::now(),
    )
    .await?;
    Ok(Json(plan))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepBody {
    /// `start`, `done`, `force` (done although some checks are not recorded: needs a
    /// `reason`), `fail` or `skip`.
    action: String,
    reason: Option<String>,
    /// Where a restore step writes (absolute; default under the workspace).
    target: Option<String>,
    /// Replace what the target holds (a failed step started again into the default
    /// area always does).
    #[serde(default)]
    overwrite: bool,
}

/// Moves a step; starting a restore step runs its restores (as one job).
pub async fn step(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Extension(principal): Extension<reprise_ops::tokens::Principal>,
    Path((id, asset)): Path<(i64, String)>,
    payload: Result<Json<StepBody>, JsonRejection>,
) -> ApiResult<reprise_domain::incident::StepRecord> {
    let b = body(payload)?;
    let invalid = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", m);
    let moved = match b.action.as_str() {
        "start" => StepMove::Start,
        "done" => StepMove::Done,
        "force" => StepMove::Force,
        "fail" => StepMove::Fail,
        "skip" => StepMove::Skip,
        other => {
            return Err(invalid(format!(
                "unknown action `{other}` (start, done, force, fail, skip)"
            )));
        }
    };
    let target = match b.target {
        Some(t) if !std::path::Path::new(&t).is_absolute() => {
            return Err(invalid(format!(
                "`target` must be an absolute directory, not `{t}`"
            )));
        }
        other => other.map(std::path::PathBuf::from),
    };
    let ctx = state.ctx();
    let record = crate::job(
        &state,
        incident::step(
            &ctx,
            id,
            &asset,
            moved,
            b.reason.as_deref(),
            incident::StepTarget {
                dir: target,
                guard: reprise_ops::target::Guard::for_role(principal.role),
                overwrite: b.overwrite,
            },
            &actor,
        ),
    )
    .await?;
    Ok(Json(record))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckBody {
    asset: String,
    key: String,
    /// `pass`, `fail` or `reserved`.
    result: String,
    note: Option<String>,
    /// For a reservation: `2026-12-01`.
    deadline: Option<jiff::civil::Date>,
}

pub async fn check(
    Extract(state): Extract<Arc<State>>,
    Extension(Actor(actor)): Extension<Actor>,
    Path(id): Path<i64>,
    payload: Result<Json<CheckBody>, JsonRejection>,
) -> ApiResult<reprise_domain::incident::Check> {
    let b = body(payload)?;
    let input = CheckInput {
        asset: b.asset,
        key: b.key,
        result: b.result,
        note: b.note,
        deadline: b.deadline,
    };
    Ok(Json(
        incident::check(&state.ctx(), id, &input, &actor).await?,
    ))
}
