//! Restore requests, restore tests, readiness and alerts pages.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use minijinja::{Value, context};
use reprise_domain::access::Action;
use reprise_domain::request::{ContextDraft, DowntimeDraft, Draft, ScopeDraft, TargetDraft};
use reprise_recovery::request::{self, Preview, Submission};

use super::{Viewer, as_user, back, duration, flash, tz, when};
use crate::State;

type Fields = Form<HashMap<String, String>>;

/// A report laid out as a document (PDF), or why it could not be.
pub fn pdf_document(name: &str, pdf: Result<Vec<u8>, reprise_ops::error::AppError>) -> Response {
    match pdf {
        Ok(pdf) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.pdf\""),
                ),
            ],
            pdf,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A report as text, HTML or PDF, as asked by `?format=`.
pub fn report(text: String, name: &str, fr: bool, format: Option<&str>) -> Response {
    let attach = |ext: &str| format!("attachment; filename=\"{name}.{ext}\"");
    match format {
        Some("pdf") => {
            match reprise_workspace::pdf::text_document(text.lines().next().unwrap_or(name), &text)
            {
                Ok(pdf) => (
                    [
                        (header::CONTENT_TYPE, "application/pdf".to_string()),
                        (header::CONTENT_DISPOSITION, attach("pdf")),
                    ],
                    pdf,
                )
                    .into_response(),
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("the PDF could not be laid out: {e}"),
                )
                    .into_response(),
            }
        }
        Some("html") => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, attach("html")),
            ],
            reprise_workspace::html::text_page(&text, "", fr),
        )
            .into_response(),
        _ => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (header::CONTENT_DISPOSITION, attach("txt")),
            ],
            text,
        )
            .into_response(),
    }
}

// --- Restore requests ------------------------------------------------------------

fn field(form: &HashMap<String, String>, key: &str) -> Option<String> {
    form.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn list(form: &HashMap<String, String>, key: &str) -> Vec<String> {
    field(form, key)
        .map(|v| {
            v.split([',', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A request draft from the form: empty fields stay missing, so that the answer names
/// them.
fn draft(form: &HashMap<String, String>, viewer: &Viewer) -> Draft {
    Draft {
        requester: field(form, "requester"),
        lang: Some(viewer.lang.to_string()),
        environment: field(form, "environment"),
        scope: Some(ScopeDraft {
            assets: list(form, "assets"),
            datasets: list(form, "datasets"),
            sites: list(form, "sites"),
            categories: list(form, "categories"),
        }),
        target: Some(TargetDraft {
            at: field(form, "at"),
            from: field(form, "from"),
            to: field(form, "to"),
            snapshot: field(form, "snapshot"),
        }),
        context: Some(ContextDraft {
            kind: field(form, "kind"),
            description: field(form, "description"),
            incident: field(form, "incident").and_then(|i| i.parse().ok()),
        }),
        urgency: field(form, "urgency"),
        impact: field(form, "impact"),
        downtime: Some(DowntimeDraft {
            approved: field(form, "downtime").map(|d| d == "yes"),
            window: field(form, "window"),
        }),
        destination: None,
    }
}

fn feasibility_rows(
    items: &[reprise_domain::request::ItemFeasibility],
    viewer: &Viewer,
    tz: &jiff::tz::TimeZone,
) -> Vec<Value> {
    items
        .iter()
        .map(|f| {
            context! {
                item => format!("{}/{}", f.asset, f.dataset),
                ok => f.verdict == reprise_domain::request::Verdict::Ok,
                verdict => f.verdict.explain(viewer.language()),
                chosen => f.chosen.as_ref().map(|c| format!("{} · {}", reprise_workspace::text::short(&c.snapshot), when(c.time, tz, viewer.fr()))),
                alternatives => f.alternatives.iter().map(|c| format!("{} · {}", reprise_workspace::text::short(&c.snapshot), when(c.time, tz, viewer.fr()))).collect::<Vec<_>>(),
            }
        })
        .collect()
}

/// What checking a request gave: what is missing, or each data set's feasibility.
#[derive(Default)]
struct Outcome {
    missing: Option<Value>,
    feasibility: Option<Vec<Value>>,
    feasible: bool,
}

async fn requests_page(
    state: &State,
    viewer: &Viewer,
    form: &HashMap<String, String>,
    outcome: Outcome,
    flash: Option<&'static str>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let tz = tz(state);
    let rows: Vec<Value> = request::list(&state.ctx(), true)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| {
            r.doc
                .items
                .iter()
                .all(|i| crate::auth::covers(state, &principal, &i.asset))
        })
        .map(|r| {
            context! {
                id => r.row.id,
                state => r.state.label(viewer.language()),
                requester => r.row.requester.clone(),
                created => when(r.row.created, &tz, viewer.fr()),
                scope => r.doc.items.iter().map(|i| format!("{}/{}", i.asset, i.dataset)).collect::<Vec<_>>().join(", "),
            }
        })
        .collect();
    // Every field present, so that the template reads them as they are.
    let mut values: HashMap<&str, String> = [
        "requester",
        "environment",
        "assets",
        "datasets",
        "sites",
        "categories",
        "at",
        "from",
        "to",
        "kind",
        "description",
        "urgency",
        "impact",
        "downtime",
        "window",
    ]
    .into_iter()
    .map(|k| (k, form.get(k).cloned().unwrap_or_default()))
    .collect();
    if values["environment"].is_empty() {
        values.insert("environment", "production".into());
    }
    let outcome = context! {
        missing => outcome.missing,
        feasibility => outcome.feasibility,
        feasible => outcome.feasible,
    };
    viewer.render(
        "requests.html",
        "requests",
        context! {
            rows,
            form => super::v(&values),
            outcome,
            flash,
            assets => state.loaded.config.inventory.assets.iter()
                .filter(|a| principal.scope.is_everything() || principal.scope.covers(a))
                .map(|a| a.id.to_string()).collect::<Vec<_>>(),
        },
    )
}

pub async fn requests(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    requests_page(
        &state,
        &viewer,
        &HashMap::new(),
        Outcome::default(),
        flash(&viewer, &q),
    )
    .await
}

/// Checks a request (what is missing, what is feasible) or submits it.
pub async fn submit(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Read, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let draft = draft(&form, &viewer);
    // A scoped requester asks only for its own assets.
    for a in draft.scope.iter().flat_map(|s| &s.assets) {
        if !crate::auth::covers(&state, &principal, a) {
            return viewer.message(StatusCode::FORBIDDEN, "forbidden");
        }
    }
    let ctx = state.ctx();
    let tz = tz(&state);
    if form.get("action").map(String::as_str) == Some("submit") {
        let submitted = as_user(&principal, request::submit(&ctx, &draft, &principal.user)).await;
        return match submitted {
            Ok(Submission::Recorded { view }) => {
                Redirect::to(&format!("/requests/{}", view.request.row.id)).into_response()
            }
            Ok(Submission::Refused { missing }) => {
                let outcome = Outcome {
                    missing: Some(super::v(&missing)),
                    ..Outcome::default()
                };
                let mut r = requests_page(&state, &viewer, &form, outcome, None).await;
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
            Err(e) => viewer.error(e),
        };
    }
    let outcome = match request::preview(&ctx, &draft, Timestamp::now()).await {
        Ok(Preview::Refused { missing }) => Outcome {
            missing: Some(super::v(&missing)),
            ..Outcome::default()
        },
        Ok(Preview::Judged {
            feasibility,
            feasible,
            ..
        }) => Outcome {
            feasible,
            feasibility: Some(feasibility_rows(&feasibility, &viewer, &tz)),
            ..Outcome::default()
        },
        Err(e) => return viewer.error(e),
    };
    requests_page(&state, &viewer, &form, outcome, None).await
}

pub(crate) async fn request_page(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let ctx = state.ctx();
    let view = match request::show(&ctx, id).await {
        Ok(v) => v,
        Err(e) => return viewer.error(e),
    };
    if !view
        .request
        .doc
        .items
        .iter()
        .all(|i| crate::auth::covers(&state, &principal, &i.asset))
    {
        return viewer.message(StatusCode::FORBIDDEN, "forbidden");
    }
    let tz = tz(&state);
    if let Some(format) = q.get("format") {
        if format == "pdf" {
            return pdf_document(
                &format!("request-{id}"),
                request::report_pdf(&ctx, &view, viewer.language(), &tz),
            );
        }
        let text = request::report_text(&view, viewer.language(), &tz);
        return report(text, &format!("request-{id}"), viewer.fr(), Some(format));
    }
    let r = &view.request;
    viewer.render(
        "request.html",
        "requests",
        context! {
            id,
            state => r.row.state.clone(),
            state_label => r.state.label(viewer.language()),
            requester => r.row.requester.clone(),
            created => when(r.row.created, &tz, viewer.fr()),
            description => r.doc.request.context.description.clone(),
            impact => r.doc.request.impact.clone(),
            urgency => r.doc.request.urgency.label(viewer.language()),
            target => request::target_text(&r.doc.request.target, viewer.language(), &tz),
            feasibility => feasibility_rows(&r.doc.feasibility, &viewer, &tz),
            timeline => view.timeline.iter().rev().map(|e| context! {
                at => when(e.at, &tz, viewer.fr()),
                who => e.actor.clone().unwrap_or_default(),
                text => viewer.language().pick(&e.text, e.text_fr.as_deref()),
            }).collect::<Vec<_>>(),
            outcome => r.doc.outcome_in(viewer.language()),
            can_decide => principal.role.allows(Action::Operate)
                && r.row.state == "awaiting-approval",
            flash => flash(&viewer, &q),
        },
    )
}

pub(crate) async fn decide(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Operate, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let ctx = state.ctx();
    let note = field(&form, "note");
    let work = async {
        match form.get("decision").map(String::as_str) {
            Some("approve") => request::approve(&ctx, id, &principal.user, note.as_deref())
                .await
                .map(|_| "request_approved"),
            Some("reject") => request::close(
                &ctx,
                id,
                &principal.user,
                note.as_deref().unwrap_or("-"),
                true,
            )
            .await
            .map(|_| "request_rejected"),
            _ => Err(reprise_ops::error::AppError::Invalid(
                "approve or reject".into(),
            )),
        }
    };
    match as_user(&principal, work).await {
        Ok(done) => back(&format!("/requests/{id}"), done),
        Err(e) => viewer.error(e),
    }
}

// --- Restore tests ---------------------------------------------------------------

pub async fn drills(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let ctx = state.ctx();
    let tz = tz(&state);
    let history: Vec<_> = reprise_recovery::drill::history(&ctx, None)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| crate::auth::covers(&state, &principal, &d.asset))
        .collect();
    if let Some(format) = q.get("format") {
        let title = ctx
            .loaded
            .config
            .name
            .clone()
            .unwrap_or_else(|| "Reprise".into());
        if format == "pdf" {
            return pdf_document(
                "drills",
                reprise_recovery::drill::report_pdf(&ctx, &history, viewer.fr(), &tz, &title),
            );
        }
        let text = reprise_recovery::drill::report_text(&history, viewer.fr(), &tz, &title);
        return report(text, "drills", viewer.fr(), Some(format));
    }
    let rows: Vec<Value> = history
        .iter()
        .take(200)
        .map(|d| {
            let r = d.record.as_ref();
            context! {
                asset => d.asset.clone(),
                dataset => d.dataset.clone(),
                started => when(d.started, &tz, viewer.fr()),
                ok => d.ok,
                rto => r.map(|r| duration(r.measured_rto_seconds)),
                target => r.and_then(|r| r.rto_seconds).map(|s| duration(s as f64)),
                error => d.error.clone().unwrap_or_default(),
            }
        })
        .collect();
    viewer.render(
        "drills.html",
        "drills",
        context! {
            rows,
            assets => state.loaded.config.inventory.assets.iter()
                .filter(|a| !a.datasets.is_empty() && (principal.scope.is_everything() || principal.scope.covers(a)))
                .map(|a| context! { id => a.id.to_string(), name => a.name.clone() })
                .collect::<Vec<_>>(),
            can_operate => principal.role.allows(Action::Operate),
            flash => flash(&viewer, &q),
        },
    )
}

pub(crate) async fn run_drill(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Operate, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(asset) = field(&form, "asset") else {
        return viewer.message(StatusCode::BAD_REQUEST, "bad_form");
    };
    if state.loaded.config.inventory.asset(&asset).is_none()
        || !crate::auth::covers(&state, &principal, &asset)
    {
        return viewer.message(StatusCode::NOT_FOUND, "not_found");
    }
    let key = [format!("drill:{asset}")];
    if !state.claim(&key) {
        return back("/drills", "drill_busy");
    }
    let worker = state.clone();
    let user = principal.user.clone();
    tokio::spawn(async move {
        crate::job(&worker, async {
            let ctx = worker.ctx();
            let opts = reprise_recovery::drill::DrillOptions {
                assets: vec![asset.clone()],
                scenario: Some("web UI".into()),
                ..Default::default()
            };
            let run = reprise_recovery::drill::run(&ctx, &opts, &user);
            if let Err(e) = reprise_ops::journal::ACTOR.scope(user.clone(), run).await {
                tracing::error!(asset = %asset, error = %e, "drill failed");
            }
        })
        .await;
        worker.unclaim(&key);
    });
    back("/drills", "drill_started")
}

// --- Readiness and alerts --------------------------------------------------------

pub async fn readiness(Extract(state): Extract<Arc<State>>, viewer: Viewer) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let r = match reprise_recovery::readiness::check(&state.ctx(), None, Timestamp::now()).await {
        Ok(r) => r,
        Err(e) => return viewer.error(e),
    };
    let fr = viewer.fr();
    let assets: Vec<Value> = r
        .assets
        .iter()
        .filter(|a| crate::auth::covers(&state, &principal, &a.asset))
        .map(|a| {
            context! {
                id => a.asset.clone(),
                name => a.name.clone(),
                site => a.site.clone(),
                ready => a.ready,
                items => a.items.iter().map(|i| context! {
                    label => if fr { i.fr } else { i.en },
                    met => i.met,
                    blocker => if fr { i.blocker_fr.clone() } else { i.blocker.clone() },
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    viewer.render("readiness.html", "readiness", context! { assets })
}

pub async fn alerts(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let tz = tz(&state);
    let inv = &state.loaded.config.inventory;
    let rows: Vec<Value> = state
        .catalog
        .alerts(true)
        .await
        .unwrap_or_default()
        .iter()
        .filter(|a| {
            principal.scope.is_everything()
                || a.key.split_once(':').is_some_and(|(_, rest)| {
                    crate::auth::covers(&state, &principal, rest.split('/').next().unwrap_or(rest))
                })
        })
        .map(|a| {
            let asset = a
                .key
                .split_once(':')
                .map(|(_, r)| r.split('/').next().unwrap_or(r))
                .filter(|r| inv.asset(r).is_some());
            context! {
                severity => a.severity.clone(),
                message => if viewer.fr() {
                    reprise_ops::notify::french(&a.key, &a.message, |id| {
                        inv.asset(id).map(|x| x.name.clone())
                    })
                } else {
                    a.message.clone()
                },
                key => a.key.clone(),
                asset => asset.map(str::to_string),
                opened => when(a.opened, &tz, viewer.fr()),
                acknowledged => a.acknowledged.map(|t| when(t, &tz, viewer.fr())),
                acknowledged_by => a.acknowledged_by.clone(),
            }
        })
        .collect();
    viewer.render(
        "alerts.html",
        "alerts",
        context! {
            rows,
            can_operate => principal.role.allows(Action::Operate),
            flash => flash(&viewer, &q),
        },
    )
}

/// An alert in French, from its key: supervision words its messages in English (they go
/// to webhooks and logs), the key says what it is about.
/// The devices whose configuration is collected, what was last seen of each, and how
/// each configuration goes back.
pub async fn devices(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let tz = tz(&state);
    let fr = viewer.fr();
    let rows: Vec<Value> = reprise_oversight::devices::list(&state.ctx())
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| crate::auth::covers(&state, &principal, &d.asset))
        .map(|d| {
            let (status, badge) = match d.status {
                "ok" => ("device_ok", "ok"),
                "failing" => ("device_failing", "failed"),
                _ => ("device_never", "warning"),
            };
            context! {
                asset => d.asset,
                name => d.name,
                dataset => d.dataset,
                model => d.model,
                address => d.address,
                watch => d.watch,
                checked => d.checked.map(|t| when(t, &tz, fr)),
                changed => d.changed.map(|t| when(t, &tz, fr)),
                backed_up => d.backed_up.map(|t| when(t, &tz, fr)),
                status => viewer.t(status),
                badge,
                error => d.error,
                change => d.change,
                push => d.push,
                can_apply => d.can_apply,
            }
        })
        .collect();
    viewer.render(
        "devices.html",
        "devices",
        context! {
            rows,
            can_operate => principal.role.allows(Action::Operate),
            flash => flash(&viewer, &q),
        },
    )
}

/// The hosts whose agents back up their data: silent ones first in sight, and the jobs
/// handed to them lately.
pub async fn agents(Extract(state): Extract<Arc<State>>, viewer: Viewer) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let tz = tz(&state);
    let fr = viewer.fr();
    let ctx = state.ctx();
    let now = jiff::Timestamp::now();
    let rows: Vec<Value> = reprise_agents::fleet::list(&ctx, now)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|a| {
            a.assets.is_empty()
                || a.assets
                    .iter()
                    .any(|id| crate::auth::covers(&state, &principal, id))
        })
        .map(|a| {
            let (status, badge) = if !a.active {
                if a.enrolled.is_some() {
                    ("agent_revoked", "warning")
                } else {
                    ("agent_never", "warning")
                }
            } else if a.silent {
                ("agent_silent", "failed")
            } else {
                ("agent_ok", "ok")
            };
            context! {
                host => a.host,
                status => viewer.t(status),
                badge,
                version => a.version,
                seen => a.seen.map(|t| when(t, &tz, fr)),
                assets => a.assets,
                last_backup => a.last_backup.map(|t| when(t, &tz, fr)),
                waiting => a.waiting_jobs,
            }
        })
        .collect();
    let jobs: Vec<Value> = state
        .catalog
        .agent_jobs(None, false)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|j| crate::auth::covers(&state, &principal, &j.asset))
        .take(50)
        .map(|j| {
            let badge = match j.state {
                reprise_catalog::JobState::Succeeded => "ok",
                reprise_catalog::JobState::Failed => "failed",
                _ => "warning",
            };
            let result = j.result.as_deref().and_then(|r| {
                let v: serde_json::Value = serde_json::from_str(r).ok()?;
                v["error"].as_str().map(str::to_string)
            });
            context! {
                id => j.id,
                host => j.host,
                kind => j.kind,
                asset => j.asset,
                state => j.state.as_str(),
                badge,
                created => when(j.created, &tz, fr),
                result,
            }
        })
        .collect();
    viewer.render("agents.html", "agents", context! { rows, jobs })
}

/// Reads an asset's devices now, in the background.
pub async fn check_device(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Operate, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let asset = form.get("asset").cloned().unwrap_or_default();
    if state.loaded.config.inventory.asset(&asset).is_none()
        || !crate::auth::covers(&state, &principal, &asset)
    {
        return viewer.message(StatusCode::NOT_FOUND, "not_found");
    }
    let started = crate::spawn_device_check(&state, asset, None);
    back(
        "/devices",
        if started {
            "device_check_started"
        } else {
            "device_busy"
        },
    )
}

/// Acknowledges an open alert: someone is on it.
pub async fn acknowledge(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Operate, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let key = form.get("key").cloned().unwrap_or_default();
    let mine = principal.scope.is_everything()
        || key
            .split_once(':')
            .is_some_and(|(_, rest)| crate::auth::covers(&state, &principal, rest));
    if !mine {
        return viewer.message(StatusCode::FORBIDDEN, "forbidden");
    }
    let done = as_user(
        &principal,
        state
            .catalog
            .acknowledge_alert(&key, &principal.user, Timestamp::now()),
    )
    .await;
    state.forget_overview();
    match done {
        Ok(true) => back("/alerts", "alert_acknowledged"),
        Ok(false) => viewer.message(StatusCode::NOT_FOUND, "not_found"),
        Err(e) => viewer.error(e.into()),
    }
}

// --- Reports for auditors -------------------------------------------------------

pub async fn reports(Extract(state): Extract<Arc<State>>, viewer: Viewer) -> Response {
    if let Err(r) = viewer.require(Action::Audit) {
        return *r;
    }
    let now = Timestamp::now().to_zoned(tz(&state));
    let quarter = format!("{}-Q{}", now.year(), (now.month() - 1) / 3 + 1);
    viewer.render(
        "reports.html",
        "reports",
        context! {
            quarter,
            kinds => reprise_oversight::export::Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            sites => state.loaded.config.inventory.sites.iter().map(|s| context! {
                id => s.id.to_string(), name => s.name.clone(),
            }).collect::<Vec<_>>(),
        },
    )
}

fn attachment(kind: &str, name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The evidence pack of a period, as a `.tar.gz` archive.
pub async fn evidence(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = viewer.require_everywhere(Action::Audit) {
        return *r;
    }
    let ctx = state.ctx();
    let period = match reprise_oversight::evidence::parse_period(
        q.get("period").map(String::as_str).unwrap_or(""),
        &tz(&state),
    ) {
        Ok(p) => p,
        Err(e) => return viewer.error(reprise_ops::error::AppError::Invalid(e)),
    };
    match reprise_oversight::evidence::archive(&ctx, &period).await {
        Ok((name, bytes)) => attachment("application/gzip", &name, bytes),
        Err(e) => viewer.error(e),
    }
}

/// One CSV export; a page that says why when nothing matches.
pub(crate) async fn export_csv(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = viewer.require_everywhere(Action::Audit) {
        return *r;
    }
    let kind = match reprise_oversight::export::Kind::parse(
        q.get("kind").map(String::as_str).unwrap_or(""),
    ) {
        Ok(k) => k,
        Err(e) => return viewer.error(reprise_ops::error::AppError::Invalid(e)),
    };
    let tz = tz(&state);
    let day = |key: &str, next: bool| -> Option<Timestamp> {
        let d: jiff::civil::Date = field(&q, key)?.parse().ok()?;
        let d = if next { d.tomorrow().ok()? } else { d };
        d.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
    };
    let filter = reprise_oversight::export::Filter {
        site: field(&q, "site"),
        since: day("since", false),
        until: day("until", true),
        kind_type: field(&q, "type"),
    };
    let sheet = match reprise_oversight::export::sheet(&state.ctx(), kind, &filter).await {
        Ok(s) => s,
        Err(e) => return viewer.error(e),
    };
    if sheet.rows.is_empty() {
        let why = reprise_oversight::export::why_empty(kind, &filter, &tz);
        let mut r = viewer.render("message.html", "reports", context! { message => why });
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    attachment(
        "text/csv; charset=utf-8",
        &format!("{}.csv", kind.as_str()),
        reprise_oversight::export::encode(&sheet.header, &sheet.rows),
    )
}

/// The offline runbook, in the page's language.
pub async fn runbook(Extract(state): Extract<Arc<State>>, viewer: Viewer) -> Response {
    if let Err(r) = viewer.require(Action::ReadRecords) {
        return *r;
    }
    match reprise_recovery::runbook::export(&state.ctx(), viewer.fr(), Timestamp::now()).await {
        Ok(html) => attachment(
            "text/html; charset=utf-8",
            "runbook.html",
            html.into_bytes(),
        ),
        Err(e) => viewer.error(e),
    }
}
