//! Assets: the things an organisation must be able to bring back, and the data each holds.

use jiff::civil::Date;
use serde::Serialize;

use crate::{AssetId, AssetState, Category, Criticality, Interval, PolicyId, SiteId, ZoneRisk};

/// One element of the inventory (seed 004's "élément", seed 000's "équipement").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asset {
    pub id: AssetId,
    pub name: String,
    pub site: SiteId,
    pub category: Category,
    pub criticality: Criticality,
    pub state: AssetState,
    /// Risk level of the physical zone the asset covers, for cameras and recorders (R000.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<ZoneRisk>,
    /// Free text naming where the asset is (`Entrée nord`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What the asset does for the organisation (`messaging`, `network`, `supervision`):
    /// recovery priority rules match on it, since order follows function (R004.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The restore tier agreed with the client for this asset (1 comes first), over any
    /// rule: seed 004 writes its strategy as priorities per element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `production` (the default when absent), `staging`, or `tenant:NAME` for a
    /// client's environment: restore requests name the one they concern (R002.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpo: Option<Interval>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rto: Option<Interval>,
    pub depends_on: Vec<AssetId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyId>,
    /// The recovery action for this asset, as written in the runbook (R004.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub procedure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_resolution: Option<Date>,
    /// Overrides the policy's drill period for this asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drill_every: Option<Interval>,
    /// The host whose agent backs up and restores the asset's data (`mail-01`); the
    /// server itself when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub datasets: Vec<DataSet>,
}

impl Asset {
    /// The agent's host, when the asset's data lives on another machine.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The environment the asset belongs to: `production` unless it says otherwise.
    pub fn environment(&self) -> &str {
        self.environment.as_deref().unwrap_or("production")
    }

    /// An asset with its identity and nothing else: working, no dependency, no data set.
    pub fn new(id: AssetId, site: SiteId, category: Category, criticality: Criticality) -> Self {
        Self {
            name: id.to_string(),
            id,
            site,
            category,
            criticality,
            state: AssetState::Working,
            zone: None,
            location: None,
            function: None,
            priority: None,
            owner: None,
            environment: None,
            rpo: None,
            rto: None,
            depends_on: vec![],
            policy: None,
            procedure: None,
            planned_resolution: None,
            drill_every: None,
            host: None,
            datasets: vec![],
        }
    }
}

/// A set of data to back up for an asset: files, or the output of a command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSet {
    pub name: String,
    pub source: DataSource,
    /// The data category (records, documents, settings, logs…), which carries its own
    /// retention (R002.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_hook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_hook: Option<String>,
    /// A command that proves a drill's restored copy works (`pg_restore --list dump.sql`),
    /// run in the sandbox; its exit code decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drill_check: Option<String>,
    /// Left out of the serialised form at its default, so that configurations written
    /// before drills existed keep their fingerprint (no false "configuration changed").
    #[serde(skip_serializing_if = "is_default_drill_timeout")]
    pub drill_timeout: Interval,
}

/// The default time a drill's check command may take.
pub const DEFAULT_DRILL_TIMEOUT: Interval = Interval::from_secs(600);

fn is_default_drill_timeout(t: &Interval) -> bool {
    *t == DEFAULT_DRILL_TIMEOUT
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DataSource {
    /// Files and directories, with glob patterns to leave out.
    Paths {
        paths: Vec<String>,
        exclude: Vec<String>,
    },
    /// A command whose standard output is the data (`pg_dump`, a device's configuration
    /// export), stored under `filename`.
    Command {
        command: String,
        filename: String,
        timeout: Interval,
    },
    /// A device's configuration, collected by its model (routers, switches, cameras).
    Device {
        collect: Box<crate::device::Collect>,
        filename: String,
        timeout: Interval,
    },
}

/// Whether `name` can name a host (and its agent): 1 to 64 letters, digits, `-`, `_`, `.`.
pub fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with(['.', '-'])
}
