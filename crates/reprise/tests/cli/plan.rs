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
    assert_eq!(router["own_tier"], 1, "R004.2: network is priority 1");
    assert_eq!(router["wave"], 1);
    assert!(
        router["reason"]
            .as_str()
            .unwrap()
            .contains("tier 1: network, messaging and supervision"),
        "{router:#}"
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
    // The video site's own rule set, defined with its client, decided it.
    assert_eq!(
        simulated["steps"][2]["rule"],
        "site entrepot rule 1: cameras and recorders of the entrances and exits"
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
            "pourquoi : niveau 1 : réseau, messagerie et supervision",
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

/// Seed 004's state table as the seed writes it (OpenVPN and Zabbix filed under `Réseau`
/// for their network cards), with the function of each element.
const SEED_004_AS_WRITTEN: &str = "\
Élément;Catégorie;Fonction;Criticité;État;Date de résolution prévue
Serveur Iredmail;Messagerie;messagerie;Majeur;Défaillant;En attente
Routeur Vyos;Réseau;routage;Critique;Défaillant;En attente
Serveur GUI : Disques de sauvegarde et stockage;Stockage;stockage;Majeur;Fonctionnel en partie;En attente
Windows Server Core;Serveur;;Mineur;Défaillant;En attente
OpenVPN : Carte réseau;Réseau;accès distant;Majeur;Défaillant;En attente
Zabbix : Carte réseau;Réseau;supervision;Majeur;Défaillant;En attente
";

fn imported(table: &str) -> TestWorkspace {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("table.csv"), table).unwrap();
    ws.cmd()
        .args(["inventory", "import", "table.csv"])
        .assert()
        .success();
    ws
}

fn step<'a>(plan: &'a serde_json::Value, asset: &str) -> &'a serde_json::Value {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["asset"] == asset)
        .unwrap_or_else(|| panic!("no step for {asset} in {plan:#}"))
}

#[test]
fn seed_004_imported_as_written_is_planned_as_its_strategy_says() {
    let ws = imported(SEED_004_AS_WRITTEN);
    let plan = ws.json(&["plan", "--json"]);
    let got = order(&plan);
    // R004.2: network, messaging and supervision first (the router, most critical,
    // leading), storage second, the minor server last.
    assert_eq!(got[0], "routeur-vyos", "{got:?}");
    let mut first: Vec<&str> = got[1..4].iter().map(String::as_str).collect();
    first.sort();
    assert_eq!(
        first,
        [
            "openvpn-carte-reseau",
            "serveur-iredmail",
            "zabbix-carte-reseau"
        ],
        "{got:?}"
    );
    assert_eq!(got[4], "serveur-gui-disques-de-sauvegarde-et-stockage");
    assert_eq!(got[5], "windows-server-core");
    for id in [
        "routeur-vyos",
        "openvpn-carte-reseau",
        "zabbix-carte-reseau",
        "serveur-iredmail",
    ] {
        assert_eq!(step(&plan, id)["tier"], 1, "{id}");
    }
    assert_eq!(
        step(&plan, "zabbix-carte-reseau")["rule"],
        "network, messaging and supervision"
    );
    ws.cmd()
        .args(["plan", "--lang", "fr"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "niveau 1 : réseau, messagerie et supervision",
        ));
}

#[test]
fn priorities_set_per_element_and_per_site_come_before_the_defaults_and_say_so() {
    // Seed 004's strategy table as a column: a priority per element, written its way.
    let table = "\
Élément;Catégorie;Criticité;État;Priorité
Routeur Vyos;Réseau;Critique;Défaillant;Critique (Priorité 1)
Serveur GUI : Disques de sauvegarde et stockage;Stockage;Majeur;Défaillant;Priorité 1
Serveur Iredmail;Messagerie;Majeur;Défaillant;Majeur (Priorité 2)
Windows Server Core;Serveur;Mineur;Défaillant;3
";
    let ws = imported(table);
    assert!(ws.config().contains("priority = 1"), "{}", ws.config());
    let plan = ws.json(&["plan", "--json"]);
    assert_eq!(
        order(&plan),
        [
            "routeur-vyos",
            "serveur-gui-disques-de-sauvegarde-et-stockage",
            "serveur-iredmail",
            "windows-server-core"
        ]
    );
    let mail = step(&plan, "serveur-iredmail");
    assert_eq!(mail["tier"], 2);
    assert_eq!(mail["rule"], "priority 2 set on the asset");
    assert!(
        mail["reason_fr"]
            .as_str()
            .unwrap()
            .contains("priorité 2 fixée sur l'élément")
    );

    // A site's own rule set, defined with its client, comes before the defaults there.
    let mut config = ws.config();
    config.push_str(
        "\n[[priority]]\nsites = [\"main\"]\ntier = 1\nlabel = \"what the client named first\"\nlabel_fr = \"ce que le client a nommé en premier\"\ncategories = [\"server\"]\n",
    );
    config = config.replace("priority = 3\n", "");
    ws.write_config(&config);
    let plan = ws.json(&["plan", "--json"]);
    let windows = step(&plan, "windows-server-core");
    assert_eq!(windows["tier"], 1);
    assert_eq!(
        windows["rule"],
        "site main rule 1: what the client named first"
    );
    // The assets the site rule does not match keep their own priority or the defaults.
    assert_eq!(
        step(&plan, "serveur-iredmail")["rule"],
        "priority 2 set on the asset"
    );

    // An unknown site and a zero priority are located in the file.
    ws.write_config(&config.replace("sites = [\"main\"]", "sites = [\"nowhere\"]"));
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "field `sites`: unknown site `nowhere`",
        ));
    ws.write_config(&config.replace("priority = 2", "priority = 0"));
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("priorities start at 1"));
}
