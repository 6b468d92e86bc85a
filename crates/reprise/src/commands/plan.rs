//! `reprise plan [--simulate ASSET…] [--minimal] [--technicians N] [--lang fr] [--json]`.

use reprise_domain::plan::Action;
use reprise_recovery::plan::PlanOptions;
use reprise_workspace::text::human;

use super::Session;
use crate::cli::{Global, Lang};
use crate::exit;
use crate::output::{local_time, print_json};

pub async fn run(global: &Global, opts: PlanOptions, lang: Lang, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let view = reprise_recovery::plan::compute(&session.ctx(), &opts).await?;
    if json {
        print_json(&view)?;
        return Ok(exit::SUCCESS);
    }
    print(&view, lang == Lang::Fr, &session.tz);
    Ok(exit::SUCCESS)
}

/// Renders a plan for people.
pub fn print(view: &reprise_recovery::plan::PlanView, fr: bool, tz: &jiff::tz::TimeZone) {
    let plan = &view.plan;
    let t = |en: &'static str, fr_text: &'static str| if fr { fr_text } else { en };
    let title = match (view.simulated, plan.minimal) {
        (_, true) => t("Minimal continuity plan", "Plan de continuité minimal"),
        (true, false) => t("Simulated recovery plan", "Plan de reprise simulé"),
        (false, false) => t("Recovery plan", "Plan de reprise"),
    };
    println!(
        "{title} — {} {}, {} {}, {} {}, {} {}",
        plan.steps.len(),
        t("asset(s)", "élément(s)"),
        plan.waves.len(),
        t("wave(s)", "vague(s)"),
        plan.technicians,
        t("technician(s)", "technicien(s)"),
        t("predicted", "durée prévue"),
        human(plan.total_seconds)
    );
    println!(
        "{} {}",
        t("Critical path:", "Chemin critique :"),
        plan.critical_path.join(" → ")
    );
    for wave in &plan.waves {
        println!(
            "\n{} {} ({} {})  +{} → +{}",
            t("WAVE", "VAGUE"),
            wave.number,
            t("tier", "niveau"),
            wave.tier,
            human(wave.start_seconds),
            human(wave.end_seconds)
        );
        for step in plan.steps.iter().filter(|s| s.wave == wave.number) {
            let estimate = view.estimates.iter().find(|e| e.asset == step.asset);
            let rto = match (step.rto_seconds, step.rto_met) {
                (Some(r), Some(true)) => format!("RTO {} ✓", human(r)),
                (Some(r), _) => format!("RTO {} ✗ {}", human(r), t("AT RISK", "EN RISQUE")),
                (None, _) => t("no RTO", "pas de RTO").to_string(),
            };
            println!(
                "  {:>2}. {}  {}  [{}]  {}  {}",
                step.position,
                step.asset,
                step.name,
                step.state.as_str(),
                human(step.predicted_seconds),
                rto
            );
            match &step.action {
                Action::Restore {
                    datasets,
                    procedure,
                } => {
                    for set in datasets {
                        let point =
                            estimate.and_then(|e| e.points.iter().find(|p| &p.dataset == set));
                        match point {
                            Some(p) => println!(
                                "      {} {set} ← {} ({}, {}, {})",
                                t("restore", "restaurer"),
                                reprise_workspace::text::short(&p.snapshot),
                                local_time(p.time, tz),
                                p.repository,
                                integrity(&p.integrity, fr)
                            ),
                            None => println!(
                                "      {} {set}: {}",
                                t("restore", "restaurer"),
                                t("NO RESTORE POINT", "AUCUN POINT DE RESTAURATION")
                            ),
                        }
                    }
                    if let Some(p) = procedure {
                        println!("      {} {p}", t("then:", "puis :"));
                    }
                }
                Action::Manual { procedure } => {
                    println!("      {} {procedure}", t("manual:", "manuel :"))
                }
                Action::StandIn { action } => {
                    println!(
                        "      {} {action}",
                        t("stand-in:", "solution de remplacement :")
                    )
                }
            }
            println!(
                "      {} {}",
                t("why:", "pourquoi :"),
                if fr { &step.reason_fr } else { &step.reason }
            );
            if let Some(e) = estimate {
                println!(
                    "      {} {}",
                    t("time:", "durée :"),
                    if fr { &e.basis_fr } else { &e.basis }
                );
            }
            let checks: Vec<&str> = step
                .checklist
                .iter()
                .map(|c| if fr { c.fr } else { c.en })
                .collect();
            println!("      {} {}", t("check:", "vérifier :"), checks.join("; "));
        }
    }
    if !plan.degraded.is_empty() {
        println!("\n{}", t("Degraded meanwhile:", "Dégradés en attendant :"));
        for d in &plan.degraded {
            let mut waits = d.waits_for.clone();
            waits.extend(d.through.iter().map(|x| format!("{x}*")));
            println!("  {}  ← {}", d.asset, waits.join(", "));
        }
    }
    if !plan.rto_at_risk.is_empty() {
        println!(
            "\n{} {}",
            t(
                "RTO at risk before anything starts:",
                "RTO en risque avant même de commencer :"
            ),
            plan.rto_at_risk.join(", ")
        );
    }
}

fn integrity(i: &reprise_ops::snapshots::Integrity, fr: bool) -> String {
    use reprise_ops::snapshots::Integrity::*;
    match (i, fr) {
        (Verified { .. }, false) => "verified".into(),
        (Verified { .. }, true) => "vérifié".into(),
        (Failed { .. }, false) => "FAILED verification".into(),
        (Failed { .. }, true) => "vérification ÉCHOUÉE".into(),
        (Unverified, false) => "unverified".into(),
        (Unverified, true) => "non vérifié".into(),
    }
}
