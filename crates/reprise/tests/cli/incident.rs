//! Incidents end to end on the demo workspace (seed 004 after the power failure): open,
//! assess, approve the plan, run it with real restores, check, update, sign the
//! return-to-service report in English and French, review and close.

use predicates::prelude::*;

use crate::support::TestWorkspace;

fn run(ws: &TestWorkspace, args: &[&str]) -> String {
    let out = ws
        .cmd()
        .env("REPRISE_USER", "Mohamed")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The report's text with its times blanked, to compare runs.
fn redact(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut l = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            // 2026-11-23 20:27 → YYYY-MM-DD HH:MM
            let window: String = chars[i..chars.len().min(i + 16)].iter().collect();
            if window.len() == 16
                && window.as_bytes()[4] == b'-'
                && window.as_bytes()[10] == b' '
                && window.as_bytes()[13] == b':'
                && window[..4].chars().all(|c| c.is_ascii_digit())
            {
                l.push_str("YYYY-MM-DD HH:MM");
                i += 16;
            } else {
                l.push(chars[i]);
                i += 1;
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

#[test]
fn an_incident_runs_from_assessment_to_the_signed_report_and_the_review() {
    let ws = TestWorkspace::demo();
    let opened = ws.json(&[
        "incident",
        "open",
        "Power failure of 22/09",
        "--severity",
        "SEV1",
        "--source",
        "Zabbix silent",
        "--nature",
        "power cut",
        "--personal-data",
        "--json",
    ]);
    assert_eq!(opened["id"], 1);
    assert_eq!(opened["phase"], "assessment");
    assert!(opened["gdpr_deadline"].is_string());
    let assessment = &opened["assessment"]["assets"];
    assert_eq!(assessment.as_array().unwrap().len(), 6);
    let router = &assessment[0];
    assert_eq!(router["asset"], "router-vyos");
    assert!(
        router["degraded_dependents"]
            .as_array()
            .unwrap()
            .contains(&"iredmail".into())
    );
    assert!(router["data_at_risk_seconds"].as_i64().unwrap() >= 0);
    run(&ws, &["incident", "assign", "1", "communications", "Mina"]);
    run(&ws, &["incident", "assess", "1", "--share"]);

    let plan = ws.json(&["incident", "plan", "1", "--approve", "--json"]);
    let order: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["asset"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        [
            "router-vyos",
            "iredmail",
            "openvpn",
            "zabbix",
            "gui-storage",
            "windows-core"
        ]
    );
    // Nothing starts before what it depends on.
    ws.cmd()
        .args(["incident", "step", "1", "iredmail", "start"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`iredmail` depends on router-vyos, whose step is not done yet",
        ));
    // Starting the router's step restores its configuration, verified, byte for byte.
    let started = run(&ws, &["incident", "step", "1", "router-vyos", "start"]);
    assert!(started.contains("verified before writing"), "{started}");
    let restored = ws
        .path()
        .join(".reprise/recovery/incident-1/router-vyos/config/config.boot");
    assert_eq!(
        std::fs::read(&restored).unwrap(),
        std::fs::read(ws.path().join("data/router-vyos/config.boot")).unwrap()
    );
    run(
        &ws,
        &[
            "incident",
            "check",
            "1",
            "router-vyos",
            "connectivity",
            "pass",
        ],
    );
    ws.cmd()
        .args([
            "incident",
            "check",
            "1",
            "router-vyos",
            "configuration",
            "reserved",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a reservation needs a deadline"));
    run(
        &ws,
        &[
            "incident",
            "check",
            "1",
            "router-vyos",
            "configuration",
            "reserved",
            "--note",
            "NAT rules to review",
            "--deadline",
            "2026-12-01",
        ],
    );
    run(&ws, &["incident", "step", "1", "router-vyos", "done"]);
    let update = run(&ws, &["incident", "update", "1", "--lang", "fr", "--send"]);
    assert!(update.contains("Rétablis : Routeur Vyos."), "{update}");
    // A step is not done while nobody recorded its checks, unless forced with a reason.
    run(&ws, &["incident", "step", "1", "iredmail", "start"]);
    ws.cmd()
        .args(["incident", "step", "1", "iredmail", "done"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has checks nobody recorded"));
    ws.cmd()
        .args(["incident", "step", "1", "iredmail", "done", "--force"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("with --reason"));
    for asset in ["iredmail", "openvpn", "zabbix", "gui-storage"] {
        if asset != "iredmail" {
            run(&ws, &["incident", "step", "1", asset, "start"]);
        }
        run(
            &ws,
            &[
                "incident",
                "step",
                "1",
                asset,
                "done",
                "--force",
                "--reason",
                "checked by phone with the site",
            ],
        );
    }
    ws.cmd()
        .args(["incident", "pv", "1", "--sign", "Joris"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("still open: windows-core"));
    run(
        &ws,
        &[
            "incident",
            "step",
            "1",
            "windows-core",
            "skip",
            "--reason",
            "server replaced, reinstall planned",
        ],
    );

    // The report, signed: the hash covers exactly the text written out.
    let pv_en = ws.path().join("pv-en.txt");
    let html = ws.path().join("pv-en.html");
    let signed = run(
        &ws,
        &[
            "incident",
            "pv",
            "1",
            "--sign",
            "Joris",
            "--out",
            pv_en.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&pv_en).unwrap();
    let hash = signed
        .split("SHA-256 ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let sha = std::process::Command::new("sha256sum")
        .arg(&pv_en)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&sha.stdout).starts_with(hash));
    insta_like(
        &redact(&text),
        &[
            "RETURN-TO-SERVICE REPORT — incident 1",
            "- Routeur Vyos (router-vyos): done — from YYYY-MM-DD HH:MM → YYYY-MM-DD HH:MM",
            "    [pass] network connectivity tested",
            "    [reserved] configuration matches the documented one — NAT rules to review",
            "- Serveur Iredmail (iredmail): done",
            "    declared done without all its checks: checked by phone with the site",
            "    [NOT CHECKED]",
            "SKIPPED",
            "- Windows Server Core (windows-core): skipped — from — → YYYY-MM-DD HH:MM",
            "    note: server replaced, reinstall planned",
            "RESERVATIONS",
            "- Routeur Vyos / configuration matches the documented one: by 2026-12-01 — NAT rules to review",
            "- Serveur Iredmail: done without all its checks: checked by phone with the site",
            "- Serveur Iredmail / ",
            ": not checked",
            "Signed by the technician: Joris",
        ],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(
        page.contains(hash) && !page.contains("http"),
        "self-contained"
    );

    // The same report in French.
    let pv_fr = ws.path().join("pv-fr.txt");
    run(
        &ws,
        &[
            "incident",
            "pv",
            "1",
            "--lang",
            "fr",
            "--out",
            pv_fr.to_str().unwrap(),
        ],
    );
    insta_like(
        &redact(&std::fs::read_to_string(&pv_fr).unwrap()),
        &[
            "PROCÈS-VERBAL DE REMISE EN SERVICE — incident 1",
            "    [conforme] connectivité réseau testée",
            "    [réserve] configuration conforme à la documentation — NAT rules to review",
            "RÉSERVES",
            "Signé par le technicien : Joris",
        ],
    );

    // The signed report as a document: the provider's letterhead and logo, the client and
    // sites, tables, check marks, both signature blocks, the hash and how to check it;
    // every font embedded.
    let config = ws.config();
    std::fs::create_dir_all(ws.path().join("branding")).unwrap();
    std::fs::write(
        ws.path().join("branding/logo.svg"),
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#1d4ed8"/></svg>"##,
    )
    .unwrap();
    ws.write_config(&format!(
        "{config}\n[report]\nprovider = \"Infogérance des Alpes\"\naddress = \"12 rue du Lac, 74000 Annecy\"\nlogo = \"branding/logo.svg\"\n"
    ));
    for (lang, words) in [
        (
            "en",
            &[
                "RETURN-TO-SERVICE REPORT",
                "Infogérance des Alpes",
                "12 rue du Lac, 74000 Annecy",
                "Scope restored",
                "Routeur Vyos",
                "✓ pass",
                "⚠ reserved",
                "NAT rules to review",
                "The technician",
                "The client",
                "Joris",
            ][..],
        ),
        (
            "fr",
            &[
                "PROCÈS-VERBAL DE REMISE EN SERVICE",
                "Périmètre rétabli",
                "✓ conforme",
                "Le technicien",
                "Le client",
                "Réserves",
            ][..],
        ),
    ] {
        let pdf = ws.path().join(format!("pv-{lang}.pdf"));
        run(
            &ws,
            &[
                "incident",
                "pv",
                "1",
                "--lang",
                lang,
                "--pdf",
                pdf.to_str().unwrap(),
            ],
        );
        let text = std::process::Command::new("pdftotext")
            .args(["-layout"])
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        for w in words {
            assert!(text.contains(w), "{w} not in the {lang} PDF:\n{text}");
        }
        assert!(text.contains(hash), "the hash is in the PDF:\n{text}");
        let fonts = std::process::Command::new("pdffonts")
            .arg(&pdf)
            .output()
            .unwrap();
        let fonts = String::from_utf8(fonts.stdout).unwrap();
        let listed: Vec<&str> = fonts.lines().skip(2).collect();
        assert!(!listed.is_empty(), "{fonts}");
        for line in listed {
            // name type encoding emb sub uni object ID
            assert!(line.contains(" yes "), "a font not embedded: {line}");
        }
    }
    ws.write_config(&config);

    // Review and close; the action lands in the risk register.
    ws.cmd()
        .args(["incident", "phase", "1", "closed"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot close before its review"));
    let review = run(
        &ws,
        &[
            "incident",
            "review",
            "1",
            "--root-cause",
            "power cut without a UPS",
            "--action",
            "Install a UPS in the rack|Mohamed|2026-12-15",
            "--close",
        ],
    );
    assert!(review.contains("✓ router-vyos:"), "{review}");
    assert!(review.contains("Phase: closed"));
    let shown = ws.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["phase"], "closed");
    let evolution: Vec<(String, String)> = shown["evolution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["asset"].as_str().unwrap().to_string(),
                c["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(evolution.contains(&("router-vyos".into(), "failed".into())));
    assert!(evolution.contains(&("router-vyos".into(), "working".into())));
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "opened",
        "phase",
        "assessment",
        "plan",
        "step",
        "check",
        "update",
        "sign-off",
        "review",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let risks = ws.json(&["incident", "risks", "--json"]);
    assert_eq!(risks[0]["action"], "Install a UPS in the rack");
    assert!(risks[0]["done"].is_null());
    // The register outlives the incident: its actions are closed later.
    run(&ws, &["incident", "review", "1", "--done", "1"]);
    assert!(ws.json(&["incident", "risks", "--json"])[0]["done"].is_string());
    assert!(
        ws.json(&["incident", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// Each expected line is in the text, in this order.
fn insta_like(text: &str, lines: &[&str]) {
    let mut rest = text;
    for line in lines {
        match rest.find(line) {
            Some(at) => rest = &rest[at + line.len()..],
            None => panic!("missing or out of order: {line:?}\n---\n{text}"),
        }
    }
}

#[test]
fn late_updates_assessments_and_the_gdpr_deadline_are_reminded() {
    let ws = TestWorkspace::demo();
    // Detected 60 hours ago, with personal data: the GDPR deadline is 12 hours away, the
    // hourly SEV1 update is late, and so is the 2-hour assessment.
    let detected = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(60)).to_string();
    run(
        &ws,
        &[
            "incident",
            "open",
            "Visitor records encrypted",
            "--severity",
            "SEV1",
            "--asset",
            "gui-storage",
            "--personal-data",
            "--detected",
            &detected,
        ],
    );
    run(&ws, &["incident", "assign", "1", "communications", "Mina"]);
    // The assessment is corrected: the storage is partly working.
    run(
        &ws,
        &[
            "incident",
            "assess",
            "1",
            "--asset",
            "gui-storage",
            "--state",
            "partial",
            "--nature",
            "encrypted shares",
        ],
    );
    let shown = ws.json(&["incident", "show", "1", "--json"]);
    assert_eq!(shown["assessment"]["assets"][0]["state"], "partial");
    assert_eq!(shown["affected"][0]["state"], "partial");
    assert_eq!(
        shown["evolution"].as_array().unwrap().last().unwrap()["state"],
        "partial"
    );
    let alerts = ws.json(&["alerts", "--json"]);
    let find = |key: &str| {
        alerts
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .unwrap_or_else(|| panic!("no {key} in {alerts:#}"))
            .clone()
    };
    let update = find("incident:1:update");
    assert!(
        update["message"]
            .as_str()
            .unwrap()
            .contains("Mina: `reprise incident update 1` drafts it")
    );
    assert_eq!(find("incident:1:gdpr")["severity"], "critical");
    find("incident:1:assessment");
    // Sending the update and sharing the assessment clear those two reminders.
    run(&ws, &["incident", "update", "1", "--send"]);
    run(&ws, &["incident", "assess", "1", "--share"]);
    let open: Vec<String> = ws
        .json(&["alerts", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["key"].as_str().unwrap().to_string())
        .collect();
    assert!(!open.contains(&"incident:1:update".to_string()), "{open:?}");
    assert!(
        !open.contains(&"incident:1:assessment".to_string()),
        "{open:?}"
    );
    assert!(open.contains(&"incident:1:gdpr".to_string()));
    // The shared-late assessment stays visible as late.
    ws.cmd()
        .args(["incident", "show", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("LATE"));
}

#[test]
fn a_failed_restore_step_is_started_again_and_the_report_says_why_without_paths() {
    let ws = TestWorkspace::demo();
    run(
        &ws,
        &["incident", "open", "Router down", "--asset", "router-vyos"],
    );
    run(&ws, &["incident", "plan", "1", "--approve"]);
    // What a first attempt left behind, where the step restores.
    let area = ws
        .path()
        .join(".reprise/recovery/incident-1/router-vyos/config");
    std::fs::create_dir_all(&area).unwrap();
    std::fs::write(area.join("config.boot"), "half written\n").unwrap();
    ws.cmd()
        .args(["incident", "step", "1", "router-vyos", "start"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("router-vyos: failed"))
        .stderr(predicate::str::contains(
            "config: the target already holds files: start the step again with --overwrite",
        ));
    for (lang, words) in [
        ("en", "failed: config: the target already holds files"),
        ("fr", "échec : config : la cible contient déjà des fichiers"),
    ] {
        let pv = run(&ws, &["incident", "pv", "1", "--lang", lang]);
        assert!(pv.contains(words), "{pv}");
        assert!(
            !pv.contains(".reprise"),
            "an internal path in the report:\n{pv}"
        );
    }
    // Started again, the failed attempt in Reprise's own area is replaced.
    run(&ws, &["incident", "step", "1", "router-vyos", "start"]);
    assert_eq!(
        std::fs::read(area.join("config.boot")).unwrap(),
        std::fs::read(ws.path().join("data/router-vyos/config.boot")).unwrap()
    );
    let shown = ws.json(&["incident", "show", "1", "--json"]);
    let step = &shown["plan"]["steps"][0];
    assert_eq!(step["status"], "running", "{step:#}");
    assert!(step["failure"].is_null(), "{step:#}");
}

#[test]
fn the_update_cadence_is_set_per_severity_and_a_wrong_one_is_located() {
    let ws = TestWorkspace::demo();
    // Seed 004 wants every 4 hours for its major incident; this team says 30 minutes.
    ws.write_config(&format!(
        "{}\n[recovery]\nupdate_every = {{ SEV2 = \"30m\", SEV3 = \"never\" }}\n",
        ws.config()
    ));
    let opened = ws.json(&[
        "incident",
        "open",
        "Mail down",
        "--severity",
        "SEV2",
        "--asset",
        "iredmail",
        "--json",
    ]);
    let at = |v: &serde_json::Value| v.as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let due = at(&opened["next_update_due"]).duration_since(at(&opened["opened"]));
    assert_eq!(due.as_secs(), 30 * 60, "{opened:#}");
    let minor = ws.json(&[
        "incident",
        "open",
        "A camera flickers",
        "--severity",
        "SEV3",
        "--asset",
        "cam-entree",
        "--json",
    ]);
    assert!(minor["next_update_due"].is_null(), "{minor:#}");

    // A severity that does not exist, or a cadence that is not one, is named where it is.
    let config = format!(
        "{}\n[recovery]\nupdate_every = {{ SEV1 = \"soon\", SEV5 = \"1h\" }}\n",
        ws.config().split("\n[recovery]").next().unwrap()
    );
    ws.write_config(&config);
    let line = crate::support::line_of(&config, "update_every");
    let out = ws.cmd().arg("check").assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(&format!("reprise.toml:{line}:"))
            && stderr.contains("SEV1")
            && stderr.contains("or `never`"),
        "{stderr}"
    );
    assert!(stderr.contains("unknown field `SEV5`"), "{stderr}");
}
