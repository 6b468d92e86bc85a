//! `reprise serve`: the real binary on a free port, driven over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{BASE, TestWorkspace, asset, incompressible_files, pack_count};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(ws: &TestWorkspace) -> Server {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("reprise"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tick", "1s"])
        .current_dir(ws.path())
        .env_remove("REPRISE_WORKSPACE")
        .env_remove("REPRISE_CATALOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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

fn demo_with_token() -> (TestWorkspace, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::support::reprise(dir.path())
        .args(["demo", "."])
        .output()
        .unwrap();
    assert!(out.status.success());
    (TestWorkspace { dir }, token_of(&out.stdout))
}

fn client() -> reqwest::blocking::Client {
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

    let assets: serde_json::Value = http
        .get(format!("{}/api/v1/assets", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(assets.as_array().unwrap().len(), 14);
    let status: serde_json::Value = http
        .get(format!("{}/api/v1/status", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
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

    let doc: serde_json::Value = http
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in ["/assets", "/status", "/runs", "/restore-points", "/backups"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
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
fn metrics_are_prometheus_text() {
    let (ws, _) = demo_with_token();
    let server = serve(&ws);
    let text = client()
        .get(format!("{}/metrics", server.base))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let mut samples = 0;
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
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
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad metric name in {line}"
        );
        assert!(
            series.ends_with('}') && series.contains("asset=\""),
            "{line}"
        );
        samples += 1;
    }
    assert!(samples > 14 * 5, "{samples} samples:\n{text}");
    assert!(text.contains("reprise_asset_rpo_seconds{asset=\"iredmail\"} 14400"));
    assert!(text.contains("reprise_asset_rpo_status{asset=\"iredmail\",status=\"ok\"} 1"));
}

#[test]
fn the_scheduler_runs_due_backups_and_retries_interrupted_ones() {
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

    // A backup killed mid-way leaves its run `running`…
    let count = || pack_count(&ws);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("reprise"))
        .args(["backup", "big"])
        .current_dir(ws.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the backup to write data", Duration::from_secs(120), || {
        count() > 0 || child.try_wait().unwrap().is_some()
    });
    assert!(
        child.try_wait().unwrap().is_none(),
        "the backup finished before it could be killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // …which the server marks interrupted and retries at once; the minutely policy runs
    // within its first minute.
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
