//! `/metrics`: Prometheus text exposition of what supervision needs per asset.

use std::fmt::Write;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State as Extract;
use axum::http::header;
use axum::response::IntoResponse;
use jiff::Timestamp;
use reprise_catalog::{RunFilter, RunKind, RunStatus};
use reprise_ops::status::RpoStatus;
use reprise_ops::tokens::Principal;

use crate::State;

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Per repository, from the last probe: up, size and file count.
fn repository_metrics(out: &mut String, probes: &[reprise_ops::repos::RepoProbe]) {
    type Value = fn(&reprise_ops::repos::RepoProbe) -> Option<f64>;
    let families: [(&str, &str, Value); 4] = [
        (
            "reprise_repository_up",
            "1 if the repository answered its last probe and holds a repository",
            |p| Some(f64::from(u8::from(p.reachable && p.initialised))),
        ),
        (
            "reprise_repository_size_bytes",
            "bytes of the repository's files",
            |p| p.bytes.map(|b| b as f64),
        ),
        (
            "reprise_repository_files",
            "number of the repository's files",
            |p| p.files.map(|f| f as f64),
        ),
        (
            "reprise_repository_last_probe_timestamp_seconds",
            "when the repository was last probed",
            |p| Some(p.at.as_second() as f64),
        ),
    ];
    for (name, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for p in probes {
            if let Some(v) = value(p) {
                let _ = writeln!(
                    out,
                    "{name}{{repository=\"{}\"}} {v}",
                    escape(&p.repository)
                );
            }
        }
    }
}

/// Needs a token like the API (a read-only one scrapes: `reprise token create prometheus
/// --user NAME` for a viewer); a token scoped to a site sees only that site's assets, and
/// the repositories and Reprise's own backups only when it sees everything.
pub async fn render(
    Extract(state): Extract<Arc<State>>,
    Extension(principal): Extension<Principal>,
) -> impl IntoResponse {
    let mut out = String::new();
    let ctx = state.ctx();
    let mut statuses = reprise_ops::status::run(&ctx, Timestamp::now())
        .await
        .unwrap_or_default();
    statuses.retain(|s| crate::auth::covers(&state, &principal, &s.asset));
    let everything = principal.scope.is_everything();
    let runs = state
        .catalog
        .latest_runs(RunKind::Backup)
        .await
        .unwrap_or_default();
    let last_runs = reprise_ops::status::last_runs(&runs);
    let families: [(&str, &str, &str); 7] = [
        (
            "reprise_asset_rpo_seconds",
            "gauge",
            "RPO target of the asset",
        ),
        (
            "reprise_asset_last_verified_restore_point_timestamp_seconds",
            "gauge",
            "time of the newest restore point proven intact",
        ),
        (
            "reprise_asset_rpo_status",
            "gauge",
            "1 for the asset's current RPO status",
        ),
        (
            "reprise_asset_last_backup_timestamp_seconds",
            "gauge",
            "start of the last backup attempt",
        ),
        (
            "reprise_asset_last_backup_success",
            "gauge",
            "1 if the last backup succeeded",
        ),
        (
            "reprise_asset_last_backup_duration_seconds",
            "gauge",
            "duration of the last backup run",
        ),
        (
            "reprise_asset_last_backup_bytes_added",
            "gauge",
            "bytes the last backup added to the repository",
        ),
    ];
    for (name, kind, help) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for s in &statuses {
            let asset = escape(&s.asset);
            let last_run = last_runs.get(s.asset.as_str()).copied();
            let value: Option<f64> = match name {
                "reprise_asset_rpo_seconds" => s.rpo_seconds.map(|r| r as f64),
                "reprise_asset_last_verified_restore_point_timestamp_seconds" => {
                    s.last_verified.map(|t| t.as_second() as f64)
                }
                "reprise_asset_rpo_status" => {
                    let status = match s.rpo_status {
                        RpoStatus::Ok => "ok",
                        RpoStatus::AtRisk => "at_risk",
                        RpoStatus::Breached => "breached",
                        RpoStatus::Never => "never",
                        RpoStatus::NoTarget => "no_target",
                    };
                    let _ = writeln!(out, "{name}{{asset=\"{asset}\",status=\"{status}\"}} 1");
                    None
                }
                "reprise_asset_last_backup_timestamp_seconds" => {
                    last_run.map(|r| r.started.as_second() as f64)
                }
                "reprise_asset_last_backup_success" => {
                    last_run.map(|r| f64::from(u8::from(r.status == RunStatus::Succeeded)))
                }
                "reprise_asset_last_backup_duration_seconds" => {
                    last_run.and_then(|r| r.duration()).map(|d| d.as_secs_f64())
                }
                _ => last_run.and_then(|r| r.bytes_added).map(|b| b as f64),
            };
            if let Some(v) = value {
                let _ = writeln!(out, "{name}{{asset=\"{asset}\"}} {v}");
            }
        }
    }
    device_metrics(&mut out, &state, &principal).await;
    suspect_metrics(&mut out, &state, &principal).await;
    if !everything {
        return ([(header::CONTENT_TYPE, TEXT)], out);
    }
    repository_metrics(&mut out, &state.probes().unwrap_or_default());
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
    let name = "reprise_self_backup_last_success_timestamp_seconds";
    let _ = writeln!(
        out,
        "# HELP {name} when Reprise last backed up its own catalog and configuration\n# TYPE {name} gauge"
    );
    if let Some(run) = last_self {
        let repo = escape(run.repository.as_deref().unwrap_or(""));
        let _ = writeln!(
            out,
            "{name}{{repository=\"{repo}\"}} {}",
            run.started.as_second()
        );
    }
    ([(header::CONTENT_TYPE, TEXT)], out)
}

/// Per data set the token sees: 1 while a backup of it is suspect (it looked like an
/// attack and no one has cleared it), else 0.
async fn suspect_metrics(out: &mut String, state: &State, principal: &Principal) {
    let suspicions = state.catalog.suspicions(None).await.unwrap_or_default();
    let name = "reprise_dataset_suspect";
    let _ = writeln!(
        out,
        "# HELP {name} 1 while a backup of the data set looks like an attack and is not cleared: its points are not trusted\n# TYPE {name} gauge"
    );
    let ctx = state.ctx();
    for asset in &ctx.inventory().assets {
        if !crate::auth::covers(state, principal, asset.id.as_str()) {
            continue;
        }
        for set in &asset.datasets {
            let suspect = suspicions.iter().any(|s| {
                s.asset == asset.id.as_str() && s.dataset == set.name && s.cleared.is_none()
            });
            let _ = writeln!(
                out,
                "{name}{{asset=\"{}\",dataset=\"{}\"}} {}",
                escape(asset.id.as_str()),
                escape(&set.name),
                u8::from(suspect)
            );
        }
    }
}

/// Per device data set the token sees: whether its last read worked, when it was read
/// and when it last changed.
async fn device_metrics(out: &mut String, state: &State, principal: &Principal) {
    let ctx = state.ctx();
    let records = reprise_ops::devices::records(&ctx)
        .await
        .unwrap_or_default();
    let devices: Vec<_> = reprise_ops::devices::all(&ctx)
        .into_iter()
        .filter(|d| crate::auth::covers(state, principal, d.asset.id.as_str()))
        .collect();
    type Value = fn(&reprise_catalog::DeviceRecord) -> Option<f64>;
    let families: [(&str, &str, Value); 3] = [
        (
            "reprise_device_up",
            "1 if the device's configuration was read and judged sound at its last read",
            |r| r.checked.map(|_| f64::from(u8::from(r.error.is_none()))),
        ),
        (
            "reprise_device_last_read_timestamp_seconds",
            "when the device was last read",
            |r| r.checked.map(|t| t.as_second() as f64),
        ),
        (
            "reprise_device_last_change_timestamp_seconds",
            "when a change of the device's configuration was last seen",
            |r| r.changed.map(|t| t.as_second() as f64),
        ),
    ];
    for (name, help, value) in families {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for d in &devices {
            let record = records
                .iter()
                .find(|r| r.asset == d.asset.id.as_str() && r.dataset == d.set.name);
            if let Some(v) = record.and_then(value) {
                let _ = writeln!(
                    out,
                    "{name}{{asset=\"{}\",dataset=\"{}\",model=\"{}\"}} {v}",
                    escape(d.asset.id.as_str()),
                    escape(&d.set.name),
                    escape(&d.model.name)
                );
            }
        }
    }
}

/// Prometheus' text exposition format.
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
