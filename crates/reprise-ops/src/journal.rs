//! The journal's use cases: checking it (chain, head witnesses, sealed records),
//! exporting it for an auditor, and taking the catalog as it is. The mechanism — seals,
//! the journaled catalog, the master key — is `reprise-journal`.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use reprise_catalog::{JournalEntry, NewJournalEntry};
use serde::Serialize;

pub use reprise_journal::{
    ACTOR, Break, BreakKind, Head, Journaled, RecordFault, RecordProblem, Verdict, journal_key,
    key_for, missing_key, note, open, seal, verify,
};
use reprise_journal::{head, records};

/// Reads the whole journal and checks it with the workspace's master key: the chain,
/// the head kept beside the master key, and every sealed record.
pub async fn check(
    ctx: &crate::context::Ctx<'_>,
) -> crate::error::AppResult<(Vec<JournalEntry>, Verdict)> {
    check_against(ctx, &[]).await
}

/// [`check`], and against heads witnessed elsewhere too: a self-backup's manifest, an
/// earlier evidence pack's or export's `verification.json`, a copy of the head file.
pub async fn check_against(
    ctx: &crate::context::Ctx<'_>,
    witnesses: &[PathBuf],
) -> crate::error::AppResult<(Vec<JournalEntry>, Verdict)> {
    let ws = ctx.workspace();
    let master = reprise_journal::keys::existing_master_key(ws)
        .map_err(crate::error::AppError::Failed)?
        .ok_or_else(|| crate::error::AppError::Failed(missing_key(ws)))?;
    let entries = ctx.catalog.journal(0, None).await?;
    let mut verdict = verify(&entries, &journal_key(&master));
    let kept = head::file(ws);
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    if kept.exists() {
        sources.push((kept.clone(), format!("the head file {}", kept.display())));
    }
    sources.extend(
        witnesses
            .iter()
            .map(|p| (p.clone(), p.display().to_string())),
    );
    let catalog = head::catalog_id(&ctx.catalog.location());
    for (path, source) in sources {
        match head::read(&path) {
            Ok(h) if !h.follows(&catalog) => {}
            Ok(h) => verdict
                .witnesses
                .extend(head::against(&entries, &h, &source)),
            Err(e) => verdict.witnesses.push(e),
        }
    }
    let now = records::current(ctx.catalog).await?;
    verdict.records = now.len();
    verdict.record_problems = records::compare(&now, &records::sealed(&entries));
    verdict.settle();
    Ok((entries, verdict))
}

/// What `reprise journal seal` did.
#[derive(Debug, Clone, Serialize)]
pub struct Sealed {
    /// Records sealed as they are now (written before records were sealed, or outside
    /// Reprise and accepted).
    pub records: Vec<String>,
    /// The head file now witnesses this entry.
    pub head: Option<(i64, String)>,
}

/// Takes the catalog as it is: seals every record the journal has not sealed (and, with
/// `accept_changes`, those changed or removed outside Reprise), each with `reason`, then
/// has the head file witness the newest entry. Every step is journaled.
pub async fn seal_as_is(
    ctx: &crate::context::Ctx<'_>,
    reason: &str,
    accept_changes: bool,
) -> crate::error::AppResult<Sealed> {
    if reason.trim().is_empty() {
        return Err(crate::error::AppError::Invalid(
            "--reason: say why the catalog is taken as it is (it is journaled)".into(),
        ));
    }
    let (_, verdict) = check(ctx).await?;
    if let Some(b) = &verdict.first_break {
        return Err(crate::error::AppError::Failed(format!(
            "the journal's chain is broken at entry {}: {}. Sealing records would not mend it",
            b.seq, b.message
        )));
    }
    let now = records::current(ctx.catalog).await?;
    let mut done = Vec::new();
    for p in &verdict.record_problems {
        if p.fault != RecordFault::Unsealed && !accept_changes {
            continue;
        }
        let digest = now
            .get(&p.record)
            .cloned()
            .unwrap_or_else(|| records::REMOVED.to_string());
        let entry = NewJournalEntry {
            at: Timestamp::now(),
            actor: String::new(),
            action: "record.sealed".into(),
            subject: p.record.clone(),
            detail: format!("{}: {reason}", p.message),
            record: p.record.clone(),
            digest,
        };
        ctx.catalog
            .append_journal(&entry, &|_: &JournalEntry| String::new())
            .await?;
        done.push(p.record.clone());
    }
    let last = ctx.catalog.journal(0, None).await?.pop();
    let head = match last {
        Some(e) => {
            let h = Head {
                seq: e.seq,
                hash: e.hash.clone(),
                catalog: Some(head::catalog_id(&ctx.catalog.location())),
            };
            head::reset(&head::file(ctx.workspace()), &h)
                .map_err(crate::error::AppError::Failed)?;
            note(
                ctx.catalog,
                "journal.head-witnessed",
                "journal",
                format!("the head file witnesses entry {} again: {reason}", e.seq),
            )
            .await?;
            Some((e.seq, e.hash))
        }
        None => None,
    };
    Ok(Sealed {
        records: done,
        head,
    })
}

/// Writes the journal for an auditor into `dir`: `journal.jsonl`, `journal.csv` and
/// `verification.json` (the verdict, with the head to compare later exports against).
/// Returns the files written.
pub async fn export(
    ctx: &crate::context::Ctx<'_>,
    dir: &Path,
) -> crate::error::AppResult<(Vec<PathBuf>, Verdict)> {
    let (entries, verdict) = check(ctx).await?;
    let fail = |path: &Path, e: &dyn std::fmt::Display| {
        crate::error::AppError::Failed(format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir, &e))?;
    let jsonl = dir.join("journal.jsonl");
    let mut text = String::new();
    for e in &entries {
        text.push_str(&serde_json::to_string(e).expect("an entry serialises"));
        text.push('\n');
    }
    std::fs::write(&jsonl, text).map_err(|e| fail(&jsonl, &e))?;
    let csv_path = dir.join("journal.csv");
    let mut w = csv::Writer::from_path(&csv_path).map_err(|e| fail(&csv_path, &e))?;
    w.write_record([
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "detail",
        "prev_hash",
        "hash",
    ])
    .map_err(|e| fail(&csv_path, &e))?;
    for e in &entries {
        w.write_record([
            e.seq.to_string(),
            e.at.to_string(),
            e.actor.clone(),
            e.action.clone(),
            e.subject.clone(),
            e.detail.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ])
        .map_err(|e| fail(&csv_path, &e))?;
    }
    w.flush().map_err(|e| fail(&csv_path, &e))?;
    let summary = dir.join("verification.json");
    let body = serde_json::json!({
        "verified_at": Timestamp::now(),
        "catalog": ctx.catalog.location(),
        "verdict": verdict,
        "method": "each entry's hash is HMAC-SHA256, keyed by a key derived from the workspace's master key, over its fields and the previous entry's hash",
    });
    std::fs::write(
        &summary,
        serde_json::to_string_pretty(&body).expect("a verdict serialises"),
    )
    .map_err(|e| fail(&summary, &e))?;
    Ok((vec![jsonl, csv_path, summary], verdict))
}
