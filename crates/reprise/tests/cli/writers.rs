//! Writers: stock restic on another host appends to a local repository through
//! `reprise serve`, and can do nothing else.

use std::process::Command;

use predicates::prelude::*;

use crate::serve::serve;
use crate::support::{BASE, TestWorkspace, asset};

fn restic(ws: &TestWorkspace, url: &str, args: &[&str]) -> std::process::Output {
    Command::new("restic")
        .args(args)
        .env("RESTIC_REPOSITORY", url)
        .env(
            "RESTIC_PASSWORD_FILE",
            ws.path().join(".reprise/keys/local.key"),
        )
        .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
        .output()
        .expect("restic is installed")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn token(ws: &TestWorkspace, name: &str, asset: &str) -> String {
    let made = ws.json(&[
        "repo", "writer", "add", "local", name, "--asset", asset, "--json",
    ]);
    made["token"].as_str().unwrap().to_string()
}

#[test]
fn a_writer_appends_backups_over_rest_and_can_neither_delete_nor_rewrite() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}\n[[repository]]\nid = \"other\"\npath = \"other-repository\"\npassword_file = \".reprise/keys/local.key\"\n{}{}",
        asset("mail", ""),
        asset("web", "")
    );
    ws.write_config(&config);
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd()
        .args(["repo", "writer", "add", "other", "x", "--asset", "mail"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "asset `mail` keeps no restore points in repository `other`",
        ));
    let mail = token(&ws, "mail-01", "mail");
    let server = serve(&ws);
    let host = server.base.strip_prefix("http://").unwrap();
    let url = |name: &str, token: &str, repo: &str| {
        format!("rest:http://{name}:{token}@{host}/rest/{repo}/")
    };
    let data = ws.path().join("mail-data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("inbox.mbox"), "From: a client\n\nhello\n").unwrap();

    // The host's own restic backs up through the server; the point is mail's, trusted.
    let backup = restic(
        &ws,
        &url("mail-01", &mail, "local"),
        &[
            "backup",
            "--host",
            "mail-01",
            "--tag",
            "asset:mail",
            "--tag",
            "dataset:files",
            data.to_str().unwrap(),
        ],
    );
    assert!(backup.status.success(), "{}", text(&backup));
    let points = ws.json(&["snapshots", "mail", "--json"]);
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0]["foreign"], false, "{points:?}");

    // Forget (a delete of a snapshot), a delete of a pack, a snapshot written over, a
    // key added, another repository: each refused.
    let snapshot = points[0]["copies"][0]["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let forget = restic(&ws, &url("mail-01", &mail, "local"), &["forget", &snapshot]);
    assert!(!forget.status.success(), "{}", text(&forget));
    let client = reqwest::blocking::Client::new();
    let repo_dir = ws.path().join("repository");
    let pack = crate::support::files_under(&repo_dir.join("data"))
        .into_iter()
        .next()
        .unwrap();
    let pack_name = pack.file_name().unwrap().to_str().unwrap().to_string();
    let deleted = client
        .delete(format!("{}/rest/local/data/{pack_name}", server.base))
        .basic_auth("mail-01", Some(&mail))
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 403);
    let snap_file = crate::support::files_under(&repo_dir.join("snapshots"))
        .into_iter()
        .find(|f| {
            f.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&snapshot)
        })
        .unwrap();
    let snapshot = snap_file.file_name().unwrap().to_str().unwrap().to_string();
    let original = std::fs::read(&snap_file).unwrap();
    let rewritten = client
        .post(format!("{}/rest/local/snapshots/{snapshot}", server.base))
        .basic_auth("mail-01", Some(&mail))
        .body(original.clone())
        .send()
        .unwrap();
    assert_eq!(rewritten.status(), 403);
    let forged = client
        .post(format!("{}/rest/local/snapshots/{snapshot}", server.base))
        .basic_auth("mail-01", Some(&mail))
        .body("not what restic wrote")
        .send()
        .unwrap();
    assert_eq!(forged.status(), 400);
    let elsewhere = client
        .get(format!("{}/rest/other/config", server.base))
        .basic_auth("mail-01", Some(&mail))
        .send()
        .unwrap();
    assert_eq!(elsewhere.status(), 401);
    assert!(pack.exists() && std::fs::read(&snap_file).unwrap() == original);
    let check = Command::new("restic")
        .args(["-r", repo_dir.to_str().unwrap(), "check", "--read-data"])
        .env(
            "RESTIC_PASSWORD_FILE",
            ws.path().join(".reprise/keys/local.key"),
        )
        .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check));

    // A snapshot tagged for an asset the writer does not back up is no restore point.
    let foreign = restic(
        &ws,
        &url("mail-01", &mail, "local"),
        &[
            "backup",
            "--host",
            "mail-01",
            "--tag",
            "asset:web",
            data.to_str().unwrap(),
        ],
    );
    assert!(foreign.status.success(), "{}", text(&foreign));
    let web = ws.json(&["snapshots", "web", "--json"]);
    assert!(
        web.as_array().unwrap().iter().all(|p| p["foreign"] == true),
        "{web}"
    );

    // Revoked, it is refused; every refusal is in the journal.
    ws.cmd()
        .args(["repo", "writer", "revoke", "local", "mail-01"])
        .assert()
        .success();
    let after = restic(&ws, &url("mail-01", &mail, "local"), &["snapshots"]);
    assert!(!after.status.success(), "{}", text(&after));
    ws.cmd()
        .args(["repo", "writer", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mail-01"))
        .stdout(predicate::str::contains("revoked"));
    ws.cmd()
        .args(["journal", "list", "--limit", "1000"])
        .assert()
        .success()
        .stdout(predicate::str::contains("writer.refused"))
        .stdout(predicate::str::contains("writer.foreign"));
    // A writer's token opens no API route.
    let api = client
        .get(format!("{}/api/v1/status", server.base))
        .bearer_auth(&mail)
        .send()
        .unwrap();
    assert_eq!(api.status(), 401);
}
