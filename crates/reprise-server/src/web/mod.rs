//! The web UI: server-rendered pages in English and French, with htmx (vendored, served
//! from the binary) for live refresh and in-place actions. Reading works without
//! JavaScript. Sign-in uses the server's accounts; the session is a token in an
//! HttpOnly, SameSite=Strict cookie, and every form carries a token derived from it
//! (cross-site request forgery cannot guess it).

mod i18n;
mod pages;
mod records;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use reprise_domain::access::Action;
use reprise_ops::tokens::Principal;
use sha2::{Digest, Sha256};

use crate::State;

const SESSION: &str = "reprise_session";
const LANG: &str = "reprise_lang";
const LOGIN: &str = "reprise_login";

pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/lang/{code}", get(pages::language))
        .route("/assets", get(pages::assets))
        .route("/assets/{id}", get(pages::asset))
        .route("/assets/{id}/backup", post(pages::backup))
        .route("/assets/{id}/verify", post(pages::verify))
        .route(
            "/assets/{id}/suspicions/clear",
            post(pages::clear_suspicion),
        )
        .route(
            "/incidents",
            get(pages::incidents).post(pages::open_incident),
        )
        .route("/incidents/{id}", get(pages::incident))
        .route("/incidents/{id}/plan", post(pages::approve_plan))
        .route("/incidents/{id}/steps/{asset}", post(pages::step))
        .route("/incidents/{id}/checks", post(pages::check))
        .route("/incidents/{id}/updates", post(pages::send_update))
        .route("/incidents/{id}/pv", get(pages::pv).post(pages::sign_pv))
        .route("/incidents/{id}/review", post(pages::review))
        .route("/incidents/{id}/assessment", post(pages::assessment))
        .route("/incidents/{id}/phase", post(pages::phase))
        .route("/incidents/{id}/roles", post(pages::role))
        .route("/requests", get(records::requests).post(records::submit))
        .route("/requests/{id}", get(records::request_page))
        .route("/requests/{id}/decision", post(records::decide))
        .route("/drills", get(records::drills).post(records::run_drill))
        .route("/readiness", get(records::readiness))
        .route("/alerts", get(records::alerts))
        .route("/devices", get(records::devices))
        .route("/agents", get(records::agents))
        .route("/devices/check", post(records::check_device))
        .route("/alerts/acknowledgement", post(records::acknowledge))
        .route("/reports", get(records::reports))
        .route("/reports/evidence", get(records::evidence))
        .route("/reports/export", get(records::export_csv))
        .route("/reports/runbook", get(records::runbook))
        .route("/static/htmx.min.js", get(htmx))
        .route("/static/app.css", get(css))
        .with_state(state)
}

async fn htmx() -> Response {
    static_file(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/htmx.min.js"),
    )
}

async fn css() -> Response {
    static_file(
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
}

fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// The templates, parsed once.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("login.html", include_str!("templates/login.html")),
            ("dashboard.html", include_str!("templates/dashboard.html")),
            ("assets.html", include_str!("templates/assets.html")),
            ("asset.html", include_str!("templates/asset.html")),
            ("incidents.html", include_str!("templates/incidents.html")),
            ("incident.html", include_str!("templates/incident.html")),
            ("message.html", include_str!("templates/message.html")),
            ("requests.html", include_str!("templates/requests.html")),
            ("request.html", include_str!("templates/request.html")),
            ("drills.html", include_str!("templates/drills.html")),
            ("readiness.html", include_str!("templates/readiness.html")),
            ("alerts.html", include_str!("templates/alerts.html")),
            ("devices.html", include_str!("templates/devices.html")),
            ("agents.html", include_str!("templates/agents.html")),
            ("reports.html", include_str!("templates/reports.html")),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// The page to answer instead of the one asked for (sign in first, not allowed).
pub(crate) type Refusal = Box<Response>;

/// Who is looking, in which language, and the form token of their session.
pub struct Viewer {
    pub lang: &'static str,
    pub principal: Option<Principal>,
    pub csrf: String,
    pub path: String,
    /// The raw cookies, for the sign-in form's own token.
    cookies: HashMap<String, String>,
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The form token of a session: derived from its secret, so that a page of another site
/// cannot know it.
fn csrf_of(secret: &str) -> String {
    let digest = Sha256::digest(format!("reprise-csrf:{secret}").as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl FromRequestParts<Arc<State>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<State>) -> Result<Self, Response> {
        let cookies = cookies(&parts.headers);
        let principal = match cookies.get(SESSION) {
            Some(token) => {
                reprise_ops::tokens::authenticate(&*state.catalog, token, Timestamp::now())
                    .await
                    .ok()
                    .flatten()
            }
            None => None,
        };
        let lang = match cookies.get(LANG).map(String::as_str) {
            Some("fr") => "fr",
            Some("en") => "en",
            _ => match principal.as_ref().and_then(|p| p.lang.as_deref()) {
                Some("fr") => "fr",
                Some("en") => "en",
                _ => i18n::from_accept_language(
                    parts
                        .headers
                        .get(header::ACCEPT_LANGUAGE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or(""),
                ),
            },
        };
        let csrf = cookies
            .get(SESSION)
            .or_else(|| cookies.get(LOGIN))
            .map(|s| csrf_of(s))
            .unwrap_or_default();
        Ok(Viewer {
            lang,
            principal,
            csrf,
            path: parts.uri.path().to_string(),
            cookies,
        })
    }
}

impl Viewer {
    pub fn fr(&self) -> bool {
        self.lang == "fr"
    }

    /// The page's language, for the words the application writes itself.
    pub fn language(&self) -> reprise_domain::plan::Lang {
        if self.fr() {
            reprise_domain::plan::Lang::Fr
        } else {
            reprise_domain::plan::Lang::En
        }
    }

    /// The signed-in principal allowed to `action`, or the response to give instead:
    /// the sign-in page, or a refusal.
    pub(crate) fn require(&self, action: Action) -> Result<&Principal, Refusal> {
        match &self.principal {
            None => Err(Box::new(
                Redirect::to(&format!("/login?next={}", self.path)).into_response(),
            )),
            Some(p) if !p.role.allows(action) => {
                Err(Box::new(self.message(StatusCode::FORBIDDEN, "forbidden")))
            }
            Some(p) => Ok(p),
        }
    }

    /// As [`Viewer::require`], for what spans every site: an account scoped to some sites
    /// or tenants is refused.
    pub(crate) fn require_everywhere(&self, action: Action) -> Result<Principal, Refusal> {
        let principal = self.require(action)?.clone();
        if !principal.scope.is_everything() {
            return Err(Box::new(self.message(StatusCode::FORBIDDEN, "forbidden")));
        }
        Ok(principal)
    }

    /// The signed-in principal allowed to `action` who posted `form` with the session's
    /// token: what every form's handler needs first.
    pub(crate) fn form_user(
        &self,
        action: Action,
        form: &HashMap<String, String>,
    ) -> Result<Principal, Refusal> {
        let principal = self.require(action)?.clone();
        self.check_form(form)?;
        Ok(principal)
    }

    /// Refuses a form whose token does not match the session's.
    pub(crate) fn check_form(&self, form: &HashMap<String, String>) -> Result<(), Refusal> {
        match form.get("csrf") {
            Some(t) if !self.csrf.is_empty() && *t == self.csrf => Ok(()),
            _ => Err(Box::new(self.message(StatusCode::FORBIDDEN, "bad_form"))),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        i18n::table(self.lang).get(key).copied().unwrap_or("")
    }

    /// Renders `template` with `ctx` and the page's common values.
    pub fn render(&self, template: &str, page: &str, ctx: Value) -> Response {
        let common = context! {
            lang => self.lang,
            other_lang => if self.fr() { "en" } else { "fr" },
            t => v(i18n::table(self.lang)),
            user => self.principal.as_ref().map(|p| p.user.clone()),
            csrf => self.csrf.clone(),
            path => self.path.clone(),
            page => page,
        };
        match env()
            .get_template(template)
            .and_then(|t| t.render(context! { ..common, ..ctx }))
        {
            Ok(html) => (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(template, error = %e, "page cannot be rendered");
                (StatusCode::INTERNAL_SERVER_ERROR, "page cannot be rendered").into_response()
            }
        }
    }

    /// A page that only says something (`key` in the strings table), with `status`.
    pub fn message(&self, status: StatusCode, key: &str) -> Response {
        let error = status.is_client_error() || status.is_server_error();
        let mut r = self.render(
            "message.html",
            "",
            context! { message => self.t(key), error },
        );
        *r.status_mut() = status;
        r
    }

    /// A page that says what went wrong in the use case's own words.
    pub fn error(&self, e: reprise_ops::error::AppError) -> Response {
        use reprise_ops::error::ErrorKind;
        let status = match e.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Conflict | ErrorKind::Busy => StatusCode::CONFLICT,
            ErrorKind::Refused => StatusCode::FORBIDDEN,
            ErrorKind::Failed => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // A stale save: someone else changed the record since this page was shown.
        if matches!(
            e,
            reprise_ops::error::AppError::Catalog(reprise_catalog::CatalogError::Conflict { .. })
        ) {
            let mut r = self.render(
                "message.html",
                "",
                context! { message => self.t("stale"), error => true },
            );
            *r.status_mut() = status;
            return r;
        }
        // The application explains itself in English: a French page says so in French
        // and marks the detail as English.
        let mut r = self.render(
            "message.html",
            "",
            context! {
                message => if self.fr() { self.t("refused") } else { "" },
                detail => e.to_string(),
                detail_lang => if self.fr() { "en" } else { "" },
                error => true,
            },
        );
        *r.status_mut() = status;
        r
    }
}

/// The workspace's time zone, for dates on pages.
pub fn tz(state: &State) -> jiff::tz::TimeZone {
    reprise_workspace::workspace::zone(state.loaded.config.timezone.as_deref())
}

/// Back to `to` after a form, with a message key to show there.
pub fn back(to: &str, done: &str) -> Response {
    Redirect::to(&format!("{to}?done={done}")).into_response()
}

/// Runs `work` journaled as the principal's account.
pub(crate) async fn as_user<T>(principal: &Principal, work: impl Future<Output = T>) -> T {
    reprise_ops::journal::ACTOR
        .scope(principal.user.clone(), work)
        .await
}

/// The message a page shows after a form (`?done=KEY`), translated.
pub fn flash(viewer: &Viewer, q: &HashMap<String, String>) -> Option<&'static str> {
    q.get("done").map(|k| viewer.t(k)).filter(|t| !t.is_empty())
}

/// Any serialisable value, for a template.
pub fn v<T: serde::Serialize>(value: &T) -> Value {
    Value::from(minijinja::value::Serde(value))
}

/// A cookie for the whole site, never readable by scripts.
fn cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

/// A random hex string of `bytes` bytes.
fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the system's random source");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A path to go back to after signing in: only this site's own paths.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

/// `2026-11-24 09:14` in English, `24/11/2026 09:14` in French, in the workspace's zone.
pub fn when(at: Timestamp, tz: &jiff::tz::TimeZone, fr: bool) -> String {
    let z = at.to_zoned(tz.clone());
    if fr {
        z.strftime("%d/%m/%Y %H:%M").to_string()
    } else {
        z.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// A day: `2026-12-01` in English, `01/12/2026` in French.
pub fn day(date: jiff::civil::Date, fr: bool) -> String {
    date.strftime(if fr { "%d/%m/%Y" } else { "%Y-%m-%d" })
        .to_string()
}

/// `1.5 MiB` in English, `1,5 Mio` in French.
pub fn size(bytes: u64, fr: bool) -> String {
    let units: [&str; 5] = if fr {
        ["o", "Kio", "Mio", "Gio", "Tio"]
    } else {
        ["B", "KiB", "MiB", "GiB", "TiB"]
    };
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    let text = if unit == 0 {
        format!("{bytes} {}", units[0])
    } else {
        format!("{value:.1} {}", units[unit])
    };
    if fr { text.replace('.', ",") } else { text }
}

/// `1h 05m`, `42s`: a duration in seconds, the same in both languages.
pub fn duration(seconds: f64) -> String {
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(size(1536 * 1024, true), "1,5 Mio");
        assert_eq!(size(1536 * 1024, false), "1.5 MiB");
        let at: Timestamp = "2026-11-24T08:14:00Z".parse().unwrap();
        let tz = jiff::tz::TimeZone::UTC;
        assert_eq!(when(at, &tz, true), "24/11/2026 08:14");
        assert_eq!(when(at, &tz, false), "2026-11-24 08:14");
        assert_eq!(duration(3900.0), "1h 05m");
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/assets/mail")), "/assets/mail");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn every_template_parses() {
        let _ = env();
    }
}
