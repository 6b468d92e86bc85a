//! Devices whose configuration is collected (routers, switches, cameras, recorders): read
//! over SSH (OpenSSH's client, with the workspace's known hosts, strict by default), HTTP
//! (basic or digest authentication) or SFTP; judged (an empty answer, an error line or a
//! login page is never a restore point); compared with the newest restore point, volatile
//! lines ignored; and backed up at once when they changed (R000.3). Credentials come from
//! the secret store and reach `ssh` through its askpass hook, never through arguments.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use jiff::Timestamp;
use reprise_catalog::DeviceRecord;
use reprise_domain::device::{self, Collect, DeviceModel, HostKeyCheck, Rules, Transport};
use reprise_domain::{Asset, DataSet, DataSource, Interval};
use sha2::{Digest, Sha256};

use crate::context::Ctx;
use crate::error::{AppError, AppResult};
use reprise_workspace::text::hex;

/// The known hosts of every device, in the workspace's state directory.
pub fn known_hosts(ctx: &Ctx<'_>) -> PathBuf {
    ctx.workspace().state_dir().join("known_hosts")
}

/// A device data set of the inventory, with its model.
#[derive(Debug, Clone)]
pub struct Device<'a> {
    pub asset: &'a Asset,
    pub set: &'a DataSet,
    pub collect: &'a Collect,
    pub model: DeviceModel,
    pub timeout: Interval,
}

/// The device data sets of the inventory.
pub fn all<'a>(ctx: &'a Ctx<'_>) -> Vec<Device<'a>> {
    let inv = ctx.inventory();
    inv.devices()
        .filter_map(|(asset, set, collect)| {
            let timeout = match &set.source {
                DataSource::Device { timeout, .. } => *timeout,
                _ => return None,
            };
            Some(Device {
                asset,
                set,
                collect,
                model: inv.device_model(&collect.model)?,
                timeout,
            })
        })
        .collect()
}

/// The device data set `dataset` of `asset` (its only one when `None`).
pub fn find<'a>(ctx: &'a Ctx<'_>, asset: &str, dataset: Option<&str>) -> AppResult<Device<'a>> {
    ctx.asset(asset)?;
    let mine: Vec<Device<'a>> = all(ctx)
        .into_iter()
        .filter(|d| d.asset.id.as_str() == asset)
        .collect();
    match dataset {
        Some(name) => mine
            .into_iter()
            .find(|d| d.set.name == name)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "asset `{asset}` has no data set `{name}` collected from a device"
                ))
            }),
        None => {
            let count = mine.len();
            let mut it = mine.into_iter();
            match (it.next(), count) {
                (Some(d), 1) => Ok(d),
                (None, _) => Err(AppError::Invalid(format!(
                    "asset `{asset}` has no data set collected from a device (`collect = {{ model = … }}`)"
                ))),
                _ => Err(AppError::Invalid(format!(
                    "asset `{asset}` has {count} device data sets: name one with --dataset"
                ))),
            }
        }
    }
}

/// What one read gave: the configuration as stored, and as compared.
pub struct Reading {
    pub raw: Vec<u8>,
    /// SHA-256 of what is compared (volatile lines removed; the raw bytes when binary).
    pub fingerprint: String,
    /// What is compared, secrets masked; `None` for a binary export.
    pub redacted: Option<String>,
}

impl Device<'_> {
    fn rules(&self) -> AppResult<Rules> {
        Rules::new(&self.model, &self.collect.ignore)
            .map_err(|e| AppError::Invalid(format!("device model `{}`: {e}", self.model.name)))
    }

    fn label(&self) -> String {
        format!("asset `{}`, data set `{}`", self.asset.id, self.set.name)
    }

    /// Reads the device and judges the answer. Never returns an empty or erroneous
    /// configuration.
    pub async fn read(&self, ctx: &Ctx<'_>) -> AppResult<Reading> {
        let limit = Duration::from_secs(self.timeout.as_secs().max(1));
        let raw = match tokio::time::timeout(limit, self.fetch(ctx)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "{} did not answer within {} and was given up",
                self.collect.address, self.timeout
            )),
        }
        .map_err(|e| AppError::Failed(format!("{}: {e}", self.label())))?;
        self.judge(raw)
    }

    /// Judges what the device answered: the configuration as stored and as compared.
    pub fn judge(&self, raw: Vec<u8>) -> AppResult<Reading> {
        let rules = self.rules()?;
        let reading = match std::str::from_utf8(&raw) {
            Ok(text) => {
                if let Some(problem) = rules.problem(text, false) {
                    return Err(AppError::Failed(format!("{}: {problem}", self.label())));
                }
                let compared = rules.normalize(text);
                Reading {
                    fingerprint: hex(&Sha256::digest(compared.as_bytes())),
                    redacted: Some(rules.redact(&compared)),
                    raw,
                }
            }
            Err(_) if raw.is_empty() => {
                return Err(AppError::Failed(format!(
                    "{}: the device returned an empty configuration",
                    self.label()
                )));
            }
            Err(_) => Reading {
                fingerprint: hex(&Sha256::digest(&raw)),
                redacted: None,
                raw,
            },
        };
        Ok(reading)
    }

    async fn fetch(&self, ctx: &Ctx<'_>) -> Result<Vec<u8>, String> {
        let password = match &self.collect.password_secret {
            Some(name) => Some(
                crate::secrets::get(ctx.workspace(), name)
                    .map_err(|e| format!("the password `{name}`: {e}"))?,
            ),
            None => None,
        };
        match self.model.transport {
            Transport::Ssh => {
                let commands: Vec<String> = match &self.collect.command {
                    Some(c) => vec![c.clone()],
                    None => self.model.commands.clone(),
                };
                let mut out = Vec::new();
                for command in commands {
                    let mut ssh = Ssh::new(ctx, self.collect, password.as_deref())?;
                    out.extend(ssh.run(&command, None).await?);
                }
                Ok(out)
            }
            Transport::Sftp => {
                let path = self.collect.path.as_deref().unwrap_or_default();
                Ssh::new(ctx, self.collect, password.as_deref())?
                    .fetch_file(path)
                    .await
            }
            Transport::Http => http_get(self, password.as_deref()).await,
        }
    }

    /// Pushes `config` back to the device with its model's `apply` (SSH models only),
    /// returning what the device printed.
    pub async fn apply(&self, ctx: &Ctx<'_>, config: &str) -> AppResult<String> {
        let Some(template) = &self.model.apply else {
            return Err(AppError::Invalid(format!(
                "device model `{}` has no way to push a configuration back: load the file by hand ({})",
                self.model.name,
                self.model.push.join("; ")
            )));
        };
        if self.model.transport != Transport::Ssh {
            return Err(AppError::Invalid(format!(
                "device model `{}` pushes over SSH only",
                self.model.name
            )));
        }
        let password = match &self.collect.password_secret {
            Some(name) => Some(crate::secrets::get(ctx.workspace(), name)?),
            None => None,
        };
        let input = template.replace("{config}", config.trim_end());
        let mut ssh = Ssh::new(ctx, self.collect, password.as_deref())
            .map_err(|e| AppError::Failed(format!("{}: {e}", self.label())))?;
        let out = ssh
            .run("", Some(input.as_bytes()))
            .await
            .map_err(|e| AppError::Failed(format!("{}: {e}", self.label())))?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

/// One `ssh` (or `scp`) invocation to a device.
struct Ssh {
    args: Vec<String>,
    destination: String,
    port: Option<u16>,
    address: String,
    askpass: Option<(PathBuf, String)>,
}

impl Ssh {
    fn new(ctx: &Ctx<'_>, c: &Collect, password: Option<&str>) -> Result<Self, String> {
        let known = known_hosts(ctx);
        let mut args = vec![
            "-o".to_string(),
            format!("UserKnownHostsFile={}", known.display()),
            "-o".into(),
            "GlobalKnownHostsFile=/dev/null".into(),
            "-o".into(),
            format!(
                "StrictHostKeyChecking={}",
                match c.host_key {
                    HostKeyCheck::Strict => "yes",
                    HostKeyCheck::AcceptNew => "accept-new",
                }
            ),
            "-o".into(),
            "ConnectTimeout=20".into(),
            "-o".into(),
            "ServerAliveInterval=15".into(),
            "-o".into(),
            "LogLevel=ERROR".into(),
        ];
        if let Some(key) = &c.ssh_key {
            let path = ctx.workspace().resolve(key);
            check_private(&path)?;
            args.extend([
                "-i".into(),
                path.display().to_string(),
                "-o".into(),
                "IdentitiesOnly=yes".into(),
            ]);
        }
        let askpass = match password {
            Some(p) => {
                args.extend([
                    "-o".into(),
                    "BatchMode=no".into(),
                    "-o".into(),
                    "NumberOfPasswordPrompts=1".into(),
                ]);
                Some((
                    askpass_helper(ctx).map_err(|e| e.to_string())?,
                    p.to_string(),
                ))
            }
            None => {
                args.extend(["-o".into(), "BatchMode=yes".into()]);
                None
            }
        };
        let destination = match &c.user {
            Some(u) => format!("{u}@{}", c.address),
            None => c.address.clone(),
        };
        Ok(Self {
            args,
            destination,
            port: c.port,
            address: c.address.clone(),
            askpass,
        })
    }

    fn command(&self, program: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some((helper, password)) = &self.askpass {
            // The password reaches ssh's askpass through the environment of the child
            // only (readable by its owner alone), never through its arguments.
            cmd.env("SSH_ASKPASS", helper)
                .env("SSH_ASKPASS_REQUIRE", "force")
                .env("DISPLAY", ":0")
                .env("REPRISE_DEVICE_PASSWORD", password);
        }
        cmd
    }

    /// Runs `command` on the device (its login shell when empty), with `input` on its
    /// standard input; returns its standard output.
    async fn run(&mut self, command: &str, input: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let mut cmd = self.command("ssh");
        if let Some(p) = self.port {
            cmd.args(["-p", &p.to_string()]);
        }
        cmd.arg("-T").arg(&self.destination);
        if !command.is_empty() {
            cmd.arg("--").arg(command);
        }
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run ssh (Debian package `openssh-client`): {e}"))?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            stdin
                .write_all(bytes)
                .await
                .map_err(|e| format!("cannot send to {}: {e}", self.address))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| format!("ssh could not be waited for: {e}"))?;
        if out.status.success() {
            return Ok(out.stdout);
        }
        Err(self.explain(out.status.code(), &out.stderr, command))
    }

    async fn fetch_file(&mut self, path: &str) -> Result<Vec<u8>, String> {
        let dir = tempfile_dir()?;
        let local = dir.join("fetched");
        let mut cmd = self.command("scp");
        if let Some(p) = self.port {
            cmd.args(["-P", &p.to_string()]);
        }
        cmd.arg("-q")
            .arg(format!("{}:{path}", self.destination))
            .arg(&local)
            .stdin(Stdio::null());
        let out = cmd
            .output()
            .await
            .map_err(|e| format!("cannot run scp (Debian package `openssh-client`): {e}"))?;
        let result = if out.status.success() {
            std::fs::read(&local).map_err(|e| format!("cannot read what scp fetched: {e}"))
        } else {
            Err(self.explain(out.status.code(), &out.stderr, path))
        };
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    /// ssh's failure in words: which of host key, credentials, reachability or the
    /// device's command it was.
    fn explain(&self, code: Option<i32>, stderr: &[u8], what: &str) -> String {
        let text = String::from_utf8_lossy(stderr);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string();
        let address = &self.address;
        if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
            return format!(
                "the host key of {address} CHANGED since it was trusted: refused (someone may be in the middle; if the device was replaced, check its new key and run `reprise devices trust`)"
            );
        }
        if text.contains("Host key verification failed")
            || text.contains("No ED25519 host key is known")
            || text.contains("host key is known for")
        {
            return format!(
                "the host key of {address} is not known: refused; check its fingerprint on the device and run `reprise devices trust ASSET --fingerprint SHA256:…`"
            );
        }
        if text.contains("Permission denied") || text.contains("Too many authentication failures") {
            return format!(
                "{address} refused the credentials of `{}` (wrong password or key)",
                self.destination.split('@').next().unwrap_or("")
            );
        }
        if code == Some(255) {
            return format!("cannot reach {address}: {last}");
        }
        match code {
            Some(c) => format!(
                "`{what}` failed on the device (exit {c}){}",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(": {last}")
                }
            ),
            None => format!("`{what}` was stopped by a signal"),
        }
    }
}

/// A key file ssh would refuse, said before ssh says it less clearly.
fn check_private(path: &Path) -> Result<(), String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("the SSH key {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "the SSH key {} can be read by others: make it owner-only (chmod 600)",
                path.display()
            ));
        }
    }
    let _ = meta;
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("reprise-device-{}", hex(&bytes)));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(dir)
}

/// The askpass helper ssh runs for a password: it prints the one in its environment and
/// holds none itself.
fn askpass_helper(ctx: &Ctx<'_>) -> std::io::Result<PathBuf> {
    let path = ctx.workspace().state_dir().join("askpass");
    let text = "#!/bin/sh\n# Reprise: gives ssh the device password it was handed in its environment.\nprintf '%s\\n' \"$REPRISE_DEVICE_PASSWORD\"\n";
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        std::fs::write(&path, text)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(path)
}

/// An HTTP(S) export: the request is sent without credentials first, then answered to
/// the device's challenge (digest, or basic), so a password never travels in clear to a
/// device that did not ask for it.
async fn http_get(d: &Device<'_>, password: Option<&str>) -> Result<Vec<u8>, String> {
    let url = http_url(d)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(d.timeout.as_secs().max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let method = if d.model.method == "POST" {
        reqwest::Method::POST
    } else {
        reqwest::Method::GET
    };
    let request = |auth: Option<String>| {
        let mut r = client.request(method.clone(), url.clone());
        if let Some(body) = &d.model.body {
            r = r.body(body.clone());
        }
        if let Some(a) = auth {
            r = r.header(reqwest::header::AUTHORIZATION, a);
        }
        r.send()
    };
    let unreachable =
        |e: reqwest::Error| format!("cannot reach {}: {}", d.collect.address, plain(&e));
    let mut response = request(None).await.map_err(unreachable)?;
    if response.status() == reqwest::StatusCode::UNAUTHORIZED {
        let Some(password) = password else {
            return Err(format!(
                "{} asks for credentials: set `user` and `password_secret`",
                d.collect.address
            ));
        };
        let user = d.collect.user.as_deref().unwrap_or("admin");
        let challenge = response
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect::<Vec<_>>();
        let digest = challenge
            .iter()
            .find(|c| c.to_ascii_lowercase().starts_with("digest"));
        let auth = match digest {
            Some(c) => digest_auth(c, user, password, method.as_str(), &url)?,
            None => format!("Basic {}", B64.encode(format!("{user}:{password}"))),
        };
        response = request(Some(auth)).await.map_err(unreachable)?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            return Err(format!(
                "{} refused the credentials of `{user}` (wrong password)",
                d.collect.address
            ));
        }
    }
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{} answered HTTP {status}", d.collect.address));
    }
    let html = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("the answer of {} was cut: {}", d.collect.address, plain(&e)))?;
    if html {
        return Err(
            "the device answered a web page, not a configuration (a login or error page?)".into(),
        );
    }
    Ok(body.to_vec())
}

fn plain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

fn http_url(d: &Device<'_>) -> Result<reqwest::Url, String> {
    let path = d
        .collect
        .url
        .as_deref()
        .or(d.model.url.as_deref())
        .unwrap_or("/");
    let text = if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        let base = if d.collect.address.contains("://") {
            d.collect.address.trim_end_matches('/').to_string()
        } else {
            match d.collect.port {
                Some(p) => format!("https://{}:{p}", d.collect.address),
                None => format!("https://{}", d.collect.address),
            }
        };
        format!("{base}/{}", path.trim_start_matches('/'))
    };
    reqwest::Url::parse(&text).map_err(|e| format!("`{text}` is not a URL: {e}"))
}

/// The `Authorization` header answering a digest challenge (RFC 2069, 2617 and 7616:
/// MD5, SHA-256 and their `-sess` forms, `qop=auth`), through the `digest_auth` crate.
fn digest_auth(
    challenge: &str,
    user: &str,
    password: &str,
    method: &str,
    url: &reqwest::Url,
) -> Result<String, String> {
    let uri = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let mut prompt = digest_auth::parse(challenge)
        .map_err(|e| format!("the device's digest challenge cannot be read: {e}"))?;
    let context = digest_auth::AuthContext::new_with_method(
        user,
        password,
        uri,
        Option::<&[u8]>::None,
        digest_auth::HttpMethod::from(method),
    );
    prompt
        .respond(&context)
        .map(|answer| answer.to_header_string())
        .map_err(|e| format!("the device's digest challenge cannot be answered: {e}"))
}

/// When a device of `asset` was last seen changing, if one was: a restore point older
/// than that lacks the change (R000.3).
pub async fn changed_at(ctx: &Ctx<'_>, asset: &str) -> AppResult<Option<Timestamp>> {
    Ok(records(ctx)
        .await?
        .iter()
        .filter(|r| r.asset == asset)
        .filter_map(|r| r.changed)
        .max())
}

/// What was last seen of every device data set.
pub async fn records(ctx: &Ctx<'_>) -> AppResult<Vec<DeviceRecord>> {
    Ok(ctx.catalog.devices().await?)
}

pub(crate) async fn record_of(ctx: &Ctx<'_>, d: &Device<'_>) -> AppResult<DeviceRecord> {
    Ok(ctx
        .catalog
        .devices()
        .await?
        .into_iter()
        .find(|r| r.asset == d.asset.id.as_str() && r.dataset == d.set.name)
        .unwrap_or_else(|| DeviceRecord {
            asset: d.asset.id.to_string(),
            dataset: d.set.name.clone(),
            ..DeviceRecord::default()
        }))
}

/// Records a read that failed.
pub async fn failed(ctx: &Ctx<'_>, d: &Device<'_>, at: Timestamp, error: &str) -> AppResult<()> {
    let mut r = record_of(ctx, d).await?;
    r.checked = Some(at);
    r.checks += 1;
    r.error = Some(error.to_string());
    ctx.catalog.save_device(&r).await?;
    Ok(())
}

/// Records that `reading` is now the newest restore point `snapshot`, and the change it
/// made, if any. Returns the change.
pub async fn stored(
    ctx: &Ctx<'_>,
    d: &Device<'_>,
    at: Timestamp,
    reading: &Reading,
    snapshot: &str,
) -> AppResult<Option<device::Change>> {
    let mut r = record_of(ctx, d).await?;
    let change = change_of(&r, reading);
    if let Some(c) = &change {
        r.changed = Some(at);
        r.change = Some(c.diff.clone());
        ctx.catalog
            .note(
                "device.change",
                d.asset.id.as_str(),
                &format!(
                    "data set `{}`: configuration changed on the device (+{} −{} lines), backed up as {}",
                    d.set.name,
                    c.added,
                    c.removed,
                    reprise_workspace::text::short(snapshot)
                ),
            )
            .await?;
    }
    r.checked = Some(at);
    r.checks += 1;
    r.error = None;
    r.fingerprint = Some(reading.fingerprint.clone());
    r.redacted = reading.redacted.clone();
    r.backed_up = Some(at);
    r.snapshot = Some(snapshot.to_string());
    ctx.catalog.save_device(&r).await?;
    Ok(change)
}

/// The change from what was stored last to `reading`; none for a first read.
pub(crate) fn change_of(r: &DeviceRecord, reading: &Reading) -> Option<device::Change> {
    let before = r.fingerprint.as_deref()?;
    if before == reading.fingerprint {
        return None;
    }
    match (&r.redacted, &reading.redacted) {
        // The same once masked: only a secret changed (a password, a community).
        (Some(old), Some(new)) => device::change(old, new).or_else(|| {
            Some(device::Change {
                added: 0,
                removed: 0,
                diff: "only masked secrets changed (a password, a key or a community): the restore point holds them\n".into(),
            })
        }),
        _ => Some(device::Change {
            added: 0,
            removed: 0,
            diff: format!(
                "a binary configuration changed ({} bytes now)",
                reading.raw.len()
            ),
        }),
    }
}

/// The host keys `address` offers, as `ssh-keyscan` reads them, with their SHA-256
/// fingerprints; the lines are added to the known hosts only when `fingerprint` names
/// one of them.
pub async fn trust(
    ctx: &Ctx<'_>,
    d: &Device<'_>,
    fingerprint: Option<&str>,
) -> AppResult<(Vec<String>, bool)> {
    let mut cmd = tokio::process::Command::new("ssh-keyscan");
    cmd.args(["-T", "10"]);
    if let Some(p) = d.collect.port {
        cmd.args(["-p", &p.to_string()]);
    }
    let out = cmd
        .arg(&d.collect.address)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            AppError::Failed(format!(
                "cannot run ssh-keyscan (Debian package `openssh-client`): {e}"
            ))
        })?;
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        return Err(AppError::Failed(format!(
            "{} offered no host key (is SSH running there, on port {}?)",
            d.collect.address,
            d.collect.port.unwrap_or(22)
        )));
    }
    let mut prints = Vec::new();
    for line in &lines {
        prints.push(key_fingerprint(line)?);
    }
    let Some(wanted) = fingerprint else {
        return Ok((prints, false));
    };
    let Some(i) = prints
        .iter()
        .position(|p| p.split_whitespace().any(|w| w == wanted))
    else {
        return Err(AppError::Refused(format!(
            "{} does not offer the key {wanted}: it offers {}; nothing was trusted",
            d.collect.address,
            prints.join(", ")
        )));
    };
    let path = known_hosts(ctx);
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    // A key trusted again replaces the one known for the same host.
    let host = lines[i].split_whitespace().next().unwrap_or("").to_string();
    let kind = lines[i].split_whitespace().nth(1).unwrap_or("").to_string();
    text = text
        .lines()
        .filter(|l| {
            let mut w = l.split_whitespace();
            !(w.next() == Some(host.as_str()) && w.next() == Some(kind.as_str()))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    text.push_str(&lines[i]);
    text.push('\n');
    std::fs::write(&path, text)
        .map_err(|e| AppError::Failed(format!("cannot write {}: {e}", path.display())))?;
    ctx.catalog
        .note(
            "device.trust",
            d.asset.id.as_str(),
            &format!("host key {wanted} of {} trusted", d.collect.address),
        )
        .await?;
    Ok((prints, true))
}

/// `SHA256:… (ED25519)` of one known-hosts line.
fn key_fingerprint(line: &str) -> AppResult<String> {
    let mut parts = line.split_whitespace();
    let (_host, kind, key) = (
        parts.next(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let blob = B64
        .decode(key)
        .map_err(|_| AppError::Failed(format!("ssh-keyscan gave an unreadable key: {line}")))?;
    let digest = Sha256::digest(&blob);
    let b64 = B64.encode(digest);
    Ok(format!("SHA256:{} ({kind})", b64.trim_end_matches('=')))
}

/// The name of the configuration file in a device's restore points.
pub fn file_name(d: &Device<'_>) -> String {
    match &d.set.source {
        DataSource::Device { filename, .. } => filename.clone(),
        _ => d.model.filename.clone(),
    }
}

/// Pushes the restored configuration `file` (of restore point `snapshot`) to the device,
/// journaling what was pushed and how it went either way.
pub async fn push(ctx: &Ctx<'_>, d: &Device<'_>, file: &Path, snapshot: &str) -> AppResult<String> {
    let config = std::fs::read_to_string(file)
        .map_err(|e| AppError::Failed(format!("cannot read {}: {e}", file.display())))?;
    let result = d.apply(ctx, &config).await;
    let detail = match &result {
        Ok(_) => format!(
            "data set `{}`: configuration of restore point {} pushed to {}",
            d.set.name,
            reprise_workspace::text::short(snapshot),
            d.collect.address
        ),
        Err(e) => format!(
            "data set `{}`: push of restore point {} to {} failed: {e}",
            d.set.name,
            reprise_workspace::text::short(snapshot),
            d.collect.address
        ),
    };
    ctx.catalog
        .note("device.push", d.asset.id.as_str(), &detail)
        .await?;
    result
}

/// The staged file a device reading is backed up from.
pub fn stage(staged_dir: &Path, filename: &str, raw: &[u8]) -> Result<PathBuf, String> {
    std::fs::create_dir_all(staged_dir)
        .map_err(|e| format!("cannot create {}: {e}", staged_dir.display()))?;
    let path = staged_dir.join(filename);
    std::fs::write(&path, raw).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_2617_digest_example_is_answered() {
        // RFC 2617 §3.5, with its client nonce: the response is the RFC's.
        let mut prompt = digest_auth::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        let mut context = digest_auth::AuthContext::new_with_method(
            "Mufasa",
            "Circle Of Life",
            "/dir/index.html",
            Option::<&[u8]>::None,
            digest_auth::HttpMethod::from("GET"),
        );
        context.set_custom_cnonce("0a4f113b");
        let header = prompt.respond(&context).unwrap().to_header_string();
        assert!(
            header.contains(r#"response="6629fae49393a05397450978507c4ef1""#),
            "{header}"
        );
    }

    #[test]
    fn key_fingerprints_are_openssh_s() {
        // `ssh-keygen -lf` of this key prints this fingerprint.
        let line =
            "host ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        assert_eq!(
            key_fingerprint(line).unwrap(),
            "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU (ssh-ed25519)"
        );
    }
}
