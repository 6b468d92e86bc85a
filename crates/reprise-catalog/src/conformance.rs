//! The conformance suite: behaviour every [`Catalog`](crate::Catalog) implementation must
//! show. Each implementation's tests invoke [`catalog_conformance_tests!`] with an async
//! expression that yields a fresh, empty catalog; the macro expands to one `#[tokio::test]`
//! per case, so a failure names the behaviour that broke.

use jiff::Timestamp;
use reprise_domain::AssetState;

use crate::{
    Approval, AssetRecord, Catalog, CatalogError, ChangeKind, IncidentEvent, IncidentSave,
    NewIncidentRow, NewJournalEntry, NewRequestRow, NewRun, Provenance, RepoVerification,
    RequestEvent, RequestSave, RestorePoint, RunFilter, RunKind, RunOutcome, RunStatus, Suspicion,
    Verification,
};

fn record(id: &str, state: AssetState, fingerprint: &str) -> AssetRecord {
    AssetRecord {
        id: id.to_string(),
        state,
        fingerprint: fingerprint.to_string(),
    }
}

fn t(seconds: i64) -> Timestamp {
    // 2024-09-22T00:00:00Z, the day of seed 004's power failure, plus `seconds`.
    Timestamp::from_second(1_726_963_200 + seconds).expect("valid timestamp")
}

pub async fn first_recording_adds_every_asset(catalog: &dyn Catalog) {
    let changes = catalog
        .record_inventory(
            &[
                record("router", AssetState::Failed, "a"),
                record("mail", AssetState::Working, "b"),
            ],
            t(0),
        )
        .await
        .unwrap();
    let kinds: Vec<_> = changes.iter().map(|c| (c.asset.as_str(), c.kind)).collect();
    assert_eq!(
        kinds,
        vec![("router", ChangeKind::Added), ("mail", ChangeKind::Added)]
    );
    assert_eq!(changes[0].to_state, Some(AssetState::Failed));
}

pub async fn recording_the_same_inventory_twice_records_nothing(catalog: &dyn Catalog) {
    let assets = [record("router", AssetState::Working, "a")];
    catalog.record_inventory(&assets, t(0)).await.unwrap();
    let again = catalog.record_inventory(&assets, t(60)).await.unwrap();
    assert!(again.is_empty(), "unexpected changes: {again:?}");
    assert_eq!(catalog.asset_history("router").await.unwrap().len(), 1);
}

pub async fn state_changes_are_kept_with_their_time(catalog: &dyn Catalog) {
    catalog
        .record_inventory(&[record("router", AssetState::Failed, "a")], t(0))
        .await
        .unwrap();
    catalog
        .record_inventory(&[record("router", AssetState::Partial, "a")], t(3600))
        .await
        .unwrap();
    catalog
        .record_inventory(&[record("router", AssetState::Working, "a")], t(7200))
        .await
        .unwrap();
    let history = catalog.asset_history("router").await.unwrap();
    let states: Vec<_> = history
        .iter()
        .map(|c| (c.kind, c.from_state, c.to_state, c.at))
        .collect();
    assert_eq!(
        states,
        vec![
            (ChangeKind::Added, None, Some(AssetState::Failed), t(0)),
            (
                ChangeKind::StateChanged,
                Some(AssetState::Failed),
                Some(AssetState::Partial),
                t(3600)
            ),
            (
                ChangeKind::StateChanged,
                Some(AssetState::Partial),
                Some(AssetState::Working),
                t(7200)
            ),
        ]
    );
}

pub async fn configuration_changes_are_told_apart_from_state_changes(catalog: &dyn Catalog) {
    catalog
        .record_inventory(&[record("nvr", AssetState::Working, "v1")], t(0))
        .await
        .unwrap();
    let changes = catalog
        .record_inventory(&[record("nvr", AssetState::Failed, "v2")], t(10))
        .await
        .unwrap();
    let kinds: Vec<_> = changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![ChangeKind::ConfigChanged, ChangeKind::StateChanged]
    );
    let history = catalog.asset_history("nvr").await.unwrap();
    let last_config = history
        .iter()
        .rev()
        .find(|c| c.kind == ChangeKind::ConfigChanged)
        .map(|c| c.at);
    assert_eq!(last_config, Some(t(10)));
}

pub async fn removed_assets_are_recorded_and_can_come_back(catalog: &dyn Catalog) {
    catalog
        .record_inventory(
            &[
                record("a", AssetState::Working, "1"),
                record("b", AssetState::Partial, "1"),
            ],
            t(0),
        )
        .await
        .unwrap();
    let removed = catalog
        .record_inventory(&[record("a", AssetState::Working, "1")], t(5))
        .await
        .unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].kind, ChangeKind::Removed);
    assert_eq!(removed[0].from_state, Some(AssetState::Partial));
    let back = catalog
        .record_inventory(
            &[
                record("a", AssetState::Working, "1"),
                record("b", AssetState::Working, "1"),
            ],
            t(9),
        )
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].kind, ChangeKind::Added);
}

pub async fn history_is_per_asset_and_in_time_order(catalog: &dyn Catalog) {
    catalog
        .record_inventory(
            &[
                record("x", AssetState::Failed, "1"),
                record("y", AssetState::Failed, "1"),
            ],
            t(0),
        )
        .await
        .unwrap();
    catalog
        .record_inventory(
            &[
                record("x", AssetState::Working, "1"),
                record("y", AssetState::Failed, "1"),
            ],
            t(1),
        )
        .await
        .unwrap();
    let x = catalog.asset_history("x").await.unwrap();
    assert!(x.iter().all(|c| c.asset == "x"));
    assert_eq!(x.len(), 2);
    assert!(catalog.asset_history("unknown").await.unwrap().is_empty());
    let all = catalog.inventory_history().await.unwrap();
    let order: Vec<_> = all.iter().map(|c| (c.asset.as_str(), c.kind)).collect();
    assert_eq!(
        order,
        vec![
            ("x", ChangeKind::Added),
            ("y", ChangeKind::Added),
            ("x", ChangeKind::StateChanged)
        ]
    );
}

pub async fn timestamps_keep_microseconds(catalog: &dyn Catalog) {
    let at = Timestamp::from_microsecond(1_726_963_200_123_456).unwrap();
    catalog
        .record_inventory(&[record("r", AssetState::Working, "1")], at)
        .await
        .unwrap();
    assert_eq!(catalog.asset_history("r").await.unwrap()[0].at, at);
}

async fn trust(catalog: &dyn Catalog, p: &RestorePoint, how: &str) {
    catalog
        .record_provenance(&Provenance {
            repository: p.repository.clone(),
            snapshot: p.snapshot.clone(),
            how: how.to_string(),
            at: p.time,
            actor: None,
            reason: None,
        })
        .await
        .unwrap();
}

pub async fn a_suspect_backup_stays_suspect_in_every_copy_until_cleared(catalog: &dyn Catalog) {
    let clean = point("local", "clean", "mail", 0);
    let bad = point("local", "bad", "mail", 10);
    let copy = point("offsite", "bad-copy", "mail", 10);
    for p in [&clean, &bad, &copy] {
        trust(catalog, p, "backup").await;
    }
    catalog
        .sync_restore_points("local", &[clean.clone(), bad.clone()])
        .await
        .unwrap();
    catalog
        .sync_restore_points("offsite", std::slice::from_ref(&copy))
        .await
        .unwrap();
    let suspicion = Suspicion {
        asset: "mail".into(),
        dataset: "files".into(),
        time: t(10),
        repository: "local".into(),
        snapshot: "bad".into(),
        at: t(11),
        reasons: "97 % of the files rewritten".into(),
        signals: Some("{}".into()),
        cleared: None,
        cleared_by: None,
        clearance: None,
    };
    catalog.record_suspicion(&suspicion).await.unwrap();
    // A second record of the same backup keeps the first.
    let mut again = suspicion.clone();
    again.reasons = "other".into();
    catalog.record_suspicion(&again).await.unwrap();
    let suspect = |points: Vec<RestorePoint>| -> Vec<(String, Option<String>)> {
        points
            .into_iter()
            .map(|p| (p.snapshot, p.suspect))
            .collect()
    };
    let why = Some("97 % of the files rewritten".to_string());
    assert_eq!(
        suspect(catalog.restore_points(Some("mail")).await.unwrap()),
        [
            ("clean".to_string(), None),
            ("bad".to_string(), why.clone()),
            ("bad-copy".to_string(), why.clone())
        ]
    );
    assert!(
        !catalog
            .clear_suspicion("mail", "files", t(0), t(20), "alice", "no reason")
            .await
            .unwrap()
    );
    assert!(
        catalog
            .clear_suspicion(
                "mail",
                "files",
                t(10),
                t(20),
                "alice",
                "checked: a migration"
            )
            .await
            .unwrap()
    );
    assert!(
        !catalog
            .clear_suspicion("mail", "files", t(10), t(30), "bob", "twice")
            .await
            .unwrap()
    );
    assert!(
        catalog
            .restore_points(None)
            .await
            .unwrap()
            .iter()
            .all(|p| p.suspect.is_none())
    );
    let kept = catalog.suspicions(Some("mail")).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].reasons, "97 % of the files rewritten");
    assert_eq!(kept[0].cleared, Some(t(20)));
    assert_eq!(kept[0].cleared_by.as_deref(), Some("alice"));
    assert_eq!(kept[0].clearance.as_deref(), Some("checked: a migration"));
    assert!(catalog.suspicions(Some("web")).await.unwrap().is_empty());
}

pub async fn only_snapshots_with_a_provenance_are_restore_points(catalog: &dyn Catalog) {
    let made = point("local", "made", "mail", 0);
    let forged = point("local", "forged", "mail", 10);
    trust(catalog, &made, "backup").await;
    catalog
        .sync_restore_points("local", &[made.clone(), forged.clone()])
        .await
        .unwrap();
    let ids = |points: Vec<RestorePoint>| -> Vec<String> {
        points.into_iter().map(|p| p.snapshot).collect()
    };
    assert_eq!(
        ids(catalog.restore_points(Some("mail")).await.unwrap()),
        ["made"]
    );
    assert_eq!(ids(catalog.restore_points(None).await.unwrap()), ["made"]);
    assert_eq!(
        ids(catalog.foreign_points(Some("mail")).await.unwrap()),
        ["forged"]
    );
    assert_eq!(ids(catalog.foreign_points(None).await.unwrap()), ["forged"]);
    // Adopted, it is a restore point; its first provenance is kept.
    trust(catalog, &forged, "adopted").await;
    trust(catalog, &forged, "backup").await;
    assert_eq!(
        ids(catalog.restore_points(Some("mail")).await.unwrap()),
        ["made", "forged"]
    );
    assert!(catalog.foreign_points(None).await.unwrap().is_empty());
    let kept = catalog
        .provenance("local", "forged")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.how, "adopted");
    assert_eq!(kept.at, t(10));
    assert!(catalog.provenance("local", "none").await.unwrap().is_none());
    // All of them at once, as the journal reads them.
    let all: Vec<(String, String)> = catalog
        .provenances()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.snapshot, p.how))
        .collect();
    assert_eq!(
        all,
        [
            ("forged".to_string(), "adopted".to_string()),
            ("made".to_string(), "backup".to_string())
        ]
    );
}

fn point(repo: &str, snapshot: &str, asset: &str, at: i64) -> RestorePoint {
    RestorePoint {
        repository: repo.to_string(),
        snapshot: snapshot.to_string(),
        asset: asset.to_string(),
        dataset: "files".to_string(),
        policy: Some("daily".to_string()),
        time: t(at),
        files: Some(3),
        bytes: Some(1024),
        bytes_added: Some(512),
        verified: None,
        failed: None,
        failure: None,
        suspect: None,
    }
}

pub async fn runs_are_recorded_from_start_to_end(catalog: &dyn Catalog) {
    let id = catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Backup),
            asset: Some("mail".into()),
            dataset: Some("mailboxes".into()),
            repository: Some("local".into()),
            started: Some(t(0)),
        })
        .await
        .unwrap();
    let running = catalog.runs(&RunFilter::default()).await.unwrap();
    assert_eq!(running[0].status, RunStatus::Running);
    let mut outcome = RunOutcome::new(t(90), RunStatus::Succeeded);
    outcome.snapshot = Some("abc".into());
    outcome.files = Some(12);
    outcome.bytes_read = Some(4096);
    outcome.bytes_added = Some(100);
    catalog.finish_run(id, &outcome).await.unwrap();
    assert_eq!(
        catalog.run_counts().await.unwrap(),
        [(RunKind::Backup, RunStatus::Succeeded, 1)]
    );
    let runs = catalog
        .runs(&RunFilter {
            asset: Some("mail".into()),
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.id, id);
    assert_eq!(run.kind, RunKind::Backup);
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.snapshot.as_deref(), Some("abc"));
    assert_eq!(run.files, Some(12));
    assert_eq!(run.duration(), Some(jiff::SignedDuration::from_secs(90)));
    assert!(
        catalog
            .runs(&RunFilter {
                kind: Some(RunKind::Restore),
                ..RunFilter::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn runs_list_newest_first_and_respect_the_limit(catalog: &dyn Catalog) {
    for i in 0..5 {
        catalog
            .start_run(&NewRun {
                kind: Some(RunKind::Verify),
                started: Some(t(i)),
                ..NewRun::default()
            })
            .await
            .unwrap();
    }
    let runs = catalog
        .runs(&RunFilter {
            limit: Some(2),
            ..RunFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].started, t(4));
}

pub async fn interrupted_runs_keep_their_status_and_reason(catalog: &dyn Catalog) {
    let id = catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Backup),
            started: Some(t(0)),
            ..NewRun::default()
        })
        .await
        .unwrap();
    let mut outcome = RunOutcome::new(t(30), RunStatus::Interrupted);
    outcome.error = Some("the process stopped before the run ended".into());
    catalog.finish_run(id, &outcome).await.unwrap();
    let run = &catalog.runs(&RunFilter::default()).await.unwrap()[0];
    assert_eq!(run.id, id);
    assert_eq!(run.status, RunStatus::Interrupted);
    assert_eq!(run.finished, Some(t(30)));
    assert_eq!(
        run.error.as_deref(),
        Some("the process stopped before the run ended")
    );
}

pub async fn restore_points_sync_with_the_repository_and_keep_verification(catalog: &dyn Catalog) {
    let a = point("local", "s1", "mail", 0);
    let b = point("local", "s2", "mail", 10);
    let c = point("offsite", "s1-copy", "mail", 0);
    let d = point("local", "s3", "mail", 20);
    for p in [&a, &b, &c, &d] {
        trust(catalog, p, "backup").await;
    }
    catalog
        .sync_restore_points("local", &[a.clone(), b.clone()])
        .await
        .unwrap();
    catalog
        .sync_restore_points("offsite", std::slice::from_ref(&c))
        .await
        .unwrap();
    catalog
        .mark_verified("local", &["s1".into()], t(100), &Verification::Passed)
        .await
        .unwrap();
    // The repository still holds s1 but s2 was forgotten; a new s3 appeared.
    catalog
        .sync_restore_points("local", &[a.clone(), d.clone()])
        .await
        .unwrap();
    let points = catalog.restore_points(Some("mail")).await.unwrap();
    let ids: Vec<(&str, &str)> = points
        .iter()
        .map(|p| (p.repository.as_str(), p.snapshot.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![("local", "s1"), ("offsite", "s1-copy"), ("local", "s3")]
    );
    assert_eq!(points[0].verified, Some(t(100)), "verification is kept");
    assert_eq!(points[0].bytes, Some(1024));
    assert!(
        catalog
            .restore_points(Some("vpn"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(catalog.restore_points(None).await.unwrap().len(), 3);

    catalog
        .mark_verified(
            "local",
            &["s3".into()],
            t(200),
            &Verification::Failed("pack 1234abcd damaged".into()),
        )
        .await
        .unwrap();
    let s3 = catalog
        .restore_points(Some("mail"))
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.snapshot == "s3")
        .unwrap();
    assert_eq!(s3.failed, Some(t(200)));
    assert_eq!(s3.failure.as_deref(), Some("pack 1234abcd damaged"));
    assert_eq!(s3.verified, None);
}

pub async fn repository_verifications_are_kept_in_order(catalog: &dyn Catalog) {
    for (i, ok) in [(1u32, true), (2, false)] {
        catalog
            .record_verification(&RepoVerification {
                repository: "local".into(),
                at: t(i64::from(i)),
                mode: "slice".into(),
                slice: Some((i, 30)),
                ok,
            })
            .await
            .unwrap();
    }
    let all = catalog.verifications("local").await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].slice, Some((1, 30)));
    assert!(all[0].ok);
    assert!(!all[1].ok);
    assert!(catalog.verifications("other").await.unwrap().is_empty());
}

pub async fn tokens_are_found_by_hash_only_and_revoked_once(catalog: &dyn Catalog) {
    let token = crate::TokenRow {
        hash: "abc123".into(),
        name: "ci".into(),
        user: Some("claire".into()),
        role: Some("viewer".into()),
        scope: Some("site:entrepot".into()),
        created: t(0),
        expires: Some(t(100)),
        revoked: None,
    };
    catalog.create_token(&token).await.unwrap();
    assert_eq!(
        catalog.token("abc123").await.unwrap().as_ref(),
        Some(&token)
    );
    assert_eq!(catalog.token("abc124").await.unwrap(), None);
    assert!(catalog.revoke_token("abc123", t(5)).await.unwrap());
    assert!(!catalog.revoke_token("abc123", t(6)).await.unwrap());
    let listed = catalog.tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked, Some(t(5)));
}

pub async fn accounts_are_saved_whole_and_keep_their_creation_time(catalog: &dyn Catalog) {
    let mut user = crate::UserRow {
        name: "claire".into(),
        role: "operator".into(),
        scope: "site:entrepot".into(),
        password_hash: Some("$argon2id$v=19$...".into()),
        created: t(0),
        disabled: None,
        failed_signins: 0,
        locked_until: None,
        lang: Some("fr".into()),
    };
    catalog.save_user(&user).await.unwrap();
    let changed = crate::UserRow {
        role: "auditor".into(),
        failed_signins: 3,
        locked_until: Some(t(60)),
        created: t(50),
        ..user.clone()
    };
    catalog.save_user(&changed).await.unwrap();
    let read = catalog.user("claire").await.unwrap().unwrap();
    user.role = "auditor".into();
    user.failed_signins = 3;
    user.locked_until = Some(t(60));
    assert_eq!(read, user);
    assert!(catalog.user("paul").await.unwrap().is_none());
    assert_eq!(catalog.users().await.unwrap().len(), 1);

    // Sign-in counters move only from the count they were read at: of two attempts that
    // read 3, one takes the fourth place and the other must read again.
    assert!(catalog.swap_signins("claire", 3, 4, None).await.unwrap());
    assert!(!catalog.swap_signins("claire", 3, 4, None).await.unwrap());
    assert!(
        catalog
            .swap_signins("claire", 4, 5, Some(t(90)))
            .await
            .unwrap()
    );
    let read = catalog.user("claire").await.unwrap().unwrap();
    assert_eq!((read.failed_signins, read.locked_until), (5, Some(t(90))));
    assert!(!catalog.swap_signins("paul", 0, 1, None).await.unwrap());
}

pub async fn alerts_open_once_update_and_resolve(catalog: &dyn Catalog) {
    assert!(
        catalog
            .raise_alert("rpo:mail", "warning", "at risk", t(0))
            .await
            .unwrap()
    );
    assert!(
        !catalog
            .raise_alert("rpo:mail", "critical", "breached", t(60))
            .await
            .unwrap()
    );
    let open = catalog.alerts(true).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].severity, "critical");
    assert_eq!(open[0].message, "breached");
    assert_eq!(open[0].opened, t(0));
    assert_eq!(open[0].updated, t(60));
    assert!(catalog.resolve_alert("rpo:mail", t(120)).await.unwrap());
    assert!(!catalog.resolve_alert("rpo:mail", t(130)).await.unwrap());
    assert!(catalog.alerts(true).await.unwrap().is_empty());
    let all = catalog.alerts(false).await.unwrap();
    assert_eq!(all[0].resolved, Some(t(120)));
    // The same condition later is a new alert.
    assert!(
        catalog
            .raise_alert("rpo:mail", "warning", "again", t(200))
            .await
            .unwrap()
    );
    assert_eq!(catalog.alerts(false).await.unwrap().len(), 2);
}

pub async fn a_lease_has_one_holder_until_it_expires(catalog: &dyn Catalog) {
    assert!(
        catalog
            .try_lease("backup:mail", "a", t(60), t(0))
            .await
            .unwrap()
    );
    assert!(
        !catalog
            .try_lease("backup:mail", "b", t(60), t(10))
            .await
            .unwrap()
    );
    assert!(
        catalog
            .try_lease("backup:mail", "a", t(90), t(10))
            .await
            .unwrap(),
        "renewed"
    );
    assert!(
        catalog
            .try_lease("backup:vpn", "b", t(60), t(10))
            .await
            .unwrap()
    );
    // Expired: another holder may take it.
    assert!(
        catalog
            .try_lease("backup:mail", "b", t(200), t(100))
            .await
            .unwrap()
    );
    catalog.release_lease("backup:mail", "a").await.unwrap();
    assert!(
        !catalog
            .try_lease("backup:mail", "a", t(300), t(110))
            .await
            .unwrap(),
        "only the holder releases"
    );
    catalog.release_lease("backup:mail", "b").await.unwrap();
    assert!(
        catalog
            .try_lease("backup:mail", "a", t(300), t(110))
            .await
            .unwrap()
    );
}

pub async fn latest_runs_give_each_asset_its_newest_finished_run(catalog: &dyn Catalog) {
    let start = |asset: &str, kind: RunKind, at: i64| {
        let run = NewRun {
            kind: Some(kind),
            asset: Some(asset.to_string()),
            started: Some(t(at)),
            ..NewRun::default()
        };
        async move { catalog.start_run(&run).await.unwrap() }
    };
    let a1 = start("mail", RunKind::Backup, 10).await;
    catalog
        .finish_run(a1, &RunOutcome::new(t(11), RunStatus::Succeeded))
        .await
        .unwrap();
    let a2 = start("mail", RunKind::Backup, 20).await;
    catalog
        .finish_run(a2, &RunOutcome::new(t(21), RunStatus::Failed))
        .await
        .unwrap();
    // Still running: not the latest finished one.
    start("mail", RunKind::Backup, 30).await;
    let b = start("vpn", RunKind::Backup, 15).await;
    catalog
        .finish_run(b, &RunOutcome::new(t(16), RunStatus::Succeeded))
        .await
        .unwrap();
    let r = start("vpn", RunKind::Restore, 40).await;
    catalog
        .finish_run(r, &RunOutcome::new(t(41), RunStatus::Succeeded))
        .await
        .unwrap();
    let mut latest = catalog.latest_runs(RunKind::Backup).await.unwrap();
    latest.sort_by(|a, b| a.asset.cmp(&b.asset));
    let summary: Vec<(Option<&str>, i64, RunStatus)> = latest
        .iter()
        .map(|r| (r.asset.as_deref(), r.id, r.status))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Some("mail"), a2, RunStatus::Failed),
            (Some("vpn"), b, RunStatus::Succeeded)
        ]
    );
}

pub async fn incidents_keep_their_document_timeline_and_refuse_stale_saves(catalog: &dyn Catalog) {
    let new = |title: &str, severity: &str, at: i64| NewIncidentRow {
        title: title.into(),
        severity: severity.into(),
        phase: "detection".into(),
        source: Some("monitoring".into()),
        opened: t(at),
        doc: "{\"roles\":{}}".into(),
        actor: Some("mohamed".into()),
        text: format!("{severity} {title}"),
        text_fr: Some(format!("{severity} {title} (ouvert)")),
    };
    let id = catalog
        .create_incident(&new("Power failure", "SEV2", 0))
        .await
        .unwrap();
    let other = catalog
        .create_incident(&new("Camera down", "SEV4", 5))
        .await
        .unwrap();
    let row = catalog.incident(id).await.unwrap().unwrap();
    assert_eq!(
        (
            row.title.as_str(),
            row.severity.as_str(),
            row.phase.as_str()
        ),
        ("Power failure", "SEV2", "detection")
    );
    assert_eq!(row.version, 1);
    let event = |kind: &str, text: &str, at: i64| IncidentEvent {
        incident: id,
        at: t(at),
        kind: kind.into(),
        actor: Some("mohamed".into()),
        text: text.into(),
        text_fr: Some(format!("fr: {text}")),
    };
    let save = IncidentSave {
        id,
        version: 1,
        severity: "SEV1".into(),
        phase: "assessment".into(),
        updated: t(10),
        closed: None,
        doc: "{\"personal_data\":true}".into(),
    };
    catalog
        .save_incident(&save, &[event("phase", "detection → assessment", 10)])
        .await
        .unwrap();
    // A save based on version 1 again: someone else's change would be lost.
    assert!(matches!(
        catalog.save_incident(&save, &[]).await,
        Err(CatalogError::Conflict { .. })
    ));
    let row = catalog.incident(id).await.unwrap().unwrap();
    assert_eq!((row.version, row.phase.as_str()), (2, "assessment"));
    assert_eq!(row.doc, "{\"personal_data\":true}");
    let timeline = catalog.incident_events(id).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["opened", "phase"]);
    assert_eq!(timeline[1].text, "detection → assessment");
    // Each sentence is kept in French too.
    assert_eq!(
        timeline[0].text_fr.as_deref(),
        Some("SEV2 Power failure (ouvert)")
    );
    assert_eq!(
        timeline[1].text_fr.as_deref(),
        Some("fr: detection → assessment")
    );
    // Closed incidents leave the open list.
    catalog
        .save_incident(
            &IncidentSave {
                id: other,
                version: 1,
                severity: "SEV4".into(),
                phase: "closed".into(),
                updated: t(20),
                closed: Some(t(20)),
                doc: "{}".into(),
            },
            &[],
        )
        .await
        .unwrap();
    let open: Vec<i64> = catalog
        .incidents(true)
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(open, [id]);
    assert_eq!(catalog.incidents(false).await.unwrap().len(), 2);
    assert!(catalog.incident(9999).await.unwrap().is_none());
}

pub async fn requests_are_followed_through_their_timeline(catalog: &dyn Catalog) {
    let new = |requester: &str, at: i64| NewRequestRow {
        state: "awaiting-approval".into(),
        requester: requester.into(),
        created: t(at),
        doc: "{\"scope\":[]}".into(),
        actor: Some(requester.into()),
        text: "erp at 2026-11-20".into(),
        text_fr: Some("erp au 2026-11-20".into()),
    };
    let id = catalog.create_request(&new("claire", 0)).await.unwrap();
    let other = catalog.create_request(&new("paul", 5)).await.unwrap();
    let row = catalog.request(id).await.unwrap().unwrap();
    assert_eq!(
        (row.state.as_str(), row.requester.as_str(), row.version),
        ("awaiting-approval", "claire", 1)
    );
    let save = RequestSave {
        id,
        version: 1,
        state: "scheduled".into(),
        updated: t(10),
        closed: None,
        doc: "{\"approved\":true}".into(),
    };
    let event = RequestEvent {
        request: id,
        at: t(10),
        kind: "approved".into(),
        actor: Some("mohamed".into()),
        text: "window 20:00-22:00".into(),
        text_fr: None,
    };
    catalog.save_request(&save, &[event]).await.unwrap();
    assert!(matches!(
        catalog.save_request(&save, &[]).await,
        Err(CatalogError::Conflict { .. })
    ));
    let row = catalog.request(id).await.unwrap().unwrap();
    assert_eq!((row.version, row.state.as_str()), (2, "scheduled"));
    assert_eq!(row.doc, "{\"approved\":true}");
    let timeline = catalog.request_events(id).await.unwrap();
    let kinds: Vec<&str> = timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["submitted", "approved"]);
    assert_eq!(timeline[0].text, "erp at 2026-11-20");
    assert_eq!(timeline[0].text_fr.as_deref(), Some("erp au 2026-11-20"));
    assert_eq!(timeline[1].text_fr, None);
    catalog
        .save_request(
            &RequestSave {
                id: other,
                version: 1,
                state: "rejected".into(),
                updated: t(20),
                closed: Some(t(20)),
                doc: "{}".into(),
            },
            &[],
        )
        .await
        .unwrap();
    let open: Vec<i64> = catalog
        .requests(true)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(open, [id]);
    let all: Vec<i64> = catalog
        .requests(false)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, [other, id]);
    assert!(catalog.request(9999).await.unwrap().is_none());
}

pub async fn the_journal_chains_every_entry_to_the_previous_one(catalog: &dyn Catalog) {
    // A stand-in seal: the real one is keyed, but the catalog only stores what it returns.
    let seal = |e: &crate::JournalEntry| {
        format!("{}|{}|{}|{}", e.seq, e.prev_hash.len(), e.action, e.subject)
    };
    let entry = |action: &str, subject: &str, at: i64| NewJournalEntry {
        at: t(at),
        actor: "mohamed".into(),
        action: action.into(),
        subject: subject.into(),
        detail: "{\"files\":3}".into(),
        record: if action == "run.started" {
            "incident:1".into()
        } else {
            String::new()
        },
        digest: if action == "run.started" {
            "ab12".into()
        } else {
            String::new()
        },
    };
    let first = catalog
        .append_journal(&entry("run.started", "erp/files", 0), &seal)
        .await
        .unwrap();
    assert_eq!((first.seq, first.prev_hash.as_str()), (1, ""));
    assert_eq!(first.hash, "1|0|run.started|erp/files");
    // Appends at once still form one chain, without gaps or forks.
    let appends: Vec<_> = (0..8)
        .map(|i| {
            let e = entry("alert.opened", "rpo:erp", i + 1);
            async move { catalog.append_journal(&e, &seal).await.unwrap() }
        })
        .collect();
    futures_util::future::join_all(appends).await;
    let all = catalog.journal(0, None).await.unwrap();
    assert_eq!(all.len(), 9);
    for pair in all.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    assert_eq!(all[0].detail, "{\"files\":3}");
    // The record an entry seals is stored with it.
    assert_eq!(
        (all[0].record.as_str(), all[0].digest.as_str()),
        ("incident:1", "ab12")
    );
    assert_eq!((all[1].record.as_str(), all[1].digest.as_str()), ("", ""));
    let page = catalog.journal(3, Some(2)).await.unwrap();
    let seqs: Vec<i64> = page.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [4, 5]);
}

pub async fn the_newest_recorded_state_of_each_asset_counts(catalog: &dyn Catalog) {
    let state = |asset: &str, state, at| crate::RecordedState {
        asset: asset.into(),
        state,
        since: t(at - 5),
        at: t(at),
        actor: Some("mohamed".into()),
        note: Some("état des lieux".into()),
    };
    assert!(catalog.recorded_states().await.unwrap().is_empty());
    catalog
        .record_state(&state("router", AssetState::Failed, 10))
        .await
        .unwrap();
    catalog
        .record_state(&state("mail", AssetState::Partial, 20))
        .await
        .unwrap();
    catalog
        .record_state(&state("router", AssetState::Working, 30))
        .await
        .unwrap();
    let newest = catalog.recorded_states().await.unwrap();
    assert_eq!(newest.len(), 2);
    assert_eq!(newest[0], state("mail", AssetState::Partial, 20));
    assert_eq!(newest[1], state("router", AssetState::Working, 30));
}

pub async fn an_agent_job_is_taken_once_and_ends_once(catalog: &dyn Catalog) {
    use crate::{AgentRecord, JobState, NewAgentJob};
    let at = t(1_000);
    let mut agent = AgentRecord {
        host: "mail-01".into(),
        enrolled: at,
        seen: None,
        version: None,
        address: None,
    };
    catalog.save_agent(&agent).await.unwrap();
    agent.seen = Some(t(2_000));
    agent.version = Some("0.1.0".into());
    catalog.save_agent(&agent).await.unwrap();
    assert_eq!(catalog.agents().await.unwrap(), vec![agent]);

    let job = |host: &str| NewAgentJob {
        host: host.into(),
        kind: "backup".into(),
        asset: "mail".into(),
        spec: "{}".into(),
        created: at,
        deadline: t(9_000),
    };
    let first = catalog.queue_agent_job(&job("mail-01")).await.unwrap();
    let other = catalog.queue_agent_job(&job("files-01")).await.unwrap();
    assert_ne!(first, other);
    let mine = catalog.agent_jobs(Some("mail-01"), true).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].state, JobState::Waiting);
    assert_eq!(catalog.agent_jobs(None, true).await.unwrap().len(), 2);

    let (w, r, s) = (JobState::Waiting, JobState::Running, JobState::Succeeded);
    assert!(
        catalog
            .move_agent_job(first, w, r, t(3_000), None)
            .await
            .unwrap()
    );
    assert!(
        !catalog
            .move_agent_job(first, w, r, t(3_001), None)
            .await
            .unwrap()
    );
    assert!(
        catalog
            .move_agent_job(first, r, s, t(4_000), Some("{\"ok\":true}"))
            .await
            .unwrap()
    );
    assert!(
        !catalog
            .move_agent_job(first, r, JobState::Failed, t(4_001), Some("late"))
            .await
            .unwrap()
    );
    let done = catalog.agent_job(first).await.unwrap().unwrap();
    assert_eq!(
        (done.state, done.started, done.finished),
        (s, Some(t(3_000)), Some(t(4_000)))
    );
    assert_eq!(done.result.as_deref(), Some("{\"ok\":true}"));
    assert!(
        catalog
            .agent_jobs(Some("mail-01"), true)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        catalog
            .agent_jobs(Some("mail-01"), false)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(catalog.agent_job(other + 100).await.unwrap().is_none());
}

pub async fn a_device_record_is_replaced_whole(catalog: &dyn Catalog) {
    assert!(catalog.devices().await.unwrap().is_empty());
    let mut seen = crate::DeviceRecord {
        asset: "router".into(),
        dataset: "config".into(),
        checked: Some(t(10)),
        checks: 1,
        error: Some("the device did not answer".into()),
        ..Default::default()
    };
    catalog.save_device(&seen).await.unwrap();
    seen.checked = Some(t(20));
    seen.checks = 2;
    seen.error = None;
    seen.fingerprint = Some("ab".repeat(32));
    seen.redacted = Some("set system host-name 'r1'\n".into());
    seen.changed = Some(t(20));
    seen.change = Some("+set system host-name 'r1'\n".into());
    seen.backed_up = Some(t(21));
    seen.snapshot = Some("5e1f".into());
    catalog.save_device(&seen).await.unwrap();
    let camera = crate::DeviceRecord {
        asset: "camera".into(),
        dataset: "config".into(),
        checked: Some(t(5)),
        checks: 1,
        ..Default::default()
    };
    catalog.save_device(&camera).await.unwrap();
    assert_eq!(catalog.devices().await.unwrap(), vec![camera, seen]);
}

pub async fn the_last_rotation_of_each_secret_counts(catalog: &dyn Catalog) {
    catalog
        .record_rotation("repository:local", t(0))
        .await
        .unwrap();
    catalog
        .record_rotation("repository:local", t(30))
        .await
        .unwrap();
    catalog
        .record_rotation("repository:offsite", t(10))
        .await
        .unwrap();
    assert_eq!(
        catalog.rotations().await.unwrap(),
        [
            ("repository:local".to_string(), t(30)),
            ("repository:offsite".to_string(), t(10))
        ]
    );
}

pub async fn an_open_alert_is_acknowledged_once_raised(catalog: &dyn Catalog) {
    assert!(
        !catalog
            .acknowledge_alert("rpo:mail", "ada", t(0))
            .await
            .unwrap(),
        "nothing open to acknowledge"
    );
    catalog
        .raise_alert("rpo:mail", "critical", "RPO breached", t(1))
        .await
        .unwrap();
    assert!(
        catalog
            .acknowledge_alert("rpo:mail", "ada", t(2))
            .await
            .unwrap()
    );
    let open = catalog.alerts(true).await.unwrap();
    assert_eq!(open[0].acknowledged, Some(t(2)));
    assert_eq!(open[0].acknowledged_by.as_deref(), Some("ada"));
    // Raised again while open: still acknowledged.
    catalog
        .raise_alert("rpo:mail", "critical", "RPO breached still", t(3))
        .await
        .unwrap();
    assert_eq!(
        catalog.alerts(true).await.unwrap()[0]
            .acknowledged_by
            .as_deref(),
        Some("ada")
    );
}

pub async fn an_erasure_ends_once_and_is_listed_per_asset(catalog: &dyn Catalog) {
    let first = catalog
        .create_erasure("crm", t(0), "{\"paths\":[\"/a\"]}")
        .await
        .unwrap();
    let other = catalog.create_erasure("mail", t(5), "{}").await.unwrap();
    assert!(other > first);
    // A failed erasure is run again, and then ends for good.
    let again = catalog.create_erasure("badges", t(6), "{}").await.unwrap();
    for (state, ended) in [("failed", true), ("executed", true), ("failed", false)] {
        assert_eq!(
            catalog
                .finish_erasure(again, state, t(7), "{}")
                .await
                .unwrap(),
            ended,
            "{state}"
        );
    }
    assert!(
        catalog
            .finish_erasure(first, "executed", t(10), "{\"done\":true}")
            .await
            .unwrap()
    );
    assert!(
        !catalog
            .finish_erasure(first, "failed", t(20), "{}")
            .await
            .unwrap(),
        "an erasure ends once"
    );
    let crm = catalog.erasures(Some("crm")).await.unwrap();
    assert_eq!(crm.len(), 1);
    assert_eq!(crm[0].state, "executed");
    assert_eq!(crm[0].finished, Some(t(10)));
    assert_eq!(crm[0].doc, "{\"done\":true}");
    let all = catalog.erasures(None).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.id).collect::<Vec<_>>(),
        [first, other, again]
    );
    assert_eq!(all[1].state, "planned");
    assert_eq!(all[1].finished, None);
}

pub async fn the_newest_approval_of_each_asset_counts(catalog: &dyn Catalog) {
    let approval = |asset: &str, rpo: &str, by: &str, at: i64| Approval {
        asset: asset.into(),
        rpo: Some(rpo.into()),
        rto: Some("4h".into()),
        by: by.into(),
        at: t(at),
    };
    catalog
        .record_approval(&approval("mail", "24h", "Mina", 0))
        .await
        .unwrap();
    catalog
        .record_approval(&approval("vpn", "4h", "Mina", 5))
        .await
        .unwrap();
    catalog
        .record_approval(&approval("mail", "4h", "Julie", 10))
        .await
        .unwrap();
    let approvals = catalog.approvals().await.unwrap();
    assert_eq!(approvals.len(), 2);
    assert_eq!(approvals[0], approval("mail", "4h", "Julie", 10));
    assert_eq!(approvals[1].asset, "vpn");
}

pub async fn an_export_is_a_complete_copy_of_the_catalog(catalog: &dyn Catalog) {
    catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Backup),
            asset: Some("export-witness-asset".into()),
            started: Some(t(0)),
            ..NewRun::default()
        })
        .await
        .unwrap();
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "reprise-export-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = catalog.export_to(&dir).await.unwrap();
    let content = std::fs::read(&file).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(file.starts_with(&dir), "{file:?}");
    assert!(
        content
            .windows(b"export-witness-asset".len())
            .any(|w| w == b"export-witness-asset"),
        "the export holds the recorded run"
    );
}

pub async fn the_change_stamp_moves_with_every_write_and_only_then(catalog: &dyn Catalog) {
    let before = catalog.change_stamp().await.unwrap();
    // Reads leave it as it is.
    catalog.runs(&RunFilter::default()).await.unwrap();
    catalog.alerts(true).await.unwrap();
    assert_eq!(catalog.change_stamp().await.unwrap(), before);
    catalog
        .record_inventory(&[record("router", AssetState::Working, "a")], t(0))
        .await
        .unwrap();
    let after_inventory = catalog.change_stamp().await.unwrap();
    assert_ne!(after_inventory, before, "a recorded inventory is a change");
    let id = catalog
        .start_run(&NewRun {
            kind: Some(RunKind::Backup),
            asset: Some("router".into()),
            dataset: Some("config".into()),
            repository: Some("local".into()),
            started: Some(t(10)),
        })
        .await
        .unwrap();
    let started = catalog.change_stamp().await.unwrap();
    assert_ne!(started, after_inventory, "a started run is a change");
    catalog
        .finish_run(id, &RunOutcome::new(t(20), RunStatus::Succeeded))
        .await
        .unwrap();
    let finished = catalog.change_stamp().await.unwrap();
    assert_ne!(finished, started, "a finished run is a change");
    assert_eq!(catalog.change_stamp().await.unwrap(), finished);
}

/// Expands to one `#[tokio::test]` per conformance case. `$make` is an async block or
/// expression evaluating to something that derefs to a fresh, empty `dyn Catalog`
/// (typically a `Box` or a guard that also owns the temporary database).
#[macro_export]
macro_rules! catalog_conformance_tests {
    ($make:expr) => {
        $crate::catalog_conformance_tests!(@cases $make;
            first_recording_adds_every_asset,
            recording_the_same_inventory_twice_records_nothing,
            state_changes_are_kept_with_their_time,
            configuration_changes_are_told_apart_from_state_changes,
            removed_assets_are_recorded_and_can_come_back,
            history_is_per_asset_and_in_time_order,
            timestamps_keep_microseconds,
            runs_are_recorded_from_start_to_end,
            runs_list_newest_first_and_respect_the_limit,
            interrupted_runs_keep_their_status_and_reason,
            restore_points_sync_with_the_repository_and_keep_verification,
            only_snapshots_with_a_provenance_are_restore_points,
            repository_verifications_are_kept_in_order,
            tokens_are_found_by_hash_only_and_revoked_once,
            accounts_are_saved_whole_and_keep_their_creation_time,
            alerts_open_once_update_and_resolve,
            a_lease_has_one_holder_until_it_expires,
            an_export_is_a_complete_copy_of_the_catalog,
            latest_runs_give_each_asset_its_newest_finished_run,
            incidents_keep_their_document_timeline_and_refuse_stale_saves,
            requests_are_followed_through_their_timeline,
            the_journal_chains_every_entry_to_the_previous_one,
            the_last_rotation_of_each_secret_counts,
            an_erasure_ends_once_and_is_listed_per_asset,
            an_open_alert_is_acknowledged_once_raised,
            the_newest_approval_of_each_asset_counts,
            the_newest_recorded_state_of_each_asset_counts,
            a_device_record_is_replaced_whole,
            an_agent_job_is_taken_once_and_ends_once,
            a_suspect_backup_stays_suspect_in_every_copy_until_cleared,
            the_change_stamp_moves_with_every_write_and_only_then,
        );
    };
    (@cases $make:expr; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let catalog = $make.await;
                $crate::conformance::$case(&*catalog).await;
            }
        )+
    };
}
