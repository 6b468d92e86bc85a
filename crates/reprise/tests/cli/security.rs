//! What an operator (or a hostile target) must not be able to do: write outside a restore
//! target, restore over Reprise itself, guess more passwords than the lockout allows, or
//! hold the server with bodies it never sends.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::serve::{account, add_claire, client, demo_with_token, post, serve};
use crate::support::{BASE, TestWorkspace, asset};

/// A workspace whose asset `app` has one restore point holding `scripts/run.sh` and
/// `reprise.toml` (as any data set could).
fn workspace_with_point() -> TestWorkspace {
    let ws = TestWorkspace::init();
    let data = ws.path().join("data");
    std::fs::create_dir_all(data.join("scripts")).unwrap();
    std::fs::write(data.join("scripts/run.sh"), "echo restored\n").unwrap();
    std::fs::write(data.join("reprise.toml"), "# not the workspace's\n").unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "app",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"data\"]"
        )
    ));
    ws.cmd().args(["backup", "app"]).assert().success();
    ws
}

#[test]
fn a_restore_never_follows_a_link_already_in_its_target() {
    let ws = workspace_with_point();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("run.sh"), "precious\n").unwrap();
    let target = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), target.path().join("scripts")).unwrap();
    for overwrite in [false, true] {
        let mut cmd = ws.cmd();
        cmd.args(["restore", "app", "--target"]).arg(target.path());
        if overwrite {
            cmd.arg("--overwrite");
        }
        cmd.assert()
            .code(1)
            .stderr(predicate::str::contains(
                "is a symbolic link already in the target",
            ))
            .stderr(predicate::str::contains("scripts"));
        assert_eq!(
            std::fs::read_to_string(outside.path().join("run.sh")).unwrap(),
            "precious\n",
            "nothing outside the target is replaced (overwrite: {overwrite})"
        );
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
    }
    // Nothing was written into the target either: the plan refused before writing.
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 1);

    // With the link gone, the same restore works, and an overwrite replaces the name
    // only: a file outside hard-linked into the target keeps its content.
    std::fs::remove_file(target.path().join("scripts")).unwrap();
    ws.cmd()
        .args(["restore", "app", "--target"])
        .arg(target.path())
        .assert()
        .success();
    std::fs::remove_file(target.path().join("scripts/run.sh")).unwrap();
    std::fs::hard_link(
        outside.path().join("run.sh"),
        target.path().join("scripts/run.sh"),
    )
    .unwrap();
    ws.cmd()
        .args(["restore", "app", "--overwrite", "--target"])
        .arg(target.path())
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(target.path().join("scripts/run.sh")).unwrap(),
        "echo restored\n"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("run.sh")).unwrap(),
        "precious\n"
    );
}

#[test]
fn a_restore_over_the_workspace_its_keys_or_the_system_is_refused_unless_overridden() {
    let ws = workspace_with_point();
    let config = ws.config();
    for target in [
        ws.path().to_path_buf(),
        ws.path().join(".reprise/keys"),
        ws.path().join(".reprise"),
        ws.path().join("repository/data"),
        ws.path().parent().unwrap().to_path_buf(),
        "/etc/reprise-test".into(),
        "/".into(),
    ] {
        ws.cmd()
            .args(["restore", "app", "--overwrite", "--target"])
            .arg(&target)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("a restore never writes over"));
    }
    // A link to the workspace is seen through.
    let elsewhere = tempfile::tempdir().unwrap();
    let link = elsewhere.path().join("innocent");
    std::os::unix::fs::symlink(ws.path(), &link).unwrap();
    ws.cmd()
        .args(["restore", "app", "--overwrite", "--target"])
        .arg(&link)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the workspace"));
    assert_eq!(ws.config(), config, "the configuration is untouched");
    assert!(!ws.path().join("scripts").exists());

    // An administrator may, with a reason, which the journal keeps.
    let into = ws.path().join(".reprise/restored-by-hand");
    ws.cmd()
        .args(["restore", "app", "--target"])
        .arg(&into)
        .args([
            "--allow-protected-target",
            "inspecting the restore point in place",
        ])
        .assert()
        .success();
    assert!(into.join("scripts/run.sh").is_file());
    let journal = ws.json(&["journal", "list", "--json"]);
    let entry = journal
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "restore.override")
        .expect("the override is journaled");
    assert!(
        entry["detail"]
            .as_str()
            .unwrap()
            .contains("inspecting the restore point in place")
    );
    ws.cmd().args(["journal", "verify"]).assert().success();
}

#[test]
fn the_api_refuses_impossible_and_protected_restores_before_accepting_them() {
    let (ws, admin) = demo_with_token();
    let operator = account(&ws, "olivier", "operator", "");
    let server = serve(&ws);
    let http = client();
    let restore =
        |token: &str, body: serde_json::Value| post(&http, &server, token, "restores", body);
    let workspace = ws.path().to_str().unwrap().to_string();
    let config = ws.config();
    // Over the workspace, into its keys, into the system: refused, for everyone.
    for target in [
        workspace.clone(),
        format!("{workspace}/.reprise/keys"),
        "/proc/self/fd".to_string(),
        "/etc".to_string(),
    ] {
        for token in [&operator, &admin] {
            let (status, body) = restore(
                token,
                serde_json::json!({ "asset": "iredmail", "target": target, "overwrite": true }),
            );
            assert_eq!(status, 403, "{target}: {body}");
            assert_eq!(body["code"], "refused");
        }
    }
    // Inside the workspace (where the scripts it runs live): refused to an operator.
    let (status, body) = restore(
        &operator,
        serde_json::json!({ "asset": "iredmail", "target": format!("{workspace}/scripts") }),
    );
    assert_eq!(status, 403, "{body}");
    // An override is an administrator's, never an operator's.
    let (status, _) = restore(
        &operator,
        serde_json::json!({ "asset": "iredmail", "target": workspace, "override": "please" }),
    );
    assert_eq!(status, 403);
    // Bad characters and paths the restore point does not hold: refused at once.
    let (status, body) = restore(
        &operator,
        serde_json::json!({ "asset": "iredmail", "target": "/tmp/a\u{0}b" }),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("control character")
    );
    let target = tempfile::tempdir().unwrap();
    let (status, body) = restore(
        &operator,
        serde_json::json!({ "asset": "iredmail", "dataset": "mailboxes", "path": "/no/such/path", "target": target.path() }),
    );
    assert_eq!(
        status, 404,
        "a path the restore point does not hold: {body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("/no/such/path"),
        "{body}"
    );
    // A link planted in the target: refused before the 202, nothing written through it.
    let outside = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(outside.path(), target.path().join("direction")).unwrap();
    let (status, body) = restore(
        &operator,
        serde_json::json!({ "asset": "iredmail", "dataset": "mailboxes", "target": target.path(), "overwrite": true }),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("symbolic link"),
        "{body}"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(ws.config(), config);
    // The target the server answers with is the one resolved.
    std::fs::remove_file(target.path().join("direction")).unwrap();
    let dotted = format!("{}/./sub/../sub", target.path().display());
    let (status, body) = restore(
        &operator,
        serde_json::json!({ "asset": "iredmail", "dataset": "mailboxes", "target": dotted }),
    );
    assert_eq!(status, 202, "{body}");
    let resolved = target.path().canonicalize().unwrap().join("sub");
    assert_eq!(body["target"], resolved.to_str().unwrap());
}

#[test]
fn concurrent_wrong_passwords_get_no_more_guesses_than_the_lockout_allows() {
    let (ws, _) = demo_with_token();
    add_claire(&ws);
    let server = serve(&ws);
    let url = format!("{}/api/v1/sessions", server.base);
    let checked = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..24 {
            scope.spawn(|| {
                let http = client();
                for _ in 0..4 {
                    let status = http
                        .post(&url)
                        .json(&serde_json::json!({ "user": "claire", "password": "a wrong guess" }))
                        .send()
                        .unwrap()
                        .status()
                        .as_u16();
                    // 401: the password was checked and wrong. 429: locked, not checked.
                    if status == 401 {
                        checked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    } else {
                        assert_eq!(status, 429);
                    }
                }
            });
        }
    });
    let checked = checked.into_inner();
    assert!(
        checked <= 4,
        "{checked} wrong passwords were checked before the lock (four, then the fifth locks)"
    );
}

#[test]
fn bodies_are_refused_where_none_is_taken_and_bounded_before_they_are_read() {
    let (ws, admin) = demo_with_token();
    let server = serve(&ws);
    let http = client();
    for path in [
        "self-backups",
        "erasures/1/execution",
        "erasures/1/cancellation",
    ] {
        for sent in [serde_json::json!({ "id": 2 }), serde_json::json!([])] {
            let (status, body) = post(&http, &server, &admin, path, sent);
            assert_eq!(status, 400, "{path}: {body}");
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains("no request body")
            );
        }
    }
    // A body announced at 2 GiB and never sent: answered at once, connection closed.
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = Instant::now();
    write!(
        stream,
        "POST /api/v1/restores HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n{{"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("too_large"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn names_with_terminal_escapes_are_shown_escaped() {
    let ws = TestWorkspace::init();
    ws.write_config(&format!(
        "{BASE}\n[[asset]]\nid = \"cam\"\nname = \"Cam\\u001b]0;owned\\u0007era\"\nsite = \"hq\"\ncategory = \"camera\"\ncriticality = \"minor\"\n"
    ));
    for args in [
        &["inventory", "list"][..],
        &["inventory", "show", "cam"][..],
    ] {
        let out = ws.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{args:?}: {text:?}"
        );
        assert!(
            text.contains("Cam\\u{1b}]0;owned\\u{7}era"),
            "{args:?}: {text}"
        );
    }
}

#[test]
fn data_set_commands_and_hooks_run_as_the_configured_user() {
    let ws = TestWorkspace::init();
    // The commands' user must be able to enter the workspace (its keys stay 0600).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(ws.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let root = nix_uid_is_root();
    let config = BASE.replace(
        "[workspace]\n",
        "[server]\ncommands_user = \"nobody\"\n\n[workspace]\n",
    );
    ws.write_config(&format!(
        "{config}{}",
        asset(
            "db",
            "\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"id -u; id -G\"\nfilename = \"who.txt\"\npre_hook = \"test \\\"$(id -un)\\\" = nobody\""
        )
    ));
    if !root {
        // Only a privileged server can run commands as another user: it says so.
        ws.cmd()
            .args(["backup", "db"])
            .assert()
            .code(1)
            .stdout(predicate::str::contains("FAILED  db/dump"));
        return;
    }
    ws.cmd().args(["backup", "db"]).assert().success();
    let target = tempfile::tempdir().unwrap();
    ws.cmd()
        .args(["restore", "db", "--target"])
        .arg(target.path())
        .assert()
        .success();
    let who = std::fs::read_to_string(target.path().join("who.txt")).unwrap();
    let mut lines = who.lines();
    assert_eq!(lines.next(), Some("65534"), "{who}");
    assert_eq!(
        lines.next(),
        Some("65534"),
        "root's supplementary groups are dropped: {who}"
    );
    // An unknown user is named, and nothing is backed up as root instead.
    ws.write_config(&ws.config().replace("\"nobody\"", "\"no-such-account\""));
    ws.cmd()
        .args(["backup", "db"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no user `no-such-account`"));
}

fn nix_uid_is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
