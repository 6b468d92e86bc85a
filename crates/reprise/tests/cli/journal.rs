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
