//! `reprise.toml`: the workspace configuration, read into the domain's [`Inventory`].
//!
//! Parsing walks TOML's spanned tree by hand (see [`reader`]) rather than through serde,
//! so that one pass reports every problem, each with file, line, column, the asset it
//! concerns and the field: unknown keys, wrong types, bad durations and words, then the
//! domain's own checks ([`Inventory::validate`]) mapped back to positions.

mod device;
mod diagnostic;
mod reader;

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use reprise_domain::plan::{PriorityRule, RecoverySettings, default_rules};
use reprise_domain::{
    Asset, AssetId, AssetState, Category, Channel, Criticality, DataSet, DataSource, Email, Field,
    Interval, Inventory, Location, Notifier, Policy, PolicyId, Problem, ProblemKind, RepoBackend,
    RepoId, Repository, Retention, Schedule, ServerSettings, Site, SiteId, SmtpTls,
    SupervisionSettings, ZoneRisk,
};
use toml::de::DeTable;

pub use diagnostic::{Diagnostic, Severity, Source};
use reader::{Located, Reader, TableView};

/// The default timeout of a data-set command: long enough for a large dump, short enough
/// that a hung command is noticed the same night.
const DEFAULT_COMMAND_TIMEOUT: Interval = Interval::from_hours(1);
/// A device that has not answered in two minutes will not.
const DEFAULT_DEVICE_TIMEOUT: Interval = Interval::from_secs(120);

/// A configuration that parsed and validated, with the positions of what it declares.
#[derive(Debug, Clone)]
pub struct Config {
    pub name: Option<String>,
    /// Catalog URL from the file (`postgres://…` or `sqlite:PATH`); `None` for the default.
    pub catalog: Option<String>,
    /// IANA time zone of schedules; `None` means the machine's zone.
    pub timezone: Option<String>,
    /// The written restore-request procedure (R003.6), a path from the workspace.
    pub restore_procedure: Option<String>,
    pub inventory: Inventory,
    /// `[server]`: how `reprise serve` runs jobs.
    pub server: ServerSettings,
    /// `[supervision]`: thresholds, probes and Reprise's own backup.
    pub supervision: SupervisionSettings,
    /// `[recovery]`: technicians and time estimates of recovery plans.
    pub recovery: RecoverySettings,
    /// `[[priority]]` rules, in order; the defaults when the file gives none.
    pub priority_rules: Vec<PriorityRule>,
    /// `[[export]]`: CSV exports on a schedule.
    pub exports: Vec<ExportSettings>,
    /// `[report]`: who signs reports as the provider, and their logo.
    pub report: ReportSettings,
    spans: Spans,
}

/// How reports are branded, from `[report]`: the provider running the recovery (an
/// IT department or a managed-service provider), its address, and its logo (a PNG, JPEG
/// or SVG file, from the workspace).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportSettings {
    pub provider: Option<String>,
    pub address: Option<String>,
    pub logo: Option<String>,
}

/// What can be exported (CSV sheets, on demand or in `[[export]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportKind {
    Runs,
    Points,
    Incidents,
    Drills,
    Requests,
    Alerts,
    Inventory,
}

impl ExportKind {
    pub const ALL: [ExportKind; 7] = [
        ExportKind::Runs,
        ExportKind::Points,
        ExportKind::Incidents,
        ExportKind::Drills,
        ExportKind::Requests,
        ExportKind::Alerts,
        ExportKind::Inventory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Runs => "runs",
            ExportKind::Points => "points",
            ExportKind::Incidents => "incidents",
            ExportKind::Drills => "drills",
            ExportKind::Requests => "requests",
            ExportKind::Alerts => "alerts",
            ExportKind::Inventory => "inventory",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown export `{text}`: one of {}", names.join(", "))
            })
    }

    /// What `--type` filters on, for messages and help.
    pub fn type_meaning(self) -> &'static str {
        match self {
            ExportKind::Runs => "run kind (backup, verify, restore, drill…)",
            ExportKind::Points => "data category",
            ExportKind::Incidents => "severity (SEV1…SEV4)",
            ExportKind::Drills => "outcome (succeeded, failed)",
            ExportKind::Requests => "state",
            ExportKind::Alerts => "severity (info, warning, critical)",
            ExportKind::Inventory => "asset category",
        }
    }
}

/// A CSV export run on a schedule (R002.4): what, for which period and site, and where
/// the files go — a directory, or a repository (encrypted, with the 3-2-1 copies' care).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSettings {
    pub id: String,
    pub kinds: Vec<ExportKind>,
    pub schedule: Schedule,
    /// Rows of this period before each run (all rows when `None`).
    pub period: Option<Interval>,
    pub site: Option<String>,
    pub kind_type: Option<String>,
    /// A directory (relative to the workspace): one sub-directory per run.
    pub directory: Option<String>,
    /// A repository: one snapshot per run, tagged `export:ID`.
    pub repository: Option<String>,
}

impl Config {
    /// Position of a data-set path, for checks that look at the disk after parsing.
    pub(crate) fn dataset_path_span(
        &self,
        asset: usize,
        dataset: usize,
        path: usize,
    ) -> Range<usize> {
        self.spans.assets[asset].datasets[dataset].paths[path].clone()
    }

    pub(crate) fn repository_span(&self, index: usize) -> Range<usize> {
        self.spans.repositories[index].clone()
    }
}

/// The result of reading a file: the configuration when it has no error, and every
/// diagnostic (errors and warnings) in file order.
#[derive(Debug)]
pub struct Parsed {
    pub config: Option<Config>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Default)]
struct Spans {
    sites: Vec<Range<usize>>,
    assets: Vec<AssetSpans>,
    policies: Vec<PolicySpans>,
    repositories: Vec<Range<usize>>,
    default_policy: Option<Range<usize>>,
    categories: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Default)]
struct AssetSpans {
    id: Range<usize>,
    site: Range<usize>,
    depends_on: Vec<Range<usize>>,
    policy: Range<usize>,
    rpo: Range<usize>,
    datasets: Vec<DataSetSpans>,
}

#[derive(Debug, Clone, Default)]
struct DataSetSpans {
    name: Range<usize>,
    paths: Vec<Range<usize>>,
    category: Range<usize>,
    collect: Option<device::CollectSpans>,
}

#[derive(Debug, Clone, Default)]
struct PolicySpans {
    id: Range<usize>,
    repository: Range<usize>,
    copy_to: Vec<Range<usize>>,
}

const TOP_KEYS: &[&str] = &[
    "workspace",
    "site",
    "repository",
    "policy",
    "asset",
    "notify",
    "server",
    "supervision",
    "recovery",
    "priority",
    "contact",
    "category",
    "export",
    "device_model",
    "host",
    "report",
];
const HOST_KEYS: &[&str] = &["name", "silent_after"];
const REPORT_KEYS: &[&str] = &["provider", "address", "logo"];
const EXPORT_KEYS: &[&str] = &[
    "id",
    "kinds",
    "schedule",
    "period",
    "site",
    "type",
    "directory",
    "repository",
];
const CATEGORY_KEYS: &[&str] = &["name", "description", "min_retention", "max_retention"];
const CONTACT_KEYS: &[&str] = &["name", "role", "phone", "email"];
const RECOVERY_KEYS: &[&str] = &[
    "technicians",
    "manual_step",
    "assumed_throughput",
    "assessment_deadline",
    "review_after",
    "update_every",
];
const SEVERITIES: &[&str] = &["SEV1", "SEV2", "SEV3", "SEV4"];
const PRIORITY_KEYS: &[&str] = &[
    "tier",
    "label",
    "label_fr",
    "categories",
    "zones",
    "criticalities",
    "functions",
    "sites",
];
const NOTIFY_KEYS: &[&str] = &[
    "id",
    "lang",
    "url",
    "format",
    "min_severity",
    "smtp",
    "tls",
    "from",
    "to",
    "username",
    "password_env",
    "password_file",
    "password_secret",
    "url_secret",
    "ca_file",
    "audience",
];
const SERVER_KEYS: &[&str] = &[
    "listen",
    "concurrency",
    "jitter",
    "drills",
    "tls_cert",
    "tls_key",
    "commands_user",
    "public_url",
];
const SUPERVISION_KEYS: &[&str] = &[
    "rpo_at_risk",
    "probe_every",
    "self_backup",
    "secret_max_age",
    "ransom_names",
];
const WORKSPACE_KEYS: &[&str] = &[
    "name",
    "catalog",
    "default_policy",
    "timezone",
    "restore_procedure",
];
const SITE_KEYS: &[&str] = &["id", "name", "address", "contact"];
const REPOSITORY_KEYS: &[&str] = &[
    "id",
    "path",
    "url",
    "password_file",
    "password_env",
    "password_command",
    "password_secret",
    "medium",
    "location",
    "rotate_every",
    "ssh_key",
    "known_hosts",
    "immutable_for",
    "lock_mode",
];
const POLICY_KEYS: &[&str] = &[
    "id",
    "schedule",
    "repository",
    "copy_to",
    "keep_last",
    "keep_hourly",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "keep_yearly",
    "keep_within",
    "max_age",
    "drill_every",
];
const ASSET_KEYS: &[&str] = &[
    "id",
    "name",
    "site",
    "category",
    "criticality",
    "state",
    "zone",
    "location",
    "function",
    "priority",
    "owner",
    "environment",
    "rpo",
    "rto",
    "depends_on",
    "policy",
    "procedure",
    "planned_resolution",
    "drill_every",
    "host",
    "dataset",
];
const DATASET_KEYS: &[&str] = &[
    "name",
    "paths",
    "exclude",
    "command",
    "collect",
    "filename",
    "timeout",
    "category",
    "pre_hook",
    "post_hook",
    "drill_check",
    "drill_timeout",
];

/// Reads and validates a configuration text. `file` is only used in messages.
pub fn parse(file: &Path, text: &str) -> Parsed {
    let source = Source::new(file, text);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let message = err.message().trim().to_string();
            return Parsed {
                config: None,
                diagnostics: vec![source.diagnostic(
                    Severity::Error,
                    span,
                    None,
                    None,
                    format!("invalid TOML: {message}"),
                )],
            };
        }
    };
    let mut r = Reader::new(&source);
    let mut top = TableView::new(root.get_ref(), root.span(), String::new());
    let mut spans = Spans::default();
    let mut inventory = Inventory::default();

    let mut header = Header::default();
    for mut ws in r.tables(&mut top, "workspace", "[workspace]") {
        header = self::header(&mut r, &mut ws, &mut inventory, &mut spans);
        r.finish(ws, WORKSPACE_KEYS);
    }

    let mut poisoned = Poisoned::default();
    for (i, mut t) in r.tables(&mut top, "site", "site").into_iter().enumerate() {
        let (site, span, bad_id) = self::site(&mut r, &mut t);
        poisoned.field_if(bad_id, Field::SiteId(i));
        inventory.sites.push(site);
        spans.sites.push(span);
        r.finish(t, SITE_KEYS);
    }

    for (i, mut t) in r
        .tables(&mut top, "repository", "repository")
        .into_iter()
        .enumerate()
    {
        let before = r.errors();
        let (repo, span) = repository(&mut r, &mut t);
        poisoned.field_if(r.errors() > before, Field::RepositoryId(i));
        inventory.repositories.push(repo);
        spans.repositories.push(span);
        r.finish(t, REPOSITORY_KEYS);
    }

    for (i, mut t) in r
        .tables(&mut top, "policy", "policy")
        .into_iter()
        .enumerate()
    {
        let (policy, pspans, bad) = policy(&mut r, &mut t);
        poisoned.field_if(bad.id, Field::PolicyId(i));
        poisoned.field_if(bad.repository, Field::PolicyRepository(i));
        if bad.schedule {
            poisoned.policies.insert(policy.id.clone());
        }
        inventory.policies.push(policy);
        spans.policies.push(pspans);
        r.finish(t, POLICY_KEYS);
    }

    for mut t in r.tables(&mut top, "host", "host") {
        let name = r.string(&mut t, "name", true);
        let subject = name
            .as_ref()
            .map_or_else(|| "host".to_string(), |n| format!("host `{}`", n.value));
        let silent_after = r.parsed(&mut t, "silent_after", false, Interval::parse);
        if let Some(name) = name {
            if reprise_domain::is_host_name(&name.value) {
                inventory.hosts.push(reprise_domain::Host {
                    name: name.value,
                    silent_after,
                });
            } else {
                r.error(
                    name.span,
                    Some(&subject),
                    Some("name"),
                    "a host is named with 1 to 64 letters, digits, `-`, `_`, `.` (`mail-01`)",
                );
            }
        }
        r.finish(t, HOST_KEYS);
    }
    for mut t in r.tables(&mut top, "device_model", "device model") {
        let model = device::model(&mut r, &mut t);
        inventory.device_models.push(model);
        r.finish(t, device::MODEL_KEYS);
    }
    for (i, mut t) in r.tables(&mut top, "asset", "asset").into_iter().enumerate() {
        let (asset, aspans, bad) = asset(&mut r, &mut t);
        poisoned.field_if(bad.id, Field::AssetId(i));
        poisoned.field_if(bad.site, Field::AssetSite(i));
        poisoned.field_if(bad.policy, Field::AssetPolicy(i));
        poisoned.field_if(bad.policy, Field::AssetRpo(i));
        inventory.assets.push(asset);
        spans.assets.push(aspans);
        r.finish(t, ASSET_KEYS);
    }
    let collect_spans: Vec<Vec<Option<device::CollectSpans>>> = spans
        .assets
        .iter()
        .map(|a| a.datasets.iter().map(|d| d.collect.clone()).collect())
        .collect();
    device::resolve(&mut r, &mut inventory, &collect_spans);
    for mut t in r.tables(&mut top, "notify", "notify") {
        let notifier = notifier(&mut r, &mut t);
        inventory.notifiers.push(notifier);
        r.finish(t, NOTIFY_KEYS);
    }
    let mut server = ServerSettings::default();
    for mut t in r.tables(&mut top, "server", "[server]") {
        server = self::server(&mut r, &mut t);
        r.finish(t, SERVER_KEYS);
    }
    let mut supervision = SupervisionSettings::default();
    for mut t in r.tables(&mut top, "supervision", "[supervision]") {
        supervision = self::supervision(&mut r, &mut t);
        r.finish(t, SUPERVISION_KEYS);
    }
    for mut t in r.tables(&mut top, "contact", "contact") {
        inventory.contacts.push(contact(&mut r, &mut t));
        r.finish(t, CONTACT_KEYS);
    }
    for mut t in r.tables(&mut top, "category", "category") {
        let (category, span) = self::category(&mut r, &mut t);
        inventory.categories.push(category);
        spans.categories.push(span);
        r.finish(t, CATEGORY_KEYS);
    }
    let mut exports = Vec::new();
    for mut t in r.tables(&mut top, "export", "export") {
        exports.push(export(&mut r, &mut t, &inventory));
        r.finish(t, EXPORT_KEYS);
    }
    let mut report = ReportSettings::default();
    for mut t in r.tables(&mut top, "report", "[report]") {
        report.provider = r.string(&mut t, "provider", false).map(|l| l.value);
        report.address = r.string(&mut t, "address", false).map(|l| l.value);
        if let Some(logo) = r.string(&mut t, "logo", false) {
            let lower = logo.value.to_ascii_lowercase();
            if [".png", ".jpg", ".jpeg", ".svg"]
                .iter()
                .any(|e| lower.ends_with(e))
            {
                report.logo = Some(logo.value);
            } else {
                r.error(
                    logo.span,
                    Some("[report]"),
                    Some("logo"),
                    "a PNG, JPEG or SVG file, from the workspace (`branding/logo.png`)",
                );
            }
        }
        r.finish(t, REPORT_KEYS);
    }
    let mut recovery = RecoverySettings::default();
    for mut t in r.tables(&mut top, "recovery", "[recovery]") {
        recovery = self::recovery(&mut r, &mut t);
        r.finish(t, RECOVERY_KEYS);
    }
    let mut priority_rules = Vec::new();
    for (i, mut t) in r
        .tables(&mut top, "priority", "priority")
        .into_iter()
        .enumerate()
    {
        t.subject = format!("priority rule {}", i + 1);
        priority_rules.push(priority_rule(&mut r, &mut t, &inventory));
        r.finish(t, PRIORITY_KEYS);
    }
    // Rules of every site replace the defaults; a site's own rule set (rules naming
    // sites) comes before them, for its assets only.
    if priority_rules.iter().all(|p| !p.sites.is_empty()) {
        priority_rules.extend(default_rules());
    }
    r.finish(top, TOP_KEYS);

    check_domain(&mut r, &inventory, &spans, &poisoned);
    let mut diagnostics = r.diagnostics;
    diagnostics.sort_by_key(|d| (d.line, d.column));
    let valid = diagnostics.iter().all(|d| d.severity != Severity::Error);
    Parsed {
        config: valid.then_some(Config {
            name: header.name,
            catalog: header.catalog,
            timezone: header.timezone,
            restore_procedure: header.restore_procedure,
            inventory,
            server,
            supervision,
            recovery,
            priority_rules,
            exports,
            report,
            spans,
        }),
        diagnostics,
    }
}

/// Domain checks run even when fields failed to parse, so that one pass shows every
/// problem; checks that would only repeat a parse error about a stand-in are skipped.
fn check_domain(r: &mut Reader<'_>, inventory: &Inventory, spans: &Spans, poisoned: &Poisoned) {
    for problem in inventory
        .validate()
        .into_iter()
        .filter(|p| !poisoned.hides(p))
    {
        let (span, subject, field) = locate(inventory, spans, problem.field);
        let message = problem.kind.to_string();
        if problem.is_warning() {
            r.warning(span, subject.as_deref(), field, message);
        } else {
            r.error(span, subject.as_deref(), field, message);
        }
    }
}

/// The `[workspace]` table's own keys.
#[derive(Default)]
struct Header {
    name: Option<String>,
    catalog: Option<String>,
    timezone: Option<String>,
    restore_procedure: Option<String>,
}

fn header(
    r: &mut Reader<'_>,
    ws: &mut TableView<'_, '_>,
    inventory: &mut Inventory,
    spans: &mut Spans,
) -> Header {
    let mut h = Header {
        name: r.string(ws, "name", false).map(|l| l.value),
        catalog: r.string(ws, "catalog", false).map(|l| l.value),
        restore_procedure: r.string(ws, "restore_procedure", false).map(|l| l.value),
        timezone: None,
    };
    if let Some(tz) = r.string(ws, "timezone", false) {
        if jiff::tz::TimeZone::get(&tz.value).is_err() {
            r.error(
                tz.span,
                Some("[workspace]"),
                Some("timezone"),
                format!(
                    "unknown time zone `{}` (use an IANA name such as `Europe/Paris`)",
                    tz.value
                ),
            );
        }
        h.timezone = Some(tz.value);
    }
    if let Some(p) = r.string(ws, "default_policy", false) {
        inventory.default_policy = id(r, &p, "[workspace]", "default_policy", PolicyId::parse);
        spans.default_policy = Some(p.span);
    }
    h
}

/// A `[[site]]`, its span, and whether its id failed to parse.
fn site(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> (Site, Range<usize>, bool) {
    let before = r.errors();
    let sid = r.string(t, "id", true);
    if let Some(sid) = &sid {
        t.subject = format!("site `{}`", sid.value);
    }
    let subject = t.subject.clone();
    let parsed_id = sid
        .as_ref()
        .and_then(|s| id(r, s, &subject, "id", SiteId::parse));
    let bad_id = r.errors() > before;
    let site_name = r.string(t, "name", false);
    let address = r.string(t, "address", false).map(|l| l.value);
    let contact = r.string(t, "contact", false).map(|l| l.value);
    let span = sid.map_or(t.span.clone(), |s| s.span);
    let site_id = parsed_id.unwrap_or_else(placeholder_id(SiteId::parse));
    let site = Site {
        name: site_name.map_or_else(|| site_id.to_string(), |l| l.value),
        id: site_id,
        address,
        contact,
    };
    (site, span, bad_id)
}

fn server(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> ServerSettings {
    let mut server = ServerSettings {
        listen: r.string(t, "listen", false).map(|l| l.value),
        tls_cert: r.string(t, "tls_cert", false).map(|l| l.value),
        tls_key: r.string(t, "tls_key", false).map(|l| l.value),
        commands_user: r.string(t, "commands_user", false).map(|l| l.value),
        public_url: r.parsed(t, "public_url", false, |u| {
            if u.starts_with("http://") || u.starts_with("https://") {
                Ok(u.trim_end_matches('/').to_string())
            } else {
                Err("the web UI's address starts with https:// (or http://)")
            }
        }),
        ..ServerSettings::default()
    };
    if server.tls_cert.is_some() != server.tls_key.is_some() {
        let span = t.span.clone();
        r.error(
            span,
            Some("[server]"),
            Some(if server.tls_cert.is_some() {
                "tls_key"
            } else {
                "tls_cert"
            }),
            "tls_cert and tls_key go together".to_string(),
        );
    }
    if let Some(n) = r.count(t, "concurrency") {
        server.concurrency = n.max(1);
    }
    if let Some(j) = r.parsed(t, "jitter", false, Interval::parse) {
        server.jitter = j;
    }
    if let Some(d) = r.parsed(t, "drills", false, |v| match v {
        "scheduled" => Ok(true),
        "manual" => Ok(false),
        other => Err(format!("`{other}`: scheduled or manual")),
    }) {
        server.drills = d;
    }
    server
}

fn supervision(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> SupervisionSettings {
    let mut supervision = SupervisionSettings::default();
    if let Some(share) = r.count(t, "rpo_at_risk") {
        if (1..=100).contains(&share) {
            supervision.rpo_at_risk = f64::from(share) / 100.0;
        } else {
            r.error(
                t.span.clone(),
                Some("[supervision]"),
                Some("rpo_at_risk"),
                "a percentage of the RPO between 1 and 100 (75 means at risk past 75 %)",
            );
        }
    }
    if let Some(a) = r.parsed(t, "secret_max_age", false, Interval::parse) {
        supervision.secret_max_age = Some(a);
    }
    for name in r.strings(t, "ransom_names") {
        if name.value.trim().is_empty() || name.value.contains('/') {
            r.error(
                name.span,
                Some("[supervision]"),
                Some("ransom_names"),
                "a file name pattern (`*.crypt`, `DECRYPT_*.txt`), without `/`",
            );
        } else {
            supervision.ransom_names.push(name.value);
        }
    }
    if let Some(p) = r.parsed(t, "probe_every", false, Interval::parse) {
        supervision.probe_every = p;
    }
    if let Some(s) = r.parsed(t, "self_backup", false, Schedule::parse) {
        supervision.self_backup = s;
    }
    supervision
}

fn contact(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> reprise_domain::Contact {
    let name = r
        .string(t, "name", true)
        .map(|l| l.value)
        .unwrap_or_default();
    t.subject = format!("contact `{name}`");
    let role = r
        .string(t, "role", true)
        .map(|l| l.value)
        .unwrap_or_default();
    let phone = r.string(t, "phone", false).map(|l| l.value);
    let email = r.string(t, "email", false).map(|l| l.value);
    reprise_domain::Contact {
        name,
        role,
        phone,
        email,
    }
}

fn category(
    r: &mut Reader<'_>,
    t: &mut TableView<'_, '_>,
) -> (reprise_domain::DataCategory, Range<usize>) {
    let name = r.string(t, "name", true);
    if let Some(n) = &name {
        t.subject = format!("data category `{}`", n.value);
    }
    let description = r.string(t, "description", false).map(|l| l.value);
    let min_retention = r.parsed(t, "min_retention", false, Interval::parse);
    let max_retention = r.parsed(t, "max_retention", false, Interval::parse);
    let span = name.as_ref().map_or(t.span.clone(), |l| l.span.clone());
    let category = reprise_domain::DataCategory {
        name: name.map(|l| l.value).unwrap_or_default(),
        description,
        min_retention,
        max_retention,
    };
    (category, span)
}

/// An `[[export]]`; its site and repository must be declared above it in the inventory.
fn export(r: &mut Reader<'_>, t: &mut TableView<'_, '_>, inventory: &Inventory) -> ExportSettings {
    let id = r.string(t, "id", true);
    if let Some(id) = &id {
        t.subject = format!("export `{}`", id.value);
    }
    let subject = t.subject.clone();
    let span = t.span.clone();
    let listed = r.strings(t, "kinds");
    let kinds = if listed.is_empty() {
        ExportKind::ALL.to_vec()
    } else {
        listed
            .into_iter()
            .filter_map(|k| match ExportKind::parse(&k.value) {
                Ok(kind) => Some(kind),
                Err(e) => {
                    r.error(k.span, Some(&subject), Some("kinds"), e);
                    None
                }
            })
            .collect()
    };
    let schedule = r
        .parsed(t, "schedule", true, Schedule::parse)
        .unwrap_or(Schedule::Manual);
    let period = r.parsed(t, "period", false, Interval::parse);
    let site = r.string(t, "site", false);
    if let Some(s) = &site
        && !inventory.sites.iter().any(|x| x.id.as_str() == s.value)
    {
        r.error(
            s.span.clone(),
            Some(&subject),
            Some("site"),
            format!("unknown site `{}`", s.value),
        );
    }
    let kind_type = r.string(t, "type", false).map(|l| l.value);
    let directory = r.string(t, "directory", false).map(|l| l.value);
    let repository = r.string(t, "repository", false);
    if let Some(repo) = &repository
        && !inventory
            .repositories
            .iter()
            .any(|x| x.id.as_str() == repo.value)
    {
        r.error(
            repo.span.clone(),
            Some(&subject),
            Some("repository"),
            format!("unknown repository `{}`", repo.value),
        );
    }
    if directory.is_some() == repository.is_some() {
        r.error(
            span,
            Some(&subject),
            Some("directory"),
            "an export goes to a `directory` or a `repository` (one of them)",
        );
    }
    ExportSettings {
        id: id.map(|l| l.value).unwrap_or_default(),
        kinds,
        schedule,
        period,
        site: site.map(|l| l.value),
        kind_type,
        directory,
        repository: repository.map(|l| l.value),
    }
}

fn recovery(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> RecoverySettings {
    let mut recovery = RecoverySettings::default();
    if let Some(n) = r.count(t, "technicians") {
        recovery.technicians = n.max(1);
    }
    if let Some(i) = r.parsed(t, "manual_step", false, Interval::parse) {
        recovery.manual_step = i;
    }
    if let Some(i) = r.parsed(t, "assessment_deadline", false, Interval::parse) {
        recovery.assessment_deadline = i;
    }
    if let Some(i) = r.parsed(t, "review_after", false, Interval::parse) {
        recovery.review_after = i;
    }
    if let Some(mb) = r.count(t, "assumed_throughput") {
        // Megabytes per second, as people say it.
        recovery.assumed_throughput = u64::from(mb.max(1)) * 1024 * 1024;
    }
    // `update_every = { SEV1 = "1h", SEV2 = "4h", SEV4 = "never" }` (R000.6, R004.6).
    for mut cadence in r.tables(t, "update_every", "[recovery] update_every") {
        for severity in SEVERITIES {
            let every = r.parsed(&mut cadence, severity, false, |v| match v {
                "never" | "jamais" => Ok(None),
                other => Interval::parse(other).map(Some).map_err(|e| {
                    format!("{e} (or `never` when no update is due at this severity)")
                }),
            });
            if let Some(every) = every {
                recovery.update_every.insert(severity.to_string(), every);
            }
        }
        r.finish(cadence, SEVERITIES);
    }
    recovery
}

/// Fields whose value failed to parse and holds a stand-in: domain checks on them would
/// report the same mistake again, in misleading words.
#[derive(Default)]
struct Poisoned {
    fields: HashSet<Field>,
    /// Policies whose schedule failed to parse: RPO checks against them are meaningless.
    policies: HashSet<PolicyId>,
}

impl Poisoned {
    fn field_if(&mut self, bad: bool, field: Field) {
        if bad {
            self.fields.insert(field);
        }
    }

    fn hides(&self, problem: &Problem) -> bool {
        self.fields.contains(&problem.field)
            || matches!(&problem.kind, ProblemKind::RpoNeverMet { policy, .. } if self.policies.contains(policy))
    }
}

/// Which parts of a policy failed to parse.
struct PolicyErrors {
    id: bool,
    repository: bool,
    schedule: bool,
}

/// Which parts of an asset failed to parse.
struct AssetErrors {
    id: bool,
    site: bool,
    policy: bool,
}

/// Parses an id, reporting a bad one at its position.
fn id<T, E: std::fmt::Display>(
    r: &mut Reader<'_>,
    raw: &Located<String>,
    subject: &str,
    field: &str,
    parse: fn(&str) -> Result<T, E>,
) -> Option<T> {
    match parse(&raw.value) {
        Ok(v) => Some(v),
        Err(e) => {
            r.error(raw.span.clone(), Some(subject), Some(field), e.to_string());
            None
        }
    }
}

/// A stand-in for a value that failed to parse. The configuration is rejected anyway;
/// the stand-in only keeps later checks from reporting the same mistake again.
fn placeholder_id<T, E: std::fmt::Debug>(parse: fn(&str) -> Result<T, E>) -> impl FnOnce() -> T {
    move || parse("invalid").expect("placeholder id is valid")
}

/// Parses a word or duration with `parse`, reporting failures at the value.
fn value<T, E: std::fmt::Display>(
    r: &mut Reader<'_>,
    raw: Option<Located<String>>,
    subject: &str,
    field: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Option<T> {
    let raw = raw?;
    match parse(&raw.value) {
        Ok(v) => Some(v),
        Err(e) => {
            r.error(raw.span, Some(subject), Some(field), e.to_string());
            None
        }
    }
}

/// A `[[priority]]` rule: a tier, a label, and what it matches.
fn priority_rule(
    r: &mut Reader<'_>,
    t: &mut TableView<'_, '_>,
    inventory: &Inventory,
) -> PriorityRule {
    let subject = t.subject.clone();
    let tier = match r.count(t, "tier") {
        Some(0) => {
            r.error(
                t.span.clone(),
                Some(&subject),
                Some("tier"),
                "tiers start at 1 (restored first)",
            );
            1
        }
        Some(n) => n,
        None => {
            if !t.has("tier") {
                r.error(
                    t.span.clone(),
                    Some(&subject),
                    Some("tier"),
                    "a priority rule needs `tier` (1 is restored first)",
                );
            }
            1
        }
    };
    let label = r
        .string(t, "label", true)
        .map(|l| l.value)
        .unwrap_or_default();
    let label_fr = r.string(t, "label_fr", false).map(|l| l.value);
    let words =
        |r: &mut Reader<'_>, t: &mut TableView<'_, '_>, key: &'static str| r.strings(t, key);
    let mut categories = Vec::new();
    for l in words(r, t, "categories") {
        match Category::parse(&l.value) {
            Ok(c) => categories.push(c),
            Err(e) => r.error(l.span, Some(&subject), Some("categories"), e.to_string()),
        }
    }
    let mut zones = Vec::new();
    for l in words(r, t, "zones") {
        match ZoneRisk::parse(&l.value) {
            Ok(z) => zones.push(z),
            Err(e) => r.error(l.span, Some(&subject), Some("zones"), e.to_string()),
        }
    }
    let mut criticalities = Vec::new();
    for l in words(r, t, "criticalities") {
        match Criticality::parse(&l.value) {
            Ok(c) => criticalities.push(c),
            Err(e) => r.error(l.span, Some(&subject), Some("criticalities"), e.to_string()),
        }
    }
    let functions = words(r, t, "functions")
        .into_iter()
        .map(|l| l.value)
        .collect();
    let mut sites = Vec::new();
    for l in words(r, t, "sites") {
        match SiteId::parse(&l.value) {
            Ok(s) if inventory.sites.iter().any(|known| known.id == s) => sites.push(s),
            Ok(_) => r.error(
                l.span,
                Some(&subject),
                Some("sites"),
                format!("unknown site `{}`", l.value),
            ),
            Err(e) => r.error(l.span, Some(&subject), Some("sites"), e.to_string()),
        }
    }
    PriorityRule {
        tier,
        label,
        label_fr,
        categories,
        zones,
        criticalities,
        functions,
        sites,
    }
}

/// A `[[notify]]` channel: a webhook (`url`) or e-mail (`smtp`).
fn notifier(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> Notifier {
    let id = r.string(t, "id", true).map(|l| l.value).unwrap_or_default();
    t.subject = format!("notify `{id}`");
    let subject = t.subject.clone();
    let min_severity = r
        .parsed(t, "min_severity", false, |s| match s {
            "info" | "warning" | "critical" => Ok(s.to_string()),
            _ => Err(format!(
                "unknown severity `{s}` (expected one of: info, warning, critical)"
            )),
        })
        .unwrap_or_else(|| "warning".into());
    let url = r.parsed(t, "url", false, |u| {
        if u.starts_with("http://") || u.starts_with("https://") {
            Ok(u.to_string())
        } else {
            Err("a webhook URL starts with http:// or https://")
        }
    });
    let smtp = r.string(t, "smtp", false);
    let url_secret = r.string(t, "url_secret", false).map(|l| l.value);
    let url = url.or(url_secret.as_ref().map(|_| String::new()));
    let channel = match (url, smtp) {
        (url, None) => {
            let format = r
                .parsed(t, "format", false, |f| match f {
                    "generic" | "slack" | "mattermost" | "teams" => {
                        Ok(f.replace("mattermost", "slack"))
                    }
                    _ => Err(format!(
                        "unknown format `{f}` (expected one of: generic, slack, mattermost, teams)"
                    )),
                })
                .unwrap_or_else(|| "generic".into());
            if url.is_none() && !t.has("url") {
                r.error(
                    t.span.clone(),
                    Some(&subject),
                    Some("url"),
                    "a channel needs `url` or `url_secret` (a webhook) or `smtp` (an e-mail relay, `host:port`)",
                );
            }
            Channel::Webhook {
                url: url.unwrap_or_default(),
                url_secret,
                format,
            }
        }
        (None, Some(smtp)) => Channel::Email(email(r, t, smtp)),
        (Some(_), Some(smtp)) => {
            r.error(
                smtp.span,
                Some(&subject),
                Some("smtp"),
                "give either `url` (a webhook) or `smtp` (e-mail), not both",
            );
            Channel::Webhook {
                url: String::new(),
                url_secret: None,
                format: "generic".into(),
            }
        }
    };
    let mut audience = Vec::new();
    for l in r.strings(t, "audience") {
        match l.value.as_str() {
            "team" | "management" | "client" => audience.push(l.value),
            other => r.error(
                l.span,
                Some(&subject),
                Some("audience"),
                format!("unknown audience `{other}` (team, management, client)"),
            ),
        }
    }
    let lang = r
        .parsed(t, "lang", false, |l| match l {
            "en" | "fr" => Ok(l.to_string()),
            _ => Err(format!("unknown language `{l}` (en or fr)")),
        })
        .unwrap_or_else(|| "en".into());
    Notifier {
        id,
        channel,
        min_severity,
        audience,
        lang,
    }
}

/// The e-mail part of a `[[notify]]` channel.
fn email(r: &mut Reader<'_>, t: &mut TableView<'_, '_>, smtp: Located<String>) -> Email {
    let subject = t.subject.clone();
    let tls = r
        .parsed(t, "tls", false, |w| {
            SmtpTls::parse(w)
                .ok_or_else(|| format!("unknown TLS mode `{w}` (expected starttls, tls or none)"))
        })
        .unwrap_or(SmtpTls::Starttls);
    let (host, port) = match smtp.value.rsplit_once(':') {
        Some((host, port)) if !host.contains(']') || host.ends_with(']') => {
            match port.parse::<u16>() {
                Ok(p) if p > 0 => (host.trim_matches(['[', ']']).to_string(), p),
                _ => {
                    r.error(
                        smtp.span.clone(),
                        Some(&subject),
                        Some("smtp"),
                        format!("`{port}` is not a port number (write host:port, e.g. mail.example.org:587)"),
                    );
                    (host.to_string(), tls.default_port())
                }
            }
        }
        _ => (smtp.value.clone(), tls.default_port()),
    };
    if host.is_empty() {
        r.error(
            smtp.span.clone(),
            Some(&subject),
            Some("smtp"),
            "the relay's host name is missing (write host:port, e.g. mail.example.org:587)",
        );
    }
    let address = |w: &str| -> Result<String, String> {
        let ok = w
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && (d.contains('.') || d == "localhost"));
        if ok {
            Ok(w.to_string())
        } else {
            Err(format!("`{w}` is not an e-mail address"))
        }
    };
    let from = r.parsed(t, "from", true, address).unwrap_or_default();
    let to: Vec<String> = r
        .strings(t, "to")
        .into_iter()
        .filter_map(|l| match address(&l.value) {
            Ok(a) => Some(a),
            Err(e) => {
                r.error(l.span, Some(&subject), Some("to"), e);
                None
            }
        })
        .collect();
    if to.is_empty() && !t.has("to") {
        r.error(
            smtp.span.clone(),
            Some(&subject),
            Some("to"),
            "an e-mail channel needs `to`: the addresses that receive the alerts",
        );
    }
    let username = r.string(t, "username", false).map(|l| l.value);
    let password_env = r.string(t, "password_env", false).map(|l| l.value);
    let password_file = r.string(t, "password_file", false).map(|l| l.value);
    let password_secret = r.string(t, "password_secret", false).map(|l| l.value);
    if username.is_some()
        && password_env.is_none()
        && password_file.is_none()
        && password_secret.is_none()
    {
        r.error(
            smtp.span.clone(),
            Some(&subject),
            Some("username"),
            "a `username` needs `password_secret`, `password_env` or `password_file` (the password itself never goes in this file)",
        );
    }
    let ca_file = r.string(t, "ca_file", false).map(|l| l.value);
    Email {
        host,
        port,
        tls,
        from,
        to,
        username,
        password_env,
        password_file,
        password_secret,
        ca_file,
    }
}

fn repository(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> (Repository, Range<usize>) {
    let rid = r.string(t, "id", true);
    if let Some(rid) = &rid {
        t.subject = format!("repository `{}`", rid.value);
    }
    let subject = t.subject.clone();
    let parsed = rid
        .as_ref()
        .and_then(|l| id(r, l, &subject, "id", RepoId::parse));
    let path = r.string(t, "path", false);
    let url = r.string(t, "url", false);
    let backend = match (path, url) {
        (Some(path), None) => RepoBackend::Local { path: path.value },
        (None, Some(url)) => match url.value.split_once(':') {
            Some(("s3", _)) => RepoBackend::S3 { url: url.value },
            Some(("sftp", _)) => RepoBackend::Sftp {
                url: url.value,
                ssh_key: None,
                known_hosts: "strict".into(),
            },
            Some(("rest", _)) => RepoBackend::Rest { url: url.value },
            Some(("local", rest)) => RepoBackend::Local {
                path: rest.to_string(),
            },
            _ => {
                r.error(
                    url.span,
                    Some(&subject),
                    Some("url"),
                    "unsupported repository URL: use restic's notation, `s3:…`, `sftp:…` or `rest:…` (or `path` for a local directory)",
                );
                RepoBackend::Local {
                    path: String::new(),
                }
            }
        },
        (Some(_), Some(url)) => {
            r.error(
                url.span,
                Some(&subject),
                Some("url"),
                "give either `path` (a local directory) or `url` (a remote repository), not both",
            );
            RepoBackend::Local {
                path: String::new(),
            }
        }
        (None, None) => {
            r.error(
                t.span.clone(),
                Some(&subject),
                Some("path"),
                "a repository needs `path` (a local directory) or `url` (a remote repository)",
            );
            RepoBackend::Local {
                path: String::new(),
            }
        }
    };
    let mut backend = backend;
    let ssh_key = r.string(t, "ssh_key", false);
    let known_hosts = r.string(t, "known_hosts", false);
    if let RepoBackend::Sftp {
        ssh_key: key,
        known_hosts: hosts,
        ..
    } = &mut backend
    {
        *key = ssh_key.map(|l| l.value);
        if let Some(l) = known_hosts {
            if matches!(l.value.as_str(), "strict" | "add" | "accept") {
                *hosts = l.value;
            } else {
                r.error(
                    l.span,
                    Some(&subject),
                    Some("known_hosts"),
                    format!(
                        "unknown value `{}` (strict: only known hosts; add: a new host is added, a changed key refused; accept: anything, for a test server only)",
                        l.value
                    ),
                );
            }
        }
    } else if let Some(l) = ssh_key.or(known_hosts) {
        r.error(
            l.span,
            Some(&subject),
            None,
            "`ssh_key` and `known_hosts` are for an SFTP repository (`url = \"sftp:…\"`)",
        );
    }
    let password_file = r.string(t, "password_file", false).map(|l| l.value);
    let password_env = r.string(t, "password_env", false).map(|l| l.value);
    let password_command = r.string(t, "password_command", false).map(|l| l.value);
    let password_secret = r.string(t, "password_secret", false).map(|l| l.value);
    let sources = [
        &password_file,
        &password_env,
        &password_command,
        &password_secret,
    ]
    .iter()
    .filter(|s| s.is_some())
    .count();
    if sources != 1 {
        r.error(
            t.span.clone(),
            Some(&subject),
            Some("password_file"),
            "give exactly one of `password_secret`, `password_file`, `password_env` or `password_command` (the password itself never goes in this file)",
        );
    }
    let rotate_every = r.parsed(t, "rotate_every", false, Interval::parse);
    let immutable = immutability(r, t, &backend);
    let medium = r
        .string(t, "medium", false)
        .map_or_else(|| "disk".to_string(), |l| l.value);
    let location = r
        .parsed(t, "location", false, |w| {
            Location::parse(w)
                .ok_or_else(|| format!("unknown location `{w}` (expected on-site or off-site)"))
        })
        .unwrap_or(Location::OnSite);
    let span = rid.map_or(t.span.clone(), |l| l.span);
    (
        Repository {
            id: parsed.unwrap_or_else(placeholder_id(RepoId::parse)),
            backend,
            password_file,
            password_env,
            password_command,
            password_secret,
            rotate_every,
            medium,
            location,
            immutable,
        },
        span,
    )
}

/// `immutable_for` and `lock_mode`: only S3 storage enforces a lock Reprise's own
/// credentials cannot lift, and a lock shorter than two days would lapse on a missed day
/// of maintenance.
fn immutability(
    r: &mut Reader<'_>,
    t: &mut TableView<'_, '_>,
    backend: &RepoBackend,
) -> Option<reprise_domain::Immutability> {
    let subject = t.subject.clone();
    let period = r.string(t, "immutable_for", false);
    let mode = r.string(t, "lock_mode", false);
    let Some(period) = period else {
        if let Some(mode) = mode {
            r.error(
                mode.span,
                Some(&subject),
                Some("lock_mode"),
                "`lock_mode` goes with `immutable_for` (how long what is written cannot be deleted)",
            );
        }
        return None;
    };
    if !matches!(backend, RepoBackend::S3 { .. } | RepoBackend::Local { .. }) {
        r.error(
            period.span,
            Some(&subject),
            Some("immutable_for"),
            "only an S3 repository (`url = \"s3:…\"`, a bucket with Object Lock) or a local one Reprise serves to writers can be immutable: an SFTP or REST repository can be deleted by whoever holds its credentials",
        );
        return None;
    }
    let interval = match Interval::parse(&period.value) {
        Ok(i) => i,
        Err(e) => {
            r.error(
                period.span,
                Some(&subject),
                Some("immutable_for"),
                e.to_string(),
            );
            return None;
        }
    };
    if interval.as_secs() < 2 * 86_400 {
        r.error(
            period.span,
            Some(&subject),
            Some("immutable_for"),
            "an immutable period under 2 days would lapse when a day of maintenance is missed: give at least `2d` (7 to 90 days is usual)",
        );
        return None;
    }
    let mode = match mode {
        None => reprise_domain::LockMode::Compliance,
        Some(m) => match reprise_domain::LockMode::parse(&m.value) {
            Some(mode) => mode,
            None => {
                r.error(
                    m.span,
                    Some(&subject),
                    Some("lock_mode"),
                    format!(
                        "unknown lock mode `{}` (compliance: nobody can lift the lock; governance: users with the bypass right can)",
                        m.value
                    ),
                );
                return None;
            }
        },
    };
    Some(reprise_domain::Immutability {
        period: interval,
        mode,
    })
}

fn policy(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> (Policy, PolicySpans, PolicyErrors) {
    let before = r.errors();
    let pid = r.string(t, "id", true);
    if let Some(pid) = &pid {
        t.subject = format!("policy `{}`", pid.value);
    }
    let subject = t.subject.clone();
    let parsed = pid
        .as_ref()
        .and_then(|l| id(r, l, &subject, "id", PolicyId::parse));
    let bad_id = r.errors() > before;
    let before = r.errors();
    let schedule = r.parsed(t, "schedule", true, Schedule::parse);
    let bad_schedule = r.errors() > before;
    let before = r.errors();
    let repo = r.string(t, "repository", true);
    let repository = repo
        .as_ref()
        .and_then(|l| id(r, l, &subject, "repository", RepoId::parse));
    let bad_repository = r.errors() > before;
    // Entries that fail to parse are reported and left out, with their spans, so that
    // positions stay aligned with the parsed list.
    let (copy_to, copy_spans): (Vec<RepoId>, Vec<Range<usize>>) = r
        .strings(t, "copy_to")
        .into_iter()
        .filter_map(|l| id(r, &l, &subject, "copy_to", RepoId::parse).map(|v| (v, l.span)))
        .unzip();
    // Quarterly restore tests by default (R002.9).
    let drill_every = r
        .parsed(t, "drill_every", false, Interval::parse)
        .unwrap_or(Interval::from_days(90));
    let mut retention = Retention {
        keep_last: r.count(t, "keep_last"),
        keep_hourly: r.count(t, "keep_hourly"),
        keep_daily: r.count(t, "keep_daily"),
        keep_weekly: r.count(t, "keep_weekly"),
        keep_monthly: r.count(t, "keep_monthly"),
        keep_yearly: r.count(t, "keep_yearly"),
        keep_within: r.parsed(t, "keep_within", false, Interval::parse),
        max_age: r.parsed(t, "max_age", false, Interval::parse),
    };
    if retention == Retention::default() {
        // No rule at all would keep nothing or everything; seed 003's 14 days is the
        // documented default.
        retention = Retention::seed_default();
    }
    let spans = PolicySpans {
        id: pid.map_or(t.span.clone(), |l| l.span),
        repository: repo.map_or(t.span.clone(), |l| l.span),
        copy_to: copy_spans,
    };
    (
        Policy {
            id: parsed.unwrap_or_else(placeholder_id(PolicyId::parse)),
            schedule: schedule.unwrap_or(Schedule::Manual),
            retention,
            repository: repository.unwrap_or_else(placeholder_id(RepoId::parse)),
            copy_to,
            drill_every,
        },
        spans,
        PolicyErrors {
            id: bad_id,
            repository: bad_repository,
            schedule: bad_schedule,
        },
    )
}

fn asset(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> (Asset, AssetSpans, AssetErrors) {
    let before = r.errors();
    let aid = r.string(t, "id", true);
    if let Some(aid) = &aid {
        t.subject = format!("asset `{}`", aid.value);
    }
    let subject = t.subject.clone();
    let parsed_id = aid
        .as_ref()
        .and_then(|l| id(r, l, &subject, "id", AssetId::parse));
    let bad_id = r.errors() > before;
    let name = r.string(t, "name", true);
    let before = r.errors();
    let site_raw = r.string(t, "site", true);
    let site = site_raw
        .as_ref()
        .and_then(|l| id(r, l, &subject, "site", SiteId::parse));
    let bad_site = r.errors() > before;
    let category = r.parsed(t, "category", true, Category::parse);
    let criticality = r.parsed(t, "criticality", true, Criticality::parse);
    let state = r.parsed(t, "state", false, AssetState::parse);
    let zone = r.parsed(t, "zone", false, ZoneRisk::parse);
    let location = r.string(t, "location", false).map(|l| l.value);
    let function = r.string(t, "function", false).map(|l| l.value);
    let priority = match r.count(t, "priority") {
        Some(0) => {
            r.error(
                t.span.clone(),
                Some(&subject),
                Some("priority"),
                "priorities start at 1 (restored first)",
            );
            None
        }
        p => p,
    };
    let owner = r.string(t, "owner", false).map(|l| l.value);
    let environment = r.string(t, "environment", false).map(|l| l.value);
    let rpo_raw = r.string(t, "rpo", false);
    let rpo_span = rpo_raw.as_ref().map_or(t.span.clone(), |l| l.span.clone());
    let rpo = value(r, rpo_raw, &subject, "rpo", Interval::parse);
    let rto = r.parsed(t, "rto", false, Interval::parse);
    let (depends_on, dep_spans): (Vec<AssetId>, Vec<Range<usize>>) = r
        .strings(t, "depends_on")
        .into_iter()
        .filter_map(|l| id(r, &l, &subject, "depends_on", AssetId::parse).map(|v| (v, l.span)))
        .unzip();
    let before = r.errors();
    let policy_raw = r.string(t, "policy", false);
    let policy = policy_raw
        .as_ref()
        .and_then(|l| id(r, l, &subject, "policy", PolicyId::parse));
    let bad_policy = r.errors() > before;
    let procedure = r.string(t, "procedure", false).map(|l| l.value);
    let planned_resolution = planned_date(r, t, &subject);
    let drill_every = r.parsed(t, "drill_every", false, Interval::parse);
    let host = r.string(t, "host", false).and_then(|l| {
        if reprise_domain::is_host_name(&l.value) {
            Some(l.value)
        } else {
            r.error(
                l.span,
                Some(&subject),
                Some("host"),
                "a host is named with 1 to 64 letters, digits, `-`, `_`, `.` (`mail-01`): the name its agent enrolled with",
            );
            None
        }
    });
    let mut datasets = Vec::new();
    let mut dataset_spans = Vec::new();
    for mut d in r.tables(t, "dataset", &subject) {
        let (set, spans) = dataset(r, &mut d, &subject);
        datasets.push(set);
        dataset_spans.push(spans);
        r.finish(d, DATASET_KEYS);
    }
    let spans = AssetSpans {
        id: aid.map_or(t.span.clone(), |l| l.span),
        site: site_raw.map_or(t.span.clone(), |l| l.span),
        depends_on: dep_spans,
        policy: policy_raw.map_or(t.span.clone(), |l| l.span),
        rpo: rpo_span,
        datasets: dataset_spans,
    };
    (
        Asset {
            id: parsed_id.unwrap_or_else(placeholder_id(AssetId::parse)),
            name: name.map(|l| l.value).unwrap_or_default(),
            site: site.unwrap_or_else(placeholder_id(SiteId::parse)),
            category: category.unwrap_or(Category::Other),
            criticality: criticality.unwrap_or(Criticality::Minor),
            state: state.unwrap_or(AssetState::Working),
            zone,
            location,
            function,
            priority,
            owner,
            environment,
            rpo,
            rto,
            depends_on,
            policy,
            procedure,
            planned_resolution,
            drill_every,
            host,
            datasets,
        },
        spans,
        AssetErrors {
            id: bad_id,
            site: bad_site,
            policy: bad_policy,
        },
    )
}

/// `planned_resolution` as a TOML date (`2024-09-22`) or a string in ISO or French
/// (`22/09/2024`) form.
fn planned_date(
    r: &mut Reader<'_>,
    t: &mut TableView<'_, '_>,
    subject: &str,
) -> Option<jiff::civil::Date> {
    let raw = r.date_or_string(t, "planned_resolution")?;
    match crate::dates::parse_date(&raw.value) {
        Some(d) => Some(d),
        None => {
            r.error(
                raw.span,
                Some(subject),
                Some("planned_resolution"),
                format!(
                    "`{}` is not a date (write 2024-09-22 or 22/09/2024)",
                    raw.value
                ),
            );
            None
        }
    }
}

fn dataset(
    r: &mut Reader<'_>,
    d: &mut TableView<'_, '_>,
    asset_subject: &str,
) -> (DataSet, DataSetSpans) {
    let name = r.string(d, "name", true);
    if let Some(n) = &name {
        d.subject = format!("{asset_subject}, data set `{}`", n.value);
    }
    let subject = d.subject.clone();
    let paths = r.strings(d, "paths");
    let exclude = r.strings(d, "exclude");
    let command = r.string(d, "command", false);
    let filename = r.string(d, "filename", false);
    let timeout = r.parsed(d, "timeout", false, Interval::parse);
    let mut collect_spans = None;
    let collected = r
        .tables(d, "collect", &subject)
        .into_iter()
        .next()
        .map(|mut t| {
            let (collect, mut spans) = device::collect(r, &mut t);
            spans.filename = filename.is_some();
            r.finish(t, device::COLLECT_KEYS);
            collect_spans = Some(spans);
            collect
        });
    if let Some(collect) = collected {
        if let Some(c) = &command {
            r.error(
                c.span.clone(),
                Some(&subject),
                Some("command"),
                "a data set collected from a device takes its command inside `collect`",
            );
        }
        if let Some(p) = paths.first() {
            r.error(
                p.span.clone(),
                Some(&subject),
                Some("paths"),
                "give either `paths` or `collect`, not both",
            );
        }
        let source = DataSource::Device {
            collect: Box::new(collect),
            filename: filename
                .as_ref()
                .map_or_else(String::new, |l| l.value.clone()),
            timeout: timeout.unwrap_or(DEFAULT_DEVICE_TIMEOUT),
        };
        return finish_dataset(r, d, name, source, paths, collect_spans);
    }
    let source = match (paths.is_empty(), command) {
        (false, None) => {
            if let Some(f) = &filename {
                r.error(
                    f.span.clone(),
                    Some(&subject),
                    Some("filename"),
                    "`filename` names the output of a `command`; this data set backs up `paths`",
                );
            }
            DataSource::Paths {
                paths: paths.iter().map(|l| l.value.clone()).collect(),
                exclude: exclude.into_iter().map(|l| l.value).collect(),
            }
        }
        (true, Some(command)) => {
            if let Some(e) = exclude.first() {
                r.error(
                    e.span.clone(),
                    Some(&subject),
                    Some("exclude"),
                    "`exclude` applies to `paths`, not to a command's output",
                );
            }
            let set_name = name.as_ref().map_or("output", |n| n.value.as_str());
            DataSource::Command {
                command: command.value,
                filename: filename.map_or_else(|| format!("{set_name}.out"), |l| l.value),
                timeout: timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
            }
        }
        (false, Some(command)) => {
            r.error(
                command.span,
                Some(&subject),
                Some("command"),
                "give either `paths` or `command`, not both",
            );
            DataSource::Paths {
                paths: vec![],
                exclude: vec![],
            }
        }
        (true, None) => {
            r.error(d.span.clone(), Some(&subject), Some("paths"), "a data set needs `paths` (files to back up), `command` (whose output is the data) or `collect` (a device's configuration)");
            DataSource::Paths {
                paths: vec![],
                exclude: vec![],
            }
        }
    };
    finish_dataset(r, d, name, source, paths, None)
}

/// The fields every kind of data set shares.
fn finish_dataset(
    r: &mut Reader<'_>,
    d: &mut TableView<'_, '_>,
    name: Option<Located<String>>,
    source: DataSource,
    paths: Vec<Located<String>>,
    collect: Option<device::CollectSpans>,
) -> (DataSet, DataSetSpans) {
    let category = r.string(d, "category", false);
    let category_span = category.as_ref().map_or(d.span.clone(), |l| l.span.clone());
    let category = category.map(|l| l.value);
    let pre_hook = r.string(d, "pre_hook", false).map(|l| l.value);
    let post_hook = r.string(d, "post_hook", false).map(|l| l.value);
    let drill_check = r.string(d, "drill_check", false).map(|l| l.value);
    let drill_timeout = r
        .parsed(d, "drill_timeout", false, Interval::parse)
        .unwrap_or(reprise_domain::DEFAULT_DRILL_TIMEOUT);
    let spans = DataSetSpans {
        name: name.as_ref().map_or(d.span.clone(), |l| l.span.clone()),
        paths: paths.into_iter().map(|l| l.span).collect(),
        category: category_span,
        collect,
    };
    (
        DataSet {
            name: name.map(|l| l.value).unwrap_or_default(),
            source,
            category,
            pre_hook,
            post_hook,
            drill_check,
            drill_timeout,
        },
        spans,
    )
}

/// Maps a domain problem's field back to a position, a subject and a field name.
fn locate(
    inv: &Inventory,
    spans: &Spans,
    field: Field,
) -> (Range<usize>, Option<String>, Option<&'static str>) {
    let asset = |i: usize| Some(format!("asset `{}`", inv.assets[i].id));
    let policy = |i: usize| Some(format!("policy `{}`", inv.policies[i].id));
    match field {
        Field::SiteId(i) => (
            spans.sites[i].clone(),
            Some(format!("site `{}`", inv.sites[i].id)),
            Some("id"),
        ),
        Field::AssetId(i) => (spans.assets[i].id.clone(), asset(i), Some("id")),
        Field::AssetSite(i) => (spans.assets[i].site.clone(), asset(i), Some("site")),
        Field::AssetDependsOn { asset: i, index } => (
            spans.assets[i]
                .depends_on
                .get(index)
                .unwrap_or(&spans.assets[i].id)
                .clone(),
            asset(i),
            Some("depends_on"),
        ),
        Field::AssetPolicy(i) => (spans.assets[i].policy.clone(), asset(i), Some("policy")),
        Field::AssetRpo(i) => (spans.assets[i].rpo.clone(), asset(i), Some("rpo")),
        Field::AssetDataSet { asset: i, index } => (
            spans.assets[i].datasets[index].name.clone(),
            asset(i),
            Some("dataset"),
        ),
        Field::PolicyId(i) => (spans.policies[i].id.clone(), policy(i), Some("id")),
        Field::PolicyRepository(i) => (
            spans.policies[i].repository.clone(),
            policy(i),
            Some("repository"),
        ),
        Field::PolicyCopyTo { policy: i, index } => (
            spans.policies[i].copy_to[index].clone(),
            policy(i),
            Some("copy_to"),
        ),
        Field::RepositoryId(i) => (
            spans.repositories[i].clone(),
            Some(format!("repository `{}`", inv.repositories[i].id)),
            Some("id"),
        ),
        Field::DefaultPolicy => (
            spans.default_policy.clone().unwrap_or(0..0),
            Some("[workspace]".to_string()),
            Some("default_policy"),
        ),
        Field::DataSetCategory { asset: i, index } => (
            spans.assets[i].datasets[index].category.clone(),
            Some(format!(
                "asset `{}`, data set `{}`",
                inv.assets[i].id, inv.assets[i].datasets[index].name
            )),
            Some("category"),
        ),
        Field::Category(i) => (
            spans.categories[i].clone(),
            Some(format!("data category `{}`", inv.categories[i].name)),
            Some("name"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[[site]]\nid = \"hq\"\n\n[[repository]]\nid = \"local\"\npath = \"r\"\npassword_file = \"k\"\n";

    fn errors(text: &str) -> Vec<String> {
        parse(Path::new("reprise.toml"), text)
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| format!("{}:{}: {d}", d.line, d.column))
            .collect()
    }

    #[test]
    fn a_policy_keeping_data_past_its_category_maximum_is_refused_at_the_data_set() {
        let text = format!(
            "{BASE}\n[[policy]]\nid = \"long\"\nschedule = \"daily at 02:00\"\nrepository = \"local\"\nkeep_monthly = 24\n\n[[category]]\nname = \"records\"\nmax_retention = \"1y\"\n\n[[asset]]\nid = \"app\"\nname = \"App\"\ncategory = \"server\"\ncriticality = \"high\"\nsite = \"hq\"\npolicy = \"long\"\n[[asset.dataset]]\nname = \"db\"\npaths = [\"/srv\"]\ncategory = \"records\"\n[[asset.dataset]]\nname = \"misc\"\npaths = [\"/srv\"]\ncategory = \"toaster\"\n"
        );
        let errs = errors(&text).join("\n");
        assert!(
            errs.contains("asset `app`, data set `db`, field `category`: policy `long` keeps restore points up to 744d, longer than data category `records` allows (365d)"),
            "{errs}"
        );
        assert!(
            errs.contains("data set `misc`, field `category`: unknown data category `toaster`"),
            "{errs}"
        );
        let fixed = text.replace("keep_monthly = 24", "keep_monthly = 24\nmax_age = \"1y\"");
        let errs = errors(&fixed);
        assert_eq!(errs.len(), 1, "{errs:?}");
    }

    #[test]
    fn an_export_names_known_kinds_and_one_destination() {
        let text = format!(
            "{BASE}\n[[export]]\nid = \"weekly\"\nkinds = [\"runs\", \"toasters\"]\nschedule = \"weekly on monday at 06:00\"\nsite = \"nowhere\"\n"
        );
        let errs = errors(&text).join("\n");
        assert!(
            errs.contains("export `weekly`, field `kinds`: unknown export `toasters`"),
            "{errs}"
        );
        assert!(
            errs.contains("field `site`: unknown site `nowhere`"),
            "{errs}"
        );
        assert!(
            errs.contains("an export goes to a `directory` or a `repository`"),
            "{errs}"
        );
        let ok = text.replace(", \"toasters\"", "").replace(
            "site = \"nowhere\"",
            "repository = \"local\"\nperiod = \"7d\"",
        );
        let parsed = parse(Path::new("reprise.toml"), &ok);
        let export = &parsed.config.expect("valid").exports[0];
        assert_eq!(export.kinds, [ExportKind::Runs]);
        assert_eq!(export.repository.as_deref(), Some("local"));
    }

    #[test]
    fn an_sftp_repository_takes_its_ssh_key_and_host_key_strategy() {
        let repo = |extra: &str, url: &str| {
            format!(
                "{BASE}\n[[repository]]\nid = \"vault\"\nurl = \"{url}\"\npassword_env = \"VAULT_KEY\"\n{extra}\n"
            )
        };
        let text = repo(
            "ssh_key = \".reprise/keys/vault_ed25519\"\nknown_hosts = \"add\"",
            "sftp:backup@nas.local:/srv/restic",
        );
        let parsed = parse(Path::new("reprise.toml"), &text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let config = parsed.config.unwrap();
        let vault = config.inventory.repositories.last().unwrap();
        assert_eq!(
            vault.backend,
            RepoBackend::Sftp {
                url: "sftp:backup@nas.local:/srv/restic".into(),
                ssh_key: Some(".reprise/keys/vault_ed25519".into()),
                known_hosts: "add".into(),
            }
        );
        let errs = errors(&repo("known_hosts = \"maybe\"", "sftp:nas:/r")).join("\n");
        assert!(
            errs.contains("repository `vault`, field `known_hosts`: unknown value `maybe`"),
            "{errs}"
        );
        let errs = errors(&repo("ssh_key = \"k\"", "s3:https://s3.example.org/b")).join("\n");
        assert!(
            errs.contains("`ssh_key` and `known_hosts` are for an SFTP repository"),
            "{errs}"
        );
    }

    #[test]
    fn an_e_mail_channel_reads_its_relay_addresses_and_secret_source() {
        let text = format!(
            "{BASE}\n[[notify]]\nid = \"mgmt\"\nsmtp = \"mail.example.org\"\ntls = \"tls\"\nfrom = \"reprise@example.org\"\nto = [\"a@example.org\", \"b@example.org\"]\nusername = \"reprise\"\npassword_env = \"SMTP_PASSWORD\"\nmin_severity = \"critical\"\n"
        );
        let parsed = parse(Path::new("reprise.toml"), &text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let n = &parsed.config.unwrap().inventory.notifiers[0];
        let Channel::Email(email) = &n.channel else {
            panic!("{n:?}")
        };
        assert_eq!((email.host.as_str(), email.port), ("mail.example.org", 465));
        assert_eq!(email.tls, SmtpTls::Tls);
        assert_eq!(email.to.len(), 2);
        assert_eq!(email.password_env.as_deref(), Some("SMTP_PASSWORD"));
    }

    #[test]
    fn secrets_of_the_encrypted_store_are_named_not_written() {
        let text = format!(
            "{}\n[[notify]]\nid = \"chat\"\nurl_secret = \"slack-hook\"\nformat = \"slack\"\n\n[[notify]]\nid = \"mail\"\nsmtp = \"mail.example.org\"\nfrom = \"r@example.org\"\nto = [\"a@example.org\"]\nusername = \"r\"\npassword_secret = \"smtp\"\n",
            BASE.replace("password_file = \"k\"", "password_secret = \"repo\"")
        );
        let parsed = parse(Path::new("reprise.toml"), &text);
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let inv = parsed.config.unwrap().inventory;
        assert_eq!(inv.repositories[0].password_secret.as_deref(), Some("repo"));
        let Channel::Webhook { url_secret, .. } = &inv.notifiers[0].channel else {
            panic!()
        };
        assert_eq!(url_secret.as_deref(), Some("slack-hook"));
        let Channel::Email(email) = &inv.notifiers[1].channel else {
            panic!()
        };
        assert_eq!(email.password_secret.as_deref(), Some("smtp"));
        // Two sources for one password: refused.
        let both = BASE.replace(
            "password_file = \"k\"",
            "password_file = \"k\"\npassword_secret = \"repo\"",
        );
        assert!(
            errors(&both)
                .join("\n")
                .contains("give exactly one of `password_secret`")
        );
    }

    #[test]
    fn e_mail_mistakes_are_located_and_named() {
        let text = format!(
            "{BASE}\n[[notify]]\nid = \"mgmt\"\nsmtp = \"mail.example.org:port\"\ntls = \"ssl\"\nfrom = \"reprise\"\nto = [\"ok@example.org\", \"nobody\"]\nusername = \"reprise\"\n"
        );
        let errs = errors(&text).join("\n");
        assert!(errs.contains("`port` is not a port number"), "{errs}");
        assert!(
            errs.contains("unknown TLS mode `ssl` (expected starttls, tls or none)"),
            "{errs}"
        );
        assert!(
            errs.contains("field `from`: `reprise` is not an e-mail address"),
            "{errs}"
        );
        assert!(
            errs.contains("field `to`: `nobody` is not an e-mail address"),
            "{errs}"
        );
        assert!(
            errs.contains(
                "a `username` needs `password_secret`, `password_env` or `password_file`"
            ),
            "{errs}"
        );
        let both =
            format!("{BASE}\n[[notify]]\nid = \"x\"\nurl = \"https://h\"\nsmtp = \"h:25\"\n");
        assert!(errors(&both).join("\n").contains("not both"));
        let neither = format!("{BASE}\n[[notify]]\nid = \"x\"\n");
        assert!(
            errors(&neither)
                .join("\n")
                .contains("a channel needs `url`")
        );
    }

    #[test]
    fn priority_rules_replace_the_defaults_and_bad_words_are_located() {
        let defaults = parse(Path::new("reprise.toml"), BASE).config.unwrap();
        assert_eq!(defaults.priority_rules, default_rules());
        let text = format!(
            "{BASE}\n[recovery]\ntechnicians = 3\nmanual_step = \"1h\"\nreview_after = \"5d\"\n\n[[priority]]\ntier = 1\nlabel = \"Entrances\"\nlabel_fr = \"Entrées\"\ncategories = [\"Caméra\"]\nzones = [\"élevé\"]\n\n[[priority]]\ntier = 2\nlabel = \"Everything else\"\n"
        );
        let config = parse(Path::new("reprise.toml"), &text).config.unwrap();
        assert_eq!(config.recovery.technicians, 3);
        assert_eq!(config.recovery.manual_step.as_secs(), 3600);
        assert_eq!(config.recovery.review_after.as_secs(), 5 * 86_400);
        assert_eq!(config.recovery.assessment_deadline.as_secs(), 2 * 3600);
        assert_eq!(config.priority_rules.len(), 2);
        assert_eq!(config.priority_rules[0].categories, [Category::Camera]);
        assert_eq!(
            config.priority_rules[0].label_fr.as_deref(),
            Some("Entrées")
        );
        let bad = format!("{BASE}\n[[priority]]\nlabel = \"x\"\ncategories = [\"toaster\"]\n");
        let errs = errors(&bad).join("\n");
        assert!(
            errs.contains("priority rule 1, field `tier`: a priority rule needs `tier`"),
            "{errs}"
        );
        assert!(
            errs.contains("field `categories`: unknown category `toaster`"),
            "{errs}"
        );
    }

    #[test]
    fn server_and_supervision_settings_have_defaults_and_bounds() {
        let config = parse(Path::new("reprise.toml"), BASE).config.unwrap();
        assert_eq!(config.server.concurrency, 1);
        assert_eq!(config.supervision.rpo_at_risk, 0.75);
        let text = format!(
            "{BASE}\n[server]\nconcurrency = 4\njitter = \"10m\"\nlisten = \"0.0.0.0:9000\"\ndrills = \"manual\"\n\n[supervision]\nrpo_at_risk = 50\nprobe_every = \"1m\"\nself_backup = \"manual\"\n"
        );
        let config = parse(Path::new("reprise.toml"), &text).config.unwrap();
        assert_eq!(config.server.concurrency, 4);
        assert_eq!(config.server.jitter.as_secs(), 600);
        assert!(!config.server.drills);
        assert_eq!(config.supervision.rpo_at_risk, 0.5);
        assert_eq!(config.supervision.self_backup, Schedule::Manual);
        let bad = format!("{BASE}\n[supervision]\nrpo_at_risk = 150\n[server]\nconcurency = 2\n");
        let errs = errors(&bad).join("\n");
        assert!(errs.contains("between 1 and 100"), "{errs}");
        assert!(
            errs.contains("unknown field `concurency` (did you mean `concurrency`?)"),
            "{errs}"
        );
    }
}
