//! Supervision end to end: a dump that suddenly comes back empty raises an anomaly alert
//! that reaches a real HTTP webhook receiver and a real SMTP server, and its resolution
//! follows; repositories that do not answer and a broken 3-2-1 rule are alerts too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use predicates::prelude::*;

use crate::support::{BASE, SmtpSink, TestWorkspace, asset};

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
fn an_empty_dump_raises_an_anomaly_that_reaches_the_webhook_and_the_mailbox_then_resolves() {
    let ws = TestWorkspace::init();
    let (url, bodies) = receiver();
    let smtp = SmtpSink::start(None);
    let config = format!(
        "{BASE}{}\n[[notify]]\nid = \"ops\"\nurl = \"{url}\"\nmin_severity = \"warning\"\n\n[[notify]]\nid = \"oncall\"\nsmtp = \"127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"reprise@example.org\"\nto = [\"oncall@example.org\", \"dsi@example.org\"]\nmin_severity = \"warning\"\n",
        asset(
            "db",
            "\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"cat dump.sql\"\nfilename = \"db.sql\""
        ),
        smtp.port,
    );
    ws.write_config(&config);
    // A dump that compresses little, as real ones with their data do: each new one adds
    // kilobytes to the repository.
    let dump: String = reprise_testkit::noise(3000, 42)
        .iter()
        .map(|b| format!("INSERT INTO visits VALUES ({b}, 'badge {b:02x}');\n"))
        .collect();
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
    let mails = smtp.read();
    let anomaly_mail = mails
        .iter()
        .find(|m| m.contains("anomaly:db/dump"))
        .unwrap_or_else(|| panic!("no e-mail about the anomaly in {mails:#?}"));
    assert!(
        anomaly_mail.contains("From: reprise@example.org"),
        "{anomaly_mail}"
    );
    assert!(
        anomaly_mail.contains("oncall@example.org"),
        "{anomaly_mail}"
    );
    assert!(
        anomaly_mail.contains("Subject: [Reprise] WARNING"),
        "{anomaly_mail}"
    );
    assert!(anomaly_mail.contains("size 0"), "{anomaly_mail}");
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
    let mails = smtp.read();
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.contains("anomaly:db/dump"))
            .count(),
        2,
        "one mail when it opened, one when it resolved: {mails:#?}"
    );
    // The dump comes back as it was before: deduplication adds next to nothing, which is
    // no anomaly, and none opens again over the following normal backups.
    for run in [5, 4, 3] {
        std::fs::write(ws.path().join("dump.sql"), format!("{dump}-- run {run}\n")).unwrap();
        ws.cmd().args(["backup", "db"]).assert().success();
        let open = ws.json(&["alerts", "--json"]);
        assert!(
            open.as_array()
                .unwrap()
                .iter()
                .all(|a| a["key"] != "anomaly:db/dump"),
            "after a deduplicated backup: {open:#}"
        );
    }
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: [Reprise] resolved — anomaly:db/dump"))
    );
}

#[test]
fn e_mail_goes_over_starttls_to_a_relay_trusted_through_a_private_ca() {
    let ws = TestWorkspace::init();
    let (cert, key) = crate::support::private_ca(ws.path());
    let smtp = SmtpSink::start(Some((&cert, &key)));
    // A failed backup is critical; the channel only takes critical alerts.
    let config = format!(
        "{BASE}{}\n[[notify]]\nid = \"mgmt\"\nsmtp = \"localhost:{}\"\nfrom = \"reprise@example.org\"\nto = \"direction@example.org\"\nca_file = \"ca.pem\"\nmin_severity = \"critical\"\n",
        asset(
            "db",
            "\n[[asset.dataset]]\nname = \"dump\"\ncommand = \"exit 3\"\nfilename = \"db.sql\""
        ),
        smtp.port,
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "db"]).assert().code(1);
    ws.cmd().arg("alerts").assert().success();
    let mails = smtp.read();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].contains("backup:db"), "{}", mails[0]);
    assert!(mails[0].contains("direction@example.org"));
    // The warning-level alerts of the same evaluation (RPO never verified) stay out.
    assert!(!mails[0].contains("rpo:db"), "{}", mails[0]);

    // The dump works again: the resolution is mailed too.
    ws.write_config(&config.replace("exit 3", "echo ok"));
    ws.cmd().args(["backup", "db"]).assert().success();
    ws.cmd().arg("alerts").assert().success();
    assert_eq!(smtp.read().len(), 2);

    // Without the private CA, the relay's certificate is refused: nothing is sent in
    // clear, and the failure names the channel.
    ws.write_config(&config.replace("ca_file = \"ca.pem\"\n", ""));
    ws.cmd().args(["backup", "db"]).assert().code(1);
    ws.cmd()
        .arg("alerts")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "notify `mgmt`: e-mail to direction@example.org not delivered",
        ));
    assert_eq!(smtp.read().len(), 2);
}

#[test]
fn an_unreachable_repository_and_a_broken_3_2_1_rule_are_alerts() {
    let ws = TestWorkspace::init();
    // The off-site disk is another filesystem: one in the workspace would not count.
    let disk = crate::support::other_filesystem();
    std::fs::write(ws.path().join("notes.txt"), "notes\n").unwrap();
    let config = format!(
        "{}\n[[repository]]\nid = \"offsite\"\npath = \"{}/offsite-copy\"\npassword_file = \".reprise/keys/local.key\"\nlocation = \"off-site\"\nmedium = \"usb-disk\"\n{}",
        BASE,
        disk.path().display(),
        asset(
            "files",
            "\n[[asset.dataset]]\nname = \"notes\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "files"]).assert().success();
    let alerts = ws.json(&["alerts", "--json"]);
    let keyed = |key: &str| -> serde_json::Value {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("no {key} in {alerts:#}"))
    };
    let repo = keyed("repo:offsite");
    assert_eq!(repo["severity"], "critical");
    assert!(
        repo["message"]
            .as_str()
            .unwrap()
            .contains("holds no repository (run `reprise repo init offsite`)")
    );
    let rule = keyed("rule321:files");
    assert!(
        rule["message"].as_str().unwrap().contains("2 copies of 3"),
        "{rule}"
    );
    assert!(
        rule["message"]
            .as_str()
            .unwrap()
            .contains("no copy off-site")
    );

    // Initialise the off-site repository and copy to it: both alerts resolve.
    ws.cmd()
        .args(["repo", "init", "offsite"])
        .assert()
        .success();
    ws.write_config(&config.replace(
        "repository = \"local\"\n",
        "repository = \"local\"\ncopy_to = [\"offsite\"]\n",
    ));
    ws.cmd().args(["backup", "files"]).assert().success();
    let open: Vec<String> = ws
        .json(&["alerts", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !open
            .iter()
            .any(|k| k.starts_with("repo:") || k.starts_with("rule321:")),
        "{open:?}"
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

#[test]
fn an_incident_update_reaches_each_channel_in_its_language() {
    let ws = TestWorkspace::init();
    let (en_url, en_bodies) = receiver();
    let (fr_url, fr_bodies) = receiver();
    ws.write_config(&format!(
        "{BASE}{}\n[[notify]]\nid = \"team\"\nurl = \"{en_url}\"\n\n[[notify]]\nid = \"client\"\nurl = \"{fr_url}\"\nlang = \"fr\"\n",
        asset("db", "")
    ));
    ws.cmd()
        .args(["incident", "open", "Database down", "--asset", "db"])
        .assert()
        .success();
    // The draft, sent as it is: each channel reads it in its own language.
    ws.cmd()
        .args(["incident", "update", "1", "--send"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Restored:"));
    let message = |bodies: &Arc<Mutex<Vec<String>>>| {
        bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap())
            .find(|b| b["key"] == "incident:1:update")
            .map(|b| b["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no update in {:?}", bodies.lock().unwrap()))
    };
    let (en, fr) = (message(&en_bodies), message(&fr_bodies));
    assert!(en.contains("Restored:") && !en.contains("Rétablis"), "{en}");
    assert!(
        fr.contains("Rétablis :") && !fr.contains("Restored:"),
        "{fr}"
    );
    // A text of one's own goes as written, to every channel.
    en_bodies.lock().unwrap().clear();
    fr_bodies.lock().unwrap().clear();
    ws.cmd()
        .args([
            "incident",
            "update",
            "1",
            "--text",
            "Le serveur redémarre / the server restarts",
            "--send",
        ])
        .assert()
        .success();
    assert_eq!(
        message(&en_bodies),
        "Le serveur redémarre / the server restarts"
    );
    assert_eq!(
        message(&fr_bodies),
        "Le serveur redémarre / the server restarts"
    );
}
