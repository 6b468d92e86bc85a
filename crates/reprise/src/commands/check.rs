//! `reprise check`: validates the workspace and explains every problem with its position.

use jiff::Timestamp;
use reprise_workspace::config::{Diagnostic, Severity};
use reprise_workspace::workspace::{self, Loaded};
use serde::Serialize;

use crate::cli::Global;
use crate::exit;
use crate::output::print_json;

#[derive(Serialize)]
struct Report {
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<Diagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<Summary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalog: Option<CatalogStatus>,
}

#[derive(Serialize)]
struct Summary {
    sites: usize,
    assets: usize,
    policies: usize,
    repositories: usize,
}

#[derive(Serialize)]
struct CatalogStatus {
    location: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    changes_recorded: usize,
}

pub async fn run(global: &Global, json: bool) -> anyhow::Result<u8> {
    let ws = super::find_workspace(global)?;
    let parsed = ws.parse()?;
    let mut diagnostics = parsed.diagnostics;
    let mut summary = None;
    let mut catalog_status = None;
    if let Some(config) = parsed.config {
        let inv = &config.inventory;
        summary = Some(Summary {
            sites: inv.sites.len(),
            assets: inv.assets.len(),
            policies: inv.policies.len(),
            repositories: inv.repositories.len(),
        });
        let loaded = Loaded {
            workspace: ws.clone(),
            config: config.clone(),
            warnings: Vec::new(),
        };
        diagnostics.extend(loaded.disk_checks());
        let location = ws.catalog_location(Some(&config), global.catalog.as_deref());
        let status = match crate::catalog::open(&location).await {
            Ok(catalog) => {
                diagnostics.extend(loaded.lock_checks(&added_per_day(&*catalog).await));
                match workspace::record_inventory(&*catalog, inv, Timestamp::now()).await {
                    Ok(changes) => CatalogStatus {
                        location: catalog.location(),
                        error: None,
                        changes_recorded: changes.len(),
                    },
                    Err(e) => CatalogStatus {
                        location: catalog.location(),
                        error: Some(e.to_string()),
                        changes_recorded: 0,
                    },
                }
            }
            Err(e) => CatalogStatus {
                location: format!("{location:?}"),
                error: Some(format!("{e:#}")),
                changes_recorded: 0,
            },
        };
        catalog_status = Some(status);
    }
    diagnostics.sort_by_key(|d| (d.line, d.column));
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let catalog_failed = catalog_status.as_ref().is_some_and(|c| c.error.is_some());
    let report = Report {
        valid: errors == 0 && !catalog_failed,
        errors,
        warnings,
        diagnostics,
        summary,
        catalog: catalog_status,
    };
    if json {
        print_json(&report)?;
    } else {
        print_human(&report, &ws.config_path());
    }
    Ok(if errors > 0 {
        exit::USAGE
    } else if catalog_failed {
        exit::FAILURE
    } else {
        exit::SUCCESS
    })
}

/// Each repository's new data per day, over the last 30 days of backups.
async fn added_per_day(
    catalog: &dyn reprise_catalog::Catalog,
) -> std::collections::BTreeMap<String, u64> {
    let since = Timestamp::now() - jiff::SignedDuration::from_hours(24 * 30);
    let runs = catalog
        .runs(&reprise_catalog::RunFilter {
            kind: Some(reprise_catalog::RunKind::Backup),
            ..Default::default()
        })
        .await
        .unwrap_or_default();
    let mut total: std::collections::BTreeMap<String, u64> = Default::default();
    for run in runs.iter().filter(|r| r.started >= since) {
        if let (Some(repo), Some(bytes)) = (&run.repository, run.bytes_added) {
            *total.entry(repo.clone()).or_default() += bytes;
        }
    }
    total
        .into_iter()
        .map(|(repo, bytes)| (repo, bytes / 30))
        .collect()
}

fn print_human(report: &Report, config: &std::path::Path) {
    for d in &report.diagnostics {
        eprintln!("{d}");
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if report.errors > 0 {
        eprintln!(
            "{}: invalid ({}, {})",
            config.display(),
            plural(report.errors, "error"),
            plural(report.warnings, "warning")
        );
        return;
    }
    if let Some(s) = &report.summary {
        println!(
            "{}: valid — {}, {}, {}, {}{}",
            config.display(),
            plural(s.sites, "site"),
            plural(s.assets, "asset"),
            plural(s.policies, "policy").replace("policys", "policies"),
            plural(s.repositories, "repository").replace("repositorys", "repositories"),
            if report.warnings > 0 {
                format!(" ({})", plural(report.warnings, "warning"))
            } else {
                String::new()
            }
        );
    }
    if let Some(c) = &report.catalog {
        match &c.error {
            None => println!(
                "catalog: {} — reachable, {} recorded",
                c.location,
                plural(c.changes_recorded, "inventory change")
            ),
            Some(e) => eprintln!("error: catalog {}: {e}", c.location),
        }
    }
}
