//! Habits of command-line tools that users and their scripts rely on: completions, man
//! pages and errors a program can read.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, reprise};

#[test]
fn completions_and_man_pages_come_from_the_command_line_itself() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_reprise()"),
        ("zsh", "#compdef reprise"),
        ("fish", "complete -c reprise"),
    ] {
        reprise(dir.path())
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker).and(predicate::str::contains("devices")));
    }
    reprise(dir.path())
        .args(["man", "--out", "man"])
        .assert()
        .success()
        .stdout(predicate::str::contains("man pages"));
    let page = std::fs::read_to_string(dir.path().join("man/reprise.1")).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH reprise 1"),
        "{page}"
    );
    let backup = std::fs::read_to_string(dir.path().join("man/reprise-backup.1")).unwrap();
    assert!(backup.contains("Print the result as JSON"), "{backup}");
    assert!(dir.path().join("man/reprise-incident-open.1").exists());
}

#[test]
fn under_json_errors_are_json_on_standard_error() {
    let ws = TestWorkspace::init();
    let out = ws
        .cmd()
        .args(["inventory", "show", "nope", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["code"], "not_found", "{err}");
    assert!(err["message"].as_str().unwrap().contains("nope"), "{err}");
    assert!(out.stdout.is_empty());
    // A configuration with a mistake: every problem located, in the same object.
    ws.write_config(&format!(
        "{BASE}{}",
        asset("mail", "dependson = [\"router\"]")
    ));
    let out = ws.cmd().args(["status", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["code"], "invalid_configuration", "{err}");
    assert!(
        err["problems"][0]
            .as_str()
            .unwrap()
            .contains("reprise.toml:"),
        "{err}"
    );
    // What clap cannot read.
    let out = ws
        .cmd()
        .args(["backup", "--json", "--bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["code"], "usage", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("--bogus"),
        "{err}"
    );
    // Without --json, people get words.
    ws.cmd()
        .args(["backup", "--bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error:"));
}
