use std::os::unix::fs::PermissionsExt;

use predicates::prelude::*;

use crate::support::{TestWorkspace, reprise};

#[test]
fn init_creates_a_workspace_with_a_private_key_and_says_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = reprise(dir.path())
        .args(["init", "site"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let root = dir.path().join("site").canonicalize().unwrap();
    let key = root.join(".reprise/keys/local.key");
    assert!(stdout.contains(&key.display().to_string()), "{stdout}");
    assert!(stdout.contains("only way to read your backups"), "{stdout}");
    assert!(stdout.contains("Keep a copy somewhere safe"), "{stdout}");

    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the key is readable by its owner only");
    let secret = std::fs::read_to_string(&key).unwrap();
    assert_eq!(secret.trim().len(), 64);
    assert!(secret.trim().chars().all(|c| c.is_ascii_hexdigit()));
    assert!(
        !stdout.contains(secret.trim()),
        "the key itself is never printed"
    );

    assert!(root.join("reprise.toml").is_file());
    assert!(root.join(".reprise/catalog.db").is_file());
    assert!(root.join("repository").is_dir());
    let config = std::fs::read_to_string(root.join("reprise.toml")).unwrap();
    assert!(config.contains("# Reprise workspace configuration."));

    // The fresh workspace is valid as it is.
    reprise(&root).arg("check").assert().success();
}

#[test]
fn init_refuses_to_overwrite_a_workspace() {
    let ws = TestWorkspace::init();
    let before = ws.config();
    ws.cmd()
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "already holds a Reprise workspace",
        ));
    assert_eq!(ws.config(), before);
}

#[test]
fn commands_find_the_workspace_from_a_subdirectory_like_git() {
    let ws = TestWorkspace::init();
    let deep = ws.path().join("docs/procedures");
    std::fs::create_dir_all(&deep).unwrap();
    reprise(&deep)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains("valid"));
}

#[test]
fn outside_a_workspace_commands_say_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    reprise(dir.path())
        .args(["inventory", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no Reprise workspace found"))
        .stderr(predicate::str::contains("reprise init"));
}

#[test]
fn the_workspace_can_be_named_by_flag_or_environment() {
    let ws = TestWorkspace::init();
    let elsewhere = tempfile::tempdir().unwrap();
    reprise(elsewhere.path())
        .arg("--workspace")
        .arg(ws.path())
        .arg("check")
        .assert()
        .success();
    reprise(elsewhere.path())
        .env("REPRISE_WORKSPACE", ws.path())
        .arg("check")
        .assert()
        .success();
    reprise(elsewhere.path())
        .arg("--workspace")
        .arg(elsewhere.path())
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a Reprise workspace"));
}

#[test]
fn help_documents_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    reprise(dir.path())
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Exit codes: 0 success, 1 the operation failed, 2 bad usage",
        ));
    reprise(dir.path()).arg("no-such-command").assert().code(2);
}
