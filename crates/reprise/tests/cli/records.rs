//! Records and privacy: data categories and their retention bounds, purges from every
//! copy, erasure with proof, CSV exports and evidence packs for auditors.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, line_of, restic_in};

/// A CRM whose visits are `records` (kept 20 days at most), copied off site.
pub(crate) fn records_workspace(max_retention: &str) -> (TestWorkspace, String) {
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
/// with Reprise's tags, then adopted (as points made before Reprise kept provenance).
pub(crate) fn old_point(ws: &TestWorkspace, repo: &str, days: i64) {
    let time = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    let time = time.strftime("%Y-%m-%d %H:%M:%S").to_string();
    // Absolute, as Reprise records its paths.
    let visits = ws.path().join("visits").display().to_string();
    let out = restic_in(
        ws,
        Some(repo),
        &[
            "backup",
            &visits,
            "--time",
            &time,
            "--host",
            "crm",
            "--tag",
            "asset:crm,dataset:visits,policy:daily",
            "--json",
        ],
    );
    let id = crate::support::restic_snapshot_id(&out);
    ws.cmd()
        .args([
            "snapshots",
            "adopt",
            &id,
            "--asset",
            "crm",
            "--dataset",
            "visits",
            "--reason",
            "made before Reprise kept provenance",
        ])
        .assert()
        .success();
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

fn restic_json(ws: &TestWorkspace, repo: &str, args: &[&str]) -> serde_json::Value {
    let out = restic_in(ws, Some(repo), args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every file path of a repository's snapshots, as stock restic lists them.
fn restic_files(ws: &TestWorkspace, repo: &str) -> Vec<String> {
    let snaps = restic_json(ws, repo, &["snapshots", "--json"]);
    let mut files = Vec::new();
    for s in snaps.as_array().unwrap() {
        let out = restic_in(ws, Some(repo), &["ls", "--json", s["id"].as_str().unwrap()]);
        assert!(out.status.success());
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let node: serde_json::Value = serde_json::from_str(line).unwrap();
            if node["type"] == "file" {
                files.push(node["path"].as_str().unwrap().to_string());
            }
        }
    }
    files
}

#[test]
fn an_erased_file_leaves_every_restore_point_and_copy_and_never_comes_back() {
    let (ws, _) = records_workspace("20d");
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "crm"]).assert().success();
    std::fs::write(ws.path().join("visits/summary.txt"), "3 visitors\n").unwrap();
    ws.cmd().args(["backup", "crm"]).assert().success();
    ws.cmd().args(["verify", "--read-data"]).assert().success();
    let alice = "visits/2026/alice.csv";

    // A plan first; the file is still in the live data, which it says.
    ws.cmd()
        .args([
            "erase",
            "plan",
            "crm",
            alice,
            "--reason",
            "Alice's erasure request (GDPR art. 17)",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Found in 4 restore point(s) in 2 repositories: 4 file(s), 104 B",
        ))
        .stdout(predicate::str::contains("is still in the live data"))
        .stdout(predicate::str::contains(
            "Nothing is erased yet: `reprise erase run 1`",
        ));
    assert_eq!(
        restic_files(&ws, "offsite")
            .iter()
            .filter(|f| f.ends_with("alice.csv"))
            .count(),
        2
    );
    ws.cmd().args(["erase", "cancel", "1"]).assert().success();
    ws.cmd()
        .args(["erase", "run", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("erasure 1 is cancelled"));
    ws.cmd()
        .args(["erase", "plan", "crm", "elsewhere/x.csv", "--reason", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`elsewhere/x.csv` is not inside a data set of asset `crm`",
        ));

    std::fs::rename(ws.path().join(alice), ws.path().join("erased-copy.csv")).unwrap();
    let before = restic_in(&ws, Some("local"), &["list", "blobs", "--no-cache"]);
    let before = String::from_utf8(before.stdout).unwrap();
    // Restic names a data blob by its content's SHA-256.
    let blob = {
        let out = std::process::Command::new("sha256sum")
            .arg(ws.path().join("erased-copy.csv"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()[..64].to_string()
    };
    assert!(
        before.contains(&blob),
        "the data is there before the erasure"
    );
    let plan = ws.json(&[
        "erase",
        "plan",
        "crm",
        alice,
        "--reason",
        "Alice's erasure request (GDPR art. 17)",
        "--json",
    ]);
    let id = plan["id"].as_i64().unwrap();
    assert_eq!(plan["plan"].as_array().unwrap().len(), 4, "{plan:#}");
    assert!(plan["still_in_source"].as_array().unwrap().is_empty());
    ws.cmd()
        .args(["erase", "run", &id.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "4 restore point(s) rewritten without the erased paths in local, offsite",
        ));

    // Stock restic: gone from every restore point of every copy, the rest intact, and
    // gone from the repositories' files too.
    for repo in ["local", "offsite"] {
        let out = restic_in(&ws, Some(repo), &["list", "blobs", "--no-cache"]);
        let blobs = String::from_utf8(out.stdout).unwrap();
        let found = restic_in(&ws, Some(repo), &["find", "--no-cache", "--blob", &blob]);
        assert!(
            !blobs.contains(&blob),
            "{repo} still holds the erased data: {}",
            String::from_utf8_lossy(&found.stdout)
        );
        let files = restic_files(&ws, repo);
        assert!(
            !files.iter().any(|f| f.ends_with("alice.csv")),
            "{repo}: {files:?}"
        );
        assert_eq!(
            files.iter().filter(|f| f.ends_with("bob.csv")).count(),
            2,
            "{repo}"
        );
        assert_eq!(
            files.iter().filter(|f| f.ends_with("summary.txt")).count(),
            2,
            "{repo}"
        );
        let snaps = restic_json(&ws, repo, &["snapshots", "--json"]);
        assert_eq!(snaps.as_array().unwrap().len(), 2);
        assert!(
            snaps[0]["tags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == &format!("erased:{id}"))
        );
        let check = restic_in(&ws, Some(repo), &["check", "--read-data"]);
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    // The rewritten points keep their verification: the RPO stays met.
    let points = ws.json(&["snapshots", "crm", "--json"]);
    let copies: Vec<&serde_json::Value> = points
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["copies"].as_array().unwrap())
        .collect();
    assert_eq!(copies.len(), 4, "{points:#}");
    assert!(
        copies
            .iter()
            .all(|c| c["integrity"]["status"] == "verified"),
        "{points:#}"
    );

    // A restore brings back the rest, not Alice, and says the ledger was honoured.
    let target = ws.path().join("restored");
    ws.cmd()
        .args(["restore", "crm", "--target"])
        .arg(&target)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "erasure ledger: 1 erasure(s) of this asset honoured; nothing erased was in this restore point",
        ));
    assert!(!target.join("2026/alice.csv").exists());
    assert_eq!(
        std::fs::read_to_string(target.join("2026/bob.csv")).unwrap(),
        "bob,2026-11-03,badge 14\n"
    );
    assert_eq!(
        std::fs::read_to_string(target.join("summary.txt")).unwrap(),
        "3 visitors\n"
    );

    // A copy that still holds the file (a disk that was away during the erasure) is
    // restored without it.
    std::fs::write(ws.path().join(alice), "alice,2026-11-02,badge 12\n").unwrap();
    old_point(&ws, "offsite", 1);
    std::fs::remove_file(ws.path().join(alice)).unwrap();
    let stale = restic_json(&ws, "offsite", &["snapshots", "--json"]);
    let stale = stale
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tags"].as_array().unwrap().len() == 3)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let again = ws.path().join("again");
    ws.cmd()
        .args(["restore", "crm", "--snapshot", &stale[..8], "--target"])
        .arg(&again)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "erasure ledger: 1 erased path(s) still in this restore point were not restored",
        ));
    assert!(!again.join("2026/alice.csv").exists());
    assert!(again.join("2026/bob.csv").exists());

    // The proof: who, when, what and where — never the erased data.
    ws.cmd()
        .args(["erase", "show", &id.to_string()])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Reason: Alice's erasure request (GDPR art. 17)",
        ))
        .stdout(predicate::str::contains("executed"))
        .stdout(predicate::str::contains(
            "`offsite`: 2 restore point(s) rewritten",
        ));
    let journal = ws.json(&["journal", "list", "--limit", "1000", "--json"]);
    let entries = journal.as_array().unwrap();
    let executed = entries
        .iter()
        .find(|e| e["action"] == "erasure.executed")
        .unwrap();
    assert_eq!(executed["subject"], format!("erasure:{id}"));
    let text = journal.to_string();
    assert!(
        !text.contains("badge 12"),
        "the erased data is never recorded"
    );
    ws.cmd().args(["journal", "verify"]).assert().success();
}

/// Parses a CSV file written by an export: header, then rows.
fn read_csv(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn exports_filter_by_site_period_and_type_and_say_why_when_empty() {
    let (ws, config) = records_workspace("20d");
    let warehouse = "\n[[site]]\nid = \"entrepot\"\nname = \"Entrepôt — vidéosurveillance\"\n";
    let camera = asset(
        "camera-1",
        "\n[[asset.dataset]]\nname = \"settings\"\npaths = [\"camera\"]\ncategory = \"settings\"",
    )
    .replace("site = \"hq\"", "site = \"entrepot\"");
    std::fs::create_dir_all(ws.path().join("camera")).unwrap();
    std::fs::write(ws.path().join("camera/config.xml"), "<camera/>\n").unwrap();
    let export = "\n[[export]]\nid = \"weekly\"\nkinds = [\"runs\", \"inventory\"]\nschedule = \"weekly on monday at 06:00\"\nperiod = \"7d\"\nrepository = \"offsite\"\n";
    ws.write_config(&format!("{config}{warehouse}{camera}{export}"));
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "--all"]).assert().success();

    let out = ws.path().join("exports");
    let written = ws.json(&[
        "export",
        "csv",
        "runs",
        "inventory",
        "points",
        "--site",
        "entrepot",
        "--out",
        "exports",
        "--json",
    ]);
    assert_eq!(written[0]["rows"], 2, "a backup and its copy: {written:#}");
    let (header, rows) = read_csv(&out.join("runs.csv"));
    assert_eq!(&header[..4], ["id", "kind", "site", "asset"]);
    assert!(
        rows.iter()
            .all(|r| r[2] == "entrepot" && r[3] == "camera-1"),
        "{rows:?}"
    );
    // The same rows as the catalog's.
    let runs = ws.json(&["runs", "camera-1", "--json"]);
    let mut ids: Vec<String> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].to_string())
        .collect();
    ids.sort();
    let mut exported: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    exported.sort();
    assert_eq!(exported, ids);
    let (_, assets) = read_csv(&out.join("inventory.csv"));
    assert_eq!(assets.len(), 1);
    assert_eq!(assets[0][15], "settings", "data categories: {assets:?}");
    let (_, points) = read_csv(&out.join("points.csv"));
    assert_eq!(points.len(), 2, "the point and its copy");

    // By type: the data category of points.
    let by_type = ws.json(&[
        "export", "csv", "points", "--type", "records", "--out", "by-type", "--json",
    ]);
    assert_eq!(by_type[0]["rows"], 2);
    let (_, records) = read_csv(&ws.path().join("by-type/points.csv"));
    assert!(records.iter().all(|r| r[5] == "records"));

    // An empty export writes nothing and says why.
    ws.cmd()
        .args(["export", "csv", "runs", "--site", "entrepot", "--since", "2020-01-01", "--until", "2020-01-31", "--out", "empty"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "runs: nothing exported, no runs at site `entrepot` from 2020-01-01 00:00 to before 2020-02-01 00:00: widen the period or check the site and type",
        ));
    assert!(!ws.path().join("empty/runs.csv").exists());
    ws.cmd()
        .args(["export", "csv", "toasters", "--out", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown export `toasters`"));

    // A configured export, stored encrypted in a repository that stock restic reads.
    ws.cmd()
        .args(["export", "run", "weekly"])
        .assert()
        .success()
        .stdout(predicate::str::contains("stored in repository `offsite`"));
    let snaps = restic_json(
        &ws,
        "offsite",
        &["snapshots", "--tag", "export:weekly", "--json"],
    );
    assert_eq!(snaps.as_array().unwrap().len(), 1);
    // No plaintext copy is left behind once stored, nor when storing fails.
    let staging = ws.path().join(".reprise/exports/weekly");
    assert!(
        !staging.exists(),
        "plaintext export left in {}",
        staging.display()
    );
    ws.cmd()
        .args(["export", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("weekly"))
        .stdout(predicate::str::contains("(succeeded)"));
    std::fs::rename(ws.path().join("offsite"), ws.path().join("offsite-away")).unwrap();
    ws.cmd()
        .args(["export", "run", "weekly"])
        .assert()
        .failure();
    assert!(
        !staging.exists(),
        "plaintext export left in {}",
        staging.display()
    );
}

#[test]
fn an_evidence_pack_maps_drills_incidents_and_the_journal_to_controls() {
    let (ws, _) = records_workspace("20d");
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "crm"]).assert().success();
    ws.cmd().args(["verify", "--read-data"]).assert().success();
    ws.cmd()
        .args([
            "drill",
            "run",
            "crm",
            "--scenario",
            "loss of the CRM server",
        ])
        .assert()
        .success();
    ws.cmd()
        .args([
            "incident",
            "open",
            "CRM disk failure",
            "--asset",
            "crm",
            "--severity",
            "SEV2",
        ])
        .assert()
        .success();
    let month = jiff::Timestamp::now().strftime("%Y-%m").to_string();
    ws.cmd()
        .args(["evidence", "--period", &month, "--out", "pack.tar.gz"])
        .assert()
        .success()
        // Records are there, but what they should prove is not: each shortfall is named.
        .stdout(predicate::str::contains("Controls with evidence: 6 of 9"))
        .stdout(predicate::str::contains(
            "1 of 1 assets have RPO/RTO targets not approved by their owner",
        ))
        .stdout(predicate::str::contains(
            "1 of 1 assets with restore points do not meet the 3-2-1 rule (crm;",
        ))
        .stdout(predicate::str::contains("Journal: "))
        .stdout(predicate::str::contains("chain intact"));
    let unpacked = ws.path().join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(ws.path().join("pack.tar.gz"))
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(status.success());
    let root = unpacked.join(format!("reprise-evidence-{month}"));
    let (header, drills) = read_csv(&root.join("drills.csv"));
    assert_eq!(header[5], "measured_rto_s");
    assert_eq!(drills.len(), 1);
    assert_eq!(drills[0][3], "passed");
    assert_eq!(drills[0][8], "loss of the CRM server");
    let (_, incidents) = read_csv(&root.join("incidents.csv"));
    assert_eq!(incidents[0][1], "CRM disk failure");
    let verification: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("journal/verification.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(verification["verdict"]["intact"], true, "{verification:#}");
    let (_, controls) = read_csv(&root.join("controls.csv"));
    let a813 = controls.iter().find(|c| c[1] == "A.8.13").unwrap();
    assert_eq!(a813[3], "evidenced");
    assert!(a813[4].contains("backup-plan.csv"), "{a813:?}");
    let (_, plan) = read_csv(&root.join("backup-plan.csv"));
    assert_eq!(&plan[0][..2], ["crm", "hq"]);
    let fr = std::fs::read_to_string(root.join("summary.fr.html")).unwrap();
    assert!(fr.contains("Dossier de preuves"), "{fr}");
    assert!(fr.contains("Sauvegarde des informations"));
    assert!(
        !fr.contains("Information backup"),
        "no English on the French page"
    );
    assert!(
        std::fs::read(root.join("summary.en.pdf"))
            .unwrap()
            .starts_with(b"%PDF")
    );

    // A period with nothing in it says which controls lack evidence, and why.
    ws.cmd()
        .args(["evidence", "--period", "2020-Q1", "--out", "empty-pack"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Controls with evidence: 0 of 9"))
        .stdout(predicate::str::contains(
            "ISO 27001:2022 A.8.13 Information backup — NO EVIDENCE",
        ))
        .stdout(predicate::str::contains(
            "no record for the period: restore tests with measured rto and rpo",
        ));
    assert!(ws.path().join("empty-pack/summary.en.html").exists());
    ws.cmd()
        .args(["evidence", "--period", "last quarter"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("write a quarter (2026-Q3)"));
}

#[test]
fn an_erasure_cut_short_by_a_missing_repository_fails_and_finishes_when_run_again() {
    let (ws, _) = records_workspace("20d");
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "crm"]).assert().success();
    let alice = "visits/2026/alice.csv";
    ws.cmd()
        .args(["erase", "plan", "crm", alice, "--reason", "GDPR art. 17"])
        .assert()
        .success();
    // The off-site disk is away when the erasure runs: it fails, and says what is left.
    std::fs::rename(ws.path().join("offsite"), ws.path().join("offsite-away")).unwrap();
    ws.cmd()
        .args(["erase", "run", "1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("offsite"))
        .stderr(predicate::str::contains(
            "`reprise erase run 1` again finishes",
        ));
    let shown = ws.json(&["erase", "show", "1", "--json"]);
    assert_eq!(shown["state"], "failed", "{shown:#}");
    assert!(
        !restic_files(&ws, "local")
            .iter()
            .any(|f| f.ends_with("alice.csv")),
        "what could be reached was erased"
    );
    // Back, and run again: it finishes, everywhere.
    std::fs::rename(ws.path().join("offsite-away"), ws.path().join("offsite")).unwrap();
    ws.cmd().args(["erase", "run", "1"]).assert().success();
    assert_eq!(
        ws.json(&["erase", "show", "1", "--json"])["state"],
        "executed"
    );
    assert!(
        !restic_files(&ws, "offsite")
            .iter()
            .any(|f| f.ends_with("alice.csv")),
        "the copy that was away no longer holds it"
    );
}
