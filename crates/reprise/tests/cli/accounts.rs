//! Accounts and tokens from the command line: bad input named, passwords only through
//! standard input, tokens listed without their secret and revoked by label.

use predicates::prelude::*;

use crate::support::TestWorkspace;

#[test]
fn accounts_and_tokens_are_managed_from_the_command_line() {
    let ws = TestWorkspace::init();
    ws.cmd()
        .args(["user", "add", "paul", "--role", "superuser"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown role `superuser` (admin, operator, auditor, viewer)",
        ));
    ws.cmd()
        .args([
            "user",
            "add",
            "paul",
            "--role",
            "viewer",
            "--scope",
            "building:3",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("site:ID or tenant:NAME"));
    ws.cmd()
        .args([
            "user",
            "add",
            "paul",
            "--role",
            "operator",
            "--password-stdin",
        ])
        .write_stdin("short\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("at least 12 characters"));
    ws.cmd()
        .args([
            "user",
            "add",
            "paul",
            "--role",
            "operator",
            "--scope",
            "site:main",
            "--password-stdin",
        ])
        .write_stdin("a long enough passphrase\n")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Account `paul` created: operator, limited to site:main, with a password.",
        ));
    // A token has a name one can revoke it by.
    ws.cmd()
        .args(["token", "create", "", "--user", "paul"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a token name"));
    // A token never has more than its account.
    ws.cmd()
        .args(["token", "create", "ci", "--user", "paul", "--role", "admin"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot have the role admin"));
    ws.cmd()
        .args([
            "token",
            "create",
            "ci",
            "--user",
            "paul",
            "--scope",
            "site:other",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("beyond the account's scope"));
    let out = ws
        .cmd()
        .args([
            "token",
            "create",
            "ci",
            "--user",
            "paul",
            "--role",
            "viewer",
            "--expires",
            "30d",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let token = text
        .lines()
        .find(|l| l.starts_with("rp_"))
        .unwrap()
        .to_string();
    let listed = ws.cmd().args(["token", "list"]).output().unwrap().stdout;
    let listed = String::from_utf8_lossy(&listed);
    assert!(listed.contains("ci"), "{listed}");
    assert!(
        !listed.contains(&token[3..]),
        "a token must never be shown again"
    );
    ws.cmd()
        .args(["token", "revoke", "ci", "--user", "paul"])
        .assert()
        .success();
    ws.cmd()
        .args(["token", "revoke", "ci", "--user", "paul"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no live token `ci`"));
    ws.cmd()
        .args(["user", "set", "paul", "--disable"])
        .assert()
        .success();
    ws.cmd()
        .args(["user", "list"])
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"admin\s+admin\s+everything").unwrap())
        .stdout(predicate::str::is_match(r"paul\s+operator\s+site:main\s+set\s+disabled").unwrap());
    // What changed is journaled, with who.
    ws.cmd()
        .args(["journal", "list", "--limit", "100"])
        .env("REPRISE_USER", "mohamed")
        .assert()
        .success()
        .stdout(predicate::str::contains("token.revoked"))
        .stdout(predicate::str::contains("account.changed"));
}
