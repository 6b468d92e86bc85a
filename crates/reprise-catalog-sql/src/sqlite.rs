//! The catalog in a SQLite file: the zero-setup default. One file beside the
//! configuration, opened in WAL mode so readers (the dashboard) never block the writer
//! (a backup recording its run). Migrations in `migrations/sqlite/` are embedded and
//! applied on open; released migrations are never edited.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use reprise_catalog::CatalogError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{Sqlite, Transaction};

// The SQL both dialects share, compiled once per dialect with this module's types.
#[allow(
    clippy::duplicate_mod,
    reason = "the one SQL body is compiled for each dialect on purpose"
)]
#[path = "body.rs"]
mod body;

type Db = Sqlite;
type DbRow = sqlx::sqlite::SqliteRow;
type Store = SqliteCatalog;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A catalog stored in one SQLite file.
pub struct SqliteCatalog {
    pool: SqlitePool,
    path: PathBuf,
    /// A connection of its own that never writes, to read `PRAGMA data_version`: it
    /// changes when any other connection, of this process or another, commits.
    watcher: tokio::sync::Mutex<Option<sqlx::SqliteConnection>>,
    options: SqliteConnectOptions,
}

impl SqliteCatalog {
    /// Opens the catalog at `path`, creating the file if needed and applying pending
    /// migrations.
    pub async fn open(path: &Path) -> Result<Self, CatalogError> {
        let location = format!("sqlite:{}", path.display());
        // A workspace written by hand (or checked out from git) has no state directory yet.
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| open_error(&location, e))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| open_error(&location, e))?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
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
            watcher: tokio::sync::Mutex::new(None),
            options,
        })
    }
}

fn open_error(location: &str, err: impl std::fmt::Display) -> CatalogError {
    CatalogError::Open {
        location: location.to_string(),
        reason: err.to_string(),
    }
}

/// IMMEDIATE takes the write lock up front, so two processes loading the same workspace
/// cannot both read the old state and then both record the same change.
async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Db>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Nothing to do: `begin_write` already holds the database's only write lock.
async fn lock(_: &mut Transaction<'_, Db>, _table: &'static str) -> Result<(), sqlx::Error> {
    Ok(())
}

/// For each asset its newest finished run of a kind; ties on the start broken by the id.
const LATEST_RUNS: &str = "SELECT r.* FROM runs r \
     WHERE r.kind = $1 AND r.status <> 'running' AND r.asset_id IS NOT NULL \
     AND r.id = (SELECT l.id FROM runs l \
                 WHERE l.asset_id = r.asset_id AND l.kind = r.kind AND l.status <> 'running' \
                 ORDER BY l.started_us DESC, l.id DESC LIMIT 1)";

fn location(catalog: &SqliteCatalog) -> String {
    format!("sqlite:{}", catalog.path.display())
}

/// `PRAGMA data_version` on the watching connection (opened on first use).
async fn change_stamp(catalog: &SqliteCatalog) -> Result<String, sqlx::Error> {
    use sqlx::Connection as _;
    let mut watcher = catalog.watcher.lock().await;
    if watcher.is_none() {
        *watcher = Some(sqlx::SqliteConnection::connect_with(&catalog.options).await?);
    }
    let conn = watcher.as_mut().expect("the watcher was just opened");
    let version: i64 = sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(conn)
        .await?;
    Ok(version.to_string())
}

/// VACUUM INTO writes a consistent, compacted copy while others keep writing.
async fn export(catalog: &SqliteCatalog, dir: &Path) -> Result<PathBuf, CatalogError> {
    let file = dir.join("catalog.db");
    sqlx::query("VACUUM INTO $1")
        .bind(file.to_string_lossy().to_string())
        .execute(&catalog.pool)
        .await
        .map_err(|e| CatalogError::query("copying the catalog", e))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use reprise_catalog::{AssetRecord, Catalog};
    use reprise_domain::AssetState;

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
    async fn another_process_writing_moves_the_change_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalog.db");
        let server = SqliteCatalog::open(&path).await.unwrap();
        let before = server.change_stamp().await.unwrap();
        // A command line run beside the server: its own connections.
        let cli = SqliteCatalog::open(&path).await.unwrap();
        cli.record_inventory(
            &[AssetRecord {
                id: "router".into(),
                state: AssetState::Failed,
                fingerprint: "x".into(),
            }],
            Timestamp::UNIX_EPOCH,
        )
        .await
        .unwrap();
        assert_ne!(server.change_stamp().await.unwrap(), before);
    }

    #[tokio::test]
    async fn the_state_directory_is_created_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".reprise/catalog.db");
        SqliteCatalog::open(&path).await.unwrap();
        assert!(path.is_file());
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
