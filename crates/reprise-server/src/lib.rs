//! `reprise serve`: the REST API under `/api/v1` (bearer tokens), `/healthz`,
//! `/metrics` (Prometheus text) and the scheduler loop, in one process.
//!
//! [`router`] builds the HTTP routes over a [`State`]; [`scheduler`] runs due backups one
//! at a time; [`serve`] ties both to a listener and stops gracefully: it stops accepting
//! requests and lets a running backup finish. Handlers parse, call one use case of
//! `reprise-app`, and render; errors are JSON with a stable code, internals are never
//! sent.

mod api;
mod metrics;
mod openapi;

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reprise_app::backup::{self, Selection};
use reprise_app::context::Ctx;
use reprise_app::workspace::Loaded;
use reprise_catalog::Catalog;
use reprise_engine::NoProgress;
use tokio::sync::Mutex;

pub use api::router;

/// What every request and the scheduler share.
pub struct State {
    pub loaded: Loaded,
    pub catalog: Box<dyn Catalog>,
    /// Held while a backup runs: one backup at a time per server.
    pub jobs: Mutex<()>,
    /// When the scheduler started: assets never backed up wait for their first slot.
    pub started: Timestamp,
}

impl State {
    pub fn new(loaded: Loaded, catalog: Box<dyn Catalog>) -> Arc<Self> {
        Arc::new(Self {
            loaded,
            catalog,
            jobs: Mutex::new(()),
            started: Timestamp::now(),
        })
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            loaded: &self.loaded,
            catalog: &*self.catalog,
            progress: Arc::new(NoProgress),
        }
    }
}

/// Runs a backup of `selection` while holding the job lock.
pub async fn run_backup(state: &State, selection: Selection) -> Vec<String> {
    let _guard = state.jobs.lock().await;
    match backup::run(&state.ctx(), &selection).await {
        Ok(outcomes) => outcomes
            .iter()
            .map(|o| match &o.error {
                None => format!("{}/{} ok", o.asset, o.dataset),
                Some(e) => format!("{}/{} failed: {e}", o.asset, o.dataset),
            })
            .collect(),
        Err(e) => vec![format!("backup failed: {e}")],
    }
}

/// Every `tick`, backs up the assets whose schedule is due, until `stop` turns true;
/// a backup in progress is finished first.
pub async fn scheduler(
    state: Arc<State>,
    tick: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let now = Timestamp::now();
        let due: Vec<String> =
            match reprise_app::scheduler::due(&state.ctx(), state.started, now).await {
                Ok(assets) => assets.iter().map(|a| a.id.to_string()).collect(),
                Err(e) => {
                    eprintln!("scheduler: {e}");
                    Vec::new()
                }
            };
        // Take each due asset's lease, then check again that it is still due: another
        // server sharing the catalog may have just backed it up.
        let mut mine = Vec::new();
        for asset in due {
            let key = reprise_app::leases::backup_key(&asset);
            if !reprise_app::leases::acquire(&*state.catalog, &key)
                .await
                .unwrap_or(false)
            {
                continue;
            }
            let still_due =
                reprise_app::scheduler::due(&state.ctx(), state.started, Timestamp::now())
                    .await
                    .map(|d| d.iter().any(|a| a.id.as_str() == asset))
                    .unwrap_or(false);
            if still_due {
                mine.push(asset);
            } else {
                let _ = reprise_app::leases::release(&*state.catalog, &key).await;
            }
        }
        if !mine.is_empty() {
            let selection = Selection {
                assets: mine,
                reason: Some("schedule".into()),
                ..Selection::default()
            };
            for line in run_backup(&state, selection).await {
                eprintln!("scheduler: {line}");
            }
        }
        supervise(&state).await;
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Evaluates supervision and sends what changed in the background: a slow or failing
/// channel never holds the scheduler.
pub async fn supervise(state: &State) {
    match reprise_app::supervise::evaluate(&state.ctx(), Timestamp::now()).await {
        Ok(changes) => {
            let messages = reprise_app::notify::messages(&changes);
            if !messages.is_empty() {
                let notifiers = state.loaded.config.inventory.notifiers.clone();
                tokio::spawn(async move {
                    for failure in reprise_app::notify::send(&notifiers, &messages).await {
                        eprintln!("notify: {failure}");
                    }
                });
            }
        }
        Err(e) => eprintln!("supervision: {e}"),
    }
}

/// Serves `state` on `listener` with the scheduler running, until `shutdown` resolves;
/// then waits for a running backup to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    tick: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Runs a killed process left `running` can never finish: mark them, so they retry.
    if let Ok(n) = reprise_app::leases::recover_interrupted(&*state.catalog, Timestamp::now()).await
        && n > 0
    {
        eprintln!(
            "marked {n} run(s) left by a stopped server as interrupted; they will be retried"
        );
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let scheduler = tokio::spawn(scheduler(state.clone(), tick, stopped));
    axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(shutdown)
        .await?;
    // Let a backup in progress finish: its run must be recorded, not cut short.
    let _ = stop.send(true);
    let _ = scheduler.await;
    let _ = state.jobs.lock().await;
    Ok(())
}
