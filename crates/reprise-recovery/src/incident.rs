//! Incidents, from the first alert to the signed return-to-service report and the review
//! (R001.1–R001.6, R000.1–R000.7, R004.1–R004.6).
//!
//! Each use case loads the incident, changes its document, and saves it with the events
//! that describe the change, atomically; a save based on a stale read is refused by the
//! catalog, so two people never overwrite each other. Opening an incident generates the
//! damage assessment at once; approving the plan freezes the computed recovery plan as
//! steps; starting a restore step runs the real restores (verified before anything is
//! written); finishing a step marks its asset working again; signing the report hashes
//! its text.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::{ChangeKind, IncidentEvent, IncidentRow, IncidentSave, NewIncidentRow};
use reprise_domain::AssetState;
use reprise_domain::incident::{
    Action, Affected, ApprovedPlan, AssessedAsset, Assessment, Check, CheckResult, IncidentDoc,
    Phase, PlannedRestore, Restored, Review, Severity, SignOff, StepRecord, StepStatus, Update,
    gdpr_deadline, next_update_due, review_due,
};
use reprise_domain::plan::Action as PlanAction;
use serde::Serialize;
use sha2::{Digest, Sha256};

use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::snapshots::{Integrity, group};

/// `[recovery] assessment_deadline` (R000.1: 2 hours) or `review_after` (R000.7: 10
/// days) as a duration.
fn setting(interval: reprise_domain::Interval) -> SignedDuration {
    SignedDuration::from_secs(interval.as_secs() as i64)
}

/// A loaded incident.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    #[serde(flatten)]
    pub row: IncidentRow,
    pub severity: Severity,
    pub phase: Phase,
    #[serde(flatten)]
    pub doc: IncidentDoc,
}

/// An incident's deadlines at a given time.
#[derive(Debug, Clone, Serialize)]
pub struct Deadlines {
    pub next_update_due: Option<Timestamp>,
    pub update_late: bool,
    pub assessment_shared_in_time: Option<bool>,
    pub gdpr_deadline: Option<Timestamp>,
    pub review_due: Option<Timestamp>,
}

/// The deadlines of `incident` at `now`, from its document alone.
pub fn deadlines(ctx: &Ctx<'_>, incident: &Incident, now: Timestamp) -> Deadlines {
    let due = next_update_due(
        incident
            .severity
            .update_every(&ctx.loaded.config.recovery.update_every),
        incident.phase,
        incident.row.opened,
        &incident.doc.updates,
    );
    Deadlines {
        next_update_due: due,
        update_late: due.is_some_and(|d| d < now),
        assessment_shared_in_time: incident
            .doc
            .assessment
            .as_ref()
            .and_then(|a| a.shared_in_time(now)),
        gdpr_deadline: incident
            .doc
            .personal_data
            .then(|| gdpr_deadline(incident.row.opened)),
        review_due: review_due(
            incident.doc.recovered,
            setting(ctx.loaded.config.recovery.review_after),
        ),
    }
}

/// What `show` adds: deadlines computed at `now`, and the evolution table.
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    #[serde(flatten)]
    pub incident: Incident,
    #[serde(flatten)]
    pub deadlines: Deadlines,
    /// Each affected asset's states over time (R004.4).
    pub evolution: Vec<StateChange>,
    pub timeline: Vec<IncidentEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StateChange {
    pub asset: String,
    pub at: Timestamp,
    pub state: AssetState,
}

/// What is known when an incident is opened.
#[derive(Debug, Clone, Default)]
pub struct NewIncident {
    pub title: String,
    pub severity: Option<String>,
    /// `asset` or `asset=failed|partial`; assets the inventory says are not working are
    /// taken when none is given.
    pub assets: Vec<String>,
    pub source: Option<String>,
    pub nature: Option<String>,
    pub personal_data: bool,
    pub commander: Option<String>,
    /// When it was detected, if before now: deadlines count from then.
    pub detected: Option<Timestamp>,
    /// Since when the assets are affected, if before detection (for a compromise, when
    /// the intruder came in: points taken since are not clean). Default: detection.
    pub since: Option<Timestamp>,
}

fn parse_severity(word: &str) -> AppResult<Severity> {
    Severity::parse(word).ok_or_else(|| {
        AppError::Invalid(format!(
            "unknown severity `{word}` (SEV1, SEV2, SEV3 or SEV4)"
        ))
    })
}

/// A timeline event, its sentence in English and in French.
fn event(
    id: i64,
    at: Timestamp,
    kind: &str,
    actor: Option<&str>,
    (text, fr): (String, String),
) -> IncidentEvent {
    IncidentEvent {
        incident: id,
        at,
        kind: kind.into(),
        actor: actor.map(str::to_string),
        text,
        text_fr: Some(fr),
    }
}

/// `from → to`, in English and in French.
fn phase_change(from: Phase, to: Phase) -> (String, String) {
    (
        format!("{} → {}", from.as_str(), to.as_str()),
        format!("{} → {}", from.label_fr(), to.label_fr()),
    )
}

/// An asset's new state, in English and in French (`erp destroyed`: the evolution table
/// reads the English one back).
fn state_change(asset: &str, state: AssetState) -> (String, String) {
    (
        format!("{asset} {}", state.as_str()),
        format!("{asset} : {}", state.label_fr()),
    )
}

/// Reads incident `id`.
pub async fn load(ctx: &Ctx<'_>, id: i64) -> AppResult<Incident> {
    let row = ctx.catalog.incident(id).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "no incident {id} (see `reprise incident list --all`)"
        ))
    })?;
    from_row(row)
}

/// An incident from a row already read (`Catalog::incidents` gives whole rows).
pub fn from_row(row: IncidentRow) -> AppResult<Incident> {
    let id = row.id;
    let doc: IncidentDoc = serde_json::from_str(&row.doc)
        .map_err(|e| AppError::Failed(format!("incident {id} cannot be read: {e}")))?;
    let severity = parse_severity(&row.severity)?;
    let phase = Phase::parse(&row.phase)
        .ok_or_else(|| AppError::Failed(format!("incident {id} has an unknown phase")))?;
    Ok(Incident {
        row,
        severity,
        phase,
        doc,
    })
}

/// Saves `incident` (read as version `row.version`) with `events`.
async fn save(
    ctx: &Ctx<'_>,
    incident: &Incident,
    at: Timestamp,
    events: &[IncidentEvent],
) -> AppResult<()> {
    let doc = serde_json::to_string(&incident.doc).expect("an incident serialises");
    ctx.catalog
        .save_incident(
            &IncidentSave {
                id: incident.row.id,
                version: incident.row.version,
                severity: incident.severity.as_str().into(),
                phase: incident.phase.as_str().into(),
                updated: at,
                closed: (incident.phase == Phase::Closed).then_some(at),
                doc,
            },
            events,
        )
        .await?;
    Ok(())
}

/// Opens an incident, generates its damage assessment, and moves it to assessment.
pub async fn open(
    ctx: &Ctx<'_>,
    new: &NewIncident,
    actor: Option<&str>,
    now: Timestamp,
) -> AppResult<i64> {
    if new.title.trim().is_empty() {
        return Err(AppError::Invalid("an incident needs a title".into()));
    }
    let severity = parse_severity(new.severity.as_deref().unwrap_or("SEV2"))?;
    let opened = match new.detected {
        Some(t) if t > now => {
            return Err(AppError::Invalid(
                "the detection time is in the future".into(),
            ));
        }
        Some(t) => t,
        None => now,
    };
    let since = match new.since {
        Some(t) if t > opened => {
            return Err(AppError::Invalid(
                "the assets cannot be affected since after the incident was detected".into(),
            ));
        }
        Some(t) => t,
        None => opened,
    };
    let mut affected = Vec::new();
    if new.assets.is_empty() {
        for a in ctx
            .inventory()
            .assets
            .iter()
            .filter(|a| a.state != AssetState::Working)
        {
            affected.push(Affected {
                asset: a.id.to_string(),
                state: a.state,
                nature: new.nature.clone(),
                since: Some(since),
            });
        }
        if affected.is_empty() {
            return Err(AppError::Invalid(
                "name the affected assets (`--asset ID` or `--asset ID=partial`): the inventory says every asset works".into(),
            ));
        }
    } else {
        for spec in &new.assets {
            let (id, state) = match spec.split_once('=') {
                Some((id, state)) => (
                    id,
                    AssetState::parse(state)
                        .map_err(|e| AppError::Invalid(format!("`{spec}`: {e}")))?,
                ),
                None => (spec.as_str(), AssetState::Failed),
            };
            let asset = ctx.asset(id)?;
            affected.push(Affected {
                asset: asset.id.to_string(),
                state,
                nature: new.nature.clone(),
                since: Some(since),
            });
        }
    }
    let mut doc = IncidentDoc {
        affected,
        personal_data: new.personal_data,
        ..IncidentDoc::default()
    };
    if let Some(c) = &new.commander {
        doc.roles.commander = Some(c.clone());
    }
    let id = ctx
        .catalog
        .create_incident(&NewIncidentRow {
            title: new.title.trim().to_string(),
            severity: severity.as_str().into(),
            phase: Phase::Detection.as_str().into(),
            source: new.source.clone(),
            opened,
            doc: serde_json::to_string(&doc).expect("an incident serialises"),
            actor: actor.map(str::to_string),
            text: format!("{} {}", severity.as_str(), new.title.trim()),
            text_fr: Some(format!(
                "{} {} (ouvert)",
                severity.as_str(),
                new.title.trim()
            )),
        })
        .await?;
    let mut incident = load(ctx, id).await?;
    // Every affected asset has the incident's nature: only a compromise looks at points.
    if new
        .nature
        .as_deref()
        .is_some_and(reprise_domain::incident::is_compromise)
    {
        for a in &incident.doc.affected {
            reprise_ops::suspects::mark_compromised(ctx, Some(&a.asset)).await?;
        }
    }
    let assessment = assess(ctx, &incident.doc.affected, opened, now).await?;
    incident.doc.assessment = Some(assessment);
    incident.phase = Phase::Assessment;
    let mut events = vec![event(
        id,
        now,
        "phase",
        actor,
        phase_change(Phase::Detection, Phase::Assessment),
    )];
    for a in &incident.doc.affected {
        events.push(event(
            id,
            now,
            "state",
            actor,
            state_change(&a.asset, a.state),
        ));
    }
    events.push(event(
        id,
        now,
        "assessment",
        actor,
        (
            "damage assessment generated".into(),
            "évaluation des dommages établie".into(),
        ),
    ));
    save(ctx, &incident, now, &events).await?;
    Ok(id)
}

/// The damage assessment (R000.1, R004.1): each affected asset, what depends on it, and
/// the data at risk since its last verified restore point.
async fn assess(
    ctx: &Ctx<'_>,
    affected: &[Affected],
    opened: Timestamp,
    now: Timestamp,
) -> AppResult<Assessment> {
    let points = group(&reprise_ops::suspects::points(ctx, None).await?);
    let mut assets = Vec::new();
    for a in affected {
        let Some(asset) = ctx.inventory().asset(&a.asset) else {
            continue;
        };
        // Points after a suspect backup are suspect too: the newest trusted one is the
        // last clean point.
        let verified = points
            .iter()
            .filter(|p| p.asset == a.asset && p.trusted())
            .map(|p| p.time)
            .max();
        let first_suspect = points
            .iter()
            .filter(|p| p.asset == a.asset && p.suspect.is_some())
            .min_by_key(|p| p.time);
        // The inventory's record of a change, or the device's own, seen by reading it.
        let last_change = ctx
            .catalog
            .asset_history(&a.asset)
            .await?
            .iter()
            .filter(|c| c.kind == ChangeKind::ConfigChanged)
            .map(|c| c.at)
            .chain(reprise_ops::devices::changed_at(ctx, &a.asset).await?)
            .max();
        let mut dependents: Vec<String> = ctx
            .inventory()
            .impact(&a.asset)
            .iter()
            .map(|i| i.asset.to_string())
            .collect();
        dependents.sort();
        assets.push(AssessedAsset {
            asset: a.asset.clone(),
            name: asset.name.clone(),
            state: a.state,
            nature: a.nature.clone(),
            since: a.since,
            degraded_dependents: dependents,
            last_verified: verified,
            data_at_risk_seconds: verified.map(|v| now.duration_since(v).as_secs()),
            predates_change: match (verified, last_change) {
                (Some(v), Some(c)) if v < c => Some(c),
                _ => None,
            },
            rpo_seconds: asset.rpo.map(|r| r.as_secs()),
            suspect_since: first_suspect.map(|p| p.time),
            suspect_reason: first_suspect.and_then(|p| p.suspect.clone()),
        });
    }
    Ok(Assessment {
        generated: now,
        assets,
        deadline: opened + setting(ctx.loaded.config.recovery.assessment_deadline),
        shared: None,
        notes: Vec::new(),
    })
}

/// Reads an incident with what is computed at `now`.
pub async fn show(ctx: &Ctx<'_>, id: i64, now: Timestamp) -> AppResult<IncidentView> {
    let incident = load(ctx, id).await?;
    let timeline = ctx.catalog.incident_events(id).await?;
    let evolution = timeline
        .iter()
        .filter(|e| e.kind == "state")
        .filter_map(|e| {
            let (asset, state) = e.text.split_once(' ')?;
            Some(StateChange {
                asset: asset.to_string(),
                at: e.at,
                state: AssetState::parse(state).ok()?,
            })
        })
        .collect();
    Ok(IncidentView {
        deadlines: deadlines(ctx, &incident, now),
        evolution,
        timeline,
        incident,
    })
}

/// Moves an incident to `phase` (forward only; closing needs the review).
pub async fn set_phase(
    ctx: &Ctx<'_>,
    id: i64,
    phase: Phase,
    actor: Option<&str>,
    now: Timestamp,
) -> AppResult<()> {
    let mut incident = load(ctx, id).await?;
    if phase <= incident.phase {
        return Err(AppError::Invalid(format!(
            "incident {id} is already in {}: phases only move forward (detection → assessment → containment → recovery → review → closed)",
            incident.phase.as_str()
        )));
    }
    if phase == Phase::Closed
        && incident
            .doc
            .review
            .as_ref()
            .is_none_or(|r| r.held.is_none())
    {
        return Err(AppError::Invalid(format!(
            "incident {id} cannot close before its review (`reprise incident review {id} …`)"
        )));
    }
    let text = phase_change(incident.phase, phase);
    incident.phase = phase;
    save(ctx, &incident, now, &[event(id, now, "phase", actor, text)]).await
}

/// Gives `role` to `who`.
pub async fn assign(
    ctx: &Ctx<'_>,
    id: i64,
    role: &str,
    who: &str,
    actor: Option<&str>,
    now: Timestamp,
) -> AppResult<()> {
    let mut incident = load(ctx, id).await?;
    let names = reprise_domain::incident::role_names(role);
    let Some((en, fr)) = names.filter(|_| incident.doc.roles.assign(role, who)) else {
        return Err(AppError::Invalid(format!(
            "unknown role `{role}` (commander, primary, secondary, communications, technician)"
        )));
    };
    let text = (format!("{en}: {who}"), format!("{fr} : {who}"));
    save(ctx, &incident, now, &[event(id, now, "role", actor, text)]).await
}

/// A change to the damage assessment.
#[derive(Debug, Clone, Default)]
pub struct AssessmentEdit {
    /// The asset whose line changes, with its new `nature`, `state` or `since`.
    pub asset: Option<String>,
    pub nature: Option<String>,
    pub state: Option<AssetState>,
    pub since: Option<Timestamp>,
    pub note: Option<String>,
    /// Record that the assessment was shared with the client now.
    pub share: bool,
}

/// Edits an assessed asset's nature of damage, adds a note, or records the sharing.
pub async fn edit_assessment(
    ctx: &Ctx<'_>,
    id: i64,
    edit: &AssessmentEdit,
    actor: Option<&str>,
    now: Timestamp,
) -> AppResult<()> {
    let (asset, nature, note, share) = (
        edit.asset.as_deref(),
        edit.nature.as_deref(),
        edit.note.as_deref(),
        edit.share,
    );
    let mut incident = load(ctx, id).await?;
    let assessment = incident
        .doc
        .assessment
        .as_mut()
        .ok_or_else(|| AppError::Invalid(format!("incident {id} has no assessment")))?;
    let mut events = Vec::new();
    if let Some(asset) = asset {
        let line = assessment
            .assets
            .iter_mut()
            .find(|a| a.asset == asset)
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "asset `{asset}` is not in the assessment of incident {id}"
                ))
            })?;
        if let Some(n) = nature {
            line.nature = Some(n.to_string());
            let text = (format!("{asset}: {n}"), format!("{asset} : {n}"));
            events.push(event(id, now, "assessment", actor, text));
        }
        if let Some(since) = edit.since {
            line.since = Some(since);
            events.push(event(
                id,
                now,
                "assessment",
                actor,
                (
                    format!("{asset}: affected since {since}"),
                    format!("{asset} : touché depuis {since}"),
                ),
            ));
        }
        if let Some(state) = edit.state {
            line.state = state;
            events.push(event(id, now, "state", actor, state_change(asset, state)));
        }
    }
    // The affected list decides what the plan restores, and which points are clean after
    // a compromise: keep it in step.
    if let Some(asset) = asset
        && let Some(a) = incident.doc.affected.iter_mut().find(|a| a.asset == asset)
    {
        if let Some(state) = edit.state {
            a.state = state;
        }
        if edit.since.is_some() {
            a.since = edit.since;
        }
        if let Some(n) = nature {
            a.nature = Some(n.to_string());
        }
    }
    // A compromise (or an earlier start of one) makes the points taken since suspect: the
    // assessment's line then names the last clean point.
    if let Some(asset) = asset
        && (nature.is_some() || edit.since.is_some())
    {
        save(ctx, &incident, now, &events).await?;
        events.clear();
        incident = load(ctx, id).await?;
        if reprise_ops::suspects::mark_compromised(ctx, Some(asset)).await? > 0
            && let Some(affected) = incident.doc.affected.iter().find(|a| a.asset == asset)
        {
            let fresh = assess(
                ctx,
                std::slice::from_ref(affected),
                incident.row.opened,
                now,
            )
            .await?;
            if let (Some(new), Some(line)) = (
                fresh.assets.into_iter().next(),
                incident
                    .doc
                    .assessment
                    .as_mut()
                    .and_then(|a| a.assets.iter_mut().find(|l| l.asset == asset)),
            ) {
                line.last_verified = new.last_verified;
                line.data_at_risk_seconds = new.data_at_risk_seconds;
                line.predates_change = new.predates_change;
                line.suspect_since = new.suspect_since;
                line.suspect_reason = new.suspect_reason;
                events.push(event(
                    id,
                    now,
                    "assessment",
                    actor,
                    (
                        format!("{asset}: compromised, the points taken since are suspect"),
                        format!("{asset} : compromis, les points pris depuis sont suspects"),
                    ),
                ));
            }
        }
    }
    let assessment = incident
        .doc
        .assessment
        .as_mut()
        .ok_or_else(|| AppError::Invalid(format!("incident {id} has no assessment")))?;

    if let Some(n) = note {
        assessment.notes.push(n.to_string());
        events.push(event(
            id,
            now,
            "note",
            actor,
            (n.to_string(), n.to_string()),
        ));
    }
    if share {
        assessment.shared = Some(now);
        let late = now > assessment.deadline;
        events.push(event(
            id,
            now,
            "assessment",
            actor,
            if late {
                (
                    "assessment shared (late)".into(),
                    "évaluation partagée (en retard)".into(),
                )
            } else {
                ("assessment shared".into(), "évaluation partagée".into())
            },
        ));
    }
    if events.is_empty() {
        return Ok(());
    }
    save(ctx, &incident, now, &events).await
}

/// Computes the recovery plan for the incident's failed and partial assets, and
/// approves it: its steps become the incident's, and the incident moves to recovery.
pub async fn approve_plan(
    ctx: &Ctx<'_>,
    id: i64,
    minimal: bool,
    technicians: Option<u32>,
    actor: &str,
    now: Timestamp,
) -> AppResult<ApprovedPlan> {
    let mut incident = load(ctx, id).await?;
    if incident.doc.plan.is_some() {
        return Err(AppError::Invalid(format!(
            "incident {id} already has an approved plan"
        )));
    }
    let scope: Vec<String> = incident
        .doc
        .affected
        .iter()
        .filter(|a| a.state != AssetState::Working)
        .map(|a| a.asset.clone())
        .collect();
    let view = crate::plan::compute(
        ctx,
        &crate::plan::PlanOptions {
            simulate: scope,
            minimal,
            technicians,
        },
    )
    .await?;
    let steps = view
        .plan
        .steps
        .iter()
        .map(|s| {
            let (kind, datasets, procedure) = match &s.action {
                PlanAction::Restore {
                    datasets,
                    procedure,
                } => (
                    "restore",
                    datasets.clone(),
                    with_device_steps(ctx, &s.asset, procedure.clone()),
                ),
                PlanAction::Manual { procedure } => ("manual", vec![], Some(procedure.clone())),
                PlanAction::StandIn { action } => ("stand-in", vec![], Some(action.clone())),
            };
            let planned = view
                .estimates
                .iter()
                .find(|e| e.asset == s.asset)
                .map(|e| {
                    e.points
                        .iter()
                        .map(|p| PlannedRestore {
                            dataset: p.dataset.clone(),
                            snapshot: p.snapshot.clone(),
                            time: p.time,
                            verified: matches!(p.integrity, Integrity::Verified { .. }),
                        })
                        .collect()
                })
                .unwrap_or_default();
            StepRecord {
                position: s.position,
                asset: s.asset.clone(),
                name: s.name.clone(),
                wave: s.wave,
                tier: s.tier,
                reason: s.reason.clone(),
                reason_fr: s.reason_fr.clone(),
                kind: kind.into(),
                datasets,
                procedure,
                planned,
                after: s.after.clone(),
                predicted_seconds: s.predicted_seconds,
                rto_seconds: s.rto_seconds,
                status: StepStatus::Pending,
                started: None,
                finished: None,
                by: None,
                note: None,
                restored: vec![],
                forced: None,
                failure: None,
                checks: s
                    .checklist
                    .iter()
                    .map(|c| Check {
                        key: c.key.into(),
                        en: c.en.into(),
                        fr: c.fr.into(),
                        result: None,
                        note: None,
                        deadline: None,
                        by: None,
                        at: None,
                    })
                    .collect(),
            }
        })
        .collect();
    let plan = ApprovedPlan {
        approved_by: actor.to_string(),
        approved: now,
        minimal,
        technicians: view.plan.technicians,
        predicted_seconds: view.plan.total_seconds,
        steps,
    };
    incident.doc.plan = Some(plan.clone());
    let mut events = vec![event(
        id,
        now,
        "plan",
        Some(actor),
        (
            format!(
                "recovery plan approved: {} step(s) in {} wave(s), predicted {}",
                plan.steps.len(),
                view.plan.waves.len(),
                reprise_workspace::text::human(plan.predicted_seconds)
            ),
            format!(
                "plan de reprise approuvé : {} étape(s) en {} vague(s), durée prévue {}",
                plan.steps.len(),
                view.plan.waves.len(),
                reprise_workspace::text::human(plan.predicted_seconds)
            ),
        ),
    )];
    if incident.phase < Phase::Recovery {
        events.push(event(
            id,
            now,
            "phase",
            Some(actor),
            phase_change(incident.phase, Phase::Recovery),
        ));
        incident.phase = Phase::Recovery;
    }
    save(ctx, &incident, now, &events).await?;
    Ok(plan)
}

/// What to do with a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepMove {
    Start,
    /// Done once every check is recorded (passed, failed or reserved).
    Done,
    /// Done although some checks are not recorded; the note says why, and the report
    /// shows it.
    Force,
    Fail,
    Skip,
}

/// Where a restore step writes when no target is given: under the workspace, per
/// incident and asset, never over live data.
pub(crate) fn default_target(ctx: &Ctx<'_>, id: i64, asset: &str) -> PathBuf {
    ctx.workspace()
        .state_dir()
        .join("recovery")
        .join(format!("incident-{id}"))
        .join(asset)
}

/// Where a restore step writes, and with whose rights.
#[derive(Debug, Clone)]
pub struct StepTarget {
    /// A directory of the caller's; under `.reprise/recovery/` when `None`.
    pub dir: Option<PathBuf>,
    pub guard: reprise_ops::target::Guard,
    /// Replace what the directory holds. A failed step started again into Reprise's own
    /// recovery area always does: what is there is the failed attempt.
    pub overwrite: bool,
}

/// Moves a step. Starting a restore step runs its restores (each verified before it
/// writes) into `target`; finishing a step marks its asset working. A step starts only
/// once the steps it waits for are settled.
pub async fn step(
    ctx: &Ctx<'_>,
    id: i64,
    asset: &str,
    moved: StepMove,
    note: Option<&str>,
    target: StepTarget,
    actor: &str,
) -> AppResult<StepRecord> {
    let mut incident = load(ctx, id).await?;
    let plan = incident.doc.plan.as_mut().ok_or_else(|| {
        AppError::Invalid(format!(
            "incident {id} has no approved plan yet (`reprise incident plan {id} --approve`)"
        ))
    })?;
    let settled: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.status.is_settled())
        .map(|s| s.asset.clone())
        .collect();
    let step = plan
        .steps
        .iter_mut()
        .find(|s| s.asset == asset)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "asset `{asset}` has no step in the plan of incident {id}"
            ))
        })?;
    let mut events = Vec::new();
    let now = Timestamp::now();
    match moved {
        StepMove::Start => {
            if step.status != StepStatus::Pending && step.status != StepStatus::Failed {
                return Err(AppError::Invalid(format!(
                    "the step of `{asset}` is already {}",
                    step.status.as_str()
                )));
            }
            check_waiting(step, &settled)?;
            let retry = step.status == StepStatus::Failed;
            if retry {
                step.restored.clear();
                step.failure = None;
            }
            step.status = StepStatus::Running;
            step.started = Some(now);
            step.by = Some(actor.to_string());
            events.push(event(
                id,
                now,
                "step",
                Some(actor),
                (format!("{asset}: started"), format!("{asset} : démarré")),
            ));
            if step.kind == "restore" {
                restore_step(ctx, id, step, target, retry, actor, &mut events).await;
            }
        }
        StepMove::Done | StepMove::Force => {
            if step.status != StepStatus::Running {
                return Err(AppError::Invalid(format!(
                    "the step of `{asset}` is {}: start it first (`reprise incident step {id} {asset} start`)",
                    step.status.as_str()
                )));
            }
            let unchecked: Vec<&str> = step
                .checks
                .iter()
                .filter(|c| c.result.is_none())
                .map(|c| c.key.as_str())
                .collect();
            if moved == StepMove::Done && !unchecked.is_empty() {
                return Err(AppError::Invalid(format!(
                    "the step of `{asset}` has checks nobody recorded: {} (`reprise incident check {id} {asset} KEY pass|fail|reserved`, or `done --force --reason WHY`)",
                    unchecked.join(", ")
                )));
            }
            if moved == StepMove::Force {
                let Some(why) = note.filter(|n| !n.trim().is_empty()) else {
                    return Err(AppError::Invalid(
                        "say why the step is done without its checks, with --reason".into(),
                    ));
                };
                step.forced = Some(why.to_string());
            } else if let Some(n) = note {
                step.note = Some(n.to_string());
            }
            step.status = StepStatus::Done;
            step.finished = Some(now);
            let (text, text_fr) = match &step.forced {
                Some(why) if !unchecked.is_empty() => (
                    format!(
                        "{asset}: done without checks {}: {why}",
                        unchecked.join(", ")
                    ),
                    format!(
                        "{asset} : terminé sans les vérifications {} : {why}",
                        unchecked.join(", ")
                    ),
                ),
                _ => (format!("{asset}: done"), format!("{asset} : terminé")),
            };
            events.push(event(id, now, "step", Some(actor), (text, text_fr)));
            events.push(event(
                id,
                now,
                "state",
                Some(actor),
                state_change(asset, AssetState::Working),
            ));
        }
        StepMove::Fail | StepMove::Skip => {
            let Some(n) = note else {
                return Err(AppError::Invalid("say why, with --reason".into()));
            };
            step.status = if moved == StepMove::Fail {
                StepStatus::Failed
            } else {
                StepStatus::Skipped
            };
            step.finished = Some(now);
            step.note = Some(n.to_string());
            events.push(event(
                id,
                now,
                "step",
                Some(actor),
                (
                    format!("{asset}: {}: {n}", step.status.as_str()),
                    format!("{asset} : {} : {n}", step.status.label_fr()),
                ),
            ));
        }
    }
    let result = step.clone();
    if matches!(moved, StepMove::Done | StepMove::Force)
        && let Some(a) = incident.doc.affected.iter_mut().find(|a| a.asset == asset)
    {
        a.state = AssetState::Working;
    }
    note_recovered(&mut incident, now, actor, &mut events);
    save(ctx, &incident, now, &events).await?;
    // The state flows back: the asset is working again everywhere, not only in the
    // incident's evolution table.
    if matches!(moved, StepMove::Done | StepMove::Force) {
        reprise_ops::states::record(
            ctx,
            asset,
            AssetState::Working,
            reprise_ops::states::Observed {
                since: Some(now),
                note: Some(format!("incident {id}: step done")),
                by: actor.to_string(),
            },
        )
        .await?;
    }
    Ok(result)
}

/// Runs the restores of a restore step, each verified before it writes, recording what
/// each restored; the first failure fails the step and stops it.
async fn restore_step(
    ctx: &Ctx<'_>,
    id: i64,
    step: &mut StepRecord,
    target: StepTarget,
    retry: bool,
    actor: &str,
    events: &mut Vec<IncidentEvent>,
) {
    let asset = step.asset.clone();
    let asset = asset.as_str();
    let guard = target.guard.clone();
    let overwrite = target.overwrite || (retry && target.dir.is_none());
    let target = target.dir.unwrap_or_else(|| default_target(ctx, id, asset));
    let mut failure = None;
    for set in step.datasets.clone() {
        let snapshot = step
            .planned
            .iter()
            .find(|p| p.dataset == set)
            .map(|p| p.snapshot.clone());
        let opts = reprise_ops::restore::RestoreOptions {
            asset: asset.to_string(),
            dataset: Some(set.clone()),
            at: None,
            snapshot,
            path: None,
            target: target.join(&set),
            overwrite,
            verify: true,
            on_server: false,
            host_check: None,
            scratch: false,
            guard: guard.clone(),
        };
        match reprise_agents::fleet::restore(ctx, &opts).await {
            Ok(done) => {
                for r in done {
                    events.push(event(
                        id,
                        Timestamp::now(),
                        "step",
                        Some(actor),
                        (
                            format!(
                                "{asset}: restored {} from {} into {}",
                                r.dataset,
                                reprise_workspace::text::short(&r.snapshot),
                                r.target.display()
                            ),
                            format!(
                                "{asset} : {} restauré depuis {} dans {}",
                                r.dataset,
                                reprise_workspace::text::short(&r.snapshot),
                                r.target.display()
                            ),
                        ),
                    ));
                    step.restored.push(Restored {
                        dataset: r.dataset,
                        snapshot: r.snapshot,
                        time: r.time,
                        target: r.target.display().to_string(),
                        files: r.files,
                    });
                }
            }
            Err(e) => {
                step.failure = Some(failure_words(&set, &e));
                failure = Some(format!("{set}: {e}"));
                break;
            }
        }
    }
    if let Some(why) = failure {
        step.status = StepStatus::Failed;
        events.push(event(
            id,
            Timestamp::now(),
            "step",
            Some(actor),
            (
                format!("{asset}: failed: {why}"),
                format!("{asset} : échec : {why}"),
            ),
        ));
    }
}

/// What a report says of a failed restore, by the kind of failure, in English and
/// French: the next thing to do, never an internal path.
fn failure_words(dataset: &str, e: &AppError) -> (String, String) {
    use reprise_ops::error::ErrorKind;
    let (en, fr) = match e.kind() {
        ErrorKind::NotFound => (
            "no restore point to restore it from",
            "aucun point de restauration d'où le restaurer",
        ),
        ErrorKind::Conflict => (
            "the target already holds files: start the step again with --overwrite, or give another --target",
            "la cible contient déjà des fichiers : relancer l'étape avec --overwrite, ou une autre --target",
        ),
        ErrorKind::Refused => (
            "the target is a place a restore must not write",
            "la cible est un emplacement où une restauration ne doit pas écrire",
        ),
        ErrorKind::Busy => (
            "another operation held the asset or its repository: start the step again",
            "une autre opération tenait l'équipement ou son dépôt : relancer l'étape",
        ),
        ErrorKind::Invalid => (
            "the restore could not be started as asked",
            "la restauration n'a pu être lancée telle que demandée",
        ),
        ErrorKind::Failed => (
            "its data could not be read back and verified from any copy",
            "ses données n'ont pu être relues et vérifiées depuis aucune copie",
        ),
    };
    (format!("{dataset}: {en}"), format!("{dataset} : {fr}"))
}

/// A step starts only once the steps it waits for are settled.
fn check_waiting(step: &StepRecord, settled: &[String]) -> AppResult<()> {
    let asset = &step.asset;
    let waiting: Vec<&String> = step.after.iter().filter(|a| !settled.contains(a)).collect();
    if !waiting.is_empty() {
        return Err(AppError::Invalid(format!(
            "`{asset}` depends on {}, whose step is not done yet",
            waiting
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(())
}

/// Once every step is settled the recovery is complete: noted once, with its time.
fn note_recovered(
    incident: &mut Incident,
    now: Timestamp,
    actor: &str,
    events: &mut Vec<IncidentEvent>,
) {
    let id = incident.row.id;
    if incident
        .doc
        .plan
        .as_ref()
        .is_some_and(|p| p.steps.iter().all(|s| s.status.is_settled()))
        && incident.doc.recovered.is_none()
    {
        incident.doc.recovered = Some(now);
        events.push(event(
            id,
            now,
            "note",
            Some(actor),
            (
                "every step is settled: recovery complete".into(),
                "toutes les étapes sont réglées : reprise terminée".into(),
            ),
        ));
    }
}

/// One check's result, as a technician reports it.
#[derive(Debug, Clone)]
pub struct CheckInput {
    pub asset: String,
    pub key: String,
    /// `pass`, `fail` or `reserved` (English or French).
    pub result: String,
    pub note: Option<String>,
    /// By when a reservation is lifted.
    pub deadline: Option<jiff::civil::Date>,
}

/// Records the result of one check of a step's checklist.
pub async fn check(ctx: &Ctx<'_>, id: i64, input: &CheckInput, actor: &str) -> AppResult<Check> {
    let (asset, key, result, note, deadline) = (
        input.asset.as_str(),
        input.key.as_str(),
        input.result.as_str(),
        input.note.as_deref(),
        input.deadline,
    );
    let result = CheckResult::parse(result).ok_or_else(|| {
        AppError::Invalid(format!(
            "unknown result `{result}` (pass, fail or reserved)"
        ))
    })?;
    if result == CheckResult::Reserved && deadline.is_none() {
        return Err(AppError::Invalid(
            "a reservation needs a deadline (--deadline 2026-12-01)".into(),
        ));
    }
    let mut incident = load(ctx, id).await?;
    let now = Timestamp::now();
    let step = incident
        .doc
        .plan
        .as_mut()
        .and_then(|p| p.steps.iter_mut().find(|s| s.asset == asset))
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "asset `{asset}` has no step in the plan of incident {id}"
            ))
        })?;
    let keys: Vec<String> = step.checks.iter().map(|c| c.key.clone()).collect();
    let item = step
        .checks
        .iter_mut()
        .find(|c| c.key == key)
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "no check `{key}` for `{asset}` (checks: {})",
                keys.join(", ")
            ))
        })?;
    item.result = Some(result);
    item.note = note.map(str::to_string);
    item.deadline = deadline;
    item.by = Some(actor.to_string());
    item.at = Some(now);
    let done = item.clone();
    let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
    let text = (
        format!("{asset}/{key}: {}{note}", result.as_str()),
        format!("{asset}/{key} : {}{note}", result.label_fr()),
    );
    save(
        ctx,
        &incident,
        now,
        &[event(id, now, "check", Some(actor), text)],
    )
    .await?;
    Ok(done)
}

/// Drafts a status update from the plan's progress (R000.6, R004.6).
pub fn draft_update(incident: &Incident, fr: bool, tz: &jiff::tz::TimeZone) -> String {
    let steps: &[StepRecord] = incident.doc.plan.as_ref().map_or(&[], |p| &p.steps);
    let names = |status: &[StepStatus]| -> Vec<String> {
        steps
            .iter()
            .filter(|s| status.contains(&s.status))
            .map(|s| s.name.clone())
            .collect()
    };
    let done = names(&[StepStatus::Done]);
    let running = names(&[StepStatus::Running]);
    let failed = names(&[StepStatus::Failed]);
    let next: Vec<String> = steps
        .iter()
        .filter(|s| s.status == StepStatus::Pending)
        .take(3)
        .map(|s| s.name.clone())
        .collect();
    let remaining: u64 = steps
        .iter()
        .filter(|s| !s.status.is_settled())
        .map(|s| s.predicted_seconds)
        .sum();
    let end = Timestamp::now() + SignedDuration::from_secs(remaining as i64);
    let end = end
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string();
    let list = |v: &[String]| {
        if v.is_empty() {
            "—".to_string()
        } else {
            v.join(", ")
        }
    };
    let phase = if fr {
        incident.phase.label_fr()
    } else {
        incident.phase.as_str()
    };
    let (words, reached) = if fr {
        (
            [
                "phase :",
                "Rétablis :",
                "En cours :",
                "En échec :",
                "Ensuite :",
                "Fin prévue :",
            ],
            "atteinte",
        )
    } else {
        (
            [
                "phase:",
                "Restored:",
                "In progress:",
                "Failed:",
                "Next:",
                "Expected end:",
            ],
            "reached",
        )
    };
    let end = if remaining == 0 {
        reached.to_string()
    } else {
        end
    };
    format!(
        "Incident {} — {} ({}), {} {phase}.\n{} {}.\n{} {}.\n{} {}.\n{} {}.\n{} {end}.",
        incident.row.id,
        incident.row.title,
        incident.severity.as_str(),
        words[0],
        words[1],
        list(&done),
        words[2],
        list(&running),
        words[3],
        list(&failed),
        words[4],
        list(&next),
        words[5],
    )
}

/// Records an update as sent and sends it through the notification channels, to the
/// severity's audience (R001.3). `drafts`, the update drafted in English and in French
/// when `text` is one of them: each channel then reads it in its own `lang`. Returns the
/// delivery failures.
pub async fn send_update(
    ctx: &Ctx<'_>,
    id: i64,
    text: &str,
    drafts: Option<(&str, &str)>,
    actor: &str,
) -> AppResult<Vec<String>> {
    let mut incident = load(ctx, id).await?;
    let now = Timestamp::now();
    let audience: Vec<String> = incident
        .severity
        .audience()
        .iter()
        .map(|s| s.to_string())
        .collect();
    incident.doc.updates.push(Update {
        at: now,
        by: Some(actor.to_string()),
        audience: audience.clone(),
        text: text.to_string(),
    });
    save(
        ctx,
        &incident,
        now,
        &[event(
            id,
            now,
            "update",
            Some(actor),
            (
                format!("update sent to {}", audience.join(", ")),
                format!(
                    "point de situation envoyé à : {}",
                    audience
                        .iter()
                        .map(|a| match a.as_str() {
                            "team" => "équipe",
                            "management" => "direction",
                            other => other,
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        )],
    )
    .await?;
    // High severities reach channels that only take critical alerts (management).
    let severity = match incident.severity {
        Severity::Sev1 | Severity::Sev2 => "critical",
        Severity::Sev3 => "warning",
        Severity::Sev4 => "info",
    };
    // A text written by hand goes as written; a draft goes in each channel's language.
    let (text, text_fr) = match drafts {
        Some((en, fr)) => (en.to_string(), Some(fr.to_string())),
        None => (text.to_string(), None),
    };
    let message = reprise_ops::notify::Message {
        key: format!("incident:{id}:update"),
        severity: severity.into(),
        text,
        resolved: false,
        audience,
        text_fr,
    };
    Ok(reprise_ops::notify::send(
        ctx.workspace(),
        &ctx.inventory().notifiers,
        ctx.loaded.config.server.public_url.as_deref(),
        &[message],
    )
    .await)
}

/// The return-to-service report (PV, R000.5) as plain text: what is signed and hashed.
pub fn pv_text(
    incident: &Incident,
    fr: bool,
    tz: &jiff::tz::TimeZone,
    signer: Option<&str>,
) -> String {
    let time = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let mut out = String::new();
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    out.push_str(&format!(
        "{} — {} {}\n{}\n\n",
        l(
            "RETURN-TO-SERVICE REPORT",
            "PROCÈS-VERBAL DE REMISE EN SERVICE"
        ),
        l("incident", "incident"),
        incident.row.id,
        incident.row.title
    ));
    out.push_str(&format!(
        "{} {}   {} {}   {} {}\n",
        l("Severity:", "Gravité :"),
        incident.severity.as_str(),
        l("Opened:", "Ouvert :"),
        time(incident.row.opened),
        l("Recovered:", "Rétabli :"),
        incident.doc.recovered.map_or("—".into(), time)
    ));
    if let Some(c) = &incident.doc.roles.commander {
        out.push_str(&format!(
            "{} {c}\n",
            l("Incident commander:", "Commandant d'incident :")
        ));
    }
    let sections = pv_sections(incident);
    for ((en, f), mine) in &sections {
        out.push_str(&format!("\n{}\n", l(en, f).to_uppercase()));
        if mine.is_empty() {
            out.push_str(l("none\n", "aucun\n"));
        }
        for s in mine {
            pv_step(&mut out, s, fr, &time);
        }
    }
    out.push_str(&format!("\n{}\n", l("RESERVATIONS", "RÉSERVES")));
    let reservations = pv_reservations(&sections, fr);
    if reservations.is_empty() {
        out.push_str(l("none\n", "aucune\n"));
    } else {
        for r in reservations {
            out.push_str(&format!("- {r}\n"));
        }
    }
    if let Some(by) = signer {
        out.push_str(&format!(
            "\n{} {by}\n",
            l("Signed by the technician:", "Signé par le technicien :")
        ));
    }
    out
}

/// A section of the report: its heading (English, French) and its steps.
pub(crate) type Section<'a> = ((&'static str, &'static str), Vec<&'a StepRecord>);

/// The report's sections: the scope restored, always, even empty; then what was skipped,
/// failed or is not settled yet, when they hold a step.
pub(crate) fn pv_sections(incident: &Incident) -> Vec<Section<'_>> {
    let steps: &[StepRecord] = incident.doc.plan.as_ref().map_or(&[], |p| &p.steps);
    let sections: [((&'static str, &'static str), &[StepStatus]); 4] = [
        (("Scope restored", "Périmètre rétabli"), &[StepStatus::Done]),
        (("Skipped", "Non traité"), &[StepStatus::Skipped]),
        (("Failed", "En échec"), &[StepStatus::Failed]),
        (
            ("Not settled yet", "Pas encore réglé"),
            &[StepStatus::Pending, StepStatus::Running],
        ),
    ];
    sections
        .into_iter()
        .filter_map(|(headings, statuses)| {
            let mine: Vec<&StepRecord> = steps
                .iter()
                .filter(|s| statuses.contains(&s.status))
                .collect();
            (!mine.is_empty() || statuses == [StepStatus::Done]).then_some((headings, mine))
        })
        .collect()
}

/// What the report accepts with reservations, in the order of its sections: a step
/// declared done without all its checks, each check reserved (with its deadline), each
/// check left unrecorded on a step done.
pub(crate) fn pv_reservations(sections: &[Section<'_>], fr: bool) -> Vec<String> {
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    let mut out = Vec::new();
    for s in sections.iter().flat_map(|(_, steps)| steps) {
        if let Some(why) = &s.forced {
            out.push(format!(
                "{}{} {} {why}",
                s.name,
                l(":", " :"),
                l(
                    "done without all its checks:",
                    "terminé sans toutes ses vérifications :"
                )
            ));
        }
        for c in &s.checks {
            let label = if fr { &c.fr } else { &c.en };
            match c.result {
                Some(CheckResult::Reserved) => out.push(format!(
                    "{} / {label}{} {} {}{}",
                    s.name,
                    l(":", " :"),
                    l("by", "d'ici le"),
                    c.deadline.map_or("—".into(), |d| d.to_string()),
                    c.note
                        .as_ref()
                        .map(|n| format!(" — {n}"))
                        .unwrap_or_default()
                )),
                None if s.status == StepStatus::Done => out.push(format!(
                    "{} / {label}{} {}",
                    s.name,
                    l(":", " :"),
                    l("not checked", "non vérifié")
                )),
                _ => {}
            }
        }
    }
    out
}

/// One step of the report: its times, what was restored, each check.
fn pv_step(out: &mut String, s: &StepRecord, fr: bool, time: &dyn Fn(Timestamp) -> String) {
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    let status = if fr {
        s.status.label_fr()
    } else {
        s.status.as_str()
    };
    out.push_str(&format!(
        "- {} ({}){} {} — {} {} → {}\n",
        s.name,
        s.asset,
        l(":", " :"),
        status,
        l("from", "de"),
        s.started.map_or("—".into(), time),
        s.finished.map_or("—".into(), time)
    ));
    for r in &s.restored {
        out.push_str(&format!(
            "    {} {} ← {} ({}), {} {}\n",
            l("restored", "restauré"),
            r.dataset,
            reprise_workspace::text::short(&r.snapshot),
            time(r.time),
            r.files,
            l("file(s)", "fichier(s)")
        ));
    }
    if let Some(n) = &s.note {
        out.push_str(&format!("    {} {n}\n", l("note:", "note :")));
    }
    if let Some((en, fr_words)) = &s.failure {
        out.push_str(&format!(
            "    {} {}\n",
            l("failed:", "échec :"),
            if fr { fr_words } else { en }
        ));
    }
    if let Some(why) = &s.forced {
        out.push_str(&format!(
            "    {} {why}\n",
            l(
                "declared done without all its checks:",
                "déclaré terminé sans toutes ses vérifications :"
            )
        ));
    }
    for c in &s.checks {
        let label = if fr { &c.fr } else { &c.en };
        let result = match c.result {
            Some(r) => {
                if fr {
                    r.label_fr()
                } else {
                    r.as_str()
                }
            }
            None => l("NOT CHECKED", "NON VÉRIFIÉ"),
        };
        out.push_str(&format!("    [{result}] {label}"));
        if let Some(n) = &c.note {
            out.push_str(&format!(" — {n}"));
        }
        out.push('\n');
    }
}

/// SHA-256 of a report's text, as hex.
pub fn sha256(text: &str) -> String {
    reprise_workspace::text::hex(&Sha256::digest(text.as_bytes()))
}

/// Signs the report: records who, when and the hash of its text, and moves the
/// incident to review. Returns the signed text.
pub async fn sign(
    ctx: &Ctx<'_>,
    id: i64,
    by: &str,
    fr: bool,
    tz: &jiff::tz::TimeZone,
) -> AppResult<(String, SignOff)> {
    let mut incident = load(ctx, id).await?;
    let now = Timestamp::now();
    let steps = incident.doc.plan.as_ref().map_or(0, |p| p.steps.len());
    if steps == 0 {
        return Err(AppError::Invalid(format!(
            "incident {id} has no approved plan: nothing to sign"
        )));
    }
    let unsettled: Vec<String> = incident
        .doc
        .plan
        .iter()
        .flat_map(|p| p.steps.iter())
        .filter(|s| !s.status.is_settled())
        .map(|s| s.asset.clone())
        .collect();
    if !unsettled.is_empty() {
        return Err(AppError::Invalid(format!(
            "the report can be signed once every step is done or skipped (still open: {})",
            unsettled.join(", ")
        )));
    }
    let text = pv_text(&incident, fr, tz, Some(by));
    let sign_off = SignOff {
        by: by.to_string(),
        at: now,
        lang: if fr { "fr" } else { "en" }.into(),
        sha256: sha256(&text),
    };
    incident.doc.sign_off = Some(sign_off.clone());
    let mut events = vec![event(
        id,
        now,
        "sign-off",
        Some(by),
        (
            format!(
                "return-to-service report signed (sha256 {})",
                sign_off.sha256
            ),
            format!(
                "procès-verbal de remise en service signé (sha256 {})",
                sign_off.sha256
            ),
        ),
    )];
    if incident.phase < Phase::Review {
        events.push(event(
            id,
            now,
            "phase",
            Some(by),
            phase_change(incident.phase, Phase::Review),
        ));
        incident.phase = Phase::Review;
    }
    save(ctx, &incident, now, &events).await?;
    Ok((text, sign_off))
}

/// The review (R000.7, R001.6): root cause, preventive actions (into the risk
/// register), and closing.
pub async fn review(
    ctx: &Ctx<'_>,
    id: i64,
    root_cause: Option<&str>,
    actions: &[Action],
    done: &[usize],
    close: bool,
    actor: &str,
) -> AppResult<()> {
    let mut incident = load(ctx, id).await?;
    let now = Timestamp::now();
    let review = incident.doc.review.get_or_insert(Review {
        root_cause: None,
        actions: vec![],
        held: None,
    });
    let mut events = Vec::new();
    if let Some(c) = root_cause {
        review.root_cause = Some(c.to_string());
        events.push(event(
            id,
            now,
            "review",
            Some(actor),
            (format!("root cause: {c}"), format!("cause racine : {c}")),
        ));
    }
    for a in actions {
        review.actions.push(a.clone());
        events.push(event(
            id,
            now,
            "review",
            Some(actor),
            (
                format!("action: {} ({}, {})", a.text, a.owner, a.due),
                format!("action : {} ({}, {})", a.text, a.owner, a.due),
            ),
        ));
    }
    for &n in done {
        let count = review.actions.len();
        let action = review.actions.get_mut(n.wrapping_sub(1)).ok_or_else(|| {
            AppError::Invalid(format!("incident {id} has no action {n} (it has {count})"))
        })?;
        action.done = Some(now);
        events.push(event(
            id,
            now,
            "review",
            Some(actor),
            (
                format!("action done: {}", action.text),
                format!("action réalisée : {}", action.text),
            ),
        ));
    }
    review.held = Some(now);
    if close {
        if review.root_cause.is_none() {
            return Err(AppError::Invalid(
                "a review closes with its root cause (--root-cause)".into(),
            ));
        }
        events.push(event(
            id,
            now,
            "phase",
            Some(actor),
            phase_change(incident.phase, Phase::Closed),
        ));
        incident.phase = Phase::Closed;
    }
    save(ctx, &incident, now, &events).await
}

/// Actual against target recovery time per asset: from the incident's opening to the
/// end of its step, against its RTO.
pub fn recovery_times(incident: &Incident) -> Vec<(String, Option<i64>, Option<u64>)> {
    incident
        .doc
        .plan
        .iter()
        .flat_map(|p| p.steps.iter())
        .map(|s| {
            (
                s.asset.clone(),
                s.finished
                    .map(|f| f.duration_since(incident.row.opened).as_secs()),
                s.rto_seconds,
            )
        })
        .collect()
}

/// The asset's procedure, followed for each device data set by how its restored
/// configuration goes back on the device (the model's steps, and `--apply`).
fn with_device_steps(ctx: &Ctx<'_>, asset: &str, procedure: Option<String>) -> Option<String> {
    let mut parts: Vec<String> = procedure.into_iter().collect();
    for d in reprise_ops::devices::all(ctx)
        .iter()
        .filter(|d| d.asset.id.as_str() == asset)
    {
        let file = reprise_ops::devices::file_name(d);
        let steps = reprise_domain::device::push_steps(&d.model, d.collect, &file);
        if steps.is_empty() {
            continue;
        }
        let mut text = format!(
            "Load the restored {file} back on {} ({}): {}",
            d.collect.address,
            d.model.name,
            steps.join("; ")
        );
        if d.model.apply.is_some() {
            text.push_str(&format!(
                " — or let Reprise push it: reprise devices push {asset} --dataset {} --target DIR --apply",
                d.set.name
            ));
        }
        parts.push(text);
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}
