//! The engine against real repositories on disk.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reprise_engine::{
    BackupRequest, BackupSource, EngineError, NoProgress, ReadMode, Repo, RepoSpec, RestoreRequest,
    Secret,
};

fn spec(dir: &Path) -> RepoSpec {
    RepoSpec {
        location: dir.join("repo").display().to_string(),
        password: Secret::new("correct horse battery staple"),
        s3: None,
        ssh: Default::default(),
        lock: None,
        rest_cacert: None,
    }
}

fn open(spec: &RepoSpec) -> Repo {
    Repo::open(spec, Arc::new(NoProgress)).unwrap()
}

fn data(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    fs::create_dir_all(data.join("sub")).unwrap();
    fs::write(data.join("a.txt"), "alpha\n").unwrap();
    // Incompressible, so the file data gets a pack of its own, the largest.
    let noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(data.join("sub/b.bin"), noise).unwrap();
    fs::write(data.join("skip.tmp"), "temporary").unwrap();
    data
}

fn backup(repo: &Repo, data: &Path) -> reprise_engine::SnapshotInfo {
    repo.backup(&BackupRequest {
        source: BackupSource::Paths {
            paths: vec![data.to_path_buf()],
            exclude: vec!["*.tmp".into()],
        },
        hostname: "mail".into(),
        tags: vec!["asset:mail".into(), "dataset:files".into()],
        label: "mail/files".into(),
        time: None,
        changes: None,
    })
    .unwrap()
}

#[test]
fn backup_then_restore_gives_the_same_bytes_and_respects_excludes() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    let repo = open(&spec);
    let data = data(dir.path());
    let snap = backup(&repo, &data);
    assert_eq!(snap.tag("asset"), Some("mail"));
    assert_eq!(snap.hostname, "mail");
    assert_eq!(repo.snapshots().unwrap().len(), 1);

    let target = dir.path().join("restored");
    let plan = repo
        .plan_restore(&RestoreRequest {
            snapshot: snap.id.clone(),
            path: Some(data.display().to_string()),
            target: target.clone(),
            overwrite: false,
            verify: true,
            erased: vec![],
        })
        .unwrap();
    assert!(plan.verified);
    assert_eq!(plan.files, 2);
    repo.restore(plan).unwrap();
    assert_eq!(fs::read(target.join("a.txt")).unwrap(), b"alpha\n");
    assert_eq!(
        fs::read(target.join("sub/b.bin")).unwrap(),
        fs::read(data.join("sub/b.bin")).unwrap()
    );
    assert!(!target.join("skip.tmp").exists());

    // Restoring again over the same files is refused unless asked.
    let again = repo.plan_restore(&RestoreRequest {
        snapshot: snap.id.clone(),
        path: Some(data.display().to_string()),
        target: target.clone(),
        overwrite: false,
        verify: false,
        erased: vec![],
    });
    match again {
        Err(EngineError::Refused(msg)) => assert!(msg.contains("already exist"), "{msg}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_wrong_password_and_a_missing_repository_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let good = spec(dir.path());
    let missing = Repo::open(&good, Arc::new(NoProgress)).err().unwrap();
    assert!(matches!(missing, EngineError::NotFound { .. }), "{missing}");
    reprise_engine::init(&good).unwrap();
    let bad = RepoSpec {
        password: Secret::new("wrong"),
        ..good.clone()
    };
    let err = Repo::open(&bad, Arc::new(NoProgress)).err().unwrap();
    assert!(matches!(err, EngineError::WrongPassword { .. }), "{err}");
    assert!(
        !format!("{bad:?}").contains("wrong"),
        "secrets never show in Debug"
    );
}

#[test]
fn a_damaged_pack_is_found_and_traced_to_its_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    let repo = open(&spec);
    let snap = backup(&repo, &data(dir.path()));
    assert!(repo.check(ReadMode::All).unwrap().ok());

    // Flip a byte in the largest pack: the one holding the file data.
    let packs = dir.path().join("repo/data");
    let largest = fs::read_dir(&packs)
        .unwrap()
        .flat_map(|sub| fs::read_dir(sub.unwrap().path()).unwrap())
        .map(|p| p.unwrap().path())
        .max_by_key(|p| fs::metadata(p).unwrap().len())
        .unwrap();
    let mut bytes = fs::read(&largest).unwrap();
    bytes[10] ^= 0xff;
    fs::write(&largest, bytes).unwrap();
    let report = repo.check(ReadMode::All).unwrap();
    assert!(!report.ok());
    assert!(!report.damaged_packs.is_empty(), "{report:?}");
    assert!(
        report.errors.iter().all(|e| !e.contains("Backtrace")),
        "messages stay short: {report:?}"
    );
    let by_snapshot = repo.packs_by_snapshot().unwrap();
    let needed = &by_snapshot[&snap.id];
    assert!(
        report
            .damaged_packs
            .iter()
            .any(|p| needed.iter().any(|n| n.starts_with(&p.pack))),
        "{report:?} {needed:?}"
    );

    // A restore verifies first and refuses to write corrupted data.
    let target = dir.path().join("restored");
    let err = repo
        .plan_restore(&RestoreRequest {
            snapshot: snap.id,
            path: None,
            target: target.clone(),
            overwrite: false,
            verify: true,
            erased: vec![],
        })
        .unwrap_err();
    assert!(err.to_string().contains("integrity check"), "{err}");
    assert!(!target.exists());
}

#[test]
fn forget_prune_and_copy() {
    let dir = tempfile::tempdir().unwrap();
    let spec1 = spec(dir.path());
    let spec2 = RepoSpec {
        location: dir.path().join("offsite").display().to_string(),
        password: Secret::new("another"),
        s3: None,
        ssh: Default::default(),
        lock: None,
        rest_cacert: None,
    };
    reprise_engine::init(&spec1).unwrap();
    reprise_engine::init(&spec2).unwrap();
    let repo = open(&spec1);
    let offsite = open(&spec2);
    let data = data(dir.path());
    let first = backup(&repo, &data);
    fs::write(data.join("a.txt"), "changed\n").unwrap();
    let second = backup(&repo, &data);

    let copied = repo
        .copy_to(&offsite, &[first.id.clone(), second.id.clone()])
        .unwrap();
    assert_eq!(copied.len(), 2);
    let there: Vec<String> = offsite
        .snapshots()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(there.len(), 2);
    // What it returns are each original with its copy's own id, in the destination.
    for (original, id) in &copied {
        assert!(
            there.contains(id),
            "{id} is not in the destination: {there:?}"
        );
        assert!([&first.id, &second.id].contains(&original));
    }
    // Copying again copies nothing.
    assert!(
        repo.copy_to(&offsite, std::slice::from_ref(&first.id))
            .unwrap()
            .is_empty()
    );

    repo.forget(std::slice::from_ref(&first.id)).unwrap();
    repo.prune().unwrap();
    let left = repo.snapshots().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, second.id);
    assert!(repo.check(ReadMode::All).unwrap().ok());
}

#[test]
fn an_s3_repository_on_a_real_s3_server_works_like_a_local_one() {
    let dir = tempfile::tempdir().unwrap();
    let spec = RepoSpec {
        location: reprise_testkit::s3::s3_bucket(),
        password: Secret::new("s3 password"),
        ssh: Default::default(),
        s3: Some(reprise_engine::S3Credentials {
            access_key_id: reprise_testkit::s3::ACCESS_KEY.into(),
            secret_access_key: Secret::new(reprise_testkit::s3::SECRET_KEY),
        }),
        lock: None,
        rest_cacert: None,
    };
    assert!(!reprise_engine::exists(&spec).unwrap());
    reprise_engine::init(&spec).unwrap();
    let repo = open(&spec);
    let data = data(dir.path());
    let snap = backup(&repo, &data);
    assert_eq!(repo.snapshots().unwrap().len(), 1);
    assert!(repo.check(ReadMode::All).unwrap().ok());
    let target = dir.path().join("restored");
    let plan = repo
        .plan_restore(&RestoreRequest {
            snapshot: snap.id,
            path: None,
            target: target.clone(),
            overwrite: false,
            verify: true,
            erased: vec![],
        })
        .unwrap();
    repo.restore(plan).unwrap();
    assert_eq!(fs::read(target.join("a.txt")).unwrap(), b"alpha\n");
}

#[test]
fn a_restore_brings_back_modes_times_links_and_empty_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    let repo = open(&spec);
    let data = dir.path().join("data");
    fs::create_dir_all(data.join("bin")).unwrap();
    fs::write(data.join("bin/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(data.join("bin/run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::write(data.join("empty"), "").unwrap();
    fs::write(data.join("big.bin"), vec![7u8; 3_000_000]).unwrap();
    fs::hard_link(data.join("big.bin"), data.join("big.link")).unwrap();
    std::os::unix::fs::symlink("bin/run.sh", data.join("run")).unwrap();
    let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(data.join("big.bin"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let snap = backup(&repo, &data);
    let target = dir.path().join("restored");
    let plan = repo
        .plan_restore(&RestoreRequest {
            snapshot: snap.id.clone(),
            path: None,
            target: target.clone(),
            overwrite: false,
            verify: false,
            erased: vec![],
        })
        .unwrap();
    repo.restore(plan).unwrap();
    let meta = |p: &str| fs::symlink_metadata(target.join(p)).unwrap();
    assert_eq!(
        fs::read(target.join("bin/run.sh")).unwrap(),
        b"#!/bin/sh\necho hi\n"
    );
    assert_eq!(meta("bin/run.sh").permissions().mode() & 0o777, 0o750);
    assert_eq!(meta("empty").len(), 0);
    assert_eq!(
        fs::read(target.join("big.bin")).unwrap(),
        vec![7u8; 3_000_000]
    );
    assert_eq!(meta("big.bin").modified().unwrap(), old);
    assert_eq!(meta("big.bin").ino(), meta("big.link").ino(), "a hard link");
    assert_eq!(
        fs::read_link(target.join("run")).unwrap(),
        Path::new("bin/run.sh")
    );
}

#[test]
fn key_files_stay_within_restics_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    let keys = |dir: &Path| -> Vec<serde_json::Value> {
        fs::read_dir(dir.join("repo/keys"))
            .unwrap()
            .map(|e| serde_json::from_slice(&fs::read(e.unwrap().path()).unwrap()).unwrap())
            .collect()
    };
    let found = keys(dir.path());
    assert_eq!(found.len(), 1);
    // 128 × r × N bytes: 32 MiB, as restic keeps it under 60 MiB.
    assert_eq!(
        (found[0]["N"].as_u64(), found[0]["r"].as_u64()),
        (Some(32768), Some(8))
    );
    let repo = open(&spec);
    // A key added for a new password is light too, and opens the repository.
    let added = repo.add_key(&Secret::new("the next password")).unwrap();
    let found = keys(dir.path());
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|k| k["N"] == 32768));
    assert!(dir.path().join("repo/keys").join(&added).exists());
    let mut next = spec.clone();
    next.password = Secret::new("the next password");
    open(&next);
    assert!(matches!(
        Repo::open(
            &RepoSpec {
                password: Secret::new("wrong"),
                ..spec.clone()
            },
            Arc::new(NoProgress)
        ),
        Err(EngineError::WrongPassword { .. })
    ));
}

#[test]
fn data_packs_stay_small_enough_to_verify_in_little_memory() {
    // Verification and backup hold a pack per worker: new repositories cut them from
    // 8 MiB (the engine library alone would make 32 MiB ones).
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    let repo = open(&spec);
    let data = dir.path().join("big");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("noise.bin"), reprise_testkit::noise(24 << 20, 42)).unwrap();
    backup(&repo, &data);
    let sizes: Vec<u64> = fs::read_dir(dir.path().join("repo/data"))
        .unwrap()
        .flat_map(|d| fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().metadata().unwrap().len())
        .collect();
    assert!(sizes.len() >= 3, "{sizes:?}");
    // A pack closes once past its size, with at most one more chunk (8 MiB at most).
    assert!(sizes.iter().all(|&s| s < 17 << 20), "{sizes:?}");
    assert!(repo.check(ReadMode::All).unwrap().ok());
}

#[test]
fn an_init_interrupted_before_the_configuration_is_done_again_cleanly() {
    // An init stopped between its key file and its configuration leaves a key that
    // opens no repository; the next init must not let it hide the real key.
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    fs::remove_file(dir.path().join("repo/config")).unwrap();
    assert!(!reprise_engine::exists(&spec).unwrap());

    reprise_engine::init(&spec).unwrap();
    let keys = fs::read_dir(dir.path().join("repo/keys")).unwrap().count();
    assert_eq!(keys, 1);
    let repo = open(&spec);
    let snap = backup(&repo, &data(dir.path()));
    assert_eq!(repo.snapshots().unwrap()[0].id, snap.id);
}

#[test]
fn a_backup_measures_what_it_changed_against_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path());
    reprise_engine::init(&spec).unwrap();
    let repo = open(&spec);
    let data = dir.path().join("data");
    fs::create_dir_all(data.join("old")).unwrap();
    for i in 0..6 {
        fs::write(
            data.join(format!("f{i}.txt")),
            format!("file {i}\n").repeat(100),
        )
        .unwrap();
    }
    fs::write(data.join("old/moved.txt"), "moved away\n".repeat(50)).unwrap();
    let request = |changes: Option<Vec<String>>| BackupRequest {
        source: BackupSource::Paths {
            paths: vec![data.clone()],
            exclude: vec![],
        },
        hostname: "share".into(),
        tags: vec!["asset:share".into(), "dataset:docs".into()],
        label: "share/docs".into(),
        time: None,
        changes,
    };
    let first = repo.backup(&request(Some(vec![]))).unwrap();
    let c = first.changes.unwrap();
    assert_eq!((c.files_before, c.added), (0, 7));

    fs::write(data.join("f0.txt"), "rewritten\n").unwrap();
    fs::write(data.join("f1.txt"), "rewritten too\n").unwrap();
    fs::remove_file(data.join("f2.txt")).unwrap();
    fs::create_dir_all(data.join("new")).unwrap();
    fs::rename(data.join("old/moved.txt"), data.join("new/moved.txt")).unwrap();
    fs::write(data.join("new/README_FOR_DECRYPT.txt"), "pay\n").unwrap();
    let patterns = vec!["*readme_for_decrypt*".to_string()];
    let second = repo.backup(&request(Some(patterns))).unwrap();
    let c = second.changes.unwrap();
    assert_eq!(c.files_before, 7);
    assert_eq!((c.changed, c.deleted, c.renamed, c.added), (2, 1, 1, 1));
    assert_eq!(c.suspicious_names.len(), 1);
    assert!(c.suspicious_names[0].ends_with("/new/README_FOR_DECRYPT.txt"));
    assert!(c.new_bytes > 0 && c.new_bytes_packed > 0);
    // Without asking, nothing is measured.
    assert!(repo.backup(&request(None)).unwrap().changes.is_none());
}
