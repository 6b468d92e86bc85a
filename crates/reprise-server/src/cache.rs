//! Whole-inventory answers (status, assets, alerts, `/metrics`) kept as the bytes sent,
//! for as long as nothing they were computed from changed: computing one reads every
//! asset, restore point and open alert, which ten thousand assets make too slow to do on
//! each request.
//!
//! An answer is served again while the catalog's change stamp is the same (any commit, by
//! this server or by a command line beside it: a backup that ends changes it) and this
//! server's own generation is the same (what it keeps in memory: repository probes,
//! finished jobs). Ages against RPOs move with the clock: past [`FRESH`], the answer is
//! computed again in the background while every request, the one that noticed included,
//! still gets the one before, which nothing in the catalog has made wrong.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use reprise_catalog::Catalog;
use reprise_ops::error::AppResult;
use reprise_ops::tokens::Principal;

/// How long an answer follows the clock closely enough.
pub const FRESH: Duration = Duration::from_secs(15);

/// The most answers kept (one per route, query and scope of the token).
const KEPT: usize = 64;

struct Entry {
    stamp: String,
    generation: u64,
    at: Instant,
    body: Bytes,
}

#[derive(Default)]
pub struct Answers {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// One computation of an answer at a time, per key: a burst of requests after a
    /// change waits for the first instead of computing the same thing side by side, and
    /// never for another route's answer.
    filling: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    generation: AtomicU64,
}

impl Answers {
    /// Something this server keeps in memory changed: no answer kept is current.
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The answer kept under `key` if it is still current, else `compute`'s, kept.
    pub async fn get_or_compute<F, Fut>(
        &self,
        catalog: &dyn Catalog,
        key: &str,
        compute: F,
    ) -> AppResult<Bytes>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = AppResult<Bytes>> + Send + 'static,
    {
        let stamp = catalog.change_stamp().await?;
        let generation = self.generation.load(Ordering::Acquire);
        let filling = self.filling_of(key);
        match self.lookup(key, &stamp, generation) {
            Lookup::Current(body) => return Ok(body),
            // Only time moved: computed again in the background (once), answered now.
            Lookup::Aged(body) => {
                if let Ok(guard) = filling.try_lock_owned() {
                    let entries = self.entries.clone();
                    let key = key.to_string();
                    tokio::spawn(async move {
                        let _guard = guard;
                        match compute().await {
                            // Under the stamp read before computing: a commit made
                            // meanwhile makes the next request compute again.
                            Ok(body) => keep(&entries, key, stamp, generation, body),
                            Err(e) => {
                                tracing::warn!(error = %e, key, "an answer could not be computed again; the one before is kept")
                            }
                        }
                    });
                }
                return Ok(body);
            }
            Lookup::Stale => {}
        }
        let guard = filling.lock().await;
        self.fill(catalog, key, compute, guard).await
    }

    fn filling_of(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.filling
            .lock()
            .expect("answers being computed")
            .entry(key.to_string())
            .or_default()
            .clone()
    }

    async fn fill<F, Fut>(
        &self,
        catalog: &dyn Catalog,
        key: &str,
        compute: F,
        _guard: tokio::sync::MutexGuard<'_, ()>,
    ) -> AppResult<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = AppResult<Bytes>>,
    {
        // Read before computing: a commit made meanwhile changes it, and the next request
        // computes again.
        let stamp = catalog.change_stamp().await?;
        let generation = self.generation.load(Ordering::Acquire);
        // The request this one waited for may have computed it already.
        if let Lookup::Current(body) = self.lookup(key, &stamp, generation) {
            return Ok(body);
        }
        let body = compute().await?;
        keep(
            &self.entries,
            key.to_string(),
            stamp,
            generation,
            body.clone(),
        );
        Ok(body)
    }

    fn lookup(&self, key: &str, stamp: &str, generation: u64) -> Lookup {
        let entries = self.entries.lock().expect("answers");
        match entries.get(key) {
            Some(e) if e.stamp == stamp && e.generation == generation => {
                if e.at.elapsed() < FRESH {
                    Lookup::Current(e.body.clone())
                } else {
                    Lookup::Aged(e.body.clone())
                }
            }
            _ => Lookup::Stale,
        }
    }
}

/// Keeps `body` under `key`, the oldest answer making room when there are too many.
fn keep(
    entries: &Mutex<HashMap<String, Entry>>,
    key: String,
    stamp: String,
    generation: u64,
    body: Bytes,
) {
    let mut entries = entries.lock().expect("answers");
    if entries.len() >= KEPT && !entries.contains_key(&key) {
        let oldest = entries
            .iter()
            .min_by_key(|(_, e)| e.at)
            .map(|(k, _)| k.clone());
        if let Some(oldest) = oldest {
            entries.remove(&oldest);
        }
    }
    entries.insert(
        key,
        Entry {
            stamp,
            generation,
            at: Instant::now(),
            body,
        },
    );
}

enum Lookup {
    Current(Bytes),
    Aged(Bytes),
    Stale,
}

/// The part of a key that says what the token may see.
pub fn scope_key(principal: &Principal) -> String {
    if principal.scope.is_everything() {
        "*".into()
    } else {
        format!(
            "sites={};tenants={}",
            principal.scope.sites.join(","),
            principal.scope.tenants.join(",")
        )
    }
}

/// Kept JSON, as an answer.
pub fn json(body: Bytes) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `value` as the JSON bytes kept.
pub fn to_json(value: &impl serde::Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("answers serialise to JSON"))
}
