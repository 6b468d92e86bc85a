//! `reprise incident …`: open, show, assess, plan, run steps, check, update, sign the
//! return-to-service report, review.

use jiff::Timestamp;
use reprise_domain::incident::{Action, CheckResult, StepStatus};
use reprise_recovery::incident::{self, NewIncident, StepMove};

use reprise_ops::context::Ctx;

use super::Session;
use crate::cli::{
    Global, IncidentCommand, Lang, OpenIncident, PlanIncident, PvIncident, ReviewIncident,
    StepAction, StepIncident,
};
use crate::exit::{self, UsageError};
use crate::output::{Table, local_time, print_json};

pub async fn run(global: &Global, cmd: IncidentCommand) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let tz = &session.tz;
    let who = super::acting_user();
    match cmd {
        IncidentCommand::Open(args) => return open(&ctx, tz, who.clone(), args).await,
        IncidentCommand::List { all, json } => {
            let rows = ctx.catalog.incidents(!all).await?;
            if json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("No open incident.");
            } else {
                let mut table = Table::new(&["ID", "OPENED", "SEVERITY", "PHASE", "TITLE"]);
                for r in &rows {
                    table.row(vec![
                        r.id.to_string(),
                        local_time(r.opened, tz),
                        r.severity.clone(),
                        r.phase.clone(),
                        r.title.clone(),
                    ]);
                }
                print!("{}", table.render());
            }
        }
        IncidentCommand::Show { id, lang, json } => {
            let view = incident::show(&ctx, id, Timestamp::now()).await?;
            if json {
                print_json(&view)?;
            } else {
                print_incident(&view, lang == Lang::Fr, tz);
            }
        }
        IncidentCommand::Phase { id, phase } => {
            let to = reprise_domain::incident::Phase::parse(&phase).ok_or_else(|| {
                UsageError(format!(
                    "unknown phase `{phase}` (assessment, containment, recovery, review, closed)"
                ))
            })?;
            incident::set_phase(&ctx, id, to, Some(&who), Timestamp::now()).await?;
            println!("Incident {id} is now in {}.", to.as_str());
        }
        IncidentCommand::Assign { id, role, name } => {
            incident::assign(&ctx, id, &role, &name, Some(&who), Timestamp::now()).await?;
            println!("Incident {id}: {role} is {name}.");
        }
        IncidentCommand::Assess {
            id,
            asset,
            nature,
            state,
            since,
            note,
            share,
        } => {
            let state = state
                .map(|s| {
                    reprise_domain::AssetState::parse(&s)
                        .map_err(|e| UsageError(format!("--state: {e}")))
                })
                .transpose()?;
            let since = since
                .map(|t| super::restore::parse_time(&t, tz))
                .transpose()?;
            let edit = incident::AssessmentEdit {
                asset,
                nature,
                state,
                since,
                note,
                share,
            };
            incident::edit_assessment(&ctx, id, &edit, Some(&who), Timestamp::now()).await?;
            let view = incident::show(&ctx, id, Timestamp::now()).await?;
            print_assessment(&view, false, tz);
        }
        IncidentCommand::Plan(args) => return plan(&ctx, tz, who.clone(), args).await,
        IncidentCommand::Step(args) => return step(&ctx, tz, who.clone(), args).await,
        IncidentCommand::Check {
            id,
            asset,
            key,
            result,
            note,
            deadline,
        } => {
            let deadline = deadline
                .map(|d| {
                    reprise_workspace::dates::parse_date(&d).ok_or_else(|| {
                        UsageError(format!("--deadline: `{d}` is not a date (2026-12-01)"))
                    })
                })
                .transpose()?;
            let input = incident::CheckInput {
                asset: asset.clone(),
                key,
                result,
                note,
                deadline,
            };
            let check = incident::check(&ctx, id, &input, &who).await?;
            println!(
                "{asset}/{}: {}",
                check.key,
                check.result.map_or("-", CheckResult::as_str)
            );
        }
        IncidentCommand::Update {
            id,
            lang,
            text,
            send,
        } => {
            let inc = incident::load(&ctx, id).await?;
            // Without a text of one's own, each channel reads the draft in its language.
            let drafts = text.is_none().then(|| {
                (
                    incident::draft_update(&inc, false, tz),
                    incident::draft_update(&inc, true, tz),
                )
            });
            let text = match (&text, &drafts) {
                (Some(t), _) => t.clone(),
                (None, Some((en, fr))) => if lang == Lang::Fr { fr } else { en }.clone(),
                (None, None) => unreachable!("a draft is made when no text is given"),
            };
            println!("{text}");
            if send {
                let both = drafts.as_ref().map(|(en, fr)| (en.as_str(), fr.as_str()));
                let failures = incident::send_update(&ctx, id, &text, both, &who).await?;
                for f in &failures {
                    eprintln!("warning: {f}");
                }
                println!(
                    "\nSent to {} ({} channel(s)).",
                    inc.severity.audience().join(", "),
                    ctx.inventory().notifiers.len()
                );
            } else {
                println!("\n(a draft: `--send` sends it, `--text` replaces it)");
            }
        }
        IncidentCommand::Pv(args) => return pv(&ctx, tz, args).await,
        IncidentCommand::Review(args) => return review(&ctx, tz, who.clone(), args).await,
        IncidentCommand::Risks { json } => return risks(&ctx, json).await,
    }
    Ok(exit::SUCCESS)
}

/// Opens an incident, its damage assessment generated at once.
async fn open(
    ctx: &Ctx<'_>,
    tz: &jiff::tz::TimeZone,
    who: String,
    args: OpenIncident,
) -> anyhow::Result<u8> {
    let OpenIncident {
        title,
        severity,
        assets,
        source,
        nature,
        personal_data,
        detected,
        since,
        commander,
        json,
    } = args;
    let detected = detected
        .map(|t| super::restore::parse_time(&t, tz))
        .transpose()?;
    let since = since
        .map(|t| super::restore::parse_time(&t, tz))
        .transpose()?;
    let new = NewIncident {
        detected,
        since,
        title,
        severity: Some(severity),
        assets,
        source,
        nature,
        personal_data,
        commander,
    };
    let id = incident::open(ctx, &new, Some(&who), Timestamp::now()).await?;
    let view = incident::show(ctx, id, Timestamp::now()).await?;
    if json {
        print_json(&view)?;
    } else {
        println!(
            "Opened incident {id}: {} ({})",
            view.incident.row.title,
            view.incident.severity.as_str()
        );
        print_assessment(&view, false, tz);
        println!(
            "\nNext: `reprise incident plan {id}` to see the recovery plan, `--approve` to start it."
        );
    }
    Ok(exit::SUCCESS)
}

/// Shows the recovery plan of an incident, or approves it.
async fn plan(
    ctx: &Ctx<'_>,
    tz: &jiff::tz::TimeZone,
    who: String,
    args: PlanIncident,
) -> anyhow::Result<u8> {
    let PlanIncident {
        id,
        approve,
        minimal,
        technicians,
        lang,
        json,
    } = args;
    if approve {
        let plan =
            incident::approve_plan(ctx, id, minimal, technicians, &who, Timestamp::now()).await?;
        if json {
            print_json(&plan)?;
        } else {
            println!(
                "Incident {id}: recovery plan approved by {who}: {} step(s), predicted {}. The incident is in recovery.",
                plan.steps.len(),
                reprise_workspace::text::human(plan.predicted_seconds)
            );
            println!(
                "Next: `reprise incident step {id} {} start`.",
                plan.steps[0].asset
            );
        }
    } else {
        let inc = incident::load(ctx, id).await?;
        let scope: Vec<String> = inc
            .doc
            .affected
            .iter()
            .filter(|a| a.state != reprise_domain::AssetState::Working)
            .map(|a| a.asset.clone())
            .collect();
        let view = reprise_recovery::plan::compute(
            ctx,
            &reprise_recovery::plan::PlanOptions {
                simulate: scope,
                minimal,
                technicians,
            },
        )
        .await?;
        if json {
            print_json(&view)?;
        } else {
            super::plan::print(&view, lang == Lang::Fr, tz);
            println!("\nApprove it with `reprise incident plan {id} --approve`.");
        }
    }
    Ok(exit::SUCCESS)
}

/// Moves a step; starting a restore step runs its restores.
async fn step(
    ctx: &Ctx<'_>,
    tz: &jiff::tz::TimeZone,
    who: String,
    args: StepIncident,
) -> anyhow::Result<u8> {
    let StepIncident {
        id,
        asset,
        action,
        reason,
        force,
        overwrite,
        target,
    } = args;
    let moved = match (action, force) {
        (StepAction::Done, true) => StepMove::Force,
        (_, true) => return Err(UsageError("--force goes with `done` only".into()).into()),
        (StepAction::Start, false) => StepMove::Start,
        (StepAction::Done, false) => StepMove::Done,
        (StepAction::Fail, false) => StepMove::Fail,
        (StepAction::Skip, false) => StepMove::Skip,
    };
    let step = incident::step(
        ctx,
        id,
        &asset,
        moved,
        reason.as_deref(),
        incident::StepTarget {
            dir: target,
            guard: reprise_ops::target::Guard::admin(),
            overwrite,
        },
        &who,
    )
    .await?;
    println!("{}: {}", step.asset, step.status.as_str());
    let shown: &[reprise_domain::incident::Restored] = if moved == StepMove::Start {
        &step.restored
    } else {
        &[]
    };
    for r in shown {
        println!(
            "  restored {} from {} ({}) into {} — {} file(s), verified before writing",
            r.dataset,
            reprise_workspace::text::short(&r.snapshot),
            local_time(r.time, tz),
            r.target,
            r.files
        );
    }
    if step.status == StepStatus::Failed {
        let why = step.failure.as_ref().map(|(en, _)| en.as_str());
        eprintln!(
            "error: {} (the timeline has the details: `reprise incident show {id}`)",
            why.or(step.note.as_deref()).unwrap_or("the step failed")
        );
        return Ok(exit::FAILURE);
    }
    if step.status == StepStatus::Running {
        if let Some(p) = &step.procedure {
            println!("  then: {p}");
        }
        let keys: Vec<&str> = step.checks.iter().map(|c| c.key.as_str()).collect();
        println!(
            "  checks: {} (`reprise incident check {id} {asset} KEY pass|fail|reserved`), then `reprise incident step {id} {asset} done`",
            keys.join(", ")
        );
    }
    Ok(exit::SUCCESS)
}

/// The return-to-service report: shown, signed, written as text, HTML or PDF.
async fn pv(ctx: &Ctx<'_>, tz: &jiff::tz::TimeZone, args: PvIncident) -> anyhow::Result<u8> {
    let PvIncident {
        id,
        sign,
        lang,
        out,
        html,
        pdf,
    } = args;
    let fr = lang == Lang::Fr;
    let (text, sign_off) = match &sign {
        Some(name) => {
            let (text, s) = incident::sign(ctx, id, name, fr, tz).await?;
            (text, Some(s))
        }
        None => {
            let inc = incident::load(ctx, id).await?;
            let signer = inc.doc.sign_off.as_ref().map(|s| s.by.clone());
            let text = incident::pv_text(&inc, fr, tz, signer.as_deref());
            (text, inc.doc.sign_off.clone())
        }
    };
    if let Some(path) = &out {
        std::fs::write(path, &text)?;
    }
    if let Some(path) = &html {
        std::fs::write(path, pv_html(&text, sign_off.as_ref(), fr, tz))?;
    }
    if let Some(path) = &pdf {
        let inc = incident::load(ctx, id).await?;
        std::fs::write(path, reprise_recovery::pv::pdf(ctx, &inc, &text, fr, tz)?)?;
    }
    if out.is_none() && html.is_none() && pdf.is_none() {
        print!("{text}");
    }
    match &sign_off {
        Some(s) => {
            let matches = incident::sha256(&text) == s.sha256;
            println!(
                "\nSigned by {} on {} — SHA-256 {}{}",
                s.by,
                local_time(s.at, tz),
                s.sha256,
                if matches {
                    ""
                } else {
                    " (signed in the other language: this text differs)"
                }
            );
            if let Some(path) = &out {
                println!("Check it: sha256sum {}", path.display());
            }
        }
        None => println!("\nNot signed yet: `reprise incident pv {id} --sign NAME`."),
    }
    Ok(exit::SUCCESS)
}

/// The post-incident review: root cause, actions, closing.
async fn review(
    ctx: &Ctx<'_>,
    tz: &jiff::tz::TimeZone,
    who: String,
    args: ReviewIncident,
) -> anyhow::Result<u8> {
    let ReviewIncident {
        id,
        root_cause,
        actions,
        done,
        close,
        lang,
    } = args;
    let mut parsed = Vec::new();
    for a in &actions {
        let parts: Vec<&str> = a.split('|').map(str::trim).collect();
        let [text, owner, due] = parts.as_slice() else {
            return Err(UsageError(format!(
                "--action `{a}`: write `what|owner|due date`, e.g. `Add a UPS|Mohamed|2026-12-15`"
            ))
            .into());
        };
        let due = reprise_workspace::dates::parse_date(due)
            .ok_or_else(|| UsageError(format!("--action `{a}`: `{due}` is not a date")))?;
        parsed.push(Action {
            text: text.to_string(),
            owner: owner.to_string(),
            due,
            done: None,
        });
    }
    incident::review(ctx, id, root_cause.as_deref(), &parsed, &done, close, &who).await?;
    let inc = incident::load(ctx, id).await?;
    print_review(&inc, lang == Lang::Fr, tz);
    Ok(exit::SUCCESS)
}

/// The risk register: every review action still open.
async fn risks(ctx: &Ctx<'_>, json: bool) -> anyhow::Result<u8> {
    let mut register = Vec::new();
    for row in ctx.catalog.incidents(false).await? {
        let inc = incident::load(ctx, row.id).await?;
        for (n, a) in inc
            .doc
            .review
            .iter()
            .flat_map(|r| r.actions.iter())
            .enumerate()
        {
            register.push(serde_json::json!({
                "incident": row.id,
                "number": n + 1,
                "title": row.title,
                "action": a.text,
                "owner": a.owner,
                "due": a.due,
                "done": a.done,
            }));
        }
    }
    if json {
        print_json(&register)?;
    } else if register.is_empty() {
        println!("The risk register is empty: reviews add their preventive actions to it.");
    } else {
        let mut table = Table::new(&["DUE", "OWNER", "ACTION", "STATUS", "INCIDENT/N"]);
        for r in &register {
            let status = if r["done"].is_null() { "open" } else { "done" };
            table.row(vec![
                r["due"].as_str().unwrap_or("").to_string(),
                r["owner"].as_str().unwrap_or("").to_string(),
                r["action"].as_str().unwrap_or("").to_string(),
                status.to_string(),
                format!("{}/{}", r["incident"], r["number"]),
            ]);
        }
        print!("{}", table.render());
    }
    Ok(exit::SUCCESS)
}

fn age(seconds: i64) -> String {
    reprise_workspace::text::human(seconds.max(0) as u64)
}

fn print_assessment(view: &incident::IncidentView, fr: bool, tz: &jiff::tz::TimeZone) {
    let Some(a) = &view.incident.doc.assessment else {
        return;
    };
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    let shared = match (a.shared, view.deadlines.assessment_shared_in_time) {
        (Some(at), Some(true)) => format!("{} {}", l("shared", "partagée le"), local_time(at, tz)),
        (Some(at), _) => format!(
            "{} {} ({})",
            l("shared", "partagée le"),
            local_time(at, tz),
            l("LATE", "EN RETARD")
        ),
        (None, Some(false)) => l(
            "NOT SHARED, deadline passed",
            "NON PARTAGÉE, échéance dépassée",
        )
        .to_string(),
        (None, _) => format!(
            "{} {}",
            l("to share by", "à partager avant"),
            local_time(a.deadline, tz)
        ),
    };
    println!(
        "\n{} ({shared})",
        l("Damage assessment", "Évaluation des dommages")
    );
    for line in &a.assets {
        println!(
            "  {} [{}]{}",
            line.asset,
            line.state.as_str(),
            line.nature
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
        if !line.degraded_dependents.is_empty() {
            println!(
                "      {} {}",
                l("degraded with it:", "dégradés avec lui :"),
                line.degraded_dependents.join(", ")
            );
        }
        match line.data_at_risk_seconds {
            Some(s) => println!(
                "      {} {} ({})",
                l(
                    "data at risk: last verified restore point",
                    "données à risque : dernier point vérifié il y a"
                ),
                age(s),
                line.last_verified
                    .map_or(String::new(), |t| local_time(t, tz))
            ),
            None => println!(
                "      {}",
                l(
                    "data at risk: NO verified restore point",
                    "données à risque : AUCUN point vérifié"
                )
            ),
        }
        if let (Some(since), Some(why)) = (line.suspect_since, &line.suspect_reason) {
            println!(
                "      {} {} — {why}",
                l(
                    "SUSPECT since the backup of",
                    "SUSPECT depuis la sauvegarde du"
                ),
                local_time(since, tz)
            );
            println!(
                "      {} {}",
                l("last clean point:", "dernier point sain :"),
                line.last_verified
                    .map_or(l("none verified", "aucun vérifié").to_string(), |t| {
                        local_time(t, tz)
                    })
            );
        }
        if let Some(c) = line.predates_change {
            println!(
                "      {} {}",
                l(
                    "that point predates its configuration change of",
                    "ce point précède son changement de configuration du"
                ),
                local_time(c, tz)
            );
        }
    }
    for n in &a.notes {
        println!("  {} {n}", l("note:", "note :"));
    }
}

fn print_incident(view: &incident::IncidentView, fr: bool, tz: &jiff::tz::TimeZone) {
    let inc = &view.incident;
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    println!(
        "{} {} — {} ({}), {}: {}",
        l("Incident", "Incident"),
        inc.row.id,
        inc.row.title,
        inc.severity.as_str(),
        l("phase", "phase"),
        if fr {
            inc.phase.label_fr()
        } else {
            inc.phase.as_str()
        }
    );
    println!(
        "{}: {}{}",
        l("Opened", "Ouvert"),
        local_time(inc.row.opened, tz),
        inc.row
            .source
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    );
    let r = &inc.doc.roles;
    let name = |n: &Option<String>| n.clone().unwrap_or_else(|| "—".into());
    println!(
        "{}: {}; {}: {} / {}; {}: {}; {}: {}",
        l("Commander", "Commandant"),
        name(&r.commander),
        l("on call", "astreinte"),
        name(&r.primary_oncall),
        name(&r.secondary_oncall),
        l("communications", "communication"),
        name(&r.communications),
        l("technicians", "techniciens"),
        if r.technicians.is_empty() {
            "—".into()
        } else {
            r.technicians.join(", ")
        }
    );
    if let Some(due) = view.deadlines.next_update_due {
        println!(
            "{} {}{}",
            l("Next update due", "Prochain point d'avancement"),
            local_time(due, tz),
            if view.deadlines.update_late {
                l(" — LATE", " — EN RETARD")
            } else {
                ""
            }
        );
    }
    if let Some(g) = view.deadlines.gdpr_deadline {
        println!(
            "{} {}",
            l(
                "GDPR notification deadline (72 h):",
                "Échéance de notification RGPD (72 h) :"
            ),
            local_time(g, tz)
        );
    }
    if let Some(r) = view.deadlines.review_due {
        println!(
            "{} {}",
            l("Review due", "Retour d'expérience avant le"),
            local_time(r, tz)
        );
    }
    print_assessment(view, fr, tz);
    if let Some(plan) = &inc.doc.plan {
        println!(
            "\n{} ({} {}, {})",
            l("Recovery plan", "Plan de reprise"),
            l("approved by", "approuvé par"),
            plan.approved_by,
            local_time(plan.approved, tz)
        );
        for s in &plan.steps {
            let checked = s.checks.iter().filter(|c| c.result.is_some()).count();
            println!(
                "  {:>2}. {} {} [{}]  {} {}/{}",
                s.position,
                l("wave", "vague"),
                s.wave,
                if fr {
                    s.status.label_fr()
                } else {
                    s.status.as_str()
                },
                s.asset,
                checked,
                s.checks.len()
            );
        }
    }
    if !view.evolution.is_empty() {
        println!("\n{}", l("Evolution (R004.4)", "Évolution (R004.4)"));
        for c in &view.evolution {
            println!(
                "  {}  {}  {}",
                local_time(c.at, tz),
                c.asset,
                if fr {
                    c.state.label_fr()
                } else {
                    c.state.as_str()
                }
            );
        }
    }
    println!("\n{}", l("Timeline", "Chronologie"));
    for e in &view.timeline {
        println!(
            "  {}  {:<10} {}{}",
            local_time(e.at, tz),
            e.kind,
            if fr {
                e.text_fr.as_deref().unwrap_or(&e.text)
            } else {
                &e.text
            },
            e.actor
                .as_ref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        );
    }
}

fn print_review(inc: &incident::Incident, fr: bool, tz: &jiff::tz::TimeZone) {
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    println!(
        "{} {} — {}",
        l("Review of incident", "Retour d'expérience de l'incident"),
        inc.row.id,
        inc.row.title
    );
    if let Some(r) = &inc.doc.review {
        println!(
            "{} {}",
            l("Root cause:", "Cause racine :"),
            r.root_cause.as_deref().unwrap_or("—")
        );
        println!(
            "{}",
            l(
                "Actual against target recovery time:",
                "Temps de reprise réel / objectif :"
            )
        );
        for (asset, actual, target) in incident::recovery_times(inc) {
            let verdict = match (actual, target) {
                (Some(a), Some(t)) if a as u64 <= t => "✓",
                (Some(_), Some(_)) => "✗",
                _ => " ",
            };
            println!(
                "  {verdict} {asset}: {} / RTO {}",
                actual.map_or("—".into(), age),
                target.map_or("—".into(), reprise_workspace::text::human)
            );
        }
        if !r.actions.is_empty() {
            println!(
                "{}",
                l(
                    "Preventive actions (risk register):",
                    "Actions préventives (registre des risques) :"
                )
            );
            for a in &r.actions {
                println!(
                    "  - {} ({}, {} {})",
                    a.text,
                    a.owner,
                    l("due", "échéance"),
                    a.due
                );
            }
        }
    }
    println!(
        "{} {}",
        l("Phase:", "Phase :"),
        if fr {
            inc.phase.label_fr()
        } else {
            inc.phase.as_str()
        }
    );
    let _ = tz;
}

/// The report as one self-contained HTML page: the signed text, with the signature and
/// how to check it.
fn pv_html(
    text: &str,
    sign_off: Option<&reprise_domain::incident::SignOff>,
    fr: bool,
    tz: &jiff::tz::TimeZone,
) -> String {
    let escape = crate::output::escape_html;
    let signature = match sign_off {
        Some(s) => format!(
            "<p class=\"sig\">{} <strong>{}</strong> — {}<br>SHA-256: <code>{}</code><br><small>{}</small></p>",
            if fr { "Signé par" } else { "Signed by" },
            escape(&s.by),
            escape(&local_time(s.at, tz)),
            s.sha256,
            if fr {
                "L'empreinte porte sur le texte ci-dessus (reprise incident pv --out pv.txt, puis sha256sum pv.txt)."
            } else {
                "The hash covers the text above (reprise incident pv --out pv.txt, then sha256sum pv.txt)."
            }
        ),
        None => format!(
            "<p class=\"sig\">{}</p>",
            if fr { "Non signé." } else { "Not signed." }
        ),
    };
    crate::output::report_html(text, &signature, fr)
}
