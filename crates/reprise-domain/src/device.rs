//! Equipment that runs no agent — routers, switches, cameras, recorders — whose
//! configuration is collected (seed 000's "dernière sauvegarde valide", seed 004's VyOS
//! router): how each model is reached and read, which lines change on every read, which
//! hold secrets, what a wrong answer looks like, and how a configuration goes back. Pure:
//! the reading itself is `reprise_ops::devices`.

use regex::Regex;
use serde::Serialize;
use similar::TextDiff;

use crate::Interval;

/// How a data set's configuration is collected from its device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collect {
    /// A built-in model (`vyos`, `cisco-ios`, `ssh`, `http`, `sftp`) or one declared in
    /// `[[device_model]]`.
    pub model: String,
    /// Host name or address; for HTTP devices, a base URL may be given instead
    /// (`http://10.0.0.5:8080`).
    pub address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The name of the password in Reprise's secret store (never the password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// A private key file (owner-only) for SSH devices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_key: Option<String>,
    /// The command that prints the configuration, over the model's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The URL (or path below `address`) of an HTTP export, over the model's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The remote file fetched over SFTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `strict` (the default: the host key must be known) or `accept-new`.
    pub host_key: HostKeyCheck,
    /// How often the device is read to see whether its configuration changed (R000.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watch: Option<Interval>,
    /// More volatile lines of this device (regular expressions), over the model's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyCheck {
    Strict,
    AcceptNew,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// Commands run over SSH; their output is the configuration.
    Ssh,
    /// An HTTP(S) export, with basic or digest authentication.
    Http,
    /// A file fetched over SFTP.
    Sftp,
}

impl Transport {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "ssh" => Ok(Self::Ssh),
            "http" | "https" => Ok(Self::Http),
            "sftp" | "scp" => Ok(Self::Sftp),
            other => Err(format!(
                "`{other}` is not a transport (write `ssh`, `http` or `sftp`)"
            )),
        }
    }
}

/// How a model is read, judged and restored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceModel {
    pub name: String,
    pub transport: Transport,
    /// SSH: the commands whose output, in order, is the configuration.
    pub commands: Vec<String>,
    /// HTTP: `GET` or `POST`, the URL (or path), and the body of a POST.
    pub method: String,
    pub url: Option<String>,
    pub body: Option<String>,
    /// Lines that change on every read (uptime, clocks, counters): never a change.
    pub volatile: Vec<String>,
    /// Lines holding secrets; the first group of each expression (or the whole match) is
    /// masked in diffs and alerts. The restore point keeps them: a restore needs them.
    pub secrets: Vec<String>,
    /// A line matching one of these means the device answered an error.
    pub errors: Vec<String>,
    /// A configuration of this model always matches this expression.
    pub expect: Option<String>,
    /// The steps that load a configuration back, for people: `{file}`, `{address}`,
    /// `{user}` are replaced.
    pub push: Vec<String>,
    /// How `--apply` loads it (SSH only): sent to the device's shell, `{config}` replaced
    /// by the configuration.
    pub apply: Option<String>,
    /// The name of the file in the restore point.
    pub filename: String,
}

/// Masked in every model: words that introduce a secret, in the usual syntaxes
/// (`password 'x'`, `secret x`, `key=x`, `<Password>x</Password>`). Masking too much in
/// a diff is harmless; masking too little is not.
const GENERIC_SECRETS: &[&str] = &[
    r#"(?i)\b(?:password|passwd|secret|community|pre-shared-(?:key|secret)|psk|passphrase|api[_-]?key|token|key)\b["']?\s*[=:]?\s+["']?([^"'\s<>]+)"#,
    // No word boundary before: `admin_password`, `wifi.psk` are secrets too.
    r#"(?i)(?:password|passwd|secret|psk|passphrase|token)["']?\s*[=:]\s*["']?([^"'\s<>,]+)"#,
    r"(?i)<(?:password|passwd|secret|psk|passphrase|key|token)>([^<]*)<",
];

/// The masks' text.
pub const MASK: &str = "********";

/// The models Reprise knows without configuration.
pub fn builtin_models() -> Vec<DeviceModel> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        DeviceModel {
            name: "vyos".into(),
            transport: Transport::Ssh,
            commands: s(&["/opt/vyatta/bin/vyatta-op-cmd-wrapper show configuration commands"]),
            method: "GET".into(),
            url: None,
            body: None,
            volatile: vec![],
            secrets: s(&[
                r"\b(?:encrypted-password|plaintext-password|pre-shared-secret|shared-secret-key|secret|password|key|community)\s+'([^']*)'",
            ]),
            errors: s(&[r"^Invalid command", r"^Permission denied", r"is not valid$"]),
            expect: Some(r"(?m)^set ".into()),
            push: s(&[
                "scp {file} {user}@{address}:/tmp/restore.commands",
                "ssh {user}@{address}, then: configure",
                "source /tmp/restore.commands",
                "compare (check what changes), then: commit; save; exit",
            ]),
            apply: Some(
                "source /opt/vyatta/etc/functions/script-template\nconfigure\n{config}\ncommit\nsave\nexit\n"
                    .into(),
            ),
            filename: "config.commands".into(),
        },
        DeviceModel {
            name: "cisco-ios".into(),
            transport: Transport::Ssh,
            commands: s(&["show running-config"]),
            method: "GET".into(),
            url: None,
            body: None,
            volatile: s(&[
                r"^! Last configuration change",
                r"^! NVRAM config last updated",
                r"^ntp clock-period",
                r"^Building configuration",
                r"^Current configuration\s*:",
            ]),
            secrets: s(&[
                r"^\s*enable (?:secret|password)(?: \d+)? (\S+)",
                r"^\s*username \S+(?: privilege \d+)? (?:secret|password)(?: \d+)? (\S+)",
                r"^\s*snmp-server community (\S+)",
                r"^\s*(?:tacacs-server|radius-server) key(?: \d+)? (\S+)",
            ]),
            errors: s(&[r"^% Invalid input", r"^% Authorization failed", r"^% Bad"]),
            expect: Some(r"(?m)^(?:hostname|version|interface) ".into()),
            push: s(&[
                "copy {file} to the switch (scp {file} {user}@{address}:flash:restore.cfg)",
                "on the switch: copy flash:restore.cfg running-config",
                "check, then: write memory",
            ]),
            apply: Some("configure terminal\n{config}\nend\nwrite memory\n".into()),
            filename: "running-config.txt".into(),
        },
        DeviceModel {
            name: "ssh".into(),
            transport: Transport::Ssh,
            commands: vec![],
            method: "GET".into(),
            url: None,
            body: None,
            volatile: vec![],
            secrets: vec![],
            errors: vec![],
            expect: None,
            push: vec![],
            apply: None,
            filename: "config.txt".into(),
        },
        DeviceModel {
            name: "http".into(),
            transport: Transport::Http,
            commands: vec![],
            method: "GET".into(),
            url: None,
            body: None,
            volatile: vec![],
            secrets: vec![],
            errors: vec![],
            expect: None,
            push: s(&[
                "open the device's web page ({address}) and import {file} (Maintenance / Configuration / Import)",
            ]),
            apply: None,
            filename: "config.bin".into(),
        },
        DeviceModel {
            name: "sftp".into(),
            transport: Transport::Sftp,
            commands: vec![],
            method: "GET".into(),
            url: None,
            body: None,
            volatile: vec![],
            secrets: vec![],
            errors: vec![],
            expect: None,
            push: s(&["scp {file} {user}@{address}:<the file's path>, then restart the service that reads it"]),
            apply: None,
            filename: "config.txt".into(),
        },
    ]
}

/// A model's expressions, compiled once for a read.
pub struct Rules {
    volatile: Vec<Regex>,
    secrets: Vec<Regex>,
    errors: Vec<Regex>,
    expect: Option<Regex>,
}

/// Compiles an expression of a model, saying which one is wrong.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| format!("`{pattern}` is not a regular expression: {e}"))
}

impl Rules {
    /// The rules of `model`, with a device's own volatile lines. Fails on the first
    /// expression that does not compile (the configuration layer checked them all).
    pub fn new(model: &DeviceModel, ignore: &[String]) -> Result<Self, String> {
        let all = |list: &mut dyn Iterator<Item = &str>| -> Result<Vec<Regex>, String> {
            list.map(compile).collect()
        };
        Ok(Self {
            volatile: all(&mut model.volatile.iter().chain(ignore).map(String::as_str))?,
            secrets: all(&mut model
                .secrets
                .iter()
                .map(String::as_str)
                .chain(GENERIC_SECRETS.iter().copied()))?,
            errors: all(&mut model.errors.iter().map(String::as_str))?,
            expect: model.expect.as_deref().map(compile).transpose()?,
        })
    }

    /// The configuration as compared: line endings unified, trailing blanks and volatile
    /// lines removed.
    pub fn normalize(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            let line = line.trim_end();
            if self.volatile.iter().any(|v| v.is_match(line)) {
                continue;
            }
            out.push_str(line);
            out.push('\n');
        }
        while out.ends_with("\n\n") {
            out.pop();
        }
        out
    }

    /// `text` with every secret masked, line by line.
    pub fn redact(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            out.push_str(&self.redact_line(line));
            out.push('\n');
        }
        out
    }

    fn redact_line(&self, line: &str) -> String {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for re in &self.secrets {
            for caps in re.captures_iter(line) {
                let m = caps.get(1).or_else(|| caps.get(0));
                if let Some(m) = m
                    && !m.is_empty()
                {
                    spans.push((m.start(), m.end()));
                }
            }
        }
        if spans.is_empty() {
            return line.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(line.len());
        let mut at = 0;
        for (start, end) in spans {
            if end <= at {
                continue;
            }
            out.push_str(&line[at..start.max(at)]);
            out.push_str(MASK);
            at = end;
        }
        out.push_str(&line[at..]);
        out
    }

    /// Why `text` is not a configuration of this model, if it is not: empty, an error
    /// line, a web page where none is expected, or missing what every one holds.
    pub fn problem(&self, text: &str, html_expected: bool) -> Option<String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Some("the device returned an empty configuration".into());
        }
        if let Some(line) = text
            .lines()
            .find(|l| self.errors.iter().any(|e| e.is_match(l.trim_end())))
        {
            return Some(format!("the device answered an error: {}", line.trim()));
        }
        let head: String = trimmed.chars().take(200).collect::<String>().to_lowercase();
        if !html_expected && (head.starts_with("<!doctype html") || head.starts_with("<html")) {
            return Some("the device answered a web page, not a configuration".into());
        }
        if let Some(expect) = &self.expect
            && !expect.is_match(text)
        {
            return Some(format!(
                "the answer does not look like this model's configuration (nothing matches `{}`)",
                expect.as_str()
            ));
        }
        None
    }
}

/// What changed between two configurations (normalized and redacted already).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub added: usize,
    pub removed: usize,
    /// A unified diff with one line of context.
    pub diff: String,
}

/// The change from `old` to `new`, or `None` when they are the same.
pub fn change(old: &str, new: &str) -> Option<Change> {
    if old == new {
        return None;
    }
    let diff = TextDiff::from_lines(old, new);
    let mut added = 0;
    let mut removed = 0;
    for op in diff.iter_all_changes() {
        match op.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let text = diff
        .unified_diff()
        .context_radius(1)
        .header("restore point", "device")
        .to_string();
    Some(Change {
        added,
        removed,
        diff: text,
    })
}

/// A model's push steps for `file`, with the device's address and user filled in.
pub fn push_steps(model: &DeviceModel, collect: &Collect, file: &str) -> Vec<String> {
    model
        .push
        .iter()
        .map(|s| {
            s.replace("{file}", file)
                .replace("{address}", &collect.address)
                .replace("{user}", collect.user.as_deref().unwrap_or("admin"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str) -> DeviceModel {
        builtin_models()
            .into_iter()
            .find(|m| m.name == name)
            .unwrap()
    }

    #[test]
    fn every_builtin_expression_compiles() {
        for m in builtin_models() {
            Rules::new(&m, &[]).unwrap_or_else(|e| panic!("{}: {e}", m.name));
        }
    }

    #[test]
    fn vyos_secrets_are_masked_and_the_rest_kept() {
        let r = Rules::new(&model("vyos"), &[]).unwrap();
        let text = "set system login user vyos authentication encrypted-password '$6$abc'\n\
                    set service snmp community 'public' authorization 'ro'\n\
                    set interfaces ethernet eth0 address '10.0.0.1/24'\n";
        let red = r.redact(text);
        assert!(!red.contains("$6$abc"), "{red}");
        assert!(!red.contains("public"), "{red}");
        assert!(red.contains("encrypted-password '********'"), "{red}");
        assert!(red.contains("address '10.0.0.1/24'"), "{red}");
    }

    #[test]
    fn cisco_volatile_lines_never_make_a_change() {
        let r = Rules::new(&model("cisco-ios"), &[]).unwrap();
        let a = "Building configuration...\n! Last configuration change at 10:01 by admin\nhostname sw1\n";
        let b = "Building configuration...\n! Last configuration change at 11:42 by admin\nhostname sw1\n";
        assert_eq!(change(&r.normalize(a), &r.normalize(b)), None);
        let c = "hostname sw2\n";
        let d = change(&r.normalize(a), &r.normalize(c)).unwrap();
        assert_eq!((d.added, d.removed), (1, 1));
        assert!(d.diff.contains("-hostname sw1") && d.diff.contains("+hostname sw2"));
    }

    #[test]
    fn generic_secrets_in_key_value_and_xml_exports() {
        let r = Rules::new(&model("http"), &[]).unwrap();
        let red = r.redact(
            "user=admin\npassword=hunter2\n<Password>s3cr3t</Password>\nname=cam\n{\"admin_password\": \"p4ss\"}\n",
        );
        assert!(
            !red.contains("hunter2") && !red.contains("s3cr3t") && !red.contains("p4ss"),
            "{red}"
        );
        assert!(
            red.contains("user=admin") && red.contains("name=cam"),
            "{red}"
        );
    }

    #[test]
    fn wrong_answers_are_named() {
        let r = Rules::new(&model("vyos"), &[]).unwrap();
        assert!(r.problem("  \n", false).unwrap().contains("empty"));
        assert!(
            r.problem("Invalid command: show\n", false)
                .unwrap()
                .contains("error")
        );
        assert!(
            r.problem("hello\n", false)
                .unwrap()
                .contains("does not look")
        );
        assert_eq!(r.problem("set system host-name r1\n", false), None);
        let h = Rules::new(&model("http"), &[]).unwrap();
        assert!(
            h.problem("<!DOCTYPE html><p>Login</p>", false)
                .unwrap()
                .contains("web page")
        );
    }

    #[test]
    fn push_steps_name_the_file_and_the_device() {
        let c = Collect {
            model: "vyos".into(),
            address: "10.0.0.1".into(),
            port: None,
            user: Some("vyos".into()),
            password_secret: None,
            ssh_key: None,
            command: None,
            url: None,
            path: None,
            host_key: HostKeyCheck::Strict,
            watch: None,
            ignore: vec![],
        };
        let steps = push_steps(&model("vyos"), &c, "/tmp/r/config.commands");
        assert_eq!(
            steps[0],
            "scp /tmp/r/config.commands vyos@10.0.0.1:/tmp/restore.commands"
        );
    }
}
