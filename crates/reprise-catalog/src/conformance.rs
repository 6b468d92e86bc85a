//! The conformance suite: behaviour every [`Catalog`](crate::Catalog) implementation must
//! show. Each implementation's tests invoke [`catalog_conformance_tests!`] with an async
//! expression that yields a fresh, empty catalog; the macro expands to one `#[tokio::test]`
//! per case, so a failure names the behaviour that broke.

use jiff::Timestamp;
use reprise_domain::AssetState;

use crate::{AssetRecord, Catalog, ChangeKind};

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
