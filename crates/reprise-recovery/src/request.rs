//! Restore requests (R002.6, R002.7, R003.3, R003.4): submitted complete or refused whole,
//! judged feasible at once, approved, executed in the agreed window (by the server, or by
//! hand), checked, and reported. Every step is an event of the request's timeline, which
//! is what the requester follows.
//!
//! States: `awaiting-approval` or `infeasible` once submitted; `scheduled` once approved;
//! `running`; `checking` while manual checks are pending; then `completed`, `failed`,
//! `rejected` or `cancelled`, which close it.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use reprise_catalog::{NewRequestRow, RequestEvent, RequestRow, RequestSave};
use reprise_domain::plan::Lang;
use reprise_domain::request::{
    self as rq, Candidate, Draft, Item, ItemFeasibility, Missing, Request, Target, Verdict,
};
use serde::{Deserialize, Serialize};

use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::restore::RestoreOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    AwaitingApproval,
    Infeasible,
    Scheduled,
    Running,
    Checking,
    Completed,
    Failed,
    Rejected,
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AwaitingApproval => "awaiting-approval",
            Self::Infeasible => "infeasible",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Checking => "checking",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        if lang == Lang::En {
            return self.as_str();
        }
        match self {
            Self::AwaitingApproval => "en attente d'approbation",
            Self::Infeasible => "infaisable",
            Self::Scheduled => "planifiée",
            Self::Running => "en cours",
            Self::Checking => "en vérification",
            Self::Completed => "terminée",
            Self::Failed => "échouée",
            Self::Rejected => "refusée",
            Self::Cancelled => "annulée",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Self::AwaitingApproval,
            Self::Infeasible,
            Self::Scheduled,
            Self::Running,
            Self::Checking,
            Self::Completed,
            Self::Failed,
            Self::Rejected,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Rejected | Self::Cancelled
        )
    }
}

/// Who decided, when, and what they said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decision {
    pub by: String,
    pub at: Timestamp,
    pub note: Option<String>,
}

/// One data set restored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoredItem {
    pub asset: String,
    pub dataset: String,
    pub repository: String,
    pub snapshot: String,
    pub point_time: Timestamp,
    pub target: PathBuf,
    pub files: u64,
    pub bytes: u64,
    pub started: Timestamp,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    pub started: Timestamp,
    pub finished: Option<Timestamp>,
    pub by: String,
    pub destination: PathBuf,
    pub restored: Vec<RestoredItem>,
    pub error: Option<String>,
}

/// One post-restore check: Reprise's own (content, counters, the data set's command)
/// decided at once, or one of the asset's checklist that a person confirms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestCheck {
    pub asset: String,
    pub key: String,
    pub en: String,
    pub fr: String,
    pub automatic: bool,
    /// `None` while pending.
    pub ok: Option<bool>,
    pub detail: Option<String>,
    pub by: Option<String>,
    pub at: Option<Timestamp>,
}

/// The request's document: the request, what it covers, its feasibility, decisions,
/// execution and checks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestDoc {
    pub request: Request,
    pub items: Vec<Item>,
    pub feasibility: Vec<ItemFeasibility>,
    pub assessed: Timestamp,
    pub approval: Option<Decision>,
    pub rejection: Option<Decision>,
    pub execution: Option<Execution>,
    pub checks: Vec<RequestCheck>,
    pub outcome: Option<String>,
    /// The outcome in French (absent from requests settled before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_fr: Option<String>,
}

impl RequestDoc {
    /// Records how the request ended, in English and in French.
    fn settle_with(&mut self, (en, fr): &(String, String)) {
        self.outcome = Some(en.clone());
        self.outcome_fr = Some(fr.clone());
    }

    /// How the request ended, in `lang`.
    pub fn outcome_in(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Fr => self.outcome_fr.as_deref().or(self.outcome.as_deref()),
            Lang::En => self.outcome.as_deref(),
        }
    }
}

/// A loaded request.
#[derive(Debug, Clone, Serialize)]
pub struct Loaded {
    #[serde(flatten)]
    pub row: RequestRow,
    #[serde(skip)]
    pub state: State,
    #[serde(flatten)]
    pub doc: RequestDoc,
}

/// A request and its timeline, as the requester follows it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    #[serde(flatten)]
    pub request: Loaded,
    pub feasible: bool,
    pub timeline: Vec<RequestEvent>,
}

/// What submitting a draft gave.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Submission {
    /// Incomplete or naming nothing: nothing was recorded.
    Refused {
        missing: Vec<Missing>,
    },
    Recorded {
        view: Box<RequestView>,
    },
}

/// A timeline event, its sentence in English and in French.
fn event(
    id: i64,
    at: Timestamp,
    kind: &str,
    actor: &str,
    (text, fr): (String, String),
) -> RequestEvent {
    RequestEvent {
        request: id,
        at,
        kind: kind.into(),
        actor: Some(actor.to_string()),
        text,
        text_fr: Some(fr),
    }
}

/// A timeline event's kind in `lang`.
pub(crate) fn event_kind(kind: &str, lang: Lang) -> &str {
    if lang == Lang::En {
        return kind;
    }
    match kind {
        "submitted" => "soumise",
        "assessed" => "évaluée",
        "target" => "cible",
        "approved" => "approuvée",
        "rejected" => "rejetée",
        "started" => "démarrée",
        "restored" => "restaurée",
        "check" => "contrôle",
        "completed" => "terminée",
        "failed" => "échouée",
        "cancelled" => "annulée",
        other => other,
    }
}

pub async fn load(ctx: &Ctx<'_>, id: i64) -> AppResult<Loaded> {
    let row = ctx.catalog.request(id).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "no restore request {id} (see `reprise request list --all`)"
        ))
    })?;
    from_row(row)
}

/// A request from its stored row.
fn from_row(row: RequestRow) -> AppResult<Loaded> {
    let id = row.id;
    let doc: RequestDoc = serde_json::from_str(&row.doc)
        .map_err(|e| AppError::Failed(format!("restore request {id} cannot be read: {e}")))?;
    let state = State::parse(&row.state)
        .ok_or_else(|| AppError::Failed(format!("restore request {id} has an unknown state")))?;
    Ok(Loaded { row, state, doc })
}

async fn save(ctx: &Ctx<'_>, r: &Loaded, at: Timestamp, events: &[RequestEvent]) -> AppResult<()> {
    ctx.catalog
        .save_request(
            &RequestSave {
                id: r.row.id,
                version: r.row.version,
                state: r.state.as_str().into(),
                updated: at,
                closed: r.state.is_final().then_some(at),
                doc: serde_json::to_string(&r.doc).expect("a request serialises"),
            },
            events,
        )
        .await?;
    Ok(())
}

pub async fn show(ctx: &Ctx<'_>, id: i64) -> AppResult<RequestView> {
    let request = load(ctx, id).await?;
    let timeline = ctx.catalog.request_events(id).await?;
    Ok(RequestView {
        feasible: feasible(&request.doc.feasibility),
        request,
        timeline,
    })
}

/// Requests, newest first: open ones, or all.
pub async fn list(ctx: &Ctx<'_>, all: bool) -> AppResult<Vec<Loaded>> {
    let mut out = Vec::new();
    for row in ctx.catalog.requests(!all).await? {
        out.push(from_row(row)?);
    }
    Ok(out)
}

fn feasible(items: &[ItemFeasibility]) -> bool {
    !items.is_empty() && items.iter().all(|f| f.verdict == Verdict::Ok)
}

/// Feasibility of every item at `now`, from the catalog's restore points.
async fn assess(
    ctx: &Ctx<'_>,
    items: &[Item],
    target: &Target,
    now: Timestamp,
) -> AppResult<Vec<ItemFeasibility>> {
    let mut out = Vec::new();
    let mut last_asset: Option<(String, Vec<reprise_catalog::RestorePoint>)> = None;
    for item in items {
        if last_asset.as_ref().is_none_or(|(a, _)| *a != item.asset) {
            let points = reprise_ops::suspects::points(ctx, Some(&item.asset)).await?;
            last_asset = Some((item.asset.clone(), points));
        }
        let points = &last_asset.as_ref().expect("just set").1;
        let candidates: Vec<Candidate> = points
            .iter()
            .filter(|p| p.dataset == item.dataset)
            .map(|p| Candidate {
                snapshot: p.snapshot.clone(),
                repository: p.repository.clone(),
                time: p.time,
                verified: p.verified,
                failed: p.failed,
                suspect: p.suspect.clone(),
            })
            .collect();
        let retention = ctx
            .asset(&item.asset)
            .ok()
            .and_then(|a| ctx.inventory().policy_of(a))
            .and_then(|p| rq::retention_window(&p.retention));
        out.push(rq::assess(item, target, &candidates, retention, now));
    }
    Ok(out)
}

fn scope_text(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| format!("{}/{}", i.asset, i.dataset))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Validates, resolves and assesses a draft; records it only when it is complete.
/// A request judged without being recorded: what is missing, or the feasibility of each
/// data set — what a form shows before the requester submits.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum Preview {
    Refused {
        missing: Vec<Missing>,
    },
    Judged {
        request: Box<rq::Request>,
        items: Vec<rq::Item>,
        feasibility: Vec<ItemFeasibility>,
        feasible: bool,
    },
}

/// Judges `draft` at `now` as [`submit`] would, recording nothing.
pub async fn preview(ctx: &Ctx<'_>, draft: &Draft, now: Timestamp) -> AppResult<Preview> {
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let request = match rq::validate(draft, &tz) {
        Ok(r) => r,
        Err(missing) => return Ok(Preview::Refused { missing }),
    };
    let items = match rq::resolve(ctx.inventory(), &request) {
        Ok(items) => items,
        Err(errors) => {
            return Ok(Preview::Refused {
                missing: errors
                    .into_iter()
                    .map(|message| Missing {
                        field: "scope".into(),
                        message,
                    })
                    .collect(),
            });
        }
    };
    if let Some(incident) = request.context.incident
        && ctx.catalog.incident(incident).await?.is_none()
    {
        let message = match request.lang {
            Lang::En => format!("no incident {incident}"),
            Lang::Fr => format!("aucun incident {incident}"),
        };
        return Ok(Preview::Refused {
            missing: vec![Missing {
                field: "context.incident".into(),
                message,
            }],
        });
    }
    let feasibility = assess(ctx, &items, &request.target, now).await?;
    Ok(Preview::Judged {
        feasible: feasible(&feasibility),
        request: Box::new(request),
        items,
        feasibility,
    })
}

pub async fn submit(ctx: &Ctx<'_>, draft: &Draft, actor: &str) -> AppResult<Submission> {
    let now = Timestamp::now();
    let (request, items, feasibility) = match preview(ctx, draft, now).await? {
        Preview::Refused { missing } => return Ok(Submission::Refused { missing }),
        Preview::Judged {
            request,
            items,
            feasibility,
            ..
        } => (*request, items, feasibility),
    };
    let state = if feasible(&feasibility) {
        State::AwaitingApproval
    } else {
        State::Infeasible
    };
    let text = |lang| {
        format!(
            "{} — {} ({}, {})",
            scope_text(&items),
            request.context.description,
            request.context.kind.label(lang),
            request.urgency.label(lang)
        )
    };
    let (text, text_fr) = (text(Lang::En), Some(text(Lang::Fr)));
    let doc = RequestDoc {
        request: request.clone(),
        items,
        feasibility,
        assessed: now,
        approval: None,
        rejection: None,
        execution: None,
        checks: vec![],
        outcome: None,
        outcome_fr: None,
    };
    let id = ctx
        .catalog
        .create_request(&NewRequestRow {
            state: state.as_str().into(),
            requester: request.requester.clone(),
            created: now,
            doc: serde_json::to_string(&doc).expect("a request serialises"),
            actor: Some(actor.to_string()),
            text,
            text_fr,
        })
        .await?;
    let loaded = load(ctx, id).await?;
    save(
        ctx,
        &loaded,
        now,
        &[event(
            id,
            now,
            "assessed",
            actor,
            assessed_text(&loaded.doc),
        )],
    )
    .await?;
    Ok(Submission::Recorded {
        view: Box::new(show(ctx, id).await?),
    })
}

/// Each data set's feasibility, in English and in French.
fn assessed_text(doc: &RequestDoc) -> (String, String) {
    let text = |lang: Lang| {
        doc.feasibility
            .iter()
            .map(|f| {
                let verdict = match (&f.verdict, &f.chosen) {
                    (Verdict::Ok, Some(c)) => {
                        let (point, at) = (
                            reprise_workspace::text::short(&c.snapshot),
                            c.time.strftime("%Y-%m-%d %H:%M:%S UTC"),
                        );
                        match lang {
                            Lang::En => format!("feasible from {point} of {at}"),
                            Lang::Fr => format!("faisable depuis {point} du {at}"),
                        }
                    }
                    (v, _) => v.explain(lang).to_string(),
                };
                let colon = if lang == Lang::Fr { " :" } else { ":" };
                format!("{}/{}{colon} {verdict}", f.asset, f.dataset)
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    (text(Lang::En), text(Lang::Fr))
}

/// Changes the target (to take an offered alternative, or after a verification) and
/// judges the request again. Only before approval.
pub async fn reassess(
    ctx: &Ctx<'_>,
    id: i64,
    target: Option<Target>,
    actor: &str,
) -> AppResult<RequestView> {
    let mut r = load(ctx, id).await?;
    if !matches!(r.state, State::AwaitingApproval | State::Infeasible) {
        return Err(AppError::Invalid(format!(
            "restore request {id} is {}: it can be assessed again only before approval",
            r.state.as_str()
        )));
    }
    let now = Timestamp::now();
    let mut events = Vec::new();
    if let Some(t) = target {
        events.push(event(
            id,
            now,
            "target",
            actor,
            (
                format!(
                    "target changed to {}",
                    target_text(&t, Lang::En, &jiff::tz::TimeZone::UTC)
                ),
                format!(
                    "cible changée : {}",
                    target_text(&t, Lang::Fr, &jiff::tz::TimeZone::UTC)
                ),
            ),
        ));
        r.doc.request.target = t;
    }
    r.doc.feasibility = assess(ctx, &r.doc.items, &r.doc.request.target, now).await?;
    r.doc.assessed = now;
    r.state = if feasible(&r.doc.feasibility) {
        State::AwaitingApproval
    } else {
        State::Infeasible
    };
    events.push(event(id, now, "assessed", actor, assessed_text(&r.doc)));
    save(ctx, &r, now, &events).await?;
    show(ctx, id).await
}

pub fn target_text(t: &Target, lang: Lang, tz: &jiff::tz::TimeZone) -> String {
    let time = |t: &Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    match (t, lang) {
        (Target::At { at }, Lang::En) => format!("the state at {}", time(at)),
        (Target::At { at }, Lang::Fr) => format!("l'état au {}", time(at)),
        (Target::Between { from, to }, Lang::En) => {
            format!("a point between {} and {}", time(from), time(to))
        }
        (Target::Between { from, to }, Lang::Fr) => {
            format!("un point entre le {} et le {}", time(from), time(to))
        }
        (Target::Snapshot { snapshot }, Lang::En) => format!("restore point {snapshot}"),
        (Target::Snapshot { snapshot }, Lang::Fr) => format!("point de restauration {snapshot}"),
    }
}

/// Approves a feasible request: feasibility is judged again first (points may have
/// expired since), then it is scheduled into its window, or to run at once.
pub async fn approve(
    ctx: &Ctx<'_>,
    id: i64,
    by: &str,
    note: Option<&str>,
) -> AppResult<RequestView> {
    let mut r = load(ctx, id).await?;
    if r.state != State::AwaitingApproval {
        return Err(AppError::Invalid(format!(
            "restore request {id} is {}: only a request awaiting approval can be approved",
            r.state.as_str()
        )));
    }
    let now = Timestamp::now();
    if let Some(w) = r.doc.request.window
        && w.to <= now
    {
        return Err(AppError::Invalid(format!(
            "the approved window of request {id} ended at {}: ask the requester for a new one",
            w.to
        )));
    }
    r.doc.feasibility = assess(ctx, &r.doc.items, &r.doc.request.target, now).await?;
    r.doc.assessed = now;
    if !feasible(&r.doc.feasibility) {
        r.state = State::Infeasible;
        save(
            ctx,
            &r,
            now,
            &[event(id, now, "assessed", by, assessed_text(&r.doc))],
        )
        .await?;
        return Err(AppError::Invalid(format!(
            "restore request {id} is no longer feasible: {}",
            assessed_text(&r.doc).0
        )));
    }
    r.doc.approval = Some(Decision {
        by: by.to_string(),
        at: now,
        note: note.map(str::to_string),
    });
    r.state = State::Scheduled;
    let (when, quand) = match r.doc.request.window {
        Some(w) => (
            format!("scheduled in the window {} → {}", w.from, w.to),
            format!("planifiée dans la fenêtre {} → {}", w.from, w.to),
        ),
        None => (
            "to run now, beside production (no interruption approved)".into(),
            "à lancer maintenant, à côté de la production (pas d'interruption approuvée)".into(),
        ),
    };
    let note = note.map(|n| format!(" — {n}")).unwrap_or_default();
    save(
        ctx,
        &r,
        now,
        &[event(
            id,
            now,
            "approved",
            by,
            (format!("{when}{note}"), format!("{quand}{note}")),
        )],
    )
    .await?;
    show(ctx, id).await
}

/// Rejects (before execution) or cancels (before it runs) a request, with the reason.
pub async fn close(
    ctx: &Ctx<'_>,
    id: i64,
    by: &str,
    reason: &str,
    reject: bool,
) -> AppResult<RequestView> {
    let mut r = load(ctx, id).await?;
    let allowed = if reject {
        matches!(r.state, State::AwaitingApproval | State::Infeasible)
    } else {
        matches!(
            r.state,
            State::AwaitingApproval | State::Infeasible | State::Scheduled
        )
    };
    if !allowed {
        return Err(AppError::Invalid(format!(
            "restore request {id} is {}: it can no longer be {}",
            r.state.as_str(),
            if reject { "rejected" } else { "cancelled" }
        )));
    }
    let now = Timestamp::now();
    let decision = Decision {
        by: by.to_string(),
        at: now,
        note: Some(reason.to_string()),
    };
    let kind = if reject {
        r.state = State::Rejected;
        r.doc.rejection = Some(decision);
        "rejected"
    } else {
        r.state = State::Cancelled;
        r.doc.settle_with(&(
            format!("cancelled by {by}: {reason}"),
            format!("annulée par {by} : {reason}"),
        ));
        "cancelled"
    };
    save(
        ctx,
        &r,
        now,
        &[event(
            id,
            now,
            kind,
            by,
            (reason.to_string(), reason.to_string()),
        )],
    )
    .await?;
    show(ctx, id).await
}

/// Where a request restores: its destination, or a directory of the workspace.
pub fn destination(ctx: &Ctx<'_>, r: &Loaded) -> PathBuf {
    match &r.doc.request.destination {
        Some(d) => PathBuf::from(d),
        None => ctx
            .workspace()
            .state_dir()
            .join("requests")
            .join(r.row.id.to_string()),
    }
}

/// What the server should do with requests now.
#[derive(Debug, Default)]
pub struct Due {
    /// Scheduled, and their window is open (or they need none).
    pub run: Vec<i64>,
    /// Scheduled, but their window closed before they ran; or running with no process
    /// holding them any more.
    pub missed: Vec<i64>,
}

pub async fn due(ctx: &Ctx<'_>, now: Timestamp) -> AppResult<Due> {
    let mut due = Due::default();
    for row in ctx.catalog.requests(true).await? {
        let r = from_row(row)?;
        let id = r.row.id;
        match r.state {
            State::Scheduled => match r.doc.request.window {
                Some(w) if w.to <= now => due.missed.push(id),
                Some(w) if w.from > now => {}
                _ => due.run.push(id),
            },
            State::Running => {
                // Its runner holds the request's lease while it runs.
                let key = format!("request:{}", id);
                let orphan = match ctx.catalog.lease_holder(&key, now).await? {
                    None => true,
                    Some(h) => reprise_ops::leases::is_dead_local(&h),
                };
                if orphan {
                    due.missed.push(id);
                }
            }
            _ => {}
        }
    }
    Ok(due)
}

/// Marks a request that can no longer run as failed, saying why.
pub async fn fail_missed(ctx: &Ctx<'_>, id: i64, actor: &str) -> AppResult<()> {
    let mut r = load(ctx, id).await?;
    let now = Timestamp::now();
    let reason = match r.state {
        State::Scheduled => match r.doc.request.window {
            Some(w) => (
                format!("the approved window closed at {} before it ran", w.to),
                format!(
                    "la fenêtre approuvée s'est fermée à {} avant l'exécution",
                    w.to
                ),
            ),
            None => return Ok(()),
        },
        State::Running => (
            "interrupted: the process running it stopped".into(),
            "interrompue : le processus qui l'exécutait s'est arrêté".into(),
        ),
        _ => return Ok(()),
    };
    r.state = State::Failed;
    r.doc.settle_with(&reason);
    save(ctx, &r, now, &[event(id, now, "failed", actor, reason)]).await
}

/// Runs an approved request now: inside its window, each item's chosen restore point
/// into the destination, then Reprise's checks; the asset's checklist awaits people.
pub async fn execute(ctx: &Ctx<'_>, id: i64, actor: &str) -> AppResult<RequestView> {
    let mut r = load(ctx, id).await?;
    let now = Timestamp::now();
    if r.state != State::Scheduled {
        return Err(AppError::Invalid(format!(
            "restore request {id} is {}: only an approved (scheduled) request runs",
            r.state.as_str()
        )));
    }
    if let Some(w) = r.doc.request.window {
        if now < w.from {
            return Err(AppError::Invalid(format!(
                "restore request {id} runs in its approved window, which opens at {}",
                w.from
            )));
        }
        if now >= w.to {
            fail_missed(ctx, id, actor).await?;
            return Err(AppError::Invalid(format!(
                "the approved window of request {id} closed at {}",
                w.to
            )));
        }
    }
    let key = format!("request:{id}");
    if !reprise_ops::leases::acquire(ctx.catalog, &key).await? {
        return Err(AppError::Invalid(format!(
            "restore request {id} is being run by another process"
        )));
    }
    let result = execute_leased(ctx, &mut r, actor, now).await;
    let _ = ctx
        .catalog
        .release_lease(&key, reprise_ops::leases::holder())
        .await;
    result?;
    show(ctx, id).await
}

async fn execute_leased(
    ctx: &Ctx<'_>,
    r: &mut Loaded,
    actor: &str,
    now: Timestamp,
) -> AppResult<()> {
    let id = r.row.id;
    let dest = destination(ctx, r);
    r.state = State::Running;
    r.doc.execution = Some(Execution {
        started: now,
        finished: None,
        by: actor.to_string(),
        destination: dest.clone(),
        restored: vec![],
        error: None,
    });
    save(
        ctx,
        r,
        now,
        &[event(
            id,
            now,
            "started",
            actor,
            (
                format!(
                    "restoring {} into {}",
                    scope_text(&r.doc.items),
                    dest.display()
                ),
                format!(
                    "restauration de {} dans {}",
                    scope_text(&r.doc.items),
                    dest.display()
                ),
            ),
        )],
    )
    .await?;
    // The save above bumped the version.
    r.row.version += 1;
    let mut events = Vec::new();
    let (restored, mut checks, error) = restore_items(ctx, r, &dest, actor, &mut events).await;
    let finished = Timestamp::now();
    if error.is_none() {
        checks.extend(checklists(ctx, r));
    }
    let exec = r.doc.execution.as_mut().expect("set above");
    exec.finished = Some(finished);
    exec.restored = restored;
    exec.error = error.clone();
    let failed_auto = |fr: bool| -> Vec<String> {
        checks
            .iter()
            .filter(|c| c.automatic && c.ok == Some(false))
            .map(|c| format!("{}: {}", c.asset, if fr { &c.fr } else { &c.en }))
            .collect()
    };
    let (failed_en, failed_fr) = (failed_auto(false), failed_auto(true));
    r.doc.checks = checks;
    r.state = if let Some(e) = &error {
        r.doc.settle_with(&(
            format!("restore failed: {e}"),
            format!("échec de la restauration : {e}"),
        ));
        let text = (e.clone(), format!("échec : {e}"));
        events.push(event(id, finished, "failed", actor, text));
        State::Failed
    } else if !failed_en.is_empty() {
        let text = (
            format!("checks failed: {}", failed_en.join(", ")),
            format!("contrôles en échec : {}", failed_fr.join(", ")),
        );
        r.doc.settle_with(&text);
        events.push(event(id, finished, "failed", actor, text));
        State::Failed
    } else {
        settle(r, actor, finished, &mut events);
        r.state
    };
    save(ctx, r, finished, &events).await
}

/// Restores each data set from its chosen point into `dest`, each verified before it
/// writes, with the automatic checks of what was restored; stops at the first error.
async fn restore_items(
    ctx: &Ctx<'_>,
    r: &Loaded,
    dest: &std::path::Path,
    actor: &str,
    events: &mut Vec<RequestEvent>,
) -> (Vec<RestoredItem>, Vec<RequestCheck>, Option<String>) {
    let id = r.row.id;
    let mut restored = Vec::new();
    let mut checks = Vec::new();
    let mut error = None;
    for f in r.doc.feasibility.clone() {
        let Some(point) = f.chosen.clone() else {
            error = Some(format!(
                "{}/{}: no restore point chosen",
                f.asset, f.dataset
            ));
            break;
        };
        let target = dest.join(&f.asset).join(&f.dataset);
        let started = Timestamp::now();
        let outcome = reprise_agents::fleet::restore(
            ctx,
            &RestoreOptions {
                asset: f.asset.clone(),
                dataset: Some(f.dataset.clone()),
                at: None,
                snapshot: Some(point.snapshot.clone()),
                path: None,
                target: target.clone(),
                overwrite: false,
                verify: true,
                // A requester chooses the destination: an operator's rights at most.
                on_server: false,
                host_check: None,
                scratch: false,
                guard: reprise_ops::target::Guard::operator(),
            },
        )
        .await;
        match outcome {
            Ok(done) => {
                for d in done {
                    events.push(event(
                        id,
                        Timestamp::now(),
                        "restored",
                        actor,
                        {
                            let (what, point, from, to) = (
                                format!("{}/{}", d.asset, d.dataset),
                                reprise_workspace::text::short(&d.snapshot),
                                &d.repository,
                                d.target.display(),
                            );
                            let (files, bytes, s) = (d.files, d.bytes, d.seconds);
                            (
                                format!("{what} from {point} ({from}) into {to}: {files} files, {bytes} bytes in {s:.1}s"),
                                format!("{what} depuis {point} ({from}) dans {to} : {files} fichiers, {bytes} octets en {s:.1} s"),
                            )
                        },
                    ));
                    checks.extend(automatic_checks(ctx, &f, &point, &d).await);
                    restored.push(RestoredItem {
                        asset: d.asset,
                        dataset: d.dataset,
                        repository: d.repository,
                        snapshot: d.snapshot,
                        point_time: d.time,
                        target: d.target,
                        files: d.files,
                        bytes: d.bytes,
                        started,
                        seconds: d.seconds,
                    });
                }
            }
            Err(e) => {
                error = Some(format!("{}/{}: {e}", f.asset, f.dataset));
                break;
            }
        }
    }
    (restored, checks, error)
}

/// The checklist of each restored asset's category, for people to tick.
fn checklists(ctx: &Ctx<'_>, r: &Loaded) -> Vec<RequestCheck> {
    let mut checks = Vec::new();
    let mut assets: Vec<&str> = r.doc.items.iter().map(|i| i.asset.as_str()).collect();
    assets.dedup();
    for asset in assets {
        let Ok(a) = ctx.asset(asset) else { continue };
        for item in reprise_domain::plan::checklist(a.category) {
            checks.push(RequestCheck {
                asset: asset.to_string(),
                key: item.key.to_string(),
                en: item.en.to_string(),
                fr: item.fr.to_string(),
                automatic: false,
                ok: None,
                detail: None,
                by: None,
                at: None,
            });
        }
    }
    checks
}

/// After restores, while checks are pending: `checking`; when all are in, `completed` or
/// `failed`.
fn settle(r: &mut Loaded, actor: &str, at: Timestamp, events: &mut Vec<RequestEvent>) {
    let pending = r.doc.checks.iter().filter(|c| c.ok.is_none()).count();
    let failed: Vec<String> = r
        .doc
        .checks
        .iter()
        .filter(|c| c.ok == Some(false))
        .map(|c| format!("{}/{}", c.asset, c.key))
        .collect();
    if pending > 0 {
        r.state = State::Checking;
    } else if failed.is_empty() {
        r.state = State::Completed;
        let n = r.doc.checks.len();
        let text = (
            format!("restored and every check passed ({n})"),
            format!("restaurée, tous les contrôles sont conformes ({n})"),
        );
        r.doc.settle_with(&text);
        events.push(event(r.row.id, at, "completed", actor, text));
    } else {
        r.state = State::Failed;
        let failed = failed.join(", ");
        let text = (
            format!("checks failed: {failed}"),
            format!("contrôles en échec : {failed}"),
        );
        r.doc.settle_with(&text);
        events.push(event(r.row.id, at, "failed", actor, text));
    }
}

async fn automatic_checks(
    ctx: &Ctx<'_>,
    f: &ItemFeasibility,
    point: &Candidate,
    done: &reprise_ops::restore::Restored,
) -> Vec<RequestCheck> {
    let check = |key: &str, en: &str, fr: &str, ok: bool, detail: String| RequestCheck {
        asset: f.asset.clone(),
        key: format!("{}:{key}", f.dataset),
        en: en.to_string(),
        fr: fr.to_string(),
        automatic: true,
        ok: Some(ok),
        detail: Some(detail),
        by: Some("reprise".into()),
        at: Some(Timestamp::now()),
    };
    let mut out = vec![check(
        "integrity",
        "integrity (every block checked against the snapshot's hashes)",
        "intégrité (chaque bloc comparé aux empreintes de la sauvegarde)",
        true,
        format!(
            "restore point {} read back",
            reprise_workspace::text::short(&point.snapshot)
        ),
    )];
    let expected = ctx
        .catalog
        .restore_points(Some(&f.asset))
        .await
        .ok()
        .and_then(|ps| ps.into_iter().find(|p| p.snapshot == done.snapshot));
    if let Some(files) = expected.as_ref().and_then(|p| p.files) {
        out.push(check(
            "counters",
            "counters (files and bytes as in the snapshot)",
            "compteurs (fichiers et octets comme dans la sauvegarde)",
            files == done.files
                && expected
                    .as_ref()
                    .and_then(|p| p.bytes)
                    .is_none_or(|b| b == done.bytes),
            format!(
                "{} files, {} bytes restored; {files} files in the snapshot",
                done.files, done.bytes
            ),
        ));
    }
    let set = ctx
        .asset(&f.asset)
        .ok()
        .and_then(|a| a.datasets.iter().find(|d| d.name == f.dataset));
    if let Some(set) = set
        && let Some(command) = &set.drill_check
    {
        let c = crate::drill::run_check(
            command,
            &done.target,
            Duration::from_secs(set.drill_timeout.as_secs()),
            ctx.loaded.config.server.commands_user.as_deref(),
        )
        .await;
        out.push(check("command", &c.name, &c.name_fr, c.ok, c.detail));
    }
    out
}

/// Records a person's result for one check of the checklist.
pub async fn check(
    ctx: &Ctx<'_>,
    id: i64,
    asset: &str,
    key: &str,
    ok: bool,
    note: Option<&str>,
    by: &str,
) -> AppResult<RequestView> {
    let mut r = load(ctx, id).await?;
    if r.state != State::Checking {
        return Err(AppError::Invalid(format!(
            "restore request {id} is {}: checks are recorded after its restore, while it is checking",
            r.state.as_str()
        )));
    }
    let now = Timestamp::now();
    let keys: Vec<String> = r
        .doc
        .checks
        .iter()
        .filter(|c| c.asset == asset && !c.automatic)
        .map(|c| c.key.clone())
        .collect();
    let item = r
        .doc
        .checks
        .iter_mut()
        .find(|c| c.asset == asset && c.key == key && !c.automatic)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "no check `{key}` for `{asset}` in request {id} (checks: {})",
                if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                }
            ))
        })?;
    item.ok = Some(ok);
    item.detail = note.map(str::to_string);
    item.by = Some(by.to_string());
    item.at = Some(now);
    let mut events = vec![event(id, now, "check", by, {
        let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
        use reprise_domain::incident::CheckResult;
        let result = if ok {
            CheckResult::Pass
        } else {
            CheckResult::Fail
        };
        (
            format!("{asset}/{key}: {}{note}", result.as_str()),
            format!("{asset}/{key} : {}{note}", result.label_fr()),
        )
    })];
    settle(&mut r, by, now, &mut events);
    save(ctx, &r, now, &events).await?;
    show(ctx, id).await
}

/// The report's two helpers: a phrase in the report's language, and a time in its zone.
fn words(
    fr: bool,
    tz: &jiff::tz::TimeZone,
) -> (
    impl Fn(&'static str, &'static str) -> &'static str + Copy,
    impl Fn(Timestamp) -> String + Copy + '_,
) {
    let l = move |en: &'static str, f: &'static str| if fr { f } else { en };
    let time = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    (l, time)
}

/// The request's report: who asked what and why, the decision, the exact scope restored
/// with timestamps, and every check's result.
pub fn report_text(view: &RequestView, lang: Lang, tz: &jiff::tz::TimeZone) -> String {
    let fr = lang == Lang::Fr;
    let (l, time) = words(fr, tz);
    let r = &view.request;
    let mut out = format!(
        "{} #{}\n{} {}\n\n",
        l(
            "RESTORE REQUEST REPORT",
            "RAPPORT DE DEMANDE DE RESTAURATION"
        ),
        r.row.id,
        l("State:", "État :"),
        r.state.label(lang)
    );
    for (k, v) in request_facts(r, lang, tz) {
        out.push_str(&format!("{k}{} {v}\n", l(":", " :")));
    }
    out.push_str(&format!(
        "\n{} ({} {})\n",
        l("FEASIBILITY", "FAISABILITÉ"),
        l("assessed", "évaluée le"),
        time(r.doc.assessed)
    ));
    feasibility_text(&mut out, r, lang, tz);
    if let Some(d) = &r.doc.approval {
        out.push_str(&format!(
            "\n{} {} — {}{}\n",
            l("Approved by", "Approuvée par"),
            d.by,
            time(d.at),
            d.note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ));
    }
    if let Some(d) = &r.doc.rejection {
        out.push_str(&format!(
            "\n{} {} — {}: {}\n",
            l("Rejected by", "Refusée par"),
            d.by,
            time(d.at),
            d.note.as_deref().unwrap_or("")
        ));
    }
    execution_text(&mut out, r, lang, tz);
    checks_text(&mut out, r, lang, tz);
    if let Some(o) = r.doc.outcome_in(lang) {
        out.push_str(&format!("\n{} {o}\n", l("Outcome:", "Issue :")));
    }
    out.push_str(&format!("\n{}\n", l("TIMELINE", "CHRONOLOGIE")));
    for e in &view.timeline {
        out.push_str(&format!(
            "{} {} {}{}\n",
            time(e.at),
            event_kind(&e.kind, lang),
            e.actor
                .as_ref()
                .map(|a| format!("({a}) "))
                .unwrap_or_default(),
            lang.pick(&e.text, e.text_fr.as_deref())
        ));
    }
    out
}

/// Who asked, when, from where, why and for what, and the downtime agreed: the request
/// as its reports show it, each with its label.
fn request_facts(r: &Loaded, lang: Lang, tz: &jiff::tz::TimeZone) -> Vec<(&'static str, String)> {
    let (l, time) = words(lang == Lang::Fr, tz);
    let q = &r.doc.request;
    vec![
        (l("Requester", "Demandeur"), q.requester.clone()),
        (l("Submitted", "Soumise le"), time(r.row.created)),
        (l("Environment", "Environnement"), q.environment.clone()),
        (
            l("Context", "Contexte"),
            format!(
                "{} — {}{}",
                q.context.kind.label(lang),
                q.context.description,
                q.context
                    .incident
                    .map(|i| format!(" (incident {i})"))
                    .unwrap_or_default()
            ),
        ),
        (l("Urgency", "Urgence"), q.urgency.label(lang).to_string()),
        (l("Impact", "Impact"), q.impact.clone()),
        (l("Target", "Cible"), target_text(&q.target, lang, tz)),
        (
            l("Downtime", "Interruption"),
            match q.window {
                Some(w) => format!(
                    "{} {} → {}",
                    l("approved, window", "acceptée, fenêtre"),
                    time(w.from),
                    time(w.to)
                ),
                None => l(
                    "not approved: restored beside production",
                    "non acceptée : restauration à côté de la production",
                )
                .to_string(),
            },
        ),
    ]
}

/// Each data set's verdict, the point chosen and the alternatives.
fn feasibility_text(out: &mut String, r: &Loaded, lang: Lang, tz: &jiff::tz::TimeZone) {
    let fr = lang == Lang::Fr;
    let (l, time) = words(fr, tz);
    for f in &r.doc.feasibility {
        let point = f
            .chosen
            .as_ref()
            .map(|c| {
                format!(
                    " — {} {} ({}{})",
                    l("point", "point"),
                    reprise_workspace::text::short(&c.snapshot),
                    time(c.time),
                    if c.proven() {
                        l(", verified", ", vérifié")
                    } else {
                        l(", unverified", ", non vérifié")
                    }
                )
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "- {}/{}{} {}{point}\n",
            f.asset,
            f.dataset,
            l(":", " :"),
            f.verdict.explain(lang)
        ));
        for a in &f.alternatives {
            out.push_str(&format!(
                "    {} {} ({}{})\n",
                l("alternative:", "alternative :"),
                reprise_workspace::text::short(&a.snapshot),
                time(a.time),
                if a.proven() {
                    l(", verified", ", vérifié")
                } else {
                    l(", unverified", ", non vérifié")
                }
            ));
        }
    }
}

/// What was restored, from which point, where, how much and how fast.
fn execution_text(out: &mut String, r: &Loaded, lang: Lang, tz: &jiff::tz::TimeZone) {
    let fr = lang == Lang::Fr;
    let (l, time) = words(fr, tz);
    if let Some(e) = &r.doc.execution {
        out.push_str(&format!(
            "\n{}\n{} {} — {} {}\n{} {}\n",
            l("EXECUTION", "EXÉCUTION"),
            l("started", "début"),
            time(e.started),
            l("finished", "fin"),
            e.finished.map(time).unwrap_or_else(|| "—".into()),
            l("by", "par"),
            e.by
        ));
        for d in &e.restored {
            out.push_str(&format!(
                "- {}/{} {} {} ({}, {}) → {}: {} {}, {} {}, {:.1} s\n",
                d.asset,
                d.dataset,
                l("from", "depuis"),
                reprise_workspace::text::short(&d.snapshot),
                time(d.point_time),
                d.repository,
                d.target.display(),
                d.files,
                l("files", "fichiers"),
                d.bytes,
                l("bytes", "octets"),
                d.seconds
            ));
        }
        if let Some(err) = &e.error {
            out.push_str(&format!("{} {err}\n", l("error:", "erreur :")));
        }
    }
}

/// Every check and its result, by whom and when when a person made it.
fn checks_text(out: &mut String, r: &Loaded, lang: Lang, tz: &jiff::tz::TimeZone) {
    let fr = lang == Lang::Fr;
    let (l, time) = words(fr, tz);
    if !r.doc.checks.is_empty() {
        out.push_str(&format!("\n{}\n", l("CHECKS", "VÉRIFICATIONS")));
        for c in &r.doc.checks {
            let mark = match c.ok {
                Some(true) => "ok",
                Some(false) => "KO",
                None => "..",
            };
            out.push_str(&format!(
                "[{mark}] {}/{} — {}{}{}\n",
                c.asset,
                c.key,
                if fr { &c.fr } else { &c.en },
                c.detail
                    .as_ref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default(),
                match (&c.by, c.at) {
                    (Some(by), Some(at)) if !c.automatic => format!(" ({by}, {})", time(at)),
                    _ => String::new(),
                }
            ));
        }
    }
}

/// Reads a request file: JSON when it starts with `{`, TOML otherwise. A malformed file
/// or an unknown field is an error naming the file, line and column.
pub fn read_draft(text: &str, name: &str) -> AppResult<Draft> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text)
            .map_err(|e| AppError::Invalid(format!("{name}:{}:{}: {e}", e.line(), e.column())));
    }
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map_or((1, 1), |span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            (line, col)
        });
        AppError::Invalid(format!("{name}:{line}:{col}: {}", e.message()))
    })
}

/// A request file to fill in.
pub fn template(lang: Lang) -> &'static str {
    match lang {
        Lang::En => TEMPLATE_EN,
        Lang::Fr => TEMPLATE_FR,
    }
}

const TEMPLATE_EN: &str = r#"# A restore request. Every field is required unless marked optional.
requester = "Claire Martin, accounting"   # who asks (name and team, or client)
lang = "en"                               # en or fr: the language of answers
environment = "production"                # production, staging or tenant:NAME
urgency = "high"                          # low, normal, high or critical
impact = "Invoicing blocked for 40 customers"
[scope]                                   # at least one of these lists
assets = ["erp"]
datasets = []                             # "ASSET/DATASET"
sites = []
categories = []                           # data categories: alone they select, else narrow

[target]                                  # exactly one of: at, from + to, snapshot
at = "2026-11-20 18:00"                   # the state at this time (workspace time zone)
# from = "2026-11-20 08:00"
# to = "2026-11-20 12:00"
# snapshot = "1a2b3c4d"

[context]
kind = "faulty-import"                    # incident, faulty-import, change or other
description = "The 21 November CSV import overwrote customer records"
# incident = 3                            # optional: the incident it belongs to

[downtime]
approved = true                           # false: restored beside production, at once
window = "2026-11-24 20:00/2026-11-24 22:00"

# destination = "/srv/restores/erp"       # optional: an absolute directory
"#;

const TEMPLATE_FR: &str = r#"# Une demande de restauration. Chaque champ est obligatoire sauf mention contraire.
requester = "Claire Martin, comptabilité" # qui demande (nom et service, ou client)
lang = "fr"                               # en ou fr : la langue des réponses
environment = "production"                # production, staging ou tenant:NOM
urgency = "high"                          # low, normal, high ou critical
impact = "Facturation bloquée pour 40 clients"
[scope]                                   # au moins une de ces listes
assets = ["erp"]
datasets = []                             # "ÉQUIPEMENT/JEU"
sites = []
categories = []                           # catégories de données : seules elles choisissent, sinon elles filtrent

[target]                                  # une seule cible : at, from + to, ou snapshot
at = "2026-11-20 18:00"                   # l'état à cette date (fuseau de l'espace de travail)
# from = "2026-11-20 08:00"
# to = "2026-11-20 12:00"
# snapshot = "1a2b3c4d"

[context]
kind = "faulty-import"                    # incident, faulty-import, change ou other
description = "L'import CSV du 21 novembre a écrasé les fiches clients"
# incident = 3                            # facultatif : l'incident concerné

[downtime]
approved = true                           # false : restauration à côté de la production, aussitôt
window = "2026-11-24 20:00/2026-11-24 22:00"

# destination = "/srv/restaurations/erp"  # facultatif : un répertoire absolu
"#;

/// The request's report as a document (PDF): the provider's letterhead, the request
/// (who, when, why, what, the downtime agreed), each data set's feasibility and the
/// point chosen, the decision, what was restored (from which point, where, how much, how
/// fast), every check, the outcome and the timeline; fonts embedded.
pub fn report_pdf(
    ctx: &Ctx<'_>,
    view: &RequestView,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<u8>> {
    use crate::pv::{facts_table, letterhead, provider_and_client, render, table};
    use reprise_workspace::pdf::{escape, preamble};
    let fr = lang == Lang::Fr;
    let (l, time) = words(fr, tz);
    let r = &view.request;
    let heading = l(
        "RESTORE REQUEST REPORT",
        "RAPPORT DE DEMANDE DE RESTAURATION",
    );
    let (provider, client) = provider_and_client(ctx);
    let mut m = preamble(
        &format!("{heading} #{}", r.row.id),
        &format!("{provider} — {heading} #{}", r.row.id),
    );
    let (head, files) = letterhead(ctx)?;
    m.push_str(&head);
    m.push_str(&format!(
        "#align(center)[#text(size: 15pt, weight: \"bold\")[{} \\#{}]]\n#v(0.3cm)\n",
        escape(heading),
        r.row.id
    ));
    let mut facts = vec![
        (l("Client", "Client"), client.clone()),
        (l("Provider", "Prestataire"), provider.clone()),
        (l("State", "État"), r.state.label(lang).to_string()),
    ];
    facts.extend(request_facts(r, lang, tz));
    facts_table(&mut m, &facts);
    m.push_str(&format!(
        "\n== {} ({} {})\n",
        escape(l("Feasibility", "Faisabilité")),
        escape(l("assessed", "évaluée le")),
        escape(&time(r.doc.assessed))
    ));
    let proven = |c: &Candidate| {
        if c.proven() {
            l("verified", "vérifié")
        } else {
            l("unverified", "non vérifié")
        }
    };
    let rows: Vec<Vec<String>> = r
        .doc
        .feasibility
        .iter()
        .map(|f| {
            vec![
                format!("{}/{}", f.asset, f.dataset),
                f.verdict.explain(lang).to_string(),
                f.chosen.as_ref().map_or("—".into(), |c| {
                    format!(
                        "{} ({}, {})",
                        reprise_workspace::text::short(&c.snapshot),
                        time(c.time),
                        proven(c)
                    )
                }),
                f.alternatives
                    .iter()
                    .map(|a| {
                        format!(
                            "{} ({}, {})",
                            reprise_workspace::text::short(&a.snapshot),
                            time(a.time),
                            proven(a)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    table(
        &mut m,
        "(1.3fr, 2fr, 1.6fr, 1.6fr)",
        &[
            l("Data set", "Jeu de données"),
            l("Verdict", "Verdict"),
            l("Point chosen", "Point retenu"),
            l("Alternatives", "Alternatives"),
        ],
        &rows,
    );
    let decision = match (&r.doc.approval, &r.doc.rejection) {
        (Some(d), _) => Some(format!(
            "{} {} — {}{}",
            l("Approved by", "Approuvée par"),
            d.by,
            time(d.at),
            d.note
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        )),
        (None, Some(d)) => Some(format!(
            "{} {} — {}: {}",
            l("Rejected by", "Refusée par"),
            d.by,
            time(d.at),
            d.note.as_deref().unwrap_or("")
        )),
        _ => None,
    };
    if let Some(d) = decision {
        m.push_str(&format!(
            "\n== {}\n{}\n",
            escape(l("Decision", "Décision")),
            escape(&d)
        ));
    }
    if let Some(e) = &r.doc.execution {
        m.push_str(&format!(
            "\n== {}\n{} {} — {} {} — {} {}\n\n",
            escape(l("Execution", "Exécution")),
            escape(l("started", "début")),
            escape(&time(e.started)),
            escape(l("finished", "fin")),
            escape(&e.finished.map(time).unwrap_or_else(|| "—".into())),
            escape(l("by", "par")),
            escape(&e.by)
        ));
        let rows: Vec<Vec<String>> = e
            .restored
            .iter()
            .map(|d| {
                vec![
                    format!("{}/{}", d.asset, d.dataset),
                    format!(
                        "{} ({}, {})",
                        reprise_workspace::text::short(&d.snapshot),
                        time(d.point_time),
                        d.repository
                    ),
                    d.target.display().to_string(),
                    format!(
                        "{} {}, {} {}",
                        d.files,
                        l("files", "fichiers"),
                        d.bytes,
                        l("bytes", "octets")
                    ),
                    format!("{:.1} s", d.seconds),
                ]
            })
            .collect();
        table(
            &mut m,
            "(1.3fr, 1.8fr, 2fr, 1.2fr, 0.7fr)",
            &[
                l("Data set", "Jeu de données"),
                l("From", "Depuis"),
                l("Into", "Vers"),
                l("Restored", "Restauré"),
                l("Time", "Durée"),
            ],
            &rows,
        );
        if let Some(err) = &e.error {
            m.push_str(&format!(
                "\n{} {}\n",
                escape(l("Error:", "Erreur :")),
                escape(err)
            ));
        }
    }
    if !r.doc.checks.is_empty() {
        m.push_str(&format!("\n== {}\n", escape(l("Checks", "Vérifications"))));
        let rows: Vec<Vec<String>> = r
            .doc
            .checks
            .iter()
            .map(|c| {
                vec![
                    format!("{}/{}", c.asset, c.key),
                    format!(
                        "{}{}",
                        if fr { &c.fr } else { &c.en },
                        c.detail
                            .as_ref()
                            .map(|d| format!(": {d}"))
                            .unwrap_or_default()
                    ),
                    match c.ok {
                        Some(true) => "✓".into(),
                        Some(false) => "✗".into(),
                        None => "—".into(),
                    },
                    match (&c.by, c.at) {
                        (Some(by), Some(at)) if !c.automatic => format!("{by}, {}", time(at)),
                        _ => l("Reprise", "Reprise").to_string(),
                    },
                ]
            })
            .collect();
        table(
            &mut m,
            "(1.3fr, 2.6fr, 0.5fr, 1.3fr)",
            &[
                l("What", "Quoi"),
                l("Check", "Vérification"),
                l("Result", "Résultat"),
                l("By", "Par"),
            ],
            &rows,
        );
    }
    if let Some(o) = r.doc.outcome_in(lang) {
        m.push_str(&format!(
            "\n== {}\n{}\n",
            escape(l("Outcome", "Issue")),
            escape(o)
        ));
    }
    m.push_str(&format!("\n== {}\n", escape(l("Timeline", "Chronologie"))));
    let rows: Vec<Vec<String>> = view
        .timeline
        .iter()
        .map(|e| {
            vec![
                time(e.at),
                event_kind(&e.kind, lang).to_string(),
                e.actor.clone().unwrap_or_default(),
                lang.pick(&e.text, e.text_fr.as_deref()).to_string(),
            ]
        })
        .collect();
    table(
        &mut m,
        "(1.2fr, 0.9fr, 0.9fr, 3fr)",
        &[
            l("When", "Quand"),
            l("What", "Quoi"),
            l("Who", "Qui"),
            l("Detail", "Détail"),
        ],
        &rows,
    );
    render(&m, &files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_templates_are_complete_requests() {
        for lang in [Lang::En, Lang::Fr] {
            let draft = read_draft(template(lang), "template.toml").unwrap();
            let r = rq::validate(&draft, &jiff::tz::TimeZone::UTC).unwrap();
            assert_eq!(r.lang, lang);
        }
    }

    #[test]
    fn unknown_fields_are_located() {
        let err = read_draft("requester = \"x\"\nurgnecy = \"high\"\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.toml:2:1:"), "{err}");
        assert!(err.contains("urgnecy"), "{err}");
        let err = read_draft("{\"requester\": 3}", "r.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.json:1:"), "{err}");
    }
}
