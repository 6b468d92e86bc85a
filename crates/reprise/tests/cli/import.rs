//! `reprise inventory import`: seed 004's table in French, English tables, and files that
//! must be refused whole.

use predicates::prelude::*;

use crate::support::TestWorkspace;

const SEED_004: &str = "\
Élément;Catégorie;Criticité;État;Dépend de;Date de résolution prévue;Action de reprise
Serveur Iredmail;Messagerie;Majeur;Défaillant;Routeur Vyos;En attente;Vérifier et redémarrer les services, restaurer les sauvegardes, tester la messagerie.
Routeur Vyos;Réseau;Critique;Défaillant;;En attente;Redémarrer et vérifier la configuration, tester la connectivité réseau.
Serveur GUI : Disques de sauvegarde et stockage;Stockage;Majeur;Fonctionnel en partie;Routeur Vyos;22/09/2024;Réparer/remplacer les disques
Windows Server Core;Serveur;Mineur;Défaillant;Routeur Vyos;22/09/2024;Identifier la cause, redémarrer le serveur.
OpenVPN;Réseau;Majeur;Défaillant;Routeur Vyos;22/09/2024;Remplacer la carte réseau.
Zabbix;Réseau;Majeur;Défaillant;Routeur Vyos;22/09/2024;Diagnostiquer et remplacer la carte.
";

#[test]
fn seed_004_imports_from_french_and_the_configuration_stays_the_source_of_truth() {
    let ws = TestWorkspace::init();
    let csv = ws.path().join("etat-des-lieux.csv");
    std::fs::write(&csv, SEED_004).unwrap();
    ws.cmd()
        .args(["inventory", "import", "etat-des-lieux.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("added 6 asset(s)"));

    let config = ws.config();
    assert!(
        config.contains("# Reprise workspace configuration."),
        "comments are kept"
    );
    assert!(config.contains("id = \"serveur-iredmail\""));
    ws.cmd().arg("check").assert().success();

    let mail = ws.json(&["inventory", "show", "serveur-iredmail", "--json"]);
    assert_eq!(mail["category"], "mail");
    assert_eq!(mail["criticality"], "major");
    assert_eq!(mail["state"], "failed");
    assert_eq!(mail["site"], "main");
    assert_eq!(
        mail["depends_on"][0], "routeur-vyos",
        "names resolve to ids"
    );
    assert!(
        mail.get("planned_resolution").is_none(),
        "`En attente` is no date"
    );
    let storage = ws.json(&[
        "inventory",
        "show",
        "serveur-gui-disques-de-sauvegarde-et-stockage",
        "--json",
    ]);
    assert_eq!(storage["state"], "partial");
    assert_eq!(storage["planned_resolution"], "2024-09-22");
    assert_eq!(storage["procedure"], "Réparer/remplacer les disques");

    // Importing the evolution table later updates the same assets in place.
    let evolution = SEED_004
        .replace("Défaillant", "Fonctionnel")
        .replace("Fonctionnel en partie", "Fonctionnel");
    std::fs::write(&csv, evolution).unwrap();
    ws.cmd()
        .args(["inventory", "import", "etat-des-lieux.csv"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "added 0 asset(s), updated 6 asset(s)",
        ));
    let mail = ws.json(&["inventory", "show", "serveur-iredmail", "--json"]);
    assert_eq!(mail["state"], "working");
    let history = mail["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["kind"], "state_changed");
}

#[test]
fn an_english_table_with_ids_and_new_sites_imports() {
    let ws = TestWorkspace::init();
    let csv = ws.path().join("inventory.csv");
    std::fs::write(
        &csv,
        "id,name,site,category,criticality,state,depends_on,zone,function,rpo,rto\n\
         sw-1,Core switch,Warehouse,switch,critical,working,,,network,24h,2h\n\
         nvr-1,Recorder,Warehouse,recorder,critical,working,sw-1,high,recording,24h,2h\n\
         cam-1,Entrance camera,Warehouse,camera,critical,partial,\"sw-1;nvr-1\",high,video,24h,2h\n",
    )
    .unwrap();
    ws.cmd()
        .args(["inventory", "import", "inventory.csv", "--json"])
        .assert()
        .success();
    let cam = ws.json(&["inventory", "show", "cam-1", "--json"]);
    assert_eq!(cam["site"], "warehouse");
    assert_eq!(cam["zone"], "high");
    assert_eq!(cam["depends_on"], serde_json::json!(["sw-1", "nvr-1"]));
    assert_eq!(cam["rto"], "2h");
    assert!(
        ws.config().contains("name = \"Warehouse\""),
        "the site was declared"
    );
}

#[test]
fn an_unknown_column_lists_the_known_ones_and_imports_nothing() {
    let ws = TestWorkspace::init();
    let before = ws.config();
    std::fs::write(ws.path().join("t.csv"), "id,name,colour\nr,Router,red\n").unwrap();
    ws.cmd()
        .args(["inventory", "import", "t.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "t.csv:1: column `colour`: unknown column `colour`",
        ))
        .stderr(predicate::str::contains("criticality/criticité"))
        .stderr(predicate::str::contains("nothing was imported"));
    assert_eq!(ws.config(), before);
}

#[test]
fn bad_rows_are_reported_with_their_line_numbers_and_nothing_is_half_imported() {
    let ws = TestWorkspace::init();
    let before = ws.config();
    std::fs::write(
        ws.path().join("t.csv"),
        "id;name;category;criticality;state\n\
         ok-1;Fine;server;minor;working\n\
         bad-1;Bad criticality;server;urgent;working\n\
         bad-2;Bad state;server;minor;cassé\n\
         too;few;cells\n\
         Bad Id;X;server;minor;working\n",
    )
    .unwrap();
    let out = ws
        .cmd()
        .args(["inventory", "import", "t.csv"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("t.csv:3: column `criticality`: unknown criticality `urgent`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("t.csv:4: column `state`: unknown state `cassé`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("t.csv:5: expected 5 cells like the header, found 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("t.csv:6: column `id`: `Bad Id` is not a valid id"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("t.csv:2"),
        "the good row is not an error: {stderr}"
    );
    assert_eq!(ws.config(), before, "nothing was imported");
}

#[test]
fn an_import_that_would_break_the_configuration_is_refused() {
    let ws = TestWorkspace::init();
    let before = ws.config();
    std::fs::write(
        ws.path().join("t.csv"),
        "id,name,category,criticality,depends_on\nmail,Mail,mail,major,ghost-router\n",
    )
    .unwrap();
    ws.cmd()
        .args(["inventory", "import", "t.csv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "asset `mail`, field `depends_on`: unknown asset `ghost-router`",
        ))
        .stderr(predicate::str::contains(
            "would leave the configuration invalid",
        ));
    assert_eq!(ws.config(), before);
}

#[test]
fn a_dry_run_changes_nothing() {
    let ws = TestWorkspace::init();
    let before = ws.config();
    std::fs::write(ws.path().join("seed.csv"), SEED_004).unwrap();
    ws.cmd()
        .args(["inventory", "import", "seed.csv", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("would add 6 asset(s)"))
        .stdout(predicate::str::contains("Dry run"));
    assert_eq!(ws.config(), before);
}
