//! The pages and the forms they post. Each handler reads through the same use cases as
//! the API and the CLI, shapes plain rows (dates and sizes already in the page's
//! language) and renders a template.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State as Extract};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use minijinja::{Value, context};
use reprise_catalog::RunFilter;
use reprise_domain::AssetState;
use reprise_domain::access::Action;
use reprise_domain::incident::{ApprovedPlan, Assessment, Phase};
use reprise_ops::snapshots::Integrity;
use reprise_ops::tokens::{self, Principal, Refused};
use reprise_recovery::incident::{self, CheckInput, NewIncident, StepMove};
use serde::Serialize;

use super::{
    LANG, LOGIN, SESSION, Viewer, as_user, back, cookie, day, duration, flash, local_path,
    random_hex, size, tz, when,
};
use crate::State;

type Fields = Form<HashMap<String, String>>;

fn secure(state: &State) -> bool {
    state.tls.load(std::sync::atomic::Ordering::Relaxed)
}

// --- Sign-in ---------------------------------------------------------------------

pub(crate) async fn login_form(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // The sign-in form's own token, before any session exists.
    let secret = viewer
        .cookies
        .get(LOGIN)
        .cloned()
        .unwrap_or_else(|| random_hex(16));
    let viewer = Viewer {
        csrf: super::csrf_of(&secret),
        ..viewer
    };
    let mut page = viewer.render(
        "login.html",
        "login",
        context! {
            next => local_path(q.get("next").map(String::as_str)),
            error => q.get("error").map(|k| viewer.t(k)),
        },
    );
    if let Ok(v) = cookie(LOGIN, &secret, secure(&state), None).parse() {
        page.headers_mut().append(header::SET_COOKIE, v);
    }
    page
}

pub async fn login(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    let next = local_path(form.get("next").map(String::as_str));
    let retry =
        |key: &str| Redirect::to(&format!("/login?error={key}&next={next}")).into_response();
    let expected = viewer.cookies.get(LOGIN).map(|s| super::csrf_of(s));
    if expected.is_none() || form.get("csrf") != expected.as_ref() {
        return retry("bad_form");
    }
    let user = form.get("user").cloned().unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let outcome = reprise_ops::journal::ACTOR
        .scope(
            user.clone(),
            tokens::sign_in(&*state.catalog, user.trim(), &password, Timestamp::now()),
        )
        .await;
    match outcome {
        Ok(Ok((token, _))) => {
            let mut r = Redirect::to(&next).into_response();
            for c in [
                cookie(SESSION, &token, secure(&state), None),
                cookie(LOGIN, "", secure(&state), Some(0)),
            ] {
                if let Ok(v) = c.parse() {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Ok(Err(Refused::Invalid)) => retry("bad_credentials"),
        Ok(Err(Refused::Locked { .. })) => retry("locked"),
        Err(e) => viewer.error(e),
    }
}

pub(crate) async fn logout(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    if let Err(r) = viewer.check_form(&form) {
        return *r;
    }
    if let Some(p) = &viewer.principal {
        // The session's token dies with the session.
        let revoked = as_user(
            p,
            tokens::revoke(&*state.catalog, &p.user, &p.token, Timestamp::now()),
        )
        .await;
        if let Err(e) = revoked {
            tracing::error!(error = %e, "session not revoked");
        }
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = cookie(SESSION, "", secure(&state), Some(0)).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Switches the language (a cookie; and the account's, when signed in, so that it holds
/// on every device and for the reports it receives), then goes back.
pub async fn language(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let lang = if code == "fr" { "fr" } else { "en" };
    // The session cookie is SameSite=Strict: another site's link arrives without it.
    if let Some(principal) = &viewer.principal {
        let change = tokens::UserChange {
            lang: Some(lang.into()),
            ..Default::default()
        };
        let saved = as_user(
            principal,
            tokens::change_user(&*state.catalog, &principal.user, &change, Timestamp::now()),
        )
        .await;
        if let Err(e) = saved {
            tracing::warn!("keeping the language of `{}`: {e}", principal.user);
        }
    }
    let mut r = Redirect::to(&local_path(q.get("back").map(String::as_str))).into_response();
    if let Ok(v) = cookie(LANG, lang, secure(&state), Some(365 * 86_400)).parse() {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

// --- Dashboard -------------------------------------------------------------------

/// A vocabulary word (category, criticality, state) in the page's language.
fn word(fr: bool, en: &str, fr_word: &str) -> String {
    if fr { fr_word } else { en }.to_string()
}

/// The word a page (and its CSS class) uses for an RPO status.
fn status_word(status: reprise_ops::status::RpoStatus) -> &'static str {
    use reprise_ops::status::RpoStatus;
    match status {
        RpoStatus::Ok => "ok",
        RpoStatus::AtRisk => "at_risk",
        RpoStatus::Breached => "breached",
        RpoStatus::Never => "never",
        RpoStatus::NoTarget => "no_target",
    }
}

/// Each asset's status word, by asset id.
fn status_map(statuses: &[reprise_ops::status::AssetStatus]) -> HashMap<&str, &'static str> {
    statuses
        .iter()
        .map(|s| (s.asset.as_str(), status_word(s.rpo_status)))
        .collect()
}

struct Tile {
    id: String,
    name: String,
    status: &'static str,
    /// What is down comes first: a failed or partial asset's tile says so whatever its
    /// backups' RPO.
    state: AssetState,
    verified: Option<String>,
    rule: bool,
}

struct SiteTiles {
    id: String,
    name: String,
    assets: Vec<Tile>,
}

pub async fn dashboard(Extract(state): Extract<Arc<State>>, viewer: Viewer) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let tz = tz(&state);
    let overview = match state.overview().await {
        Ok(o) => o,
        Err(e) => return viewer.error(e),
    };
    let (statuses, alerts) = (&overview.statuses, &overview.alerts);
    let open_rows = state.catalog.incidents(true).await.unwrap_or_default();
    let open_incidents = open_rows.len();
    // What is being done about it: each open incident's phase, next update, who leads.
    let ctx = state.ctx();
    let now = Timestamp::now();
    let fr = viewer.fr();
    let incidents: Vec<Value> = if principal.scope.is_everything() {
        open_rows
            .into_iter()
            .filter_map(|row| incident::from_row(row).ok())
            .map(|i| {
                let d = incident::deadlines(&ctx, &i, now);
                context! {
                    id => i.row.id,
                    title => i.row.title.clone(),
                    severity => i.row.severity.clone(),
                    phase => if fr { i.phase.label_fr().to_string() } else { i.phase.as_str().to_string() },
                    next_update => d.next_update_due.map(|t| when(t, &tz, fr)),
                    late => d.update_late,
                    lead => i.doc.roles.commander.clone().or_else(|| i.doc.roles.primary_oncall.clone()),
                    steps_done => i.doc.plan.as_ref().map(|p| p.steps.iter().filter(|s| s.status.is_settled()).count()),
                    steps => i.doc.plan.as_ref().map(|p| p.steps.len()),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mine = |asset: &str| crate::auth::covers(&state, &principal, asset);
    let alert_count = |prefix: &str| {
        alerts
            .iter()
            .filter(|a| {
                a.key
                    .strip_prefix(prefix)
                    .is_some_and(|rest| mine(rest.split('/').next().unwrap_or(rest)))
            })
            .count()
    };
    let current = state.ctx();
    let mut sites = Vec::new();
    for site in &state.loaded.config.inventory.sites {
        let assets: Vec<Tile> = statuses
            .iter()
            .filter(|s| s.site == site.id.as_str() && mine(&s.asset))
            .map(|s| Tile {
                id: s.asset.clone(),
                name: s.name.clone(),
                status: status_word(s.rpo_status),
                // The current state: the configuration's, or one recorded since.
                state: current
                    .inventory()
                    .asset(&s.asset)
                    .map_or(AssetState::Working, |a| a.state),
                verified: s.last_verified.map(|t| when(t, &tz, viewer.fr())),
                rule: s.rule_3_2_1,
            })
            .collect();
        // What is down leads: failed, then partial, then the rest in inventory order.
        let mut assets = assets;
        assets.sort_by_key(|t| match t.state {
            AssetState::Failed => 0,
            AssetState::Partial => 1,
            AssetState::Working => 2,
        });
        if !assets.is_empty() {
            sites.push(SiteTiles {
                id: site.id.to_string(),
                name: site.name.clone(),
                assets,
            });
        }
    }
    let rule_broken = statuses
        .iter()
        .filter(|s| mine(&s.asset) && s.restore_points > 0 && !s.rule_3_2_1)
        .count();
    let everything = principal.scope.is_everything();
    viewer.render(
        "dashboard.html",
        "dashboard",
        context! {
            sites => Value::from_safe_string(tiles_html(&sites, &viewer)),
            incidents,
            counts => context! {
                failed => alert_count("backup:"),
                missed => alert_count("missed:"),
                alerts => if everything { alerts.len() } else { alerts.iter().filter(|a| a.key.split_once(':').is_some_and(|(_, r)| mine(r))).count() },
                incidents => if everything { open_incidents } else { 0 },
                drills_due => alert_count("drill-due:"),
                drills_failed => alert_count("drill:"),
                rule_broken,
            },
        },
    )
}

/// The tiles of every site, written directly: with ten thousand assets, going through
/// the template engine tile by tile costs most of the page's time.
fn tiles_html(sites: &[SiteTiles], viewer: &Viewer) -> String {
    use std::fmt::Write;
    let esc = reprise_workspace::html::escape;
    let mut out = String::with_capacity(sites.iter().map(|s| s.assets.len()).sum::<usize>() * 400);
    let verified = esc(viewer.t("last_verified"));
    let never = esc(viewer.t("never"));
    for site in sites {
        let id = esc(&site.id);
        let _ = write!(
            out,
            "<section aria-labelledby=\"site-{id}\">\n<h2 id=\"site-{id}\">{}</h2>\n<ul class=\"tiles\">\n",
            esc(&site.name)
        );
        for a in &site.assets {
            let asset = esc(&a.id);
            let label = esc(viewer.t(&format!("rpo_{}", a.status)));
            let when = a.verified.as_deref().map_or(never.clone(), esc);
            // The tile's colour: its state when down, its RPO otherwise.
            let (look, down) = match a.state {
                AssetState::Failed => ("down", true),
                AssetState::Partial => ("partial", true),
                AssetState::Working => (a.status, false),
            };
            let state_badge = if down {
                let word = if viewer.fr() {
                    a.state.label_fr()
                } else {
                    a.state.as_str()
                };
                format!("<span class=\"badge state-{look}\">{}</span>", esc(word))
            } else {
                String::new()
            };
            let _ = write!(
                out,
                "<li><a class=\"tile {look}\" href=\"/assets/{asset}\" id=\"tile-{asset}\" data-status=\"{s}\" data-state=\"{state}\"><strong>{}</strong>{state_badge}<span class=\"badge {s}\">{label}</span><span class=\"muted\">{verified} : {when}</span><span>3-2-1 {}</span></a></li>",
                esc(&a.name),
                if a.rule { "✓" } else { "✗" },
                s = a.status,
                state = a.state.as_str(),
            );
            out.push('\n');
        }
        out.push_str("</ul>\n</section>\n");
    }
    out
}

// --- Inventory -------------------------------------------------------------------

#[derive(Serialize)]
struct AssetRow {
    id: String,
    name: String,
    site: String,
    category: String,
    criticality: String,
    state: String,
    owner: String,
    rpo: String,
    status: &'static str,
}

pub async fn assets(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    let overview = state.overview().await;
    let by_asset = overview
        .as_ref()
        .map(|o| status_map(&o.statuses))
        .unwrap_or_default();
    let status_of = |id: &str| by_asset.get(id).copied().unwrap_or("never");
    let search = q
        .get("q")
        .map(|s| s.trim().to_lowercase())
        .unwrap_or_default();
    let sort = q.get("sort").cloned().unwrap_or_else(|| "site".into());
    let current = state.ctx();
    let mut rows: Vec<AssetRow> = current
        .inventory()
        .assets
        .iter()
        .filter(|a| principal.scope.is_everything() || principal.scope.covers(a))
        .map(|a| AssetRow {
            id: a.id.to_string(),
            name: a.name.clone(),
            site: a.site.to_string(),
            category: word(viewer.fr(), a.category.as_str(), a.category.label_fr()),
            criticality: word(
                viewer.fr(),
                a.criticality.as_str(),
                a.criticality.label_fr(),
            ),
            state: word(viewer.fr(), a.state.as_str(), a.state.label_fr()),
            owner: a.owner.clone().unwrap_or_default(),
            rpo: a.rpo.map(|r| r.to_string()).unwrap_or_default(),
            status: status_of(a.id.as_str()),
        })
        .filter(|r| {
            search.is_empty()
                || [&r.id, &r.name, &r.site, &r.category, &r.owner]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&search))
        })
        .collect();
    let key = |r: &AssetRow| -> String {
        match sort.as_str() {
            "name" => r.name.to_lowercase(),
            "criticality" => r.criticality.clone(),
            "status" => r.status.to_string(),
            "category" => r.category.clone(),
            _ => format!("{} {}", r.site, r.name.to_lowercase()),
        }
    };
    rows.sort_by_key(key);
    viewer.render(
        "assets.html",
        "assets",
        context! { rows => super::v(&rows), q => q.get("q").cloned().unwrap_or_default(), sort },
    )
}

#[derive(Serialize)]
struct PointRow {
    dataset: String,
    time: String,
    size: String,
    integrity: &'static str,
    integrity_at: Option<String>,
    copies: Vec<String>,
    /// The snapshot to name when clearing, when this point is the suspect one itself
    /// (not one only following it).
    clearable: Option<String>,
}

#[derive(Serialize)]
struct RunRow {
    kind: String,
    started: String,
    duration: String,
    status: String,
    error: String,
}

#[derive(Serialize)]
struct Neighbour {
    id: String,
    name: String,
    status: &'static str,
}

pub async fn asset(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require(Action::Read) {
        Ok(p) => p.clone(),
        Err(r) => return *r,
    };
    // Each asset in its current state (recorded by hand or by a finished step).
    let ctx = state.ctx();
    let inv = ctx.inventory();
    let Some(asset) = inv.asset(&id) else {
        return viewer.message(StatusCode::NOT_FOUND, "not_found");
    };
    if !crate::auth::covers(&state, &principal, &id) {
        return viewer.message(StatusCode::FORBIDDEN, "forbidden");
    }
    let tz = tz(&state);
    let fr = viewer.fr();
    let current = reprise_ops::states::current(&*state.catalog, inv)
        .await
        .unwrap_or_default();
    let now = current.get(id.as_str());
    let overview = state.overview().await;
    let by_asset = overview
        .as_ref()
        .map(|o| status_map(&o.statuses))
        .unwrap_or_default();
    let status_of = |a: &str| by_asset.get(a).copied().unwrap_or("never");
    let mut views = reprise_ops::snapshots::with_foreign(&state.ctx(), Some(&id))
        .await
        .unwrap_or_default();
    let suspicions = state
        .catalog
        .suspicions(Some(&id))
        .await
        .unwrap_or_default();
    views.reverse();
    let points: Vec<PointRow> = views
        .iter()
        .take(30)
        .map(|p| {
            let (integrity, at) = match &p.integrity {
                _ if p.foreign => ("foreign", None),
                _ if p.suspect.is_some() => ("suspect", p.suspect.clone()),
                Integrity::Unverified => ("unverified", None),
                Integrity::Verified { at } => ("verified", Some(when(*at, &tz, fr))),
                Integrity::Failed { at, .. } => ("damaged", Some(when(*at, &tz, fr))),
            };
            PointRow {
                dataset: p.dataset.clone(),
                time: when(p.time, &tz, fr),
                size: p.bytes.map(|b| size(b, fr)).unwrap_or_default(),
                integrity,
                integrity_at: at,
                copies: p.copies.iter().map(|c| c.repository.clone()).collect(),
                clearable: suspicions
                    .iter()
                    .any(|s| s.dataset == p.dataset && s.time == p.time && s.cleared.is_none())
                    .then(|| p.copies[0].snapshot.clone()),
            }
        })
        .collect();
    let runs: Vec<RunRow> = state
        .catalog
        .runs(&RunFilter {
            asset: Some(id.clone()),
            limit: Some(15),
            ..RunFilter::default()
        })
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| RunRow {
            kind: r.kind.as_str().to_string(),
            started: when(r.started, &tz, fr),
            duration: r
                .duration()
                .map(|d| duration(d.as_secs_f64()))
                .unwrap_or_default(),
            status: r.status.as_str().to_string(),
            error: r.error.clone().unwrap_or_default(),
        })
        .collect();
    let drills: Vec<Value> = reprise_recovery::drill::history(&ctx, Some(&id))
        .await
        .unwrap_or_default()
        .iter()
        .take(10)
        .map(|d| {
            context! {
                dataset => d.dataset.clone(),
                started => when(d.started, &tz, fr),
                ok => d.ok,
                rto => d.record.as_ref().map(|r| duration(r.measured_rto_seconds)),
            }
        })
        .collect();
    let datasets: Vec<Value> = asset
        .datasets
        .iter()
        .map(|d| {
            context! {
                name => d.name.clone(),
                what => match &d.source {
                    reprise_domain::DataSource::Paths { paths, .. } => paths.join(", "),
                    reprise_domain::DataSource::Command { command, .. } => format!("$ {command}"),
                    reprise_domain::DataSource::Device { collect, .. } => {
                        format!("{} ({})", collect.address, collect.model)
                    }
                },
                category => d.category.clone().unwrap_or_default(),
            }
        })
        .collect();
    // Beyond one level: everything it waits on and everything that waits on it, the
    // farther ones marked with their distance.
    let neighbour = |a: &reprise_domain::Asset, depth: usize| Neighbour {
        id: a.id.to_string(),
        name: if depth > 1 {
            format!("{} ({depth})", a.name)
        } else {
            a.name.clone()
        },
        status: status_of(a.id.as_str()),
    };
    let mut dependencies: Vec<Neighbour> = Vec::new();
    let mut seen = std::collections::HashSet::from([asset.id.as_str()]);
    let mut frontier: Vec<&reprise_domain::Asset> = vec![asset];
    for depth in 1.. {
        let next: Vec<&reprise_domain::Asset> = frontier
            .iter()
            .flat_map(|a| a.depends_on.iter())
            .filter_map(|d| inv.asset(d.as_str()))
            .filter(|d| seen.insert(d.id.as_str()))
            .collect();
        if next.is_empty() {
            break;
        }
        dependencies.extend(next.iter().map(|d| neighbour(d, depth)));
        frontier = next;
    }
    let dependents: Vec<Neighbour> = inv
        .impact(&id)
        .iter()
        .filter_map(|i| inv.asset(i.asset.as_str()).map(|a| neighbour(a, i.depth)))
        .collect();
    let graph = neighbourhood_svg(&neighbour(asset, 0), &dependencies, &dependents, &viewer);
    let (age_chart, size_chart) = asset_charts(&state, asset, &views, &viewer).await;
    viewer.render(
        "asset.html",
        "assets",
        context! {
            asset => context! {
                id => asset.id.to_string(),
                name => asset.name.clone(),
                site => asset.site.to_string(),
                category => word(fr, asset.category.as_str(), asset.category.label_fr()),
                criticality => word(fr, asset.criticality.as_str(), asset.criticality.label_fr()),
                state => word(fr, asset.state.as_str(), asset.state.label_fr()),
                state_key => asset.state.as_str(),
                state_since => now.and_then(|c| c.since).map(|t| when(t, &tz, fr)),
                state_by => now.filter(|c| c.by != "configuration").map(|c| c.by.clone()),
                state_note => now.and_then(|c| c.note.clone()),
                procedure => asset.procedure.clone().unwrap_or_default(),
                rpo => asset.rpo.map(|r| r.to_string()).unwrap_or_default(),
                rto => asset.rto.map(|r| r.to_string()).unwrap_or_default(),
                owner => asset.owner.clone().unwrap_or_default(),
                status => status_of(asset.id.as_str()),
            },
            datasets, drills,
            points => super::v(&points),
            runs => super::v(&runs),
            dependencies => super::v(&dependencies),
            dependents => super::v(&dependents),
            graph => Value::from_safe_string(graph),
            age_chart => age_chart.map(Value::from_safe_string),
            size_chart => size_chart.map(Value::from_safe_string),
            can_operate => principal.role.allows(Action::Operate),
            can_verify => principal.role.allows(Action::Operate) && principal.scope.is_everything(),
            can_clear => principal.role.allows(Action::Administer),
            flash => flash(&viewer, &q),
        },
    )
}

/// The asset's pictures: the age of its newest restore point against its RPO over time,
/// and what its last backups read and added.
async fn asset_charts(
    state: &State,
    asset: &reprise_domain::Asset,
    views: &[reprise_ops::snapshots::PointView],
    viewer: &Viewer,
) -> (Option<String>, Option<String>) {
    let tz = tz(state);
    let label = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%d/%m %H:%M").to_string();
    let times: Vec<Timestamp> = views
        .iter()
        .filter(|p| !p.foreign)
        .map(|p| p.time)
        .collect();
    let age = reprise_workspace::charts::age_against_rpo(
        &times,
        asset.rpo.map(|r| r.as_secs()),
        Timestamp::now(),
        &label,
        viewer.t("chart_age"),
    );
    let mut runs = state
        .catalog
        .runs(&RunFilter {
            asset: Some(asset.id.to_string()),
            kind: Some(reprise_catalog::RunKind::Backup),
            limit: Some(60),
        })
        .await
        .unwrap_or_default();
    runs.reverse();
    let sized: Vec<reprise_workspace::charts::Sized> = runs
        .iter()
        .filter(|r| r.status == reprise_catalog::RunStatus::Succeeded)
        .map(|r| reprise_workspace::charts::Sized {
            at: r.started,
            read: r.bytes_read,
            added: r.bytes_added,
        })
        .collect();
    let sizes = reprise_workspace::charts::backup_sizes(
        &sized,
        &label,
        viewer.t("chart_sizes"),
        (viewer.t("chart_read"), viewer.t("chart_added")),
    );
    (age, sizes)
}

/// The asset between what it depends on (left) and what depends on it (right), each a
/// link coloured by its RPO status.
fn neighbourhood_svg(
    center: &Neighbour,
    left: &[Neighbour],
    right: &[Neighbour],
    viewer: &Viewer,
) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let rows = left.len().max(right.len()).max(1);
    let height = 20 + rows * 50;
    let (w, bw, bh) = (720, 200, 34);
    let colour = |status: &str| match status {
        "ok" => ("#dafbe1", "#1a7f37"),
        "at_risk" => ("#fff8c5", "#7d4e00"),
        "breached" => ("#ffebe9", "#a40e26"),
        _ => ("#eaeef2", "#57606a"),
    };
    let box_at = |n: &Neighbour, x: usize, y: usize| {
        let (fill, stroke) = colour(n.status);
        let name: String = n.name.chars().take(26).collect();
        format!(
            "<a href=\"/assets/{id}\"><rect x=\"{x}\" y=\"{y}\" width=\"{bw}\" height=\"{bh}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/><text x=\"{tx}\" y=\"{ty}\" font-size=\"13\" text-anchor=\"middle\" fill=\"#1f2328\">{name}</text></a>",
            id = esc(&n.id),
            tx = x + bw / 2,
            ty = y + 22,
            name = esc(&name),
        )
    };
    let cy = height / 2 - bh / 2;
    let cx = w / 2 - bw / 2;
    let mut svg = format!(
        "<svg role=\"img\" viewBox=\"0 0 {w} {height}\" width=\"{w}\" height=\"{height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        esc(viewer.t("neighbourhood"))
    );
    let y_of = |i: usize, n: usize| {
        let span = height - 20;
        10 + (span * (2 * i + 1)) / (2 * n.max(1)) - bh / 2
    };
    for (i, n) in left.iter().enumerate() {
        let y = y_of(i, left.len());
        svg += &format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{cx}\" y2=\"{}\" stroke=\"#8c959f\" stroke-width=\"2\"/>",
            10 + bw,
            y + bh / 2,
            cy + bh / 2
        );
        svg += &box_at(n, 10, y);
    }
    for (i, n) in right.iter().enumerate() {
        let y = y_of(i, right.len());
        let x = w - bw - 10;
        svg += &format!(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#8c959f\" stroke-width=\"2\"/>",
            cx + bw,
            cy + bh / 2,
            y + bh / 2
        );
        svg += &box_at(n, x, y);
    }
    svg += &box_at(center, cx, cy);
    svg += "</svg>";
    svg
}

pub async fn backup(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Operate, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if state.loaded.config.inventory.asset(&id).is_none()
        || !crate::auth::covers(&state, &principal, &id)
    {
        return viewer.message(StatusCode::NOT_FOUND, "not_found");
    }
    let selection = reprise_ops::backup::Selection {
        assets: vec![id.clone()],
        reason: Some(format!("requested in the web UI by {}", principal.user)),
        ..Default::default()
    };
    let started = crate::spawn_backup(&state, vec![id.clone()], selection);
    back(
        &format!("/assets/{id}"),
        if started {
            "backup_started"
        } else {
            "backup_busy"
        },
    )
}

pub async fn verify(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Operate, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if state.loaded.config.inventory.asset(&id).is_none() || !principal.scope.is_everything() {
        return viewer.message(StatusCode::FORBIDDEN, "forbidden");
    }
    let worker = state.clone();
    let assets = vec![id.clone()];
    let user = principal.user.clone();
    tokio::spawn(async move {
        crate::job(&worker, async {
            let ctx = worker.ctx();
            let work = reprise_ops::verify::run(&ctx, &assets, reprise_ops::verify::Mode::ReadAll);
            if let Err(e) = reprise_ops::journal::ACTOR.scope(user, work).await {
                tracing::error!(error = %e, "verification failed");
            }
        })
        .await;
    });
    back(&format!("/assets/{id}"), "verify_started")
}

/// Trusts a suspect restore point again, after a person checked it: administrators only,
/// journaled with who and why.
pub async fn clear_suspicion(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Fields,
) -> Response {
    let principal = match viewer.form_user(Action::Administer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if !crate::auth::covers(&state, &principal, &id) {
        return viewer.message(StatusCode::FORBIDDEN, "forbidden");
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let ctx = state.ctx();
    let user = principal.user.clone();
    match super::as_user(
        &principal,
        reprise_ops::suspects::clear(&ctx, field("snapshot"), field("reason"), &user),
    )
    .await
    {
        Ok(s) if s.asset == id => {
            state.forget_overview();
            back(&format!("/assets/{id}"), "suspicion_cleared")
        }
        Ok(_) => viewer.message(StatusCode::FORBIDDEN, "forbidden"),
        Err(e) => viewer.error(e),
    }
}

// --- Incidents -------------------------------------------------------------------

pub async fn incidents(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require_everywhere(Action::ReadRecords) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let tz = tz(&state);
    let rows: Vec<Value> = match state.catalog.incidents(false).await {
        Ok(rows) => rows
            .iter()
            .map(|r| {
                context! {
                    id => r.id,
                    title => r.title.clone(),
                    severity => r.severity.clone(),
                    phase => match reprise_domain::incident::Phase::parse(&r.phase) {
                        Some(p) if viewer.fr() => p.label_fr().to_string(),
                        _ => r.phase.clone(),
                    },
                    opened => when(r.opened, &tz, viewer.fr()),
                    closed => r.closed.map(|c| when(c, &tz, viewer.fr())),
                }
            })
            .collect(),
        Err(e) => return viewer.error(e.into()),
    };
    viewer.render(
        "incidents.html",
        "incidents",
        context! {
            rows,
            can_operate => principal.role.allows(Action::Operate),
            flash => flash(&viewer, &q),
        },
    )
}

pub(crate) async fn open_incident(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let new = NewIncident {
        title: form.get("title").cloned().unwrap_or_default(),
        severity: form.get("severity").cloned(),
        assets: form
            .get("assets")
            .map(|a| {
                a.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        source: Some("web UI".into()),
        nature: form
            .get("nature")
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        ..NewIncident::default()
    };
    let ctx = state.ctx();
    match as_user(
        &principal,
        incident::open(&ctx, &new, Some(&principal.user), Timestamp::now()),
    )
    .await
    {
        Ok(id) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Err(e) => viewer.error(e),
    }
}

pub async fn incident(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let principal = match viewer.require_everywhere(Action::ReadRecords) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let ctx = state.ctx();
    let tz = tz(&state);
    let fr = viewer.fr();
    let view = match incident::show(&ctx, id, Timestamp::now()).await {
        Ok(v) => v,
        Err(e) => return viewer.error(e),
    };
    let inc = &view.incident;
    let inv = &state.loaded.config.inventory;
    let name_of = |a: &str| inv.asset(a).map_or(a.to_string(), |x| x.name.clone());
    let assessment = inc
        .doc
        .assessment
        .as_ref()
        .map(|a| assessment_view(a, &name_of, &tz, fr));
    let plan = inc.doc.plan.as_ref().map(|p| plan_view(p, &tz, fr));
    let evolution: Vec<Value> = view
        .evolution
        .iter()
        .map(|c| {
            context! {
                asset => name_of(&c.asset),
                at => when(c.at, &tz, fr),
                state => word(fr, c.state.as_str(), c.state.label_fr()),
            }
        })
        .collect();
    let timeline: Vec<Value> = view
        .timeline
        .iter()
        .rev()
        .map(|e| {
            context! {
                at => when(e.at, &tz, fr),
                who => e.actor.clone().unwrap_or_default(),
                kind => e.kind.clone(),
                text => viewer.language().pick(&e.text, e.text_fr.as_deref()),
            }
        })
        .collect();
    let all_done = inc
        .doc
        .plan
        .as_ref()
        .is_some_and(|p| !p.steps.is_empty() && p.steps.iter().all(|s| s.status.is_settled()));
    viewer.render(
        "incident.html",
        "incidents",
        context! {
            id,
            version => inc.row.version,
            title => inc.row.title.clone(),
            severity => inc.row.severity.clone(),
            phase => if fr { inc.phase.label_fr() } else { inc.phase.as_str() },
            opened => when(inc.row.opened, &tz, fr),
            affected => inc.doc.affected.iter().map(|a| context! {
                name => name_of(&a.asset),
                state => word(fr, a.state.as_str(), a.state.label_fr()),
            }).collect::<Vec<_>>(),
            assessment, plan, evolution, timeline,
            next_update => view.deadlines.next_update_due.map(|d| when(d, &tz, fr)),
            update_late => view.deadlines.update_late,
            draft => incident::draft_update(inc, fr, &tz),
            signed => inc.doc.sign_off.as_ref().map(|s| context! {
                by => s.by.clone(), at => when(s.at, &tz, fr), sha256 => s.sha256.clone(),
            }),
            review => inc.doc.review.as_ref().map(|r| context! {
                root_cause => r.root_cause.clone(),
                actions => r.actions.iter().map(|a| context! {
                    text => a.text.clone(),
                    owner => a.owner.clone(),
                    due => day(a.due, fr),
                    done => a.done.map(|d| when(d, &tz, fr)),
                }).collect::<Vec<_>>(),
            }),
            roles => [
                ("commander", &inc.doc.roles.commander),
                ("primary", &inc.doc.roles.primary_oncall),
                ("secondary", &inc.doc.roles.secondary_oncall),
                ("communications", &inc.doc.roles.communications),
            ]
            .iter()
            .map(|(key, who)| context! { key => *key, who => (*who).clone() })
            .chain((!inc.doc.roles.technicians.is_empty()).then(|| context! {
                key => "technician",
                who => inc.doc.roles.technicians.join(", "),
            }))
            .collect::<Vec<_>>(),
            // The phases the incident can move to from here; closing is the review's.
            next_phases => Phase::ALL
                .iter()
                .filter(|p| **p > inc.phase && **p != Phase::Closed)
                .map(|p| context! {
                    key => p.as_str(),
                    label => if fr { p.label_fr() } else { p.as_str() },
                })
                .collect::<Vec<_>>(),
            states => AssetState::ALL.iter().map(|s| context! {
                key => s.as_str(),
                label => word(fr, s.as_str(), s.label_fr()),
            }).collect::<Vec<_>>(),
            open => inc.row.closed.is_none(),
            can_review => inc.doc.sign_off.is_some() && inc.row.closed.is_none(),
            can_sign => all_done && inc.doc.sign_off.is_none(),
            can_operate => principal.role.allows(Action::Operate),
            flash => flash(&viewer, &q),
        },
    )
}

/// The damage assessment as the incident page shows it.
fn assessment_view(
    a: &Assessment,
    name_of: &dyn Fn(&str) -> String,
    tz: &jiff::tz::TimeZone,
    fr: bool,
) -> Value {
    context! {
        generated => when(a.generated, tz, fr),
        deadline => when(a.deadline, tz, fr),
        shared => a.shared.map(|s| when(s, tz, fr)),
        assets => a.assets.iter().map(|x| context! {
            id => x.asset.clone(),
            name => x.name.clone(),
            state => word(fr, x.state.as_str(), x.state.label_fr()),
            nature => x.nature.clone().unwrap_or_default(),
            dependents => x.degraded_dependents.iter().map(|d| name_of(d)).collect::<Vec<_>>().join(", "),
            verified => x.last_verified.map(|t| when(t, tz, fr)),
            at_risk => x.data_at_risk_seconds.map(|s| duration(s as f64)),
        }).collect::<Vec<_>>(),
        notes => a.notes.clone(),
    }
}

/// The approved plan by wave, each step with its checks.
fn plan_view(p: &ApprovedPlan, tz: &jiff::tz::TimeZone, fr: bool) -> Value {
    let mut waves: Vec<Value> = Vec::new();
    let max_wave = p.steps.iter().map(|s| s.wave).max().unwrap_or(0);
    for w in 1..=max_wave.max(1) {
        let steps: Vec<Value> = p
            .steps
            .iter()
            .filter(|s| s.wave == w)
            .map(|s| {
                context! {
                    asset => s.asset.clone(),
                    name => s.name.clone(),
                    kind => s.kind.clone(),
                    reason => if fr { s.reason_fr.clone() } else { s.reason.clone() },
                    status => s.status.as_str(),
                    status_label => if fr { s.status.label_fr().to_string() } else { s.status.as_str().to_string() },
                    predicted => duration(s.predicted_seconds as f64),
                    after => s.after.clone(),
                    note => s.note.clone(),
                    failure => s.failure.as_ref().map(|(en, f)| if fr { f.clone() } else { en.clone() }),
                    checks => s.checks.iter().map(|c| context! {
                        key => c.key.clone(),
                        label => if fr { c.fr.clone() } else { c.en.clone() },
                        result => c.result.map(|r| if fr { r.label_fr() } else { r.as_str() }),
                        deadline => c.deadline.map(|d| day(d, fr)),
                        note => c.note.clone(),
                    }).collect::<Vec<_>>(),
                }
            })
            .collect();
        if !steps.is_empty() {
            waves.push(context! { number => w, steps });
        }
    }
    let done = p.steps.iter().filter(|s| s.status.is_settled()).count();
    context! {
        approved_by => p.approved_by.clone(),
        approved => when(p.approved, tz, fr),
        waves,
        done,
        total => p.steps.len(),
        timeline => timeline_svg(p, fr).map(Value::from_safe_string),
    }
}

/// The plan as a timeline: waves one after the other, each step's predicted time beside
/// what happened, the step that makes each wave last outlined (the critical path).
fn timeline_svg(p: &ApprovedPlan, fr: bool) -> Option<String> {
    let now = Timestamp::now();
    let since = |t: Timestamp| t.duration_since(p.approved).as_secs_f64().max(0.0);
    let max_wave = p.steps.iter().map(|s| s.wave).max().unwrap_or(0);
    let mut wave_start = 0.0;
    let mut bars = Vec::new();
    for w in 1..=max_wave {
        let steps: Vec<_> = p.steps.iter().filter(|s| s.wave == w).collect();
        let longest = steps.iter().map(|s| s.predicted_seconds).max().unwrap_or(0);
        for s in &steps {
            let actual = s.started.map(|a| {
                let end = s.finished.unwrap_or(now);
                (since(a), since(end))
            });
            bars.push(reprise_workspace::charts::StepBar {
                name: s.name.clone(),
                wave: w,
                predicted_start: wave_start,
                predicted_end: wave_start + s.predicted_seconds as f64,
                actual,
                status: s.status.as_str(),
                critical: s.predicted_seconds == longest,
            });
        }
        wave_start += longest as f64;
    }
    let (title, legend) = if fr {
        (
            "Déroulé du plan : prévu et réel par étape, vague par vague",
            ["prévu", "réel", "chemin critique"],
        )
    } else {
        (
            "The plan over time: predicted and actual per step, wave by wave",
            ["predicted", "actual", "critical path"],
        )
    };
    reprise_workspace::charts::plan_timeline(&bars, title, legend)
}

/// Runs a form's action on an incident as the signed-in user, once the page it came from
/// is known to show the incident as it is now; then goes back to the page with `done`'s
/// message, or says what went wrong. (`work` does nothing until awaited here.)
async fn on_incident<T>(
    viewer: &Viewer,
    ctx: &reprise_ops::context::Ctx<'_>,
    principal: &Principal,
    id: i64,
    form: &HashMap<String, String>,
    done: &str,
    work: impl Future<Output = Result<T, reprise_ops::error::AppError>>,
) -> Response {
    if let Err(e) = unchanged_since_shown(ctx, id, form).await {
        return viewer.error(e);
    }
    match as_user(principal, work).await {
        Ok(_) => back(&format!("/incidents/{id}"), done),
        Err(e) => viewer.error(e),
    }
}

/// A form sent from a page that showed an older version of the incident is refused:
/// someone changed it since, and whoever acts must first see that change. Forms without
/// a version (scripts) are judged by the catalog's own check alone.
async fn unchanged_since_shown(
    ctx: &reprise_ops::context::Ctx<'_>,
    id: i64,
    form: &HashMap<String, String>,
) -> Result<(), reprise_ops::error::AppError> {
    let Some(shown) = form
        .get("version")
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return Ok(());
    };
    match ctx.catalog.incident(id).await? {
        Some(row) if row.version != shown => Err(reprise_catalog::CatalogError::Conflict {
            what: "incident",
            id,
        }
        .into()),
        _ => Ok(()),
    }
}

/// The operator allowed to act on incidents, after the form's token is checked.
fn operator(viewer: &Viewer, form: &HashMap<String, String>) -> Result<Principal, super::Refusal> {
    let principal = viewer.require_everywhere(Action::Operate)?;
    viewer.check_form(form)?;
    Ok(principal)
}

pub async fn approve_plan(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let ctx = state.ctx();
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "plan_approved",
        incident::approve_plan(&ctx, id, false, None, &principal.user, Timestamp::now()),
    )
    .await
}

pub async fn step(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path((id, asset)): Path<(i64, String)>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let moved = match form.get("move").map(String::as_str) {
        Some("start") => StepMove::Start,
        Some("done") => StepMove::Done,
        Some("fail") => StepMove::Fail,
        _ => return viewer.message(StatusCode::BAD_REQUEST, "bad_form"),
    };
    let note = form.get("note").map(|n| n.trim()).filter(|n| !n.is_empty());
    let ctx = state.ctx();
    let response = on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "step_updated",
        incident::step(
            &ctx,
            id,
            &asset,
            moved,
            note,
            incident::StepTarget {
                dir: None,
                guard: reprise_ops::target::Guard::for_role(principal.role),
                overwrite: false,
            },
            &principal.user,
        ),
    )
    .await;
    // A step done brings its asset back everywhere, not only in the incident.
    if let Err(e) = state.refresh_states().await {
        tracing::error!(error = %e, "cannot read the assets' current states");
    }
    response
}

pub async fn check(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let input = CheckInput {
        asset: form.get("asset").cloned().unwrap_or_default(),
        key: form.get("key").cloned().unwrap_or_default(),
        result: form.get("result").cloned().unwrap_or_default(),
        note: form.get("note").cloned().filter(|n| !n.trim().is_empty()),
        // A reservation is lifted by a date (a date field sends it as YYYY-MM-DD).
        deadline: form
            .get("deadline")
            .filter(|d| !d.trim().is_empty())
            .and_then(|d| d.trim().parse().ok()),
    };
    let ctx = state.ctx();
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "check_recorded",
        incident::check(&ctx, id, &input, &principal.user),
    )
    .await
}

pub async fn send_update(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let text = form.get("text").cloned().unwrap_or_default();
    let ctx = state.ctx();
    // The draft sent as it was offered goes to each channel in its own language.
    let tz = tz(&state);
    let drafts = match incident::load(&ctx, id).await {
        Ok(inc) => {
            let (en, fr) = (
                incident::draft_update(&inc, false, &tz),
                incident::draft_update(&inc, true, &tz),
            );
            let same = |draft: &str| text.replace("\r\n", "\n").trim() == draft.trim();
            (same(&en) || same(&fr)).then_some((en, fr))
        }
        Err(_) => None,
    };
    let both = drafts.as_ref().map(|(en, fr)| (en.as_str(), fr.as_str()));
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "update_sent",
        incident::send_update(&ctx, id, &text, both, &principal.user),
    )
    .await
}

pub(crate) async fn sign_pv(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let ctx = state.ctx();
    let tz = tz(&state);
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "report_signed",
        incident::sign(&ctx, id, &principal.user, viewer.fr(), &tz),
    )
    .await
}

/// Records the post-incident review: root cause, a preventive action, closing.
pub async fn review(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let text = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut actions = Vec::new();
    if let Some(what) = text("action") {
        let due = match text("due").map(|d| d.parse::<jiff::civil::Date>()) {
            Some(Ok(d)) => d,
            _ => return viewer.message(StatusCode::BAD_REQUEST, "due_needed"),
        };
        actions.push(reprise_domain::incident::Action {
            text: what,
            owner: text("owner").unwrap_or_else(|| principal.user.clone()),
            due,
            done: None,
        });
    }
    let close = form.contains_key("close");
    let ctx = state.ctx();
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "review_saved",
        incident::review(
            &ctx,
            id,
            text("root_cause").as_deref(),
            &actions,
            &[],
            close,
            &principal.user,
        ),
    )
    .await
}

/// A change to the damage assessment: an asset's state, nature of damage or a note, and
/// whether it was shared with the client.
pub async fn assessment(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let text = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let state_word = text("state");
    let new_state = match state_word.as_deref().map(AssetState::parse) {
        Some(Err(e)) => return viewer.error(reprise_ops::error::AppError::Invalid(e.to_string())),
        Some(Ok(s)) => Some(s),
        None => None,
    };
    let edit = incident::AssessmentEdit {
        asset: text("asset").filter(|_| new_state.is_some() || text("nature").is_some()),
        nature: text("nature"),
        state: new_state,
        since: None,
        note: text("note"),
        share: form.contains_key("share"),
    };
    let ctx = state.ctx();
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "assessment_saved",
        incident::edit_assessment(&ctx, id, &edit, Some(&principal.user), Timestamp::now()),
    )
    .await
}

/// Moves the incident to a later phase (closing goes through the review).
pub async fn phase(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let word = form.get("phase").map(String::as_str).unwrap_or_default();
    let Some(phase) = Phase::parse(word) else {
        return viewer.error(reprise_ops::error::AppError::Invalid(format!(
            "unknown phase `{word}`"
        )));
    };
    let ctx = state.ctx();
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "phase_changed",
        incident::set_phase(&ctx, id, phase, Some(&principal.user), Timestamp::now()),
    )
    .await
}

/// Gives an incident role to someone (R001.2, R004.5).
pub async fn role(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Fields,
) -> Response {
    let principal = match operator(&viewer, &form) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let field = |k: &str| form.get(k).map(|v| v.trim()).unwrap_or_default();
    if field("who").is_empty() {
        return viewer.message(StatusCode::BAD_REQUEST, "name_needed");
    }
    let ctx = state.ctx();
    on_incident(
        &viewer,
        &ctx,
        &principal,
        id,
        &form,
        "role_assigned",
        incident::assign(
            &ctx,
            id,
            field("role"),
            field("who"),
            Some(&principal.user),
            Timestamp::now(),
        ),
    )
    .await
}

/// The return-to-service report: as signed (its hash holds), in text, HTML or PDF.
pub async fn pv(
    Extract(state): Extract<Arc<State>>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Err(r) = viewer.require(Action::ReadRecords) {
        return *r;
    }
    let ctx = state.ctx();
    let tz = tz(&state);
    let inc = match incident::load(&ctx, id).await {
        Ok(i) => i,
        Err(e) => return viewer.error(e),
    };
    let (fr, signer) = match &inc.doc.sign_off {
        Some(s) => (s.lang == "fr", Some(s.by.clone())),
        None => (viewer.fr(), None),
    };
    let text = incident::pv_text(&inc, fr, &tz, signer.as_deref());
    if q.get("format").map(String::as_str) == Some("pdf") {
        return super::records::pdf_document(
            &format!("pv-incident-{id}"),
            reprise_recovery::pv::pdf(&ctx, &inc, &text, fr, &tz),
        );
    }
    super::records::report(
        text,
        &format!("pv-incident-{id}"),
        fr,
        q.get("format").map(String::as_str),
    )
}
