//! Immutable repositories: S3 Object Lock against moto's server, which enforces it.

use std::process::Command;

use predicates::prelude::*;
use reprise_testkit::moto::MotoServer;

use crate::support::{TestWorkspace, asset, line_of};

const KEY: &str = "vault-repository-key";

fn config(url: &str, extra: &str) -> String {
    format!(
        r#"[workspace]
name = "Test"
default_policy = "daily"

[[site]]
id = "hq"
name = "HQ"

[[repository]]
id = "vault"
url = "{url}"
password_file = ".reprise/keys/vault.key"
medium = "object-storage"
{extra}

[[policy]]
id = "daily"
schedule = "daily at 02:00"
repository = "vault"
keep_last = 1
{}"#,
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    )
}

fn with_s3(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    cmd.env("AWS_ACCESS_KEY_ID", reprise_testkit::s3::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", reprise_testkit::s3::SECRET_KEY)
}

fn restic(ws: &TestWorkspace, location: &str, args: &[&str]) -> std::process::Output {
    Command::new("restic")
        .arg("-r")
        .arg(location)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", reprise_testkit::s3::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", reprise_testkit::s3::SECRET_KEY)
        .env(
            "RESTIC_PASSWORD_FILE",
            ws.path().join(".reprise/keys/vault.key"),
        )
        .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
        .output()
        .expect("restic is installed")
}

#[test]
fn an_intruder_with_the_repositorys_credentials_cannot_destroy_an_immutable_repository() {
    let moto = MotoServer::start();
    moto.bucket("vault", true);
    moto.bucket("plain", false);
    let ws = TestWorkspace::init();
    std::fs::write(
        ws.path().join(".reprise/keys/vault.key"),
        format!("{KEY}\n"),
    )
    .unwrap();
    std::fs::write(ws.path().join("notes.txt"), "first notes\n").unwrap();

    // A bucket without Object Lock cannot hold an immutable repository.
    let plain = format!("s3:{}/plain/reprise", moto.endpoint);
    ws.write_config(&config(&plain, "immutable_for = \"7d\""));
    with_s3(ws.cmd().args(["repo", "init", "vault"]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the bucket has no Object Lock"));

    let location = format!("s3:{}/vault/reprise", moto.endpoint);
    ws.write_config(&config(&location, "immutable_for = \"7d\""));
    with_s3(ws.cmd().args(["repo", "init", "vault"]))
        .assert()
        .success();
    with_s3(ws.cmd().args(["backup", "ok"])).assert().success();
    std::fs::write(ws.path().join("notes.txt"), "second notes\n").unwrap();
    with_s3(ws.cmd().args(["backup", "ok"])).assert().success();

    // Every pack is locked for the period, in compliance mode; a delete of its version
    // with the repository's own credentials is refused by the storage.
    let locked = moto.python(
        "objs = s3.list_objects_v2(Bucket='vault', Prefix='reprise/')['Contents']\n\
         keys = [o['Key'] for o in objs]\n\
         pack = [k for k in keys if k.startswith('reprise/data/')][0]\n\
         head = s3.head_object(Bucket='vault', Key=pack)\n\
         days = (head['ObjectLockRetainUntilDate'] - datetime.datetime.now(datetime.timezone.utc)).days\n\
         print(head.get('ObjectLockMode'), days)\n\
         idx = [k for k in keys if k.startswith('reprise/index/')][0]\n\
         print('index', s3.head_object(Bucket='vault', Key=idx).get('ObjectLockMode'))\n\
         try:\n    s3.delete_object(Bucket='vault', Key=pack, VersionId=head['VersionId'])\n    print('DELETED')\n\
         except Exception as e:\n    print('refused', type(e).__name__, str(e))",
    );
    assert!(locked.contains("COMPLIANCE 6"), "{locked}");
    assert!(
        locked.contains("index None"),
        "index files are derived, unlocked: {locked}"
    );
    assert!(
        locked.contains("refused") && locked.contains("AccessDenied"),
        "{locked}"
    );
    assert!(!locked.contains("DELETED"), "{locked}");

    // Retention keeps what the lock holds, and says until when.
    let mut plan = ws.cmd();
    let out = with_s3(plan.args(["retention", "plan", "--json"]))
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let decisions = plan["plan"][0]["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2, "{plan}");
    let older = &decisions[1];
    assert_eq!(older["keep"], true, "{plan}");
    assert!(
        older["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("locked until"),
        "{plan}"
    );
    with_s3(ws.cmd().args(["retention", "apply"]))
        .assert()
        .success()
        .stdout(predicate::str::contains("locked until"))
        .stdout(predicate::str::contains("Nothing to remove."));

    // An erasure cannot take locked data out: it is refused, and stays pending.
    let mut erase = ws.cmd();
    let out = with_s3(erase.args([
        "erase",
        "plan",
        "ok",
        "notes.txt",
        "--reason",
        "test",
        "--json",
    ]))
    .output()
    .unwrap();
    let erasure: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = erasure["id"].as_i64().unwrap().to_string();
    with_s3(ws.cmd().args(["erase", "run", &id]))
        .assert()
        .failure()
        .stderr(predicate::str::contains("is immutable: 2 restore point(s)"))
        .stderr(predicate::str::contains("locked until"));
    with_s3(ws.cmd().args(["erase", "cancel", &id]))
        .assert()
        .success();

    // The locks are fresh: nothing to extend, nothing missing.
    let mut locks = ws.cmd();
    let out = with_s3(locks.args(["repo", "locks", "vault", "--json"]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let locks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(locks[0]["mode"], "compliance");
    assert!(
        locks[0]["report"]["objects"].as_u64().unwrap() >= 5,
        "{locks}"
    );
    assert_eq!(locks[0]["report"]["extended"], 0, "{locks}");
    assert_eq!(locks[0]["report"]["missing"], serde_json::json!([]));

    // The intruder deletes every object it can see and writes over a snapshot.
    moto.python(
        "objs = s3.list_objects_v2(Bucket='vault', Prefix='reprise/')['Contents']\n\
         snap = [o['Key'] for o in objs if o['Key'].startswith('reprise/snapshots/')][0]\n\
         for o in objs:\n    s3.delete_object(Bucket='vault', Key=o['Key'])\n\
         s3.put_object(Bucket='vault', Key=snap, Body=b'encrypted by the intruder')",
    );
    assert!(
        !restic(&ws, &location, &["snapshots"]).status.success(),
        "the repository looks destroyed"
    );
    with_s3(ws.cmd().args(["repo", "locks", "vault"]))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED"))
        .stdout(predicate::str::contains("reprise repo recover vault"));

    // Reprise brings back every original version; stock restic reads every byte again.
    with_s3(ws.cmd().args(["repo", "recover", "vault"]))
        .assert()
        .success()
        .stdout(predicate::str::contains("brought back"))
        .stdout(predicate::str::contains("config"));
    // Once is enough: what came back is the original now.
    with_s3(ws.cmd().args(["repo", "recover", "vault"]))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "nothing was deleted or written over",
        ));
    let check = restic(&ws, &location, &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "restic check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let target = ws.path().join("restored");
    let restore = restic(
        &ws,
        &location,
        &["restore", "latest", "--target", target.to_str().unwrap()],
    );
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let restored = crate::support::files_under(&target)
        .into_iter()
        .find(|p| p.ends_with("notes.txt"))
        .expect("notes.txt restored");
    assert_eq!(std::fs::read_to_string(restored).unwrap(), "second notes\n");
    ws.cmd()
        .args(["journal", "list", "--limit", "1000"])
        .assert()
        .success()
        .stdout(predicate::str::contains("repository.recovered"));

    // `reprise check` says what the lock costs.
    with_s3(ws.cmd().arg("check"))
        .assert()
        .success()
        .stderr(predicate::str::contains("immutable for 7d (compliance)"))
        .stderr(predicate::str::contains("up to 14 days longer"));
}

#[test]
fn only_s3_and_local_repositories_can_be_immutable_and_the_period_is_checked() {
    let ws = TestWorkspace::init();
    let text = config("s3:http://127.0.0.1:1/vault", "immutable_for = \"1d\"");
    ws.write_config(&text);
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "reprise.toml:{}",
            line_of(&text, "immutable_for")
        )))
        .stderr(predicate::str::contains("at least `2d`"));
    let text = config(
        "s3:http://127.0.0.1:1/vault",
        "immutable_for = \"30d\"\nlock_mode = \"strict\"",
    );
    ws.write_config(&text);
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown lock mode `strict`"));
    let sftp = config(
        "sftp:backup@nas.example.org:/srv/restic",
        "immutable_for = \"30d\"",
    );
    ws.write_config(&sftp);
    ws.cmd()
        .arg("check")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "reprise.toml:{}",
            line_of(&sftp, "immutable_for")
        )))
        .stderr(predicate::str::contains("only an S3 repository"));
}

#[test]
fn a_local_immutable_repository_keeps_points_and_packs_for_its_period() {
    let ws = TestWorkspace::init();
    std::fs::write(ws.path().join("notes.txt"), "first notes\n").unwrap();
    let config = format!(
        "{}{}",
        crate::support::BASE
            .replace(
                "password_file = \".reprise/keys/local.key\"",
                "password_file = \".reprise/keys/local.key\"\nimmutable_for = \"2d\"",
            )
            .replace(
                "repository = \"local\"\n",
                "repository = \"local\"\nkeep_last = 1\n"
            ),
        asset(
            "ok",
            "\n[[asset.dataset]]\nname = \"files\"\npaths = [\"notes.txt\"]"
        )
    );
    ws.write_config(&config);
    ws.cmd().args(["backup", "ok"]).assert().success();
    std::fs::write(ws.path().join("notes.txt"), "second notes\n").unwrap();
    ws.cmd().args(["backup", "ok"]).assert().success();
    ws.cmd()
        .args(["retention", "apply"])
        .assert()
        .success()
        .stdout(predicate::str::contains("locked until"))
        .stdout(predicate::str::contains("Nothing to remove."));
    assert_eq!(
        ws.json(&["snapshots", "ok", "--json"])
            .as_array()
            .unwrap()
            .len(),
        2
    );
    ws.cmd()
        .args(["repo", "locks", "local"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no lock to extend"));
    ws.cmd()
        .arg("check")
        .assert()
        .success()
        .stderr(predicate::str::contains("writers only append"));
}

#[test]
fn a_prune_leaves_locked_packs_and_frees_what_lapsed_by_version() {
    let moto = MotoServer::start();
    moto.bucket("vault", true);
    let ws = TestWorkspace::init();
    std::fs::write(
        ws.path().join(".reprise/keys/vault.key"),
        format!("{KEY}\n"),
    )
    .unwrap();
    std::fs::write(ws.path().join("notes.txt"), "first notes\n").unwrap();
    let location = format!("s3:{}/vault/reprise", moto.endpoint);
    ws.write_config(&config(
        &location,
        "immutable_for = \"2d\"\nlock_mode = \"governance\"",
    ));
    with_s3(ws.cmd().args(["repo", "init", "vault"]))
        .assert()
        .success();
    with_s3(ws.cmd().args(["backup", "ok"])).assert().success();
    std::fs::write(ws.path().join("notes.txt"), "second notes\n").unwrap();
    with_s3(ws.cmd().args(["backup", "ok"])).assert().success();

    // The older point's snapshot file lapses (governance lets an administrator shorten
    // it): retention removes the point; the pack only it used is still locked, and stays.
    let older = moto.python(
        "snaps = [o for o in s3.list_objects_v2(Bucket='vault', Prefix='reprise/snapshots/')['Contents']]\n\
         older = sorted(snaps, key=lambda o: o['LastModified'])[0]['Key']\n\
         soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)\n\
         s3.put_object_retention(Bucket='vault', Key=older, BypassGovernanceRetention=True, \
         Retention={'Mode': 'GOVERNANCE', 'RetainUntilDate': soon})\n\
         print(older)",
    );
    let older = older.trim().to_string();
    std::thread::sleep(std::time::Duration::from_secs(3));
    with_s3(ws.cmd().args(["retention", "apply"]))
        .assert()
        .success()
        .stdout(predicate::str::contains("removed 1 restore point(s)"))
        .stdout(predicate::str::contains(
            "pack(s) no longer needed stay, locked until",
        ));
    // The lapsed snapshot is gone for good (deleted by version, no marker left), the
    // locked pack is still there, and stock restic reads the repository.
    let left = moto.python(&format!(
        "v = s3.list_object_versions(Bucket='vault', Prefix='{older}')\n\
         print(len(v.get('Versions', [])), len(v.get('DeleteMarkers', [])))"
    ));
    assert_eq!(left.trim(), "0 0", "{left}");
    let check = restic(&ws, &location, &["check", "--read-data"]);
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
