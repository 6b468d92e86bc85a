//! Supervision end to end: a dump that suddenly comes back empty raises an anomaly alert
//! that reaches a real HTTP webhook receiver, and its resolution follows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset};

/// A webhook receiver on loopback that keeps every body it is sent.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            seen.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).to_string());
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, bodies)
}

#[test]
fn an_empty_dump_raises_an_anomaly_that_reaches_the_webhook_and_then_resolves() {
    let ws = TestWorkspace::init();
    let (url, bodies) = receiver();
    let config = format!(
        "{BASE}{}\n[[notify]]\nid = \"ops\"\nurl = \"{url}\"\nmin_severity = \"warning\"\n",
        asset(
            "db",
            "\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"cat dump.sql\"\nfilename = \"db.sql\""
        )
    );
    ws.write_config(&config);
    let dump = "INSERT INTO visits VALUES (1, 'badge 42', '2026-11-20');\n".repeat(40);
    for i in 0..6 {
        std::fs::write(ws.path().join("dump.sql"), format!("{dump}-- run {i}\n")).unwrap();
        ws.cmd().args(["backup", "db"]).assert().success();
    }
    ws.cmd()
        .args(["alerts"])
        .assert()
        .success()
        .stdout(predicate::str::contains("anomaly").not());

    // The dump suddenly returns nothing: the backup "succeeds", supervision does not.
    std::fs::write(ws.path().join("dump.sql"), "").unwrap();
    ws.cmd().args(["backup", "db"]).assert().success();
    let alerts = ws.json(&["alerts", "--json"]);
    let anomaly = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == "anomaly:db/dump")
        .unwrap_or_else(|| panic!("no anomaly alert in {alerts}"));
    assert_eq!(anomaly["severity"], "warning");
    assert!(anomaly["message"].as_str().unwrap().contains("size 0"));
    let received = bodies.lock().unwrap().clone();
    let hook: Vec<serde_json::Value> = received
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert!(
        hook.iter()
            .any(|b| b["key"] == "anomaly:db/dump" && b["status"] == "open"),
        "{received:?}"
    );
    // Asked again, the alert is updated, not sent twice.
    ws.cmd().args(["alerts"]).assert().success();
    let sent = bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|b| b.contains("anomaly:db/dump") && b.contains("\"open\""))
        .count();
    assert_eq!(sent, 1);

    // The next dump is normal again: the alert resolves and the receiver hears it.
    std::fs::write(ws.path().join("dump.sql"), format!("{dump}-- run 7\n")).unwrap();
    ws.cmd().args(["backup", "db"]).assert().success();
    ws.cmd()
        .args(["alerts", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("anomaly:db/dump"));
    assert!(
        ws.json(&["alerts", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["key"] != "anomaly:db/dump")
    );
    assert!(
        bodies
            .lock()
            .unwrap()
            .iter()
            .any(|b| b.contains("anomaly:db/dump") && b.contains("\"resolved\""))
    );
}

#[test]
fn a_bad_notifier_is_located_in_the_configuration() {
    let ws = TestWorkspace::init();
    ws.write_config(&format!(
        "{BASE}\n[[notify]]\nid = \"ops\"\nurl = \"ftp://example.org\"\nformat = \"pager\"\n"
    ));
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "notify `ops`, field `url`: a webhook URL starts with http:// or https://",
        ))
        .stderr(predicate::str::contains("unknown format `pager`"));
}
