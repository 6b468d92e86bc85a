//! `reprise agent` on a host: the credential it keeps, and what it does at each
//! check-in — back up its data sets into its repository through the server's REST
//! endpoint (encrypted here, with the repository's key), restore into a target on this
//! host, and report. It only ever connects out to the server.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use reprise_domain::Interval;
use reprise_engine::{
    BackupRequest, BackupSource, NoProgress, Progress, Repo, RepoSpec, RestoreRequest, Secret,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::fleet::{
    Assigned, AssignedRepo, Assignment, BackupSpec, DataSetReport, JobOrder, Report, RestoreReport,
    RestoreSpec,
};
use reprise_ops::error::{AppError, AppResult};
use reprise_ops::repos::blocking;

/// The agent's file in its home: the server, its name, its credential.
const FILE: &str = "agent.json";
/// The server's certificate (or its authority) the agent trusts, in its home.
const TRUST: &str = "server.pem";

/// What an enrolled agent keeps (owner-only).
#[derive(Clone, Serialize, Deserialize)]
pub struct Enrolment {
    pub server: String,
    pub host: String,
    pub token: String,
    /// The certificate (or authority) trusted for the server, beside the system's.
    #[serde(default)]
    pub trust: Option<PathBuf>,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("server", &self.server)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// The agent's directory when none is given: /var/lib/reprise-agent as root,
/// ~/.local/share/reprise-agent otherwise.
pub fn default_home() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/lib/reprise-agent");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/reprise-agent")
}

fn write_private(path: &Path, bytes: &[u8]) -> AppResult<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let failed =
        |e: std::io::Error| AppError::Failed(format!("cannot write {}: {e}", path.display()));
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    std::fs::rename(&tmp, path).map_err(failed)
}

/// Reads the agent's enrolment from `home`.
pub fn load(home: &Path) -> AppResult<Enrolment> {
    let path = home.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        AppError::Invalid(format!(
            "{}: {e}: this host is not enrolled (run `reprise agent enroll SERVER --host NAME` with a code from `reprise agent invite`)",
            path.display()
        ))
    })?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::Invalid(format!("{}: not an agent's file: {e}", path.display())))
}

/// Refuses a server address a credential must not travel to in clear.
fn checked_server(server: &str) -> AppResult<reqwest::Url> {
    let url = reqwest::Url::parse(server).map_err(|e| {
        AppError::Invalid(format!(
            "`{server}` is not the server's address (`https://backup.example.net:8443`): {e}"
        ))
    })?;
    let loopback = url.host_str().is_some_and(|h| {
        h == "localhost"
            || h.trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(AppError::Invalid(format!(
            "`{server}`: an agent sends its credential and its backups to the server: use https:// (plain http only on this machine's loopback)"
        ))),
    }
}

/// The SHA-256 fingerprint of a DER certificate, as `SHA256:` and hex pairs.
pub fn fingerprint(der: &[u8]) -> String {
    let hex: Vec<String> = Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("SHA256:{}", hex.join(":"))
}

fn same_fingerprint(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.trim()
            .trim_start_matches("SHA256:")
            .trim_start_matches("sha256:")
            .replace(':', "")
            .to_ascii_uppercase()
    };
    norm(a) == norm(b)
}

/// The first certificate of a PEM file, as DER.
pub fn first_certificate(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let body: String = pem[start..end].split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(body).ok()
}

fn pem_of(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn client(trust: Option<&Path>) -> AppResult<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .connect_timeout(Duration::from_secs(15))
        .user_agent(concat!("reprise-agent/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = trust {
        let pem = std::fs::read(path)
            .map_err(|e| AppError::Invalid(format!("cannot read {}: {e}", path.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
            AppError::Invalid(format!("{}: not a PEM certificate: {e}", path.display()))
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| AppError::Failed(format!("cannot make an HTTPS client: {e}")))
}

/// The certificate the server presents, fetched without trusting it (to compare with a
/// fingerprint given out of band).
async fn presented_certificate(server: &reqwest::Url) -> AppResult<Vec<u8>> {
    let probe = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .tls_info(true)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| AppError::Failed(format!("cannot make an HTTPS client: {e}")))?;
    let response = probe
        .get(
            server
                .join("healthz")
                .map_err(|e| AppError::Invalid(e.to_string()))?,
        )
        .send()
        .await
        .map_err(|e| AppError::Failed(format!("cannot reach {server}: {e}")))?;
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            AppError::Invalid(format!("{server} presented no certificate (is it https?)"))
        })
}

/// Hides a credential wherever a message might carry it.
fn hide(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_string()
    } else {
        text.replace(token, "***")
    }
}

/// How an answer of the server that is not a success reads.
async fn refusal(what: &str, response: reqwest::Response) -> AppError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or(body);
    let text = format!("{what}: the server answered {status}: {}", message.trim());
    match status.as_u16() {
        401 | 403 => AppError::Refused(text),
        400 | 404 | 409 => AppError::Invalid(text),
        _ => AppError::Failed(text),
    }
}

/// Enrolls this host with `server` as `host`, with a one-time `code`; trusts the server
/// through `ca`, or its own certificate checked against `pin` (else the system's
/// authorities). Keeps the credential in `home` (owner-only).
pub async fn enroll(
    server: &str,
    host: &str,
    code: &str,
    ca: Option<&Path>,
    pin: Option<&str>,
    home: &Path,
) -> AppResult<Enrolment> {
    let url = checked_server(server)?;
    if !reprise_domain::is_host_name(host) {
        return Err(AppError::Invalid(format!(
            "`{host}` is not a host name: 1 to 64 letters, digits, `-`, `_`, `.`"
        )));
    }
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(home)
            .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", home.display())))?;
    }
    let trust = home.join(TRUST);
    let trusted = match (ca, pin) {
        (Some(ca), _) => {
            let pem = std::fs::read_to_string(ca)
                .map_err(|e| AppError::Invalid(format!("--ca {}: {e}", ca.display())))?;
            if first_certificate(&pem).is_none() {
                return Err(AppError::Invalid(format!(
                    "--ca {}: no PEM certificate in it",
                    ca.display()
                )));
            }
            write_private(&trust, pem.as_bytes())?;
            Some(trust)
        }
        (None, Some(pin)) => {
            let der = presented_certificate(&url).await?;
            let seen = fingerprint(&der);
            if !same_fingerprint(&seen, pin) {
                return Err(AppError::Refused(format!(
                    "the server at {url} presents the certificate {seen}, not {pin}: refusing to enroll (someone may be in the way, or the fingerprint was mistyped)"
                )));
            }
            write_private(&trust, pem_of(&der).as_bytes())?;
            Some(trust)
        }
        (None, None) => None,
    };
    let http = client(trusted.as_deref())?;
    let response = http
        .post(
            url.join("agent/v1/enrollment")
                .map_err(|e| AppError::Invalid(e.to_string()))?,
        )
        .json(&serde_json::json!({
            "host": host,
            "code": code.trim(),
            "version": env!("CARGO_PKG_VERSION"),
        }))
        .send()
        .await
        .map_err(|e| connection_error(&url, &e, pin.is_some()))?;
    if !response.status().is_success() {
        return Err(refusal("enrollment", response).await);
    }
    let answer: serde_json::Value = response
        .json()
        .await
        .map_err(|e| AppError::Failed(format!("enrollment: unreadable answer: {e}")))?;
    let token = answer["token"]
        .as_str()
        .ok_or_else(|| AppError::Failed("enrollment: the answer holds no credential".into()))?;
    let enrolment = Enrolment {
        server: url.to_string(),
        host: host.to_string(),
        token: token.to_string(),
        trust: trusted,
    };
    let text = serde_json::to_vec_pretty(&enrolment)
        .map_err(|e| AppError::Failed(format!("cannot write the agent's file: {e}")))?;
    write_private(&home.join(FILE), &text)?;
    Ok(enrolment)
}

fn connection_error(url: &reqwest::Url, e: &reqwest::Error, pinned: bool) -> AppError {
    let mut text = format!("cannot reach the server at {url}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    if pinned && text.contains("certificate") {
        text.push_str(
            " (a fingerprint pins the server's own self-signed certificate, which must name the server's address; for a certificate signed by an authority, give the authority with --ca)",
        );
    }
    AppError::Failed(text)
}

/// One pass of the agent: check in, run every job handed over, report each.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pass {
    pub jobs: Vec<JobDone>,
    pub check_in_every: u64,
}

/// A job the agent ran, as it reported it.
#[derive(Debug, Clone, Serialize)]
pub struct JobDone {
    pub id: i64,
    pub kind: String,
    pub asset: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub seconds: f64,
}

/// The agent at work on a host.
pub struct Agent {
    enrolment: Enrolment,
    home: PathBuf,
    http: reqwest::Client,
    server: reqwest::Url,
}

impl Agent {
    pub fn open(home: &Path) -> AppResult<Self> {
        let enrolment = load(home)?;
        let server = checked_server(&enrolment.server)?;
        let http = client(enrolment.trust.as_deref())?;
        Ok(Self {
            enrolment,
            home: home.to_path_buf(),
            http,
            server,
        })
    }

    pub fn host(&self) -> &str {
        &self.enrolment.host
    }

    pub fn server(&self) -> &str {
        &self.enrolment.server
    }

    fn url(&self, path: &str) -> AppResult<reqwest::Url> {
        self.server
            .join(path)
            .map_err(|e| AppError::Invalid(e.to_string()))
    }

    fn hide(&self, text: &str) -> String {
        hide(text, &self.enrolment.token)
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        body: &impl Serialize,
    ) -> AppResult<T> {
        let response = self
            .http
            .post(self.url(path)?)
            .bearer_auth(&self.enrolment.token)
            .json(body)
            .send()
            .await
            .map_err(|e| {
                let err = connection_error(&self.server, &e, false);
                AppError::Failed(self.hide(&err.to_string()))
            })?;
        if !response.status().is_success() {
            return Err(refusal(what, response).await);
        }
        response
            .json()
            .await
            .map_err(|e| AppError::Failed(format!("{what}: unreadable answer: {e}")))
    }

    /// Checks in, runs the jobs waiting, reports each.
    pub async fn pass(&self, progress: Arc<dyn Progress>) -> AppResult<Pass> {
        let assignment: Assignment = self
            .post(
                "check-in",
                "agent/v1/check-in",
                &serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }),
            )
            .await?;
        let mut pass = Pass {
            jobs: vec![],
            check_in_every: assignment.check_in_every,
        };
        for order in &assignment.jobs {
            // Taken once: another pass (or a second agent started by mistake) skips it.
            let taken: AppResult<serde_json::Value> = self
                .post(
                    "taking a job",
                    &format!("agent/v1/jobs/{}/take", order.id),
                    &(),
                )
                .await;
            if taken.is_err() {
                continue;
            }
            let clock = Instant::now();
            let report = self.run_job(&assignment, order, progress.clone()).await;
            let (ok, error) = match &report {
                Report::Backup { datasets } => {
                    let errors: Vec<String> = datasets
                        .iter()
                        .filter_map(|d| d.error.as_ref().map(|e| format!("{}: {e}", d.dataset)))
                        .collect();
                    (
                        errors.is_empty(),
                        (!errors.is_empty()).then(|| errors.join("; ")),
                    )
                }
                Report::Restore(r) => (r.error.is_none(), r.error.clone()),
            };
            let answer: AppResult<serde_json::Value> = self
                .post(
                    "reporting a job",
                    &format!("agent/v1/jobs/{}/report", order.id),
                    &report,
                )
                .await;
            let (ok, error) = match answer {
                Ok(answer) => {
                    let state = answer["job"]["state"].as_str().unwrap_or("");
                    let server_error = answer["datasets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d["error"].as_str())
                        .collect::<Vec<_>>()
                        .join("; ");
                    (
                        ok && state == "succeeded",
                        error.or((!server_error.is_empty()).then_some(server_error)),
                    )
                }
                Err(e) => (false, Some(format!("the report was not taken: {e}"))),
            };
            pass.jobs.push(JobDone {
                id: order.id,
                kind: order.kind.clone(),
                asset: order.asset.clone(),
                ok,
                error,
                seconds: clock.elapsed().as_secs_f64(),
            });
        }
        Ok(pass)
    }

    async fn run_job(
        &self,
        assignment: &Assignment,
        order: &JobOrder,
        progress: Arc<dyn Progress>,
    ) -> Report {
        match order.kind.as_str() {
            "restore" => {
                let started = Timestamp::now();
                let clock = Instant::now();
                let result = match serde_json::from_value::<RestoreSpec>(order.spec.clone()) {
                    Ok(spec) => self.restore(assignment, &spec, progress).await,
                    Err(e) => Err(AppError::Invalid(format!("job {}: {e}", order.id))),
                };
                let seconds = clock.elapsed().as_secs_f64();
                Report::Restore(match result {
                    Ok((summary, target, check)) => RestoreReport {
                        started,
                        seconds,
                        files: summary.files,
                        bytes: summary.bytes,
                        target: Some(target.display().to_string()),
                        withheld: summary.withheld,
                        check,
                        error: None,
                    },
                    Err(e) => RestoreReport {
                        started,
                        seconds,
                        files: 0,
                        bytes: 0,
                        target: None,
                        withheld: vec![],
                        check: None,
                        error: Some(self.hide(&e.to_string())),
                    },
                })
            }
            _ => {
                let spec: BackupSpec =
                    serde_json::from_value(order.spec.clone()).unwrap_or(BackupSpec {
                        datasets: vec![],
                        reason: None,
                    });
                let mut datasets = Vec::new();
                for set in assignment.datasets.iter().filter(|d| {
                    d.asset == order.asset
                        && (spec.datasets.is_empty() || spec.datasets.contains(&d.dataset))
                }) {
                    let started = Timestamp::now();
                    let clock = Instant::now();
                    let result = self.back_up(assignment, set, progress.clone()).await;
                    let seconds = clock.elapsed().as_secs_f64();
                    datasets.push(match result {
                        Ok(snap) => DataSetReport {
                            dataset: set.dataset.clone(),
                            started,
                            seconds,
                            snapshot: Some(snap),
                            error: None,
                        },
                        Err(e) => DataSetReport {
                            dataset: set.dataset.clone(),
                            started,
                            seconds,
                            snapshot: None,
                            error: Some(self.hide(&e.to_string())),
                        },
                    });
                }
                Report::Backup { datasets }
            }
        }
    }

    fn repository(
        &self,
        assignment: &Assignment,
        id: &str,
        progress: Arc<dyn Progress>,
    ) -> AppResult<Repo> {
        let access: &AssignedRepo = assignment
            .repositories
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                AppError::Failed(format!("the server gave no access to repository `{id}`"))
            })?;
        let mut url = self.url(access.path.trim_start_matches('/'))?;
        let _ = url.set_username(&self.enrolment.host);
        let _ = url.set_password(Some(&self.enrolment.token));
        let mut spec = RepoSpec::new(format!("rest:{url}"), Secret::new(access.password.clone()));
        spec.rest_cacert = self.enrolment.trust.clone();
        Repo::open(&spec, progress).map_err(|e| AppError::Failed(self.hide(&e.to_string())))
    }

    async fn back_up(
        &self,
        assignment: &Assignment,
        set: &Assigned,
        progress: Arc<dyn Progress>,
    ) -> AppResult<reprise_engine::SnapshotInfo> {
        let workdir = std::env::current_dir().unwrap_or_else(|_| self.home.clone());
        if let Some(hook) = &set.pre_hook {
            run_hook(&workdir, hook, set, None).await?;
        }
        let staging = self
            .home
            .join("staging")
            .join(&set.asset)
            .join(&set.dataset);
        let source = match (&set.command, &set.filename) {
            (Some(command), Some(filename)) => {
                let staged = staging.join(filename);
                let timeout = Interval::from_secs(set.timeout_secs.unwrap_or(3600));
                reprise_ops::backup::capture(&workdir, command, &staged, timeout, None)
                    .await
                    .map_err(|e| AppError::Failed(format!("data set `{}`: {e}", set.dataset)))?;
                BackupSource::File {
                    staged,
                    as_path: format!("/{filename}"),
                }
            }
            _ => BackupSource::Paths {
                paths: set.paths.iter().map(|p| workdir.join(p)).collect(),
                exclude: set.exclude.clone(),
            },
        };
        let repo = {
            let assignment = assignment.clone();
            let id = set.repository.clone();
            let me = self.clone_light();
            let progress = progress.clone();
            blocking(move || me.repository(&assignment, &id, progress)).await?
        };
        let request = BackupRequest {
            source,
            hostname: set.asset.clone(),
            tags: vec![
                format!("asset:{}", set.asset),
                format!("dataset:{}", set.dataset),
                format!("policy:{}", set.policy),
                format!("agent:{}", self.enrolment.host),
            ],
            label: format!("{}/{}", set.asset, set.dataset),
            time: None,
            changes: Some(assignment.ransom_names.clone()),
        };
        let result = blocking(move || repo.backup(&request)).await;
        let _ = std::fs::remove_dir_all(&staging);
        if let Some(hook) = &set.post_hook {
            let status = if result.is_ok() {
                "succeeded"
            } else {
                "failed"
            };
            run_hook(&workdir, hook, set, Some(status)).await?;
        }
        result.map_err(|e| AppError::Failed(self.hide(&format!("data set `{}`: {e}", set.dataset))))
    }

    /// Restores into the target on this host (a relative one is under the agent's
    /// `restores` directory), then runs the check asked, in the restored copy.
    async fn restore(
        &self,
        assignment: &Assignment,
        spec: &RestoreSpec,
        progress: Arc<dyn Progress>,
    ) -> AppResult<(
        reprise_engine::RestoreSummary,
        PathBuf,
        Option<crate::fleet::CheckReport>,
    )> {
        let me = self.clone_light();
        let assignment = assignment.clone();
        let job = spec.clone();
        let target = if Path::new(&spec.target).is_absolute() {
            PathBuf::from(&spec.target)
        } else {
            self.home.join("restores").join(&spec.target)
        };
        let into = target.clone();
        let restored = blocking(move || {
            let repo = me.repository(&assignment, &job.repository, progress)?;
            std::fs::create_dir_all(&into)
                .map_err(|e| AppError::Failed(format!("cannot create {}: {e}", into.display())))?;
            let plan = repo.plan_restore(&RestoreRequest {
                snapshot: job.snapshot.clone(),
                path: job.path.clone(),
                target: into,
                overwrite: job.overwrite,
                verify: true,
                erased: job.erased.clone(),
            })?;
            Ok::<_, AppError>(repo.restore(plan)?)
        })
        .await;
        let summary = match restored {
            Ok(summary) => summary,
            Err(e) => {
                if spec.scratch {
                    let _ = std::fs::remove_dir_all(&target);
                }
                return Err(e);
            }
        };
        let check = match &spec.check {
            Some(command) => Some(
                run_check(
                    &target,
                    command,
                    Duration::from_secs(spec.check_timeout_secs.unwrap_or(600)),
                )
                .await,
            ),
            None => None,
        };
        if spec.scratch {
            let _ = std::fs::remove_dir_all(&target);
        }
        Ok((summary, target, check))
    }

    /// What a blocking task needs of the agent.
    fn clone_light(&self) -> Agent {
        Agent {
            enrolment: self.enrolment.clone(),
            home: self.home.clone(),
            http: self.http.clone(),
            server: self.server.clone(),
        }
    }
}

async fn run_hook(
    workdir: &Path,
    hook: &str,
    set: &Assigned,
    status: Option<&str>,
) -> AppResult<()> {
    let mut cmd = reprise_ops::commands::shell(hook, None)?;
    cmd.current_dir(workdir)
        .env("REPRISE_ASSET", &set.asset)
        .env("REPRISE_DATASET", &set.dataset)
        .stdin(std::process::Stdio::null());
    if let Some(status) = status {
        cmd.env("REPRISE_STATUS", status);
    }
    let out = cmd
        .output()
        .await
        .map_err(|e| AppError::Failed(format!("cannot run hook `{hook}`: {e}")))?;
    if !out.status.success() {
        let which = if status.is_some() { "post" } else { "pre" };
        return Err(AppError::Failed(format!(
            "data set `{}`: {which}-hook `{hook}` failed ({}): {}",
            set.dataset,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// A progress that shows nothing (a service has no terminal).
pub fn quiet() -> Arc<dyn Progress> {
    Arc::new(NoProgress)
}

/// Runs a check command in a restored copy, within `limit`.
async fn run_check(dir: &Path, command: &str, limit: Duration) -> crate::fleet::CheckReport {
    let clock = Instant::now();
    let report = |ok: bool, output: String| crate::fleet::CheckReport {
        ok,
        output,
        seconds: clock.elapsed().as_secs_f64(),
    };
    let mut cmd = match reprise_ops::commands::shell(command, None) {
        Ok(cmd) => cmd,
        Err(e) => return report(false, e.to_string()),
    };
    cmd.current_dir(dir)
        .env("REPRISE_DRILL_DIR", dir)
        .env("REPRISE_RESTORE_DIR", dir)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    match tokio::time::timeout(limit, cmd.output()).await {
        Err(_) => report(
            false,
            format!("`{command}` did not finish within {}s", limit.as_secs()),
        ),
        Ok(Err(e)) => report(false, format!("cannot run `{command}`: {e}")),
        Ok(Ok(out)) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let tail: Vec<&str> = text.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            report(out.status.success(), tail.join("\n"))
        }
    }
}
