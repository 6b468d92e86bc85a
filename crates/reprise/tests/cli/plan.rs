//! `reprise plan`: the recovery order of seeds 004 and 000 on the demo, explained, with
//! restore points and predictions; simulation, the minimal variant, French.

use predicates::prelude::*;

use crate::support::TestWorkspace;

fn order(plan: &serde_json::Value) -> Vec<String> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["asset"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_demo_plan_follows_seed_004_and_the_simulation_follows_seed_000() {
    let ws = TestWorkspace::demo();
    // The demo's inventory: seed 004 after the power failure.
    let plan = ws.json(&["plan", "--json"]);
    assert_eq!(
        order(&plan),
        [
            "router-vyos",
            "iredmail",
            "openvpn",
            "zabbix",
            "gui-storage",
            "windows-core"
        ]
    );
    let router = &plan["steps"][0];
    assert_eq!(router["tier"], 1);
    assert_eq!(router["own_tier"], 2);
    assert_eq!(router["wave"], 1);
    assert!(
        router["reason"]
            .as_str()
            .unwrap()
            .contains("pulled forward from tier 2")
    );
    assert_eq!(router["action"]["kind"], "restore");
    // Each restore step names the verified restore point it will use.
    let estimate = plan["estimates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["asset"] == "iredmail")
        .unwrap();
    let datasets: Vec<&str> = estimate["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(datasets, ["mailboxes", "config"]);
    assert!(
        estimate["points"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["integrity"]["status"] == "verified")
    );
    assert_eq!(plan["degraded"][0]["asset"], "vms");

    // Seed 000: what if the video site went down?
    let video = [
        "sw-coeur",
        "sw-parking",
        "nvr-1",
        "vms",
        "cam-entree",
        "cam-sortie-quai",
        "cam-parking",
        "cam-couloir",
    ];
    let mut args = vec!["plan", "--json", "--technicians", "2", "--simulate"];
    args.extend(video);
    let simulated = ws.json(&args);
    assert_eq!(simulated["simulated"], true);
    assert_eq!(
        order(&simulated),
        [
            "sw-coeur",
            "nvr-1",
            "cam-entree",
            "cam-sortie-quai",
            "sw-parking",
            "vms",
            "cam-couloir",
            "cam-parking"
        ]
    );
    assert_eq!(
        simulated["waves"][2]["assets"],
        serde_json::json!(["cam-entree", "cam-sortie-quai"])
    );

    // Minimal continuity: the top tier only, with stand-ins.
    let mut args = vec!["plan", "--json", "--minimal", "--simulate"];
    args.extend(video);
    let minimal = ws.json(&args);
    assert_eq!(
        order(&minimal),
        ["sw-coeur", "nvr-1", "cam-entree", "cam-sortie-quai"]
    );
    assert_eq!(minimal["steps"][2]["action"]["kind"], "stand-in");

    // For people, in French.
    ws.cmd()
        .args(["plan", "--lang", "fr"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Plan de reprise — 6 élément(s)"))
        .stdout(predicate::str::contains(
            "pourquoi : niveau 1, avancé depuis le niveau 2",
        ))
        .stdout(predicate::str::contains(
            "vérifier : connectivité réseau testée",
        ));
}

#[test]
fn nothing_to_recover_and_unknown_assets_are_clear() {
    let ws = TestWorkspace::init();
    ws.cmd()
        .arg("plan")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "nothing to recover: every asset is working",
        ));
    ws.cmd()
        .args(["plan", "--simulate", "ghost"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no asset `ghost`"));
}
