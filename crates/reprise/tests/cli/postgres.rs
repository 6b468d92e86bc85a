//! The same commands on a PostgreSQL catalog (a real server, started by the test setup).

use predicates::prelude::*;

use crate::support::TestWorkspace;

#[test]
fn the_catalog_can_live_in_postgresql() {
    let url = reprise_testkit::postgres_database_blocking();
    let ws = TestWorkspace::demo();
    let redacted = url.clone();
    ws.cmd()
        .env("REPRISE_CATALOG", &url)
        .arg("check")
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "catalog: {redacted} — reachable, 15 inventory changes recorded"
        )));

    // The catalog named in the configuration is used too, and holds the same history.
    let config = ws.config().replace(
        "[workspace]\n",
        &format!("[workspace]\ncatalog = \"{url}\"\n"),
    );
    ws.write_config(&config);
    let history = ws.json(&["inventory", "history", "--json"]);
    assert_eq!(history.as_array().unwrap().len(), 15);
    assert!(
        !ws.path().join(".reprise/catalog.db").exists() || {
            // The demo itself created the SQLite file before the switch; it must not have
            // received the history recorded since.
            let sqlite = ws
                .cmd()
                .args(["inventory", "history", "--json"])
                .env("REPRISE_CATALOG", ws.path().join(".reprise/catalog.db"))
                .output()
                .unwrap();
            let local: serde_json::Value = serde_json::from_slice(&sqlite.stdout).unwrap();
            local.as_array().unwrap().len() == 15
        }
    );
}

#[test]
fn an_unreachable_catalog_is_an_operation_failure_without_the_password() {
    let ws = TestWorkspace::init();
    ws.cmd()
        .env(
            "REPRISE_CATALOG",
            "postgres://reprise:hunter2@127.0.0.1:1/reprise",
        )
        .args(["inventory", "list"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "cannot open the catalog at postgres://reprise@127.0.0.1:1/reprise",
        ))
        .stderr(predicate::str::contains("hunter2").not());
}
