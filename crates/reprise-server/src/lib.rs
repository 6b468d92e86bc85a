//! `reprise serve`: the REST API under `/api/v1` (bearer tokens), `/healthz`,
//! `/metrics` (Prometheus text) and the scheduler loop, in one process.
//!
//! [`router`] builds the HTTP routes over a [`State`]; [`scheduler`] starts due backups,
//! at most `[server] concurrency` at a time, and Reprise's own self-backup; [`supervise`]
//! evaluates alerts after every pass and sends what changed in the background; [`serve`]
//! ties them to a listener and stops gracefully: it stops accepting requests and lets
//! running jobs finish. Handlers parse, call one use case (`reprise-ops`, `-recovery`,
//! `-oversight`), and render;
//! errors are JSON with a stable code, internals are logged, never sent. Logs go through
//! `tracing` (the binary picks text or JSON).
// The OpenAPI document is one `json!` literal, deeper than the default limit.
#![recursion_limit = "256"]

mod accounts;
mod agents;
mod api;
mod auth;
mod cache;
mod http;
mod incidents;
mod metrics;
mod openapi;
mod records;
mod requests;
mod rest;
pub mod tls;
mod web;

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reprise_catalog::Catalog;
use reprise_engine::NoProgress;
use reprise_ops::backup::{self, Selection};
use reprise_ops::context::Ctx;
use reprise_ops::repos::RepoProbe;
use reprise_ops::status::AssetStatus;
use reprise_workspace::workspace::Loaded;
use tokio::sync::Semaphore;

pub use api::router;

/// What every request and the scheduler share.
pub struct State {
    /// The workspace as loaded when the server started (its settings never change while
    /// it runs).
    pub loaded: Arc<Loaded>,
    /// The same, each asset in its current state: refreshed when a state is recorded
    /// and with each overview ([`State::refresh_states`]).
    current: std::sync::RwLock<Arc<Loaded>>,
    pub catalog: Box<dyn Catalog>,
    /// One permit per job running at once (`[server] concurrency`).
    jobs: Arc<Semaphore>,
    /// Assets with a backup queued or running in this process: the scheduler never
    /// starts a second one while the first waits for a permit.
    in_flight: std::sync::Mutex<BTreeSet<String>>,
    /// When the scheduler started: assets never backed up wait for their first slot.
    pub started: Timestamp,
    /// The last look at each repository (reachability, size), refreshed every
    /// `[supervision] probe_every`.
    probes: std::sync::Mutex<Option<(Timestamp, Vec<RepoProbe>)>>,
    /// When restore points past their maximum retention were last purged.
    purged: std::sync::Mutex<Option<Timestamp>>,
    /// When the locks of immutable repositories were last extended.
    locks_extended: std::sync::Mutex<Option<Timestamp>>,
    /// Served over TLS: the web UI's cookies are then marked Secure.
    pub tls: std::sync::atomic::AtomicBool,
    /// Every asset's status and the open alerts, as last read (pages read them; jobs and
    /// acknowledgements clear them).
    overview: std::sync::Mutex<Option<Arc<Overview>>>,
    /// An overview is being computed in the background.
    refreshing: std::sync::atomic::AtomicBool,
    /// Whole-inventory answers of the API and `/metrics`, kept while current.
    pub(crate) answers: cache::Answers,
}

impl State {
    pub fn new(loaded: Arc<Loaded>, catalog: Box<dyn Catalog>) -> Arc<Self> {
        let permits = loaded.config.server.concurrency.max(1) as usize;
        Arc::new(Self {
            current: std::sync::RwLock::new(loaded.clone()),
            loaded,
            catalog,
            jobs: Arc::new(Semaphore::new(permits)),
            in_flight: std::sync::Mutex::new(BTreeSet::new()),
            started: Timestamp::now(),
            probes: std::sync::Mutex::new(None),
            purged: std::sync::Mutex::new(None),
            locks_extended: std::sync::Mutex::new(None),
            overview: std::sync::Mutex::new(None),
            refreshing: std::sync::atomic::AtomicBool::new(false),
            answers: cache::Answers::default(),
            tls: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            loaded: self.current.read().expect("current states").clone(),
            catalog: &*self.catalog,
            progress: Arc::new(NoProgress),
        }
    }

    /// Reads each asset's current state again (a step finished, a state recorded).
    pub async fn refresh_states(&self) -> reprise_ops::error::AppResult<()> {
        let mut inventory = self.loaded.config.inventory.clone();
        reprise_ops::states::apply(&*self.catalog, &mut inventory).await?;
        let mut loaded = (*self.loaded).clone();
        loaded.config.inventory = inventory;
        *self.current.write().expect("current states") = Arc::new(loaded);
        Ok(())
    }

    fn concurrency(&self) -> u32 {
        self.loaded.config.server.concurrency.max(1)
    }

    /// Marks `assets` as in flight; false (and nothing marked) if one already is.
    fn claim(&self, assets: &[String]) -> bool {
        let mut set = self.in_flight.lock().expect("in-flight set");
        if assets.iter().any(|a| set.contains(a)) {
            return false;
        }
        set.extend(assets.iter().cloned());
        true
    }

    /// The in-flight keys of every job of this server that writes into repositories:
    /// each asset's backup, each export, the self-backup. Claimed together, nothing of
    /// this server writes meanwhile (what a prune needs; other processes sharing the
    /// catalog are kept off by leases).
    pub(crate) fn writers(&self) -> Vec<String> {
        let config = &self.loaded.config;
        let mut keys: Vec<String> = config
            .inventory
            .assets
            .iter()
            .map(|a| a.id.to_string())
            .collect();
        keys.extend(config.exports.iter().map(|e| format!("export:{}", e.id)));
        keys.push("reprise:self".to_string());
        keys
    }

    fn unclaim(&self, assets: &[String]) {
        let mut set = self.in_flight.lock().expect("in-flight set");
        for a in assets {
            set.remove(a);
        }
    }

    /// The last repository probes, if any were taken.
    pub fn probes(&self) -> Option<Vec<RepoProbe>> {
        self.probes
            .lock()
            .expect("probes")
            .as_ref()
            .map(|(_, p)| p.clone())
    }

    /// Probes the repositories again if the last look is older than `probe_every`.
    async fn refresh_probes(&self, now: Timestamp) -> Vec<RepoProbe> {
        let every =
            SignedDuration::from_secs(self.loaded.config.supervision.probe_every.as_secs() as i64);
        if let Some((at, probes)) = self.probes.lock().expect("probes").as_ref()
            && *at + every > now
        {
            return probes.clone();
        }
        let probes = reprise_ops::repos::probe_all(
            &self.loaded.workspace,
            &self.loaded.config.inventory.repositories,
        )
        .await;
        for p in probes.iter().filter(|p| !p.reachable) {
            tracing::warn!(
                repository = %p.repository,
                error = p.error.as_deref().unwrap_or(""),
                "repository unreachable"
            );
        }
        *self.probes.lock().expect("probes") = Some((now, probes.clone()));
        self.answers.bump();
        probes
    }
}

/// Runs `work` as one job: waits for a permit, so that at most `concurrency` jobs run
/// at once on this server.
pub async fn job<T>(state: &State, work: impl Future<Output = T>) -> T {
    let _permit = state
        .jobs
        .acquire()
        .await
        .expect("the job semaphore stays open");
    let done = work.await;
    // What the job did (a backup, a verification, a step that brought an asset back)
    // shows on the next page and in every answer.
    state.forget_overview();
    if let Err(e) = state.refresh_states().await {
        tracing::error!(error = %e, "cannot read the assets' current states");
    }
    done
}

/// What the dashboard and asset pages show of the whole workspace: computing it reads
/// every restore point and open alert, which pages must not do on each request with ten
/// thousand assets.
pub struct Overview {
    pub at: Timestamp,
    /// The catalog's change stamp when it was read: a different one means someone (a
    /// command line beside the server) changed something since.
    pub stamp: Option<String>,
    pub statuses: Vec<AssetStatus>,
    pub alerts: Vec<reprise_catalog::Alert>,
}

/// How long an overview serves pages: ages against RPOs move slowly, supervision refreshes
/// it after each pass, and every job clears it when it ends.
const OVERVIEW_FRESH: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl State {
    async fn compute_overview(&self) -> reprise_ops::error::AppResult<Arc<Overview>> {
        self.refresh_states().await?;
        let stamp = self.catalog.change_stamp().await.ok();
        let now = Timestamp::now();
        let statuses = reprise_ops::status::run(&self.ctx(), now).await?;
        let alerts = self.catalog.alerts(true).await?;
        Ok(Arc::new(Overview {
            at: now,
            stamp,
            statuses,
            alerts,
        }))
    }

    /// Computes the overview and swaps it in whole, so that pages keep reading the
    /// previous one meanwhile.
    pub(crate) async fn refresh_overview(&self) {
        match self.compute_overview().await {
            Ok(fresh) => self.set_overview(fresh),
            Err(e) => tracing::error!(error = %e, "overview not computed"),
        }
    }

    fn set_overview(&self, fresh: Arc<Overview>) {
        *self.overview.lock().expect("overview") = Some(fresh);
    }

    /// The next page computes the overview again (something it shows changed).
    pub(crate) fn forget_overview(&self) {
        *self.overview.lock().expect("overview") = None;
        self.answers.bump();
    }

    /// The overview: the kept one (a stale one is refreshed in the background, never on
    /// a page's time), else computed and kept.
    pub(crate) async fn overview(self: &Arc<Self>) -> reprise_ops::error::AppResult<Arc<Overview>> {
        let kept = self.overview.lock().expect("overview").clone();
        if let Some(kept) = kept {
            // Changed beside the server, or old: refreshed for the next page.
            let changed = match &kept.stamp {
                Some(stamp) => self.catalog.change_stamp().await.ok().as_ref() != Some(stamp),
                None => true,
            };
            let stale = changed || Timestamp::now().duration_since(kept.at) >= OVERVIEW_FRESH;
            if stale
                && !self
                    .refreshing
                    .swap(true, std::sync::atomic::Ordering::AcqRel)
            {
                let state = self.clone();
                tokio::spawn(async move {
                    state.refresh_overview().await;
                    state
                        .refreshing
                        .store(false, std::sync::atomic::Ordering::Release);
                });
            }
            return Ok(kept);
        }
        let fresh = self.compute_overview().await?;
        *self.overview.lock().expect("overview") = Some(fresh.clone());
        Ok(fresh)
    }
}

/// Starts a backup of `selection` in the background unless one of its assets is
/// already queued or running here. Returns whether it was started.
pub(crate) fn spawn_backup(state: &Arc<State>, assets: Vec<String>, selection: Selection) -> bool {
    if !state.claim(&assets) {
        return false;
    }
    let worker = state.clone();
    tokio::spawn(async move {
        let reason = selection.reason.clone().unwrap_or_default();
        job(&worker, async {
            match backup::run(&worker.ctx(), &selection).await {
                Ok(outcomes) => {
                    for o in outcomes {
                        match &o.error {
                            None => tracing::info!(
                                asset = %o.asset,
                                dataset = %o.dataset,
                                repository = %o.repository,
                                seconds = o.seconds,
                                bytes_added = o.bytes_added.unwrap_or(0),
                                reason = %reason,
                                "backup succeeded"
                            ),
                            Some(e) => tracing::error!(
                                asset = %o.asset,
                                dataset = %o.dataset,
                                error = %e,
                                reason = %reason,
                                "backup failed"
                            ),
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, reason = %reason, "backup failed"),
            }
        })
        .await;
        worker.unclaim(&assets);
    });
    true
}

/// Every `tick`, starts the backups whose schedule is due (and Reprise's own backup),
/// then evaluates supervision, until `stop` turns true.
pub async fn scheduler(
    state: Arc<State>,
    tick: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        start_due(&state).await;
        devices_due(&state).await;
        requests_due(&state).await;
        drills_due(&state).await;
        self_backup_if_due(&state).await;
        purge_expired(&state).await;
        extend_locks_if_due(&state).await;
        exports_due(&state).await;
        // Warm for the pages: what supervision saw (computed here rather than on a
        // user's request), swapped in whole, so that pages keep reading the previous
        // one meanwhile.
        match supervise(&state).await {
            Some(seen) => state.set_overview(seen),
            None => state.refresh_overview().await,
        }
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn start_due(state: &Arc<State>) {
    let due: Vec<String> =
        match reprise_ops::scheduler::due(&state.ctx(), state.started, Timestamp::now()).await {
            // The assets of other hosts are queued for their agents at check-in.
            Ok(assets) => assets
                .iter()
                .filter(|a| a.host().is_none())
                .map(|a| a.id.to_string())
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "scheduler: cannot tell what is due");
                return;
            }
        };
    for asset in due {
        if state
            .in_flight
            .lock()
            .expect("in-flight set")
            .contains(&asset)
        {
            continue;
        }
        // Take the asset's lease, then check again that it is still due: another server
        // sharing the catalog may have just backed it up.
        let key = reprise_ops::leases::backup_key(&asset);
        if !reprise_ops::leases::acquire(&*state.catalog, &key)
            .await
            .unwrap_or(false)
        {
            continue;
        }
        let still_due = reprise_ops::scheduler::due(&state.ctx(), state.started, Timestamp::now())
            .await
            .map(|d| d.iter().any(|a| a.id.as_str() == asset))
            .unwrap_or(false);
        if !still_due {
            let _ = reprise_ops::leases::release(&*state.catalog, &key).await;
            continue;
        }
        let selection = Selection {
            assets: vec![asset.clone()],
            reason: Some("schedule".into()),
            ..Selection::default()
        };
        spawn_backup(state, vec![asset], selection);
    }
}

/// Reads the devices whose `watch` is due, one job per asset: unchanged, the read is
/// recorded; changed, it is backed up at once (R000.3).
async fn devices_due(state: &Arc<State>) {
    let ctx = state.ctx();
    let due: Vec<(String, String)> = match reprise_ops::watch::due(&ctx, Timestamp::now()).await {
        Ok(due) => due
            .iter()
            .map(|d| (d.asset.id.to_string(), d.set.name.clone()))
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "devices: cannot tell which are due");
            return;
        }
    };
    for (asset, dataset) in due {
        spawn_device_check(state, asset, Some(dataset));
    }
}

/// Reads an asset's devices (one data set, or all) in the background unless a backup or
/// read of the asset is already queued or running here. Returns whether it started.
pub(crate) fn spawn_device_check(
    state: &Arc<State>,
    asset: String,
    dataset: Option<String>,
) -> bool {
    let key = [asset.clone()];
    if !state.claim(&key) {
        return false;
    }
    let worker = state.clone();
    tokio::spawn(async move {
        job(&worker, async {
            let ctx = worker.ctx();
            let chosen: Vec<reprise_ops::devices::Device<'_>> = reprise_ops::devices::all(&ctx)
                .into_iter()
                .filter(|d| {
                    d.asset.id.as_str() == asset
                        && dataset.as_deref().is_none_or(|n| n == d.set.name)
                })
                .collect();
            match reprise_ops::watch::check(&ctx, &chosen).await {
                Ok(outcomes) => {
                    for o in outcomes {
                        match &o.error {
                            None => tracing::info!(asset = %o.asset, dataset = %o.dataset, result = o.result, "device read"),
                            Some(e) => tracing::error!(asset = %o.asset, dataset = %o.dataset, error = %e, "device read failed"),
                        }
                    }
                }
                Err(e) => tracing::error!(asset = %asset, error = %e, "device read failed"),
            }
        })
        .await;
        worker.unclaim(&key);
        worker.forget_overview();
    });
    true
}

/// Runs approved restore requests whose window is open; fails those whose window closed
/// before they ran, or whose runner died.
async fn requests_due(state: &Arc<State>) {
    let ctx = state.ctx();
    let due = match reprise_recovery::request::due(&ctx, Timestamp::now()).await {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %e, "restore requests: cannot tell what is due");
            return;
        }
    };
    for id in due.missed {
        match reprise_recovery::request::fail_missed(&ctx, id, "reprise-server").await {
            Ok(()) => tracing::warn!(
                request = id,
                "restore request missed its window or was interrupted"
            ),
            Err(e) => tracing::error!(request = id, error = %e, "restore request not updated"),
        }
    }
    for id in due.run {
        let key = [format!("request:{id}")];
        if !state.claim(&key) {
            continue;
        }
        let worker = state.clone();
        tokio::spawn(async move {
            job(&worker, async {
                match reprise_recovery::request::execute(&worker.ctx(), id, "reprise-server").await
                {
                    Ok(view) => tracing::info!(
                        request = id,
                        state = view.request.state.as_str(),
                        "restore request executed"
                    ),
                    Err(e) => tracing::error!(request = id, error = %e, "restore request failed"),
                }
            })
            .await;
            worker.unclaim(&key);
        });
    }
}

/// Runs the restore tests (drills) that are due, one asset at a time, unless
/// `[server] drills = "manual"`.
async fn drills_due(state: &Arc<State>) {
    if !state.loaded.config.server.drills {
        return;
    }
    let due = match reprise_recovery::drill::due(&state.ctx(), Timestamp::now()).await {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %e, "drills: cannot tell which are due");
            return;
        }
    };
    for asset in due {
        let key = [format!("drill:{asset}")];
        if !state.claim(&key) {
            continue;
        }
        // Another server sharing the catalog may be drilling it: one lease per asset.
        if !reprise_ops::leases::acquire(&*state.catalog, &key[0])
            .await
            .unwrap_or(false)
        {
            state.unclaim(&key);
            continue;
        }
        let worker = state.clone();
        tokio::spawn(async move {
            job(&worker, async {
                let ctx = worker.ctx();
                // Checked again under the lease: it may have just been drilled elsewhere.
                let still_due = reprise_recovery::drill::due(&ctx, Timestamp::now())
                    .await
                    .is_ok_and(|d| d.contains(&asset));
                if !still_due {
                    return;
                }
                let opts = reprise_recovery::drill::DrillOptions {
                    assets: vec![asset.clone()],
                    scenario: Some("scheduled restore test".into()),
                    ..Default::default()
                };
                match reprise_recovery::drill::run(&ctx, &opts, "reprise-server").await {
                    Ok(outcomes) => {
                        for o in outcomes {
                            if o.ok {
                                tracing::info!(asset = %o.asset, dataset = %o.dataset, "drill passed");
                            } else {
                                tracing::error!(
                                    asset = %o.asset,
                                    dataset = %o.dataset,
                                    error = o.error.as_deref().unwrap_or(""),
                                    "drill failed"
                                );
                            }
                        }
                    }
                    Err(e) => tracing::error!(asset = %asset, error = %e, "drill failed"),
                }
            })
            .await;
            let _ = worker
                .catalog
                .release_lease(&key[0], reprise_ops::leases::holder())
                .await;
            worker.unclaim(&key);
        });
    }
}

/// Runs the configured CSV exports (`[[export]]`) whose schedule is due.
async fn exports_due(state: &Arc<State>) {
    let due: Vec<String> =
        match reprise_oversight::export::due(&state.ctx(), state.started, Timestamp::now()).await {
            Ok(due) => due.iter().map(|e| e.id.clone()).collect(),
            Err(e) => {
                tracing::error!(error = %e, "exports: cannot tell what is due");
                return;
            }
        };
    for id in due {
        let key = [format!("export:{id}")];
        if !state.claim(&key) {
            continue;
        }
        let worker = state.clone();
        tokio::spawn(async move {
            job(&worker, async {
                match reprise_oversight::export::run_configured(
                    &worker.ctx(),
                    &id,
                    Timestamp::now(),
                )
                .await
                {
                    Ok(done) => tracing::info!(
                        export = %id,
                        files = done.written.iter().filter(|w| w.file.is_some()).count(),
                        "export written"
                    ),
                    Err(e) => tracing::error!(export = %id, error = %e, "export failed"),
                }
            })
            .await;
            worker.unclaim(&key);
        });
    }
}

/// How often the server purges restore points past their maximum retention.
const PURGE_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// Purges, at start and then hourly, the restore points that their policy's maximum age
/// or their data category's maximum retention no longer allows, from every repository.
async fn purge_expired(state: &Arc<State>) {
    let now = Timestamp::now();
    {
        let mut last = state.purged.lock().expect("purge time");
        if last.is_some_and(|at| now.duration_since(at) < PURGE_EVERY) {
            return;
        }
        *last = Some(now);
    }
    let worker = state.clone();
    tokio::spawn(async move {
        let ctx = worker.ctx();
        // Looking is read-only; only a purge with something to remove waits for the
        // repositories to be quiet.
        let plans = match reprise_ops::retention::expired(&ctx, now).await {
            Ok(plans) if plans.is_empty() => return,
            Ok(plans) => plans,
            Err(e) => {
                tracing::error!(error = %e, "retention purge: cannot plan");
                return;
            }
        };
        // Pruning removes packs no index lists yet, such as those a running backup is
        // writing: it waits until nothing else writes here (claiming every asset, export
        // and the self-backup), and is tried again next tick otherwise.
        let mut key = worker.writers();
        key.push("retention:purge".to_string());
        if !worker.claim(&key) {
            *worker.purged.lock().expect("purge time") = None;
            return;
        }
        job(&worker, async {
            match reprise_ops::retention::apply(&ctx, &plans).await {
                Ok(applied) => {
                    for a in applied {
                        match &a.error {
                            None => tracing::info!(
                                repository = %a.repository,
                                removed = a.removed,
                                "restore points past their maximum retention purged"
                            ),
                            Some(e) => tracing::error!(
                                repository = %a.repository,
                                left = a.left,
                                error = %e,
                                "retention purge left restore points past their maximum retention: tried again at the next purge"
                            ),
                        }
                    }
                }
                Err(reprise_ops::error::AppError::Busy(why)) => {
                    // Another process writes into the repositories: next tick.
                    tracing::info!(why = %why, "retention purge postponed");
                    *worker.purged.lock().expect("purge time") = None;
                }
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        })
        .await;
        worker.unclaim(&key);
    });
}

/// How often the server extends the locks of immutable repositories: a lock is renewed
/// once half its period (at least two days) has passed, so a missed day never lets it
/// lapse.
const EXTEND_LOCKS_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// Extends, at start and then daily, the locks of what the kept restore points of every
/// immutable repository need; objects found missing are logged and journaled.
async fn extend_locks_if_due(state: &Arc<State>) {
    let now = Timestamp::now();
    if !state
        .loaded
        .config
        .inventory
        .repositories
        .iter()
        .any(|r| r.immutable.is_some())
    {
        return;
    }
    {
        let mut last = state.locks_extended.lock().expect("lock time");
        if last.is_some_and(|at| now.duration_since(at) < EXTEND_LOCKS_EVERY) {
            return;
        }
        *last = Some(now);
    }
    let worker = state.clone();
    tokio::spawn(async move {
        let ctx = worker.ctx();
        match reprise_ops::locks::extend(&ctx, None).await {
            Ok(locks) => {
                for l in locks {
                    match (&l.report, &l.error) {
                        (Some(r), _) if r.missing.is_empty() => tracing::info!(
                            repository = %l.repository,
                            objects = r.objects,
                            extended = r.extended,
                            "immutable repository: locks extended"
                        ),
                        (Some(r), _) => {
                            tracing::error!(
                                repository = %l.repository,
                                missing = r.missing.len(),
                                "immutable repository: objects a kept restore point needs are missing (run `reprise repo recover`)"
                            );
                            let _ = ctx
                                .catalog
                                .note(
                                    "repository.missing",
                                    &l.repository,
                                    &format!(
                                        "{} object(s) a kept restore point needs are missing: {}",
                                        r.missing.len(),
                                        r.missing.join(", ")
                                    ),
                                )
                                .await;
                        }
                        (None, e) => {
                            // Tried again tomorrow, well before any lock lapses (a lock
                            // is renewed with at least a day left).
                            tracing::error!(repository = %l.repository, error = ?e, "immutable repository: cannot extend the locks");
                        }
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "immutable repositories: cannot extend the locks")
            }
        }
    });
}

async fn self_backup_if_due(state: &Arc<State>) {
    let ctx = state.ctx();
    match reprise_ops::selfbackup::due(&ctx, state.started, Timestamp::now()).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!(error = %e, "self-backup: cannot tell whether it is due");
            return;
        }
    }
    let key = ["reprise:self".to_string()];
    if !state.claim(&key) {
        return;
    }
    let worker = state.clone();
    tokio::spawn(async move {
        job(&worker, async {
            match reprise_ops::selfbackup::run(&worker.ctx()).await {
                Ok(outcomes) => {
                    for o in outcomes {
                        match &o.error {
                            None => tracing::info!(
                                repository = %o.repository,
                                snapshot = o.snapshot.as_deref().unwrap_or(""),
                                "self-backup succeeded"
                            ),
                            Some(e) => tracing::error!(
                                repository = %o.repository,
                                error = %e,
                                "self-backup failed"
                            ),
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "self-backup failed"),
            }
        })
        .await;
        worker.unclaim(&key);
    });
}

/// Evaluates supervision and sends what changed in the background: a slow or failing
/// channel never holds the scheduler. Returns the overview it saw on the way, unless it
/// failed.
pub async fn supervise(state: &State) -> Option<Arc<Overview>> {
    // Read first: what supervision writes makes the pages read it again once.
    let stamp = state.catalog.change_stamp().await.ok();
    let now = Timestamp::now();
    let probes = state.refresh_probes(now).await;
    match reprise_oversight::supervise::evaluate(&state.ctx(), now, Some(&probes)).await {
        Ok(reprise_oversight::supervise::Evaluation {
            changes,
            statuses,
            open,
        }) => {
            for c in &changes.opened {
                tracing::warn!(key = %c.key, severity = c.severity, message = %c.message, "alert opened");
            }
            for key in &changes.resolved {
                tracing::info!(key = %key, "alert resolved");
            }
            let messages = reprise_ops::notify::messages(&changes, &state.loaded.config.inventory);
            if !messages.is_empty() {
                let notifiers = state.loaded.config.inventory.notifiers.clone();
                let ws = state.loaded.workspace.clone();
                let public_url = state.loaded.config.server.public_url.clone();
                tokio::spawn(async move {
                    for failure in
                        reprise_ops::notify::send(&ws, &notifiers, public_url.as_deref(), &messages)
                            .await
                    {
                        tracing::error!(failure = %failure, "notification not delivered");
                    }
                });
            }
            Some(Arc::new(Overview {
                at: now,
                stamp,
                statuses,
                alerts: open,
            }))
        }
        Err(e) => {
            tracing::error!(error = %e, "supervision failed");
            None
        }
    }
}

/// Serves the routes without the scheduler (no backups, supervision or drills of its
/// own) until `shutdown` resolves: for a process that drives the work itself, as the
/// demo does while its agent runs.
pub async fn serve_requests(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves `state` on `listener` with the scheduler running, until `shutdown` resolves;
/// then waits for running jobs to finish.
pub async fn serve<L>(
    listener: L,
    state: Arc<State>,
    tick: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    // Runs a killed process left `running` can never finish: mark them, so they retry.
    if let Ok(n) = reprise_ops::leases::recover_interrupted(&*state.catalog, Timestamp::now()).await
        && n > 0
    {
        tracing::warn!(
            runs = n,
            "marked runs left by a stopped server as interrupted; they will be retried"
        );
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(scheduler(state.clone(), tick, stopped));
    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    // Let jobs in progress finish: their runs must be recorded, not cut short. Holding
    // every permit means none runs; queued ones never start.
    let _ = stop.send(true);
    let _ = scheduler.await;
    let running = state.concurrency() as usize - state.jobs.available_permits();
    if running > 0 {
        tracing::info!(jobs = running, "waiting for running jobs to finish");
    }
    let _ = state.jobs.acquire_many(state.concurrency()).await;
    Ok(())
}
