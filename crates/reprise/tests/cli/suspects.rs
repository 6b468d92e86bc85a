//! Ransomware in the backups: files overwritten with random bytes between two backups
//! make the second restore point suspect (critical alert, exit code 3), and every later
//! one; the RPO, restores, the damage assessment and an incident's restore step all use
//! the last clean point until a person clears the suspicion, journaled. A normal day's
//! churn raises nothing.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, files_under, line_of};

const DOCS: usize = 40;

/// A file share's documents: text that compresses, as office files' contents do.
fn document(i: usize, day: usize) -> String {
    (0..300)
        .map(|line| format!("Compte rendu {i}, jour {day}, ligne {line} : rien à signaler.\n"))
        .collect()
}

fn share(ws: &TestWorkspace) -> std::path::PathBuf {
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "share",
            "rpo = \"1d\"\n\n[[asset.dataset]]\nname = \"docs\"\npaths = [\"data\"]"
        )
    ));
    let data = ws.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..DOCS {
        std::fs::write(data.join(format!("doc-{i:02}.txt")), document(i, 0)).unwrap();
    }
    data
}

fn suspect_of(ws: &TestWorkspace) -> Vec<Option<String>> {
    ws.json(&["snapshots", "share", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["suspect"].as_str().map(str::to_string))
        .collect()
}

/// Approves incident 1's plan, runs the share's restore step, and reads `name` where the
/// step restored it.
fn restored_by_the_step(ws: &TestWorkspace, name: &str) -> String {
    ws.cmd()
        .args(["incident", "plan", "1", "--approve"])
        .assert()
        .success();
    ws.cmd()
        .args(["incident", "step", "1", "share", "start"])
        .assert()
        .success();
    let area = files_under(&ws.path().join(".reprise/recovery/incident-1/share"));
    let file = area
        .iter()
        .find(|p| p.ends_with(name))
        .unwrap_or_else(|| panic!("{name} not restored by the step: {area:?}"));
    std::fs::read_to_string(file).unwrap()
}

#[test]
fn an_encryption_wave_makes_points_suspect_until_cleared_and_the_last_clean_one_is_restored() {
    let ws = TestWorkspace::init();
    let data = share(&ws);
    ws.cmd().args(["backup", "share"]).assert().success();
    // An ordinary day: one document edited.
    std::fs::write(data.join("doc-03.txt"), document(3, 1)).unwrap();
    ws.cmd().args(["backup", "share"]).assert().success();

    // The attack: every document overwritten with bytes that do not compress.
    for i in 0..DOCS {
        let size = document(i, 0).len();
        std::fs::write(
            data.join(format!("doc-{i:02}.txt")),
            reprise_testkit::noise(size, 7 + i as u64),
        )
        .unwrap();
    }
    ws.cmd()
        .args(["backup", "share"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("SUSPECT share/docs"))
        .stdout(predicate::str::contains(
            "100 % of the files rewritten in one backup",
        ))
        .stdout(predicate::str::contains("it looks encrypted"));
    // The next backup finds nothing unusual, and is suspect all the same: it holds what
    // the attack left.
    ws.cmd().args(["backup", "share"]).assert().success();
    let suspect = suspect_of(&ws);
    assert_eq!(suspect.len(), 4, "{suspect:?}");
    assert_eq!(suspect[..2], [None, None]);
    assert!(
        suspect[2].as_deref().unwrap().contains("rewritten"),
        "{suspect:?}"
    );
    assert!(
        suspect[3]
            .as_deref()
            .unwrap()
            .starts_with("taken after the suspect backup of"),
        "{suspect:?}"
    );
    ws.cmd()
        .args(["snapshots", "share"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "SUSPECT: 100 % of the files rewritten",
        ));

    // Supervision: a critical alert about the suspect backup.
    let alerts = ws.json(&["alerts", "--json"]);
    let alert = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "suspect:share/docs")
        .unwrap_or_else(|| panic!("no suspect alert in {alerts}"));
    assert_eq!(alert["severity"], "critical");
    assert!(
        alert["message"]
            .as_str()
            .unwrap()
            .contains("looks like an attack")
    );

    // Every point read back intact: the RPO still counts from the last clean one.
    ws.cmd().args(["verify", "--read-data"]).assert().success();
    let points = ws.json(&["snapshots", "share", "--json"]);
    let clean_time = points[1]["time"].as_str().unwrap().to_string();
    let status = ws.json(&["status", "--json"]);
    assert_eq!(status[0]["last_verified"], clean_time.as_str(), "{status}");

    // A restore without a named point takes the last clean one.
    ws.cmd()
        .args(["restore", "share", "--target", "out"])
        .assert()
        .success();
    let restored = files_under(&ws.path().join("out"));
    let doc = restored
        .iter()
        .find(|p| p.ends_with("doc-03.txt"))
        .unwrap_or_else(|| panic!("doc-03.txt not restored: {restored:?}"));
    assert_eq!(std::fs::read_to_string(doc).unwrap(), document(3, 1));

    // The damage assessment names it; the incident's restore step restores it.
    ws.cmd()
        .args([
            "incident",
            "open",
            "Ransomware on the share",
            "--asset",
            "share",
        ])
        .assert()
        .success();
    ws.cmd()
        .args(["incident", "show", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("SUSPECT since the backup of"))
        .stdout(predicate::str::contains("last clean point:"));
    assert_eq!(restored_by_the_step(&ws, "doc-07.txt"), document(7, 0));

    // Cleared by a person: journaled, and the points count again.
    let id = points[2]["copies"][0]["snapshot"].as_str().unwrap()[..8].to_string();
    ws.cmd()
        .args(["snapshots", "clear", &id, "--reason", ""])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--reason"));
    let later = points[3]["copies"][0]["snapshot"].as_str().unwrap()[..8].to_string();
    ws.cmd()
        .args(["snapshots", "clear", &later, "--reason", "checked"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("clear that one"));
    ws.cmd()
        .args([
            "snapshots",
            "clear",
            &id,
            "--reason",
            "a test of the encryption tool, approved",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("trusted again"));
    assert_eq!(suspect_of(&ws), [None, None, None, None]);
    let cleared = ws.json(&["snapshots", "suspect", "share", "--json"]);
    assert_eq!(
        cleared[0]["clearance"],
        "a test of the encryption tool, approved"
    );
    ws.cmd()
        .args(["journal", "list", "--limit", "1000"])
        .assert()
        .success()
        .stdout(predicate::str::contains("point.suspect"))
        .stdout(predicate::str::contains("point.cleared"));
    let alerts = ws.json(&["alerts", "--json"]);
    assert!(
        !alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "suspect:share/docs" && a["status"] == "open"),
        "{alerts}"
    );
}

#[test]
fn ransom_notes_make_a_backup_suspect_and_ordinary_days_raise_nothing() {
    let ws = TestWorkspace::init();
    let data = share(&ws);
    // Eight ordinary days: a few documents edited, one added, one removed.
    for day in 0..8 {
        for i in [day % DOCS, (day * 7 + 3) % DOCS] {
            std::fs::write(data.join(format!("doc-{i:02}.txt")), document(i, day)).unwrap();
        }
        std::fs::write(
            data.join(format!("new-{day}.txt")),
            document(100 + day, day),
        )
        .unwrap();
        if day > 0 {
            std::fs::remove_file(data.join(format!("new-{}.txt", day - 1))).unwrap();
        }
        ws.cmd().args(["backup", "share"]).assert().success();
    }
    assert!(suspect_of(&ws).iter().all(Option::is_none));
    let alerts = ws.json(&["alerts", "--json"]);
    assert!(
        !alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"].as_str().unwrap().starts_with("suspect:")),
        "{alerts}"
    );
    // A note left beside the documents, nothing else changed.
    std::fs::write(
        data.join("HOW_TO_DECRYPT_FILES.txt"),
        "Your files are encrypted.\n",
    )
    .unwrap();
    ws.cmd()
        .args(["backup", "share", "--json"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("HOW_TO_DECRYPT_FILES.txt"));
    let listed = ws.json(&["snapshots", "suspect", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(
        listed[0]["reasons"]
            .as_str()
            .unwrap()
            .contains("ransomware names its notes")
    );
    // The journal seals the suspicion: removing its row by hand, to make the point
    // trusted again, is named.
    ws.cmd().args(["journal", "verify"]).assert().success();
    let db = ws.path().join(".reprise/catalog.db");
    crate::support::sql(db.to_str().unwrap(), "DELETE FROM suspicions");
    ws.cmd()
        .args(["journal", "verify"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("suspicion:share/docs/"));
    ws.cmd()
        .args(["journal", "seal", "--reason", "test", "--accept-changes"])
        .assert()
        .success();
    // Names of one's own: `[supervision] ransom_names`, checked where they are written.
    let config = ws.config();
    let wrong = format!("{config}\n[supervision]\nransom_names = [\"a/b\"]\n");
    ws.write_config(&wrong);
    let at = format!(
        "{}:{}:",
        ws.config_path().canonicalize().unwrap().display(),
        line_of(&wrong, "ransom_names")
    );
    ws.cmd()
        .args(["check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(at))
        .stderr(predicate::str::contains("without `/`"));
    ws.write_config(&format!(
        "{config}\n[supervision]\nransom_names = [\"*.payme\"]\n"
    ));
    std::fs::write(data.join("invoice.pdf.payme"), "x").unwrap();
    ws.cmd()
        .args(["backup", "share"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("invoice.pdf.payme"));
}

#[test]
fn the_api_lists_suspicions_and_only_an_administrator_clears_one() {
    let (ws, admin) = crate::serve::init_with_token();
    let data = share(&ws);
    ws.cmd().args(["backup", "share"]).assert().success();
    std::fs::write(data.join("READ_ME_TO_DECRYPT.txt"), "pay\n").unwrap();
    ws.cmd().args(["backup", "share"]).assert().code(3);
    let operator = crate::serve::account(&ws, "olivier", "operator", "");
    let server = crate::serve::serve(&ws);
    let http = crate::serve::client();
    let listed: serde_json::Value = http
        .get(format!("{}/api/v1/suspicions?asset=share", server.base))
        .bearer_auth(&operator)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(
        listed[0]["reasons"]
            .as_str()
            .unwrap()
            .contains("READ_ME_TO_DECRYPT.txt")
    );
    let snapshot = listed[0]["snapshot"].as_str().unwrap()[..8].to_string();
    let body = serde_json::json!({ "snapshot": snapshot, "reason": "a test note, removed" });
    let (status, _) = crate::serve::post(
        &http,
        &server,
        &operator,
        "suspicions/clearances",
        body.clone(),
    );
    assert_eq!(status, 403);
    let (status, cleared) =
        crate::serve::post(&http, &server, &admin, "suspicions/clearances", body);
    assert_eq!(status, 200, "{cleared}");
    assert_eq!(cleared["clearance"], "a test note, removed");
    let points: serde_json::Value = http
        .get(format!("{}/api/v1/restore-points?asset=share", server.base))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        points
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["suspect"].is_null()),
        "{points}"
    );
}

/// The share backed up, an intruder coming in a second later and changing `doc` quietly
/// (nothing a backup's signals would see), then backed up again. Returns when the
/// intruder came in, between the two backups.
fn quiet_intrusion(ws: &TestWorkspace, doc: &str) -> String {
    let data = share(ws);
    ws.cmd().args(["backup", "share"]).assert().success();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let intrusion = jiff::Timestamp::now().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(data.join(doc), "wire the money to account 666\n").unwrap();
    ws.cmd().args(["backup", "share"]).assert().success();
    intrusion
}

#[test]
fn an_incident_reporting_a_compromise_makes_the_points_since_it_began_suspect() {
    let ws = TestWorkspace::init();
    let intrusion = quiet_intrusion(&ws, "doc-05.txt");
    ws.cmd().args(["verify"]).assert().success();
    assert_eq!(suspect_of(&ws), [None, None]);

    // A detection time before the intrusion is refused.
    ws.cmd()
        .args([
            "incident",
            "open",
            "Intrusion",
            "--asset",
            "share",
            "--detected",
            "2020-01-01",
            "--since",
            &intrusion,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("after the incident was detected"));

    // The incident says the share was compromised since the intrusion: the point taken
    // since is suspect, the assessment names the one before as the last clean point.
    ws.cmd()
        .args([
            "incident",
            "open",
            "Intrusion on the share",
            "--asset",
            "share",
            "--nature",
            "rançongiciel",
            "--since",
            &intrusion,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("SUSPECT since the backup of"))
        .stdout(predicate::str::contains("last clean point:"));
    let suspect = suspect_of(&ws);
    assert_eq!(suspect[0], None, "{suspect:?}");
    assert!(
        suspect[1]
            .as_deref()
            .unwrap()
            .starts_with("taken since the rançongiciel of incident 1 began"),
        "{suspect:?}"
    );
    // A backup of the compromised host while the incident is open holds what the
    // intruder left: suspect too, said at once.
    ws.cmd()
        .args(["backup", "share"])
        .assert()
        .code(3)
        .stdout(predicate::str::contains("SUSPECT share/docs"))
        .stdout(predicate::str::contains("incident 1"));
    // The plan explains its choice, and the step restores the clean document.
    ws.cmd()
        .args(["incident", "plan", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "the last clean point, not the suspect ones since",
        ));
    assert_eq!(restored_by_the_step(&ws, "doc-05.txt"), document(5, 0));
    // A restore request or a plain restore takes the clean point too.
    ws.cmd()
        .args(["restore", "share", "--target", "out"])
        .assert()
        .success();
    let out = files_under(&ws.path().join("out"));
    let doc = out.iter().find(|p| p.ends_with("doc-05.txt")).unwrap();
    assert_eq!(std::fs::read_to_string(doc).unwrap(), document(5, 0));
}

#[test]
fn marking_a_compromise_in_the_assessment_later_makes_the_points_since_suspect() {
    let ws = TestWorkspace::init();
    let intrusion = quiet_intrusion(&ws, "doc-09.txt");
    // First thought to be a disk failure: nothing is suspect.
    ws.cmd()
        .args([
            "incident",
            "open",
            "Share down",
            "--asset",
            "share",
            "--nature",
            "disk failure",
        ])
        .assert()
        .success();
    assert_eq!(suspect_of(&ws), [None, None]);
    ws.cmd().args(["backup", "share"]).assert().success();
    // Then found to be an intrusion that started earlier.
    ws.cmd()
        .args([
            "incident",
            "assess",
            "1",
            "--asset",
            "share",
            "--nature",
            "intrusion",
            "--since",
            &intrusion,
        ])
        .assert()
        .success();
    let suspect = suspect_of(&ws);
    assert_eq!(suspect.len(), 3, "{suspect:?}");
    assert_eq!(suspect[0], None, "{suspect:?}");
    assert!(suspect[1..].iter().all(Option::is_some), "{suspect:?}");
    ws.cmd()
        .args(["incident", "show", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("last clean point:"))
        .stdout(predicate::str::contains(
            "compromised, the points taken since are suspect",
        ));
}
