//! The tamper-evident journal: every change of state is in it, with who; an entry edited,
//! removed or reordered directly in the catalog (SQLite file or PostgreSQL) is pointed at
//! by `journal verify`; the export carries the verdict.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, sql};

fn with_backups(ws: &TestWorkspace) {
    std::fs::create_dir_all(ws.path().join("data")).unwrap();
    std::fs::write(ws.path().join("data/a.txt"), "a").unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "erp",
            "[[asset.dataset]]\nname = \"files\"\npaths = [\"data\"]\n"
        )
    ));
    ws.cmd().args(["backup", "erp"]).assert().success();
    ws.cmd()
        .args(["verify", "--read-data"])
        .env("REPRISE_USER", "claire")
        .assert()
        .success();
}

fn journal_verify_points_at_tampering(ws: &TestWorkspace, url: &str, env: &[(&str, &str)]) {
    let cmd = |args: &[&str]| {
        let mut c = ws.cmd();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c
    };
    let entries: serde_json::Value = serde_json::from_slice(
        &cmd(&["journal", "list", "--limit", "1000", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let entries = entries.as_array().unwrap().clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "inventory.added",
        "backup.started",
        "backup.finished",
        "verify.finished",
        "points.verified",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert!(
        entries
            .iter()
            .any(|e| e["action"] == "points.verified" && e["actor"] == "claire")
    );
    cmd(&["journal", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "intact: {} entries",
            entries.len()
        )));

    // Altered in place: the third entry now says something else.
    sql(
        url,
        "UPDATE journal SET detail = 'nothing happened' WHERE seq = 3",
    );
    cmd(&["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BROKEN at entry 3"))
        .stdout(predicate::str::contains("altered"));
    // An export still writes everything, with the verdict.
    let out = ws.path().join("evidence");
    cmd(&["journal", "export", out.to_str().unwrap()])
        .assert()
        .code(1);
    let verdict: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("verification.json")).unwrap())
            .unwrap();
    assert_eq!(verdict["verdict"]["intact"], false);
    assert_eq!(verdict["verdict"]["first_break"]["seq"], 3);
    let csv = std::fs::read_to_string(out.join("journal.csv")).unwrap();
    assert!(csv.starts_with("seq,at,actor,action,subject,detail,prev_hash,hash\n"));
    assert_eq!(csv.lines().count(), entries.len() + 1);

    // Put back, then an entry removed: the gap is named.
    let original = entries[2]["detail"].as_str().unwrap().replace('\'', "''");
    sql(
        url,
        &format!("UPDATE journal SET detail = '{original}' WHERE seq = 3"),
    );
    cmd(&["journal", "verify"]).assert().success();
    // Two entries swapped (renumbered, so no gap shows): named at the first of them.
    let swap = "UPDATE journal SET seq = 1000 WHERE seq = 4; UPDATE journal SET seq = 4 WHERE seq = 5; UPDATE journal SET seq = 5 WHERE seq = 1000";
    sql(url, swap);
    cmd(&["journal", "verify", "--json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"seq\": 4"));
    sql(url, swap);
    cmd(&["journal", "verify"]).assert().success();
    // An entry removed: the gap is named.
    sql(url, "DELETE FROM journal WHERE seq = 5");
    cmd(&["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BROKEN at entry 6"))
        .stdout(predicate::str::contains("entries 5–5 are missing"));
}

#[test]
fn a_journal_edited_in_the_sqlite_file_is_caught_at_the_right_entry() {
    let ws = TestWorkspace::init();
    with_backups(&ws);
    let db = ws.path().join(".reprise/catalog.db");
    journal_verify_points_at_tampering(&ws, db.to_str().unwrap(), &[]);
}

#[test]
fn a_journal_edited_in_postgresql_is_caught_at_the_right_entry() {
    let url = reprise_testkit::postgres_database_blocking();
    let ws = TestWorkspace::init();
    std::fs::create_dir_all(ws.path().join("data")).unwrap();
    std::fs::write(ws.path().join("data/a.txt"), "a").unwrap();
    ws.write_config(&format!(
        "{}{}",
        BASE.replace(
            "[workspace]\n",
            &format!("[workspace]\ncatalog = \"{url}\"\n")
        ),
        asset(
            "erp",
            "[[asset.dataset]]\nname = \"files\"\npaths = [\"data\"]\n"
        )
    ));
    ws.cmd().args(["backup", "erp"]).assert().success();
    ws.cmd()
        .args(["verify", "--read-data"])
        .env("REPRISE_USER", "claire")
        .assert()
        .success();
    journal_verify_points_at_tampering(&ws, &url, &[]);
}

/// Records users rely on are sealed: an incident edited in the catalog, a provenance row
/// slipped in, the newest entries cut off, the master key gone — each is named; an
/// administrator takes the catalog as it is only with a journaled reason.
#[test]
fn records_edited_entries_cut_off_and_a_missing_key_are_each_named() {
    let ws = TestWorkspace::init();
    with_backups(&ws);
    let db = ws.path().join(".reprise/catalog.db");
    let db = db.to_str().unwrap();
    ws.cmd()
        .args([
            "incident",
            "open",
            "Ransomware on the ERP",
            "--asset",
            "erp",
        ])
        .assert()
        .success();
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "records sealed by the journal match the catalog",
        ));
    // The title of the incident changed by hand: named, with the entry that sealed it.
    sql(
        db,
        "UPDATE incidents SET title = 'Nothing happened' WHERE id = 1",
    );
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "incident:1 was changed in the catalog since entry",
        ));
    sql(
        db,
        "UPDATE incidents SET title = 'Ransomware on the ERP' WHERE id = 1",
    );
    ws.cmd().args(["journal", "verify"]).assert().success();
    // A timeline event slipped in is a change of the incident too.
    sql(
        db,
        "INSERT INTO incident_events (incident_id, at_us, kind, actor, text) SELECT 1, at_us + 1, 'note', 'x', 'restored, all fine' FROM incident_events WHERE incident_id = 1 LIMIT 1",
    );
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("incident:1 was changed"));
    sql(
        db,
        "DELETE FROM incident_events WHERE text = 'restored, all fine'",
    );

    // A foreign snapshot made trusted by a row written by hand: not in the journal.
    sql(
        db,
        "INSERT INTO restore_points (repo_id, snapshot_id, asset_id, dataset, time_us) SELECT repo_id, 'f0f0f0f0', asset_id, dataset, time_us + 1 FROM restore_points LIMIT 1; INSERT INTO provenance (repo_id, snapshot_id, how, at_us) SELECT repo_id, 'f0f0f0f0', 'backup', 0 FROM restore_points LIMIT 1",
    );
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("/f0f0f0f0 is not in the journal"));
    sql(
        db,
        "DELETE FROM provenance WHERE snapshot_id = 'f0f0f0f0'; DELETE FROM restore_points WHERE snapshot_id = 'f0f0f0f0'",
    );

    // An export noted before the newest entries are cut off, head file and all.
    let noted = ws.path().join("noted");
    ws.cmd()
        .args(["journal", "export", noted.to_str().unwrap()])
        .assert()
        .success();
    let last: serde_json::Value = ws.json(&["journal", "list", "--limit", "1", "--json"]);
    let last = last[0]["seq"].as_i64().unwrap();
    sql(
        db,
        &format!("DELETE FROM journal WHERE seq >= {}", last - 1),
    );
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "entries {}–{last} are missing: the head file",
            last - 1
        )));
    // Entries written since do not bury the cut: the head file keeps witnessing it.
    ws.cmd().args(["backup", "erp"]).assert().success();
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "entry {last} is not the one the head file"
        )));
    // Without the head file, the noted verification still tells.
    let head = ws.path().join(".reprise/keys/journal.head");
    let kept = std::fs::read(&head).unwrap();
    std::fs::remove_file(&head).unwrap();
    let against = noted.join("verification.json");
    ws.cmd()
        .args(["journal", "verify", "--against", against.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "entry {last} is not the one {}",
            against.display()
        )));
    std::fs::write(&head, kept).unwrap();

    // The cut took the incident's newest seal with it: the incident no longer matches
    // the seal left. Sealing only what was never sealed leaves that reported; an
    // administrator accepts it explicitly, with a reason, and verify holds again.
    ws.cmd()
        .args(["journal", "seal"])
        .args([
            "--reason",
            "entries lost in the restore of 3 Dec, see ticket 42",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("BROKEN: incident:1 was changed"));
    ws.cmd()
        .args(["journal", "seal", "--accept-changes"])
        .args([
            "--reason",
            "entries lost in the restore of 3 Dec, see ticket 42",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("sealed incident:1"))
        .stdout(predicate::str::contains("the head file witnesses entry"));
    ws.cmd().args(["journal", "verify"]).assert().success();
    let entries = ws.json(&["journal", "list", "--limit", "3", "--json"]);
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "journal.head-witnessed"
                && e["detail"].as_str().unwrap().contains("ticket 42")),
        "{entries:#}"
    );

    // The master key gone: said plainly, and no new key is made in its place.
    let key = ws.path().join(".reprise/keys/master.key");
    std::fs::remove_file(&key).unwrap();
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("the master key is missing"));
    assert!(!key.exists(), "a new master key was made");
}
