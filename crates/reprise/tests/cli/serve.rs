//! `reprise serve`: the real binary on a free port, driven over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{BASE, TestWorkspace, asset, incompressible_files, pack_count};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve(ws: &TestWorkspace) -> Server {
    serve_with(ws, &[], None)
}

/// The server with extra arguments, its log written to `log` when given.
pub(crate) fn serve_with(
    ws: &TestWorkspace,
    extra: &[&str],
    log: Option<&std::path::Path>,
) -> Server {
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
        None => Stdio::null(),
    };
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("reprise"))
        .args(["serve", "--tick", "1s"])
        .args(if extra.contains(&"--listen") {
            &[][..]
        } else {
            &["--listen", "127.0.0.1:0"][..]
        })
        .args(extra)
        .current_dir(ws.path())
        .env_remove("REPRISE_WORKSPACE")
        .env_remove("REPRISE_CATALOG")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    Server { child, base }
}

/// The token `reprise init`/`demo` printed.
fn token_of(output: &[u8]) -> String {
    String::from_utf8_lossy(output)
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("rp_"))
        .expect("a token in the output")
        .to_string()
}

pub(crate) fn demo_with_token() -> (TestWorkspace, String) {
    made_with_token(&["demo", "."])
}

/// A new workspace, and the administrator's token `reprise init` printed.
pub(crate) fn init_with_token() -> (TestWorkspace, String) {
    made_with_token(&["init"])
}

fn made_with_token(args: &[&str]) -> (TestWorkspace, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::reprise(dir.path())
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success());
    (TestWorkspace { dir }, token_of(&out.stdout))
}

pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn the_api_needs_a_token_and_answers_in_json() {
    let (ws, token) = demo_with_token();
    let server = serve(&ws);
    let http = client();
    let health = http.get(format!("{}/healthz", server.base)).send().unwrap();
    assert_eq!(health.status(), 200);

    let refused = http
        .get(format!("{}/api/v1/assets", server.base))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: serde_json::Value = refused.json().unwrap();
    assert_eq!(body["code"], "unauthorized");
    let wrong = http
        .get(format!("{}/api/v1/assets", server.base))
        .bearer_auth("rp_not-a-token")
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let assets: serde_json::Value = get_json(&http, &server, &token, "assets");
    assert_eq!(assets.as_array().unwrap().len(), 15);
    let status: serde_json::Value = get_json(&http, &server, &token, "status");
    assert_eq!(status[0]["rpo_status"], "ok");
    let points: serde_json::Value = http
        .get(format!(
            "{}/api/v1/restore-points?asset=iredmail",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(points.as_array().unwrap().len(), 2);
    let bad = http
        .get(format!("{}/api/v1/runs?kind=party", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<serde_json::Value>().unwrap()["code"],
        "invalid_request"
    );

    let text = http
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/assets",
        "/status",
        "/runs",
        "/restore-points",
        "/backups",
        "/verifications",
        "/restores",
        "/repositories",
        "/self-backups",
        "/readiness",
        "/incidents",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The document validates against the OpenAPI 3.0 schema (openapi-spec-validator,
    // installed from PyPI by .ci/run).
    let spec = ws.path().join("openapi.json");
    std::fs::write(&spec, &text).unwrap();
    let validated = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&spec)
        .output()
        .expect("python3 with openapi-spec-validator (.ci/run installs it)");
    assert!(
        validated.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );

    // A body that does not fit gets our error format and says what is wrong.
    let bad_body = http
        .post(format!("{}/api/v1/backups", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "assets": ["iredmail"], "reson": "typo" }))
        .send()
        .unwrap();
    assert_eq!(bad_body.status(), 400);
    let err: serde_json::Value = bad_body.json().unwrap();
    assert_eq!(err["code"], "invalid_request");
    assert!(err["message"].as_str().unwrap().contains("reson"), "{err}");
    let bad_query = http
        .get(format!("{}/api/v1/runs?limit=many", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(bad_query.status(), 400);
    assert_eq!(
        bad_query.json::<serde_json::Value>().unwrap()["code"],
        "invalid_request"
    );

    // A backup after a change, with its reason recorded.
    let started = http
        .post(format!("{}/api/v1/backups", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "assets": ["iredmail"], "reason": "after change: new mailbox" }))
        .send()
        .unwrap();
    assert_eq!(started.status(), 202);
    wait_for("the API-triggered backup", Duration::from_secs(60), || {
        let runs: serde_json::Value = http
            .get(format!(
                "{}/api/v1/runs?asset=iredmail&kind=backup",
                server.base
            ))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        runs.as_array().unwrap().iter().any(|r| {
            r["status"] == "succeeded"
                && r["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("after change: new mailbox"))
        })
    });
}

#[test]
fn metrics_are_prometheus_text_for_a_token_and_only_its_scope() {
    let (ws, token) = demo_with_token();
    let scraper = account(&ws, "prometheus", "viewer", "");
    let warehouse = account(&ws, "wanda", "viewer", "site:entrepot");
    let server = serve(&ws);
    let scrape = |token: Option<&str>| {
        let mut request = client().get(format!("{}/metrics", server.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().unwrap()
    };
    // Anyone on the network would read every asset's name and RPO: not without a token.
    let anonymous = scrape(None);
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(
        !anonymous.text().unwrap().contains("iredmail"),
        "nothing leaks with the refusal"
    );
    // A token scoped to the warehouse sees its cameras and nothing of head office.
    let scoped = scrape(Some(&warehouse)).text().unwrap();
    assert!(scoped.contains("asset=\"cam-entree\""), "{scoped}");
    assert!(
        !scoped.contains("iredmail") && !scoped.contains("repository=\""),
        "{scoped}"
    );
    assert!(!scoped.contains("reprise_runs_total"), "{scoped}");
    assert_eq!(scrape(Some(&token)).status().as_u16(), 200);
    let text = scrape(Some(&scraper)).text().unwrap();
    let mut samples = 0;
    for line in text.lines() {
        if line.is_empty() || line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        // name{labels} value
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line}"));
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad value in {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.starts_with("reprise_")
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name in {line}"
        );
        samples += 1;
    }
    assert!(samples > 14 * 8, "{samples} samples:\n{text}");
    // One series, by its name and some of its labels: its value.
    let value = |name: &str, with: &[&str]| -> Option<f64> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            .find(|l| with.iter().all(|w| l.contains(w)))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse().unwrap())
    };
    let iredmail = "asset=\"iredmail\"";
    assert_eq!(
        value("reprise_asset_rpo_seconds", &[iredmail]),
        Some(14400.0)
    );
    assert_eq!(
        value("reprise_asset_rpo_status", &[iredmail, "status=\"ok\""]),
        Some(1.0)
    );
    // Labels people group by: site and criticality on every asset series.
    let line = text
        .lines()
        .find(|l| l.starts_with("reprise_asset_rpo_seconds{") && l.contains(iredmail))
        .unwrap();
    assert!(
        line.contains("site=\"") && line.contains("criticality=\""),
        "{line}"
    );
    assert_eq!(value("reprise_info", &["version=\""]), Some(1.0));
    assert_eq!(
        value("reprise_asset_state", &[iredmail, "state=\"failed\""]),
        Some(1.0)
    );
    assert_eq!(value("reprise_asset_verified", &[iredmail]), Some(1.0));
    assert_eq!(value("reprise_drill_last_success", &[iredmail]), Some(1.0));
    assert!(value("reprise_drill_last_rto_seconds", &[iredmail]).is_some_and(|s| s > 0.0));
    assert_eq!(
        value(
            "reprise_dataset_suspect",
            &[iredmail, "dataset=\"mailboxes\""]
        ),
        Some(0.0)
    );
    // Counters by kind and outcome, with their type.
    assert!(text.contains("# TYPE reprise_runs_total counter"), "{text}");
    assert!(
        value(
            "reprise_runs_total",
            &["kind=\"backup\"", "status=\"succeeded\""]
        )
        .is_some_and(|n| n >= 14.0),
        "{text}"
    );
    assert!(value("reprise_alerts_open", &["severity=\"critical\""]).is_some());
    assert!(value("reprise_incidents_open", &[]).is_some());
    // Prometheus' own linter finds nothing to say.
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is installed (Debian package `prometheus`; .ci/run installs it)");
    std::io::Write::write_all(promtool.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    let linted = promtool.wait_with_output().unwrap();
    assert!(
        linted.status.success() && linted.stdout.is_empty() && linted.stderr.is_empty(),
        "promtool: {}{}",
        String::from_utf8_lossy(&linted.stdout),
        String::from_utf8_lossy(&linted.stderr)
    );
}

#[test]
fn a_server_killed_mid_backup_retries_it_when_restarted_and_the_scheduler_runs_due_backups() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::reprise(dir.path())
        .arg("init")
        .output()
        .unwrap();
    let token = token_of(&out.stdout);
    let ws = TestWorkspace { dir };
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    incompressible_files(&ws.path().join("big"), 48);
    let config = format!(
        "{}\n[[policy]]\nid = \"minutely\"\nschedule = \"every 1m\"\nrepository = \"local\"\n{}{}",
        BASE,
        asset(
            "often",
            "policy = \"minutely\"\n\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        ),
        asset(
            "big",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"big\"]"
        )
    );
    ws.write_config(&config);

    // A server killed (SIGKILL) in the middle of a backup leaves its run `running`…
    let count = || pack_count(&ws);
    let mut first = serve(&ws);
    let (status, _) = post(
        &client(),
        &first,
        &token,
        "backups",
        serde_json::json!({ "assets": ["big"], "reason": "before the crash" }),
    );
    assert_eq!(status, 202);
    wait_for("the backup to write data", Duration::from_secs(120), || {
        count() > 0
    });
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let runs = ws.json(&["runs", "big", "--json"]);
    assert_eq!(runs[0]["status"], "running", "{runs:#}");

    // …which the restarted server marks interrupted and retries at once; the minutely
    // policy runs within its first minute.
    let server = serve(&ws);
    let http = client();
    let runs = |asset: &str| -> Vec<serde_json::Value> {
        http.get(format!(
            "{}/api/v1/runs?asset={asset}&kind=backup",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
    };
    wait_for(
        "the interrupted backup to be retried",
        Duration::from_secs(120),
        || {
            let big = runs("big");
            big.iter().any(|r| r["status"] == "interrupted")
                && big.iter().any(|r| r["status"] == "succeeded")
        },
    );
    wait_for("the scheduled backup", Duration::from_secs(90), || {
        runs("often").iter().any(|r| {
            r["status"] == "succeeded"
                && r["detail"].as_str().is_some_and(|d| d.contains("schedule"))
        })
    });
    drop(server);
    ws.cmd().args(["verify", "--read-data"]).assert().success();
}

#[test]
fn two_servers_sharing_a_postgresql_catalog_never_run_the_same_backup_twice() {
    let url = reprise_testkit::postgres_database_blocking();
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    let config = format!(
        "{}\n[[policy]]\nid = \"minutely\"\nschedule = \"every 1m\"\nrepository = \"local\"\n{}",
        BASE.replace(
            "[workspace]\n",
            &format!("[workspace]\ncatalog = \"{url}\"\n")
        ),
        asset(
            "often",
            "policy = \"minutely\"\n\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    let first = serve(&ws);
    let second = serve(&ws);
    let backups = || -> Vec<serde_json::Value> {
        ws.json(&["runs", "often", "--kind", "backup", "--json"])
            .as_array()
            .unwrap()
            .clone()
    };
    wait_for("a scheduled backup", Duration::from_secs(90), || {
        backups().iter().any(|r| r["status"] == "succeeded")
    });
    // Both servers tick every second: give the other every chance to run it again.
    std::thread::sleep(Duration::from_secs(4));
    let runs = backups();
    let minute = |r: &serde_json::Value| r["started"].as_str().unwrap()[..16].to_string();
    let first_minute = minute(&runs[runs.len() - 1]);
    let in_that_slot = runs.iter().filter(|r| minute(r) == first_minute).count();
    assert_eq!(in_that_slot, 1, "{runs:#?}");
    drop((first, second));
}

/// `GET /api/v1/{path}` with the token, parsed as JSON.
fn get_json(
    http: &reqwest::blocking::Client,
    server: &Server,
    token: &str,
    path: &str,
) -> serde_json::Value {
    http.get(format!("{}/api/v1/{path}", server.base))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

pub(crate) fn post(
    http: &reqwest::blocking::Client,
    server: &Server,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = http
        .post(format!("{}/api/v1/{path}", server.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

#[test]
fn a_state_recorded_through_the_api_is_every_answer_s_current_state() {
    let (ws, token) = demo_with_token();
    let warehouse = account(&ws, "wanda", "operator", "site:entrepot");
    let server = serve(&ws);
    let http = client();
    let storage = |assets: &serde_json::Value| {
        assets
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == "gui-storage")
            .cloned()
            .unwrap()
    };
    let before = storage(&get_json(&http, &server, &token, "assets"));
    assert_eq!(before["state"], "partial");
    assert_eq!(before["state_by"], "configuration");
    let (code, recorded) = post(
        &http,
        &server,
        &token,
        "assets/gui-storage/state",
        serde_json::json!({ "state": "Défaillant", "since": "2024-09-22T06:10:00Z", "note": "both disks lost" }),
    );
    assert_eq!(code, 200, "{recorded}");
    assert_eq!(recorded["state"], "failed");
    let after = storage(&get_json(&http, &server, &token, "assets"));
    assert_eq!(after["state"], "failed", "{after:#}");
    assert_eq!(after["state_since"], "2024-09-22T06:10:00Z");
    // Status and the dashboard read the same current state.
    let status = get_json(&http, &server, &token, "status");
    assert!(
        status
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["asset"] == "gui-storage")
    );
    // Out of a scoped operator's reach, and a state that is no state, are refused.
    let (code, _) = post(
        &http,
        &server,
        &warehouse,
        "assets/gui-storage/state",
        serde_json::json!({ "state": "working" }),
    );
    assert_eq!(code, 403);
    let (code, refused) = post(
        &http,
        &server,
        &token,
        "assets/gui-storage/state",
        serde_json::json!({ "state": "broken" }),
    );
    assert_eq!(code, 400);
    assert!(
        refused["message"].as_str().unwrap().contains("`state`"),
        "{refused}"
    );
}

#[test]
fn verifications_and_restores_are_started_through_the_api() {
    let (ws, token) = demo_with_token();
    let log = ws.path().join("server.log");
    let server = serve_with(&ws, &["--log-format", "json"], Some(&log));
    let http = client();
    let runs = |kind: &str| -> Vec<serde_json::Value> {
        http.get(format!("{}/api/v1/runs?kind={kind}", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let before = runs("verify").len();
    let (status, body) = post(
        &http,
        &server,
        &token,
        "verifications",
        serde_json::json!({ "assets": ["iredmail"], "mode": "subset", "percent": 50 }),
    );
    assert_eq!(status, 202, "{body}");
    wait_for("the verification", Duration::from_secs(60), || {
        runs("verify").len() > before && runs("verify").iter().all(|r| r["status"] != "running")
    });
    let verify = runs("verify");
    assert!(verify[0]["status"] == "succeeded", "{:#}", verify[0]);
    let (status, body) = post(
        &http,
        &server,
        &token,
        "verifications",
        serde_json::json!({ "mode": "subset" }),
    );
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("percent"));
    let (status, body) = post(
        &http,
        &server,
        &token,
        "verifications",
        serde_json::json!({ "assets": [] }),
    );
    assert_eq!(status, 400, "an empty asset list is a mistake, not \"all\"");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("leave `assets` out")
    );

    // A restore is checked before it is accepted…
    let (status, body) = post(
        &http,
        &server,
        &token,
        "restores",
        serde_json::json!({ "asset": "iredmail", "target": "relative/dir" }),
    );
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("absolute"));
    let (status, body) = post(
        &http,
        &server,
        &token,
        "restores",
        serde_json::json!({ "asset": "iredmail", "at": "2001-01-01", "target": "/tmp/x" }),
    );
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no restore point at or before"),
        "{body}"
    );
    // …then runs, verified, into the target.
    let restores_before = runs("restore").len();
    let target = tempfile::tempdir().unwrap();
    let (status, body) = post(
        &http,
        &server,
        &token,
        "restores",
        serde_json::json!({ "asset": "iredmail", "dataset": "mailboxes", "target": target.path() }),
    );
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["restore_points"][0]["dataset"], "mailboxes");
    wait_for("the restore", Duration::from_secs(60), || {
        let all = runs("restore");
        all.len() > restores_before && all[0]["status"] == "succeeded"
    });
    let restored: Vec<_> = crate::support::files_under(target.path());
    assert!(!restored.is_empty());
    let original = std::fs::read(
        ws.path()
            .join("data/iredmail/vmail/direction/cur/1727000000.M1.siege"),
    )
    .unwrap();
    assert!(
        restored
            .iter()
            .any(|p| std::fs::read(p).unwrap() == original)
    );

    // The repositories as probed, and the log as JSON lines.
    let repos: serde_json::Value = get_json(&http, &server, &token, "repositories");
    let local = repos
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repository"] == "local")
        .unwrap();
    assert_eq!(local["reachable"], true);
    assert!(local["bytes"].as_u64().unwrap() > 0);
    let metrics = http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        metrics.contains("reprise_repository_up{repository=\"offsite\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("reprise_repository_size_bytes{repository=\"local\"}"));
    drop(server);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "listening" && l["level"] == "INFO")
    );
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "restore succeeded" && l["asset"] == "iredmail")
    );
}

#[test]
fn two_backups_run_at_once_when_the_server_allows_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::reprise(dir.path())
        .arg("init")
        .output()
        .unwrap();
    let ws = TestWorkspace { dir };
    let _ = token_of(&out.stdout);
    let slow = |id: &str| {
        asset(
            id,
            "policy = \"minutely\"\n\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"sleep 3; echo done\"\nfilename = \"dump.txt\"",
        )
    };
    ws.write_config(&format!(
        "{}\n[server]\nconcurrency = 2\n\n[[policy]]\nid = \"minutely\"\nschedule = \"every 1m\"\nrepository = \"local\"\n{}{}",
        BASE,
        slow("first"),
        slow("second")
    ));
    let server = serve(&ws);
    let finished = |id: &str| -> Option<serde_json::Value> {
        ws.json(&["runs", id, "--kind", "backup", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["status"] == "succeeded")
            .cloned()
    };
    wait_for("both scheduled backups", Duration::from_secs(120), || {
        finished("first").is_some() && finished("second").is_some()
    });
    drop(server);
    let (a, b) = (finished("first").unwrap(), finished("second").unwrap());
    let time =
        |r: &serde_json::Value, f: &str| r[f].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    // Each took three seconds; they overlapped instead of running one after the other.
    assert!(
        time(&a, "started") < time(&b, "finished") && time(&b, "started") < time(&a, "finished"),
        "{a:#}\n{b:#}"
    );
}

#[test]
fn incidents_are_opened_and_run_through_the_api() {
    let (ws, token) = demo_with_token();
    let server = serve(&ws);
    let http = client();
    let (status, opened) = post(
        &http,
        &server,
        &token,
        "incidents",
        serde_json::json!({ "title": "Video site down", "severity": "SEV2", "assets": ["sw-coeur", "nvr-1", "cam-entree=partial"] }),
    );
    assert_eq!(status, 201, "{opened}");
    let id = opened["id"].as_i64().unwrap();
    assert_eq!(opened["phase"], "assessment");
    assert_eq!(opened["assessment"]["assets"].as_array().unwrap().len(), 3);
    // Approve with no body at all.
    let approved = http
        .post(format!("{}/api/v1/incidents/{id}/plan", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(approved.status(), 200);
    let plan: serde_json::Value = approved.json().unwrap();
    assert_eq!(plan["steps"][0]["asset"], "sw-coeur");
    let (status, step) = post(
        &http,
        &server,
        &token,
        &format!("incidents/{id}/steps/sw-coeur"),
        serde_json::json!({ "action": "start" }),
    );
    assert_eq!(status, 200, "{step}");
    assert_eq!(step["status"], "running");
    assert_eq!(step["restored"][0]["dataset"], "config");
    let (status, bad) = post(
        &http,
        &server,
        &token,
        &format!("incidents/{id}/checks"),
        serde_json::json!({ "asset": "sw-coeur", "key": "nope", "result": "pass" }),
    );
    assert_eq!(status, 400);
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("checks: connectivity, configuration")
    );
    let (status, _) = post(
        &http,
        &server,
        &token,
        &format!("incidents/{id}/checks"),
        serde_json::json!({ "asset": "sw-coeur", "key": "connectivity", "result": "pass" }),
    );
    assert_eq!(status, 200);
    let shown: serde_json::Value = get_json(&http, &server, &token, &format!("incidents/{id}"));
    assert_eq!(shown["phase"], "recovery");
    // The token's name is the actor in the timeline.
    assert!(
        shown["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "check" && e["actor"] == "admin")
    );
    let listed: serde_json::Value = get_json(&http, &server, &token, "incidents");
    assert_eq!(listed[0]["title"], "Video site down");
    // Readiness, and an approval recorded in the token's name.
    let (status, approval) = post(
        &http,
        &server,
        &token,
        "readiness/approvals",
        serde_json::json!({ "asset": "iredmail" }),
    );
    assert_eq!(status, 201, "{approval}");
    assert_eq!(approval["by"], "admin");
    let readiness = get_json(&http, &server, &token, "readiness?site=siege");
    let iredmail = readiness["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["asset"] == "iredmail")
        .unwrap();
    assert!(
        iredmail["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["key"] == "approval" && i["met"] == true)
    );
    let missing = http
        .get(format!("{}/api/v1/incidents/999", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404, "an unknown incident is not found");
}

#[test]
fn restore_requests_are_submitted_followed_and_run_by_the_server() {
    let (ws, token) = demo_with_token();
    let server = serve(&ws);
    let http = client();
    // Incomplete: 422, every missing field named in the language the client accepts.
    let refused = http
        .post(format!("{}/api/v1/requests", server.base))
        .bearer_auth(&token)
        .header("Accept-Language", "fr-FR,fr;q=0.9")
        .json(&serde_json::json!({ "requester": "Nicolas", "scope": { "assets": ["iredmail"] } }))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 422);
    let refused: serde_json::Value = refused.json().unwrap();
    assert_eq!(refused["code"], "incomplete_request");
    let fields: Vec<&str> = refused["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "environment",
            "target",
            "context.kind",
            "context.description",
            "urgency",
            "impact",
            "downtime.approved"
        ]
    );
    assert!(
        refused["missing"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("manquant")
    );
    // Complete, with no interruption approved: once approved, the server runs it.
    let (status, created) = post(
        &http,
        &server,
        &token,
        "requests",
        serde_json::json!({
            "requester": "Nicolas (messagerie)",
            "environment": "production",
            "scope": { "datasets": ["iredmail/config"] },
            "target": { "at": jiff::Timestamp::now().to_string() },
            "context": { "kind": "change", "description": "postfix settings lost in an upgrade" },
            "urgency": "normal",
            "impact": "outgoing mail held",
            "downtime": { "approved": false }
        }),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["state"], "awaiting-approval");
    let id = created["id"].as_i64().unwrap();
    let (status, approved) = post(
        &http,
        &server,
        &token,
        &format!("requests/{id}/approval"),
        serde_json::json!({ "note": "go" }),
    );
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["approval"]["by"], "admin");
    wait_for(
        "the server to run the request",
        Duration::from_secs(60),
        || get_json(&http, &server, &token, &format!("requests/{id}"))["state"] == "checking",
    );
    let view = get_json(&http, &server, &token, &format!("requests/{id}"));
    assert_eq!(view["execution"]["by"], "reprise-server");
    let pending: Vec<String> = view["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"].is_null())
        .map(|c| c["key"].as_str().unwrap().to_string())
        .collect();
    assert!(!pending.is_empty());
    for key in &pending {
        let (status, body) = post(
            &http,
            &server,
            &token,
            &format!("requests/{id}/checks"),
            serde_json::json!({ "asset": "iredmail", "key": key, "result": "pass" }),
        );
        assert_eq!(status, 200, "{body}");
    }
    let view = get_json(&http, &server, &token, &format!("requests/{id}"));
    assert_eq!(view["state"], "completed");
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"submitted"));
    assert_eq!(kinds.last(), Some(&"completed"));
    assert!(kinds.contains(&"restored"));
    let report = http
        .get(format!(
            "{}/api/v1/requests/{id}/report?lang=fr",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(report.contains("État : terminée"), "{report}");
    assert!(report.contains("iredmail/config depuis"), "{report}");
    // The demo's own requests are listed too; closed ones only with all=true.
    let open = get_json(&http, &server, &token, "requests");
    assert!(open.as_array().unwrap().iter().all(|r| r["id"] != id));
    let all = get_json(&http, &server, &token, "requests?all=true");
    assert!(all.as_array().unwrap().iter().any(|r| r["id"] == id));
    // The journal says who did what: the approval as the token's user, the run as the
    // server; and it is intact.
    let journal = get_json(&http, &server, &token, "journal?limit=10000");
    let subject = format!("request {id}");
    let who = |action: &str| {
        journal
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == action && e["subject"] == subject.as_str())
            .map(|e| e["actor"].as_str().unwrap().to_string())
    };
    assert_eq!(who("request.approved").as_deref(), Some("admin"));
    assert_eq!(who("request.started").as_deref(), Some("reprise-server"));
    let verdict = get_json(&http, &server, &token, "journal/verification");
    assert_eq!(verdict["intact"], true, "{verdict}");
}

#[test]
fn the_server_runs_restore_tests_when_they_are_due_unless_told_not_to() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("dump.sql"), "CREATE TABLE t (id int);\n").unwrap();
    let config = format!(
        "{BASE}{}",
        asset(
            "db",
            "drill_every = \"2s\"\n\n[[asset.dataset]]\nname = \"dump\"\npaths = [\"dump.sql\"]\ndrill_check = \"grep -q 'CREATE TABLE' dump.sql\"\n"
        )
    );
    // Manual: nothing runs by itself.
    ws.write_config(&format!("{config}\n[server]\ndrills = \"manual\"\n"));
    ws.cmd().args(["backup", "db"]).assert().success();
    std::thread::sleep(Duration::from_secs(3));
    let server = serve(&ws);
    std::thread::sleep(Duration::from_secs(4));
    drop(server);
    let history = ws.json(&["drill", "history", "db", "--json"]);
    assert_eq!(history.as_array().unwrap().len(), 0, "{history:#}");
    // Scheduled (the default): the due drill runs, by the server, and passes.
    ws.write_config(&config);
    let _server = serve(&ws);
    wait_for("a scheduled drill", Duration::from_secs(60), || {
        let history = ws.json(&["drill", "history", "db", "--json"]);
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["record"]["by"] == "reprise-server")
    });
    let history = ws.json(&["drill", "history", "db", "--json"]);
    let drill = &history.as_array().unwrap()[history.as_array().unwrap().len() - 1];
    assert_eq!(drill["ok"], true, "{drill:#}");
    assert_eq!(drill["record"]["scenario"], "scheduled restore test");
}

#[test]
fn the_server_speaks_https_with_a_certificate_and_refuses_plain_http_on_it() {
    let (ws, token) = demo_with_token();
    let (cert, key) = crate::support::private_ca(ws.path());
    // A key that does not go with the certificate is refused before listening.
    let (other_cert, _) = {
        let dir = ws.path().join("other");
        std::fs::create_dir_all(&dir).unwrap();
        crate::support::private_ca(&dir)
    };
    ws.cmd()
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&other_cert)
        .arg("--tls-key")
        .arg(&key)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("do not go together"));
    // With TLS, listening beyond loopback needs no --allow-remote-http.
    let server = serve_with(
        &ws,
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
        None,
    );
    assert!(server.base.starts_with("https://"), "{}", server.base);
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let ca =
        reqwest::Certificate::from_pem(&std::fs::read(ws.path().join("ca.pem")).unwrap()).unwrap();
    let https = reqwest::blocking::Client::builder()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let status: serde_json::Value = https
        .get(format!("https://localhost:{port}/api/v1/status"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(!status.as_array().unwrap().is_empty());
    // A client that does not trust the CA is refused, and plain HTTP gets no answer.
    assert!(
        client()
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .is_err()
    );
    assert!(
        client()
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .is_err()
    );
    // Still serving after those.
    let health = https
        .get(format!("https://127.0.0.1:{port}/healthz"))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200);
}

/// A token for a new account of the demo workspace, made with the command line.
pub(crate) fn account(ws: &TestWorkspace, name: &str, role: &str, scope: &str) -> String {
    ws.cmd()
        .args(["user", "add", name, "--role", role, "--scope", scope])
        .assert()
        .success();
    token_of(
        &ws.cmd()
            .args(["token", "create", "api", "--user", name])
            .output()
            .unwrap()
            .stdout,
    )
}

#[test]
fn each_role_reaches_what_it_may_and_a_scoped_account_only_its_own_site() {
    let (ws, admin) = demo_with_token();
    let viewer = account(&ws, "vera", "viewer", "");
    let auditor = account(&ws, "aude", "auditor", "");
    let operator = account(&ws, "olivier", "operator", "site:entrepot");
    let server = serve(&ws);
    let http = client();
    let get = |token: &str, path: &str| {
        http.get(format!("{}/api/v1/{path}", server.base))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let post_status = |token: &str, path: &str, body: serde_json::Value| {
        post(&http, &server, token, path, body).0
    };
    // Reading dashboards: everyone. Records: not a viewer. Journal: auditors and admins.
    for t in [&viewer, &auditor, &operator, &admin] {
        assert_eq!(get(t, "status"), 200);
    }
    assert_eq!(get(&viewer, "incidents"), 403);
    assert_eq!(get(&auditor, "incidents"), 200);
    assert_eq!(get(&viewer, "journal"), 403);
    assert_eq!(get(&auditor, "journal"), 200);
    assert_eq!(get(&operator, "journal"), 403);
    // Operating: operators and admins, never an auditor or a viewer.
    let cam = serde_json::json!({ "assets": ["cam-entree"] });
    assert_eq!(post_status(&viewer, "backups", cam.clone()), 403);
    assert_eq!(post_status(&auditor, "backups", cam.clone()), 403);
    let (status, body) = post(
        &http,
        &server,
        &auditor,
        "incidents",
        serde_json::json!({ "title": "x" }),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap().contains("auditor"));
    // Accounts: admins only.
    assert_eq!(get(&operator, "users"), 403);
    assert_eq!(get(&admin, "users"), 200);

    // The operator limited to the warehouse sees and touches only the warehouse.
    let status = get_json(&http, &server, &operator, "status");
    let assets: Vec<&str> = status
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["asset"].as_str().unwrap())
        .collect();
    assert!(assets.contains(&"cam-entree"), "{assets:?}");
    assert!(!assets.contains(&"iredmail"), "{assets:?}");
    assert_eq!(post_status(&operator, "backups", cam), 202);
    let (status, body) = post(
        &http,
        &server,
        &operator,
        "backups",
        serde_json::json!({ "assets": ["iredmail"] }),
    );
    assert_eq!(status, 403);
    assert_eq!(body["code"], "out_of_scope");
    assert_eq!(get(&operator, "restore-points?asset=iredmail"), 403);
    assert_eq!(get(&operator, "incidents"), 403);
    let requests = get_json(&http, &server, &operator, "requests?all=true");
    assert!(requests.as_array().unwrap().is_empty(), "{requests}");
    let runs = get_json(&http, &server, &operator, "runs?limit=1000");
    assert!(
        runs.as_array()
            .unwrap()
            .iter()
            .all(|r| r["asset"] != "iredmail")
    );
    let me = get_json(&http, &server, &operator, "me");
    assert_eq!(me["role"], "operator");
    assert_eq!(me["scope"]["sites"][0], "entrepot");
}

/// Adds the operator `claire`, who signs in with `correct horse battery staple`.
pub(crate) fn add_claire(ws: &TestWorkspace) {
    ws.cmd()
        .args([
            "user",
            "add",
            "claire",
            "--role",
            "operator",
            "--password-stdin",
        ])
        .write_stdin("correct horse battery staple\n")
        .assert()
        .success();
}

#[test]
fn signing_in_gives_a_session_and_repeated_failures_lock_the_account() {
    let (ws, admin) = demo_with_token();
    add_claire(&ws);
    let server = serve(&ws);
    let http = client();
    let sign_in = |password: &str| {
        let r = http
            .post(format!("{}/api/v1/sessions", server.base))
            .json(&serde_json::json!({ "user": "claire", "password": password }))
            .send()
            .unwrap();
        (r.status().as_u16(), r.json::<serde_json::Value>().unwrap())
    };
    let (status, session) = sign_in("correct horse battery staple");
    assert_eq!(status, 201, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    assert_eq!(get_json(&http, &server, &token, "me")["user"], "claire");
    // An unknown account and a wrong password get the same answer.
    let (status, wrong) = sign_in("not the password");
    assert_eq!(status, 401);
    let unknown = http
        .post(format!("{}/api/v1/sessions", server.base))
        .json(&serde_json::json!({ "user": "nobody", "password": "whatever it is" }))
        .send()
        .unwrap();
    assert_eq!(unknown.status(), 401);
    assert_eq!(unknown.json::<serde_json::Value>().unwrap(), wrong);
    for _ in 0..3 {
        assert_eq!(sign_in("not the password").0, 401);
    }
    // The fifth failure in a row locks it; then even the right password waits.
    let (status, locked) = sign_in("not the password");
    assert_eq!(status, 429, "{locked}");
    assert_eq!(sign_in("correct horse battery staple").0, 429);
    // A token revoked, or expired, no longer opens anything.
    let expiring = token_of(
        &ws.cmd()
            .args([
                "token",
                "create",
                "short",
                "--user",
                "claire",
                "--expires",
                "1s",
            ])
            .output()
            .unwrap()
            .stdout,
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        http.get(format!("{}/api/v1/status", server.base))
            .bearer_auth(&expiring)
            .send()
            .unwrap()
            .status(),
        401
    );
    ws.cmd()
        .args(["user", "set", "claire", "--disable"])
        .assert()
        .success();
    assert_eq!(
        http.get(format!("{}/api/v1/me", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status(),
        401
    );
    // The journal has it all, as the admin reads it.
    let journal = get_json(&http, &server, &admin, "journal?limit=10000");
    let actions: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"signin"));
    assert!(actions.contains(&"signin.failed"));
    assert!(actions.contains(&"account.changed"));
}

#[test]
fn mutated_api_requests_get_clear_errors_and_never_bring_the_server_down() {
    let (ws, token) = demo_with_token();
    let server = serve(&ws);
    let http = client();
    // Every kind of body and query this API takes, valid, as seeds to mutate.
    let targets: &[(&str, &str, &str)] = &[
        (
            "POST",
            "backups",
            r#"{"assets":["cam-entree"],"reason":"after change: firmware"}"#,
        ),
        (
            "POST",
            "verifications",
            r#"{"assets":["iredmail"],"mode":"subset","percent":10}"#,
        ),
        (
            "POST",
            "incidents",
            r#"{"title":"Coupure","severity":"SEV2","assets":["nvr-1=partial"]}"#,
        ),
        (
            "POST",
            "requests",
            r#"{"requester":"x","environment":"production","scope":{"datasets":["iredmail/config"]},"target":{"at":"2026-11-20 18:00"},"context":{"kind":"change","description":"d"},"urgency":"low","impact":"i","downtime":{"approved":false}}"#,
        ),
        (
            "POST",
            "requests/1/assessment",
            r#"{"from":"2026-11-20","to":"2026-11-21"}"#,
        ),
        (
            "POST",
            "requests/1/checks",
            r#"{"asset":"iredmail","key":"service","result":"pass"}"#,
        ),
        (
            "POST",
            "readiness/approvals",
            r#"{"asset":"iredmail","by":"Direction"}"#,
        ),
        (
            "POST",
            "tokens",
            r#"{"name":"fuzz","role":"viewer","expires":"1h"}"#,
        ),
        (
            "POST",
            "sessions",
            r#"{"user":"admin","password":"not the password"}"#,
        ),
        ("GET", "runs?asset=iredmail&kind=backup&limit=5", ""),
        ("GET", "restore-points?asset=iredmail", ""),
        ("GET", "journal?after=3&limit=2", ""),
        ("GET", "requests/2/report?lang=fr", ""),
        ("GET", "alerts?all=true", ""),
    ];
    let seeds: Vec<Vec<u8>> = targets
        .iter()
        .map(|(_, path, body)| format!("{path}\n{body}").into_bytes())
        .collect();
    let mut tried = 0;
    reprise_testkit::fuzz::run(
        "api",
        &seeds,
        reprise_testkit::fuzz::budget(5),
        Duration::from_secs(30),
        |input| {
            let text = String::from_utf8_lossy(input);
            let (path, body) = text.split_once('\n').unwrap_or((&text, ""));
            let method = targets[tried % targets.len()].0;
            tried += 1;
            let url = format!("{}/api/v1/{}", server.base, path.trim_start_matches('/'));
            let request = match method {
                "GET" => http.get(&url),
                _ => http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.to_string()),
            };
            let Ok(response) = request.bearer_auth(&token).send() else {
                // A mutated URL reqwest itself refuses never reached the server.
                return;
            };
            let status = response.status().as_u16();
            assert!(status < 500, "{method} {path} {body:?} → {status}");
            // A mutated path can normalise to a page of the web UI (`/x/../..` is `/`),
            // whose errors are pages: the JSON errors are the API's.
            let api = response.url().path().starts_with("/api/");
            if status >= 400 && api {
                let error: serde_json::Value = response.json().unwrap_or_else(|e| {
                    panic!("{method} {path} → {status} without a JSON error: {e}")
                });
                assert!(
                    error["code"].is_string() && error["message"].is_string(),
                    "{error}"
                );
            }
        },
    );
    // Oversized bodies are refused before they are read whole.
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(1024 * 1024));
    let (status, error) = post(
        &http,
        &server,
        &token,
        "incidents",
        serde_json::from_str(&huge).unwrap(),
    );
    assert_eq!(status, 413);
    assert_eq!(error["code"], "too_large");
    // A token without a name is refused, not made.
    let (status, error) = post(
        &http,
        &server,
        &token,
        "tokens",
        serde_json::json!({ "name": "" }),
    );
    assert_eq!(status, 400, "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("not a token name"),
        "{error}"
    );
    // And the server still answers.
    assert_eq!(
        http.get(format!("{}/healthz", server.base))
            .send()
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn erasures_exports_and_evidence_are_reached_through_the_api() {
    let (ws, _) = crate::records::records_workspace("20d");
    let admin = account(&ws, "ada", "admin", "");
    let auditor = account(&ws, "aude", "auditor", "");
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "crm"]).assert().success();
    std::fs::remove_file(ws.path().join("visits/2026/alice.csv")).unwrap();
    let server = serve(&ws);
    let http = client();

    // Erasing is administering; reading the proof is auditing.
    let body = serde_json::json!({
        "asset": "crm",
        "paths": ["visits/2026/alice.csv"],
        "reason": "erasure request"
    });
    assert_eq!(
        post(&http, &server, &auditor, "erasures", body.clone()).0,
        403
    );
    let (status, plan) = post(&http, &server, &admin, "erasures", body);
    assert_eq!(status, 201, "{plan:#}");
    assert_eq!(plan["state"], "planned");
    assert_eq!(plan["plan"].as_array().unwrap().len(), 2, "{plan:#}");
    let id = plan["id"].as_i64().unwrap();
    let (status, done) = post(
        &http,
        &server,
        &admin,
        &format!("erasures/{id}/execution"),
        serde_json::json!({}),
    );
    assert_eq!(status, 200, "{done:#}");
    assert_eq!(done["state"], "executed");
    assert_eq!(done["executed_by"], "ada");
    let proofs = get_json(&http, &server, &auditor, "erasures");
    assert_eq!(proofs[0]["reason"], "erasure request");

    // A CSV export, and an empty one that says why.
    let csv = http
        .get(format!("{}/api/v1/exports/inventory", server.base))
        .bearer_auth(&auditor)
        .send()
        .unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().unwrap();
    assert!(text.starts_with("id,name,site,category"), "{text}");
    assert!(text.contains("crm,crm name,hq"), "{text}");
    let empty = http
        .get(format!(
            "{}/api/v1/exports/runs?since=2020-01-01&until=2020-01-31",
            server.base
        ))
        .bearer_auth(&auditor)
        .send()
        .unwrap();
    assert_eq!(empty.status().as_u16(), 404);
    let why: serde_json::Value = empty.json().unwrap();
    assert_eq!(why["code"], "empty");
    assert!(
        why["message"].as_str().unwrap().contains("from 2020-01-01"),
        "{why}"
    );

    // The evidence pack, as an archive.
    let month = jiff::Timestamp::now().strftime("%Y-%m").to_string();
    let pack = http
        .get(format!("{}/api/v1/evidence?period={month}", server.base))
        .bearer_auth(&auditor)
        .send()
        .unwrap();
    assert_eq!(pack.status().as_u16(), 200);
    assert_eq!(pack.headers()["content-type"], "application/gzip");
    let bytes = pack.bytes().unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzip");
    let bad = http
        .get(format!("{}/api/v1/evidence?period=soon", server.base))
        .bearer_auth(&auditor)
        .send()
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
}

#[test]
fn the_server_purges_points_past_their_category_maximum_and_writes_due_exports() {
    let (ws, config) = crate::records::records_workspace("20d");
    ws.write_config(&format!(
        "{config}\n[[export]]\nid = \"often\"\nkinds = [\"inventory\"]\nschedule = \"* * * * *\"\ndirectory = \"exports\"\n"
    ));
    ws.cmd().args(["repo", "init"]).assert().success();
    ws.cmd().args(["backup", "crm"]).assert().success();
    crate::records::old_point(&ws, "local", 40);
    crate::records::old_point(&ws, "offsite", 40);
    let _server = serve(&ws);
    let points = || {
        ws.json(&["snapshots", "crm", "--json"])
            .as_array()
            .unwrap()
            .len()
    };
    wait_for(
        "the purge of the old point",
        Duration::from_secs(60),
        || points() == 1,
    );
    let exports = ws.path().join("exports");
    // Every minute: the first slot is the next minute after the server started.
    wait_for("a scheduled export", Duration::from_secs(90), || {
        std::fs::read_dir(&exports)
            .is_ok_and(|d| d.flatten().any(|e| e.path().join("inventory.csv").exists()))
    });
    let journal = ws.json(&["journal", "list", "--json"]).to_string();
    assert!(journal.contains("reprise-server"), "{journal}");
}

/// Whole-inventory answers are kept between requests, and never outlive what they were
/// computed from: a backup made by a command line beside the server, an alert it raised,
/// a state recorded, each shows in the very next answer.
#[test]
fn kept_answers_follow_what_a_command_line_beside_the_server_changes() {
    let (ws, token) = init_with_token();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "files",
            "rpo = \"1d\"\n\n[[asset.dataset]]\nname = \"docs\"\npaths = [\"data\"]"
        )
    ));
    std::fs::create_dir_all(ws.path().join("data")).unwrap();
    std::fs::write(ws.path().join("data/a.txt"), "a\n").unwrap();
    let server = serve(&ws);
    let http = client();
    let get = |path: &str| -> serde_json::Value {
        http.get(format!("{}/api/v1/{path}", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let status = get("status");
    assert_eq!(status[0]["restore_points"], 0, "{status}");
    assert_eq!(get("status"), status, "asked again, the same answer");
    let scrape = || {
        http.get(format!("{}/metrics", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .text()
            .unwrap()
    };
    assert!(scrape().contains("reprise_asset_restore_points{"));

    ws.cmd().args(["backup", "files"]).assert().success();
    let status = get("status");
    assert_eq!(status[0]["restore_points"], 1, "{status}");
    assert!(status[0]["last_backup"].is_string(), "{status}");
    let metrics = scrape();
    let points = metrics
        .lines()
        .find(|l| l.starts_with("reprise_asset_restore_points{") && l.contains("files"))
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(points.ends_with(" 1"), "{points}");

    ws.cmd()
        .args([
            "inventory",
            "set-state",
            "files",
            "failed",
            "--note",
            "disk",
        ])
        .assert()
        .success();
    let assets = get("assets");
    assert!(assets[0]["state_since"].is_string(), "{assets}");
    assert_eq!(get("status")[0]["state"], "failed");

    std::fs::write(ws.path().join("data/HOW_TO_DECRYPT.txt"), "pay\n").unwrap();
    ws.cmd().args(["backup", "files"]).assert().code(3);
    // Supervision run from the command line raises the alert in the catalog.
    ws.cmd().args(["alerts"]).assert().success();
    let alerts = get("alerts");
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "suspect:files/docs"),
        "{alerts}"
    );
}
