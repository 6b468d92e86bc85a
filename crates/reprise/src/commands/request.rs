//! `reprise request submit|template|list|show|assess|approve|reject|cancel|run|check|report`.

use std::io::Read;
use std::path::PathBuf;

use reprise_domain::plan::Lang as DomainLang;
use reprise_domain::request::{TargetDraft, retarget};
use reprise_recovery::request::{self, Loaded, RequestView, Submission};

use reprise_ops::context::Ctx;

use super::Session;
use crate::cli::{Global, Lang, RequestCommand};
use crate::exit::{self, UsageError};
use crate::output::{Table, local_time, print_json};

fn lang_of(lang: Option<Lang>, view: &RequestView) -> DomainLang {
    match lang {
        Some(Lang::Fr) => DomainLang::Fr,
        Some(Lang::En) => DomainLang::En,
        None => view.request.doc.request.lang,
    }
}

pub async fn run(global: &Global, cmd: RequestCommand) -> anyhow::Result<u8> {
    if let RequestCommand::Template { lang } = cmd {
        print!(
            "{}",
            request::template(match lang {
                Lang::En => DomainLang::En,
                Lang::Fr => DomainLang::Fr,
            })
        );
        return Ok(exit::SUCCESS);
    }
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let tz = &session.tz;
    let me = super::acting_user();
    match cmd {
        RequestCommand::Template { .. } => unreachable!("handled above"),
        RequestCommand::Submit { file, json } => submit(&ctx, tz, &me, file, json).await,
        RequestCommand::List { all, json } => list(&ctx, tz, all, json).await,
        RequestCommand::Show { id, lang, json } => {
            let view = request::show(&ctx, id).await?;
            if json {
                print_json(&view)?;
            } else {
                print!("{}", describe(&view, lang_of(lang, &view), tz));
            }
            Ok(exit::SUCCESS)
        }
        RequestCommand::Assess {
            id,
            at,
            snapshot,
            from,
            to,
            json,
        } => {
            let draft = TargetDraft {
                at,
                from,
                to,
                snapshot,
            };
            let target = retarget(&draft, tz).map_err(UsageError)?;
            let view = request::reassess(&ctx, id, target, &me).await?;
            if json {
                print_json(&view)?;
            } else {
                print!("{}", describe(&view, view.request.doc.request.lang, tz));
            }
            Ok(if view.feasible {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
        RequestCommand::Approve { id, note } => {
            let view = request::approve(&ctx, id, &me, note.as_deref()).await?;
            match view.request.doc.request.window {
                Some(w) => println!(
                    "Request {id} approved: it runs in its window, {} → {} (`reprise serve` starts it; `reprise request run {id}` inside the window).",
                    local_time(w.from, tz),
                    local_time(w.to, tz)
                ),
                None => println!(
                    "Request {id} approved: no interruption was approved, so it restores beside production as soon as the server picks it up (or `reprise request run {id}`)."
                ),
            }
            Ok(exit::SUCCESS)
        }
        RequestCommand::Reject { id, reason } => {
            request::close(&ctx, id, &me, &reason, true).await?;
            println!("Request {id} rejected.");
            Ok(exit::SUCCESS)
        }
        RequestCommand::Cancel { id, reason } => {
            request::close(&ctx, id, &me, &reason, false).await?;
            println!("Request {id} cancelled.");
            Ok(exit::SUCCESS)
        }
        RequestCommand::Run { id, json } => {
            let view = request::execute(&ctx, id, &me).await?;
            if json {
                print_json(&view)?;
            } else {
                print!("{}", describe(&view, DomainLang::En, tz));
            }
            Ok(if view.request.state == request::State::Failed {
                exit::FAILURE
            } else {
                exit::SUCCESS
            })
        }
        RequestCommand::Check {
            id,
            asset,
            key,
            result,
            note,
        } => check(&ctx, &me, id, asset, key, result, note).await,
        RequestCommand::Report {
            id,
            lang,
            out,
            html,
            pdf,
        } => {
            let view = request::show(&ctx, id).await?;
            let lang = lang_of(lang, &view);
            let text = request::report_text(&view, lang, tz);
            let fr = lang == DomainLang::Fr;
            if let Some(path) = &pdf {
                std::fs::write(path, request::report_pdf(&ctx, &view, lang, tz)?)?;
            }
            if pdf.is_none() || out.is_some() || html.is_some() {
                crate::output::write_report(&text, fr, out.as_deref(), html.as_deref(), None)?;
            }
            Ok(exit::SUCCESS)
        }
    }
}

/// Submits a request file (or standard input): recorded and assessed, or refused whole.
async fn submit(
    ctx: &Ctx<'_>,
    tz: &jiff::tz::TimeZone,
    me: &str,
    file: PathBuf,
    json: bool,
) -> anyhow::Result<u8> {
    let (text, name) = if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        (text, "<stdin>".to_string())
    } else {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| UsageError(format!("cannot read {}: {e}", file.display())))?;
        (text, file.display().to_string())
    };
    let draft = request::read_draft(&text, &name)?;
    let submission = request::submit(ctx, &draft, me).await?;
    if json {
        print_json(&submission)?;
    }
    match submission {
        Submission::Refused { missing } => {
            if !json {
                let fr = draft.lang.as_deref().and_then(DomainLang::parse) == Some(DomainLang::Fr);
                eprintln!(
                    "{}",
                    if fr {
                        format!("Demande refusée ({name}), rien n'a été enregistré :")
                    } else {
                        format!("Request refused ({name}), nothing was recorded:")
                    }
                );
                for m in &missing {
                    eprintln!("  {}: {}", m.field, m.message);
                }
            }
            Ok(exit::USAGE)
        }
        Submission::Recorded { view } => {
            if !json {
                print!("{}", describe(&view, view.request.doc.request.lang, tz));
            }
            Ok(if view.feasible {
                exit::SUCCESS
            } else {
                exit::FAILURE
            })
        }
    }
}

async fn list(ctx: &Ctx<'_>, tz: &jiff::tz::TimeZone, all: bool, json: bool) -> anyhow::Result<u8> {
    let requests = request::list(ctx, all).await?;
    if json {
        print_json(&requests)?;
        return Ok(exit::SUCCESS);
    }
    if requests.is_empty() {
        println!(
            "No {}restore request: `reprise request template` gives a file to fill in.",
            if all { "" } else { "open " }
        );
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&[
        "ID",
        "STATE",
        "SUBMITTED",
        "REQUESTER",
        "URGENCY",
        "SCOPE",
        "WINDOW",
    ]);
    for r in &requests {
        table.row(row(r, tz));
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}

/// Records the result of one of the request's checks.
async fn check(
    ctx: &Ctx<'_>,
    me: &str,
    id: i64,
    asset: String,
    key: String,
    result: String,
    note: Option<String>,
) -> anyhow::Result<u8> {
    let ok = match result.to_ascii_lowercase().as_str() {
        "pass" | "ok" | "conforme" => true,
        "fail" | "ko" | "non-conforme" => false,
        other => {
            return Err(UsageError(format!("unknown result `{other}` (pass or fail)")).into());
        }
    };
    let view = request::check(ctx, id, &asset, &key, ok, note.as_deref(), me).await?;
    let pending = view
        .request
        .doc
        .checks
        .iter()
        .filter(|c| c.ok.is_none())
        .count();
    println!(
        "Request {id}: {asset}/{key} {}; {} — {pending} check(s) pending.",
        if ok { "passed" } else { "FAILED" },
        view.request.state.as_str()
    );
    Ok(exit::SUCCESS)
}

fn row(r: &Loaded, tz: &jiff::tz::TimeZone) -> Vec<String> {
    let q = &r.doc.request;
    let scope: Vec<String> = r
        .doc
        .items
        .iter()
        .map(|i| format!("{}/{}", i.asset, i.dataset))
        .collect();
    vec![
        r.row.id.to_string(),
        r.state.as_str().into(),
        local_time(r.row.created, tz),
        q.requester.clone(),
        q.urgency.label(DomainLang::En).into(),
        scope.join(", "),
        q.window.map_or("now (beside production)".into(), |w| {
            format!("{} → {}", local_time(w.from, tz), local_time(w.to, tz))
        }),
    ]
}

/// A request in words: the report, which says everything the requester follows.
fn describe(view: &RequestView, lang: DomainLang, tz: &jiff::tz::TimeZone) -> String {
    let mut text = request::report_text(view, lang, tz);
    let id = view.request.row.id;
    let next = match (view.request.state, lang) {
        (request::State::Infeasible, DomainLang::Fr) => format!(
            "\nSuite : choisir une alternative (`reprise request assess {id} --snapshot ID`), ou vérifier les points (`reprise verify --read-data`) puis `reprise request assess {id}`.\n"
        ),
        (request::State::Infeasible, _) => format!(
            "\nNext: take an alternative (`reprise request assess {id} --snapshot ID`), or verify the points (`reprise verify --read-data`) then `reprise request assess {id}`.\n"
        ),
        (request::State::AwaitingApproval, DomainLang::Fr) => {
            format!("\nSuite : `reprise request approve {id}`.\n")
        }
        (request::State::AwaitingApproval, _) => {
            format!("\nNext: `reprise request approve {id}`.\n")
        }
        (request::State::Checking, DomainLang::Fr) => format!(
            "\nSuite : `reprise request check {id} ÉQUIPEMENT CLÉ pass|fail` pour chaque vérification en attente.\n"
        ),
        (request::State::Checking, _) => format!(
            "\nNext: `reprise request check {id} ASSET KEY pass|fail` for each pending check.\n"
        ),
        _ => String::new(),
    };
    text.push_str(&next);
    text
}
