//! The journal's head kept outside the catalog: whoever can write the catalog can remove
//! its newest entries and leave an intact chain behind. A witness of the head — the file
//! beside the master key, each self-backup's manifest, each evidence pack's
//! `journal/verification.json` — says which entry was the newest when it was written; the
//! journal must still hold that entry, with that hash.

use std::path::{Path, PathBuf};

use reprise_catalog::JournalEntry;
use serde::{Deserialize, Serialize};

/// An entry's place and hash, as a witness keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
    /// Which catalog's journal the head file follows ([`catalog_id`]): a workspace pointed
    /// at another catalog starts another chain. Absent from other witnesses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
}

/// A short digest of a catalog's location (a database URL may hold a password).
pub fn catalog_id(location: &str) -> String {
    use sha2::Digest;
    reprise_workspace::text::hex(&sha2::Sha256::digest(location.as_bytes()))[..16].to_string()
}

impl Head {
    /// Whether this head witnesses the journal of the catalog `id` (a witness naming no
    /// catalog witnesses whichever it is checked against).
    pub fn follows(&self, id: &str) -> bool {
        self.catalog.as_deref().is_none_or(|c| c == id)
    }
}

/// The file beside the master key that follows the journal's head.
pub fn file(ws: &reprise_workspace::workspace::Workspace) -> PathBuf {
    crate::keys::master_key_path(ws).with_file_name("journal.head")
}

/// Reads a witness: the head file, a self-backup's manifest (`journal_head`), or a
/// verification written by `journal export` or the evidence pack (`verdict.head`).
pub fn read(path: &Path) -> Result<Head, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a journal head ({e})",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let found = [
        Some(&value),
        value.get("journal_head"),
        value.get("head"),
        value.pointer("/verdict/head"),
    ]
    .into_iter()
    .flatten()
    .find_map(|v| {
        serde_json::from_value::<Head>(v.clone()).ok().or_else(|| {
            serde_json::from_value::<(i64, String)>(v.clone())
                .ok()
                .map(|(seq, hash)| Head {
                    seq,
                    hash,
                    catalog: None,
                })
        })
    });
    found.ok_or_else(|| {
        format!(
            "{}: holds no journal head (`seq` and `hash`, `journal_head`, or `verdict.head`)",
            path.display()
        )
    })
}

/// Writes `head` to `path` at once (a temporary file renamed), owner-only.
fn write(path: &Path, head: &Head) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("head.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(
        serde_json::to_string(head)
            .expect("a head serialises")
            .as_bytes(),
    )?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// What the head file should become after `entry` was appended, given the entry the
/// journal holds at the file's place (`at_kept`): `None` to leave the file as it is.
///
/// The file moves forward only from a head the journal still holds: when entries were
/// removed and others written in their place, the file keeps witnessing the removed one
/// until an administrator takes the journal as it is (`reprise journal seal`).
pub(crate) fn next(
    kept: Option<&Head>,
    entry: &JournalEntry,
    at_kept: Option<&JournalEntry>,
) -> Option<Head> {
    let new = Head {
        seq: entry.seq,
        hash: entry.hash.clone(),
        catalog: None,
    };
    match kept {
        None => Some(new),
        // Another process wrote a newer entry and its head already.
        Some(k) if k.seq >= entry.seq => None,
        Some(k) if at_kept.is_some_and(|e| e.hash == k.hash) => Some(new),
        Some(_) => None,
    }
}

/// Moves the head file forward after `entry`, reading the entry at the file's place
/// from `catalog`. A failure to write it is reported, never fatal: the catalog's entry
/// is written already.
pub(crate) async fn advance(
    path: &Path,
    entry: &JournalEntry,
    catalog: &dyn reprise_catalog::Catalog,
) {
    let id = catalog_id(&catalog.location());
    // The head of another catalog's journal is no witness of this one.
    let kept = read(path).ok().filter(|k| k.follows(&id));
    let at_kept = match &kept {
        Some(k) if k.seq < entry.seq => catalog
            .journal(k.seq - 1, Some(1))
            .await
            .ok()
            .and_then(|v| v.into_iter().next()),
        _ => None,
    };
    if let Some(mut head) = next(kept.as_ref(), entry, at_kept.as_ref())
        && let Err(e) = {
            head.catalog = Some(id);
            write(path, &head)
        }
    {
        eprintln!(
            "warning: cannot keep the journal's head in {}: {e}",
            path.display()
        );
    }
}

/// Writes `head` to the file whatever it held: an administrator took the journal as it is.
pub fn reset(path: &Path, head: &Head) -> Result<(), String> {
    write(path, head).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Checks the journal against a witness of its head; the message when it does not hold
/// that entry.
pub fn against(entries: &[JournalEntry], witness: &Head, source: &str) -> Option<String> {
    let last = entries.last().map_or(0, |e| e.seq);
    match entries.iter().find(|e| e.seq == witness.seq) {
        _ if witness.seq > last => Some(format!(
            "entries {}–{} are missing: {source} witnessed entry {} and the journal ends at {last}",
            last + 1,
            witness.seq,
            witness.seq
        )),
        Some(e) if e.hash == witness.hash => None,
        _ => Some(format!(
            "entry {} is not the one {source} witnessed: entries were removed and others written in their place",
            witness.seq
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, hash: &str) -> JournalEntry {
        JournalEntry {
            seq,
            at: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
            actor: String::new(),
            action: "backup.finished".into(),
            subject: String::new(),
            detail: String::new(),
            prev_hash: String::new(),
            hash: hash.into(),
            record: String::new(),
            digest: String::new(),
        }
    }

    fn head(seq: i64, hash: &str) -> Head {
        Head {
            seq,
            hash: hash.into(),
            catalog: None,
        }
    }

    #[test]
    fn the_head_moves_forward_only_from_an_entry_the_journal_still_holds() {
        assert_eq!(next(None, &entry(1, "a"), None), Some(head(1, "a")));
        let kept = head(4, "d");
        assert_eq!(
            next(Some(&kept), &entry(5, "e"), Some(&entry(4, "d"))),
            Some(head(5, "e"))
        );
        // A process behind another one leaves the newer head.
        assert_eq!(next(Some(&head(6, "f")), &entry(5, "e"), None), None);
        // Entry 4 was removed and written again: the file keeps witnessing it.
        assert_eq!(next(Some(&kept), &entry(4, "x"), None), None);
        assert_eq!(
            next(Some(&kept), &entry(5, "y"), Some(&entry(4, "x"))),
            None
        );
    }

    #[test]
    fn a_truncated_or_rewritten_journal_does_not_hold_its_witness() {
        let journal = [entry(1, "a"), entry(2, "b")];
        assert_eq!(against(&journal, &head(2, "b"), "the head file"), None);
        let cut = against(&journal, &head(3, "c"), "the head file").unwrap();
        assert!(cut.contains("entries 3–3 are missing"), "{cut}");
        let rewritten = against(&journal, &head(2, "z"), "the head file").unwrap();
        assert!(rewritten.contains("entry 2 is not the one"), "{rewritten}");
    }

    #[test]
    fn every_witness_format_is_read() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("head", r#"{"seq":3,"hash":"c"}"#),
            (
                "manifest",
                r#"{"made":"x","journal_head":{"seq":3,"hash":"c"}}"#,
            ),
            ("verification", r#"{"verdict":{"head":[3,"c"]}}"#),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            assert_eq!(read(&p).unwrap(), head(3, "c"), "{name}");
        }
        let p = dir.path().join("bad");
        std::fs::write(&p, "{\"seq\":").unwrap();
        assert!(read(&p).unwrap_err().contains("bad:1:"));
    }
}
