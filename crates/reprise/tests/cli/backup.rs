//! Backups, restore points, restores and verification on real repositories, and the
//! break-glass path: stock `restic` reads what Reprise writes.

use std::path::Path;
use std::process::Command;

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, incompressible_files, pack_count, restic, sql};

fn same_tree(a: &Path, b: &Path) {
    let mut left: Vec<_> = walk(a);
    let mut right: Vec<_> = walk(b);
    left.sort();
    right.sort();
    assert_eq!(
        left.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        right.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert_eq!(left, right, "same bytes");
}

fn walk(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn the_demo_is_backed_up_and_verified_and_restores_byte_for_byte() {
    let ws = TestWorkspace::demo();
    let points = ws.json(&["snapshots", "iredmail", "--json"]);
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 2, "mailboxes and config");
    assert!(
        points
            .iter()
            .all(|p| p["integrity"]["status"] == "verified")
    );

    let target = ws.path().join("restored");
    ws.cmd()
        .args(["restore", "iredmail", "--dataset", "mailboxes", "--target"])
        .arg(&target)
        .assert()
        .success()
        .stdout(predicate::str::contains("data verified before writing"))
        .stdout(predicate::str::contains("restored 2 files"));
    same_tree(&ws.path().join("data/iredmail/vmail"), &target);

    // A command's output comes back as the file it was named.
    let dump = ws.path().join("dump");
    ws.cmd()
        .args(["restore", "zabbix", "--target"])
        .arg(&dump)
        .assert()
        .success();
    assert_eq!(
        std::fs::read(dump.join("zabbix.sql")).unwrap(),
        std::fs::read(ws.path().join("data/zabbix/zabbix.sql")).unwrap()
    );

    // Restoring over existing files is refused unless asked.
    ws.cmd()
        .args(["restore", "zabbix", "--target"])
        .arg(&dump)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already exist in the target"));
    ws.cmd()
        .args(["restore", "zabbix", "--overwrite", "--target"])
        .arg(&dump)
        .assert()
        .success();

    // The restore is recorded with its duration: the raw material of measured RTO.
    let status = ws.json(&["status", "--json"]);
    let mail = status
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["asset"] == "iredmail")
        .unwrap();
    assert_eq!(mail["rpo_status"], "ok");
    assert_eq!(mail["last_backup_ok"], true);
}

#[test]
fn stock_restic_lists_checks_and_restores_what_reprise_wrote() {
    let ws = TestWorkspace::demo();
    let out = restic(&ws, &["snapshots", "--json", "--host", "iredmail"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tags: Vec<String> = snaps
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
        })
        .collect();
    assert!(tags.contains(&"asset:iredmail".to_string()));
    assert!(tags.contains(&"dataset:mailboxes".to_string()));

    let check = restic(&ws, &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let target = ws.path().join("break-glass");
    let restore = restic(
        &ws,
        &[
            "restore",
            "latest",
            "--host",
            "iredmail",
            "--tag",
            "dataset:mailboxes",
            "--target",
            target.to_str().unwrap(),
        ],
    );
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let original = ws.path().join("data/iredmail/vmail");
    let restored = target.join(original.strip_prefix("/").unwrap());
    same_tree(&original, &restored);
}

#[test]
fn stock_restic_backing_up_the_same_files_stores_no_file_data_again() {
    // Reprise cuts files into chunks exactly where restic does: someone who also runs
    // stock restic against the repository (or moves to it) pays nothing twice.
    let ws = TestWorkspace::init();
    incompressible_files(&ws.path().join("big"), 3);
    std::fs::write(ws.path().join("big/small.txt"), "a small file\n").unwrap();
    let config = format!(
        "{BASE}{}",
        asset(
            "big",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"big\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "big"]).assert().success();

    let out = restic(
        &ws,
        &["backup", "--json", ws.path().join("big").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let summary: serde_json::Value = stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|message| message["message_type"] == "summary")
        .unwrap_or_else(|| panic!("no summary from restic: {stdout}"));
    assert_eq!(summary["files_new"], 4, "{summary}");
    assert_eq!(
        summary["data_blobs"], 0,
        "restic stored file data again: {summary}"
    );
}

#[test]
fn a_backup_killed_midway_loses_nothing_and_the_next_one_succeeds() {
    let ws = TestWorkspace::init();
    // Incompressible data, enough for the backup to take a while.
    incompressible_files(&ws.path().join("big"), 24);
    std::fs::write(ws.path().join("small.txt"), "first restore point\n").unwrap();
    let config = format!(
        "{BASE}{}{}",
        asset(
            "small",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"small.txt\"]"
        ),
        asset(
            "big",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"big\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "small"]).assert().success();

    let count = || pack_count(&ws);
    let before = count();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("reprise"))
        .args(["backup", "big"])
        .current_dir(ws.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    // Kill it once it has written data, before it could finish.
    while count() <= before + 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the backup never started writing"
        );
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Every earlier restore point is intact and restorable.
    ws.cmd().args(["verify", "--read-data"]).assert().success();
    let target = ws.path().join("restored");
    ws.cmd()
        .args(["restore", "small", "--target"])
        .arg(&target)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(target.join("small.txt")).unwrap(),
        "first restore point\n"
    );
    let check = restic(&ws, &["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    // And the next backup succeeds.
    ws.cmd().args(["backup", "big"]).assert().success();
    ws.cmd().args(["verify", "--read-data"]).assert().success();
}

#[test]
fn one_failing_data_set_does_not_stop_the_others_and_says_why() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    let config = format!(
        "{BASE}{}{}{}",
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        ),
        asset(
            "db",
            "\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"echo 'connection refused' >&2; exit 3\"\nfilename = \"db.sql\""
        ),
        asset(
            "slow",
            "\n[[asset.dataset]]\nname = \"export\"\ncommand = \"sleep 30\"\nfilename = \"cfg.txt\"\ntimeout = \"1s\""
        )
    );
    ws.write_config(&config);
    ws.cmd()
        .args(["backup", "--all"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("ok      ok/files → local"))
        .stdout(predicate::str::contains(
            "FAILED  db/dump → local: asset `db`, data set `dump`: `echo 'connection refused' >&2; exit 3` failed (exit status: 3): connection refused",
        ))
        .stdout(predicate::str::contains("FAILED  slow/export → local: asset `slow`, data set `export`: `sleep 30` did not finish within 1s"))
        .stdout(predicate::str::contains("1 data set(s) backed up, 2 failed"));
    // A failed command never becomes a restore point.
    let points = ws.json(&["snapshots", "--json"]);
    assert_eq!(points.as_array().unwrap().len(), 1);
}

#[test]
fn a_wrong_key_is_a_clear_error_and_loses_nothing() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    ));
    ws.cmd().args(["backup", "ok"]).assert().success();
    let key = ws.path().join(".reprise/keys/local.key");
    let good = std::fs::read(&key).unwrap();
    std::fs::write(&key, "not-the-key\n").unwrap();
    ws.cmd()
        .args(["backup", "ok"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("wrong password"))
        .stdout(predicate::str::contains("not-the-key").not());
    std::fs::write(&key, good).unwrap();
    assert_eq!(
        ws.json(&["snapshots", "--json"]).as_array().unwrap().len(),
        1
    );
}

#[test]
fn damaged_data_is_reported_as_the_restore_points_it_affects() {
    let ws = TestWorkspace::demo();
    // Corrupt every pack of the on-site repository (the off-site copy stays intact).
    let packs = ws.path().join("repository/data");
    for pack in std::fs::read_dir(&packs)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|p| p.unwrap().path())
    {
        // Every blob of the pack (packs hold many small ones since the demo's erasure
        // repacked them).
        let mut bytes = std::fs::read(&pack).unwrap();
        for b in bytes.iter_mut().step_by(32) {
            *b ^= 0xff;
        }
        std::fs::write(&pack, bytes).unwrap();
    }

    let out = ws.cmd().args(["verify", "--read-data"]).assert().code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("FAILED  repository `local`"), "{stdout}");
    assert!(stdout.contains("affected: "), "{stdout}");
    // Each restore point's on-site copy is failed; the off-site copy keeps it restorable.
    // (The file server's points are in its own repository, untouched.)
    let points = ws.json(&["snapshots", "--json"]);
    for p in points
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["asset"] != "srv-fichiers")
    {
        let copies = p["copies"].as_array().unwrap();
        assert!(
            copies
                .iter()
                .any(|c| c["repository"] == "local" && c["integrity"]["status"] == "failed"),
            "{p}"
        );
        assert_eq!(p["integrity"]["status"], "verified", "{p}");
    }
}

/// A workspace whose policy keeps the last restore point, with asset `ok` (the file
/// `notes.txt`) backed up twice (`v1`, then `v2`), and the asset blocks `others`.
fn two_points_keep_one(others: &str) -> TestWorkspace {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "v1\n").unwrap();
    let config = format!(
        "{}{}{others}",
        BASE.replace(
            "repository = \"local\"\n",
            "repository = \"local\"\nkeep_last = 1\n"
        ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "ok"]).assert().success();
    std::fs::write(ws.path().join("notes.txt"), "v2\n").unwrap();
    ws.cmd().args(["backup", "ok"]).assert().success();
    ws
}

#[test]
fn retention_plans_with_reasons_then_applies() {
    let ws = two_points_keep_one("");

    ws.cmd()
        .args(["retention", "plan"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok/files in `local` (policy `daily`): keep 1, remove 1",
        ))
        .stdout(predicate::str::contains("last 1"))
        .stdout(predicate::str::contains("no rule keeps it"));
    assert_eq!(
        ws.json(&["snapshots", "--json"]).as_array().unwrap().len(),
        2,
        "a plan changes nothing"
    );
    ws.cmd()
        .args(["retention", "apply"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1 restore point(s)"));
    let left = ws.json(&["snapshots", "--json"]);
    assert_eq!(left.as_array().unwrap().len(), 1);
    let target = ws.path().join("r");
    ws.cmd()
        .args(["restore", "ok", "--target"])
        .arg(&target)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "v2\n"
    );
}

#[test]
fn copies_to_an_off_site_repository_satisfy_3_2_1() {
    let ws = TestWorkspace::init();
    // The off-site repository is on another filesystem; `nas` is a folder beside the
    // local repository, labelled another medium: one copy, whatever its label.
    let disk = crate::support::other_filesystem();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    std::fs::write(
        ws.path().join(".reprise/keys/offsite.key"),
        "offsite-secret\n",
    )
    .unwrap();
    std::fs::write(ws.path().join(".reprise/keys/nas.key"), "nas-secret\n").unwrap();
    let repos = "\n[[repository]]\nid = \"nas\"\npath = \"nas\"\npassword_file = \".reprise/keys/nas.key\"\nmedium = \"nas\"\n\n[[repository]]\nid = \"offsite\"\npath = \"{offsite}\"\npassword_file = \".reprise/keys/offsite.key\"\nmedium = \"object-storage\"\nlocation = \"off-site\"\n";
    let repos = repos.replace(
        "{offsite}",
        &disk.path().join("offsite").display().to_string(),
    );
    let config = format!(
        "{}{repos}{}",
        BASE.replace(
            "repository = \"local\"\n",
            "repository = \"local\"\ncopy_to = [\"nas\", \"offsite\"]\n"
        ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd()
        .args(["backup", "ok"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("copy to `nas` failed: repository `nas` is not initialised yet: run `reprise repo init nas`"))
        .stdout(predicate::str::contains("copy to `offsite` failed"));
    ws.cmd()
        .args(["repo", "init"])
        .assert()
        .success()
        .stdout(predicate::str::contains("repository `offsite`"))
        .stdout(predicate::str::contains("created"));
    ws.cmd()
        .args(["backup", "ok"])
        .assert()
        .success()
        .stdout(predicate::str::contains("copied to nas, offsite"));
    let points = ws.json(&["snapshots", "ok", "--json"]);
    let newest = points.as_array().unwrap().last().unwrap();
    assert_eq!(newest["copies"].as_array().unwrap().len(), 3);
    let status = ws.json(&["status", "--json"]);
    let ok = &status.as_array().unwrap()[0];
    assert_eq!(ok["copies"], 3, "{ok:#}");
    assert_eq!(ok["off_site"], true);
    assert_eq!(ok["rule_3_2_1"], true);
    assert!(
        ok["placement"][0]
            .as_str()
            .unwrap()
            .contains("`local` and `nas` are on the same filesystem: counted as one copy"),
        "{ok:#}"
    );
    ws.cmd()
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "3-2-1: `local` and `nas` are on the same filesystem",
        ));
    // The off-site copy restores on its own when the others are gone.
    std::fs::remove_dir_all(ws.path().join("repository")).unwrap();
    std::fs::remove_dir_all(ws.path().join("nas")).unwrap();
    let target = ws.path().join("r");
    ws.cmd()
        .args(["restore", "ok", "--target"])
        .arg(&target)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "notes\n"
    );
}

/// A copy or a retention cut short by an absent disk says what is left and exits 1;
/// running it again once the disk is back finishes it.
#[test]
fn copies_and_retention_cut_short_by_an_absent_disk_finish_when_run_again() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "v1\n").unwrap();
    let repos = "\n[[repository]]\nid = \"usb\"\npath = \"usb\"\npassword_file = \".reprise/keys/local.key\"\nmedium = \"usb-disk\"\n";
    ws.write_config(&format!(
        "{}{repos}{}",
        BASE.replace(
            "repository = \"local\"\n",
            "repository = \"local\"\ncopy_to = [\"usb\"]\nkeep_last = 1\n"
        ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    ));
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "ok"]).assert().success();
    let copies_in_usb = |ws: &TestWorkspace| {
        ws.json(&["snapshots", "ok", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["copies"].as_array().unwrap().clone())
            .filter(|c| c["repository"] == "usb")
            .count()
    };
    assert_eq!(copies_in_usb(&ws), 1);

    // The disk is away for the next backup: the point is made, its copy is not.
    std::fs::rename(ws.path().join("usb"), ws.path().join("usb-away")).unwrap();
    std::fs::write(ws.path().join("notes.txt"), "v2\n").unwrap();
    ws.cmd()
        .args(["backup", "ok"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("copy to `usb` failed"));
    // Retention with the disk away: `local` is done, `usb` is left and said so.
    std::fs::write(ws.path().join("notes.txt"), "v3\n").unwrap();
    std::fs::rename(ws.path().join("usb-away"), ws.path().join("usb")).unwrap();
    ws.cmd().args(["backup", "ok"]).assert().success();
    // The copy of v2 missed last time came along with v3's.
    assert_eq!(
        copies_in_usb(&ws),
        3,
        "{:#}",
        ws.json(&["snapshots", "ok", "--json"])
    );
    std::fs::rename(ws.path().join("usb"), ws.path().join("usb-away")).unwrap();
    ws.cmd()
        .args(["retention", "apply"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "repository `local`: removed 2 restore point(s)",
        ))
        .stdout(predicate::str::contains(
            "repository `usb`: FAILED, 2 restore point(s) left to remove",
        ))
        .stdout(predicate::str::contains(
            "Not finished: run the same command again",
        ));
    std::fs::rename(ws.path().join("usb-away"), ws.path().join("usb")).unwrap();
    ws.cmd()
        .args(["retention", "apply"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "repository `usb`: removed 2 restore point(s)",
        ));
    assert_eq!(copies_in_usb(&ws), 1);
}

#[test]
fn two_folders_on_one_disk_labelled_apart_do_not_make_3_2_1() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    let repos = "\n[[repository]]\nid = \"usb\"\npath = \"usb\"\npassword_file = \".reprise/keys/local.key\"\nmedium = \"usb-disk\"\nlocation = \"off-site\"\n";
    ws.write_config(&format!(
        "{}{repos}{}",
        BASE.replace(
            "repository = \"local\"\n",
            "repository = \"local\"\ncopy_to = [\"usb\"]\n"
        ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    ));
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "ok"]).assert().success();
    let status = ws.json(&["status", "--json"]);
    let ok = &status.as_array().unwrap()[0];
    assert_eq!(
        (ok["copies"].as_u64(), ok["off_site"].as_bool()),
        (Some(2), Some(false)),
        "{ok:#}"
    );
    assert_eq!(ok["rule_3_2_1"], false);
    let alerts = ws.json(&["alerts", "--json"]);
    let rule = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "rule321:ok")
        .unwrap_or_else(|| panic!("no 3-2-1 alert in {alerts:#}"));
    let message = rule["message"].as_str().unwrap();
    assert!(
        message.contains("`local` and `usb` are on the same filesystem"),
        "{message}"
    );
    assert!(
        message.contains("`usb` shares a place with an on-site copy: not off-site"),
        "{message}"
    );
}

#[test]
fn pruning_waits_while_another_process_backs_up_into_the_repository() {
    // A server elsewhere shares the catalog and is backing `db` up into `local` (its
    // lease says so). A prune beside it could delete the packs that backup is writing
    // or deduplicating against: retention and erasure refuse until it ends, and change
    // nothing meanwhile.
    let ws = two_points_keep_one(&asset(
        "db",
        "\n[[asset.dataset]]\nname = \"dump\"\npaths = [\"dump.sql\"]",
    ));
    std::fs::write(ws.path().join("dump.sql"), "select 1;\n").unwrap();

    let catalog = ws.path().join(".reprise/catalog.db");
    let catalog = catalog.to_str().unwrap();
    let in_an_hour = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
        + 3_600_000_000) as i64;
    sql(
        catalog,
        &format!(
            "INSERT INTO leases (key, holder, expires_us) VALUES ('backup:db', 'elsewhere:4242:cafe', {in_an_hour})"
        ),
    );
    ws.cmd()
        .args(["retention", "apply"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "a backup of `db` is running: repositories are pruned only while nothing writes to them",
        ));
    assert_eq!(
        ws.json(&["snapshots", "--json"]).as_array().unwrap().len(),
        2
    );
    let plan = ws.json(&[
        "erase",
        "plan",
        "ok",
        "notes.txt",
        "--reason",
        "test",
        "--json",
    ]);
    let id = plan["id"].as_i64().unwrap().to_string();
    ws.cmd()
        .args(["erase", "run", &id])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("a backup of `db` is running"));
    assert_eq!(
        ws.json(&["erase", "show", &id, "--json"])["state"],
        "planned"
    );
    // The other process' backup stays its own: nothing here released its lease.
    ws.cmd()
        .args(["backup", "db"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "another process is backing this asset up",
        ));

    // Once it ends, both go ahead.
    sql(catalog, "DELETE FROM leases WHERE key = 'backup:db'");
    ws.cmd()
        .args(["retention", "apply"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1 restore point(s)"));
    ws.cmd().args(["erase", "run", &id]).assert().success();
    ws.cmd().args(["backup", "db"]).assert().success();
    ws.cmd().args(["verify", "--read-data"]).assert().success();
}

#[test]
fn a_restore_point_older_than_the_last_configuration_change_is_flagged() {
    let ws = TestWorkspace::demo();
    let config = ws
        .config()
        .replacen("owner = \"Mohamed\"", "owner = \"Julie\"", 1);
    ws.write_config(&config);
    let target = ws.path().join("r");
    ws.cmd()
        .args(["restore", "router-vyos", "--target"])
        .arg(&target)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "predates the asset's configuration change",
        ));
}

#[test]
fn restore_points_are_chosen_at_or_before_a_time() {
    let ws = TestWorkspace::demo();
    ws.cmd()
        .args(["restore", "iredmail", "--at", "2001-01-01", "--target", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no restore point at or before"));
    ws.cmd()
        .args([
            "restore",
            "iredmail",
            "--at",
            "yesterday-ish",
            "--target",
            "x",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a time"));
    ws.cmd()
        .args(["restore", "nobody", "--target", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no asset `nobody`"));
}

#[test]
fn a_rolling_verification_proves_restore_points_once_every_slice_was_read() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    ));
    ws.cmd().args(["backup", "ok"]).assert().success();
    let points = ws.json(&["snapshots", "--json"]);
    assert_eq!(points[0]["integrity"]["status"], "unverified");
    let first = ws.json(&["verify", "--rolling", "2", "--json"]);
    assert_eq!(first[0]["mode"], "rolling 1/2");
    assert_eq!(first[0]["proven"], 0);
    let second = ws.json(&["verify", "--rolling", "2", "--json"]);
    assert_eq!(second[0]["mode"], "rolling 2/2");
    assert_eq!(second[0]["proven"], 1, "every slice has now been read");
    let points = ws.json(&["snapshots", "--json"]);
    assert_eq!(points[0]["integrity"]["status"], "verified");
    let third = ws.json(&["verify", "--rolling", "2", "--json"]);
    assert_eq!(third[0]["mode"], "rolling 1/2", "the cycle starts again");
}

#[test]
fn passwords_can_come_from_a_command_and_never_show() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    let config = format!(
        "{}{}",
        BASE.replace(
            "password_file = \".reprise/keys/local.key\"",
            "password_command = \"cat .reprise/keys/local.key\""
        ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "ok"]).assert().success();
    let key = std::fs::read_to_string(ws.path().join(".reprise/keys/local.key")).unwrap();
    ws.cmd()
        .args(["repo", "env"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "export RESTIC_PASSWORD_COMMAND='cat .reprise/keys/local.key'",
        ))
        .stdout(predicate::str::contains(key.trim()).not());
}

/// A workspace whose policy copies every new restore point of asset `ok` (the file
/// `notes.txt`, saying `notes`) to repository `id`, reached by the configuration `lines`
/// (its `url` and what else it needs), its key in `.reprise/keys/ID.key`.
fn copied_off_site(id: &str, lines: &str, medium: &str, notes: &str) -> TestWorkspace {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), notes).unwrap();
    std::fs::write(
        ws.path().join(format!(".reprise/keys/{id}.key")),
        format!("{id}-repository-key\n"),
    )
    .unwrap();
    let config = format!(
        "{}\n[[repository]]\nid = \"{id}\"\n{lines}\npassword_file = \".reprise/keys/{id}.key\"\nmedium = \"{medium}\"\nlocation = \"off-site\"\n{}",
        BASE.replace(
            "repository = \"local\"\n",
            &format!("repository = \"local\"\ncopy_to = [\"{id}\"]\n")
        ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws
}

#[test]
fn an_off_site_copy_in_s3_is_readable_by_stock_restic() {
    let bucket = reprise_testkit::s3::s3_bucket();
    let ws = copied_off_site(
        "cloud",
        &format!("url = \"{bucket}\""),
        "object-storage",
        "notes for the cloud\n",
    );
    let s3 = |cmd: &mut assert_cmd::Command| {
        cmd.env("AWS_ACCESS_KEY_ID", reprise_testkit::s3::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", reprise_testkit::s3::SECRET_KEY);
    };
    let mut no_credentials = ws.cmd();
    no_credentials
        .args(["repo", "init", "cloud"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("AWS_ACCESS_KEY_ID is not set"));
    let mut init = ws.cmd();
    s3(&mut init);
    init.args(["repo", "init", "cloud"]).assert().success();
    let mut backup = ws.cmd();
    s3(&mut backup);
    backup
        .args(["backup", "ok"])
        .assert()
        .success()
        .stdout(predicate::str::contains("copied to cloud"));

    // What went to S3 is a restic repository: stock restic opens the server's copy of
    // the bucket (one file per object, at its key), checks every byte and restores it.
    let objects = reprise_testkit::s3::bucket_dir(&bucket);
    let restic = |args: &[&str]| {
        Command::new("restic")
            .arg("-r")
            .arg(&objects)
            .args(args)
            .env(
                "RESTIC_PASSWORD_FILE",
                ws.path().join(".reprise/keys/cloud.key"),
            )
            .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
            .output()
            .unwrap()
    };
    let out = restic(&["check", "--read-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = ws.path().join("from-s3");
    let out = restic(&["restore", "latest", "--target", target.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let notes = ws.path().canonicalize().unwrap().join("notes.txt");
    assert_eq!(
        std::fs::read_to_string(target.join(notes.strip_prefix("/").unwrap())).unwrap(),
        "notes for the cloud\n"
    );
    // And Reprise restores from S3 alone once the local repository is gone.
    std::fs::remove_dir_all(ws.path().join("repository")).unwrap();
    let mut restore = ws.cmd();
    s3(&mut restore);
    restore
        .args(["restore", "ok", "--target", "r"])
        .assert()
        .success()
        .stdout(predicate::str::contains("from `cloud`"));
    assert_eq!(
        std::fs::read_to_string(ws.path().join("r/notes.txt")).unwrap(),
        "notes for the cloud\n"
    );
}

#[test]
fn a_copy_on_a_rest_server_is_readable_by_stock_restic() {
    let server = reprise_testkit::rest::RestServer::start();
    let ws = copied_off_site(
        "nas",
        &format!("url = \"{}\"", server.location),
        "nas",
        "notes for the rest server\n",
    );
    ws.cmd().args(["repo", "init", "nas"]).assert().success();
    ws.cmd()
        .args(["backup", "ok"])
        .assert()
        .success()
        .stdout(predicate::str::contains("copied to nas"));
    // Stock restic reads it through its own REST client (the lines of `reprise repo
    // env`), and as a plain directory on the server's disk.
    let out = crate::support::restic_in(&ws, Some("nas"), &["check", "--read-data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let target = ws.path().join("from-rest");
    let out = Command::new("restic")
        .arg("-r")
        .arg(&server.dir)
        .args(["restore", "latest", "--target", target.to_str().unwrap()])
        .env(
            "RESTIC_PASSWORD_FILE",
            ws.path().join(".reprise/keys/nas.key"),
        )
        .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let notes = ws.path().canonicalize().unwrap().join("notes.txt");
    assert_eq!(
        std::fs::read_to_string(target.join(notes.strip_prefix("/").unwrap())).unwrap(),
        "notes for the rest server\n"
    );
    // Reprise verifies every byte there and restores from it alone.
    ws.cmd()
        .args(["verify", "ok", "--read-data"])
        .assert()
        .success();
    std::fs::remove_dir_all(ws.path().join("repository")).unwrap();
    ws.cmd()
        .args(["restore", "ok", "--target", "r"])
        .assert()
        .success()
        .stdout(predicate::str::contains("from `nas`"));
    assert_eq!(
        std::fs::read_to_string(ws.path().join("r/notes.txt")).unwrap(),
        "notes for the rest server\n"
    );
}

#[test]
fn an_off_site_copy_over_sftp_is_readable_by_stock_restic() {
    let server = reprise_testkit::sftp::SshServer::start();
    let remote = tempfile::tempdir().unwrap();
    let location = server.location(&remote.path().join("repo"));
    // A throwaway server: its host key is new on every run.
    let ws = copied_off_site(
        "vault",
        &format!(
            "url = \"{location}\"\nssh_key = \"{}\"\nknown_hosts = \"accept\"",
            server.key.display()
        ),
        "nas",
        "notes for the vault\n",
    );
    ws.cmd().args(["repo", "init", "vault"]).assert().success();
    ws.cmd()
        .args(["backup", "ok"])
        .assert()
        .success()
        .stdout(predicate::str::contains("copied to vault"));

    // Each command closes its ssh connection: no ssh process is left behind.
    let port = format!("127.0.0.1:{} ", server.port);
    let ssh_left = || -> Vec<String> {
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.starts_with("ssh ") && c.contains("sftp") && c.contains(&port))
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ssh_left().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(ssh_left(), Vec::<String>::new(), "ssh left running");

    // Stock restic reaches it over SFTP with the lines `reprise repo env` prints.
    let env = ws.cmd().args(["repo", "env", "vault"]).output().unwrap();
    let env = String::from_utf8(env.stdout).unwrap();
    let command = env
        .lines()
        .find_map(|l| l.strip_prefix("# and on every restic command: -o sftp.command="))
        .unwrap_or_else(|| panic!("no ssh command in:\n{env}"))
        .trim_matches('\'')
        .to_string();
    assert!(
        command.contains(&format!("-i {}", server.key.display())),
        "{command}"
    );
    // (The test's ssh keeps no record of the throwaway host.)
    let command = command.replacen("ssh ", "ssh -o UserKnownHostsFile=/dev/null ", 1);
    let target = ws.path().join("from-sftp");
    for args in [
        vec!["check", "--read-data"],
        vec!["restore", "latest", "--target", target.to_str().unwrap()],
    ] {
        let out = Command::new("restic")
            .args(["-r", &location, "-o"])
            .arg(format!("sftp.command={command}"))
            .args(&args)
            .env(
                "RESTIC_PASSWORD_FILE",
                ws.path().join(".reprise/keys/vault.key"),
            )
            .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "restic {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let notes = ws.path().canonicalize().unwrap().join("notes.txt");
    assert_eq!(
        std::fs::read_to_string(target.join(notes.strip_prefix("/").unwrap())).unwrap(),
        "notes for the vault\n"
    );
    // Reprise checks it and restores from it alone once the local repository is gone.
    ws.cmd()
        .args(["verify", "ok", "--read-data"])
        .assert()
        .success();
    let local = ws.path().join("repository");
    let away = ws.path().join("repository.away");
    std::fs::rename(&local, &away).unwrap();
    ws.cmd()
        .args(["restore", "ok", "--target", "r"])
        .assert()
        .success()
        .stdout(predicate::str::contains("from `vault`"));
    assert_eq!(
        std::fs::read_to_string(ws.path().join("r/notes.txt")).unwrap(),
        "notes for the vault\n"
    );
    // With the server gone, the backup lands locally and the failed copy names the
    // repository.
    std::fs::rename(&away, &local).unwrap();
    drop(server);
    let out = ws.cmd().args(["backup", "ok"]).output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("vault"), "{said}");
}

#[test]
fn hooks_run_around_each_data_set_and_a_failing_pre_hook_stops_it() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    let config = format!(
        "{BASE}{}{}",
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]\npre_hook = \"echo \\\"pre $REPRISE_ASSET/$REPRISE_DATASET\\\" >> hooks.log\"\npost_hook = \"echo \\\"post $REPRISE_STATUS\\\" >> hooks.log\""
        ),
        asset(
            "frozen",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]\npre_hook = \"echo 'database busy' >&2; exit 1\""
        )
    );
    ws.write_config(&config);
    ws.cmd()
        .args(["backup", "--all"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("ok      ok/files"))
        .stdout(predicate::str::contains(
            "FAILED  frozen/files → local: asset `frozen`, data set `files`: pre-hook `echo 'database busy' >&2; exit 1` failed (exit status: 1): database busy",
        ));
    assert_eq!(
        std::fs::read_to_string(ws.path().join("hooks.log")).unwrap(),
        "pre ok/files\npost succeeded\n"
    );
}

#[test]
fn every_run_is_recorded_and_listed() {
    let ws = TestWorkspace::demo();
    let target = ws.path().join("r");
    ws.cmd()
        .args(["restore", "zabbix", "--target"])
        .arg(&target)
        .assert()
        .success();
    let runs = ws.json(&["runs", "--json"]);
    let runs = runs.as_array().unwrap();
    assert_eq!(runs[0]["kind"], "restore", "newest first");
    assert_eq!(runs[0]["asset"], "zabbix");
    assert_eq!(runs[0]["status"], "succeeded");
    assert!(runs[0]["finished"].is_string());
    let backups = ws.json(&["runs", "iredmail", "--kind", "backup", "--json"]);
    assert_eq!(backups.as_array().unwrap().len(), 2);
    assert!(
        backups
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["snapshot"].is_string())
    );
    ws.cmd()
        .args(["runs", "--kind", "party"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown run kind `party`"));
    ws.cmd()
        .args(["runs", "--limit", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("KIND"));
}

#[test]
fn a_rotated_key_opens_the_repository_with_stock_restic_and_the_old_one_no_longer_does() {
    let ws = TestWorkspace::init();
    std::fs::create_dir_all(ws.path().join("data")).unwrap();
    std::fs::write(ws.path().join("data/a.txt"), "before the rotation").unwrap();
    // A second repository (the policy's copy) shares the key file: both must follow.
    ws.write_config(&format!(
        "{}\n[[repository]]\nid = \"copy\"\npath = \"copy\"\npassword_file = \".reprise/keys/local.key\"\nmedium = \"usb-disk\"\nlocation = \"off-site\"\n{}",
        BASE.replace(
            "password_file = \".reprise/keys/local.key\"",
            "password_file = \".reprise/keys/local.key\"\nrotate_every = \"1s\""
        )
        .replace("repository = \"local\"\n", "repository = \"local\"\ncopy_to = [\"copy\"]\n"),
        asset("erp", "[[asset.dataset]]\nname = \"files\"\npaths = [\"data\"]\n")
    ));
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "erp"]).assert().success();
    std::thread::sleep(std::time::Duration::from_secs(2));
    // Past its rotation period: an alert says so and how to rotate.
    ws.cmd()
        .arg("alerts")
        .assert()
        .success()
        .stdout(predicate::str::contains("reprise repo rotate-key local"));
    let key_file = ws.path().join(".reprise/keys/local.key");
    let old = ws.path().join("old.key");
    std::fs::copy(&key_file, &old).unwrap();
    ws.cmd()
        .args(["repo", "rotate-key", "local"])
        .assert()
        .success()
        .stdout(predicate::str::contains("old key"));
    assert_ne!(
        std::fs::read(&key_file).unwrap(),
        std::fs::read(&old).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Stock restic opens it with the new key file, not with the old one.
    let listed = restic(&ws, &["snapshots", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let with_old = Command::new("restic")
        .args(["-r"])
        .arg(ws.path().join("repository"))
        .arg("--password-file")
        .arg(&old)
        .args(["snapshots", "--no-cache"])
        .output()
        .unwrap();
    assert!(!with_old.status.success());
    let copy = |password: &std::path::Path| {
        Command::new("restic")
            .args(["-r"])
            .arg(ws.path().join("copy"))
            .arg("--password-file")
            .arg(password)
            .args(["snapshots", "--no-cache"])
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(copy(&key_file), "the copy opens with the new key file too");
    assert!(!copy(&old));
    // Reprise goes on: the point restores, a new backup works, the alert is gone, and the
    // rotation is journaled.
    ws.cmd()
        .args(["restore", "erp", "--target"])
        .arg(ws.path().join("restored"))
        .assert()
        .success();
    ws.cmd().args(["backup", "erp"]).assert().success();
    // Rotated just now: not due again within a day.
    ws.write_config(
        &ws.config()
            .replace("rotate_every = \"1s\"", "rotate_every = \"1d\""),
    );
    let alerts = ws.json(&["alerts", "--json"]);
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["key"] != "rotation:local"),
        "{alerts:#}"
    );
    ws.cmd()
        .args(["journal", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("secret.rotated"));
}

#[test]
fn a_repository_password_kept_as_an_encrypted_secret_works_for_reprise_and_stock_restic() {
    let ws = TestWorkspace::init();
    std::fs::create_dir_all(ws.path().join("data")).unwrap();
    std::fs::write(ws.path().join("data/a.txt"), "kept secret").unwrap();
    let key_file = ws.path().join(".reprise/keys/local.key");
    let password = std::fs::read_to_string(&key_file).unwrap();
    ws.cmd()
        .args(["secret", "set", "local-repo"])
        .write_stdin(password.clone())
        .assert()
        .success()
        .stdout(predicate::str::contains("encrypted under the master key"));
    std::fs::remove_file(&key_file).unwrap();
    ws.write_config(&format!(
        "{}{}",
        BASE.replace(
            "password_file = \".reprise/keys/local.key\"",
            "password_secret = \"local-repo\""
        ),
        asset(
            "erp",
            "[[asset.dataset]]\nname = \"files\"\npaths = [\"data\"]\n"
        )
    ));
    ws.cmd().args(["backup", "erp"]).assert().success();
    // At rest: encrypted, owner-only, never the password in clear.
    let stored = ws.path().join(".reprise/secrets/local-repo.json");
    let text = std::fs::read_to_string(&stored).unwrap();
    assert!(!text.contains(password.trim()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
        0o600
    );
    ws.cmd()
        .args(["secret", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("local-repo"))
        .stdout(predicate::str::contains(password.trim()).not());
    // Stock restic gets it through a pipe (RESTIC_PASSWORD_COMMAND), not a file.
    let listed = restic(&ws, &["snapshots", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    // Rotated: the secret changes, both still open the repository, the old password not.
    ws.cmd()
        .args(["repo", "rotate-key", "local"])
        .assert()
        .success();
    let rotated = ws
        .cmd()
        .args(["secret", "show", "local-repo"])
        .output()
        .unwrap();
    let rotated = String::from_utf8(rotated.stdout).unwrap();
    assert_ne!(rotated.trim(), password.trim());
    assert!(restic(&ws, &["snapshots"]).status.success());
    let old = ws.path().join("old.key");
    std::fs::write(&old, &password).unwrap();
    let with_old = Command::new("restic")
        .arg("-r")
        .arg(ws.path().join("repository"))
        .arg("--password-file")
        .arg(&old)
        .args(["snapshots", "--no-cache"])
        .output()
        .unwrap();
    assert!(!with_old.status.success());
    ws.cmd().args(["backup", "erp"]).assert().success();
    // Altered on disk, it is refused, and says why.
    let altered =
        std::fs::read_to_string(&stored)
            .unwrap()
            .replacen("\"sealed\": \"", "\"sealed\": \"00", 1);
    std::fs::write(&stored, altered).unwrap();
    let refused = ws.cmd().args(["backup", "erp"]).output().unwrap();
    assert!(!refused.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(said.contains("cannot be decrypted"), "{said}");
    ws.cmd()
        .args(["journal", "list", "--limit", "100"])
        .assert()
        .success()
        .stdout(predicate::str::contains("secret.set"));
    // Secrets older than the allowed age are an alert.
    ws.write_config(&format!(
        "{}\n[supervision]\nsecret_max_age = \"1s\"\n",
        ws.config()
    ));
    std::thread::sleep(std::time::Duration::from_secs(2));
    ws.cmd()
        .arg("alerts")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "secret `local-repo` was last changed",
        ));
}
