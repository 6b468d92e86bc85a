//! The Reprise catalog on PostgreSQL, for larger and multi-server deployments. Chosen with
//! a `postgres://` URL in the configuration or `REPRISE_CATALOG`. Migrations in
//! `migrations/` are embedded and applied on connect (sqlx takes an advisory lock, so two
//! servers starting together do not race); released migrations are never edited.

use std::str::FromStr;

use async_trait::async_trait;
use jiff::Timestamp;
use reprise_catalog::{
    Alert, Approval, AssetChange, AssetRecord, Catalog, CatalogError, ChangeKind, ErasureRow,
    IncidentEvent, IncidentRow, IncidentSave, JournalEntry, NewIncidentRow, NewJournalEntry,
    NewRequestRow, NewRun, RepoVerification, RequestEvent, RequestRow, RequestSave, RestorePoint,
    Run, RunFilter, RunKind, RunOutcome, RunStatus, Seal, TokenRow, UserRow, Verification,
    diff_inventory, from_micros, opt_i64, opt_time, opt_u64, parse_state, to_micros,
};
use reprise_domain::AssetState;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

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

    async fn start_run(&self, run: &NewRun) -> Result<i64, CatalogError> {
        let kind = run.kind.unwrap_or(RunKind::Backup);
        let started = run.started.unwrap_or(Timestamp::UNIX_EPOCH);
        let row = sqlx::query(
            "INSERT INTO runs (kind, asset_id, dataset, repo_id, started_us, status) \
             VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id",
        )
        .bind(kind.as_str())
        .bind(&run.asset)
        .bind(&run.dataset)
        .bind(&run.repository)
        .bind(to_micros(started))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| CatalogError::query("starting a run", e))?;
        row.try_get("id")
            .map_err(|e| CatalogError::query("starting a run", e))
    }

    async fn finish_run(&self, id: i64, outcome: &RunOutcome) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE runs SET finished_us = $1, status = $2, snapshot_id = $3, files = $4, \
             bytes_read = $5, bytes_added = $6, error = $7, detail = $8 WHERE id = $9",
        )
        .bind(to_micros(outcome.finished))
        .bind(outcome.status.as_str())
        .bind(&outcome.snapshot)
        .bind(opt_i64(outcome.files))
        .bind(opt_i64(outcome.bytes_read))
        .bind(opt_i64(outcome.bytes_added))
        .bind(&outcome.error)
        .bind(&outcome.detail)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("finishing a run", e))?;
        Ok(())
    }

    async fn runs(&self, filter: &RunFilter) -> Result<Vec<Run>, CatalogError> {
        // Only the conditions that apply, so that the planner uses the index on the asset.
        let sql = match (filter.asset.is_some(), filter.kind.is_some()) {
            (true, true) => {
                "SELECT * FROM runs WHERE asset_id = $1 AND kind = $2 ORDER BY started_us DESC, id DESC LIMIT $3"
            }
            (true, false) => {
                "SELECT * FROM runs WHERE asset_id = $1 ORDER BY started_us DESC, id DESC LIMIT $2"
            }
            (false, true) => {
                "SELECT * FROM runs WHERE kind = $1 ORDER BY started_us DESC, id DESC LIMIT $2"
            }
            (false, false) => "SELECT * FROM runs ORDER BY started_us DESC, id DESC LIMIT $1",
        };
        let mut query = sqlx::query(sql);
        if let Some(asset) = &filter.asset {
            query = query.bind(asset);
        }
        if let Some(kind) = filter.kind {
            query = query.bind(kind.as_str());
        }
        let rows = query
            .bind(filter.limit.map(i64::from))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading runs", e))?;
        rows.iter().map(run_from_row).collect()
    }

    async fn latest_runs(&self, kind: RunKind) -> Result<Vec<Run>, CatalogError> {
        let rows = sqlx::query(
            "SELECT DISTINCT ON (asset_id) * FROM runs \
             WHERE kind = $1 AND status <> 'running' AND asset_id IS NOT NULL \
             ORDER BY asset_id, started_us DESC, id DESC",
        )
        .bind(kind.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading the latest runs", e))?;
        rows.iter().map(run_from_row).collect()
    }

    async fn sync_restore_points(
        &self,
        repository: &str,
        points: &[RestorePoint],
    ) -> Result<(), CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording restore points", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let known: Vec<String> =
            sqlx::query_scalar("SELECT snapshot_id FROM restore_points WHERE repo_id = $1")
                .bind(repository)
                .fetch_all(&mut *tx)
                .await
                .map_err(fail)?;
        // Sets, not lists: a repository may hold tens of thousands of restore points.
        let current: std::collections::HashSet<&str> =
            points.iter().map(|p| p.snapshot.as_str()).collect();
        for id in &known {
            if !current.contains(id.as_str()) {
                sqlx::query("DELETE FROM restore_points WHERE repo_id = $1 AND snapshot_id = $2")
                    .bind(repository)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
            }
        }
        let known: std::collections::HashSet<&str> = known.iter().map(String::as_str).collect();
        for p in points
            .iter()
            .filter(|p| !known.contains(p.snapshot.as_str()))
        {
            sqlx::query(
                "INSERT INTO restore_points (repo_id, snapshot_id, asset_id, dataset, policy, \
                 time_us, files, bytes, bytes_added, verified_us, failed_us, failure) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(repository)
            .bind(&p.snapshot)
            .bind(&p.asset)
            .bind(&p.dataset)
            .bind(&p.policy)
            .bind(to_micros(p.time))
            .bind(opt_i64(p.files))
            .bind(opt_i64(p.bytes))
            .bind(opt_i64(p.bytes_added))
            .bind(p.verified.map(to_micros))
            .bind(p.failed.map(to_micros))
            .bind(&p.failure)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    async fn restore_points(&self, asset: Option<&str>) -> Result<Vec<RestorePoint>, CatalogError> {
        let rows = match asset {
            Some(asset) => sqlx::query(
                "SELECT * FROM restore_points WHERE asset_id = $1 \
                 ORDER BY time_us, repo_id, snapshot_id",
            )
            .bind(asset),
            None => {
                sqlx::query("SELECT * FROM restore_points ORDER BY time_us, repo_id, snapshot_id")
            }
        }
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading restore points", e))?;
        rows.iter().map(point_from_row).collect()
    }

    async fn mark_verified(
        &self,
        repository: &str,
        snapshots: &[String],
        at: Timestamp,
        outcome: &Verification,
    ) -> Result<(), CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording a verification", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        for id in snapshots {
            let query = match outcome {
                Verification::Passed => sqlx::query(
                    "UPDATE restore_points SET verified_us = $1, failed_us = NULL, failure = NULL \
                     WHERE repo_id = $2 AND snapshot_id = $3",
                )
                .bind(to_micros(at)),
                Verification::Failed(why) => sqlx::query(
                    "UPDATE restore_points SET failed_us = $1, failure = $2 \
                     WHERE repo_id = $3 AND snapshot_id = $4",
                )
                .bind(to_micros(at))
                .bind(why.clone()),
            };
            query
                .bind(repository)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    async fn record_verification(&self, v: &RepoVerification) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO verifications (repo_id, at_us, mode, slice_index, slice_of, ok) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&v.repository)
        .bind(to_micros(v.at))
        .bind(&v.mode)
        .bind(v.slice.map(|s| i64::from(s.0)))
        .bind(v.slice.map(|s| i64::from(s.1)))
        .bind(v.ok)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording a verification", e))?;
        Ok(())
    }

    async fn verifications(&self, repository: &str) -> Result<Vec<RepoVerification>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM verifications WHERE repo_id = $1 ORDER BY at_us, id")
            .bind(repository)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading verifications", e))?;
        rows.iter()
            .map(|row| {
                let read = |e| CatalogError::query("reading verifications", e);
                let index: Option<i64> = row.try_get("slice_index").map_err(read)?;
                let of: Option<i64> = row.try_get("slice_of").map_err(read)?;
                Ok(RepoVerification {
                    repository: row.try_get("repo_id").map_err(read)?,
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                    mode: row.try_get("mode").map_err(read)?,
                    slice: index.zip(of).map(|(i, o)| (i as u32, o as u32)),
                    ok: row.try_get("ok").map_err(read)?,
                })
            })
            .collect()
    }

    async fn create_token(&self, token: &TokenRow) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO api_tokens (hash, name, created_us, user_name, role, scope, expires_us) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&token.hash)
        .bind(&token.name)
        .bind(to_micros(token.created))
        .bind(&token.user)
        .bind(&token.role)
        .bind(&token.scope)
        .bind(token.expires.map(to_micros))
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("storing a token", e))?;
        Ok(())
    }

    async fn token(&self, hash: &str) -> Result<Option<TokenRow>, CatalogError> {
        let row = sqlx::query("SELECT * FROM api_tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("checking a token", e))?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn tokens(&self) -> Result<Vec<TokenRow>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY created_us, name")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading tokens", e))?;
        rows.iter().map(token_from_row).collect()
    }

    async fn revoke_token(&self, hash: &str, at: Timestamp) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_us = $1 WHERE hash = $2 AND revoked_us IS NULL",
        )
        .bind(to_micros(at))
        .bind(hash)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("revoking a token", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn save_user(&self, user: &UserRow) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO users (name, role, scope, password_hash, created_us, disabled_us, failed_signins, locked_until_us, lang) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO UPDATE SET role = excluded.role, scope = excluded.scope, password_hash = excluded.password_hash, disabled_us = excluded.disabled_us, failed_signins = excluded.failed_signins, locked_until_us = excluded.locked_until_us, lang = excluded.lang",
        )
        .bind(&user.name)
        .bind(&user.role)
        .bind(&user.scope)
        .bind(&user.password_hash)
        .bind(to_micros(user.created))
        .bind(user.disabled.map(to_micros))
        .bind(user.failed_signins)
        .bind(user.locked_until.map(to_micros))
        .bind(&user.lang)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("saving an account", e))?;
        Ok(())
    }

    async fn swap_signins(
        &self,
        name: &str,
        expected: i64,
        failed: i64,
        locked_until: Option<Timestamp>,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE users SET failed_signins = $3, locked_until_us = $4 WHERE name = $1 AND failed_signins = $2",
        )
        .bind(name)
        .bind(expected)
        .bind(failed)
        .bind(locked_until.map(to_micros))
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("counting a sign-in", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn user(&self, name: &str) -> Result<Option<UserRow>, CatalogError> {
        let row = sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading an account", e))?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users(&self) -> Result<Vec<UserRow>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading accounts", e))?;
        rows.iter().map(user_from_row).collect()
    }

    async fn raise_alert(
        &self,
        key: &str,
        severity: &str,
        message: &str,
        at: Timestamp,
    ) -> Result<bool, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("raising an alert", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let updated = sqlx::query(
            "UPDATE alerts SET severity = $1, message = $2, updated_us = $3 \
             WHERE key = $4 AND resolved_us IS NULL",
        )
        .bind(severity)
        .bind(message)
        .bind(to_micros(at))
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(fail)?
        .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO alerts (key, severity, message, opened_us, updated_us) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key)
            .bind(severity)
            .bind(message)
            .bind(to_micros(at))
            .bind(to_micros(at))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)?;
        Ok(updated == 0)
    }

    async fn resolve_alert(&self, key: &str, at: Timestamp) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE alerts SET resolved_us = $1 WHERE key = $2 AND resolved_us IS NULL",
        )
        .bind(to_micros(at))
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("resolving an alert", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn alerts(&self, open_only: bool) -> Result<Vec<Alert>, CatalogError> {
        let rows = sqlx::query(
            "SELECT * FROM alerts WHERE ($1 = FALSE OR resolved_us IS NULL) \
             ORDER BY opened_us DESC, id DESC",
        )
        .bind(open_only)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading alerts", e))?;
        rows.iter()
            .map(|row: &sqlx::postgres::PgRow| {
                let read = |e| CatalogError::query("reading alerts", e);
                Ok(Alert {
                    id: row.try_get("id").map_err(read)?,
                    key: row.try_get("key").map_err(read)?,
                    severity: row.try_get("severity").map_err(read)?,
                    message: row.try_get("message").map_err(read)?,
                    opened: from_micros(row.try_get("opened_us").map_err(read)?)?,
                    updated: from_micros(row.try_get("updated_us").map_err(read)?)?,
                    resolved: opt_time(row.try_get("resolved_us").map_err(read)?)?,
                    acknowledged: opt_time(row.try_get("acknowledged_us").map_err(read)?)?,
                    acknowledged_by: row.try_get("acknowledged_by").map_err(read)?,
                })
            })
            .collect()
    }

    async fn acknowledge_alert(
        &self,
        key: &str,
        by: &str,
        at: Timestamp,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE alerts SET acknowledged_us = $1, acknowledged_by = $2 WHERE key = $3 AND resolved_us IS NULL",
        )
        .bind(to_micros(at))
        .bind(by)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("acknowledging an alert", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn try_lease(
        &self,
        key: &str,
        holder: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "INSERT INTO leases (key, holder, expires_us) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_us = excluded.expires_us \
             WHERE leases.expires_us < $4 OR leases.holder = excluded.holder",
        )
        .bind(key)
        .bind(holder)
        .bind(to_micros(until))
        .bind(to_micros(now))
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("taking a lease", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn lease_holder(
        &self,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<String>, CatalogError> {
        sqlx::query_scalar("SELECT holder FROM leases WHERE key = $1 AND expires_us >= $2")
            .bind(key)
            .bind(to_micros(now))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading a lease", e))
    }

    async fn release_lease(&self, key: &str, holder: &str) -> Result<(), CatalogError> {
        sqlx::query("DELETE FROM leases WHERE key = $1 AND holder = $2")
            .bind(key)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(|e| CatalogError::query("releasing a lease", e))?;
        Ok(())
    }

    async fn create_incident(&self, new: &NewIncidentRow) -> Result<i64, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("opening an incident", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, severity, phase, source, opened_us, updated_us, version, doc) VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(&new.title)
        .bind(&new.severity)
        .bind(&new.phase)
        .bind(&new.source)
        .bind(to_micros(new.opened))
        .bind(to_micros(new.opened))
        .bind(&new.doc)
        .fetch_one(&mut *tx)
        .await
        .map_err(fail)?;
        sqlx::query(
            "INSERT INTO incident_events (incident_id, at_us, kind, actor, text, text_fr) VALUES ($1, $2, 'opened', $3, $4, $5)",
        )
        .bind(id)
        .bind(to_micros(new.opened))
        .bind(&new.actor)
        .bind(&new.text)
        .bind(&new.text_fr)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(id)
    }

    async fn save_incident(
        &self,
        save: &IncidentSave,
        events: &[IncidentEvent],
    ) -> Result<(), CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("saving an incident", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let changed = sqlx::query(
            "UPDATE incidents SET severity = $1, phase = $2, updated_us = $3, closed_us = $4, doc = $5, version = version + 1 WHERE id = $6 AND version = $7",
        )
        .bind(&save.severity)
        .bind(&save.phase)
        .bind(to_micros(save.updated))
        .bind(save.closed.map(to_micros))
        .bind(&save.doc)
        .bind(save.id)
        .bind(save.version)
        .execute(&mut *tx)
        .await
        .map_err(fail)?
        .rows_affected();
        if changed == 0 {
            return Err(CatalogError::Conflict {
                what: "incident",
                id: save.id,
            });
        }
        for e in events {
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at_us, kind, actor, text, text_fr) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(save.id)
            .bind(to_micros(e.at))
            .bind(&e.kind)
            .bind(&e.actor)
            .bind(&e.text)
            .bind(&e.text_fr)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    async fn incident(&self, id: i64) -> Result<Option<IncidentRow>, CatalogError> {
        let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading an incident", e))?;
        row.as_ref().map(incident_from_row).transpose()
    }

    async fn incidents(&self, open_only: bool) -> Result<Vec<IncidentRow>, CatalogError> {
        let sql = if open_only {
            "SELECT * FROM incidents WHERE closed_us IS NULL ORDER BY opened_us DESC, id DESC"
        } else {
            "SELECT * FROM incidents ORDER BY opened_us DESC, id DESC"
        };
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading incidents", e))?;
        rows.iter().map(incident_from_row).collect()
    }

    async fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM incident_events WHERE incident_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading an incident's timeline", e))?;
        rows.iter()
            .map(|row: &sqlx::postgres::PgRow| {
                let read = |e| CatalogError::query("reading an incident's timeline", e);
                Ok(IncidentEvent {
                    incident: row.try_get("incident_id").map_err(read)?,
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                    kind: row.try_get("kind").map_err(read)?,
                    actor: row.try_get("actor").map_err(read)?,
                    text: row.try_get("text").map_err(read)?,
                    text_fr: row.try_get("text_fr").map_err(read)?,
                })
            })
            .collect()
    }

    async fn create_request(&self, new: &NewRequestRow) -> Result<i64, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording a restore request", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO restore_requests (state, requester, created_us, updated_us, version, doc) VALUES ($1, $2, $3, $3, 1, $4) RETURNING id",
        )
        .bind(&new.state)
        .bind(&new.requester)
        .bind(to_micros(new.created))
        .bind(&new.doc)
        .fetch_one(&mut *tx)
        .await
        .map_err(fail)?;
        sqlx::query(
            "INSERT INTO request_events (request_id, at_us, kind, actor, text, text_fr) VALUES ($1, $2, 'submitted', $3, $4, $5)",
        )
        .bind(id)
        .bind(to_micros(new.created))
        .bind(&new.actor)
        .bind(&new.text)
        .bind(&new.text_fr)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(id)
    }

    async fn save_request(
        &self,
        save: &RequestSave,
        events: &[RequestEvent],
    ) -> Result<(), CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("saving a restore request", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        let changed = sqlx::query(
            "UPDATE restore_requests SET state = $1, updated_us = $2, closed_us = $3, doc = $4, version = version + 1 WHERE id = $5 AND version = $6",
        )
        .bind(&save.state)
        .bind(to_micros(save.updated))
        .bind(save.closed.map(to_micros))
        .bind(&save.doc)
        .bind(save.id)
        .bind(save.version)
        .execute(&mut *tx)
        .await
        .map_err(fail)?
        .rows_affected();
        if changed == 0 {
            return Err(CatalogError::Conflict {
                what: "restore request",
                id: save.id,
            });
        }
        for e in events {
            sqlx::query(
                "INSERT INTO request_events (request_id, at_us, kind, actor, text, text_fr) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(save.id)
            .bind(to_micros(e.at))
            .bind(&e.kind)
            .bind(&e.actor)
            .bind(&e.text)
            .bind(&e.text_fr)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    async fn request(&self, id: i64) -> Result<Option<RequestRow>, CatalogError> {
        let row = sqlx::query("SELECT * FROM restore_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading a restore request", e))?;
        row.as_ref().map(request_from_row).transpose()
    }

    async fn requests(&self, open_only: bool) -> Result<Vec<RequestRow>, CatalogError> {
        let sql = if open_only {
            "SELECT * FROM restore_requests WHERE closed_us IS NULL ORDER BY created_us DESC, id DESC"
        } else {
            "SELECT * FROM restore_requests ORDER BY created_us DESC, id DESC"
        };
        let rows = sqlx::query(sql)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading restore requests", e))?;
        rows.iter().map(request_from_row).collect()
    }

    async fn request_events(&self, id: i64) -> Result<Vec<RequestEvent>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM request_events WHERE request_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading a request's timeline", e))?;
        rows.iter()
            .map(|row: &sqlx::postgres::PgRow| {
                let read = |e| CatalogError::query("reading a request's timeline", e);
                Ok(RequestEvent {
                    request: row.try_get("request_id").map_err(read)?,
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                    kind: row.try_get("kind").map_err(read)?,
                    actor: row.try_get("actor").map_err(read)?,
                    text: row.try_get("text").map_err(read)?,
                    text_fr: row.try_get("text_fr").map_err(read)?,
                })
            })
            .collect()
    }

    async fn append_journal(
        &self,
        entry: &NewJournalEntry,
        seal: &Seal,
    ) -> Result<JournalEntry, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("appending to the journal", e);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        // One append at a time: the chain has no forks.
        sqlx::query("LOCK TABLE journal IN EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(fail)?;
        let mut row = entry.after(last);
        row.hash = seal(&row);
        sqlx::query(
            "INSERT INTO journal (seq, at_us, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.seq)
        .bind(to_micros(row.at))
        .bind(&row.actor)
        .bind(&row.action)
        .bind(&row.subject)
        .bind(&row.detail)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(row)
    }

    async fn journal(
        &self,
        after: i64,
        limit: Option<i64>,
    ) -> Result<Vec<JournalEntry>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading the journal", e))?;
        rows.iter()
            .map(|row: &sqlx::postgres::PgRow| {
                let read = |e| CatalogError::query("reading the journal", e);
                Ok(JournalEntry {
                    seq: row.try_get("seq").map_err(read)?,
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                    actor: row.try_get("actor").map_err(read)?,
                    action: row.try_get("action").map_err(read)?,
                    subject: row.try_get("subject").map_err(read)?,
                    detail: row.try_get("detail").map_err(read)?,
                    prev_hash: row.try_get("prev_hash").map_err(read)?,
                    hash: row.try_get("hash").map_err(read)?,
                })
            })
            .collect()
    }

    async fn record_rotation(&self, secret: &str, at: Timestamp) -> Result<(), CatalogError> {
        sqlx::query("INSERT INTO rotations (secret, at_us) VALUES ($1, $2)")
            .bind(secret)
            .bind(to_micros(at))
            .execute(&self.pool)
            .await
            .map_err(|e| CatalogError::query("recording a rotation", e))?;
        Ok(())
    }

    async fn create_erasure(
        &self,
        asset: &str,
        created: Timestamp,
        doc: &str,
    ) -> Result<i64, CatalogError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO erasures (asset, state, created_us, doc) VALUES ($1, 'planned', $2, $3) RETURNING id",
        )
        .bind(asset)
        .bind(to_micros(created))
        .bind(doc)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording an erasure", e))?;
        Ok(id)
    }

    async fn finish_erasure(
        &self,
        id: i64,
        state: &str,
        finished: Timestamp,
        doc: &str,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE erasures SET state = $1, finished_us = $2, doc = $3 WHERE id = $4 AND state = 'planned'",
        )
        .bind(state)
        .bind(to_micros(finished))
        .bind(doc)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording an erasure's end", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn erasures(&self, asset: Option<&str>) -> Result<Vec<ErasureRow>, CatalogError> {
        let rows: Vec<(i64, String, String, i64, Option<i64>, String)> = sqlx::query_as(
            "SELECT id, asset, state, created_us, finished_us, doc FROM erasures WHERE $1::TEXT IS NULL OR asset = $1 ORDER BY id",
        )
        .bind(asset)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading erasures", e))?;
        rows.into_iter()
            .map(|(id, asset, state, created, finished, doc)| {
                Ok(ErasureRow {
                    id,
                    asset,
                    state,
                    created: from_micros(created)?,
                    finished: finished.map(from_micros).transpose()?,
                    doc,
                })
            })
            .collect()
    }

    async fn rotations(&self) -> Result<Vec<(String, Timestamp)>, CatalogError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT secret, MAX(at_us) FROM rotations GROUP BY secret ORDER BY secret",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading rotations", e))?;
        rows.into_iter()
            .map(|(s, at)| Ok((s, from_micros(at)?)))
            .collect()
    }

    async fn record_approval(&self, approval: &Approval) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO approvals (asset_id, rpo, rto, approved_by, at_us) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&approval.asset)
        .bind(&approval.rpo)
        .bind(&approval.rto)
        .bind(&approval.by)
        .bind(to_micros(approval.at))
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording an approval", e))?;
        Ok(())
    }

    async fn approvals(&self) -> Result<Vec<Approval>, CatalogError> {
        let rows = sqlx::query(
            "SELECT a.* FROM approvals a WHERE a.seq = (SELECT MAX(b.seq) FROM approvals b WHERE b.asset_id = a.asset_id) ORDER BY a.asset_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading approvals", e))?;
        rows.iter()
            .map(|row: &sqlx::postgres::PgRow| {
                let read = |e| CatalogError::query("reading approvals", e);
                Ok(Approval {
                    asset: row.try_get("asset_id").map_err(read)?,
                    rpo: row.try_get("rpo").map_err(read)?,
                    rto: row.try_get("rto").map_err(read)?,
                    by: row.try_get("approved_by").map_err(read)?,
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                })
            })
            .collect()
    }

    async fn export_to(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, CatalogError> {
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
            .arg(redact(&self.url))
            .stdin(std::process::Stdio::null());
        if let Some(password) = password(&self.url) {
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

fn request_from_row(row: &sqlx::postgres::PgRow) -> Result<RequestRow, CatalogError> {
    let read = |e| CatalogError::query("reading a restore request", e);
    Ok(RequestRow {
        id: row.try_get("id").map_err(read)?,
        state: row.try_get("state").map_err(read)?,
        requester: row.try_get("requester").map_err(read)?,
        created: from_micros(row.try_get("created_us").map_err(read)?)?,
        updated: from_micros(row.try_get("updated_us").map_err(read)?)?,
        closed: opt_time(row.try_get("closed_us").map_err(read)?)?,
        version: row.try_get("version").map_err(read)?,
        doc: row.try_get("doc").map_err(read)?,
    })
}

fn token_from_row(row: &sqlx::postgres::PgRow) -> Result<TokenRow, CatalogError> {
    let read = |e| CatalogError::query("reading a token", e);
    Ok(TokenRow {
        hash: row.try_get("hash").map_err(read)?,
        name: row.try_get("name").map_err(read)?,
        user: row.try_get("user_name").map_err(read)?,
        role: row.try_get("role").map_err(read)?,
        scope: row.try_get("scope").map_err(read)?,
        created: from_micros(row.try_get("created_us").map_err(read)?)?,
        expires: opt_time(row.try_get("expires_us").map_err(read)?)?,
        revoked: opt_time(row.try_get("revoked_us").map_err(read)?)?,
    })
}

fn user_from_row(row: &sqlx::postgres::PgRow) -> Result<UserRow, CatalogError> {
    let read = |e| CatalogError::query("reading an account", e);
    Ok(UserRow {
        name: row.try_get("name").map_err(read)?,
        role: row.try_get("role").map_err(read)?,
        scope: row.try_get("scope").map_err(read)?,
        password_hash: row.try_get("password_hash").map_err(read)?,
        created: from_micros(row.try_get("created_us").map_err(read)?)?,
        disabled: opt_time(row.try_get("disabled_us").map_err(read)?)?,
        failed_signins: row.try_get("failed_signins").map_err(read)?,
        locked_until: opt_time(row.try_get("locked_until_us").map_err(read)?)?,
        lang: row.try_get("lang").map_err(read)?,
    })
}

fn incident_from_row(row: &sqlx::postgres::PgRow) -> Result<IncidentRow, CatalogError> {
    let read = |e| CatalogError::query("reading an incident", e);
    Ok(IncidentRow {
        id: row.try_get("id").map_err(read)?,
        title: row.try_get("title").map_err(read)?,
        severity: row.try_get("severity").map_err(read)?,
        phase: row.try_get("phase").map_err(read)?,
        source: row.try_get("source").map_err(read)?,
        opened: from_micros(row.try_get("opened_us").map_err(read)?)?,
        updated: from_micros(row.try_get("updated_us").map_err(read)?)?,
        closed: opt_time(row.try_get("closed_us").map_err(read)?)?,
        version: row.try_get("version").map_err(read)?,
        doc: row.try_get("doc").map_err(read)?,
    })
}

fn run_from_row(row: &sqlx::postgres::PgRow) -> Result<Run, CatalogError> {
    let read = |e| CatalogError::query("reading runs", e);
    let kind: String = row.try_get("kind").map_err(read)?;
    let status: String = row.try_get("status").map_err(read)?;
    Ok(Run {
        id: row.try_get("id").map_err(read)?,
        kind: RunKind::parse(&kind).ok_or_else(|| CatalogError::query("reading runs", kind))?,
        asset: row.try_get("asset_id").map_err(read)?,
        dataset: row.try_get("dataset").map_err(read)?,
        repository: row.try_get("repo_id").map_err(read)?,
        started: from_micros(row.try_get("started_us").map_err(read)?)?,
        finished: opt_time(row.try_get("finished_us").map_err(read)?)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| CatalogError::query("reading runs", status))?,
        snapshot: row.try_get("snapshot_id").map_err(read)?,
        files: opt_u64(row.try_get("files").map_err(read)?),
        bytes_read: opt_u64(row.try_get("bytes_read").map_err(read)?),
        bytes_added: opt_u64(row.try_get("bytes_added").map_err(read)?),
        error: row.try_get("error").map_err(read)?,
        detail: row.try_get("detail").map_err(read)?,
    })
}

fn point_from_row(row: &sqlx::postgres::PgRow) -> Result<RestorePoint, CatalogError> {
    let read = |e| CatalogError::query("reading restore points", e);
    Ok(RestorePoint {
        repository: row.try_get("repo_id").map_err(read)?,
        snapshot: row.try_get("snapshot_id").map_err(read)?,
        asset: row.try_get("asset_id").map_err(read)?,
        dataset: row.try_get("dataset").map_err(read)?,
        policy: row.try_get("policy").map_err(read)?,
        time: from_micros(row.try_get("time_us").map_err(read)?)?,
        files: opt_u64(row.try_get("files").map_err(read)?),
        bytes: opt_u64(row.try_get("bytes").map_err(read)?),
        bytes_added: opt_u64(row.try_get("bytes_added").map_err(read)?),
        verified: opt_time(row.try_get("verified_us").map_err(read)?)?,
        failed: opt_time(row.try_get("failed_us").map_err(read)?)?,
        failure: row.try_get("failure").map_err(read)?,
    })
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
