//! `reprise inventory list|show|graph|impact|history` on the demo workspace.

use predicates::prelude::*;

use crate::support::TestWorkspace;

#[test]
fn list_shows_every_asset_and_filters_by_site() {
    let ws = TestWorkspace::demo();
    let all = ws.json(&["inventory", "list", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 15);
    let mail = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "iredmail")
        .unwrap();
    assert_eq!(mail["criticality"], "major");
    assert_eq!(mail["state"], "failed");
    assert_eq!(mail["rpo"], "4h");
    assert_eq!(mail["depends_on"][0], "router-vyos");

    let cameras = ws.json(&["inventory", "list", "--site", "entrepot", "--json"]);
    assert_eq!(cameras.as_array().unwrap().len(), 8);

    ws.cmd()
        .args(["inventory", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ID"))
        .stdout(predicate::str::contains("Serveur Iredmail"));
    ws.cmd()
        .args(["inventory", "list", "--site", "nowhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no site `nowhere` (sites: siege, entrepot)",
        ));
}

#[test]
fn show_gives_fields_dependents_and_history() {
    let ws = TestWorkspace::demo();
    let router = ws.json(&["inventory", "show", "router-vyos", "--json"]);
    assert_eq!(router["name"], "Routeur Vyos");
    assert_eq!(router["policy"], "daily");
    assert_eq!(router["dependents"].as_array().unwrap().len(), 5);
    assert_eq!(router["impact"].as_array().unwrap().len(), 6);
    assert_eq!(router["history"][0]["kind"], "added");
    assert_eq!(router["history"][0]["to_state"], "failed");
    assert_eq!(router["datasets"][0]["source"]["kind"], "command");

    ws.cmd()
        .args(["inventory", "show", "iredmail"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "criticality         major (Majeur)",
        ))
        .stdout(predicate::str::contains(
            "mailboxes [records]: data/iredmail/vmail",
        ));
    ws.cmd()
        .args(["inventory", "show", "mail"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no asset `mail`"))
        .stderr(predicate::str::contains("did you mean iredmail?"));
}

#[test]
fn impact_lists_transitive_dependents_nearest_first() {
    let ws = TestWorkspace::demo();
    let impact = ws.json(&["inventory", "impact", "router-vyos", "--json"]);
    let rows: Vec<(String, u64, String)> = impact
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["asset"].as_str().unwrap().to_string(),
                i["depth"].as_u64().unwrap(),
                i["via"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 6);
    assert!(rows[..5].iter().all(|(_, depth, _)| *depth == 1));
    // The VMS of the video site reaches the router through the VPN.
    assert_eq!(rows[5], ("vms".into(), 2, "openvpn".into()));

    ws.cmd()
        .args(["inventory", "impact", "cam-entree"])
        .assert()
        .success()
        .stdout(predicate::str::contains("No asset depends on cam-entree."));
}

#[test]
fn graph_renders_dot_mermaid_and_json() {
    let ws = TestWorkspace::demo();
    ws.cmd()
        .args(["inventory", "graph"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("digraph reprise {"))
        .stdout(predicate::str::contains("\"iredmail\" -> \"router-vyos\";"))
        .stdout(predicate::str::contains("subgraph \"cluster_entrepot\""));
    ws.cmd()
        .args([
            "inventory",
            "graph",
            "--format",
            "mermaid",
            "--site",
            "entrepot",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("flowchart LR"))
        // The VPN of the other site is drawn as an external node, not a bare id.
        .stdout(predicate::str::contains(
            "OpenVPN<br/>openvpn · siege\"]:::external",
        ));
    let graph = ws.json(&["inventory", "graph", "--format", "json"]);
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 15);
    let edges = graph["edges"].as_array().unwrap();
    assert!(
        edges
            .iter()
            .any(|e| e["from"] == "vms" && e["to"] == "openvpn")
    );
}

#[test]
fn history_records_state_changes_as_the_configuration_evolves() {
    let ws = TestWorkspace::demo();
    // Seed 004's evolution: the router comes back, then the mail server.
    let fixed = ws.config().replacen(
        "id = \"router-vyos\"\nname = \"Routeur Vyos\"\nsite = \"siege\"\ncategory = \"router\"\ncriticality = \"critical\"\nstate = \"failed\"",
        "id = \"router-vyos\"\nname = \"Routeur Vyos\"\nsite = \"siege\"\ncategory = \"router\"\ncriticality = \"critical\"\nstate = \"working\"",
        1,
    );
    assert_ne!(fixed, ws.config(), "the demo declares the router failed");
    ws.write_config(&fixed);
    let history = ws.json(&["inventory", "history", "router-vyos", "--json"]);
    let changes = history.as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1]["kind"], "state_changed");
    assert_eq!(changes[1]["from_state"], "failed");
    assert_eq!(changes[1]["to_state"], "working");
    // Reading again records nothing new.
    let again = ws.json(&["inventory", "history", "router-vyos", "--json"]);
    assert_eq!(again.as_array().unwrap().len(), 2);

    ws.cmd()
        .args(["inventory", "history"])
        .assert()
        .success()
        .stdout(predicate::str::contains("state failed → working"));
}

/// The state flows back: a finished step marks its asset working everywhere, a state
/// recorded by hand (R004.1) is the current one with since when, and the configuration
/// stays the starting point until it is changed there.
#[test]
fn a_finished_step_and_a_state_recorded_by_hand_become_the_current_state() {
    let ws = TestWorkspace::demo();
    let state_of = |ws: &TestWorkspace, id: &str| -> serde_json::Value {
        ws.json(&["inventory", "list", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(state_of(&ws, "router-vyos")["state"], "failed");
    assert_eq!(state_of(&ws, "router-vyos")["state_by"], "configuration");
    for args in [
        &["incident", "open", "Router down", "--asset", "router-vyos"][..],
        &["incident", "plan", "1", "--approve"],
        &["incident", "step", "1", "router-vyos", "start"],
        &[
            "incident",
            "step",
            "1",
            "router-vyos",
            "done",
            "--force",
            "--reason",
            "checked on site",
        ],
    ] {
        ws.cmd().args(args).assert().success();
    }
    let router = state_of(&ws, "router-vyos");
    assert_eq!(router["state"], "working", "{router:#}");
    assert!(router["state_since"].is_string());
    ws.cmd()
        .args(["inventory", "show", "router-vyos"])
        .assert()
        .success()
        .stdout(predicate::str::contains("working (Fonctionnel) since"))
        .stdout(predicate::str::contains("incident 1: step done"));
    // Status says it too, with since when.
    let status = ws.json(&["status", "--json"]);
    let router_status = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["asset"] == "router-vyos")
        .unwrap();
    assert_eq!(router_status["state"], "working");
    assert!(
        router_status["state_since"].is_string(),
        "{router_status:#}"
    );
    // Every view starts from it: the plan no longer has the router to restore.
    let plan = ws.json(&["plan", "--json"]);
    assert!(
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["asset"] != "router-vyos"),
        "{plan:#}"
    );

    // The state of the day, recorded by hand, with the time it was observed.
    ws.cmd()
        .args(["inventory", "set-state", "gui-storage", "défaillant"])
        .args(["--since", "2024-09-22 08:10", "--note", "both disks lost"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "gui-storage is failed (Défaillant) since 2024-09-22 08:10",
        ));
    let storage = state_of(&ws, "gui-storage");
    assert_eq!(storage["state"], "failed");
    assert_eq!(storage["state_since"], "2024-09-22T06:10:00Z");
    let journal = ws.json(&["journal", "list", "--limit", "5", "--json"]);
    assert!(
        journal
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "asset.state" && e["subject"] == "gui-storage"),
        "{journal:#}"
    );
    ws.cmd()
        .args(["inventory", "set-state", "gui-storage", "broken"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("STATE:"));

    // Changing the state in the configuration makes it the starting point again.
    let config = ws.config();
    assert_eq!(config.matches("state = \"partial\"").count(), 1);
    ws.write_config(&config.replace("state = \"partial\"", "state = \"working\""));
    let storage = state_of(&ws, "gui-storage");
    assert_eq!(storage["state"], "working", "{storage:#}");
    assert_eq!(storage["state_by"], "configuration");
}
