//! Restore requests: an incomplete one refused with every missing field named in the
//! requester's language; one outside retention found infeasible with the alternative
//! offered, then taken; a full one approved, run, checked and reported, its bytes equal
//! to the original; a window missed.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset};

/// A workspace with asset `erp` (a `records` data set, with a check command) backed up
/// and its data read back (the point is proven).
fn backed_up() -> TestWorkspace {
    let ws = TestWorkspace::init();
    let data = ws.path().join("data");
    std::fs::create_dir_all(data.join("invoices")).unwrap();
    std::fs::write(data.join("customers.csv"), "id,name\n1,Durand\n2,Martin\n").unwrap();
    std::fs::write(data.join("invoices/2026-11.txt"), "F-001 1200 EUR\n").unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "erp",
            "[[asset.dataset]]\nname = \"files\"\npaths = [\"data\"]\ncategory = \"records\"\ndrill_check = \"grep -rq Durand .\"\n"
        )
    ));
    ws.cmd().args(["backup", "erp"]).assert().success();
    ws.cmd()
        .args(["verify", "--read-data", "erp"])
        .assert()
        .success();
    ws
}

fn request_file(ws: &TestWorkspace, name: &str, text: &str) -> String {
    let path = ws.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn an_incomplete_request_is_refused_whole_with_every_missing_field_named() {
    let ws = backed_up();
    let file = request_file(
        &ws,
        "incomplete.toml",
        "requester = \"Claire Martin, comptabilité\"\nlang = \"fr\"\n\n[scope]\nassets = [\"erp\"]\n",
    );
    ws.cmd()
        .args(["request", "submit", &file])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Demande refusée"))
        .stderr(predicate::str::contains("rien n'a été enregistré"))
        .stderr(predicate::str::contains(
            "environment: manquant : production, staging ou tenant:NOM",
        ))
        .stderr(predicate::str::contains("target: manquant"))
        .stderr(predicate::str::contains("context.kind: manquant"))
        .stderr(predicate::str::contains("context.description: manquant"))
        .stderr(predicate::str::contains("urgency: manquant"))
        .stderr(predicate::str::contains("impact: manquant"))
        .stderr(predicate::str::contains("downtime.approved: manquant"))
        .stderr(predicate::str::contains("requester").not())
        .stderr(predicate::str::contains("scope:").not());
    // The same as JSON names the fields for programs.
    let out = ws
        .cmd()
        .args(["request", "submit", &file, "--json"])
        .assert()
        .code(2)
        .get_output()
        .stdout
        .clone();
    let refused: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["missing"].as_array().unwrap().len(), 7);
    // An unknown asset or field is named too; a typo in a key is located in the file.
    let unknown = request_file(
        &ws,
        "unknown.toml",
        &ws.cmd()
            .args(["request", "template"])
            .output()
            .unwrap()
            .stdout
            .iter()
            .map(|b| *b as char)
            .collect::<String>()
            .replace("assets = [\"erp\"]", "assets = [\"crm\"]"),
    );
    ws.cmd()
        .args(["request", "submit", &unknown])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("scope: no asset `crm`"));
    let typo = request_file(&ws, "typo.toml", "requester = \"x\"\nurgnecy = \"high\"\n");
    ws.cmd()
        .args(["request", "submit", &typo])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("typo.toml:2:1:"))
        .stderr(predicate::str::contains("urgnecy"));
    // Nothing was recorded.
    let all = ws.json(&["request", "list", "--all", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 0);
}

const OLD: &str = r#"requester = "Paul, support"
environment = "production"
urgency = "normal"
impact = "one customer's history is missing"

[scope]
datasets = ["erp/files"]

[target]
at = "2020-01-01 00:00"

[context]
kind = "faulty-import"
description = "a 2019 import removed a customer"

[downtime]
approved = false
"#;

#[test]
fn a_request_outside_retention_is_infeasible_and_offers_the_alternative() {
    let ws = backed_up();
    let file = request_file(&ws, "old.toml", OLD);
    let out = ws
        .cmd()
        .args(["request", "submit", &file, "--json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let submitted: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let view = &submitted["view"];
    assert_eq!(view["state"], "infeasible", "{view:#}");
    let f = &view["feasibility"][0];
    assert_eq!(f["verdict"], "expired");
    let alternative = f["alternatives"][0]["snapshot"].as_str().unwrap();
    let points = ws.json(&["snapshots", "erp", "--json"]);
    assert!(alternative.starts_with(points[0]["copies"][0]["snapshot"].as_str().unwrap()));
    // The requester sees why and what instead.
    ws.cmd()
        .args(["request", "show", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("State: infeasible"))
        .stdout(predicate::str::contains(
            "expired: the target is older than what retention keeps",
        ))
        .stdout(predicate::str::contains(format!(
            "alternative: {}",
            &alternative[..8]
        )));
    // Approval is refused until it is feasible; taking the alternative makes it so.
    ws.cmd()
        .args(["request", "approve", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only a request awaiting approval"));
    let view = ws.json(&[
        "request",
        "assess",
        "1",
        "--snapshot",
        &alternative[..8],
        "--json",
    ]);
    assert_eq!(view["state"], "awaiting-approval");
    assert_eq!(view["feasible"], true);
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["submitted", "assessed", "target", "assessed"]);
    // Cancelled: closed, gone from the open list and from status.
    ws.cmd()
        .args(["request", "cancel", "1", "--reason", "found in the archive"])
        .assert()
        .success();
    assert_eq!(
        ws.json(&["request", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn a_full_request_is_approved_run_checked_and_reported() {
    let ws = backed_up();
    let original = std::fs::read(ws.path().join("data/customers.csv")).unwrap();
    // The faulty import: the data is damaged after the backup.
    std::fs::write(ws.path().join("data/customers.csv"), "id,name\n").unwrap();
    let now = jiff::Timestamp::now();
    let window = format!(
        "{}/{}",
        now - jiff::SignedDuration::from_secs(60),
        now + jiff::SignedDuration::from_secs(3600)
    );
    let text = format!(
        r#"requester = "Claire Martin, comptabilité"
lang = "fr"
environment = "production"
urgency = "high"
impact = "facturation bloquée"

[scope]
categories = ["records"]

[target]
at = "{now}"

[context]
kind = "faulty-import"
description = "l'import CSV a vidé le fichier clients"

[downtime]
approved = true
window = "{window}"
"#
    );
    let file = request_file(&ws, "full.toml", &text);
    ws.cmd()
        .args(["request", "submit", &file])
        .assert()
        .success()
        .stdout(predicate::str::contains("État : en attente d'approbation"))
        .stdout(predicate::str::contains(
            "un point de restauration vérifié correspond",
        ));
    ws.cmd()
        .args(["request", "approve", "1", "--note", "accord DAF"])
        .assert()
        .success();
    ws.cmd()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("#1 scheduled — erp/files"));
    let view = ws.json(&["request", "run", "1", "--json"]);
    assert_eq!(view["state"], "checking", "{view:#}");
    let restored = &view["execution"]["restored"][0];
    let target = std::path::PathBuf::from(restored["target"].as_str().unwrap());
    assert!(target.starts_with(ws.path().join(".reprise/requests/1")));
    // The exact bytes of the point, beside production (never over it).
    let copy = std::fs::read(
        crate::support::files_under(&target)
            .into_iter()
            .find(|p| p.ends_with("customers.csv"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(copy, original);
    assert_eq!(
        std::fs::read_to_string(ws.path().join("data/customers.csv")).unwrap(),
        "id,name\n"
    );
    let checks = view["checks"].as_array().unwrap();
    let automatic: Vec<(&str, bool)> = checks
        .iter()
        .filter(|c| c["automatic"] == true)
        .map(|c| (c["key"].as_str().unwrap(), c["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        automatic,
        [
            ("files:integrity", true),
            ("files:counters", true),
            ("files:command", true)
        ]
    );
    let manual: Vec<&str> = checks
        .iter()
        .filter(|c| c["automatic"] == false)
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(!manual.is_empty());
    for key in &manual {
        ws.cmd()
            .args(["request", "check", "1", "erp", key, "pass"])
            .assert()
            .success();
    }
    let view = ws.json(&["request", "show", "1", "--json"]);
    assert_eq!(view["state"], "completed");
    // The report, in the requester's language, as text and PDF.
    let pdf = ws.path().join("request-1.pdf");
    ws.cmd()
        .args(["request", "report", "1", "--pdf", pdf.to_str().unwrap()])
        .assert()
        .success();
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    let read = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let read = String::from_utf8(read.stdout).unwrap();
    for (en, fr) in [
        ("Feasibility", "Faisabilité"),
        ("Execution", "Exécution"),
        ("Timeline", "Chronologie"),
        ("✓", "✓"),
    ] {
        assert!(
            read.contains(en) || read.contains(fr),
            "{en} / {fr} not in the report:\n{read}"
        );
    }
    ws.cmd()
        .args(["request", "report", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "RAPPORT DE DEMANDE DE RESTAURATION #1",
        ))
        .stdout(predicate::str::contains("État : terminée"))
        .stdout(predicate::str::contains("Approuvée par"))
        .stdout(predicate::str::contains("(accord DAF)"))
        .stdout(predicate::str::contains("erp/files depuis"))
        .stdout(predicate::str::contains("[ok] erp/files:command"))
        // The timeline is French too: its events and what they say.
        .stdout(predicate::str::contains(
            "restaurée, tous les contrôles sont conformes",
        ))
        .stdout(predicate::str::contains("completed").not())
        .stdout(predicate::str::contains("feasible from").not());
}

#[test]
fn a_request_whose_window_closed_before_it_ran_fails_and_says_why() {
    let ws = backed_up();
    let now = jiff::Timestamp::now();
    let text = OLD.replace("2020-01-01 00:00", &now.to_string()).replace(
        "approved = false",
        &format!(
            "approved = true\nwindow = \"{}/{}\"",
            now - jiff::SignedDuration::from_secs(60),
            now + jiff::SignedDuration::from_secs(3)
        ),
    );
    let file = request_file(&ws, "short.toml", &text);
    ws.cmd()
        .args(["request", "submit", &file])
        .assert()
        .success();
    ws.cmd()
        .args(["request", "approve", "1"])
        .assert()
        .success();
    std::thread::sleep(std::time::Duration::from_secs(4));
    ws.cmd()
        .args(["request", "run", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("closed at"));
    let view = ws.json(&["request", "show", "1", "--json"]);
    assert_eq!(view["state"], "failed");
    assert!(view["outcome"].as_str().unwrap().contains("before it ran"));
}
