//! Devices whose configuration is collected, against real servers on loopback: Debian's
//! OpenSSH sshd with a forced command that plays a VyOS router's command line, and a
//! camera behind HTTP digest authentication.

use std::path::Path;

use predicates::prelude::*;
use reprise_testkit::sftp::SshServer;

use crate::support::{BASE, SmtpSink, TestWorkspace, asset, restic};

/// A router's command line: `show configuration commands` prints the configuration
/// file; the login shell (no command) takes a configuration on its input, as `--apply`
/// sends it, and keeps it in `applied`.
fn fake_router(dir: &Path) -> String {
    let script = dir.join("vyos.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$SSH_ORIGINAL_COMMAND\" in\n  *'show configuration commands') cat {config} ;;\n  '') cat > {applied}; echo 'Saving configuration to /config/config.boot... Done' ;;\n  *) echo \"Invalid command: $SSH_ORIGINAL_COMMAND\"; exit 1 ;;\nesac\n",
            config = dir.join("config.commands").display(),
            applied = dir.join("applied").display(),
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["755"])
        .arg(&script)
        .status()
        .unwrap();
    script.display().to_string()
}

const ROUTER: &str = "set interfaces ethernet eth0 address '192.168.1.1/24'\n\
set service ssh port '22'\n\
set system host-name 'vyos-siege'\n\
set system login user vyos authentication encrypted-password '$6$rounds=5000$Kp1oldsecret'\n\
set service snmp community 'public-old' authorization 'ro'\n";

fn fingerprint(server: &SshServer) -> String {
    let out = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&server.host_key)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

fn router_config(server: &SshServer, key: &Path, extra: &str, notify: &str) -> String {
    format!(
        "{BASE}{}{notify}",
        asset(
            "router",
            &format!(
                "function = \"network\"\n[[asset.dataset]]\nname = \"config\"\ncollect = {{ model = \"vyos\", address = \"127.0.0.1\", port = {}, user = \"{}\", ssh_key = \"{}\"{extra} }}",
                server.port,
                server.user,
                key.display()
            )
        )
    )
}

#[test]
fn a_router_is_read_over_ssh_backed_up_when_it_changes_and_its_diff_masks_secrets() {
    let ws = TestWorkspace::init();
    let device = tempfile::tempdir().unwrap();
    std::fs::write(device.path().join("config.commands"), ROUTER).unwrap();
    let script = fake_router(device.path());
    let server = SshServer::start_with(&format!("ForceCommand {script}"));
    // The test's key, owner-only where the workspace keeps keys.
    let key = ws.path().join(".reprise/keys/router.key");
    std::fs::copy(&server.key, &key).unwrap();
    let smtp = SmtpSink::start(None);
    let notify = format!(
        "\n[[notify]]\nid = \"noc\"\nsmtp = \"127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"reprise@example.org\"\nto = \"noc@example.org\"\nmin_severity = \"warning\"\n\n[server]\npublic_url = \"https://reprise.example.org\"\n",
        smtp.port
    );
    ws.write_config(&router_config(&server, &key, "", &notify));
    ws.cmd().arg("check").assert().success();

    // Strict host keys: an unknown router is refused, and says how to trust it.
    ws.cmd()
        .args(["devices", "check", "router"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "host key of 127.0.0.1 is not known",
        ));
    assert!(
        restic(&ws, &["snapshots", "--json"])
            .stdout
            .starts_with(b"[]")
    );
    // A wrong fingerprint trusts nothing; the right one does.
    ws.cmd()
        .args([
            "devices",
            "trust",
            "router",
            "--fingerprint",
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("nothing was trusted"));
    let print = fingerprint(&server);
    ws.cmd()
        .args(["devices", "trust", "router"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(&print));
    ws.cmd()
        .args(["devices", "trust", "router", "--fingerprint", &print])
        .assert()
        .success();

    // First read: backed up.
    ws.cmd()
        .args(["devices", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "router/config: first read: backed up",
        ));
    // Unchanged: nothing new stored, the read recorded.
    ws.cmd()
        .args(["devices", "check", "router"])
        .assert()
        .success()
        .stdout(predicate::str::contains("unchanged"));
    let snaps = |ws: &TestWorkspace| {
        let out = restic(ws, &["snapshots", "--json"]);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(snaps(&ws), 1);
    let list = ws.json(&["devices", "--json"]);
    // Three reads: refused for its host key, the first, the unchanged one.
    assert_eq!(list[0]["checks"], 3, "{list}");
    assert_eq!(list[0]["status"], "ok");
    let before = list[0]["snapshot"].as_str().unwrap().to_string();

    // A line and a secret change on the router: one backup, one alert, secrets masked.
    std::fs::write(
        device.path().join("config.commands"),
        ROUTER
            .replace("vyos-siege", "vyos-siege-2")
            .replace("Kp1oldsecret", "Zq9newsecret")
            .replace("public-old", "public-new"),
    )
    .unwrap();
    let out = ws
        .cmd()
        .args(["devices", "check", "router"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("CHANGED (+1 −1 lines)"), "{text}");
    assert!(
        text.contains("+set system host-name 'vyos-siege-2'"),
        "{text}"
    );
    assert!(
        !text.contains("Zq9newsecret") && !text.contains("public-new"),
        "{text}"
    );
    assert_eq!(snaps(&ws), 2);
    let mails = smtp.read();
    let change: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("change:router/config"))
        .collect();
    assert_eq!(change.len(), 1, "{mails:#?}");
    // Quoted-printable's soft breaks and folded headers undone.
    let mail = change[0].replace("=\n", "").replace("\n ", " ");
    assert!(
        mail.contains("+set system host-name 'vyos-siege-2'"),
        "{mail}"
    );
    assert!(
        !mail.contains("Zq9newsecret") && !mail.contains("Kp1oldsecret"),
        "{mail}"
    );
    assert!(mail.contains("encrypted-password '********'"), "{mail}");
    // Mail as mail clients expect it: an id, a date, text and HTML alternatives.
    for header in ["Message-ID", "Date", "MIME-Version"] {
        assert!(mail.contains(header), "{header}: {mail}");
    }
    assert!(
        mail.contains("Content-Type: multipart/alternative"),
        "{mail}"
    );
    // The subject is the first line, not the diff.
    let subject = mail.lines().rfind(|l| l.starts_with("Subject:")).unwrap();
    assert!(
        subject.contains("configuration changed on the device") && !subject.contains("+set"),
        "{subject}"
    );
    // The restore point keeps the whole configuration, secrets included: a restore
    // needs them (stock restic reads it).
    let dumped = restic(&ws, &["dump", "latest", "/config.commands"]);
    assert!(String::from_utf8_lossy(&dumped.stdout).contains("Zq9newsecret"));
    // The run says why it ran.
    let runs = ws.json(&["runs", "router", "--json"]);
    assert!(
        runs.as_array().unwrap().iter().any(|r| r["detail"]
            .as_str()
            .unwrap_or("")
            .contains("configuration changed on the device")),
        "{runs}"
    );
    ws.cmd()
        .args(["devices", "diff", "router"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("-set system host-name 'vyos-siege'")
                .and(predicate::str::contains("Zq9").not()),
        );
    // The point from before the change lacks it: restoring it says so (R000.3), and how
    // the file goes back on the router.
    let older = tempfile::tempdir().unwrap();
    ws.cmd()
        .args(["restore", "router", "--snapshot", &before, "--target"])
        .arg(older.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("predates the asset's configuration change")
                .and(predicate::str::contains("configure"))
                .and(predicate::str::contains("devices push router")),
        );

    // Pushing back: the file and the steps, nothing sent without --apply; with it, the
    // router receives the configuration of the point chosen, and it is journaled.
    let target = tempfile::tempdir().unwrap();
    ws.cmd()
        .args(["devices", "push", "router", "--target"])
        .arg(target.path())
        .assert()
        .success()
        .stdout(
            predicate::str::contains("source /tmp/restore.commands")
                .and(predicate::str::contains("add --apply")),
        );
    assert!(!device.path().join("applied").exists());
    ws.cmd()
        .args(["devices", "push", "router", "--apply", "--target"])
        .arg(target.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("Saving configuration"));
    let applied = std::fs::read_to_string(device.path().join("applied")).unwrap();
    assert!(
        applied.starts_with("source /opt/vyatta/etc/functions/script-template\nconfigure\n"),
        "{applied}"
    );
    assert!(
        applied.contains("set system host-name 'vyos-siege-2'")
            && applied.contains("commit\nsave\n"),
        "{applied}"
    );
    let journal = ws.json(&["journal", "list", "--json"]);
    assert!(
        journal.to_string().contains("pushed to 127.0.0.1"),
        "{journal}"
    );
}

#[test]
fn a_changed_host_key_a_wrong_answer_or_a_dead_device_is_a_failed_read_never_a_restore_point() {
    let ws = TestWorkspace::init();
    let device = tempfile::tempdir().unwrap();
    std::fs::write(device.path().join("config.commands"), ROUTER).unwrap();
    let script = fake_router(device.path());
    let server = SshServer::start_with(&format!("ForceCommand {script}"));
    let key = ws.path().join(".reprise/keys/router.key");
    std::fs::copy(&server.key, &key).unwrap();
    ws.write_config(&router_config(&server, &key, "", ""));
    ws.cmd()
        .args([
            "devices",
            "trust",
            "router",
            "--fingerprint",
            &fingerprint(&server),
        ])
        .assert()
        .success();
    // The device prints nothing: refused, no restore point.
    std::fs::write(device.path().join("config.commands"), "").unwrap();
    ws.cmd()
        .args(["backup", "router"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("empty configuration"));
    // An answer that is no configuration of the model.
    std::fs::write(
        device.path().join("config.commands"),
        "Welcome to the router\n",
    )
    .unwrap();
    ws.cmd()
        .args(["devices", "check", "router"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "does not look like this model's configuration",
        ));
    assert!(
        restic(&ws, &["snapshots", "--json"])
            .stdout
            .starts_with(b"[]")
    );
    let list = ws.json(&["devices", "--json"]);
    assert_eq!(list[0]["status"], "failing", "{list}");
    ws.cmd()
        .args(["alerts"])
        .assert()
        .success()
        .stdout(predicate::str::contains("device:router/config"));

    // Another machine answers on the router's address: its key changed, refused.
    drop(server);
    let impostor = SshServer::start_with(&format!("ForceCommand {script}"));
    std::fs::copy(&impostor.key, &key).unwrap();
    let config = router_config(&impostor, &key, "", "");
    // Same address and port in the known hosts as before: rewrite the old entry's port.
    let known = std::fs::read_to_string(ws.path().join(".reprise/known_hosts")).unwrap();
    let old_port = known
        .split("]:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        ws.path().join(".reprise/known_hosts"),
        known.replace(&format!("]:{old_port} "), &format!("]:{} ", impostor.port)),
    )
    .unwrap();
    ws.write_config(&config);
    std::fs::write(device.path().join("config.commands"), ROUTER).unwrap();
    ws.cmd()
        .args(["devices", "check", "router"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CHANGED since it was trusted"));
    // Nobody answers: unreachable, within its timeout.
    let port = impostor.port;
    drop(impostor);
    let _ = port;
    ws.cmd()
        .args(["devices", "check", "router"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("cannot reach 127.0.0.1"));
    assert!(
        restic(&ws, &["snapshots", "--json"])
            .stdout
            .starts_with(b"[]")
    );
}

#[test]
fn a_camera_is_read_over_http_digest_and_volatile_lines_never_trigger() {
    let ws = TestWorkspace::init();
    let device = tempfile::tempdir().unwrap();
    let export = device.path().join("camera.conf");
    std::fs::write(
        &export,
        "[Network]\nip=192.168.1.64\n[Time]\nuptime=1000\n[Users]\nadmin.password=Cam-S3cret\n",
    )
    .unwrap();
    let camera =
        reprise_oversight::camera::Camera::start(export.clone(), "admin", "cam-pass").unwrap();
    ws.cmd()
        .args(["secret", "set", "camera-pass"])
        .write_stdin("cam-pass")
        .assert()
        .success();
    let smtp = SmtpSink::start(None);
    let config = format!(
        "{BASE}{}\n[[notify]]\nid = \"surete\"\nlang = \"fr\"\nsmtp = \"127.0.0.1:{}\"\ntls = \"none\"\nfrom = \"reprise@example.org\"\nto = \"surete@example.org\"\nmin_severity = \"warning\"\n",
        asset(
            "camera",
            &format!(
                "[[asset.dataset]]\nname = \"config\"\ncollect = {{ model = \"http\", address = \"{}\", url = \"/cgi-bin/config.cgi?action=export\", user = \"admin\", password_secret = \"camera-pass\", ignore = [\"^uptime=\"], watch = \"15m\" }}",
                camera.url()
            )
        ),
        smtp.port
    );
    ws.write_config(&config);
    ws.cmd().arg("check").assert().success();
    ws.cmd()
        .args(["devices", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("first read"));
    // Only the uptime moved: no change, nothing stored.
    std::fs::write(
        &export,
        "[Network]\nip=192.168.1.64\n[Time]\nuptime=2000\n[Users]\nadmin.password=Cam-S3cret\n",
    )
    .unwrap();
    ws.cmd()
        .args(["devices", "check"])
        .assert()
        .success()
        .stdout(predicate::str::contains("unchanged"));
    let list = ws.json(&["devices", "--json"]);
    assert_eq!(list[0]["watch"], "15m");
    assert!(list[0]["changed"].is_null(), "{list}");
    // The password changes: a change, its value masked.
    std::fs::write(
        &export,
        "[Network]\nip=192.168.1.64\n[Time]\nuptime=3000\n[Users]\nadmin.password=New-S3cret\n",
    )
    .unwrap();
    let out = ws.cmd().args(["devices", "check"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CHANGED") && text.contains("only masked secrets changed"),
        "{text}"
    );
    assert!(!text.contains("New-S3cret"), "{text}");
    // And the address: the diff shows it, the password still masked.
    std::fs::write(
        &export,
        "[Network]\nip=192.168.1.65\n[Time]\nuptime=3000\n[Users]\nadmin.password=New-S3cret\n",
    )
    .unwrap();
    let out = ws.cmd().args(["devices", "check"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CHANGED (+1 −1 lines)") && text.contains("+ip=192.168.1.65"),
        "{text}"
    );
    assert!(!text.contains("New-S3cret"), "{text}");
    // The channel reads French: the alert says so in French, with the diff, masked.
    let mails: Vec<String> = smtp
        .read()
        .iter()
        .map(|m| m.replace("=\n", "").replace("\n ", " "))
        .filter(|m| m.contains("change:camera/config"))
        .collect();
    let last = mails
        .iter()
        .find(|m| m.contains("192.168.1.65"))
        .unwrap_or_else(|| panic!("the address change mailed: {mails:#?}"));
    assert!(last.contains("AVERTISSEMENT"), "{last}");
    assert!(!last.contains("New-S3cret"), "{last}");
    // A wrong password is said as such.
    ws.cmd()
        .args(["secret", "set", "camera-pass"])
        .write_stdin("wrong")
        .assert()
        .success();
    ws.cmd()
        .args(["devices", "check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "refused the credentials of `admin`",
        ));
    // A login page is no configuration.
    ws.write_config(&config.replace("/cgi-bin/config.cgi?action=export", "/login.html"));
    ws.cmd()
        .args(["devices", "check"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("web page, not a configuration"));
}

#[test]
fn a_file_fetched_over_sftp_is_a_device_configuration_too() {
    let ws = TestWorkspace::init();
    let server = SshServer::start();
    let remote = tempfile::tempdir().unwrap();
    std::fs::write(
        remote.path().join("nvr.xml"),
        "<config><channel>8</channel></config>\n",
    )
    .unwrap();
    let key = ws.path().join(".reprise/keys/nvr.key");
    std::fs::copy(&server.key, &key).unwrap();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "nvr",
            &format!(
                "[[asset.dataset]]\nname = \"config\"\ncollect = {{ model = \"sftp\", address = \"127.0.0.1\", port = {}, user = \"{}\", ssh_key = \"{}\", path = \"{}\", host_key = \"accept-new\" }}",
                server.port,
                server.user,
                key.display(),
                remote.path().join("nvr.xml").display()
            )
        )
    ));
    ws.cmd().args(["backup", "nvr"]).assert().success();
    let dumped = restic(&ws, &["dump", "latest", "/config.txt"]);
    assert_eq!(
        String::from_utf8_lossy(&dumped.stdout),
        "<config><channel>8</channel></config>\n"
    );
}

#[test]
fn device_mistakes_in_the_configuration_are_located() {
    let ws = TestWorkspace::init();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "sw1",
            "[[asset.dataset]]\nname = \"config\"\ncollect = { model = \"procurve\", address = \"10.0.0.2\", user = \"admin\", password = \"x\" }"
        )
    ));
    ws.cmd()
        .arg("check")
        .assert()
        .failure()
        .stderr(predicate::str::contains("unknown device model `procurve`"))
        .stderr(predicate::str::contains("never goes in reprise.toml"));
    // A model of one's own, with a broken expression, is located too.
    ws.write_config(&format!(
        "{BASE}\n[[device_model]]\nname = \"procurve\"\ntransport = \"ssh\"\ncommands = [\"show running-config\"]\nvolatile = [\"^Running (\"]\n{}",
        asset(
            "sw1",
            "[[asset.dataset]]\nname = \"config\"\ncollect = { model = \"procurve\", address = \"10.0.0.2\", user = \"admin\", ssh_key = \"k\" }"
        )
    ));
    ws.cmd().arg("check").assert().failure().stderr(
        predicate::str::contains("reprise.toml:")
            .and(predicate::str::contains("not a regular expression")),
    );
}

#[test]
fn the_server_watches_devices_and_the_api_lists_and_reads_them() {
    use std::time::{Duration, Instant};
    let ws = TestWorkspace::init();
    let device = tempfile::tempdir().unwrap();
    let export = device.path().join("camera.conf");
    std::fs::write(&export, "[Network]\nip=10.0.0.64\n").unwrap();
    let camera =
        reprise_oversight::camera::Camera::start(export.clone(), "admin", "cam-pass").unwrap();
    ws.cmd()
        .args(["secret", "set", "camera-pass"])
        .write_stdin("cam-pass")
        .assert()
        .success();
    ws.write_config(&format!(
        "{BASE}{}",
        asset(
            "camera",
            &format!(
                "[[asset.dataset]]\nname = \"config\"\ncollect = {{ model = \"http\", address = \"{}\", url = \"/cgi-bin/config.cgi\", user = \"admin\", password_secret = \"camera-pass\", watch = \"2s\" }}",
                camera.url()
            )
        )
    ));
    let token = crate::serve::account(&ws, "noc", "operator", "");
    let server = crate::serve::serve(&ws);
    let http = crate::serve::client();
    let devices = || -> serde_json::Value {
        http.get(format!("{}/api/v1/devices", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let wait = |what: &str, check: &dyn Fn(&serde_json::Value) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let d = devices();
            if check(&d) {
                return d;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {d}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    // Its watch is due at once: the server reads it and keeps the first restore point.
    let first = wait("the first read", &|d| !d[0]["snapshot"].is_null());
    let snapshot = first[0]["snapshot"].clone();
    // Reads go on; nothing changes, nothing new is stored.
    wait("more reads", &|d| d[0]["checks"].as_u64().unwrap_or(0) >= 3);
    assert_eq!(devices()[0]["snapshot"], snapshot);
    // The camera changes: the server backs it up by itself, the alert carries the diff.
    std::fs::write(&export, "[Network]\nip=10.0.0.65\n").unwrap();
    let changed = wait("the change", &|d| d[0]["snapshot"] != snapshot);
    assert!(
        changed[0]["change"]
            .as_str()
            .unwrap()
            .contains("+ip=10.0.0.65"),
        "{changed}"
    );
    // Supervision, on the next tick, raises the change's alert.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let alerts: serde_json::Value = http
            .get(format!("{}/api/v1/alerts", server.base))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let found = alerts.as_array().unwrap().iter().any(|a| {
            a["key"] == "change:camera/config"
                && a["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("+ip=10.0.0.65")
        });
        if found {
            break;
        }
        assert!(Instant::now() < deadline, "no change alert: {alerts}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let metrics = http
        .get(format!("{}/metrics", server.base))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let up = metrics
        .lines()
        .find(|l| l.starts_with("reprise_device_up{"))
        .unwrap_or_else(|| panic!("no reprise_device_up in\n{metrics}"));
    for label in [
        "asset=\"camera\"",
        "dataset=\"config\"",
        "model=\"http\"",
        "site=\"",
    ] {
        assert!(up.contains(label), "{label} in {up}");
    }
    assert!(up.ends_with("} 1"), "{up}");
    assert!(metrics.contains("reprise_device_last_change_timestamp_seconds{asset=\"camera\""));
    // Read on request through the API.
    let (status, outcomes) = crate::serve::post(
        &http,
        &server,
        &token,
        "devices/checks",
        serde_json::json!({ "assets": ["camera"] }),
    );
    assert!(status == 200 || status == 409, "{status} {outcomes}");
    if status == 200 {
        assert_eq!(outcomes[0]["result"], "unchanged", "{outcomes}");
    }
    let (status, body) = crate::serve::post(
        &http,
        &server,
        &token,
        "devices/checks",
        serde_json::json!({ "assets": ["nope"] }),
    );
    assert_eq!(status, 404, "{body}");
}
