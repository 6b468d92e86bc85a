//! Go-live readiness (seed 003): each item computed from facts, a ready asset beside a
//! blocked one, approvals that lapse when the targets change.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset};

fn items(r: &serde_json::Value, id: &str) -> Vec<(String, bool)> {
    r["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset"] == id)
        .unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_string(),
                i["met"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_ready_asset_beside_a_blocked_one() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    std::fs::write(
        ws.path().join("restore-requests.md"),
        "# How to ask for a restore\n",
    )
    .unwrap();
    let config = format!(
        "{}{}{}",
        BASE.replace(
            "[workspace]\n",
            "[workspace]\nrestore_procedure = \"restore-requests.md\"\n"
        ),
        asset(
            "app",
            "rpo = \"24h\"\nrto = \"4h\"\n\n[[asset.dataset]]\nname = \"notes\"\npaths = [\"notes.txt\"]"
        ),
        asset(
            "legacy",
            "\n[[asset.dataset]]\nname = \"notes\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "--all"]).assert().success();
    ws.cmd().args(["drill", "run", "app"]).assert().success();
    ws.cmd()
        .args([
            "readiness",
            "approve",
            "app",
            "--by",
            "Mina (business owner)",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "RPO 24h and RTO 4h approved by Mina (business owner)",
        ));
    let r = ws.json(&["readiness", "--json"]);
    assert!(items(&r, "app").iter().all(|(_, met)| *met), "{r:#}");
    let legacy = items(&r, "legacy");
    let blocked: Vec<&str> = legacy
        .iter()
        .filter(|(_, m)| !m)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(blocked, ["drill", "approval"]);
    assert_eq!(r["sites"][0]["ready"], false);
    assert_eq!(r["sites"][0]["assets_ready"], 1);
    ws.cmd()
        .args(["readiness", "--lang", "fr"])
        .assert()
        .success()
        .stdout(predicate::str::contains("app (app name) — prêt"))
        .stdout(predicate::str::contains(
            "[ ] RPO/RTO validés par la MOA — RPO ou RTO non définis",
        ));

    // The targets change: the approval no longer holds.
    ws.write_config(&config.replace("rto = \"4h\"", "rto = \"2h\""));
    let r = ws.json(&["readiness", "--json"]);
    let approval = r["assets"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "approval")
        .unwrap()
        .clone();
    assert_eq!(approval["met"], false);
    assert!(
        approval["blocker"]
            .as_str()
            .unwrap()
            .contains("the targets changed since Mina (business owner) approved RPO 24h / RTO 4h")
    );
}
