//! The offline runbook: one self-contained HTML file to print or carry on a laptop,
//! usable when the mail server, the VPN and the supervision are down together (the
//! lesson of seed 004) and when Reprise itself is unavailable.
//!
//! It holds the contacts and roles, the inventory, the recovery order for a total loss,
//! and per asset its procedure, checklist, restore points and the exact stock `restic`
//! commands to restore it without Reprise. It never holds a secret: only where each
//! repository's key is kept.

use std::fmt::Write;

use jiff::Timestamp;
use reprise_domain::plan::{Action, Step};
use reprise_domain::{Asset, Inventory, Repository};

use reprise_ops::context::Ctx;
use reprise_ops::error::AppResult;
use reprise_ops::snapshots::{Integrity, PointView, group};

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A shell word, quoted for `sh` when it needs to be.
fn shell(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-:=@".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// Renders the runbook at `now`, in French when `fr`.
pub async fn export(ctx: &Ctx<'_>, fr: bool, now: Timestamp) -> AppResult<String> {
    let inv = ctx.inventory();
    let tz = reprise_workspace::workspace::zone(ctx.loaded.config.timezone.as_deref());
    let name = ctx
        .loaded
        .config
        .name
        .clone()
        .unwrap_or_else(|| "Reprise".into());
    let points = group(&reprise_ops::suspects::points(ctx, None).await?);
    // The order for a total loss: every asset down.
    let everything: Vec<String> = inv.assets.iter().map(|a| a.id.to_string()).collect();
    let plan = if everything.is_empty() {
        None
    } else {
        Some(
            crate::plan::compute(
                ctx,
                &crate::plan::PlanOptions {
                    simulate: everything,
                    ..Default::default()
                },
            )
            .await?,
        )
    };

    let lang = Lang { fr, zone: tz };
    let mut h = String::new();
    head(&mut h, &lang, &name, now);
    contacts(&mut h, &lang, inv);
    repositories(&mut h, &lang, ctx);
    let current = reprise_ops::states::current(ctx.catalog, inv).await?;
    inventory(&mut h, &lang, inv, &current);
    if let Some(view) = &plan {
        recovery_order(&mut h, &lang, view);
    }
    let _ = writeln!(h, "<h2>{}</h2>", lang.l("Per asset", "Par élément"));
    for step in plan.iter().flat_map(|view| &view.plan.steps) {
        if let Some(a) = inv.asset(&step.asset) {
            asset(&mut h, &lang, ctx, a, step, &points);
        }
    }
    h.push_str("</body>\n</html>\n");
    Ok(h)
}

/// The page's language and time zone.
struct Lang {
    fr: bool,
    zone: jiff::tz::TimeZone,
}

impl Lang {
    fn l(&self, en: &'static str, fr: &'static str) -> &'static str {
        if self.fr { fr } else { en }
    }

    fn time(&self, t: Timestamp) -> String {
        t.to_zoned(self.zone.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    }
}

/// The document head, title and the warning that no secret is inside.
fn head(h: &mut String, lang: &Lang, name: &str, now: Timestamp) {
    let (fr, l, time) = (lang.fr, |en, f| lang.l(en, f), |t| lang.time(t));
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} — {}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; color: #111; line-height: 1.45; }}\n\
         table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }}\n\
         th, td {{ border: 1px solid #999; padding: .25rem .45rem; text-align: left; vertical-align: top; font-size: .92rem; }}\n\
         th {{ background: #eee; }}\n\
         pre {{ background: #f4f4f4; padding: .6rem; overflow-x: auto; font-size: .85rem; }}\n\
         .asset {{ border-top: 2px solid #333; margin-top: 1.5rem; page-break-inside: avoid; }}\n\
         .warn {{ background: #fff3cd; padding: .5rem; border: 1px solid #c9a400; }}\n\
         @media print {{ body {{ max-width: none; }} .asset {{ page-break-before: auto; }} }}\n\
         </style>\n</head>\n<body>\n",
        if fr { "fr" } else { "en" },
        esc(name),
        l("Recovery runbook", "Plan de reprise hors ligne"),
    );
    let _ = write!(
        h,
        "<h1>{} — {}</h1>\n<p>{} {}. {}</p>\n",
        esc(name),
        l("Recovery runbook", "Plan de reprise hors ligne"),
        l("Generated", "Généré le"),
        time(now),
        l(
            "Print it or keep it offline: it is meant for the day mail, VPN and supervision are down together.",
            "Imprimez-le ou gardez-le hors ligne : il sert le jour où messagerie, VPN et supervision tombent ensemble."
        )
    );
    let _ = writeln!(
        h,
        "<p class=\"warn\">{}</p>",
        l(
            "This file holds no password. Each repository's key is where the table below says; without it nothing can be restored.",
            "Ce fichier ne contient aucun mot de passe. La clé de chaque dépôt est là où l'indique le tableau ci-dessous ; sans elle rien ne peut être restauré."
        )
    );
}

/// Contacts and roles.
fn contacts(h: &mut String, lang: &Lang, inv: &Inventory) {
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let _ = write!(
        h,
        "<h2>{}</h2>\n<table><tr><th>{}</th><th>{}</th><th>{}</th><th>E-mail</th></tr>\n",
        l("Contacts and roles", "Contacts et rôles"),
        l("Name", "Nom"),
        l("Role", "Rôle"),
        l("Phone", "Téléphone"),
    );
    for c in &inv.contacts {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.name),
            esc(&c.role),
            esc(c.phone.as_deref().unwrap_or("")),
            esc(c.email.as_deref().unwrap_or(""))
        );
    }
    for s in &inv.sites {
        if let Some(contact) = &s.contact {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{} {}</td><td></td><td></td></tr>",
                esc(contact),
                l("site contact,", "contact du site"),
                esc(&s.name)
            );
        }
    }
    h.push_str("</table>\n");
}

/// Repositories and where their keys are.
fn repositories(h: &mut String, lang: &Lang, ctx: &Ctx<'_>) {
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let inv = ctx.inventory();
    let _ = write!(
        h,
        "<h2>{}</h2>\n<table><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        l("Repositories", "Dépôts"),
        l("Location", "Emplacement"),
        l("Medium, site", "Support, site"),
        l("Key (never the password)", "Clé (jamais le mot de passe)")
    );
    for r in &inv.repositories {
        let key = r
            .password_file
            .as_ref()
            .map(|f| {
                format!(
                    "{} {}",
                    l("file", "fichier"),
                    ctx.workspace().resolve(f).display()
                )
            })
            .or_else(|| {
                r.password_env.as_ref().map(|v| {
                    format!(
                        "{} {v}",
                        l("environment variable", "variable d'environnement")
                    )
                })
            })
            .or_else(|| {
                r.password_command
                    .as_ref()
                    .map(|c| format!("{} {c}", l("command", "commande")))
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}, {}</td><td>{}</td></tr>",
            esc(r.id.as_str()),
            esc(&reprise_ops::repos::location(ctx.workspace(), r)),
            esc(&r.medium),
            r.location.as_str(),
            esc(&key)
        );
    }
    h.push_str("</table>\n");
}

fn inventory(
    h: &mut String,
    lang: &Lang,
    inv: &Inventory,
    current: &std::collections::HashMap<String, reprise_ops::states::Current>,
) {
    let fr = lang.fr;
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let _ = write!(
        h,
        "<h2>{}</h2>\n<table><tr><th>ID</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>RPO / RTO</th><th>{}</th></tr>\n",
        l("Inventory", "Inventaire"),
        l("Name", "Élément"),
        l("Site", "Site"),
        l("Category", "Catégorie"),
        l("Criticality", "Criticité"),
        l("State (since)", "État (depuis)"),
        l("Depends on", "Dépend de"),
        l("Owner", "Responsable")
    );
    for a in &inv.assets {
        let deps: Vec<&str> = a.depends_on.iter().map(|d| d.as_str()).collect();
        let state = format!(
            "{}{}",
            if fr {
                a.state.label_fr()
            } else {
                a.state.as_str()
            },
            current
                .get(a.id.as_str())
                .and_then(|c| c.since)
                .map(|t| format!(" ({})", lang.time(t)))
                .unwrap_or_default()
        );
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} / {}</td><td>{}</td></tr>",
            esc(a.id.as_str()),
            esc(&a.name),
            esc(a.site.as_str()),
            if fr {
                a.category.label_fr()
            } else {
                a.category.as_str()
            },
            if fr {
                a.criticality.label_fr()
            } else {
                a.criticality.as_str()
            },
            esc(&state),
            esc(&deps.join(", ")),
            a.rpo.map_or("—".into(), |r| r.to_string()),
            a.rto.map_or("—".into(), |r| r.to_string()),
            esc(a.owner.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>\n");
}

/// The recovery order for a total loss.
fn recovery_order(h: &mut String, lang: &Lang, view: &crate::plan::PlanView) {
    let fr = lang.fr;
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let _ = write!(
        h,
        "<h2>{}</h2>\n<p>{}</p>\n<table><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>\n",
        l(
            "Recovery order (total loss)",
            "Ordre de reprise (perte totale)"
        ),
        l(
            "When only part is down, keep the same order and skip what works.",
            "Si seule une partie est en panne, gardez cet ordre et sautez ce qui fonctionne."
        ),
        l("Asset", "Élément"),
        l("Wave", "Vague"),
        l("Tier", "Niveau"),
        l("Why", "Pourquoi")
    );
    for s in &view.plan.steps {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.position,
            esc(&s.name),
            esc(&s.asset),
            s.wave,
            s.tier,
            esc(if fr { &s.reason_fr } else { &s.reason })
        );
    }
    h.push_str("</table>\n");
}

/// One asset: procedure, checklist, and per data set its restore points and the restic
/// commands that restore it without Reprise.
fn asset(h: &mut String, lang: &Lang, ctx: &Ctx<'_>, a: &Asset, step: &Step, points: &[PointView]) {
    let fr = lang.fr;
    let id = a.id.as_str();
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let _ = write!(
        h,
        "<section class=\"asset\" id=\"{}\">\n<h3>{} ({})</h3>\n",
        esc(id),
        esc(&a.name),
        esc(id)
    );
    if let Some(p) = &a.procedure {
        let _ = writeln!(
            h,
            "<p><strong>{}</strong> {}</p>",
            l("Procedure:", "Procédure :"),
            esc(p)
        );
    }
    if let Action::Restore { .. } | Action::Manual { .. } = step.action {
        let _ = write!(
            h,
            "<p><strong>{}</strong></p>\n<ul>\n",
            l("Check after restoring:", "Vérifier après restauration :")
        );
        for c in &step.checklist {
            let _ = writeln!(h, "<li>☐ {}</li>", esc(if fr { c.fr } else { c.en }));
        }
        h.push_str("</ul>\n");
    }
    let repos = ctx.repositories_of(a).unwrap_or_default();
    for set in &a.datasets {
        let mine: Vec<_> = points
            .iter()
            .filter(|p| p.asset == id && p.dataset == set.name)
            .rev()
            .take(3)
            .collect();
        restore_points(h, lang, &set.name, &mine);
        restic_commands(h, lang, ctx, id, &set.name, &repos);
        device_steps(h, lang, ctx, id, &set.name);
    }
    h.push_str("</section>\n");
}

/// For a device's configuration: how the restored file goes back on the device.
fn device_steps(h: &mut String, lang: &Lang, ctx: &Ctx<'_>, asset: &str, dataset: &str) {
    let Ok(d) = reprise_ops::devices::find(ctx, asset, Some(dataset)) else {
        return;
    };
    let file = format!("restore/{}", reprise_ops::devices::file_name(&d));
    let steps = reprise_domain::device::push_steps(&d.model, d.collect, &file);
    if steps.is_empty() {
        return;
    }
    let _ = write!(
        h,
        "<p><strong>{}</strong> {} ({})</p>\n<ol>\n",
        lang.l(
            "Load the configuration back on the device:",
            "Recharger la configuration sur l'équipement :"
        ),
        esc(&d.collect.address),
        esc(&d.model.name)
    );
    for s in &steps {
        let _ = writeln!(h, "<li><code>{}</code></li>", esc(s));
    }
    h.push_str("</ol>\n");
}

fn restore_points(h: &mut String, lang: &Lang, dataset: &str, mine: &[&PointView]) {
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let time = |t| lang.time(t);
    let _ = writeln!(
        h,
        "<h4>{} <code>{}</code></h4>",
        l("Data set", "Jeu de données"),
        esc(dataset)
    );
    if mine.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"warn\">{}</p>",
            l("No restore point yet.", "Aucun point de restauration.")
        );
    } else {
        let _ = writeln!(
            h,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            l("Restore point", "Point de restauration"),
            l("Copies", "Copies"),
            l("Integrity", "Intégrité")
        );
        for p in mine {
            let copies: Vec<String> = p
                .copies
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c.repository,
                        reprise_workspace::text::short(&c.snapshot)
                    )
                })
                .collect();
            let integrity = match &p.integrity {
                Integrity::Verified { at } => {
                    format!("{} {}", l("verified", "vérifié le"), time(*at))
                }
                Integrity::Failed { at, .. } => {
                    format!("{} {}", l("FAILED", "ÉCHEC le"), time(*at))
                }
                Integrity::Unverified => l("unverified", "non vérifié").to_string(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                time(p.time),
                esc(&copies.join(", ")),
                esc(&integrity)
            );
        }
        h.push_str("</table>\n");
    }
}

/// The stock restic commands for the newest point of a data set, from each repository.
fn restic_commands(
    h: &mut String,
    lang: &Lang,
    ctx: &Ctx<'_>,
    id: &str,
    dataset: &str,
    repos: &[&Repository],
) {
    let l = |en: &'static str, f: &'static str| lang.l(en, f);
    let _ = writeln!(
        h,
        "<p>{}</p>",
        l(
            "Without Reprise, with stock restic (the newest point of this data set; `restic snapshots` lists the others):",
            "Sans Reprise, avec restic (le point le plus récent de ce jeu ; `restic snapshots` liste les autres) :"
        )
    );
    let mut cmds = String::new();
    for (i, repo) in repos.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(
                cmds,
                "\n# {} {}",
                l("or from the copy in", "ou depuis la copie de"),
                repo.id
            );
        }
        for (k, v) in reprise_ops::repos::restic_env(ctx.workspace(), repo) {
            let _ = writeln!(cmds, "export {k}={}", shell(&v));
        }
        if let Some(command) = reprise_ops::repos::restic_sftp_command(ctx.workspace(), repo) {
            let _ = writeln!(
                cmds,
                "# {} -o sftp.command={}",
                l("on every restic command:", "à chaque commande restic :"),
                shell(&command)
            );
        }
        let _ = writeln!(
            cmds,
            "restic snapshots --host {} --tag dataset:{}",
            shell(id),
            shell(dataset)
        );
        let _ = writeln!(
            cmds,
            "restic restore latest --host {} --tag dataset:{} --target {}",
            shell(id),
            shell(dataset),
            shell(&format!("/tmp/restore/{id}/{}", dataset))
        );
    }
    let _ = writeln!(h, "<pre>{}</pre>", esc(&cmds));
}
