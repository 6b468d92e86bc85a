//! Records and privacy: data categories and their retention bounds, purges from every
//! copy, erasure with proof, CSV exports and evidence packs for auditors.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, line_of, restic_in};

/// A CRM whose visits are `records` (kept 20 days at most), copied off site.
fn records_workspace(max_retention: &str) -> (TestWorkspace, String) {
    let ws = TestWorkspace::init();
    let visits = ws.path().join("visits");
    std::fs::create_dir_all(visits.join("2026")).unwrap();
    std::fs::write(visits.join("2026/alice.csv"), "alice,2026-11-02,badge 12\n").unwrap();
    std::fs::write(visits.join("2026/bob.csv"), "bob,2026-11-03,badge 14\n").unwrap();
    std::fs::write(visits.join("summary.txt"), "2 visitors\n").unwrap();
    let offsite = "\n[[repository]]\nid = \"offsite\"\npath = \"offsite\"\npassword_file = \".reprise/keys/local.key\"\nmedium = \"usb-disk\"\nlocation = \"off-site\"\n";
    let category = format!(
        "\n[[category]]\nname = \"records\"\ndescription = \"visits and visitors\"\nmax_retention = \"{max_retention}\"\n"
    );
    let config = format!(
        "{}{offsite}{category}{}",
        BASE.replace(
            "repository = \"local\"\n",
            "repository = \"local\"\ncopy_to = [\"offsite\"]\nkeep_daily = 7\nkeep_within = \"20d\"\n"
        ),
        asset(
            "crm",
            "\n[[asset.dataset]]\nname = \"visits\"\npaths = [\"visits\"]\ncategory = \"records\""
        )
    );
    ws.write_config(&config);
    (ws, config)
}

/// A restore point of crm/visits taken `days` ago, written by stock restic into `repo`
/// with Reprise's tags.
fn old_point(ws: &TestWorkspace, repo: &str, days: i64) {
    let time = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    let time = time.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let out = restic_in(
        ws,
        Some(repo),
        &[
            "backup",
            "visits",
            "--time",
            &time,
            "--host",
            "crm",
            "--tag",
            "asset:crm,dataset:visits,policy:daily",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_policy_keeping_data_longer_than_its_category_allows_is_refused() {
    let (ws, config) = records_workspace("10d");
    let out = ws.cmd().arg("check").assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    let line = line_of(&config, "category = \"records\"");
    assert!(
        stderr.contains(&format!("reprise.toml:{line}:12: error: asset `crm`, data set `visits`, field `category`: policy `daily` keeps restore points up to 20d, longer than data category `records` allows (10d)")),
        "{stderr}"
    );
    // Nothing runs on a refused configuration.
    ws.cmd().args(["backup", "crm"]).assert().code(2);
}

#[test]
fn points_past_the_category_maximum_are_purged_from_every_copy() {
    let (ws, _) = records_workspace("20d");
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd()
        .args(["backup", "crm"])
        .assert()
        .success()
        .stdout(predicate::str::contains("copied to offsite"));
    old_point(&ws, "local", 40);
    old_point(&ws, "offsite", 40);

    let plan = ws.json(&["retention", "plan", "--json"]);
    let removed: Vec<&serde_json::Value> = plan["plan"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["decisions"].as_array().unwrap())
        .filter(|d| d["keep"] == false)
        .collect();
    assert_eq!(removed.len(), 2, "{plan:#}");
    assert_eq!(
        removed[0]["reasons"][0], "older than data category `records` allows (20d)",
        "{plan:#}"
    );

    // Per category: what is kept, until when, where.
    let categories = ws.json(&["categories", "--json"]);
    let records = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "records")
        .unwrap();
    assert_eq!(records["max_retention"], "20d");
    let copies = records["datasets"][0]["copies"].as_array().unwrap();
    let repos: Vec<&str> = copies
        .iter()
        .map(|c| c["repository"].as_str().unwrap())
        .collect();
    assert_eq!(repos, ["local", "offsite"]);
    assert_eq!(copies[1]["location"], "off-site");
    assert_eq!(copies[0]["points"], 2);
    ws.cmd()
        .arg("categories")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "records (visits and visitors): kept at least -, at most 20d",
        ))
        .stdout(predicate::str::contains("crm/visits"))
        .stdout(predicate::str::contains("offsite (usb-disk, off-site)"));

    ws.cmd()
        .args(["retention", "purge"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "repository `local`: removed 1 restore point(s)",
        ))
        .stdout(predicate::str::contains(
            "repository `offsite`: removed 1 restore point(s)",
        ));
    for repo in ["local", "offsite"] {
        let out = restic_in(&ws, Some(repo), &["snapshots", "--json"]);
        let snaps: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(snaps.as_array().unwrap().len(), 1, "{repo}: {snaps:#}");
    }
    let categories = ws.json(&["categories", "--json"]);
    let records = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "records")
        .unwrap();
    assert_eq!(records["datasets"][0]["copies"][0]["points"], 1);
}
