//! The offline runbook: one self-contained file, no secret, and restic commands that
//! really restore an asset without Reprise.

use crate::support::TestWorkspace;

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

#[test]
fn the_runbook_carries_everything_but_secrets_and_its_restic_commands_work() {
    let ws = TestWorkspace::demo();
    let out = ws.path().join("runbook.html");
    ws.cmd()
        .args(["runbook", "export", "--lang", "fr", "--out"])
        .arg(&out)
        .assert()
        .success();
    let html = std::fs::read_to_string(&out).unwrap();
    // Self-contained: no link, script or stylesheet from elsewhere (a camera's address is
    // text the technician reads, never something the page loads).
    for outside in ["href=\"http", "src=\"http", "url(http", "<link", "<script"] {
        assert!(!html.contains(outside), "{outside}");
    }
    // The camera's configuration: how to load it back, in French.
    assert!(html.contains("Recharger la configuration sur l'équipement"));
    // Contacts and roles of seed 004, the recovery order, procedures and checklists.
    for expected in [
        "Contacts et rôles",
        "Mina et Julie",
        "Ordre de reprise (perte totale)",
        "Redémarrer et vérifier la configuration",
        "connectivité réseau testée",
        // Each asset's current state and since when.
        "État (depuis)",
        "Défaillant (",
    ] {
        assert!(html.contains(expected), "{expected}");
    }
    // Never the key itself, only where it is.
    let key = std::fs::read_to_string(ws.path().join(".reprise/keys/local.key")).unwrap();
    assert!(!html.contains(key.trim()));
    assert!(html.contains(".reprise/keys/local.key"));

    // The break-glass path: the commands of iredmail's mailboxes, run as written with a
    // target of our own, restore the mailboxes with stock restic.
    let section = html.split("id=\"iredmail\"").nth(1).unwrap();
    let block = section
        .split("<pre>")
        .nth(1)
        .unwrap()
        .split("</pre>")
        .next()
        .unwrap();
    let commands = unescape(block);
    let first_copy = commands.split("\n# ").next().unwrap();
    let target = tempfile::tempdir().unwrap();
    let script = first_copy.replace(
        "--target /tmp/restore/iredmail/mailboxes",
        &format!("--target {}", target.path().display()),
    );
    let run = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "set -e\nexport RESTIC_CACHE_DIR={}/cache\n{script}",
            target.path().display()
        ))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let wanted = std::fs::read(
        ws.path()
            .join("data/iredmail/vmail/direction/cur/1727000000.M1.siege"),
    )
    .unwrap();
    let restored = crate::support::files_under(target.path())
        .into_iter()
        .any(|p| {
            p.ends_with("direction/cur/1727000000.M1.siege") && std::fs::read(&p).unwrap() == wanted
        });
    assert!(restored, "{script}");
}
