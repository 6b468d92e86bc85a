//! The catalog on PostgreSQL, for larger and multi-server deployments. Chosen with a
//! `postgres://` URL in the configuration or `REPRISE_CATALOG`. Migrations in
//! `migrations/postgres/` are embedded and applied on connect (sqlx takes an advisory
//! lock, so two servers starting together do not race); released migrations are never
//! edited.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use reprise_catalog::CatalogError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Transaction};

// The SQL both dialects share, compiled once per dialect with this module's types.
#[allow(
    clippy::duplicate_mod,
    reason = "the one SQL body is compiled for each dialect on purpose"
)]
#[path = "body.rs"]
mod body;

type Db = Postgres;
type DbRow = sqlx::postgres::PgRow;
type Store = PostgresCatalog;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A catalog in a PostgreSQL database.
pub struct PostgresCatalog {
    pool: PgPool,
    location: String,
    /// The full URL, password included, for `pg_dump`; never shown.
    url: String,
}

/// The URL without its password, fit for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..scheme_end + 3], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl PostgresCatalog {
    /// Connects to the database at `url` and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, CatalogError> {
        let location = redact(url);
        let open_error = |e: sqlx::Error| CatalogError::Open {
            location: location.clone(),
            reason: e.to_string(),
        };
        let options = PgConnectOptions::from_str(url).map_err(open_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        MIGRATIONS
            .run(&pool)
            .await
            .map_err(|e| CatalogError::Migrate {
                location: location.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            pool,
            location,
            url: url.to_string(),
        })
    }
}

async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Db>, sqlx::Error> {
    pool.begin().await
}

/// Serialises the writers of `table` (two servers recording the same inventory, or
/// appending to the journal, whose chain must not fork); readers are not blocked.
async fn lock(tx: &mut Transaction<'_, Db>, table: &'static str) -> Result<(), sqlx::Error> {
    // `table` is one of the body's literals, never input.
    sqlx::query(AssertSqlSafe(format!(
        "LOCK TABLE {table} IN EXCLUSIVE MODE"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// For each asset its newest finished run of a kind; ties on the start broken by the id.
const LATEST_RUNS: &str = "SELECT DISTINCT ON (asset_id) * FROM runs \
     WHERE kind = $1 AND status <> 'running' AND asset_id IS NOT NULL \
     ORDER BY asset_id, started_us DESC, id DESC";

fn location(catalog: &PostgresCatalog) -> String {
    catalog.location.clone()
}

/// The cluster's current snapshot (`xmin:xmax:in-progress ids`): a write transaction
/// that starts moves `xmax`, one that ends leaves the list, so a commit anywhere changes
/// it; reads do not.
async fn change_stamp(catalog: &PostgresCatalog) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_current_snapshot()::text")
        .fetch_one(&catalog.pool)
        .await
}

/// A plain SQL dump by `pg_dump`.
async fn export(catalog: &PostgresCatalog, dir: &Path) -> Result<PathBuf, CatalogError> {
    let file = dir.join("catalog.sql");
    let failed = |reason: String| CatalogError::Query {
        action: "dumping the catalog with pg_dump",
        reason,
    };
    // The password goes through the environment, never the command line.
    let mut command = tokio::process::Command::new(pg_dump());
    command
        .arg("--no-owner")
        .arg("--no-privileges")
        .arg("--file")
        .arg(&file)
        .arg("--dbname")
        .arg(redact(&catalog.url))
        .stdin(std::process::Stdio::null());
    if let Some(password) = password(&catalog.url) {
        command.env("PGPASSWORD", password);
    }
    let out = command.output().await.map_err(|e| {
        failed(format!(
            "cannot run pg_dump (install postgresql-client): {e}"
        ))
    })?;
    if !out.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    Ok(file)
}

/// The password of a `postgres://user:password@host/db` URL.
fn password(url: &str) -> Option<String> {
    let scheme_end = url.find("://")? + 3;
    let at = url.rfind('@').filter(|&at| at > scheme_end)?;
    let (_, password) = url[scheme_end..at].split_once(':')?;
    Some(password.to_string())
}

/// `pg_dump` from the PATH, or the newest one Debian's packages installed.
fn pg_dump() -> std::path::PathBuf {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join("pg_dump").is_file()));
    if on_path {
        return "pg_dump".into();
    }
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/pg_dump"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| "pg_dump".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use reprise_catalog::{AssetRecord, Catalog};
    use reprise_domain::AssetState;

    async fn fresh() -> Box<PostgresCatalog> {
        let url = reprise_testkit::postgres_database().await;
        Box::new(PostgresCatalog::connect(&url).await.unwrap())
    }

    reprise_catalog::catalog_conformance_tests!(fresh());

    #[test]
    fn passwords_never_appear_in_the_location() {
        assert_eq!(
            redact("postgres://reprise:s3cret@db.example:5432/reprise"),
            "postgres://reprise@db.example:5432/reprise"
        );
        assert_eq!(redact("postgres://db/reprise"), "postgres://db/reprise");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_clear_error_without_the_password() {
        let err = PostgresCatalog::connect("postgres://u:hunter2@127.0.0.1:1/none")
            .await
            .err()
            .expect("connecting must fail");
        let text = err.to_string();
        assert!(
            text.starts_with("cannot open the catalog at postgres://u@127.0.0.1:1/none"),
            "{text}"
        );
        assert!(!text.contains("hunter2"));
    }

    #[tokio::test]
    async fn two_catalogs_on_one_database_migrate_once_and_share_history() {
        let url = reprise_testkit::postgres_database().await;
        let (a, b) = tokio::join!(
            PostgresCatalog::connect(&url),
            PostgresCatalog::connect(&url)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let record = AssetRecord {
            id: "router".into(),
            state: AssetState::Failed,
            fingerprint: "x".into(),
        };
        let (ra, rb) = tokio::join!(
            a.record_inventory(std::slice::from_ref(&record), Timestamp::UNIX_EPOCH),
            b.record_inventory(std::slice::from_ref(&record), Timestamp::UNIX_EPOCH)
        );
        assert_eq!(
            ra.unwrap().len() + rb.unwrap().len(),
            1,
            "the addition is recorded once"
        );
        assert_eq!(b.asset_history("router").await.unwrap().len(), 1);
    }
}
