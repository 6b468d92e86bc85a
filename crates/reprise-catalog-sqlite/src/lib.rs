//! The Reprise catalog in a SQLite file: the zero-setup default. One file beside the
//! configuration, opened in WAL mode so readers (the dashboard) never block the writer
//! (a backup recording its run). Migrations in `migrations/` are embedded and applied on
//! open; released migrations are never edited.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use reprise_catalog::{
    AssetChange, AssetRecord, Catalog, CatalogError, ChangeKind, diff_inventory, from_micros,
    to_micros,
};
use reprise_domain::AssetState;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A catalog stored in one SQLite file.
pub struct SqliteCatalog {
    pool: SqlitePool,
    path: PathBuf,
}

impl SqliteCatalog {
    /// Opens the catalog at `path`, creating the file if needed and applying pending
    /// migrations.
    pub async fn open(path: &Path) -> Result<Self, CatalogError> {
        let location = format!("sqlite:{}", path.display());
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| open_error(&location, e))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| open_error(&location, e))?;
        MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| CatalogError::Migrate {
                location: location.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            pool,
            path: path.to_path_buf(),
        })
    }
}

fn open_error(location: &str, err: impl std::fmt::Display) -> CatalogError {
    CatalogError::Open {
        location: location.to_string(),
        reason: err.to_string(),
    }
}

fn state_text(state: Option<AssetState>) -> Option<&'static str> {
    state.map(AssetState::as_str)
}

fn parse_state(text: Option<String>) -> Result<Option<AssetState>, CatalogError> {
    text.map(|t| AssetState::parse(&t).map_err(|e| CatalogError::query("reading a state", e)))
        .transpose()
}

fn change_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AssetChange, CatalogError> {
    let read = |e| CatalogError::query("reading asset history", e);
    let kind: String = row.try_get("kind").map_err(read)?;
    Ok(AssetChange {
        asset: row.try_get("asset_id").map_err(read)?,
        at: from_micros(row.try_get("at_us").map_err(read)?)?,
        kind: ChangeKind::parse(&kind)
            .ok_or_else(|| CatalogError::query("reading asset history", kind.clone()))?,
        from_state: parse_state(row.try_get("from_state").map_err(read)?)?,
        to_state: parse_state(row.try_get("to_state").map_err(read)?)?,
    })
}

#[async_trait]
impl Catalog for SqliteCatalog {
    fn location(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    async fn record_inventory(
        &self,
        assets: &[AssetRecord],
        at: Timestamp,
    ) -> Result<Vec<AssetChange>, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording the inventory", e);
        // IMMEDIATE takes the write lock up front, so two processes loading the same
        // workspace cannot both record the same change.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(fail)?;
        let rows = sqlx::query("SELECT id, state, fingerprint FROM assets ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .map_err(fail)?;
        let mut previous = Vec::with_capacity(rows.len());
        for row in rows {
            let state: String = row.try_get("state").map_err(fail)?;
            previous.push(AssetRecord {
                id: row.try_get("id").map_err(fail)?,
                state: AssetState::parse(&state)
                    .map_err(|e| CatalogError::query("recording the inventory", e))?,
                fingerprint: row.try_get("fingerprint").map_err(fail)?,
            });
        }
        let changes = diff_inventory(&previous, assets, at);
        if changes.is_empty() {
            tx.commit().await.map_err(fail)?;
            return Ok(changes);
        }
        let at_us = to_micros(at);
        for change in &changes {
            sqlx::query(
                "INSERT INTO asset_changes (asset_id, at_us, kind, from_state, to_state) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&change.asset)
            .bind(at_us)
            .bind(change.kind.as_str())
            .bind(state_text(change.from_state))
            .bind(state_text(change.to_state))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            if change.kind == ChangeKind::Removed {
                sqlx::query("DELETE FROM assets WHERE id = ?")
                    .bind(&change.asset)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
            }
        }
        for record in assets {
            sqlx::query(
                "INSERT INTO assets (id, state, fingerprint, first_seen_us, updated_us) \
                 VALUES (?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
                 fingerprint = excluded.fingerprint, updated_us = excluded.updated_us \
                 WHERE assets.state <> excluded.state OR assets.fingerprint <> excluded.fingerprint",
            )
            .bind(&record.id)
            .bind(record.state.as_str())
            .bind(&record.fingerprint)
            .bind(at_us)
            .bind(at_us)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
        Ok(changes)
    }

    async fn asset_history(&self, asset: &str) -> Result<Vec<AssetChange>, CatalogError> {
        let rows = sqlx::query(
            "SELECT asset_id, at_us, kind, from_state, to_state FROM asset_changes \
             WHERE asset_id = ? ORDER BY at_us, seq",
        )
        .bind(asset)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading asset history", e))?;
        rows.iter().map(change_from_row).collect()
    }

    async fn inventory_history(&self) -> Result<Vec<AssetChange>, CatalogError> {
        let rows = sqlx::query(
            "SELECT asset_id, at_us, kind, from_state, to_state FROM asset_changes \
             ORDER BY at_us, seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading asset history", e))?;
        rows.iter().map(change_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fresh {
        catalog: SqliteCatalog,
        _dir: tempfile::TempDir,
    }

    impl std::ops::Deref for Fresh {
        type Target = SqliteCatalog;
        fn deref(&self) -> &SqliteCatalog {
            &self.catalog
        }
    }

    async fn fresh() -> Fresh {
        let dir = tempfile::tempdir().unwrap();
        let catalog = SqliteCatalog::open(&dir.path().join("catalog.db"))
            .await
            .unwrap();
        Fresh { catalog, _dir: dir }
    }

    reprise_catalog::catalog_conformance_tests!(fresh());

    #[tokio::test]
    async fn reopening_keeps_the_history_and_applies_no_migration_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let record = AssetRecord {
            id: "router".into(),
            state: AssetState::Failed,
            fingerprint: "x".into(),
        };
        {
            let catalog = SqliteCatalog::open(&path).await.unwrap();
            catalog
                .record_inventory(std::slice::from_ref(&record), Timestamp::UNIX_EPOCH)
                .await
                .unwrap();
        }
        let catalog = SqliteCatalog::open(&path).await.unwrap();
        assert_eq!(catalog.asset_history("router").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_unwritable_location_is_a_clear_error() {
        let err = SqliteCatalog::open(Path::new("/proc/no/such/dir/catalog.db"))
            .await
            .err()
            .expect("opening must fail");
        assert!(
            err.to_string()
                .starts_with("cannot open the catalog at sqlite:/proc/no/such/dir/catalog.db"),
            "{err}"
        );
    }
}
