//! Drills: restores into a sandbox, verified, with measured RTO and RPO; a failing check
//! command fails the drill and raises an alert; a drill killed mid-restore leaves no
//! sandbox behind once the next one runs; the report for auditors, in French and PDF.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, incompressible_files};

#[test]
fn a_drill_passes_a_failing_check_fails_it_and_the_report_says_so() {
    let ws = TestWorkspace::init();
    std::fs::write(
        ws.path().join("dump.sql"),
        "CREATE TABLE visits (id int);\n",
    )
    .unwrap();
    let config = format!(
        "{BASE}{}",
        asset(
            "db",
            "rto = \"1h\"\n\n[[asset.dataset]]\nname = \"dump\"\npaths = [\"dump.sql\"]\ndrill_check = \"grep -q 'CREATE TABLE visits' dump.sql && echo schema present\"\n"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "db"]).assert().success();
    let drills = ws.json(&["drill", "run", "db", "--json"]);
    let drill = &drills[0];
    assert_eq!(drill["ok"], true, "{drill:#}");
    let record = &drill["record"];
    assert!(record["measured_rto_seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(record["rto_seconds"], 3600);
    let checks: Vec<&str> = record["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(checks[..3], ["content", "file count", "size"]);
    assert!(
        record["checks"][3]["detail"]
            .as_str()
            .unwrap()
            .contains("schema present")
    );
    // Never the production location, and nothing left behind.
    assert!(
        std::fs::read_dir(ws.path().join(".reprise/drills"))
            .map(|d| d.count() == 0)
            .unwrap_or(true)
    );

    // The check now fails: so does the drill, with the command's output kept, and an alert.
    ws.write_config(&config.replace(
        "grep -q 'CREATE TABLE visits' dump.sql && echo schema present",
        "echo table missing >&2; exit 4",
    ));
    ws.cmd()
        .args(["drill", "run", "db"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED  db/dump"))
        .stdout(predicate::str::contains("table missing"));
    let alerts = ws.json(&["alerts", "--json"]);
    let alert = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "drill:db")
        .unwrap_or_else(|| panic!("{alerts:#}"));
    assert_eq!(alert["severity"], "critical");
    let history = ws.json(&["drill", "history", "db", "--json"]);
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["ok"], false);

    // The report for auditors, in French, as text and PDF.
    let pdf = ws.path().join("drills.pdf");
    ws.cmd()
        .args(["drill", "report", "--lang", "fr", "--pdf"])
        .arg(&pdf)
        .assert()
        .success();
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for expected in [
        "RAPPORT DES TESTS DE RESTAURATION",
        "ÉCHOUÉ",
        "RÉUSSI",
        "RTO mesuré",
        "nombre de fichiers",
        "Prestataire",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
    // A document: fonts embedded.
    let fonts = Command::new("pdffonts").arg(&pdf).output().unwrap();
    let fonts = String::from_utf8(fonts.stdout).unwrap();
    assert!(fonts.lines().count() > 2, "{fonts}");
    assert!(
        fonts.lines().skip(2).all(|l| l.contains(" yes ")),
        "{fonts}"
    );
    // A report per period: the quarter's drills, or none for a quarter still to come.
    let today = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date();
    ws.cmd()
        .args(["drill", "report", "--since", &today.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "Test — {today} → …\n2 drill(s)"
        )));
    let next_year = today.checked_add(jiff::Span::new().years(1)).unwrap();
    ws.cmd()
        .args(["drill", "report", "--since", &next_year.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains("0 drill(s)"));
}

#[test]
fn a_drill_killed_mid_restore_leaves_no_sandbox_once_the_next_one_runs() {
    let ws = TestWorkspace::init();
    incompressible_files(&ws.path().join("big"), 48);
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "big",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"big\"]"
        )
    ));
    ws.cmd().args(["backup", "big"]).assert().success();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("reprise"))
        .args(["drill", "run", "big"])
        .current_dir(ws.path())
        .env_remove("REPRISE_WORKSPACE")
        .env_remove("REPRISE_CATALOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sandboxes = ws.path().join(".reprise/drills");
    let has_files = || {
        std::fs::read_dir(&sandboxes)
            .map(|d| {
                d.flatten()
                    .any(|s| crate::support::files_under(&s.path()).len() > 2)
            })
            .unwrap_or(false)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !has_files() {
        assert!(
            Instant::now() < deadline,
            "the drill never wrote into its sandbox"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the drill finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        std::fs::read_dir(&sandboxes).unwrap().count() > 0,
        "killed: its sandbox is still there"
    );
    ws.cmd().args(["drill", "run", "big"]).assert().success();
    assert_eq!(std::fs::read_dir(&sandboxes).unwrap().count(), 0);
}

#[test]
fn a_data_set_whose_drill_failed_is_an_alert_even_when_another_one_passed_after_it() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("dump.sql"), "CREATE TABLE mail (id int);\n").unwrap();
    std::fs::write(ws.path().join("main.cf"), "relayhost = smtp\n").unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "mail",
            "rto = \"1h\"\n\n[[asset.dataset]]\nname = \"mailboxes\"\npaths = [\"dump.sql\"]\ndrill_check = \"echo mailbox index unreadable >&2; exit 3\"\n\n[[asset.dataset]]\nname = \"config\"\npaths = [\"main.cf\"]\n"
        )
    ));
    ws.cmd().args(["backup", "mail"]).assert().success();
    // The mailboxes are drilled first and fail; the configuration passes after them.
    ws.cmd()
        .args(["drill", "run", "mail"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED  mail/mailboxes"))
        .stdout(predicate::str::contains("PASSED  mail/config"));
    let alerts = ws.json(&["alerts", "--json"]);
    let alert = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "drill:mail")
        .unwrap_or_else(|| panic!("no drill alert: {alerts:#}"));
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .starts_with("mail/mailboxes: the last restore test failed"),
        "{alert:#}"
    );
    // Readiness does not tick "a restore test passed" for the asset.
    let r = ws.json(&["readiness", "--json"]);
    let drill = r["assets"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "drill")
        .unwrap()
        .clone();
    assert_eq!(drill["met"], false, "{drill:#}");
    assert!(
        drill["blocker"]
            .as_str()
            .unwrap()
            .contains("the last restore test of mailboxes failed"),
        "{drill:#}"
    );
}
