// The catalog's SQL, written once for both dialects. `sqlite.rs` and `postgres.rs` each
// include this file as their `body` module (`#[path = "body.rs"]`), after naming their
// `Store`, `Db` and `DbRow`, and the few things the dialects really do differently:
// `begin_write` (SQLite takes its write lock up front), `lock` (PostgreSQL locks a table
// where one writer at a time matters), `LATEST_RUNS` (the newest row per group),
// `location` and `export`. Placeholders are `$1`, which both drivers take.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use jiff::Timestamp;
use reprise_catalog::{
    AgentJob, AgentRecord, Alert, Approval, AssetChange, AssetRecord, Catalog, CatalogError,
    ChangeKind, DeviceRecord, ErasureRow, IncidentEvent, IncidentRow, IncidentSave, JobState,
    JournalEntry, NewAgentJob, NewIncidentRow, NewJournalEntry, NewRequestRow, NewRun, Provenance,
    RecordedState, RepoVerification, RequestEvent, RequestRow, RequestSave, RestorePoint, Run,
    RunFilter, RunKind, RunOutcome, RunStatus, Seal, Suspicion, TokenRow, UserRow, Verification,
    diff_inventory, from_micros, opt_i64, opt_time, opt_u64, parse_state, to_micros,
};
use reprise_domain::AssetState;
use sqlx::{AssertSqlSafe, Row, Transaction};

use super::{Db, DbRow, Store};

fn change_from_row(row: &DbRow) -> Result<AssetChange, CatalogError> {
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

fn provenance_from_row(row: &DbRow) -> Result<Provenance, CatalogError> {
    let read = |e| CatalogError::query("reading where a restore point comes from", e);
    Ok(Provenance {
        repository: row.try_get("repo_id").map_err(read)?,
        snapshot: row.try_get("snapshot_id").map_err(read)?,
        how: row.try_get("how").map_err(read)?,
        at: from_micros(row.try_get("at_us").map_err(read)?)?,
        actor: row.try_get("actor").map_err(read)?,
        reason: row.try_get("reason").map_err(read)?,
    })
}

fn agent_job_from_row(row: &DbRow) -> Result<AgentJob, CatalogError> {
    let read = |e| CatalogError::query("reading an agent's job", e);
    let state: String = row.try_get("state").map_err(read)?;
    Ok(AgentJob {
        id: row.try_get("id").map_err(read)?,
        host: row.try_get("host").map_err(read)?,
        kind: row.try_get("kind").map_err(read)?,
        asset: row.try_get("asset_id").map_err(read)?,
        spec: row.try_get("spec").map_err(read)?,
        created: from_micros(row.try_get("created_us").map_err(read)?)?,
        deadline: from_micros(row.try_get("deadline_us").map_err(read)?)?,
        state: JobState::parse(&state)
            .ok_or_else(|| CatalogError::query("reading an agent's job", state.clone()))?,
        started: opt_time(row.try_get("started_us").map_err(read)?)?,
        finished: opt_time(row.try_get("finished_us").map_err(read)?)?,
        result: row.try_get("result").map_err(read)?,
    })
}

#[async_trait]
impl Catalog for Store {
    fn location(&self) -> String {
        super::location(self)
    }

    async fn record_inventory(
        &self,
        assets: &[AssetRecord],
        at: Timestamp,
    ) -> Result<Vec<AssetChange>, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording the inventory", e);
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
        // Serialise concurrent recorders (two servers loading the same inventory) so a
        // change is recorded once; readers are not blocked.
        super::lock(&mut tx, "assets").await.map_err(fail)?;
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

    async fn record_state(&self, s: &RecordedState) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO asset_states (asset_id, state, since_us, at_us, actor, note) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.asset)
        .bind(s.state.as_str())
        .bind(to_micros(s.since))
        .bind(to_micros(s.at))
        .bind(&s.actor)
        .bind(&s.note)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording a state", e))?;
        Ok(())
    }

    async fn recorded_states(&self) -> Result<Vec<RecordedState>, CatalogError> {
        let read = |e| CatalogError::query("reading recorded states", e);
        let rows = sqlx::query(
            "SELECT * FROM asset_states s WHERE s.seq = \
             (SELECT MAX(t.seq) FROM asset_states t WHERE t.asset_id = s.asset_id) \
             ORDER BY s.asset_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read)?;
        rows.iter()
            .map(|row: &DbRow| {
                let state: Option<String> = row.try_get("state").map_err(read)?;
                Ok(RecordedState {
                    asset: row.try_get("asset_id").map_err(read)?,
                    state: parse_state(state)?.ok_or_else(|| {
                        CatalogError::query("reading recorded states", "a state is missing")
                    })?,
                    since: from_micros(row.try_get("since_us").map_err(read)?)?,
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                    actor: row.try_get("actor").map_err(read)?,
                    note: row.try_get("note").map_err(read)?,
                })
            })
            .collect()
    }

    async fn save_device(&self, d: &DeviceRecord) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO devices (asset_id, dataset, checked_us, checks, error, fingerprint, \
             redacted, changed_us, change, backed_up_us, snapshot) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (asset_id, dataset) DO UPDATE SET checked_us = excluded.checked_us, \
             checks = excluded.checks, error = excluded.error, \
             fingerprint = excluded.fingerprint, redacted = excluded.redacted, \
             changed_us = excluded.changed_us, change = excluded.change, \
             backed_up_us = excluded.backed_up_us, snapshot = excluded.snapshot",
        )
        .bind(&d.asset)
        .bind(&d.dataset)
        .bind(d.checked.map(to_micros))
        .bind(i64::try_from(d.checks).unwrap_or(i64::MAX))
        .bind(&d.error)
        .bind(&d.fingerprint)
        .bind(&d.redacted)
        .bind(d.changed.map(to_micros))
        .bind(&d.change)
        .bind(d.backed_up.map(to_micros))
        .bind(&d.snapshot)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("saving a device's record", e))?;
        Ok(())
    }

    async fn devices(&self) -> Result<Vec<DeviceRecord>, CatalogError> {
        let read = |e| CatalogError::query("reading devices", e);
        let rows = sqlx::query("SELECT * FROM devices ORDER BY asset_id, dataset")
            .fetch_all(&self.pool)
            .await
            .map_err(read)?;
        let time = |row: &DbRow, column: &str| -> Result<Option<Timestamp>, CatalogError> {
            row.try_get::<Option<i64>, _>(column)
                .map_err(read)?
                .map(from_micros)
                .transpose()
        };
        rows.iter()
            .map(|row: &DbRow| {
                Ok(DeviceRecord {
                    asset: row.try_get("asset_id").map_err(read)?,
                    dataset: row.try_get("dataset").map_err(read)?,
                    checked: time(row, "checked_us")?,
                    checks: u64::try_from(row.try_get::<i64, _>("checks").map_err(read)?)
                        .unwrap_or(0),
                    error: row.try_get("error").map_err(read)?,
                    fingerprint: row.try_get("fingerprint").map_err(read)?,
                    redacted: row.try_get("redacted").map_err(read)?,
                    changed: time(row, "changed_us")?,
                    change: row.try_get("change").map_err(read)?,
                    backed_up: time(row, "backed_up_us")?,
                    snapshot: row.try_get("snapshot").map_err(read)?,
                })
            })
            .collect()
    }

    async fn save_agent(&self, a: &AgentRecord) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO agents (host, enrolled_us, seen_us, version, address) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (host) DO UPDATE SET enrolled_us = excluded.enrolled_us, \
             seen_us = excluded.seen_us, version = excluded.version, address = excluded.address",
        )
        .bind(&a.host)
        .bind(to_micros(a.enrolled))
        .bind(a.seen.map(to_micros))
        .bind(&a.version)
        .bind(&a.address)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("saving an agent", e))?;
        Ok(())
    }

    async fn agents(&self) -> Result<Vec<AgentRecord>, CatalogError> {
        let read = |e| CatalogError::query("reading agents", e);
        let rows = sqlx::query("SELECT * FROM agents ORDER BY host")
            .fetch_all(&self.pool)
            .await
            .map_err(read)?;
        rows.iter()
            .map(|row: &DbRow| {
                Ok(AgentRecord {
                    host: row.try_get("host").map_err(read)?,
                    enrolled: from_micros(row.try_get("enrolled_us").map_err(read)?)?,
                    seen: opt_time(row.try_get("seen_us").map_err(read)?)?,
                    version: row.try_get("version").map_err(read)?,
                    address: row.try_get("address").map_err(read)?,
                })
            })
            .collect()
    }

    async fn queue_agent_job(&self, job: &NewAgentJob) -> Result<i64, CatalogError> {
        let row = sqlx::query(
            "INSERT INTO agent_jobs (host, kind, asset_id, spec, created_us, deadline_us, state) \
             VALUES ($1, $2, $3, $4, $5, $6, 'waiting') RETURNING id",
        )
        .bind(&job.host)
        .bind(&job.kind)
        .bind(&job.asset)
        .bind(&job.spec)
        .bind(to_micros(job.created))
        .bind(to_micros(job.deadline))
        .fetch_one(&self.pool)
        .await
        .map_err(|e| CatalogError::query("queueing a job for an agent", e))?;
        row.try_get("id")
            .map_err(|e| CatalogError::query("queueing a job for an agent", e))
    }

    async fn agent_jobs(
        &self,
        host: Option<&str>,
        open_only: bool,
    ) -> Result<Vec<AgentJob>, CatalogError> {
        let rows = sqlx::query(
            "SELECT * FROM agent_jobs WHERE ($1 IS NULL OR host = $1) \
             AND ($2 = 0 OR state IN ('waiting', 'running')) ORDER BY id DESC",
        )
        .bind(host)
        .bind(i64::from(open_only))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| CatalogError::query("reading agents' jobs", e))?;
        rows.iter().map(agent_job_from_row).collect()
    }

    async fn agent_job(&self, id: i64) -> Result<Option<AgentJob>, CatalogError> {
        sqlx::query("SELECT * FROM agent_jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading an agent's job", e))?
            .as_ref()
            .map(agent_job_from_row)
            .transpose()
    }

    async fn move_agent_job(
        &self,
        id: i64,
        from: JobState,
        to: JobState,
        at: Timestamp,
        result: Option<&str>,
    ) -> Result<bool, CatalogError> {
        let column = if to == JobState::Running {
            "started_us"
        } else {
            "finished_us"
        };
        let done = sqlx::query(AssertSqlSafe(format!(
            "UPDATE agent_jobs SET state = $1, {column} = $2, result = COALESCE($3, result) \
             WHERE id = $4 AND state = $5"
        )))
        .bind(to.as_str())
        .bind(to_micros(at))
        .bind(result)
        .bind(id)
        .bind(from.as_str())
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("moving an agent's job", e))?;
        Ok(done.rows_affected() == 1)
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
            .bind(filter.limit.map_or(i64::MAX, i64::from))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading runs", e))?;
        rows.iter().map(run_from_row).collect()
    }

    async fn run_counts(&self) -> Result<Vec<(RunKind, RunStatus, u64)>, CatalogError> {
        let read = |e| CatalogError::query("counting runs", e);
        let rows = sqlx::query(
            "SELECT kind, status, COUNT(*) AS n FROM runs GROUP BY kind, status ORDER BY kind, status",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(read)?;
        let mut out = Vec::new();
        for row in &rows {
            let kind: String = row.try_get("kind").map_err(read)?;
            let status: String = row.try_get("status").map_err(read)?;
            let n: i64 = row.try_get("n").map_err(read)?;
            if let (Some(kind), Some(status)) = (RunKind::parse(&kind), RunStatus::parse(&status)) {
                out.push((kind, status, u64::try_from(n).unwrap_or(0)));
            }
        }
        Ok(out)
    }

    async fn latest_runs(&self, kind: RunKind) -> Result<Vec<Run>, CatalogError> {
        let rows = sqlx::query(super::LATEST_RUNS)
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
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
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
        self.points(asset, true).await
    }

    async fn foreign_points(&self, asset: Option<&str>) -> Result<Vec<RestorePoint>, CatalogError> {
        self.points(asset, false).await
    }

    async fn record_provenance(&self, p: &Provenance) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO provenance (repo_id, snapshot_id, how, at_us, actor, reason) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (repo_id, snapshot_id) DO NOTHING",
        )
        .bind(&p.repository)
        .bind(&p.snapshot)
        .bind(&p.how)
        .bind(to_micros(p.at))
        .bind(&p.actor)
        .bind(&p.reason)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording where a restore point comes from", e))?;
        Ok(())
    }

    async fn provenance(
        &self,
        repository: &str,
        snapshot: &str,
    ) -> Result<Option<Provenance>, CatalogError> {
        let row = sqlx::query("SELECT * FROM provenance WHERE repo_id = $1 AND snapshot_id = $2")
            .bind(repository)
            .bind(snapshot)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading where a restore point comes from", e))?;
        row.as_ref().map(provenance_from_row).transpose()
    }

    async fn provenances(&self) -> Result<Vec<Provenance>, CatalogError> {
        let rows = sqlx::query("SELECT * FROM provenance ORDER BY repo_id, snapshot_id")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading where restore points come from", e))?;
        rows.iter().map(provenance_from_row).collect()
    }

    async fn record_suspicion(&self, s: &Suspicion) -> Result<(), CatalogError> {
        sqlx::query(
            "INSERT INTO suspicions (asset_id, dataset, time_us, repo_id, snapshot_id, at_us, \
             reasons, signals) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (asset_id, dataset, time_us) DO NOTHING",
        )
        .bind(&s.asset)
        .bind(&s.dataset)
        .bind(to_micros(s.time))
        .bind(&s.repository)
        .bind(&s.snapshot)
        .bind(to_micros(s.at))
        .bind(&s.reasons)
        .bind(&s.signals)
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("recording a suspect restore point", e))?;
        Ok(())
    }

    async fn clear_suspicion(
        &self,
        asset: &str,
        dataset: &str,
        time: Timestamp,
        at: Timestamp,
        by: &str,
        reason: &str,
    ) -> Result<bool, CatalogError> {
        let done = sqlx::query(
            "UPDATE suspicions SET cleared_us = $1, cleared_by = $2, clearance = $3 \
             WHERE asset_id = $4 AND dataset = $5 AND time_us = $6 AND cleared_us IS NULL",
        )
        .bind(to_micros(at))
        .bind(by)
        .bind(reason)
        .bind(asset)
        .bind(dataset)
        .bind(to_micros(time))
        .execute(&self.pool)
        .await
        .map_err(|e| CatalogError::query("clearing a suspect restore point", e))?;
        Ok(done.rows_affected() > 0)
    }

    async fn suspicions(&self, asset: Option<&str>) -> Result<Vec<Suspicion>, CatalogError> {
        let query = match asset {
            Some(a) => sqlx::query(
                "SELECT * FROM suspicions WHERE asset_id = $1 ORDER BY time_us, dataset",
            )
            .bind(a.to_string()),
            None => sqlx::query("SELECT * FROM suspicions ORDER BY time_us, asset_id, dataset"),
        };
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading suspect restore points", e))?;
        rows.iter().map(suspicion_from_row).collect()
    }

    async fn mark_verified(
        &self,
        repository: &str,
        snapshots: &[String],
        at: Timestamp,
        outcome: &Verification,
    ) -> Result<(), CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("recording a verification", e);
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
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
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
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
            .map(|row: &DbRow| {
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
        let columns = [
            ("title", Some(new.title.as_str())),
            ("severity", Some(new.severity.as_str())),
            ("phase", Some(new.phase.as_str())),
            ("source", new.source.as_deref()),
        ];
        let first = Entry::new(new.opened, "opened", &new.actor, &new.text, &new.text_fr);
        self.create_document(&INCIDENTS, &columns, &new.doc, first)
            .await
    }

    async fn save_incident(
        &self,
        save: &IncidentSave,
        events: &[IncidentEvent],
    ) -> Result<(), CatalogError> {
        let columns = [
            ("severity", Some(save.severity.as_str())),
            ("phase", Some(save.phase.as_str())),
        ];
        let version = Version::new(save.id, save.version, save.updated, save.closed, &save.doc);
        let entries = events
            .iter()
            .map(|e| Entry::new(e.at, &e.kind, &e.actor, &e.text, &e.text_fr));
        self.save_document(&INCIDENTS, &columns, version, entries)
            .await
    }

    async fn incident(&self, id: i64) -> Result<Option<IncidentRow>, CatalogError> {
        self.document(&INCIDENTS, id, incident_from_row).await
    }

    async fn incidents(&self, open_only: bool) -> Result<Vec<IncidentRow>, CatalogError> {
        self.documents(&INCIDENTS, open_only, incident_from_row)
            .await
    }

    async fn incident_events(&self, id: i64) -> Result<Vec<IncidentEvent>, CatalogError> {
        let timeline = self.timeline(&INCIDENTS, id).await?;
        Ok(timeline.into_iter().map(|e| e.of_incident(id)).collect())
    }

    async fn create_request(&self, new: &NewRequestRow) -> Result<i64, CatalogError> {
        let columns = [
            ("state", Some(new.state.as_str())),
            ("requester", Some(new.requester.as_str())),
        ];
        let first = Entry::new(
            new.created,
            "submitted",
            &new.actor,
            &new.text,
            &new.text_fr,
        );
        self.create_document(&REQUESTS, &columns, &new.doc, first)
            .await
    }

    async fn save_request(
        &self,
        save: &RequestSave,
        events: &[RequestEvent],
    ) -> Result<(), CatalogError> {
        let columns = [("state", Some(save.state.as_str()))];
        let version = Version::new(save.id, save.version, save.updated, save.closed, &save.doc);
        let entries = events
            .iter()
            .map(|e| Entry::new(e.at, &e.kind, &e.actor, &e.text, &e.text_fr));
        self.save_document(&REQUESTS, &columns, version, entries)
            .await
    }

    async fn request(&self, id: i64) -> Result<Option<RequestRow>, CatalogError> {
        self.document(&REQUESTS, id, request_from_row).await
    }

    async fn requests(&self, open_only: bool) -> Result<Vec<RequestRow>, CatalogError> {
        self.documents(&REQUESTS, open_only, request_from_row).await
    }

    async fn request_events(&self, id: i64) -> Result<Vec<RequestEvent>, CatalogError> {
        let timeline = self.timeline(&REQUESTS, id).await?;
        Ok(timeline.into_iter().map(|e| e.of_request(id)).collect())
    }

    async fn append_journal(
        &self,
        entry: &NewJournalEntry,
        seal: &Seal,
    ) -> Result<JournalEntry, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query("appending to the journal", e);
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
        // One append at a time: the chain has no forks.
        super::lock(&mut tx, "journal").await.map_err(fail)?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
                .map_err(fail)?;
        let mut row = entry.after(last);
        row.hash = seal(&row);
        sqlx::query(
            "INSERT INTO journal (seq, at_us, actor, action, subject, detail, prev_hash, hash, record, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(row.seq)
        .bind(to_micros(row.at))
        .bind(&row.actor)
        .bind(&row.action)
        .bind(&row.subject)
        .bind(&row.detail)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .bind(&row.record)
        .bind(&row.digest)
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
            .map(|row: &DbRow| {
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
                    record: row.try_get("record").map_err(read)?,
                    digest: row.try_get("digest").map_err(read)?,
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
            "UPDATE erasures SET state = $1, finished_us = $2, doc = $3 WHERE id = $4 AND state IN ('planned', 'failed')",
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
            "SELECT id, asset, state, created_us, finished_us, doc FROM erasures WHERE CAST($1 AS TEXT) IS NULL OR asset = $1 ORDER BY id",
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
            .map(|row: &DbRow| {
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

    async fn export_to(&self, dir: &Path) -> Result<PathBuf, CatalogError> {
        super::export(self, dir).await
    }

    async fn change_stamp(&self) -> Result<String, CatalogError> {
        super::change_stamp(self)
            .await
            .map_err(|e| CatalogError::query("reading the catalog's change stamp", e))
    }
}

impl Store {
    /// Restore points with a provenance (`trusted`) or without one, oldest first.
    async fn points(
        &self,
        asset: Option<&str>,
        trusted: bool,
    ) -> Result<Vec<RestorePoint>, CatalogError> {
        let sql = match (asset.is_some(), trusted) {
            (true, true) => {
                "SELECT p.*, s.reasons AS suspect FROM restore_points p JOIN provenance o \
                 ON o.repo_id = p.repo_id AND o.snapshot_id = p.snapshot_id \
                 LEFT JOIN suspicions s ON s.asset_id = p.asset_id AND s.dataset = p.dataset \
                 AND s.time_us = p.time_us AND s.cleared_us IS NULL \
                 WHERE p.asset_id = $1 ORDER BY p.time_us, p.repo_id, p.snapshot_id"
            }
            (false, true) => {
                "SELECT p.*, s.reasons AS suspect FROM restore_points p JOIN provenance o \
                 ON o.repo_id = p.repo_id AND o.snapshot_id = p.snapshot_id \
                 LEFT JOIN suspicions s ON s.asset_id = p.asset_id AND s.dataset = p.dataset \
                 AND s.time_us = p.time_us AND s.cleared_us IS NULL \
                 ORDER BY p.time_us, p.repo_id, p.snapshot_id"
            }
            (true, false) => {
                "SELECT p.*, CAST(NULL AS TEXT) AS suspect FROM restore_points p LEFT JOIN provenance o \
                 ON o.repo_id = p.repo_id AND o.snapshot_id = p.snapshot_id \
                 WHERE o.snapshot_id IS NULL AND p.asset_id = $1 \
                 ORDER BY p.time_us, p.repo_id, p.snapshot_id"
            }
            (false, false) => {
                "SELECT p.*, CAST(NULL AS TEXT) AS suspect FROM restore_points p LEFT JOIN provenance o \
                 ON o.repo_id = p.repo_id AND o.snapshot_id = p.snapshot_id \
                 WHERE o.snapshot_id IS NULL ORDER BY p.time_us, p.repo_id, p.snapshot_id"
            }
        };
        let mut query = sqlx::query(sql);
        if let Some(asset) = asset {
            query = query.bind(asset);
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query("reading restore points", e))?;
        rows.iter().map(point_from_row).collect()
    }
}

/// Incidents and restore requests are stored alike: a row with the few columns they are
/// listed and filtered by, the whole document as JSON, a version that refuses a save
/// based on an older one, and an append-only timeline. `Documents` names one such table.
struct Documents {
    table: &'static str,
    timeline: &'static str,
    /// The timeline's column pointing at the row.
    owner: &'static str,
    /// The column holding when it was opened or submitted, newest listed first.
    since: &'static str,
    /// What a stale save calls it.
    what: &'static str,
    creating: &'static str,
    saving: &'static str,
    reading: &'static str,
    listing: &'static str,
    reading_timeline: &'static str,
}

const INCIDENTS: Documents = Documents {
    table: "incidents",
    timeline: "incident_events",
    owner: "incident_id",
    since: "opened_us",
    what: "incident",
    creating: "opening an incident",
    saving: "saving an incident",
    reading: "reading an incident",
    listing: "reading incidents",
    reading_timeline: "reading an incident's timeline",
};

const REQUESTS: Documents = Documents {
    table: "restore_requests",
    timeline: "request_events",
    owner: "request_id",
    since: "created_us",
    what: "restore request",
    creating: "recording a restore request",
    saving: "saving a restore request",
    reading: "reading a restore request",
    listing: "reading restore requests",
    reading_timeline: "reading a request's timeline",
};

/// A timeline entry to append.
struct Entry<'a> {
    at: Timestamp,
    kind: &'a str,
    actor: Option<&'a str>,
    text: &'a str,
    text_fr: Option<&'a str>,
}

impl<'a> Entry<'a> {
    fn new(
        at: Timestamp,
        kind: &'a str,
        actor: &'a Option<String>,
        text: &'a str,
        text_fr: &'a Option<String>,
    ) -> Self {
        Entry {
            at,
            kind,
            actor: actor.as_deref(),
            text,
            text_fr: text_fr.as_deref(),
        }
    }
}

/// A timeline entry as read back.
struct Recorded {
    at: Timestamp,
    kind: String,
    actor: Option<String>,
    text: String,
    text_fr: Option<String>,
}

impl Recorded {
    fn of_incident(self, incident: i64) -> IncidentEvent {
        let Recorded {
            at,
            kind,
            actor,
            text,
            text_fr,
        } = self;
        IncidentEvent {
            incident,
            at,
            kind,
            actor,
            text,
            text_fr,
        }
    }

    fn of_request(self, request: i64) -> RequestEvent {
        let Recorded {
            at,
            kind,
            actor,
            text,
            text_fr,
        } = self;
        RequestEvent {
            request,
            at,
            kind,
            actor,
            text,
            text_fr,
        }
    }
}

/// The new version of a document, and the version it was based on.
struct Version<'a> {
    id: i64,
    based_on: i64,
    updated: Timestamp,
    closed: Option<Timestamp>,
    doc: &'a str,
}

impl<'a> Version<'a> {
    fn new(
        id: i64,
        based_on: i64,
        updated: Timestamp,
        closed: Option<Timestamp>,
        doc: &'a str,
    ) -> Self {
        Version {
            id,
            based_on,
            updated,
            closed,
            doc,
        }
    }
}

// The statements built below with `format!` join only the table and column names of the
// constants above and numbered placeholders; every value is bound, hence `AssertSqlSafe`.

/// `$first, $first+1, …` for `count` parameters.
fn placeholders(first: usize, count: usize) -> Vec<String> {
    (first..first + count).map(|n| format!("${n}")).collect()
}

impl Store {
    /// Inserts the row (`columns`, opened and updated now, version 1) and its first
    /// timeline entry in one transaction.
    async fn create_document(
        &self,
        docs: &Documents,
        columns: &[(&str, Option<&str>)],
        doc: &str,
        first: Entry<'_>,
    ) -> Result<i64, CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query(docs.creating, e);
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let n = columns.len();
        let sql = format!(
            "INSERT INTO {} ({}, {}, updated_us, version, doc) VALUES ({}, ${}, ${}, 1, ${}) RETURNING id",
            docs.table,
            names.join(", "),
            docs.since,
            placeholders(1, n).join(", "),
            n + 1,
            n + 1,
            n + 2,
        );
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
        let mut insert = sqlx::query_scalar(AssertSqlSafe(sql));
        for (_, value) in columns {
            insert = insert.bind(*value);
        }
        let id: i64 = insert
            .bind(to_micros(first.at))
            .bind(doc)
            .fetch_one(&mut *tx)
            .await
            .map_err(fail)?;
        append_entry(&mut tx, docs, id, &first)
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(id)
    }

    /// Replaces the document if nobody saved it since `version.based_on`, and appends
    /// `entries` to its timeline, all or nothing.
    async fn save_document(
        &self,
        docs: &Documents,
        columns: &[(&str, Option<&str>)],
        version: Version<'_>,
        entries: impl Iterator<Item = Entry<'_>>,
    ) -> Result<(), CatalogError> {
        let fail = |e: sqlx::Error| CatalogError::query(docs.saving, e);
        let n = columns.len();
        let set: Vec<String> = columns
            .iter()
            .zip(placeholders(1, n))
            .map(|((name, _), p)| format!("{name} = {p}"))
            .collect();
        let sql = format!(
            "UPDATE {} SET {}, updated_us = ${}, closed_us = ${}, doc = ${}, version = version + 1 WHERE id = ${} AND version = ${}",
            docs.table,
            set.join(", "),
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
        );
        let mut tx = super::begin_write(&self.pool).await.map_err(fail)?;
        let mut update = sqlx::query(AssertSqlSafe(sql));
        for (_, value) in columns {
            update = update.bind(*value);
        }
        let changed = update
            .bind(to_micros(version.updated))
            .bind(version.closed.map(to_micros))
            .bind(version.doc)
            .bind(version.id)
            .bind(version.based_on)
            .execute(&mut *tx)
            .await
            .map_err(fail)?
            .rows_affected();
        if changed == 0 {
            return Err(CatalogError::Conflict {
                what: docs.what,
                id: version.id,
            });
        }
        for entry in entries {
            append_entry(&mut tx, docs, version.id, &entry)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    async fn document<T>(
        &self,
        docs: &Documents,
        id: i64,
        read: fn(&DbRow) -> Result<T, CatalogError>,
    ) -> Result<Option<T>, CatalogError> {
        let sql = format!("SELECT * FROM {} WHERE id = $1", docs.table);
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| CatalogError::query(docs.reading, e))?;
        row.as_ref().map(read).transpose()
    }

    /// Newest first; only those not closed when `open_only`.
    async fn documents<T>(
        &self,
        docs: &Documents,
        open_only: bool,
        read: fn(&DbRow) -> Result<T, CatalogError>,
    ) -> Result<Vec<T>, CatalogError> {
        let filter = if open_only {
            " WHERE closed_us IS NULL"
        } else {
            ""
        };
        let sql = format!(
            "SELECT * FROM {}{filter} ORDER BY {} DESC, id DESC",
            docs.table, docs.since
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| CatalogError::query(docs.listing, e))?;
        rows.iter().map(read).collect()
    }

    /// The timeline in the order it was written.
    async fn timeline(&self, docs: &Documents, id: i64) -> Result<Vec<Recorded>, CatalogError> {
        let read = |e| CatalogError::query(docs.reading_timeline, e);
        let sql = format!(
            "SELECT at_us, kind, actor, text, text_fr FROM {} WHERE {} = $1 ORDER BY seq",
            docs.timeline, docs.owner
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(read)?;
        rows.iter()
            .map(|row| {
                Ok(Recorded {
                    at: from_micros(row.try_get("at_us").map_err(read)?)?,
                    kind: row.try_get("kind").map_err(read)?,
                    actor: row.try_get("actor").map_err(read)?,
                    text: row.try_get("text").map_err(read)?,
                    text_fr: row.try_get("text_fr").map_err(read)?,
                })
            })
            .collect()
    }
}

async fn append_entry(
    tx: &mut Transaction<'_, Db>,
    docs: &Documents,
    id: i64,
    entry: &Entry<'_>,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO {} ({}, at_us, kind, actor, text, text_fr) VALUES ($1, $2, $3, $4, $5, $6)",
        docs.timeline, docs.owner
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(to_micros(entry.at))
        .bind(entry.kind)
        .bind(entry.actor)
        .bind(entry.text)
        .bind(entry.text_fr)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn request_from_row(row: &DbRow) -> Result<RequestRow, CatalogError> {
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

fn token_from_row(row: &DbRow) -> Result<TokenRow, CatalogError> {
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

fn user_from_row(row: &DbRow) -> Result<UserRow, CatalogError> {
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

fn incident_from_row(row: &DbRow) -> Result<IncidentRow, CatalogError> {
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

fn run_from_row(row: &DbRow) -> Result<Run, CatalogError> {
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

fn point_from_row(row: &DbRow) -> Result<RestorePoint, CatalogError> {
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
        suspect: row.try_get("suspect").map_err(read)?,
    })
}

fn suspicion_from_row(row: &DbRow) -> Result<Suspicion, CatalogError> {
    let read = |e| CatalogError::query("reading suspect restore points", e);
    Ok(Suspicion {
        asset: row.try_get("asset_id").map_err(read)?,
        dataset: row.try_get("dataset").map_err(read)?,
        time: from_micros(row.try_get("time_us").map_err(read)?)?,
        repository: row.try_get("repo_id").map_err(read)?,
        snapshot: row.try_get("snapshot_id").map_err(read)?,
        at: from_micros(row.try_get("at_us").map_err(read)?)?,
        reasons: row.try_get("reasons").map_err(read)?,
        signals: row.try_get("signals").map_err(read)?,
        cleared: opt_time(row.try_get("cleared_us").map_err(read)?)?,
        cleared_by: row.try_get("cleared_by").map_err(read)?,
        clearance: row.try_get("clearance").map_err(read)?,
    })
}
