//! `/metrics`: what supervision needs, in Prometheus' text format, through the `metrics`
//! facade and its Prometheus exporter (names, HELP and TYPE lines, label escaping and
//! the format are the library's). Each scrape records into a recorder of its own: what a
//! token sees depends on its scope, so nothing is shared between scrapes.
//!
//! Asset series carry `asset`, `site` and `criticality`; data set series add `dataset`.
//! Counters count runs by kind and outcome since the catalog began.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State as Extract;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use metrics::{Label, counter, describe_counter, describe_gauge, gauge};
use metrics_exporter_prometheus::PrometheusBuilder;
use reprise_catalog::{RunFilter, RunKind, RunStatus};
use reprise_ops::status::RpoStatus;
use reprise_ops::tokens::Principal;

use crate::State;

/// Prometheus' text exposition format.
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every family, its type and what it says.
const FAMILIES: &[(&str, Kind, &str)] = &[
    (
        "reprise_info",
        Kind::Gauge,
        "1, with the version of Reprise serving",
    ),
    (
        "reprise_asset_rpo_seconds",
        Kind::Gauge,
        "RPO target of the asset",
    ),
    (
        "reprise_asset_rto_seconds",
        Kind::Gauge,
        "RTO target of the asset",
    ),
    (
        "reprise_asset_last_verified_restore_point_timestamp_seconds",
        Kind::Gauge,
        "time of the newest restore point proven intact (and not suspect) of every data set",
    ),
    (
        "reprise_asset_verified",
        Kind::Gauge,
        "1 if every data set of the asset has a restore point proven intact, 0 if one was never verified",
    ),
    (
        "reprise_asset_rpo_status",
        Kind::Gauge,
        "1 for the asset's current RPO status (ok, at_risk, breached, never, no_target)",
    ),
    (
        "reprise_asset_state",
        Kind::Gauge,
        "1 for the asset's current state (working, degraded, down, …)",
    ),
    (
        "reprise_asset_restore_points",
        Kind::Gauge,
        "restore points of the asset",
    ),
    (
        "reprise_asset_rule_3_2_1",
        Kind::Gauge,
        "1 if the asset's newest restore point meets the 3-2-1 rule",
    ),
    (
        "reprise_asset_last_backup_timestamp_seconds",
        Kind::Gauge,
        "start of the last backup attempt",
    ),
    (
        "reprise_asset_last_backup_success",
        Kind::Gauge,
        "1 if the last backup succeeded",
    ),
    (
        "reprise_asset_last_backup_duration_seconds",
        Kind::Gauge,
        "duration of the last backup run",
    ),
    (
        "reprise_asset_last_backup_bytes_added",
        Kind::Gauge,
        "bytes the last backup added to the repository",
    ),
    (
        "reprise_drill_last_timestamp_seconds",
        Kind::Gauge,
        "start of the asset's last restore test",
    ),
    (
        "reprise_drill_last_success",
        Kind::Gauge,
        "1 if the asset's last restore test passed",
    ),
    (
        "reprise_drill_last_rto_seconds",
        Kind::Gauge,
        "the RTO the last restore test measured (restore and verification)",
    ),
    (
        "reprise_dataset_suspect",
        Kind::Gauge,
        "1 while a backup of the data set looks like an attack and is not cleared: its points are not trusted",
    ),
    (
        "reprise_device_up",
        Kind::Gauge,
        "1 if the device's configuration was read and judged sound at its last read",
    ),
    (
        "reprise_device_last_read_timestamp_seconds",
        Kind::Gauge,
        "when the device was last read",
    ),
    (
        "reprise_device_last_change_timestamp_seconds",
        Kind::Gauge,
        "when a change of the device's configuration was last seen",
    ),
    (
        "reprise_runs_total",
        Kind::Counter,
        "runs by kind (backup, restore, verify, drill, …) and outcome",
    ),
    (
        "reprise_alerts_open",
        Kind::Gauge,
        "open alerts by severity",
    ),
    (
        "reprise_incidents_open",
        Kind::Gauge,
        "incidents not yet closed",
    ),
    (
        "reprise_repository_up",
        Kind::Gauge,
        "1 if the repository answered its last probe and holds a repository",
    ),
    (
        "reprise_repository_size_bytes",
        Kind::Gauge,
        "bytes of the repository's files",
    ),
    (
        "reprise_repository_files",
        Kind::Gauge,
        "number of the repository's files",
    ),
    (
        "reprise_repository_last_probe_timestamp_seconds",
        Kind::Gauge,
        "when the repository was last probed",
    ),
    (
        "reprise_self_backup_last_success_timestamp_seconds",
        Kind::Gauge,
        "when Reprise last backed up its own catalog and configuration",
    ),
];

#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}

/// One value to expose.
struct Sample {
    name: &'static str,
    labels: Vec<Label>,
    value: f64,
}

fn labels(pairs: &[(&'static str, &str)]) -> Vec<Label> {
    pairs
        .iter()
        .map(|(k, v)| Label::new(*k, v.to_string()))
        .collect()
}

fn seconds(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

/// Needs a token like the API (a read-only one scrapes: `reprise token create prometheus
/// --user NAME` for a viewer); a token scoped to a site sees only that site's assets, and
/// the repositories, runs, incidents and Reprise's own backups only when it sees
/// everything.
pub async fn render(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
) -> Response {
    let key = format!("metrics#{}", crate::cache::scope_key(&principal));
    let text = state
        .answers
        .get_or_compute(&*state.catalog, &key, {
            let (state, principal) = (state.clone(), principal.clone());
            move || async move {
                // A state recorded beside the server (`reprise inventory set-state`) counts.
                state.refresh_states().await?;
                Ok(axum::body::Bytes::from(text(&state, &principal).await))
            }
        })
        .await;
    match text {
        Ok(text) => ([(header::CONTENT_TYPE, TEXT)], text).into_response(),
        Err(e) => crate::http::ApiError::from(e).into_response(),
    }
}

/// The exposition of what the token may see.
async fn text(state: &State, principal: &Principal) -> String {
    let samples = gather(state, principal).await;
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        for (name, kind, help) in FAMILIES {
            match kind {
                Kind::Gauge => describe_gauge!(*name, *help),
                Kind::Counter => describe_counter!(*name, *help),
            }
        }
        for s in samples {
            let counter_family = FAMILIES
                .iter()
                .any(|(n, k, _)| *n == s.name && matches!(k, Kind::Counter));
            if counter_family {
                counter!(s.name, s.labels).absolute(s.value as u64);
            } else {
                gauge!(s.name, s.labels).set(s.value);
            }
        }
    });
    handle.render()
}

/// What the token may see, read from the catalog and the last probes.
async fn gather(state: &State, principal: &Principal) -> Vec<Sample> {
    let ctx = state.ctx();
    let everything = principal.scope.is_everything();
    let mut out = vec![Sample {
        name: "reprise_info",
        labels: labels(&[("version", env!("CARGO_PKG_VERSION"))]),
        value: 1.0,
    }];
    let mut statuses = reprise_ops::status::run(&ctx, Timestamp::now())
        .await
        .unwrap_or_default();
    statuses.retain(|s| crate::auth::covers(state, principal, &s.asset));
    let backups = state
        .catalog
        .latest_runs(RunKind::Backup)
        .await
        .unwrap_or_default();
    let last_backup = reprise_ops::status::last_runs(&backups);
    let drills = state
        .catalog
        .latest_runs(RunKind::Drill)
        .await
        .unwrap_or_default();
    let last_drill = reprise_ops::status::last_runs(&drills);
    let inventory = ctx.inventory();
    for s in &statuses {
        let Some(asset) = inventory.asset(&s.asset) else {
            continue;
        };
        let who = [
            ("asset", s.asset.as_str()),
            ("site", s.site.as_str()),
            ("criticality", asset.criticality.as_str()),
        ];
        let mut push = |name: &'static str, value: Option<f64>| {
            if let Some(value) = value {
                out.push(Sample {
                    name,
                    labels: labels(&who),
                    value,
                });
            }
        };
        push("reprise_asset_rpo_seconds", s.rpo_seconds.map(|r| r as f64));
        push(
            "reprise_asset_rto_seconds",
            asset.rto.map(|r| r.as_secs() as f64),
        );
        push(
            "reprise_asset_last_verified_restore_point_timestamp_seconds",
            s.last_verified.map(seconds),
        );
        if !asset.datasets.is_empty() {
            push(
                "reprise_asset_verified",
                Some(f64::from(u8::from(s.last_verified.is_some()))),
            );
        }
        push(
            "reprise_asset_restore_points",
            Some(s.restore_points as f64),
        );
        push(
            "reprise_asset_rule_3_2_1",
            Some(f64::from(u8::from(s.rule_3_2_1))),
        );
        let backup = last_backup.get(s.asset.as_str()).copied();
        push(
            "reprise_asset_last_backup_timestamp_seconds",
            backup.map(|r| seconds(r.started)),
        );
        push(
            "reprise_asset_last_backup_success",
            backup.map(|r| f64::from(u8::from(r.status == RunStatus::Succeeded))),
        );
        push(
            "reprise_asset_last_backup_duration_seconds",
            backup.and_then(|r| r.duration()).map(|d| d.as_secs_f64()),
        );
        push(
            "reprise_asset_last_backup_bytes_added",
            backup.and_then(|r| r.bytes_added).map(|b| b as f64),
        );
        let drill = last_drill.get(s.asset.as_str()).copied();
        push(
            "reprise_drill_last_timestamp_seconds",
            drill.map(|r| seconds(r.started)),
        );
        push(
            "reprise_drill_last_success",
            drill.map(|r| f64::from(u8::from(r.status == RunStatus::Succeeded))),
        );
        push(
            "reprise_drill_last_rto_seconds",
            drill
                .and_then(|r| r.detail.as_deref())
                .and_then(|d| serde_json::from_str::<reprise_recovery::drill::DrillRecord>(d).ok())
                .map(|d| d.measured_rto_seconds),
        );
        let status = match s.rpo_status {
            RpoStatus::Ok => "ok",
            RpoStatus::AtRisk => "at_risk",
            RpoStatus::Breached => "breached",
            RpoStatus::Never => "never",
            RpoStatus::NoTarget => "no_target",
        };
        let mut with = who.to_vec();
        with.push(("status", status));
        out.push(Sample {
            name: "reprise_asset_rpo_status",
            labels: labels(&with),
            value: 1.0,
        });
        let mut with = who.to_vec();
        with.push(("state", s.state.as_str()));
        out.push(Sample {
            name: "reprise_asset_state",
            labels: labels(&with),
            value: 1.0,
        });
    }
    dataset_samples(state, principal, &mut out).await;
    if !everything {
        return out;
    }
    for (kind, status, n) in state.catalog.run_counts().await.unwrap_or_default() {
        out.push(Sample {
            name: "reprise_runs_total",
            labels: labels(&[("kind", kind.as_str()), ("status", status.as_str())]),
            value: n as f64,
        });
    }
    let mut open: HashMap<String, u64> = ["info", "warning", "critical"]
        .into_iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    for a in state.catalog.alerts(true).await.unwrap_or_default() {
        *open.entry(a.severity).or_default() += 1;
    }
    for (severity, n) in open {
        out.push(Sample {
            name: "reprise_alerts_open",
            labels: labels(&[("severity", &severity)]),
            value: n as f64,
        });
    }
    let incidents = state.catalog.incidents(true).await.unwrap_or_default();
    out.push(Sample {
        name: "reprise_incidents_open",
        labels: vec![],
        value: incidents.len() as f64,
    });
    for p in &state.probes().unwrap_or_default() {
        let repo = [("repository", p.repository.as_str())];
        let values = [
            (
                "reprise_repository_up",
                Some(f64::from(u8::from(p.reachable && p.initialised))),
            ),
            ("reprise_repository_size_bytes", p.bytes.map(|b| b as f64)),
            ("reprise_repository_files", p.files.map(|f| f as f64)),
            (
                "reprise_repository_last_probe_timestamp_seconds",
                Some(seconds(p.at)),
            ),
        ];
        for (name, value) in values {
            if let Some(value) = value {
                out.push(Sample {
                    name,
                    labels: labels(&repo),
                    value,
                });
            }
        }
    }
    let last_self = state
        .catalog
        .runs(&RunFilter {
            kind: Some(RunKind::SelfBackup),
            limit: Some(50),
            ..RunFilter::default()
        })
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.status == RunStatus::Succeeded);
    if let Some(run) = last_self {
        out.push(Sample {
            name: "reprise_self_backup_last_success_timestamp_seconds",
            labels: labels(&[("repository", run.repository.as_deref().unwrap_or(""))]),
            value: seconds(run.started),
        });
    }
    out
}

/// Per data set the token sees: whether a backup of it is suspect, and for devices
/// whether the last read worked, when it was read and when it last changed.
async fn dataset_samples(state: &State, principal: &Principal, out: &mut Vec<Sample>) {
    let ctx = state.ctx();
    let suspicions = state.catalog.suspicions(None).await.unwrap_or_default();
    for asset in &ctx.inventory().assets {
        if !crate::auth::covers(state, principal, asset.id.as_str()) {
            continue;
        }
        for set in &asset.datasets {
            let suspect = suspicions.iter().any(|s| {
                s.asset == asset.id.as_str() && s.dataset == set.name && s.cleared.is_none()
            });
            out.push(Sample {
                name: "reprise_dataset_suspect",
                labels: labels(&[
                    ("asset", asset.id.as_str()),
                    ("site", asset.site.as_str()),
                    ("criticality", asset.criticality.as_str()),
                    ("dataset", &set.name),
                ]),
                value: f64::from(u8::from(suspect)),
            });
        }
    }
    let records = reprise_ops::devices::records(&ctx)
        .await
        .unwrap_or_default();
    type Value = fn(&reprise_catalog::DeviceRecord) -> Option<f64>;
    let values: [(&'static str, Value); 3] = [
        ("reprise_device_up", |r| {
            r.checked.map(|_| f64::from(u8::from(r.error.is_none())))
        }),
        ("reprise_device_last_read_timestamp_seconds", |r| {
            r.checked.map(seconds)
        }),
        ("reprise_device_last_change_timestamp_seconds", |r| {
            r.changed.map(seconds)
        }),
    ];
    for d in reprise_ops::devices::all(&ctx) {
        if !crate::auth::covers(state, principal, d.asset.id.as_str()) {
            continue;
        }
        let Some(record) = records
            .iter()
            .find(|r| r.asset == d.asset.id.as_str() && r.dataset == d.set.name)
        else {
            continue;
        };
        for (name, value) in values {
            if let Some(v) = value(record) {
                out.push(Sample {
                    name,
                    labels: labels(&[
                        ("asset", d.asset.id.as_str()),
                        ("site", d.asset.site.as_str()),
                        ("dataset", &d.set.name),
                        ("model", &d.model.name),
                    ]),
                    value: v,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FAMILIES;

    /// The Grafana dashboard shipped in `docs/grafana` asks only for series Reprise
    /// exposes: a renamed metric would leave a panel empty.
    #[test]
    fn the_shipped_dashboard_uses_only_exposed_metrics() {
        let text = include_str!("../../../docs/grafana/reprise.json");
        let dashboard: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
        let mut used = Vec::new();
        for panel in dashboard["panels"].as_array().expect("panels") {
            for target in panel["targets"].as_array().expect("targets") {
                let expr = target["expr"].as_str().expect("an expression");
                let mut rest = expr;
                while let Some(at) = rest.find("reprise_") {
                    let name: String = rest[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    rest = &rest[at + name.len()..];
                    used.push(name);
                }
            }
        }
        assert!(used.len() > 10, "{used:?}");
        for name in &used {
            assert!(
                FAMILIES.iter().any(|(n, _, _)| n == name),
                "the dashboard asks for {name}, which /metrics does not expose"
            );
        }
    }
}
