//! `reprise check` on invalid configurations: every message names the file, the line and
//! column, the asset and the field.

use predicates::prelude::*;

use crate::support::{BASE, TestWorkspace, asset, line_of};

/// Writes `config`, runs `check`, asserts exit code 2 and returns standard error.
fn check_fails(ws: &TestWorkspace, config: &str) -> String {
    ws.write_config(config);
    let out = ws.cmd().arg("check").assert().code(2);
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

fn location(ws: &TestWorkspace, line: usize) -> String {
    format!(
        "{}:{line}:",
        ws.config_path().canonicalize().unwrap().display()
    )
}

#[test]
fn an_unknown_dependency_is_located() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}{}",
        asset("router", ""),
        asset("mail", "depends_on = [\"router\", \"ghost\"]")
    );
    let stderr = check_fails(&ws, &config);
    let line = line_of(&config, "\"ghost\"");
    let expected = format!(
        "{}{}: error: asset `mail`, field `depends_on`: unknown asset `ghost`",
        location(&ws, line),
        // `ghost` starts after `depends_on = ["router", `.
        "depends_on = [\"router\", ".chars().count() + 1
    );
    assert!(stderr.contains(&expected), "{stderr}\nexpected: {expected}");
    assert!(stderr.contains("invalid (1 error, 0 warnings)"), "{stderr}");
}

#[test]
fn a_cycle_names_every_asset_on_it() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}{}{}",
        asset("router", "depends_on = [\"switch\"]"),
        asset("switch", "depends_on = [\"vpn\"]"),
        asset("vpn", "depends_on = [\"router\"]")
    );
    let stderr = check_fails(&ws, &config);
    let line = line_of(&config, "depends_on = [\"switch\"]");
    assert!(
        stderr.contains(&location(&ws, line)),
        "{stderr} (line {line})"
    );
    assert!(
        stderr.contains(
            "asset `router`, field `depends_on`: dependency cycle: router → switch → vpn → router"
        ),
        "{stderr}"
    );
}

#[test]
fn a_duplicate_id_is_reported_at_its_second_declaration() {
    let ws = TestWorkspace::init();
    let config = format!("{BASE}{}{}", asset("router", ""), asset("router", ""));
    let stderr = check_fails(&ws, &config);
    let second = config.rfind("id = \"router\"").unwrap();
    let line = config[..second].lines().count() + 1;
    assert!(
        stderr.contains(&format!(
            "{}6: error: asset `router`, field `id`: asset `router` is declared twice",
            location(&ws, line)
        )),
        "{stderr}"
    );
}

#[test]
fn a_bad_duration_says_how_to_write_one() {
    let ws = TestWorkspace::init();
    let config = format!("{BASE}{}", asset("mail", "rto = \"4 hours\""));
    let stderr = check_fails(&ws, &config);
    let line = line_of(&config, "4 hours");
    assert!(stderr.contains(&location(&ws, line)), "{stderr}");
    assert!(
        stderr.contains("asset `mail`, field `rto`: `4 hours` is not a duration"),
        "{stderr}"
    );
    assert!(stderr.contains("`15m`, `4h`, `14d`"), "{stderr}");
}

#[test]
fn an_rpo_the_schedule_can_never_meet_is_refused() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}",
        asset(
            "mail",
            "rpo = \"4h\"\n\n[[asset.dataset]]\nname = \"mailboxes\"\npaths = [\"data\"]"
        )
    );
    let stderr = check_fails(&ws, &config);
    let line = line_of(&config, "rpo = \"4h\"");
    assert!(
        stderr.contains(&format!(
            "{}7: error: asset `mail`, field `rpo`: RPO 4h can never be met: policy `daily` runs `daily at 02:00`, up to 24h apart",
            location(&ws, line)
        )),
        "{stderr}"
    );
    // With a schedule that can meet it, the same RPO is fine.
    let fixed = config.replace("daily at 02:00", "every 4h");
    ws.write_config(&fixed);
    ws.cmd().arg("check").assert().success();
}

#[test]
fn an_unknown_key_is_never_silently_ignored() {
    let ws = TestWorkspace::init();
    let config = format!("{BASE}{}", asset("mail", "dependson = [\"router\"]"));
    let stderr = check_fails(&ws, &config);
    let line = line_of(&config, "dependson");
    assert!(
        stderr.contains(&format!(
            "{}1: error: asset `mail`: unknown field `dependson` (did you mean `depends_on`?)",
            location(&ws, line)
        )),
        "{stderr}"
    );
    let config = format!("{BASE}[colour]\nname = \"red\"\n");
    let stderr = check_fails(&ws, &config);
    assert!(
        stderr.contains(
            "unknown field `colour` (known fields: workspace, site, repository, policy, asset, notify, server, supervision, recovery, priority, contact, category, export, device_model, host, report)"
        ),
        "{stderr}"
    );
}

#[test]
fn bad_words_list_the_accepted_ones_in_one_pass() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}",
        asset("cam", "state = \"broken\"\nzone = \"red\"").replace("major", "urgent")
    );
    let stderr = check_fails(&ws, &config);
    assert!(stderr.contains("field `criticality`: unknown criticality `urgent` (expected one of: critical, major, minor)"), "{stderr}");
    assert!(
        stderr.contains(
            "field `state`: unknown state `broken` (expected one of: working, partial, failed)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("field `zone`: unknown zone risk `red`"),
        "{stderr}"
    );
    assert!(stderr.contains("invalid (3 errors"), "{stderr}");
}

#[test]
fn invalid_toml_is_located() {
    let ws = TestWorkspace::init();
    let config = format!("{BASE}\n[[asset]]\nid = \"mail\nname = \"x\"\n");
    let stderr = check_fails(&ws, &config);
    let line = line_of(&config, "id = \"mail");
    assert!(stderr.contains(&location(&ws, line)), "{stderr}");
    assert!(stderr.contains("invalid TOML"), "{stderr}");
}

#[test]
fn french_words_are_understood_in_the_configuration() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}",
        asset("mail", "state = \"Défaillant\"").replace("major", "Majeur")
    );
    ws.write_config(&config);
    ws.cmd().arg("check").assert().success();
    let shown = ws.json(&["inventory", "show", "mail", "--json"]);
    assert_eq!(shown["criticality"], "major");
    assert_eq!(shown["state"], "failed");
}

#[test]
fn check_json_gives_every_diagnostic_with_its_position() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}{}",
        asset("a", "depends_on = [\"b\"]"),
        asset("b", "depends_on = [\"a\", \"ghost\"]")
    );
    ws.write_config(&config);
    let out = ws.cmd().args(["check", "--json"]).assert().code(2);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 2);
    let diags = report["diagnostics"].as_array().unwrap();
    assert_eq!(diags[0]["subject"], "asset `a`");
    assert_eq!(diags[0]["field"], "depends_on");
    assert_eq!(diags[0]["line"], line_of(&config, "depends_on = [\"b\"]"));
    assert_eq!(diags[1]["message"], "unknown asset `ghost`");
}

#[test]
fn missing_paths_and_an_exposed_key_are_warnings_not_errors() {
    let ws = TestWorkspace::init();
    let config = format!(
        "{BASE}{}",
        asset(
            "mail",
            "\n[[asset.dataset]]\nname = \"mailboxes\"\npaths = [\"data/vmail\"]"
        )
    );
    ws.write_config(&config);
    use std::os::unix::fs::PermissionsExt;
    let key = ws.path().join(".reprise/keys/local.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    ws.cmd()
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains("valid").and(predicate::str::contains("2 warnings")))
        .stderr(predicate::str::contains("data/vmail does not exist"))
        .stderr(predicate::str::contains("can be read by other users"));
    std::fs::remove_file(&key).unwrap();
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the key file"))
        .stderr(predicate::str::contains("does not exist"));
}

#[test]
fn other_commands_refuse_an_invalid_configuration_with_the_same_messages() {
    let ws = TestWorkspace::init();
    let config = format!("{BASE}{}", asset("mail", "depends_on = [\"ghost\"]"));
    ws.write_config(&config);
    ws.cmd()
        .args(["inventory", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "asset `mail`, field `depends_on`: unknown asset `ghost`",
        ));
}
