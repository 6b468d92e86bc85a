//! The Reprise catalog on PostgreSQL, for larger and multi-server deployments. Chosen with
//! a `postgres://` URL in the configuration or `REPRISE_CATALOG`. Migrations in
//! `migrations/` are embedded and applied on connect (sqlx takes an advisory lock, so two
//! servers starting together do not race); released migrations are never edited.

use std::str::FromStr;

use async_trait::async_trait;
use jiff::Timestamp;
use reprise_catalog::{
    AssetChange, AssetRecord, Catalog, CatalogError, ChangeKind, diff_inventory, from_micros,
    to_micros,
};
use reprise_domain::AssetState;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A catalog in a PostgreSQL database.
pub struct PostgresCatalog {
    pool: PgPool,
    location: String,
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
        Ok(Self { pool, location })
    }
}

fn parse_state(text: Option<String>) -> Result<Option<AssetState>, CatalogError> {
    text.map(|t| AssetState::parse(&t).map_err(|e| CatalogError::query("reading a state", e)))
        .transpose()
}

fn change_from_row(row: &sqlx::postgres::PgRow) -> Result<AssetChange, CatalogError> {
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
impl Catalog for PostgresCatalog {
    fn location(&self) -> String {
        self.location.clone()
    }

    async fn record_inventory(
        &self,
        assets: &[AssetRecord],
        at: Timestamp,
    ) -> Result<Vec<AssetChange>, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording the inventory", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        // Serialise concurrent recorders (two servers loading the same inventory) so a
        // change is recorded once; readers are not blocked.
        sqlx::query("LOCK TABLE assets IN EXCLUSIVE MODE")
            .execute(&mut *tx)
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
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&change.asset)
            .bind(at_us)
            .bind(change.kind.as_str())
            .bind(change.from_state.map(AssetState::as_str))
            .bind(change.to_state.map(AssetState::as_str))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            if change.kind == ChangeKind::Removed {
                sqlx::query("DELETE FROM assets WHERE id = $1")
                    .bind(&change.asset)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
            }
        }
        for record in assets {
            sqlx::query(
                "INSERT INTO assets (id, state, fingerprint, first_seen_us, updated_us) \
                 VALUES ($1, $2, $3, $4, $4) \
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
                 fingerprint = excluded.fingerprint, updated_us = excluded.updated_us \
                 WHERE assets.state <> excluded.state OR assets.fingerprint <> excluded.fingerprint",
            )
            .bind(&record.id)
            .bind(record.state.as_str())
            .bind(&record.fingerprint)
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
             WHERE asset_id = $1 ORDER BY at_us, seq",
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
