//! Where alerts go: webhooks (a generic JSON body, or one shaped for Slack/Mattermost or
//! Microsoft Teams) and e-mail over SMTP. Routing is by severity: a channel receives
//! the alerts at or above its minimum, and the resolution of every alert it was told of.

use serde::Serialize;

/// A notification channel, as configured in `[[notify]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notifier {
    pub id: String,
    pub channel: Channel,
    /// The least severe alert sent: `info`, `warning` or `critical`.
    pub min_severity: String,
    /// Who reads it (`team`, `management`, `client`): incident updates go to the
    /// channels of their severity's audience (R001.3). Empty: every update.
    pub audience: Vec<String>,
    /// The language its messages are written in: `en` (the default) or `fr`.
    pub lang: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Channel {
    Webhook {
        url: String,
        /// The URL kept in Reprise's encrypted store instead (it often holds a token).
        #[serde(skip_serializing_if = "Option::is_none")]
        url_secret: Option<String>,
        /// `generic` (JSON), `slack` (also Mattermost) or `teams`.
        format: String,
    },
    Email(Email),
}

/// An SMTP relay and who hears from it. The password is never here: only where it is
/// read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub from: String,
    pub to: Vec<String>,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    /// The name of a secret of Reprise's encrypted store.
    pub password_secret: Option<String>,
    /// A PEM file of extra certificate authorities to trust (a private CA).
    pub ca_file: Option<String>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or a trusted segment.
    None,
}

impl SmtpTls {
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "starttls" => Some(SmtpTls::Starttls),
            "tls" | "smtps" => Some(SmtpTls::Tls),
            "none" | "plain" => Some(SmtpTls::None),
            _ => None,
        }
    }

    /// The usual port for this protection.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }
}

/// Orders severities: `info` < `warning` < `critical`.
pub fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// How `reprise serve` runs jobs, from `[server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Address to listen on when `--listen` is not given.
    pub listen: Option<String>,
    /// Backups (and verifications) one server runs at once.
    pub concurrency: u32,
    /// Scheduled starts are spread over this window, each asset at its own fixed offset,
    /// so that a hundred assets on `daily at 02:00` do not all start in the same second.
    pub jitter: crate::Interval,
    /// Whether the server runs each asset's restore test (drill) when it is due.
    pub drills: bool,
    /// HTTPS: a PEM certificate chain and its PEM private key (paths relative to the
    /// workspace).
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// The account data-set commands, hooks and checks run as (by name); the server's
    /// own when `None`.
    pub commands_user: Option<String>,
    /// The address people reach the web UI at (`https://reprise.example.org`): messages
    /// link to the page of what they are about.
    pub public_url: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: None,
            concurrency: 1,
            jitter: crate::Interval::from_secs(0),
            drills: true,
            tls_cert: None,
            tls_key: None,
            commands_user: None,
            public_url: None,
        }
    }
}

/// Supervision thresholds, from `[supervision]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisionSettings {
    /// Share of the RPO after which an asset is "at risk" (0.75: past 75 %).
    pub rpo_at_risk: f64,
    /// How often the server checks that each repository is reachable (and measures it).
    pub probe_every: crate::Interval,
    /// When Reprise backs up its own catalog and configuration into its repositories.
    pub self_backup: crate::Schedule,
    /// Secrets of the encrypted store older than this raise an alert (R002.8).
    pub secret_max_age: Option<crate::Interval>,
    /// File name patterns a backup's new files are looked for under, besides the
    /// built-in ransom-note names (`signals::RANSOM_NAMES`).
    pub ransom_names: Vec<String>,
}

impl Default for SupervisionSettings {
    fn default() -> Self {
        Self {
            rpo_at_risk: 0.75,
            probe_every: crate::Interval::from_secs(300),
            self_backup: crate::Schedule::parse("daily at 03:00").expect("a valid schedule"),
            secret_max_age: None,
            ransom_names: Vec::new(),
        }
    }
}

/// A fixed offset in `0..jitter` for `key`: the same asset always starts at the same
/// point of the window, so its interval between backups stays the policy's.
pub fn jitter_offset(key: &str, jitter: crate::Interval) -> u64 {
    let window = jitter.as_secs();
    if window == 0 {
        return 0;
    }
    // FNV-1a: stable across builds and platforms, unlike the standard hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash % window
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Interval;

    #[test]
    fn jitter_offsets_are_stable_spread_and_inside_the_window() {
        let window = Interval::from_secs(600);
        let offsets: Vec<u64> = (0..50)
            .map(|i| jitter_offset(&format!("camera-{i}"), window))
            .collect();
        assert!(offsets.iter().all(|&o| o < 600));
        assert_eq!(offsets[7], jitter_offset("camera-7", window));
        let mut distinct = offsets.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 40, "{distinct:?}");
        assert_eq!(jitter_offset("camera-7", Interval::from_secs(0)), 0);
    }

    #[test]
    fn tls_words_and_ports() {
        assert_eq!(SmtpTls::parse("starttls").unwrap().default_port(), 587);
        assert_eq!(SmtpTls::parse("tls").unwrap().default_port(), 465);
        assert_eq!(SmtpTls::parse("none"), Some(SmtpTls::None));
        assert_eq!(SmtpTls::parse("ssl"), None);
    }
}
