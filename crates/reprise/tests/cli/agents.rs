//! Agents: `reprise agent` on two other hosts (separate directories and homes, on
//! loopback), enrolled with one-time codes, backing up and restoring through the server
//! over HTTPS — and reaching nothing else.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use predicates::prelude::*;

use crate::serve::{Server, init_with_token, serve_with};
use crate::support::{BASE, TestWorkspace, asset};

/// Two hosts' repositories, policies and assets; the mail server's data is a directory
/// and a dump command, run on its host.
fn config(ws: &Path, schedule: &str) -> String {
    let mail = ws.join("mail-01");
    let files = ws.join("files-01");
    format!(
        "{BASE}
[[repository]]
id = \"mail-repo\"
path = \"mail-repository\"
password_file = \".reprise/keys/local.key\"

[[repository]]
id = \"files-repo\"
path = \"files-repository\"
password_file = \".reprise/keys/local.key\"

[[policy]]
id = \"mail\"
schedule = \"{schedule}\"
repository = \"mail-repo\"
copy_to = [\"local\"]

[[policy]]
id = \"files\"
schedule = \"{schedule}\"
repository = \"files-repo\"
{}{}",
        asset(
            "mail",
            &format!(
                "host = \"mail-01\"\npolicy = \"mail\"\n\n[[asset.dataset]]\nname = \"mailboxes\"\npaths = [\"{}\"]\n\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"printf 'CREATE TABLE users;\\\\n'\"\nfilename = \"dump.sql\"\ndrill_check = \"grep -q 'CREATE TABLE' dump.sql && test -n \\\"$REPRISE_DRILL_DIR\\\"\"\n",
                mail.join("var/mail").display()
            )
        ),
        asset(
            "files",
            &format!(
                "host = \"files-01\"\npolicy = \"files\"\n\n[[asset.dataset]]\nname = \"shares\"\npaths = [\"{}\"]\n",
                files.join("srv/shares").display()
            )
        ),
    )
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `reprise` run on a host: its own directory, its agent's home, no workspace.
fn on_host(dir: &Path) -> Command {
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = binary(dir);
    cmd.env("REPRISE_AGENT_HOME", dir.join("agent"));
    cmd
}

/// The binary as a process of one's own (to feed it or wait for it).
fn binary(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("reprise"));
    cmd.current_dir(dir)
        .env_remove("REPRISE_WORKSPACE")
        .env_remove("REPRISE_CATALOG")
        .env_remove("REPRISE_AGENT_HOME")
        .env("TZ", "UTC");
    cmd
}

fn enroll(ws: &TestWorkspace, server: &Server, host: &str) -> Output {
    let code = ws.json(&["agent", "invite", host, "--json"])["code"]
        .as_str()
        .unwrap()
        .to_string();
    enroll_with(ws, server, host, &code)
}

fn enroll_with(ws: &TestWorkspace, server: &Server, host: &str, code: &str) -> Output {
    let dir = ws.path().join(host);
    let mut child = on_host(&dir)
        .args(["agent", "enroll", &server.base, "--host", host, "--ca"])
        .arg(ws.path().join("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
    child.wait_with_output().unwrap()
}

/// One pass of a host's agent: check in, run what waits, report.
fn run_once(ws: &TestWorkspace, host: &str) -> Output {
    on_host(&ws.path().join(host))
        .args(["agent", "run", "--once"])
        .output()
        .unwrap()
}

fn token_of(ws: &TestWorkspace, host: &str) -> String {
    let file = ws.path().join(host).join("agent/agent.json");
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    value["token"].as_str().unwrap().to_string()
}

fn https(ws: &TestWorkspace) -> reqwest::blocking::Client {
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(ws.path().join("ca.pem")).unwrap()).unwrap();
    reqwest::blocking::Client::builder()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn restic(ws: &TestWorkspace, repo: &str, args: &[&str]) -> Output {
    Command::new("restic")
        .args(args)
        .env("RESTIC_REPOSITORY", ws.path().join(repo))
        .env(
            "RESTIC_PASSWORD_FILE",
            ws.path().join(".reprise/keys/local.key"),
        )
        .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
        .output()
        .expect("restic is installed")
}

fn started(ws: &TestWorkspace) -> Server {
    let (cert, key) = crate::support::private_ca(ws.path());
    let server = serve_with(
        ws,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        None,
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    server
}

fn host_data(ws: &TestWorkspace) -> (PathBuf, PathBuf) {
    let mail = ws.path().join("mail-01/var/mail");
    let shares = ws.path().join("files-01/srv/shares");
    std::fs::create_dir_all(&mail).unwrap();
    std::fs::create_dir_all(&shares).unwrap();
    std::fs::write(
        mail.join("inbox.mbox"),
        "From: a client\n\nthe quote, signed\n",
    )
    .unwrap();
    std::fs::write(shares.join("accounts.ods"), "the year's accounts\n").unwrap();
    (mail, shares)
}

#[test]
fn two_agents_back_up_and_restore_their_hosts_through_the_server_and_reach_nothing_else() {
    let (ws, admin) = init_with_token();
    ws.write_config(&config(ws.path(), "daily at 02:00"));
    ws.cmd().args(["repo", "init"]).assert().success();
    let (mail_data, _) = host_data(&ws);
    let server = started(&ws);

    // Enrollment: a one-time code, read on standard input, trusted through the CA.
    let code = ws.json(&["agent", "invite", "mail-01", "--json"])["code"]
        .as_str()
        .unwrap()
        .to_string();
    let enrolled = enroll_with(&ws, &server, "mail-01", &code);
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    let again = enroll_with(&ws, &server, "mail-01", &code);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("spent"), "{}", text(&again));
    let file = ws.path().join("mail-01/agent/agent.json");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let enrolled = enroll(&ws, &server, "files-01");
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    // A code for one host does not enroll another.
    let code = ws.json(&["agent", "invite", "mail-01", "--json"])["code"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = enroll_with(&ws, &server, "files-01", &code);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));

    // The server never backs up a host's data itself: the agent does.
    let refused = ws.cmd().args(["backup", "mail"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("its data is on host `mail-01`"),
        "{}",
        text(&refused)
    );
    let queued = ws.json(&["agent", "backup", "mail", "--no-wait", "--json"]);
    let mail_job = queued["job"].as_i64().unwrap();
    let queued = ws.json(&["agent", "backup", "files", "--no-wait", "--json"]);
    let files_job = queued["job"].as_i64().unwrap();
    let waiting = ws.json(&["agent", "jobs", "--json"]);
    assert!(
        waiting
            .as_array()
            .unwrap()
            .iter()
            .all(|j| j["state"] == "waiting")
    );

    // An agent cannot take another host's job.
    let http = https(&ws);
    let mail_token = token_of(&ws, "mail-01");
    let stolen = http
        .post(format!("{}/agent/v1/jobs/{files_job}/take", server.base))
        .bearer_auth(&mail_token)
        .send()
        .unwrap();
    assert_eq!(stolen.status(), 404);

    let ran = run_once(&ws, "mail-01");
    assert!(ran.status.success(), "{}", text(&ran));
    let ran = run_once(&ws, "files-01");
    assert!(ran.status.success(), "{}", text(&ran));
    let jobs = ws.json(&["agent", "jobs", "--json"]);
    for id in [mail_job, files_job] {
        let job = jobs
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .unwrap();
        assert_eq!(job["state"], "succeeded", "{job}");
    }

    // Recorded as the server's own: restore points of the right assets, copied (3-2-1),
    // listed per host.
    let points = ws.json(&["snapshots", "mail", "--json"]);
    let points = points.as_array().unwrap();
    for dataset in ["mailboxes", "dump"] {
        let point = points
            .iter()
            .find(|p| p["dataset"] == dataset)
            .unwrap_or_else(|| panic!("no point of {dataset}: {points:?}"));
        let held: Vec<&str> = point["copies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["repository"].as_str().unwrap())
            .collect();
        assert!(
            held.contains(&"mail-repo") && held.contains(&"local"),
            "written by the agent, copied by the server: {point}"
        );
    }
    let agents = ws.json(&["agent", "list", "--json"]);
    let mail = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["host"] == "mail-01")
        .unwrap();
    assert_eq!(mail["assets"], serde_json::json!(["mail"]));
    assert!(mail["last_backup"].is_string(), "{mail}");
    assert_eq!(mail["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(mail["silent"], false);

    // Stock restic reads what the agent wrote, tagged with its asset and host.
    let listed = restic(&ws, "mail-repository", &["snapshots", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    assert!(listed.contains("asset:mail") && listed.contains("agent:mail-01"));

    // The mail agent's credential: its own repository yes; the other host's, a delete,
    // an overwrite, the API — no.
    let rest = |method: reqwest::Method, path: &str| {
        http.request(method, format!("{}/rest/{path}", server.base))
            .basic_auth("mail-01", Some(&mail_token))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(rest(reqwest::Method::GET, "mail-repo/config"), 200);
    assert_eq!(rest(reqwest::Method::GET, "files-repo/config"), 403);
    assert_eq!(rest(reqwest::Method::GET, "files-repo/keys/"), 403);
    let snapshot = std::fs::read_dir(ws.path().join("mail-repository/snapshots"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .to_string();
    assert_eq!(
        rest(
            reqwest::Method::DELETE,
            &format!("mail-repo/snapshots/{snapshot}")
        ),
        403
    );
    let pack = std::fs::read_dir(ws.path().join("mail-repository/data"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .next()
        .unwrap()
        .unwrap()
        .file_name()
        .to_string_lossy()
        .to_string();
    assert_eq!(
        rest(reqwest::Method::DELETE, &format!("mail-repo/data/{pack}")),
        403
    );
    let same = std::fs::read(ws.path().join("mail-repository/snapshots").join(&snapshot)).unwrap();
    let overwrite = http
        .post(format!(
            "{}/rest/mail-repo/snapshots/{snapshot}",
            server.base
        ))
        .basic_auth("mail-01", Some(&mail_token))
        .body(same)
        .send()
        .unwrap();
    assert_eq!(overwrite.status(), 403);
    let api = http
        .get(format!("{}/api/v1/status", server.base))
        .bearer_auth(&mail_token)
        .send()
        .unwrap();
    assert_eq!(api.status(), 401);
    for repo in ["mail-repository", "files-repository", "repository"] {
        let checked = restic(&ws, repo, &["check", "--read-data"]);
        assert!(checked.status.success(), "{repo}: {}", text(&checked));
    }

    // A restore of the mail server runs on its host, into the target there.
    std::fs::write(mail_data.join("inbox.mbox"), "lost\n").unwrap();
    let target = ws.path().join("mail-01/restored");
    let waiting = binary(ws.path())
        .args(["restore", "mail", "--dataset", "mailboxes", "--target"])
        .arg(&target)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let jobs = ws.json(&["agent", "jobs", "mail-01", "--json"]);
        if jobs
            .as_array()
            .unwrap()
            .iter()
            .any(|j| j["kind"] == "restore")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the restore was never queued");
        std::thread::sleep(Duration::from_millis(200));
    }
    let ran = run_once(&ws, "mail-01");
    assert!(ran.status.success(), "{}", text(&ran));
    let restored = waiting.wait_with_output().unwrap();
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(text(&restored).contains("succeeded"), "{}", text(&restored));
    assert_eq!(
        std::fs::read_to_string(target.join("inbox.mbox")).unwrap(),
        "From: a client\n\nthe quote, signed\n"
    );
    ws.cmd()
        .args(["restore", "mail", "--target", "relative/dir"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("absolute path on host `mail-01`"));

    // Revoked: refused, and journaled.
    ws.cmd()
        .args(["agent", "revoke", "mail-01"])
        .assert()
        .success();
    let refused = run_once(&ws, "mail-01");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("401"), "{}", text(&refused));
    assert!(!text(&refused).contains(&mail_token));
    assert_eq!(rest(reqwest::Method::GET, "mail-repo/config"), 401);
    let journal = ws
        .cmd()
        .args(["journal", "list", "--limit", "500", "--json"])
        .output()
        .unwrap();
    let journal = String::from_utf8_lossy(&journal.stdout);
    assert!(journal.contains("agent.enrolled"), "{journal}");
    assert!(journal.contains("agent.revoked"), "{journal}");
    assert!(journal.contains("agent.refused"), "{journal}");
    let listed = http
        .get(format!("{}/api/v1/agents", server.base))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: serde_json::Value = listed.json().unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["host"] == "mail-01" && a["active"] == false)
    );
    // The web page, in French: each host, its state, its assets, the jobs.
    let page = http
        .get(format!("{}/agents", server.base))
        .header(
            "Cookie",
            format!("reprise_session={admin}; reprise_lang=fr"),
        )
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("id=\"agent-mail-01\""), "{page}");
    assert!(page.contains("révoqué"), "{page}");
    assert!(page.contains("id=\"agent-files-01\""), "{page}");
    assert!(page.contains("se signale"), "{page}");
    assert!(page.contains(&format!("id=\"job-{mail_job}\"")), "{page}");
}

#[test]
fn a_silent_agent_is_alerted_and_a_job_waiting_for_it_fails_at_its_deadline() {
    let (ws, admin) = init_with_token();
    ws.write_config(&format!(
        "{}\n[[host]]\nname = \"mail-01\"\nsilent_after = \"3s\"\n",
        config(ws.path(), "hourly")
    ));
    ws.cmd().args(["repo", "init"]).assert().success();
    host_data(&ws);
    let server = started(&ws);
    let enrolled = enroll(&ws, &server, "mail-01");
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    // A backup, then silence: past its `silent_after`, a critical alert.
    ws.json(&["agent", "backup", "mail", "--no-wait", "--json"]);
    let ran = run_once(&ws, "mail-01");
    assert!(ran.status.success(), "{}", text(&ran));
    let http = https(&ws);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let alerts: serde_json::Value = http
            .get(format!("{}/api/v1/alerts", server.base))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let silent = alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == "agent:mail-01");
        if let Some(alert) = silent {
            assert_eq!(alert["severity"], "critical", "{alert}");
            assert!(
                alert["message"].as_str().unwrap().contains("silent"),
                "{alert}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "no alert for the silent agent");
        std::thread::sleep(Duration::from_millis(300));
    }
    let listed = ws.json(&["agent", "list", "--json"]);
    assert_eq!(listed[1]["host"], "mail-01");
    assert_eq!(listed[1]["silent"], true);

    // A restore for it waits, is visible as waiting, and fails clearly at its deadline.
    let target = ws.path().join("mail-01/restored");
    let out = ws
        .cmd()
        .args([
            "restore",
            "mail",
            "--dataset",
            "mailboxes",
            "--deadline",
            "3s",
            "--target",
        ])
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("did not check in before the deadline"),
        "{}",
        text(&out)
    );

    // An agent of a host sharing its repository with the server's data would read it:
    // the configuration says so where it is written.
    let shared = config(ws.path(), "daily at 02:00")
        .replace("repository = \"files-repo\"", "repository = \"mail-repo\"")
        + &asset(
            "intranet",
            "policy = \"files\"\n\n[[asset.dataset]]\nname = \"site\"\npaths = [\"site\"]\n",
        );
    ws.write_config(&shared);
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "repository `mail-repo` also keeps data of",
        ))
        .stderr(predicate::str::contains(
            "give this host a repository of its own",
        ));
}

#[test]
fn an_agent_killed_mid_backup_loses_no_earlier_point_and_its_next_run_succeeds() {
    let (ws, _) = init_with_token();
    ws.write_config(&config(ws.path(), "daily at 02:00"));
    ws.cmd().args(["repo", "init"]).assert().success();
    let (mail_data, _) = host_data(&ws);
    let server = started(&ws);
    let enrolled = enroll(&ws, &server, "mail-01");
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    ws.json(&["agent", "backup", "mail", "--no-wait", "--json"]);
    assert!(run_once(&ws, "mail-01").status.success());
    let before = ws.json(&["snapshots", "mail", "--json"]);

    // A large backup, killed once the agent has taken it.
    let (cut, mut agent) = large_backup_under_way(&ws, &mail_data);
    agent.kill().unwrap();
    agent.wait().unwrap();

    // Its next check-in says what became of the cut job; the next backup succeeds.
    let next = ws.json(&["agent", "backup", "mail", "--no-wait", "--json"])["job"]
        .as_i64()
        .unwrap();
    let ran = run_once(&ws, "mail-01");
    assert!(ran.status.success(), "{}", text(&ran));
    let cut = job(&ws, cut);
    assert_eq!(cut["state"], "failed");
    assert!(
        cut["result"]
            .as_str()
            .unwrap()
            .contains("stopped before reporting"),
        "{cut}"
    );
    let next = job(&ws, next);
    assert_eq!(next["state"], "succeeded", "{next}");
    let after = ws.json(&["snapshots", "mail", "--json"]);
    for point in before.as_array().unwrap() {
        assert!(
            after
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["time"] == point["time"] && p["dataset"] == point["dataset"]),
            "an earlier point was lost: {point}"
        );
    }
    let checked = restic(&ws, "mail-repository", &["check", "--read-data"]);
    assert!(checked.status.success(), "{}", text(&checked));
}

/// Runs a host's agent pass after pass until `waiting` (a command that waits for it)
/// ends; its output.
fn drive(ws: &TestWorkspace, host: &str, waiting: std::process::Child) -> Output {
    let mut waiting = waiting;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if waiting.try_wait().unwrap().is_some() {
            return waiting.wait_with_output().unwrap();
        }
        assert!(Instant::now() < deadline, "the command never ended");
        run_once(ws, host);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn drills_and_incident_steps_of_a_hosts_asset_run_on_its_agent() {
    let (ws, _) = init_with_token();
    ws.write_config(&config(ws.path(), "daily at 02:00"));
    ws.cmd().args(["repo", "init"]).assert().success();
    host_data(&ws);
    let server = started(&ws);
    assert!(enroll(&ws, &server, "mail-01").status.success());
    ws.json(&["agent", "backup", "mail", "--no-wait", "--json"]);
    assert!(run_once(&ws, "mail-01").status.success());

    // A drill: restored into a sandbox on the host, its check run there, measured.
    let drill = binary(ws.path())
        .args(["drill", "run", "mail", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drive(&ws, "mail-01", drill);
    assert!(out.status.success(), "{}", text(&out));
    let drills: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = drills.to_string();
    assert!(report.contains("on host mail-01"), "{report}");
    assert!(!report.contains("\"ok\":false"), "{report}");
    let left: Vec<_> = walk(&ws.path().join("mail-01/agent/restores"));
    assert!(left.is_empty(), "the host's sandbox is removed: {left:?}");

    // An incident's restore step brings the mail server's data back on its host.
    ws.cmd()
        .args([
            "incident",
            "open",
            "Mail server disk lost",
            "--asset",
            "mail",
        ])
        .assert()
        .success();
    ws.cmd()
        .args(["incident", "plan", "1", "--approve"])
        .assert()
        .success();
    let step = binary(ws.path())
        .args(["incident", "step", "1", "mail", "start"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drive(&ws, "mail-01", step);
    assert!(out.status.success(), "{}", text(&out));
    let restored = walk(&ws.path().join("mail-01/agent/restores"));
    let inbox = restored
        .iter()
        .find(|p| p.ends_with("inbox.mbox"))
        .unwrap_or_else(|| panic!("the step restored nothing on the host: {restored:?}"));
    assert_eq!(
        std::fs::read_to_string(inbox).unwrap(),
        "From: a client\n\nthe quote, signed\n"
    );
    let shown = ws.cmd().args(["incident", "show", "1"]).output().unwrap();
    assert!(
        text(&shown).contains("restored mailboxes"),
        "{}",
        text(&shown)
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_agent_trusts_the_servers_own_certificate_by_its_fingerprint_and_nothing_else() {
    let (ws, _) = init_with_token();
    // The server's own certificate, self-signed, named for its address.
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "self.key",
            "-out",
            "self.pem",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ])
        .current_dir(ws.path())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    ws.write_config(&format!(
        "{}\n[server]\ntls_cert = \"self.pem\"\ntls_key = \"self.key\"\n",
        config(ws.path(), "daily at 02:00")
    ));
    ws.cmd().args(["repo", "init"]).assert().success();
    host_data(&ws);
    let server = serve_with(&ws, &[], None);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let invite = ws.json(&["agent", "invite", "mail-01", "--json"]);
    let pin = invite["fingerprint"].as_str().unwrap().to_string();
    assert!(pin.starts_with("SHA256:"), "{invite}");
    let code = invite["code"].as_str().unwrap().to_string();
    let enroll = |fingerprint: &str| {
        let mut child = on_host(&ws.path().join("mail-01"))
            .args([
                "agent",
                "enroll",
                &server.base,
                "--host",
                "mail-01",
                "--fingerprint",
                fingerprint,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        writeln!(child.stdin.take().unwrap(), "{code}").unwrap();
        child.wait_with_output().unwrap()
    };
    // Another fingerprint: someone in the way; refused before the code is sent.
    let wrong = enroll("SHA256:00:11:22:33");
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(
        text(&wrong).contains("refusing to enroll"),
        "{}",
        text(&wrong)
    );
    let right = enroll(&pin);
    assert!(right.status.success(), "{}", text(&right));
    // From then on the pinned certificate is all it trusts, for its backups too.
    ws.json(&["agent", "backup", "mail", "--no-wait", "--json"]);
    let ran = run_once(&ws, "mail-01");
    assert!(ran.status.success(), "{}", text(&ran));
    let jobs = ws.json(&["agent", "jobs", "--json"]);
    assert_eq!(jobs[0]["state"], "succeeded", "{jobs}");
}

#[test]
fn the_server_killed_mid_upload_loses_nothing_it_acknowledged() {
    let (ws, _) = init_with_token();
    ws.write_config(&config(ws.path(), "daily at 02:00"));
    ws.cmd().args(["repo", "init"]).assert().success();
    let (mail_data, _) = host_data(&ws);
    let server = started(&ws);
    let port = server.base.rsplit(':').next().unwrap().to_string();
    assert!(enroll(&ws, &server, "mail-01").status.success());
    ws.json(&["agent", "backup", "mail", "--no-wait", "--json"]);
    assert!(run_once(&ws, "mail-01").status.success());
    let before = ws.json(&["snapshots", "mail", "--json"]);

    let (cut, agent) = large_backup_under_way(&ws, &mail_data);
    // The server dies mid-upload (kill -9), and comes back on its address.
    drop(server);
    let cert = ws.path().join("cert.pem");
    let key = ws.path().join("key.pem");
    let _server = serve_with(
        &ws,
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        None,
    );
    let cut_short = agent.wait_with_output().unwrap();
    // Whatever became of that run, nothing acknowledged is lost: every earlier point is
    // there, the repository is whole, and the next backup succeeds.
    let next = ws.json(&["agent", "backup", "mail", "--no-wait", "--json"])["job"]
        .as_i64()
        .unwrap();
    let ran = run_once(&ws, "mail-01");
    assert!(
        ran.status.success(),
        "{} / {}",
        text(&ran),
        text(&cut_short)
    );
    let cut = job(&ws, cut);
    assert!(
        cut["state"] == "succeeded" || cut["state"] == "failed",
        "the cut job ended: {cut}"
    );
    let next = job(&ws, next);
    assert_eq!(next["state"], "succeeded", "{next}");
    let after = ws.json(&["snapshots", "mail", "--json"]);
    for point in before.as_array().unwrap() {
        assert!(
            after
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["time"] == point["time"] && p["dataset"] == point["dataset"]),
            "an earlier point was lost: {point}"
        );
    }
    let checked = restic(&ws, "mail-repository", &["check", "--read-data"]);
    assert!(checked.status.success(), "{}", text(&checked));
}

/// Job `id` as `reprise agent jobs` lists it.
fn job(ws: &TestWorkspace, id: i64) -> serde_json::Value {
    let jobs = ws.json(&["agent", "jobs", "--json"]);
    jobs.as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("no job {id}: {jobs}"))
        .clone()
}

/// Waits until an agent has taken job `id`.
fn taken(ws: &TestWorkspace, id: i64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while job(ws, id)["state"] != "running" {
        assert!(Instant::now() < deadline, "the agent never took job {id}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A large backup of the mail server (240 MiB that do not compress) queued and under
/// way on its agent: the job, and the agent's process.
fn large_backup_under_way(ws: &TestWorkspace, mail_data: &Path) -> (i64, std::process::Child) {
    crate::support::incompressible_files(&mail_data.join("archive"), 60);
    let cut = ws.json(&["agent", "backup", "mail", "--no-wait", "--json"])["job"]
        .as_i64()
        .unwrap();
    let agent = on_host(&ws.path().join("mail-01"))
        .args(["agent", "run", "--once"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    taken(ws, cut);
    std::thread::sleep(Duration::from_millis(700));
    (cut, agent)
}
