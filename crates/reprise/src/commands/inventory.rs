//! `reprise inventory list|show|graph|impact|history|import`.

use std::fs;
use std::path::Path;

use anyhow::Context;
use reprise_catalog::{AssetChange, ChangeKind};
use reprise_domain::{Asset, DataSource, Impact, Inventory};
use reprise_workspace::graph::{self, GraphFormat};
use reprise_workspace::import;
use reprise_workspace::workspace::CONFIG_FILE;
use serde::Serialize;

use super::Session;
use crate::cli::{self, Global, InventoryCommand};
use crate::exit::{self, UsageError};
use crate::output::{Table, local_time, or_dash, print_json, term};

pub async fn run(global: &Global, cmd: InventoryCommand) -> anyhow::Result<u8> {
    if let InventoryCommand::Import {
        file,
        site,
        dry_run,
        json,
    } = cmd
    {
        return import(global, &file, site.as_deref(), dry_run, json).await;
    }
    if let InventoryCommand::SetState {
        id,
        state,
        since,
        note,
        json,
    } = cmd
    {
        return set_state(global, &id, &state, since.as_deref(), note, json).await;
    }
    let session = Session::open(global).await?;
    let inv = &session.loaded.config.inventory;
    match cmd {
        InventoryCommand::List { site, json } => list(&session, site.as_deref(), json).await,
        InventoryCommand::Show { id, json } => show(&session, &id, json).await,
        InventoryCommand::Graph { format, site } => {
            if let Some(site) = &site {
                known_site(inv, site)?;
            }
            let format = match format {
                cli::GraphFormat::Dot => GraphFormat::Dot,
                cli::GraphFormat::Mermaid => GraphFormat::Mermaid,
                cli::GraphFormat::Json => GraphFormat::Json,
            };
            print!("{}", graph::render(inv, site.as_deref(), format));
            Ok(exit::SUCCESS)
        }
        InventoryCommand::Impact { id, json } => impact(inv, &id, json),
        InventoryCommand::History { id, json } => history(&session, id.as_deref(), json).await,
        InventoryCommand::Import { .. } | InventoryCommand::SetState { .. } => {
            unreachable!("handled above")
        }
    }
}

/// `reprise inventory set-state ASSET STATE [--since T] [--note TEXT]`.
async fn set_state(
    global: &Global,
    id: &str,
    state: &str,
    since: Option<&str>,
    note: Option<String>,
    json: bool,
) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let state =
        reprise_domain::AssetState::parse(state).map_err(|e| UsageError(format!("STATE: {e}")))?;
    let since = match since {
        Some(text) => Some(
            reprise_domain::request::parse_time(
                text,
                &session.tz,
                reprise_domain::request::DayEdge::Start,
            )
            .ok_or_else(|| {
                UsageError(format!(
                    "--since: `{text}` is not a time (write 2024-09-22 08:10, or 22/09/2024 08:10)"
                ))
            })?,
        ),
        None => None,
    };
    let recorded = reprise_ops::states::record(
        &session.ctx(),
        id,
        state,
        reprise_ops::states::Observed {
            since,
            note,
            by: super::acting_user(),
        },
    )
    .await?;
    if json {
        print_json(&recorded)?;
        return Ok(exit::SUCCESS);
    }
    println!(
        "{} is {} ({}) since {} (journaled); the configuration's state stays as written until it is changed there.",
        recorded.asset,
        recorded.state,
        recorded.state.label_fr(),
        local_time(recorded.since, &session.tz)
    );
    Ok(exit::SUCCESS)
}

/// The asset `id`, or a usage error that suggests close ids.
fn find<'i>(inv: &'i Inventory, id: &str) -> anyhow::Result<&'i Asset> {
    Ok(reprise_ops::context::find_asset(inv, id)?)
}

fn known_site(inv: &Inventory, site: &str) -> anyhow::Result<()> {
    if inv.site(site).is_none() {
        let ids: Vec<&str> = inv.sites.iter().map(|s| s.id.as_str()).collect();
        return Err(UsageError(format!("no site `{site}` (sites: {})", ids.join(", "))).into());
    }
    Ok(())
}

/// An asset as listed: its fields, its current state, and since when.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    asset: &'a Asset,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_since: Option<jiff::Timestamp>,
    state_by: Option<&'a str>,
}

async fn list(session: &Session, site: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let inv = &session.loaded.config.inventory;
    if let Some(site) = site {
        known_site(inv, site)?;
    }
    let current = reprise_ops::states::current(&*session.catalog, inv).await?;
    let assets: Vec<Listed<'_>> = inv
        .assets
        .iter()
        .filter(|a| site.is_none_or(|s| a.site.as_str() == s))
        .map(|a| {
            let c = current.get(a.id.as_str());
            Listed {
                asset: a,
                state_since: c.and_then(|c| c.since),
                state_by: c.map(|c| c.by.as_str()),
            }
        })
        .collect();
    if json {
        print_json(&assets)?;
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&[
        "ID",
        "NAME",
        "SITE",
        "CATEGORY",
        "CRITICALITY",
        "STATE",
        "SINCE",
        "RPO",
        "RTO",
        "DEPENDS ON",
    ]);
    for listed in &assets {
        let a = listed.asset;
        let deps: Vec<&str> = a.depends_on.iter().map(|d| d.as_str()).collect();
        table.row(vec![
            a.id.to_string(),
            a.name.clone(),
            a.site.to_string(),
            a.category.to_string(),
            a.criticality.to_string(),
            a.state.to_string(),
            listed
                .state_since
                .map_or("-".into(), |t| local_time(t, &session.tz)),
            or_dash(a.rpo),
            or_dash(a.rto),
            if deps.is_empty() {
                "-".into()
            } else {
                deps.join(", ")
            },
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    asset: &'a Asset,
    policy: Option<&'a str>,
    dependents: Vec<&'a str>,
    impact: Vec<Impact>,
    history: Vec<AssetChange>,
}

async fn show(session: &Session, id: &str, json: bool) -> anyhow::Result<u8> {
    let inv = &session.loaded.config.inventory;
    let asset = find(inv, id)?;
    let history = session.catalog.asset_history(id).await?;
    let dependents: Vec<&str> = inv.dependents(id).iter().map(|a| a.id.as_str()).collect();
    let impact = inv.impact(id);
    let policy = inv.policy_of(asset);
    if json {
        print_json(&ShowJson {
            asset,
            policy: policy.map(|p| p.id.as_str()),
            dependents,
            impact,
            history,
        })?;
        return Ok(exit::SUCCESS);
    }
    let site = inv.site(asset.site.as_str());
    println!("{} — {}", term(asset.id.as_str()), term(&asset.name));
    let field = |label: &str, value: String| println!("  {label:<20}{}", term(&value));
    field(
        "site",
        site.map_or(asset.site.to_string(), |s| format!("{} ({})", s.name, s.id)),
    );
    field(
        "category",
        format!("{} ({})", asset.category, asset.category.label_fr()),
    );
    field(
        "criticality",
        format!("{} ({})", asset.criticality, asset.criticality.label_fr()),
    );
    let current = reprise_ops::states::current(&*session.catalog, inv).await?;
    let now = current.get(asset.id.as_str());
    field(
        "state",
        format!(
            "{} ({}){}",
            asset.state,
            asset.state.label_fr(),
            now.map_or(String::new(), |c| {
                let since = c
                    .since
                    .map(|t| format!(" since {}", local_time(t, &session.tz)))
                    .unwrap_or_default();
                let note = c
                    .note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                format!("{since}, by {}{note}", c.by)
            })
        ),
    );
    if let Some(zone) = asset.zone {
        field("zone risk", zone.to_string());
    }
    for (label, value) in [
        ("location", &asset.location),
        ("function", &asset.function),
        ("owner", &asset.owner),
    ] {
        if let Some(v) = value {
            field(label, v.clone());
        }
    }
    field("RPO", or_dash(asset.rpo));
    field("RTO", or_dash(asset.rto));
    field(
        "policy",
        policy.map_or("-".into(), |p| format!("{} ({})", p.id, p.schedule)),
    );
    if let Some(date) = asset.planned_resolution {
        field("planned resolution", date.to_string());
    }
    if let Some(p) = &asset.procedure {
        field("procedure", p.clone());
    }
    let deps: Vec<&str> = asset.depends_on.iter().map(|d| d.as_str()).collect();
    field("depends on", list_or_dash(&deps));
    field("dependents", list_or_dash(&dependents));
    field(
        "impact",
        format!("{} asset(s) depend on it, directly or not", impact.len()),
    );
    println!("  data sets");
    if asset.datasets.is_empty() {
        println!("    (none: nothing of this asset is backed up)");
    }
    for set in &asset.datasets {
        let what = match &set.source {
            DataSource::Paths { paths, exclude } if exclude.is_empty() => paths.join(", "),
            DataSource::Paths { paths, exclude } => {
                format!("{} (excluding {})", paths.join(", "), exclude.join(", "))
            }
            DataSource::Command {
                command,
                filename,
                timeout,
            } => format!("`{command}` → {filename} (timeout {timeout})"),
            DataSource::Device {
                collect, filename, ..
            } => format!(
                "collected from {} (model {}) → {filename}{}",
                collect.address,
                collect.model,
                collect
                    .watch
                    .map(|w| format!(", watched every {w}"))
                    .unwrap_or_default()
            ),
        };
        let category = set
            .category
            .as_deref()
            .map_or(String::new(), |c| format!(" [{c}]"));
        println!("    {}", term(&format!("{}{category}: {what}", set.name)));
    }
    println!("  history");
    for change in &history {
        println!(
            "    {}  {}",
            local_time(change.at, &session.tz),
            describe(change)
        );
    }
    Ok(exit::SUCCESS)
}

fn list_or_dash(items: &[&str]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}

fn describe(change: &AssetChange) -> String {
    let state = |s: Option<reprise_domain::AssetState>| or_dash(s);
    match change.kind {
        ChangeKind::Added => format!("added ({})", state(change.to_state)),
        ChangeKind::ConfigChanged => "configuration changed".into(),
        ChangeKind::StateChanged => format!(
            "state {} → {}",
            state(change.from_state),
            state(change.to_state)
        ),
        ChangeKind::Removed => "removed from the configuration".into(),
    }
}

fn impact(inv: &Inventory, id: &str, json: bool) -> anyhow::Result<u8> {
    find(inv, id)?;
    let impact = inv.impact(id);
    if json {
        print_json(&impact)?;
        return Ok(exit::SUCCESS);
    }
    if impact.is_empty() {
        println!("No asset depends on {id}.");
        return Ok(exit::SUCCESS);
    }
    println!(
        "{} asset(s) depend on {id}, directly or transitively:",
        impact.len()
    );
    let mut table = Table::new(&["ID", "NAME", "CRITICALITY", "DEPTH", "VIA"]);
    for i in &impact {
        let asset = inv.asset(i.asset.as_str()).expect("impact lists assets");
        table.row(vec![
            i.asset.to_string(),
            asset.name.clone(),
            asset.criticality.to_string(),
            i.depth.to_string(),
            i.via.to_string(),
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}

async fn history(session: &Session, id: Option<&str>, json: bool) -> anyhow::Result<u8> {
    let changes = match id {
        Some(id) => {
            // A removed asset still has a history: only refuse ids never seen at all.
            let changes = session.catalog.asset_history(id).await?;
            if changes.is_empty() {
                find(&session.loaded.config.inventory, id)?;
            }
            changes
        }
        None => session.catalog.inventory_history().await?,
    };
    if json {
        print_json(&changes)?;
        return Ok(exit::SUCCESS);
    }
    let mut table = Table::new(&["TIME", "ASSET", "CHANGE"]);
    for change in &changes {
        table.row(vec![
            local_time(change.at, &session.tz),
            change.asset.clone(),
            describe(change),
        ]);
    }
    print!("{}", table.render());
    Ok(exit::SUCCESS)
}

async fn import(
    global: &Global,
    file: &Path,
    site: Option<&str>,
    dry_run: bool,
    json: bool,
) -> anyhow::Result<u8> {
    let ws = super::find_workspace(global)?;
    let config_path = ws.config_path();
    let config_text = fs::read_to_string(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))?;
    let csv_text = fs::read(file).map_err(|source| import::ImportError::Read {
        path: file.to_path_buf(),
        source,
    })?;
    let csv_text = String::from_utf8(csv_text).map_err(|_| {
        UsageError(format!(
            "{} is not UTF-8 text (save it from your spreadsheet as \"CSV UTF-8\")",
            file.display()
        ))
    })?;
    let plan = import::plan(&config_text, file, &csv_text, site)?;
    if !dry_run {
        write_atomically(&config_path, &plan.new_config)?;
        // Record the new inventory at once, so its history starts at the import.
        Session::open(global).await?;
    }
    if json {
        print_json(&plan)?;
        return Ok(exit::SUCCESS);
    }
    let verb = if dry_run { "would add" } else { "added" };
    println!(
        "{}: {verb} {} asset(s), {} {} asset(s){}",
        file.display(),
        plan.added.len(),
        if dry_run { "would update" } else { "updated" },
        plan.updated.len(),
        if plan.new_sites.is_empty() {
            String::new()
        } else {
            format!(", new site(s): {}", plan.new_sites.join(", "))
        }
    );
    for id in &plan.added {
        println!("  + {id}");
    }
    for id in &plan.updated {
        println!("  ~ {id}");
    }
    if dry_run {
        println!("Dry run: {CONFIG_FILE} is unchanged.");
    } else {
        println!("{} updated.", config_path.display());
    }
    Ok(exit::SUCCESS)
}

/// Replaces `path` with `text` so that a crash leaves either the old or the new file,
/// never a truncated one.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
