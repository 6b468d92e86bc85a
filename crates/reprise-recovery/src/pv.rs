//! The return-to-service report (PV, R000.5) as a document a client signs: the provider,
//! the client and the sites; the incident and its dates; tables of the scope restored,
//! skipped, failed and still open, with the restore points used and their times; every
//! check and its result; the reservations and their deadlines; signature blocks for the
//! technician and the client; the SHA-256 of the signed text and how to check it. Laid
//! out by Typst, fonts embedded, in English or French.

use jiff::Timestamp;
use reprise_domain::incident::{CheckResult, StepRecord};
use reprise_ops::context::Ctx;
use reprise_ops::error::{AppError, AppResult};
use reprise_workspace::pdf::{escape, preamble, string, typeset};

use crate::incident::{Incident, pv_reservations, pv_sections, sha256};

/// One table cell: escaped text in brackets, its lines kept.
fn cell(text: &str) -> String {
    format!("[{}]", escape(text).replace('\n', " \\\n"))
}

fn header_cell(text: &str) -> String {
    format!("[*{}*]", escape(text))
}

/// A table of the reports' kind: thin rules, a header row repeated on each page.
pub(crate) fn table(m: &mut String, columns: &str, headers: &[&str], rows: &[Vec<String>]) {
    m.push_str(&format!(
        "#table(columns: {columns}, stroke: 0.5pt + luma(170), inset: 4pt,\n  table.header("
    ));
    for h in headers {
        m.push_str(&header_cell(h));
        m.push_str(", ");
    }
    m.push_str("),\n");
    for row in rows {
        m.push_str("  ");
        for c in row {
            m.push_str(&cell(c));
            m.push_str(", ");
        }
        m.push('\n');
    }
    m.push_str(")\n");
}

/// A two-column table of facts: what, in bold, and its value.
pub(crate) fn facts_table(m: &mut String, facts: &[(&str, String)]) {
    m.push_str("#table(columns: (4.2cm, 1fr), stroke: 0.5pt + luma(170), inset: 5pt,\n");
    for (k, v) in facts {
        m.push_str(&format!("  {}, {},\n", header_cell(k), cell(v)));
    }
    m.push_str(")\n");
}

/// The files a report reads (its logo), by name.
pub(crate) type Files = Vec<(String, Vec<u8>)>;

/// Who runs the recovery, as `[report]` says (the workspace's name by default), and who
/// it is for.
pub(crate) fn provider_and_client(ctx: &Ctx<'_>) -> (String, String) {
    let config = &ctx.loaded.config;
    let client = config
        .name
        .clone()
        .unwrap_or_else(|| ctx.workspace().root.display().to_string());
    let provider = config
        .report
        .provider
        .clone()
        .unwrap_or_else(|| client.clone());
    (provider, client)
}

/// The provider's letterhead (name, address, logo from `[report]`) as markup, and the
/// files it reads.
pub(crate) fn letterhead(ctx: &Ctx<'_>) -> AppResult<(String, Files)> {
    let report = &ctx.loaded.config.report;
    let (provider, _) = provider_and_client(ctx);
    let mut files = Vec::new();
    let logo = match &report.logo {
        Some(path) => {
            let file = ctx.workspace().resolve(path);
            let bytes = std::fs::read(&file).map_err(|e| {
                AppError::Failed(format!(
                    "[report] logo {}: cannot be read: {e}",
                    file.display()
                ))
            })?;
            let name = format!(
                "logo.{}",
                file.extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("png")
                    .to_ascii_lowercase()
            );
            let markup = format!("#image({}, height: 1.4cm)", string(&format!("/{name}")));
            files.push((name, bytes));
            markup
        }
        None => String::new(),
    };
    let head = format!(
        "#grid(columns: (1fr, auto), align: (left + horizon, right + horizon), [#text(size: 11pt, weight: \"bold\")[{}] \\ #text(size: 8.5pt)[{}]], [{logo}])\n#v(0.4cm)\n",
        escape(&provider),
        escape(report.address.as_deref().unwrap_or("")),
    );
    Ok((head, files))
}

/// Lays out a report's markup with the files its letterhead reads.
pub(crate) fn render(markup: &str, files: &Files) -> AppResult<Vec<u8>> {
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    typeset(markup, &files)
        .map_err(|e| AppError::Failed(format!("the report could not be laid out: {e}")))
}

/// The PV of `incident` as a PDF. `text` is the report's text as shown and signed
/// (`pv_text`): its SHA-256 is printed with the sign-off, so the PDF says how to check it.
pub fn pdf(
    ctx: &Ctx<'_>,
    incident: &Incident,
    text: &str,
    fr: bool,
    tz: &jiff::tz::TimeZone,
) -> AppResult<Vec<u8>> {
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    let time = |t: Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string()
    };
    let (provider, client) = provider_and_client(ctx);
    let id = incident.row.id;
    let title = format!(
        "{} — {} {id}",
        l(
            "Return-to-service report",
            "Procès-verbal de remise en service"
        ),
        l("incident", "incident")
    );
    let digest = sha256(text);
    let mut m = preamble(
        &title,
        &format!(
            "{} — {} {id} — SHA-256 {}",
            provider,
            l("incident", "incident"),
            &digest[..16]
        ),
    );
    let (head, files) = letterhead(ctx)?;
    m.push_str(&head);
    m.push_str(&format!(
        "#align(center)[#text(size: 15pt, weight: \"bold\")[{}]]\n#v(0.3cm)\n",
        escape(l(
            "RETURN-TO-SERVICE REPORT",
            "PROCÈS-VERBAL DE REMISE EN SERVICE"
        ))
    ));
    // Who, where, what, when.
    let mut sites: Vec<String> = Vec::new();
    for a in &incident.doc.affected {
        if let Some(asset) = ctx.inventory().asset(&a.asset)
            && let Some(site) = ctx.inventory().site(asset.site.as_str())
        {
            let line = match &site.address {
                Some(address) => format!("{} — {address}", site.name),
                None => site.name.clone(),
            };
            if !sites.contains(&line) {
                sites.push(line);
            }
        }
    }
    let mut facts = vec![
        (l("Client", "Client"), client.clone()),
        (l("Provider", "Prestataire"), provider.clone()),
        (l("Site(s)", "Site(s)"), sites.join("; ")),
        (
            l("Incident", "Incident"),
            format!("{id} — {}", incident.row.title),
        ),
        (
            l("Severity", "Gravité"),
            incident.severity.as_str().to_string(),
        ),
        (l("Opened", "Ouvert le"), time(incident.row.opened)),
        (
            l("Service restored", "Service rétabli le"),
            incident.doc.recovered.map_or("—".into(), time),
        ),
    ];
    if let Some(c) = &incident.doc.roles.commander {
        facts.push((l("Incident commander", "Commandant d'incident"), c.clone()));
    }
    facts_table(&mut m, &facts);
    // The scope, by what became of each step.
    let sections = pv_sections(incident);
    for ((en, f), mine) in &sections {
        m.push_str(&format!("\n== {}\n", escape(l(en, f))));
        if mine.is_empty() {
            m.push_str(&format!("{}\n", escape(l("None.", "Aucun."))));
            continue;
        }
        let rows: Vec<Vec<String>> = mine
            .iter()
            .map(|s| {
                let restored: Vec<String> = s
                    .restored
                    .iter()
                    .map(|r| {
                        format!(
                            "{} ← {} ({}), {} {}",
                            r.dataset,
                            reprise_workspace::text::short(&r.snapshot),
                            time(r.time),
                            r.files,
                            l("file(s)", "fichier(s)")
                        )
                    })
                    .chain(
                        s.note
                            .iter()
                            .map(|n| format!("{} {n}", l("note:", "note :"))),
                    )
                    .chain(s.failure.iter().map(|(en, f)| {
                        format!("{} {}", l("failed:", "échec :"), if fr { f } else { en })
                    }))
                    .collect();
                vec![
                    s.name.clone(),
                    s.asset.clone(),
                    if fr {
                        s.status.label_fr()
                    } else {
                        s.status.as_str()
                    }
                    .to_string(),
                    s.started.map_or("—".into(), time),
                    s.finished.map_or("—".into(), time),
                    restored.join("\n"),
                ]
            })
            .collect();
        table(
            &mut m,
            "(1.5fr, 1fr, 0.8fr, 1fr, 1fr, 2fr)",
            &[
                l("Step", "Étape"),
                l("Asset", "Actif"),
                l("Status", "État"),
                l("Started", "Début"),
                l("Finished", "Fin"),
                l("Restored from", "Restauré depuis"),
            ],
            &rows,
        );
    }
    // Every check, and what it found.
    let steps: &[StepRecord] = incident.doc.plan.as_ref().map_or(&[], |p| &p.steps);
    let checks: Vec<Vec<String>> = steps
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .map(|(s, c)| {
            let (mark, result) = match c.result {
                Some(CheckResult::Pass) => ("✓", l("pass", "conforme")),
                Some(CheckResult::Fail) => ("✗", l("fail", "non conforme")),
                Some(CheckResult::Reserved) => ("⚠", l("reserved", "réserve")),
                None => ("—", l("not checked", "non vérifié")),
            };
            vec![
                s.name.clone(),
                if fr { &c.fr } else { &c.en }.clone(),
                format!("{mark} {result}"),
                c.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    m.push_str(&format!("\n== {}\n", escape(l("Checks", "Vérifications"))));
    if checks.is_empty() {
        m.push_str(&format!(
            "{}\n",
            escape(l("None recorded.", "Aucune enregistrée."))
        ));
    } else {
        table(
            &mut m,
            "(1.3fr, 2fr, 1fr, 1.7fr)",
            &[
                l("Step", "Étape"),
                l("Check", "Vérification"),
                l("Result", "Résultat"),
                l("Note", "Note"),
            ],
            &checks,
        );
    }
    // The same reservations as the signed text.
    m.push_str(&format!("\n== {}\n", escape(l("Reservations", "Réserves"))));
    let reservations = pv_reservations(&sections, fr);
    if reservations.is_empty() {
        m.push_str(&format!("{}\n", escape(l("None.", "Aucune."))));
    } else {
        for r in &reservations {
            m.push_str(&format!("- {}\n", escape(r)));
        }
    }
    // The signatures: the technician's is recorded by Reprise, the client's by hand.
    let signed = incident.doc.sign_off.as_ref();
    let block = |who: &str, name: &str, date: &str| {
        format!(
            "rect(width: 100%, stroke: 0.6pt, inset: 8pt)[*{}* \\ {} {} \\ {} {} \\ {} #v(1.6cm)]",
            escape(who),
            escape(l("Name:", "Nom :")),
            escape(name),
            escape(l("Date:", "Date :")),
            escape(date),
            escape(l("Signature:", "Signature :")),
        )
    };
    m.push_str(&format!(
        "\n== {}\n#grid(columns: (1fr, 1fr), gutter: 14pt, {}, {})\n",
        escape(l("Signatures", "Signatures")),
        block(
            l("The technician", "Le technicien"),
            signed.map_or("", |s| s.by.as_str()),
            &signed.map_or(String::new(), |s| time(s.at)),
        ),
        block(l("The client", "Le client"), "", ""),
    ));
    m.push_str(&format!("\n== {}\n", escape(l("Integrity", "Intégrité"))));
    match signed {
        Some(s) => m.push_str(&format!(
            "{} #raw({}) \\\n{} #raw({}) {} #raw(\"sha256sum pv.txt\") {}\n",
            escape(l("SHA-256 of the signed text:", "SHA-256 du texte signé :")),
            string(&s.sha256),
            escape(l("To check it:", "Pour le vérifier :")),
            string(&format!(
                "reprise incident pv {id} --lang {} --out pv.txt",
                s.lang
            )),
            escape(l("then", "puis")),
            escape(l(
                "must print the same value.",
                "doit afficher la même valeur."
            )),
        )),
        None => m.push_str(&format!(
            "{} #raw({})\n",
            escape(l(
                "Not signed yet; the technician signs with",
                "Pas encore signé ; le technicien signe avec"
            )),
            string(&format!("reprise incident pv {id} --sign NAME")),
        )),
    }
    render(&m, &files)
}
