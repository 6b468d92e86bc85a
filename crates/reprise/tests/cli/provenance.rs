//! Only Reprise's own restore points are trusted: a snapshot anyone with the repository
//! password writes, tagged for an asset, is listed as foreign and never restored,
//! planned, drilled or counted, unless an operator names it or adopts it.

use predicates::prelude::*;

use crate::support::{TestWorkspace, files_under, restic_in, restic_snapshot_id};

/// Writes a snapshot with stock restic, tagged as iredmail's mailboxes, holding one file
/// Reprise never saw; returns its id.
fn forge(ws: &TestWorkspace) -> String {
    let planted = ws.path().join("planted");
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::write(planted.join("ransom-note.txt"), "pay up\n").unwrap();
    let out = restic_in(
        ws,
        None,
        &[
            "backup",
            planted.to_str().unwrap(),
            "--host",
            "iredmail",
            "--tag",
            "asset:iredmail,dataset:mailboxes,policy:every-4h",
            "--json",
        ],
    );
    restic_snapshot_id(&out)
}

/// Restores iredmail's mailboxes into `dir` as Reprise chooses; the restore's JSON.
fn restore_newest(ws: &TestWorkspace, dir: &std::path::Path) -> serde_json::Value {
    ws.json(&[
        "restore",
        "iredmail",
        "--dataset",
        "mailboxes",
        "--target",
        dir.to_str().unwrap(),
        "--json",
    ])
}

fn restored_names(dir: &std::path::Path) -> Vec<String> {
    files_under(dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect()
}

#[test]
fn a_snapshot_reprise_did_not_make_is_foreign_until_adopted() {
    let ws = TestWorkspace::demo();
    let forged = forge(&ws);

    // Listed, marked foreign, and newest: yet not chosen.
    let points = ws.json(&["snapshots", "iredmail", "--json"]);
    let foreign: Vec<&serde_json::Value> = points
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["foreign"] == true)
        .collect();
    assert_eq!(foreign.len(), 1, "{points:#}");
    assert_eq!(foreign[0]["copies"][0]["snapshot"], forged.as_str());
    ws.cmd()
        .args(["snapshots", "iredmail"])
        .assert()
        .success()
        .stdout(predicate::str::contains("FOREIGN: not made by Reprise"));

    let target = ws.path().join("restore-newest");
    let restored = restore_newest(&ws, &target);
    assert_ne!(restored[0]["snapshot"], forged.as_str());
    assert_eq!(restored[0]["foreign"], false);
    assert!(
        !restored_names(&target).contains(&"ransom-note.txt".to_string()),
        "the forged data was restored"
    );

    // The restore of a whole outage (an incident step) does not take it either.
    let plan = ws.json(&["plan", "--simulate", "iredmail", "--json"]);
    let text = plan.to_string();
    assert!(!text.contains(&forged[..8]), "{text}");

    // Named by hand, it is restored with a warning, and journaled.
    let named = ws.path().join("restore-named");
    ws.cmd()
        .args([
            "restore",
            "iredmail",
            "--dataset",
            "mailboxes",
            "--snapshot",
            &forged[..8],
            "--target",
            named.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "was not made by Reprise (foreign)",
        ));
    assert!(restored_names(&named).contains(&"ransom-note.txt".to_string()));
    ws.cmd()
        .args(["journal", "list", "--limit", "500"])
        .assert()
        .success()
        .stdout(predicate::str::contains("restore.foreign"));

    // Adopting confirms what it is: the wrong data set is refused, naming its tags.
    ws.cmd()
        .args([
            "snapshots",
            "adopt",
            &forged[..8],
            "--asset",
            "iredmail",
            "--dataset",
            "config",
            "--reason",
            "copied back from the old NAS",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tagged asset:iredmail dataset:mailboxes",
        ));
    ws.cmd()
        .args([
            "snapshots",
            "adopt",
            &forged[..8],
            "--asset",
            "iredmail",
            "--dataset",
            "mailboxes",
            "--reason",
            "copied back from the old NAS",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("is now a restore point"));
    let points = ws.json(&["snapshots", "iredmail", "--json"]);
    assert!(
        points
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["foreign"] == false),
        "{points:#}"
    );
    ws.cmd()
        .args(["journal", "list", "--limit", "500"])
        .assert()
        .success()
        .stdout(predicate::str::contains("snapshot.adopted"));
    // Adopted, it is the newest restore point of its data set.
    let restored = restore_newest(&ws, &ws.path().join("restore-adopted"));
    assert_eq!(restored[0]["snapshot"], forged.as_str());
}
