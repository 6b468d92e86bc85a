//! Command-line arguments. One enum variant per subcommand; each is run by the module of
//! the same name in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "reprise",
    version,
    about = "Self-hosted disaster recovery: back up what you must not lose, prove it restores, run the recovery.",
    after_help = "Exit codes: 0 success, 1 the operation failed, 2 bad usage or invalid input (arguments, configuration, imported file), 3 done but a person must look (a backup that looks like an attack)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The workspace directory (default: the nearest directory upwards holding reprise.toml).
    #[arg(long, global = true, env = "REPRISE_WORKSPACE", value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// The catalog to use instead of the configured one (`postgres://…` or a SQLite path).
    #[arg(
        long,
        global = true,
        env = "REPRISE_CATALOG",
        value_name = "URL",
        hide_env_values = true
    )]
    pub catalog: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace: a commented reprise.toml, the catalog and a repository key.
    /// With --from-repository, rebuild one from Reprise's own backup in a repository.
    Init {
        /// Where to create it (default: the current directory).
        dir: Option<PathBuf>,
        /// Rebuild the workspace (configuration, catalog, key) from the newest self-backup
        /// in this repository (a path, `s3:…` or `rest:…`).
        #[arg(long, value_name = "LOCATION", requires = "password_file")]
        from_repository: Option<String>,
        /// The file holding that repository's password (the key kept away from the
        /// machine).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// The workspace's master key (its safe copy), which sealed the journal: put back
        /// as .reprise/keys/master.key so that `reprise journal verify` holds. Self-backups
        /// never carry it.
        #[arg(long, value_name = "FILE", requires = "from_repository")]
        master_key_file: Option<PathBuf>,
    },
    /// Build a demo workspace from the seed documents, with real data files, to explore.
    Demo {
        /// Where to create it.
        #[arg(default_value = "reprise-demo")]
        dir: PathBuf,
    },
    /// Print a shell's completion script (`reprise completions bash > /etc/bash_completion.d/reprise`).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (reprise.1 and one per command, `reprise-backup.1`…), from the
    /// same definitions as this help.
    Man {
        /// The directory to write them into (created if missing).
        #[arg(long, value_name = "DIR", default_value = "man")]
        out: PathBuf,
    },
    /// Validate the workspace: configuration, keys, paths and catalog.
    Check {
        /// Print the diagnostics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sites, assets and their dependencies.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Routers, switches, cameras and recorders whose configuration is collected: what
    /// was last read, changes, host keys, pushing a configuration back.
    #[command(args_conflicts_with_subcommands = true)]
    Devices {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<DevicesCommand>,
    },
    /// Agents: `reprise agent` on the hosts whose data is not on this machine (a mail
    /// server, a storage server). Invite a host, enroll it there, run it as a service.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Back up assets' data sets into their repositories, then copy them (3-2-1).
    Backup {
        /// Assets to back up.
        assets: Vec<String>,
        /// Every asset.
        #[arg(long)]
        all: bool,
        /// Every asset of this site.
        #[arg(long)]
        site: Option<String>,
        /// Why, recorded with each run (`after change: firmware upgrade`).
        #[arg(long)]
        reason: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// List restore points with their copies and verification status, and the foreign
    /// snapshots (tagged for an asset, not made by Reprise), which are never used.
    #[command(args_conflicts_with_subcommands = true)]
    Snapshots {
        /// Only this asset's.
        asset: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<SnapshotsCommand>,
    },
    /// Restore an asset's data from its newest restore point (or the one you name).
    Restore {
        /// The asset to restore, by its id.
        asset: String,
        /// Only this data set.
        #[arg(long)]
        dataset: Option<String>,
        /// The newest restore point at or before this time (`2026-11-20`, `2026-11-20 14:00`, RFC 3339).
        #[arg(long, conflicts_with = "snapshot")]
        at: Option<String>,
        /// A restore point id (or its first characters).
        #[arg(long)]
        snapshot: Option<String>,
        /// Only this path of the data set.
        #[arg(long)]
        path: Option<String>,
        /// The directory to restore into (nothing is written outside it).
        #[arg(long)]
        target: PathBuf,
        /// Replace files that already exist in the target.
        #[arg(long)]
        overwrite: bool,
        /// Skip reading back and verifying the data before writing it.
        #[arg(long)]
        no_verify: bool,
        /// Restore into a protected place anyway (the workspace, a system directory…),
        /// for this reason, which is journaled.
        #[arg(long, value_name = "REASON")]
        allow_protected_target: Option<String>,
        /// Where to restore an asset whose data lives on another host: `host` (its agent
        /// writes the target on that host, the default) or `server` (this machine).
        #[arg(long, value_name = "WHERE", value_parser = ["host", "server"])]
        on: Option<String>,
        /// How long a restore on a host may wait for its agent (`1h` by default).
        #[arg(long, value_name = "INTERVAL")]
        deadline: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Verify repositories: structure, and data read back when asked.
    Verify {
        /// Only the repositories of these assets.
        assets: Vec<String>,
        /// Read back and verify all data.
        #[arg(long, conflicts_with_all = ["subset", "rolling"])]
        read_data: bool,
        /// Read back a random share of the data, in percent.
        #[arg(long, value_name = "PERCENT", conflicts_with = "rolling")]
        subset: Option<f64>,
        /// Read the next slice of a cycle of N runs, so all data is read every N runs.
        #[arg(long, value_name = "N")]
        rolling: Option<u32>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Which restore points each policy keeps, and removing the others.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Erasure with proof (GDPR): remove paths from every restore point of an asset in
    /// every repository — planned first, then executed and journaled; restores never
    /// bring erased paths back.
    #[command(subcommand)]
    Erase(EraseCommand),
    /// CSV exports: runs, points, incidents, drills, requests, alerts, inventory,
    /// filtered by site, period and type; configured ones run on their schedule.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The evidence pack for auditors: backup plan, policies, drills,
    /// verifications, incidents and reviews, requests, readiness, rotations, erasures and
    /// the verified journal, mapped to ISO 27001, SOC 2 and NIST CSF controls, with a
    /// summary in English and French (HTML and PDF).
    Evidence {
        /// 2026-Q3, 2026-11, 2026, or days: 2026-07-01..2026-09-30.
        #[arg(long)]
        period: String,
        /// Where: a `.tar.gz` archive, or a directory (default:
        /// reprise-evidence-PERIOD.tar.gz here).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Data categories: their retention bounds, and per data set what is kept, until
    /// when and where (every repository, copies included).
    Categories {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Recorded runs (backups, restores, verifications, retention, copies), newest first.
    Runs {
        /// Only this asset's.
        asset: Option<String>,
        /// Only this kind: backup, restore, verify, retention, copy.
        #[arg(long)]
        kind: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Per asset: age of the last verified restore point against the RPO, last backup, 3-2-1.
    Status {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Evaluate supervision now (RPO, missed and failed backups, damage, anomalies), notify
    /// the configured webhooks of what changed, and list the open alerts.
    Alerts {
        /// Resolved alerts too.
        #[arg(long)]
        all: bool,
        /// Acknowledge this open alert (its key, `rpo:iredmail`): someone is on it.
        #[arg(long, value_name = "KEY")]
        ack: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Restore tests: restore into a sandbox, verify, measure the real RTO.
    #[command(subcommand)]
    Drill(DrillCommand),
    /// Incidents: open, assess, plan, run the steps, check, update, sign the report, review.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// The tamper-evident journal: every change of state, who and when, chained by keyed
    /// hashes.
    #[command(subcommand)]
    Journal(JournalCommand),
    /// Restore requests: submit (refused whole when incomplete), feasibility, approval,
    /// execution in the agreed window, checks, report.
    #[command(subcommand)]
    Request(RequestCommand),
    /// The offline runbook: contacts, inventory, recovery order, procedures, checklists,
    /// restore points and stock restic commands, in one self-contained HTML file.
    #[command(subcommand)]
    Runbook(RunbookCommand),
    /// Go-live readiness per asset and site: policy, backup, restore test,
    /// approved RPO/RTO, restore-request procedure, journal.
    Readiness {
        /// Approve an asset's RPO/RTO as its business owner.
        #[command(subcommand)]
        approve: Option<ReadinessCommand>,
        /// Only this site.
        #[arg(long)]
        site: Option<String>,
        /// The language of the text: en or fr.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The recovery plan: order, waves, restore points, predicted times against RTOs.
    /// Without --simulate, for the assets the inventory says are failed or partial.
    Plan {
        /// What if these assets failed? (A plan without an incident.)
        #[arg(long, num_args = 1.., value_name = "ASSET")]
        simulate: Vec<String>,
        /// The minimal-continuity variant: only the top tier, with stand-in actions.
        #[arg(long)]
        minimal: bool,
        /// Steps that may run at once (default: `[recovery] technicians`).
        #[arg(long)]
        technicians: Option<u32>,
        /// Language of the explanations.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Back up Reprise's own catalog and configuration into every repository (the
    /// server does it on `[supervision] self_backup`, daily by default).
    SelfBackup {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Run the server: REST API, health, metrics and the backup scheduler.
    Serve {
        /// Address to listen on (default: `[server] listen`, else 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Serve plain HTTP on a non-loopback address (put TLS in front of it).
        #[arg(long)]
        allow_remote_http: bool,
        /// Serve HTTPS with this PEM certificate chain (default: `[server] tls_cert`).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's PEM private key (default: `[server] tls_key`).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Log lines as text (default) or JSON objects, on standard error. The level
        /// comes from REPRISE_LOG (`info` by default; `debug`, `warn`, or per module).
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log_format: LogFormat,
        /// How often the scheduler looks for due backups.
        #[arg(long, default_value = "30s", hide = true)]
        tick: String,
    },
    /// API tokens: per account, scoped, expiring, revocable.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Accounts: roles (admin, operator, auditor, viewer), scopes (sites, tenants),
    /// passwords (Argon2id).
    #[command(subcommand)]
    User(UserCommand),
    /// Secrets kept encrypted under the master key: repository and SMTP passwords,
    /// webhook URLs (`password_secret`, `url_secret` in reprise.toml).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Repositories: create, list, and the settings stock restic needs.
    #[command(subcommand)]
    Repo(RepoCommand),
}

#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// Trust a foreign snapshot as a restore point (journaled with who and why): one
    /// restored into Reprise's repository from elsewhere, or made before Reprise.
    Adopt {
        /// The snapshot's id, or its first characters.
        snapshot: String,
        /// The asset it is tagged for.
        #[arg(long)]
        asset: String,
        /// The data set it is tagged for.
        #[arg(long)]
        dataset: String,
        /// Why it can be trusted.
        #[arg(long)]
        reason: String,
    },
    /// Backups that look like an attack (files rewritten with data that does not
    /// compress, mass deletion, ransom-note names), cleared ones too.
    Suspect {
        /// Only this asset's.
        asset: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Trust a suspect restore point again after checking it (journaled with who and
    /// why): it and the points after it count again.
    Clear {
        /// The suspect snapshot's id, or its first characters.
        snapshot: String,
        /// What was checked, and why the point can be trusted.
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open an incident; its damage assessment is generated at once.
    Open(OpenIncident),
    /// Incidents, newest first (open ones unless --all).
    List {
        /// Finished ones too, not only those still open.
        #[arg(long)]
        all: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Everything about an incident: deadlines, assessment, plan progress, evolution
    /// table, timeline.
    Show {
        /// The incident's number.
        id: i64,
        /// The language of the text: en or fr.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Move an incident to a later phase (assessment, containment, recovery, review).
    Phase {
        /// The incident's number.
        id: i64,
        /// The phase to move to: assessment, containment, recovery or review.
        phase: String,
    },
    /// Give a role: commander, primary, secondary, communications, technician.
    Assign {
        /// The incident's number.
        id: i64,
        /// The role: commander, primary, secondary, communications or technician.
        role: String,
        /// Who takes it.
        name: String,
    },
    /// Edit the damage assessment, or record that it was shared with the client.
    Assess {
        /// The incident's number.
        id: i64,
        /// The asset whose line changes.
        #[arg(long)]
        asset: Option<String>,
        /// What happened to it (`power loss`, `disk failure`, `ransomware`).
        #[arg(long, requires = "asset")]
        nature: Option<String>,
        /// Its state now: failed, partial or working.
        #[arg(long, requires = "asset")]
        state: Option<String>,
        /// Since when it is affected (`2026-11-23 07:40`).
        #[arg(long, requires = "asset", value_name = "TIME")]
        since: Option<String>,
        /// A note kept with the assessment.
        #[arg(long)]
        note: Option<String>,
        /// Record that the assessment was shared now (it is due within 2 hours of opening).
        #[arg(long)]
        share: bool,
    },
    /// Show the recovery plan for the incident, or approve it.
    Plan(PlanIncident),
    /// Start, finish, fail or skip a step. Starting a restore step runs its restores.
    Step(StepIncident),
    /// Record a check of a step's checklist: pass, fail or reserved.
    Check {
        /// The incident's number.
        id: i64,
        /// The step's asset, by its id.
        asset: String,
        /// The check's key, as `incident show` lists them.
        key: String,
        /// pass, fail or reserved.
        result: String,
        /// A note kept with it.
        #[arg(long)]
        note: Option<String>,
        /// For a reservation: by when it is lifted (2026-12-01).
        #[arg(long)]
        deadline: Option<String>,
    },
    /// Draft the status update from the plan's progress; --send sends it.
    Update {
        /// The incident's number.
        id: i64,
        /// The language of the text: en or fr.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
        /// The text to send instead of the draft.
        #[arg(long)]
        text: Option<String>,
        /// Send it to the channels of its audience, journaled.
        #[arg(long)]
        send: bool,
    },
    /// The return-to-service report (PV); --sign records the technician's signature.
    Pv(PvIncident),
    /// The post-incident review: root cause, preventive actions, closing.
    Review(ReviewIncident),
    /// The risk register: preventive actions of every incident.
    Risks {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct OpenIncident {
    /// What happened, in a few words (`Power failure at headquarters`).
    pub title: String,
    /// SEV1 (most severe) to SEV4.
    #[arg(long, default_value = "SEV2")]
    pub severity: String,
    /// An affected asset, `ID` (failed) or `ID=partial`; repeat. Default: the assets
    /// the inventory says are not working.
    #[arg(long = "asset", value_name = "ID[=STATE]")]
    pub assets: Vec<String>,
    /// What detected it (`monitoring`, `client call`, `alert rpo:iredmail`).
    #[arg(long)]
    pub source: Option<String>,
    /// The nature of the damage (hardware, corrupted configuration, erased data, or a
    /// compromise: `ransomware`, `intrusion`, whose restore points taken since are not
    /// clean).
    #[arg(long)]
    pub nature: Option<String>,
    /// Personal data is involved: the GDPR 72-hour deadline applies.
    #[arg(long)]
    pub personal_data: bool,
    /// When it was detected, if earlier (`2026-11-23 08:10`): deadlines count from it.
    #[arg(long, value_name = "TIME")]
    pub detected: Option<String>,
    /// Since when the assets are affected, if before detection (`2026-11-22 23:00`; for
    /// a compromise, when the intruder came in). Default: the detection time.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Who leads the response (the incident commander).
    #[arg(long)]
    pub commander: Option<String>,
    /// Print the result as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlanIncident {
    /// The incident's number.
    pub id: i64,
    /// Approve the plan: its steps are frozen into the incident and can start.
    #[arg(long)]
    pub approve: bool,
    /// Plan the minimal service first: stand-ins before full restores.
    #[arg(long)]
    pub minimal: bool,
    /// How many technicians work at once (steps of a wave run side by side).
    #[arg(long)]
    pub technicians: Option<u32>,
    /// The language of the text: en or fr.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// Print the result as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StepIncident {
    /// The incident's number.
    pub id: i64,
    /// The step's asset, by its id.
    pub asset: String,
    /// start, done, fail or skip.
    #[arg(value_enum)]
    pub action: StepAction,
    /// Why (needed to fail or skip, or to force), or a note when done.
    #[arg(long)]
    pub reason: Option<String>,
    /// With `done`: declare the step done although some of its checks are not recorded
    /// (needs --reason; the report lists it as a reservation).
    #[arg(long)]
    pub force: bool,
    /// With `start`: replace what the target already holds (a failed step started again
    /// into Reprise's own recovery area always does).
    #[arg(long)]
    pub overwrite: bool,
    /// Where a restore step writes (default: .reprise/recovery/incident-ID/ASSET).
    #[arg(long)]
    pub target: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PvIncident {
    /// The incident's number.
    pub id: i64,
    /// Sign as this technician (every step must be done or skipped).
    #[arg(long, value_name = "NAME")]
    pub sign: Option<String>,
    /// The language of the text: en or fr.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// Write the report's text (what is hashed) to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the report as a self-contained HTML page.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Write the report as a PDF document.
    #[arg(long)]
    pub pdf: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReviewIncident {
    /// The incident's number.
    pub id: i64,
    /// The root cause, as the review found it.
    #[arg(long)]
    pub root_cause: Option<String>,
    /// `what|owner|due date`, e.g. `Add a UPS to the rack|Mohamed|2026-12-15`; repeat.
    #[arg(long = "action", value_name = "WHAT|OWNER|DUE")]
    pub actions: Vec<String>,
    /// Mark preventive action N (as numbered by `incident risks`) done; repeat.
    #[arg(long = "done", value_name = "N")]
    pub done: Vec<usize>,
    /// Close the incident with this review.
    #[arg(long)]
    pub close: bool,
    /// The language of the text: en or fr.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepAction {
    Start,
    Done,
    Fail,
    Skip,
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Restore each data set of these assets (all when none) into a sandbox and verify it.
    Run {
        /// The assets, by id (every one when none is named).
        assets: Vec<String>,
        /// A restore point at random instead of the newest.
        #[arg(long)]
        random: bool,
        /// What the drill simulates (`loss of the mail server`).
        #[arg(long)]
        scenario: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Drills, newest first.
    History {
        /// Only this asset's restore tests.
        asset: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The drill report for auditors: what, when, who, how long, result.
    Report {
        /// Only this asset's restore tests.
        #[arg(long)]
        asset: Option<String>,
        /// Only drills from this day on (`2026-07-01`).
        #[arg(long)]
        since: Option<jiff::civil::Date>,
        /// Only drills up to this day, included (`2026-09-30`).
        #[arg(long)]
        until: Option<jiff::civil::Date>,
        /// The language of the text: en or fr.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
        /// Write it to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write it as an HTML page to this file.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write it as a PDF to this file.
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// The newest entries, oldest of them first.
    List {
        /// How many (default 50).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Check the whole chain, the head kept beside the master key, and every record the
    /// journal seals (incidents, requests, approvals, erasures, accounts, tokens,
    /// provenance): exit 0 when all holds, 1 naming the first entry altered, removed or
    /// reordered, the truncation, or each record changed outside Reprise.
    Verify {
        /// A head witnessed elsewhere to check too: a self-backup's
        /// reprise-manifest.json, an evidence pack's or export's verification.json, a copy
        /// of .reprise/keys/journal.head. Repeatable.
        #[arg(long, value_name = "FILE")]
        against: Vec<PathBuf>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Take the catalog as it is, journaled with a reason: seal the records the journal
    /// has not sealed (written before records were sealed), and have the head file
    /// witness the newest entry again. Records changed or removed outside Reprise stay
    /// reported unless --accept-changes.
    Seal {
        /// Why the catalog is taken as it is, kept in the journal.
        #[arg(long)]
        reason: String,
        /// Also seal records changed or removed outside Reprise, as they now are.
        #[arg(long)]
        accept_changes: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Write the journal for an auditor into DIR: journal.jsonl, journal.csv and
    /// verification.json.
    Export {
        /// The directory to write the export into.
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Submit a request written in a TOML or JSON file (`-` for standard input); see
    /// `reprise request template`. Incomplete requests are refused with every missing
    /// field named, in the request's language, and nothing is recorded.
    Submit {
        /// The request, in TOML or JSON (`reprise request template` gives one to fill in).
        file: PathBuf,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// A request file to fill in, with every field explained.
    Template {
        /// The language of the text: en or fr.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
    },
    /// Requests, newest first: open ones, or all.
    List {
        /// Finished ones too, not only those still open.
        #[arg(long)]
        all: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// One request: state, feasibility, alternatives, execution, checks and timeline.
    Show {
        /// The request's number.
        id: i64,
        /// The language of the text: en or fr (default: the request's own).
        #[arg(long, value_enum)]
        lang: Option<Lang>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Judge feasibility again (after a verification), or take another target such as an
    /// offered alternative. Only before approval.
    Assess {
        /// The request's number.
        id: i64,
        /// The state at this time (`2026-11-20 18:00`, or RFC 3339).
        #[arg(long, conflicts_with_all = ["snapshot", "from"])]
        at: Option<String>,
        /// A restore point (snapshot id or prefix).
        #[arg(long, conflicts_with = "from")]
        snapshot: Option<String>,
        /// The newest point in this interval (with --to).
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The end of the interval (with --from).
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Approve a feasible request: it is scheduled into its window, or runs at once.
    Approve {
        /// The request's number.
        id: i64,
        /// A note kept with the approval.
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject a request before execution, saying why.
    Reject {
        /// The request's number.
        id: i64,
        /// Why, told to the requester.
        #[arg(long)]
        reason: String,
    },
    /// Cancel a request before it runs, saying why.
    Cancel {
        /// The request's number.
        id: i64,
        /// Why, kept in its timeline.
        #[arg(long)]
        reason: String,
    },
    /// Run an approved request now (inside its window); the server does this by itself.
    Run {
        /// The request's number.
        id: i64,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Record a check of the asset's checklist after the restore: pass or fail.
    Check {
        /// The request's number.
        id: i64,
        /// The asset, by its id.
        asset: String,
        /// The check's key, as `request show` lists them.
        key: String,
        /// `pass` or `fail`.
        result: String,
        /// A note kept with it.
        #[arg(long)]
        note: Option<String>,
    },
    /// The request's report: scope restored, timestamps, checks (text, HTML, PDF).
    Report {
        /// The request's number.
        id: i64,
        /// The language of the text: en or fr (default: the request's own).
        #[arg(long, value_enum)]
        lang: Option<Lang>,
        /// Write it to this file instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write it as an HTML page to this file.
        #[arg(long)]
        html: Option<PathBuf>,
        /// Write it as a PDF to this file.
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReadinessCommand {
    /// Record that the business owner approved an asset's current RPO and RTO.
    Approve {
        /// The asset, by its id.
        asset: String,
        /// Who approves (the business owner).
        #[arg(long)]
        by: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Write the runbook (never a secret, only where the keys are kept).
    Export {
        /// The file to write (default: runbook.html in the current directory).
        #[arg(long, default_value = "runbook.html")]
        out: PathBuf,
        /// The language of the text: en or fr.
        #[arg(long, value_enum, default_value_t = Lang::En)]
        lang: Lang,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write KIND.csv files (UTF-8, header row) into DIR. A kind with no row writes no
    /// file and says why.
    Csv {
        /// runs, points, incidents, drills, requests, alerts, inventory (default: all).
        kinds: Vec<String>,
        /// The directory the CSV files are written into.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Only rows of this site.
        #[arg(long)]
        site: Option<String>,
        /// Only rows from this day on (`2026-07-01`).
        #[arg(long)]
        since: Option<jiff::civil::Date>,
        /// Only rows up to this day, included.
        #[arg(long)]
        until: Option<jiff::civil::Date>,
        /// Only rows of this type: the run kind for runs, the data category for points,
        /// the severity for incidents and alerts, the outcome for drills, the state for
        /// requests, the asset category for the inventory.
        #[arg(long = "type", value_name = "TYPE")]
        kind_type: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Run a configured export (`[[export]]`) now, as the server does on its schedule.
    Run {
        /// The configured export, by its id (`[[export]] id`).
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The configured exports, with their last run.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EraseCommand {
    /// Find the paths in every restore point and copy, and record the plan: which
    /// restore points, which repositories, how many files and bytes. Nothing is erased.
    Plan {
        /// The asset, by its id.
        asset: String,
        /// Files or folders, as the data set names them (relative to the workspace, or
        /// absolute).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Why (a person's erasure request, consent withdrawn): kept in the proof.
        #[arg(long)]
        reason: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Execute a planned erasure: rewrite the restore points without the paths, remove
    /// the originals, free what nothing else references, record the proof.
    Run {
        /// The erasure's number.
        id: i64,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Drop a planned erasure.
    Cancel {
        /// The erasure's number.
        id: i64,
    },
    /// Erasures, oldest first.
    List {
        /// Only this asset's.
        #[arg(long)]
        asset: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// One erasure and its proof: what, from where, when, by whom (never the data).
    Show {
        /// The erasure's number.
        id: i64,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Show which restore points would go, and why.
    Plan {
        /// The assets, by id (every one when none is named).
        assets: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove the restore points the plan removes, then free their space.
    Apply {
        /// The assets, by id (every one when none is named).
        assets: Vec<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Remove only what data protection imposes: points past their policy's maximum age
    /// or their data category's maximum retention, from every repository (what `reprise
    /// serve` does hourly).
    Purge {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an account; it is shown once and stored only as a hash.
    Create {
        /// A label, unique among the account's live tokens (`ci`, `grafana`).
        name: String,
        /// The account it acts for.
        #[arg(long, default_value = "admin")]
        user: String,
        /// At most the account's role (default: the account's).
        #[arg(long)]
        role: Option<String>,
        /// At most the account's scope: `site:ID,tenant:NAME` (default: the account's).
        #[arg(long)]
        scope: Option<String>,
        /// Lifetime (`90d`, `12h`); default: until revoked.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Tokens: account, role, scope, expiry, revocation (never the tokens themselves).
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revoke an account's token by its label.
    Revoke {
        /// The token's name.
        name: String,
        /// The account the token belongs to.
        #[arg(long, default_value = "admin")]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store (or replace) a secret; the value is read from standard input (one line).
    Set {
        /// The secret's name, as the configuration refers to it (`password_secret = "NAME"`).
        name: String,
    },
    /// Secrets: name, when created, when last changed (never their values).
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Write a secret's value to standard output for a program (restic's
    /// RESTIC_PASSWORD_COMMAND); refused on a terminal.
    Show {
        /// The secret's name.
        name: String,
    },
    /// Remove a secret.
    Delete {
        /// The secret's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password, if any, is read from standard input (one line),
    /// never from the command line.
    Add {
        /// The account's name (its sign-in).
        name: String,
        /// admin, operator, auditor or viewer.
        #[arg(long)]
        role: String,
        /// Limit it to sites and tenants: `site:ID,tenant:NAME` (default: everything).
        #[arg(long, default_value = "")]
        scope: String,
        /// Read a password from standard input (otherwise the account uses tokens only).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Accounts: role, scope, state.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Change an account's role, scope, language or state.
    Set {
        /// The account's name.
        name: String,
        /// Its new role: admin, operator, auditor or viewer.
        #[arg(long)]
        role: Option<String>,
        /// What the account may see: empty for every site, `site:ID` or `tenant:NAME`.
        #[arg(long)]
        scope: Option<String>,
        /// en or fr.
        #[arg(long)]
        lang: Option<String>,
        /// Disable the account: its tokens stop working.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        /// Enable a disabled account again.
        #[arg(long)]
        enable: bool,
        /// Lift a lock left by failed sign-ins.
        #[arg(long)]
        unlock: bool,
    },
    /// Set an account's password, read from standard input (one line).
    Passwd {
        /// The account's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// Create the repositories that do not exist yet (or only REPO).
    Init {
        /// The repository, by its id.
        repo: Option<String>,
    },
    /// Print RESTIC_REPOSITORY and where the password is, for stock restic.
    Env {
        /// The repository, by its id.
        repo: Option<String>,
    },
    /// List repositories with their medium and location.
    List {
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Rotate a repository's key: add a key with a new random password, check it opens
    /// the repository, write it to the key file, remove the old key.
    RotateKey {
        /// The repository, by its id.
        repo: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Immutable repositories' locks: extend those with less than half their period
    /// left, and name any object a kept restore point needs that the bucket no longer
    /// shows (exit 1).
    Locks {
        /// Only this repository, by its id.
        repo: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Bring back what someone deleted or wrote over in an immutable repository: each
    /// object's original version becomes current again, the index is rebuilt.
    Recover {
        /// The repository, by its id.
        repo: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Writers: credentials for another host's restic to append backups to a local
    /// repository through `reprise serve`, and nothing else.
    #[command(subcommand)]
    Writer(WriterCommand),
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Make a one-time code with which HOST enrolls its agent (shown once; 24 hours).
    Invite {
        /// The host's name, as the assets' `host = "…"` name it (`mail-01`).
        host: String,
        /// How long the code stays valid (`24h`, `30m`).
        #[arg(long, value_name = "INTERVAL", default_value = "24h")]
        valid_for: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// On the host: enroll with the server, using the code from `reprise agent invite`
    /// (read from standard input, or REPRISE_ENROLL_CODE; never an argument).
    Enroll {
        /// The server's address (`https://backup.example.net:8443`).
        server: String,
        /// This host's name, as invited.
        #[arg(long)]
        host: String,
        /// Trust the server's certificate through this certificate authority (PEM).
        #[arg(long, value_name = "FILE", conflicts_with = "fingerprint")]
        ca: Option<PathBuf>,
        /// Trust the server's own self-signed certificate with this SHA-256 fingerprint
        /// (`SHA256:…`, as `reprise agent invite` prints it).
        #[arg(long, value_name = "SHA256")]
        fingerprint: Option<String>,
        /// Where the agent keeps its credential and work files (default:
        /// /var/lib/reprise-agent as root, ~/.local/share/reprise-agent otherwise).
        #[arg(long, env = "REPRISE_AGENT_HOME", value_name = "DIR")]
        home: Option<PathBuf>,
    },
    /// On the host: check in with the server, run the jobs it hands over (backups,
    /// restores), report, and again every 30 seconds; the service's command.
    Run {
        /// Check in and run what is waiting once, then stop (for a timer or a test).
        #[arg(long)]
        once: bool,
        /// The agent's directory (see `enroll`).
        #[arg(long, env = "REPRISE_AGENT_HOME", value_name = "DIR")]
        home: Option<PathBuf>,
    },
    /// Hosts and their agents: version, last check-in, assets, last backup, silence.
    List {
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Jobs handed to agents (waiting, running, finished), newest first.
    Jobs {
        /// Only this host's.
        host: Option<String>,
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue a backup of an asset for its host's agent now, and wait for it.
    Backup {
        /// The asset, by its id (it names a `host`).
        asset: String,
        /// Only this data set (repeat it).
        #[arg(long = "dataset")]
        datasets: Vec<String>,
        /// Queue it and return at once.
        #[arg(long)]
        no_wait: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a host's agent (and any unused code): its next request is refused and
    /// journaled, the jobs waiting for it fail.
    Revoke {
        /// The host's name.
        host: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum WriterCommand {
    /// Make a writer: its token (shown once) lets restic add snapshots to REPO over
    /// `rest:https://NAME:TOKEN@server/rest/REPO/`; never delete or rewrite.
    Add {
        /// The local repository, by its id.
        repo: String,
        /// The writer's name: the host it runs on (`mail-01`).
        name: String,
        /// An asset it backs up (repeat it): its snapshots tagged `asset:ID` become
        /// that asset's restore points.
        #[arg(long = "asset", required = true)]
        assets: Vec<String>,
        /// Lifetime (`90d`, `12h`); default: until revoked.
        #[arg(long)]
        expires: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Writers, revoked ones too (never their tokens).
    List {
        /// Only this repository's.
        repo: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a writer: its next request is refused, and journaled.
    Revoke {
        /// The repository, by its id.
        repo: String,
        /// The writer's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Read devices now and compare each with its newest restore point: a change (or a
    /// first read) is backed up at once and alerted with its diff, secrets masked.
    Check {
        /// The assets to read (default: every device).
        assets: Vec<String>,
        /// Only this data set of the asset.
        #[arg(long)]
        dataset: Option<String>,
        /// Print the outcomes as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The last change seen on a device, secrets masked.
    Diff {
        /// The device's asset, by its id.
        asset: String,
        /// The device data set (when the asset has several).
        #[arg(long)]
        dataset: Option<String>,
    },
    /// Show the SSH host keys a device offers; with --fingerprint, trust the one you
    /// checked on the device itself (host keys are checked strictly).
    Trust {
        /// The device's asset, by its id.
        asset: String,
        /// The device data set (when the asset has several).
        #[arg(long)]
        dataset: Option<String>,
        /// The key's SHA-256 fingerprint, as `ssh-keygen -lf` prints it on the device.
        #[arg(long, value_name = "SHA256:…")]
        fingerprint: Option<String>,
    },
    /// Restore a device's configuration to a file, show how to load it back, and with
    /// --apply push it to the device (models that know how), recording the result.
    Push {
        /// The device's asset, by its id.
        asset: String,
        /// The device data set (when the asset has several).
        #[arg(long)]
        dataset: Option<String>,
        /// The restore point (default: the newest verified one, else the newest).
        #[arg(long)]
        snapshot: Option<String>,
        /// Where the configuration file is written.
        #[arg(long)]
        target: PathBuf,
        /// Push it to the device now; without it nothing is sent.
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// List assets.
    List {
        /// Only the assets of this site.
        #[arg(long)]
        site: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Everything about one asset: fields, data sets, dependencies, dependents, history.
    Show {
        /// The asset, by its id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Draw the dependency graph.
    Graph {
        /// The drawing's format: dot (Graphviz), mermaid or json.
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
        /// Only the assets of this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Every asset that depends on ID, directly or transitively.
    Impact {
        /// The asset, by its id.
        id: String,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Record the state an asset is in, as observed (the "état des lieux" of the day): it
    /// becomes its current state everywhere (lists, plans, status, pages) until the
    /// configuration's state is changed. Journaled.
    SetState {
        /// The asset, by its id.
        id: String,
        /// working, partial, failed, unknown (or in French: fonctionnel, défaillant…).
        state: String,
        /// When it was observed in that state (default: now): `2024-09-22 08:10`.
        #[arg(long)]
        since: Option<String>,
        /// What was seen, or why.
        #[arg(long)]
        note: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Each asset's recorded states over time (the evolution table).
    History {
        /// Only this asset.
        id: Option<String>,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Import an inventory table (CSV, English or French headers) into reprise.toml.
    Import {
        /// The table to import (CSV, as exported from a spreadsheet).
        file: PathBuf,
        /// Site of rows that name none.
        #[arg(long)]
        site: Option<String>,
        /// Show what would change without writing.
        #[arg(long)]
        dry_run: bool,
        /// Print the result as JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    En,
    Fr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every command, option and argument, with the path of commands leading to it.
    fn walk(command: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
        out.push((path.to_string(), command.clone()));
        for sub in command.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_option_and_argument_says_what_it_is_for() {
        let mut all = Vec::new();
        walk(&super::Cli::command(), "reprise", &mut all);
        let mut missing = Vec::new();
        for (path, command) in &all {
            if command.get_about().is_none() && path != "reprise" {
                missing.push(format!("{path}: the command"));
            }
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path}: {id}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "{} without a description:\n{}",
            missing.len(),
            missing.join("\n")
        );
    }

    #[test]
    fn help_speaks_to_users_not_in_requirement_numbers() {
        let mut all = Vec::new();
        walk(&super::Cli::command(), "reprise", &mut all);
        let mut internal = Vec::new();
        let re = |t: &str| {
            t.contains("R00") || t.to_lowercase().contains("seed 0") || t.contains("seed's")
        };
        for (path, command) in &all {
            let about = command
                .get_about()
                .map(|a| a.to_string())
                .unwrap_or_default()
                + &command
                    .get_long_about()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
            if re(&about) {
                internal.push(format!("{path}: {about}"));
            }
            for arg in command.get_arguments() {
                let help = arg.get_help().map(|a| a.to_string()).unwrap_or_default()
                    + &arg
                        .get_long_help()
                        .map(|a| a.to_string())
                        .unwrap_or_default();
                if re(&help) {
                    internal.push(format!("{path} {}: {help}", arg.get_id()));
                }
            }
        }
        assert!(internal.is_empty(), "{}", internal.join("\n"));
    }
}
