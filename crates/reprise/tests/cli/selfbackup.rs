//! Reprise protecting itself: its catalog and configuration are backed up into its
//! repositories, and a new machine rebuilds a working workspace from a repository and
//! its key alone.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, reprise, restic_in, restic_snapshot_id};

#[test]
fn a_lost_server_is_rebuilt_from_a_repository_and_its_key() {
    let ws = TestWorkspace::init();
    std::fs::write(
        ws.path().join("notes.txt"),
        "minutes of the crisis meeting\n",
    )
    .unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "files",
            "rpo = \"24h\"\n\n[[asset.dataset]]\nname = \"notes\"\npaths = [\"notes.txt\"]"
        )
    ));
    ws.cmd().args(["backup", "files"]).assert().success();
    ws.cmd().args(["verify", "--read-data"]).assert().success();
    // Someone with the repository password slipped in a newer snapshot for the asset.
    let planted = ws.path().join("planted");
    std::fs::create_dir_all(&planted).unwrap();
    std::fs::write(planted.join("notes.txt"), "pay up\n").unwrap();
    let forged = restic_snapshot_id(&restic_in(
        &ws,
        None,
        &[
            "backup",
            planted.to_str().unwrap(),
            "--tag",
            "asset:files,dataset:notes",
            "--json",
        ],
    ));
    let outcomes = ws.json(&["self-backup", "--json"]);
    assert_eq!(outcomes[0]["repository"], "local");
    assert_eq!(outcomes[0]["ok"], true, "{outcomes}");
    // Recorded, and visible to stock restic under its tag (the break-glass path).
    let runs = ws.json(&["runs", "--kind", "self-backup", "--json"]);
    assert_eq!(runs[0]["status"], "succeeded");
    let listed = Command::new("restic")
        .args(["snapshots", "--json", "--tag", "reprise-self", "--no-cache"])
        .env("RESTIC_REPOSITORY", ws.path().join("repository"))
        .env(
            "RESTIC_PASSWORD_FILE",
            ws.path().join(".reprise/keys/local.key"),
        )
        .output()
        .unwrap();
    assert!(listed.status.success());
    let snaps: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(snaps.as_array().unwrap().len(), 1);
    // Points of the assets are not confused with Reprise's own.
    assert_eq!(
        ws.json(&["snapshots", "--json"]).as_array().unwrap().len(),
        2,
        "the asset's point and the forged one"
    );

    // The server is lost. What is left: the repository disk, and the keys kept in a safe
    // (the repository's, and the master key that sealed the journal).
    let safe = tempfile::tempdir().unwrap();
    let key = safe.path().join("local.key");
    std::fs::copy(ws.path().join(".reprise/keys/local.key"), &key).unwrap();
    let master = safe.path().join("master.key");
    std::fs::copy(ws.path().join(".reprise/keys/master.key"), &master).unwrap();
    let new_machine = tempfile::tempdir().unwrap();
    let rebuilt = new_machine.path().join("reprise");
    std::fs::create_dir_all(&rebuilt).unwrap();
    std::fs::rename(ws.path().join("repository"), rebuilt.join("repository")).unwrap();
    let original_config = ws.config();
    drop(ws);

    // Given relative to where it runs, as an operator types it.
    reprise(new_machine.path())
        .args(["init", "reprise", "--from-repository", "reprise/repository"])
        .arg("--password-file")
        .arg(&key)
        .arg("--master-key-file")
        .arg(&master)
        .assert()
        .success()
        .stdout(predicate::str::contains("Rebuilt the workspace `Test`"))
        .stdout(predicate::str::contains(
            "repository `local` (the key you gave)",
        ))
        .stdout(predicate::str::contains("master key     put back"))
        .stdout(predicate::str::contains("missing key").not());
    let cmd = || reprise(&rebuilt);
    for private in [".reprise/catalog.db", ".reprise/keys/master.key"] {
        let mode = std::fs::metadata(rebuilt.join(private))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{private} is owner-only: {mode:o}");
    }
    // The journal came back whole, sealed by the same key, its head witnessed.
    cmd()
        .args(["journal", "verify"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "records sealed by the journal match",
        ));
    assert!(rebuilt.join(".reprise/keys/journal.head").exists());
    // The forged snapshot is still foreign there.
    let points = cmd()
        .args(["snapshots", "files", "--json"])
        .output()
        .unwrap();
    let points: serde_json::Value = serde_json::from_slice(&points.stdout).unwrap();
    let foreign: Vec<_> = points
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["foreign"] == true)
        .collect();
    assert_eq!(foreign.len(), 1, "{points:#}");
    assert_eq!(foreign[0]["copies"][0]["snapshot"], forged.as_str());
    assert_eq!(
        std::fs::read_to_string(rebuilt.join("reprise.toml")).unwrap(),
        original_config
    );
    let mode = std::fs::metadata(rebuilt.join(".reprise/keys/local.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "the key is private");
    cmd().arg("check").assert().success();
    // The history came back: the backup run, and the verified restore point.
    let out = cmd().args(["runs", "files", "--json"]).output().unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "backup" && r["status"] == "succeeded")
    );
    let out = cmd().args(["status", "--json"]).output().unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status[0]["rpo_status"], "ok", "{status:#}");
    // And the data restores from the rebuilt workspace.
    let target = new_machine.path().join("restored");
    cmd()
        .args(["restore", "files", "--target"])
        .arg(&target)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "minutes of the crisis meeting\n"
    );
}

#[test]
fn recovery_says_what_is_wrong() {
    let ws = TestWorkspace::init();
    let key = ws.path().join(".reprise/keys/local.key");
    let target = tempfile::tempdir().unwrap();
    // No self-backup in the repository yet.
    reprise(target.path())
        .args(["init", "new", "--from-repository"])
        .arg(ws.path().join("repository"))
        .arg("--password-file")
        .arg(&key)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds no self-backup of Reprise"));
    // The wrong key.
    ws.cmd().arg("self-backup").assert().success();
    let wrong = target.path().join("wrong.key");
    std::fs::write(&wrong, "not the key\n").unwrap();
    reprise(target.path())
        .args(["init", "new", "--from-repository"])
        .arg(ws.path().join("repository"))
        .arg("--password-file")
        .arg(&wrong)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("password"));
    // A directory that already holds a workspace is never overwritten.
    ws.cmd()
        .args(["init", ".", "--from-repository"])
        .arg(ws.path().join("repository"))
        .arg("--password-file")
        .arg(&key)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "already holds a Reprise workspace",
        ));
    assert!(!target.path().join("new/reprise.toml").exists());

    // The repository read from elsewhere than configured, and no master key given: only
    // what is really missing is named, and where the repository is said.
    reprise(target.path())
        .args(["init", "new", "--from-repository"])
        .arg(ws.path().join("repository"))
        .arg("--password-file")
        .arg(&key)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "repository `local` (the key you gave)",
        ))
        .stdout(predicate::str::contains(format!(
            "repository `local` is configured at {}",
            target
                .path()
                .canonicalize()
                .unwrap()
                .join("new/repository")
                .display()
        )))
        .stdout(predicate::str::contains("missing key    ").count(1))
        .stdout(predicate::str::contains("new/.reprise/keys/master.key"));
    // Nothing can be verified, and it says so, without making another key.
    reprise(&target.path().join("new"))
        .args(["journal", "verify"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("the master key is missing"));
    assert!(!target.path().join("new/.reprise/keys/master.key").exists());
}
