//! `reprise demo`: the showcase must work in one command.

use predicates::prelude::*;

use crate::support::reprise;

#[test]
fn the_demo_builds_a_valid_workspace_with_both_seed_sites_and_real_data() {
    let dir = tempfile::tempdir().unwrap();
    reprise(dir.path())
        .arg("demo")
        .assert()
        .success()
        .stdout(predicate::str::contains("2 sites and 15 assets"))
        .stdout(predicate::str::contains("reprise inventory list"));
    let root = dir.path().join("reprise-demo");
    // Valid, with no warning: every data set points at real files.
    reprise(&root)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "valid — 2 sites, 15 assets, 3 policies, 3 repositories\n",
        ))
        .stderr(predicate::str::is_empty());
    // The file server is backed up by its agent, through the server, and drilled there.
    let agents: serde_json::Value = serde_json::from_slice(
        &reprise(&root)
            .args(["agent", "list", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(agents[0]["host"], "srv-fichiers", "{agents}");
    assert_eq!(agents[0]["assets"], serde_json::json!(["srv-fichiers"]));
    assert!(agents[0]["last_backup"].is_string(), "{agents}");
    let drills = reprise(&root)
        .args(["drill", "history", "srv-fichiers", "--json"])
        .output()
        .unwrap();
    let drills = String::from_utf8_lossy(&drills.stdout);
    assert!(drills.contains("on host srv-fichiers"), "{drills}");
    // The entrance camera was read over HTTP, changed, and the change backed up at once;
    // its diff masks the password, the restore point keeps it.
    let devices: serde_json::Value = serde_json::from_slice(
        &reprise(&root)
            .args(["devices", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(devices[0]["asset"], "cam-entree", "{devices}");
    assert!(!devices[0]["changed"].is_null(), "{devices}");
    reprise(&root)
        .args(["devices", "diff", "cam-entree"])
        .assert()
        .success()
        .stdout(predicate::str::contains("+{\"model\": \"IPC-4MP\""))
        .stdout(predicate::str::contains("\"recording\": \"motion\""))
        .stdout(predicate::str::contains("Quai-2026").not());
    // The camera stopped with the demo: reading it now says so, and stores nothing.
    reprise(&root)
        .args(["devices", "check", "cam-entree"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("cannot reach"));
    let mail = std::fs::read_dir(root.join("data/iredmail/vmail/direction/cur"))
        .unwrap()
        .count();
    assert_eq!(mail, 1);
    reprise(dir.path())
        .arg("demo")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "already holds a Reprise workspace",
        ));
}
