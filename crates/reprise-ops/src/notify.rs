//! Sending alert changes to people: webhooks (a generic JSON body, or one shaped for
//! Slack and Mattermost, or for Microsoft Teams) and e-mail over SMTP (STARTTLS, TLS, or
//! plain for a local relay). Each channel receives what reaches its minimum severity and
//! the resolution of everything. A failing channel is retried a few times with a growing
//! pause and then given up on; it never stops the other channels, and callers run this
//! in the background so that it never holds the scheduler.

use std::fmt::Write as _;
use std::time::Duration;

use lettre::message::MultiPart;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use reprise_domain::{Channel, Email, Notifier, SmtpTls, severity_rank};
use serde::Serialize;
use serde_json::{Value, json};

use reprise_workspace::html::escape;
use reprise_workspace::workspace::Workspace;

/// A condition someone must hear about: an alert's key, severity and sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub key: String,
    pub severity: &'static str,
    pub message: String,
}

/// What changed in a supervision pass, for notifications.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    pub opened: Vec<Condition>,
    pub resolved: Vec<String>,
}

/// One message: an alert opened or resolved.
#[derive(Debug, Clone)]
pub struct Message {
    pub key: String,
    pub severity: String,
    pub text: String,
    pub resolved: bool,
    /// For incident updates: who must read it (`team`, `management`, `client`).
    pub audience: Vec<String>,
    /// The text for channels in French (`lang = "fr"`), when it differs.
    pub text_fr: Option<String>,
}

/// The messages of a supervision pass, each with its French text (names from `inv`).
pub fn messages(changes: &Changes, inv: &reprise_domain::Inventory) -> Vec<Message> {
    let name_of = |id: &str| inv.asset(id).map(|a| a.name.clone());
    let mut out: Vec<Message> = changes
        .opened
        .iter()
        .map(|c| Message {
            key: c.key.clone(),
            severity: c.severity.to_string(),
            text: c.message.clone(),
            resolved: false,
            audience: vec![],
            text_fr: Some(french(&c.key, &c.message, name_of)),
        })
        .collect();
    out.extend(changes.resolved.iter().map(|key| Message {
        key: key.clone(),
        severity: "info".into(),
        text: format!("resolved: {key}"),
        resolved: true,
        audience: vec![],
        text_fr: Some(format!("résolue : {}", french(key, "", name_of))),
    }));
    out
}

/// An alert in French, from its key (`rpo:iredmail`) and its English message: the kind of
/// alert, who it concerns by name; a device's change keeps its diff below.
pub fn french(key: &str, message: &str, name_of: impl Fn(&str) -> Option<String>) -> String {
    let (kind, subject) = key.split_once(':').unwrap_or((key, ""));
    let asset = subject.split('/').next().unwrap_or(subject);
    let who = name_of(asset).unwrap_or_else(|| subject.to_string());
    let first = match kind {
        "rpo" => format!("RPO menacé ou dépassé : {who}"),
        "missed" => format!("Sauvegarde manquée : {who}"),
        "backup" => format!("Dernière sauvegarde en échec : {who}"),
        "integrity" => format!("Point de restauration endommagé : {who}"),
        "rule321" => format!("Règle 3-2-1 non respectée : {who}"),
        "drill" => format!("Test de restauration en échec : {who}"),
        "drill-due" => format!("Test de restauration à faire : {who}"),
        "anomaly" => format!("Sauvegarde anormale (taille, ajouts ou fichiers) : {subject}"),
        "repo" => format!("Dépôt injoignable ou sans dépôt : {subject}"),
        "rotation" => format!("Rotation de la clé en retard : dépôt {subject}"),
        "change" => format!(
            "Configuration modifiée sur l'équipement : {who} ({}) ; sauvegardée aussitôt (secrets masqués ci-dessous)",
            subject.split_once('/').map_or("", |(_, d)| d)
        ),
        "device" => format!("Configuration illisible sur l'équipement : {who}"),
        "agent" => format!(
            "Agent muet : l'hôte {subject} ne s'est pas manifesté dans le délai ; ses actifs ne sont pas sauvegardés"
        ),
        "agent-job" => format!("Tâche {subject} toujours en attente de son agent"),
        "suspect" => format!(
            "Sauvegarde suspecte (elle ressemble à une attaque) : {subject} ; ce point et les suivants ne sont plus fiables, le dernier point sain est celui d'avant"
        ),
        "incident" => {
            let (id, what) = subject.split_once(':').unwrap_or((subject, ""));
            let what = match what {
                "update" => "point d'étape en retard",
                "assessment" => "évaluation des dommages en retard",
                "gdpr" => "notification RGPD sous 72 h",
                "review" => "revue post-incident à tenir",
                _ => "à suivre",
            };
            format!("Incident {id} : {what}")
        }
        _ => format!("Alerte : {key}"),
    };
    match message.split_once('\n') {
        Some((_, more)) if kind == "change" => format!("{first}\n{more}"),
        _ => first,
    }
}

/// A message as a channel in `lang` reads it.
fn in_language(m: &Message, lang: &str) -> Message {
    let mut out = m.clone();
    if lang == "fr"
        && let Some(fr) = &m.text_fr
    {
        out.text = fr.clone();
    }
    out
}

fn severity_word(severity: &str, fr: bool) -> String {
    match (severity, fr) {
        ("critical", true) => "CRITIQUE".into(),
        ("warning", true) => "AVERTISSEMENT".into(),
        (other, _) => other.to_uppercase(),
    }
}

/// The longest subject, in characters: mail clients show about this much.
const SUBJECT_CHARS: usize = 90;

/// One short line: the severity and the message's first line (a device change carries
/// its diff below it), cut to what a mail client shows. An incident update is titled as
/// one, its text being the body.
fn title(m: &Message, fr: bool) -> String {
    let line = if m.resolved {
        if fr {
            format!("[Reprise] résolue — {}", m.key)
        } else {
            format!("[Reprise] resolved — {}", m.key)
        }
    } else if let Some(id) = incident_update(m) {
        if fr {
            format!("[Reprise] Incident {id} — point d'étape")
        } else {
            format!("[Reprise] Incident {id} — status update")
        }
    } else {
        let first = m.text.lines().next().unwrap_or("");
        format!("[Reprise] {} — {first}", severity_word(&m.severity, fr))
    };
    shorten(&line, SUBJECT_CHARS)
}

/// The incident an update message is about (`incident:3:update`).
fn incident_update(m: &Message) -> Option<&str> {
    m.key
        .strip_prefix("incident:")
        .and_then(|rest| rest.strip_suffix(":update"))
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

/// The web page a message is about, when the server's public address is known.
fn link(m: &Message, public_url: Option<&str>) -> Option<String> {
    let base = public_url?;
    let (kind, subject) = m.key.split_once(':').unwrap_or((&m.key, ""));
    let asset = subject.split('/').next().unwrap_or(subject);
    Some(match kind {
        "incident" => format!(
            "{base}/incidents/{}",
            subject.split(':').next().unwrap_or("")
        ),
        "change" | "device" => format!("{base}/devices"),
        "repo" | "rotation" => format!("{base}/alerts"),
        _ if !asset.is_empty() => format!("{base}/assets/{asset}"),
        _ => format!("{base}/alerts"),
    })
}

/// What follows a message's first line (a diff), if anything.
fn details(m: &Message) -> Option<&str> {
    m.text
        .split_once('\n')
        .map(|(_, rest)| rest)
        .filter(|r| !r.trim().is_empty())
}

fn body(format: &str, m: &Message, fr: bool) -> Value {
    let title = title(m, fr);
    match format {
        "slack" => match details(m) {
            Some(more) => json!({ "text": format!("{title}\n```\n{more}\n```") }),
            None => json!({ "text": title }),
        },
        "teams" => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": title,
            "title": title,
            "text": m.text,
        }),
        _ => json!({
            "source": "reprise",
            "key": m.key,
            "severity": m.severity,
            "message": m.text,
            "status": if m.resolved { "resolved" } else { "open" },
        }),
    }
}

/// Whether channel `n` hears of `m`: openings at or above its minimum severity, and
/// every resolution (a resolution is sent wherever the opening could have gone); an
/// incident update only where its audience reads (channels without one read all).
fn routed(n: &Notifier, m: &Message) -> bool {
    let severity = m.resolved || severity_rank(&m.severity) >= severity_rank(&n.min_severity);
    let audience = m.audience.is_empty()
        || n.audience.is_empty()
        || m.audience.iter().any(|a| n.audience.contains(a));
    severity && audience
}

/// Sends `messages` to every channel. Returns one line per failed delivery (after
/// retries), naming the channel and never a secret.
pub async fn send(
    ws: &Workspace,
    notifiers: &[Notifier],
    public_url: Option<&str>,
    messages: &[Message],
) -> Vec<String> {
    let mut failures = Vec::new();
    for n in notifiers {
        let localized: Vec<Message> = messages
            .iter()
            .filter(|m| routed(n, m))
            .map(|m| in_language(m, &n.lang))
            .collect();
        let mine: Vec<&Message> = localized.iter().collect();
        if mine.is_empty() {
            continue;
        }
        match &n.channel {
            Channel::Webhook {
                url,
                url_secret,
                format,
            } => {
                let url = match url_secret {
                    None => url.clone(),
                    Some(name) => match crate::secrets::get(ws, name) {
                        Ok(u) => u,
                        Err(e) => {
                            failures.push(format!("channel `{}`: its URL: {e}", n.id));
                            continue;
                        }
                    },
                };
                failures.extend(send_webhooks(&n.id, &url, format, &mine, n.lang == "fr").await);
            }
            Channel::Email(email) => {
                let mail = compose(&mine, n.lang == "fr", public_url);
                if let Err(e) = retried(|| send_email(ws, email, &mail)).await {
                    failures.push(format!(
                        "notify `{}`: e-mail to {} not delivered: {e}",
                        n.id,
                        email.to.join(", ")
                    ));
                }
            }
        }
    }
    failures
}

/// Runs `attempt` up to three times, pausing 0.2 s then 0.8 s between tries.
async fn retried<F, Fut>(mut attempt: F) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut delay = Duration::from_millis(200);
    let mut last = String::new();
    for i in 0..3 {
        match attempt().await {
            Ok(()) => return Ok(()),
            Err(e) => last = e,
        }
        if i < 2 {
            tokio::time::sleep(delay).await;
            delay *= 4;
        }
    }
    Err(last)
}

async fn send_webhooks(
    id: &str,
    url: &str,
    format: &str,
    messages: &[&Message],
    fr: bool,
) -> Vec<String> {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => return vec![format!("notify `{id}`: cannot build the HTTP client: {e}")],
    };
    let mut failures = Vec::new();
    for m in messages {
        let payload = body(format, m, fr);
        let sent = retried(|| async {
            match client.post(url).json(&payload).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                // The URL may hold a token: say what failed, not where.
                Err(e) => Err(e.without_url().to_string()),
            }
        })
        .await;
        if let Err(e) = sent {
            failures.push(format!("notify `{id}`: {} not delivered: {e}", m.key));
        }
    }
    failures
}

/// A composed e-mail: one per channel and evaluation, so that twenty assets breaching
/// together make one message, not twenty.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub subject: String,
    /// The HTML alternative of `text`.
    pub html: String,
    pub text: String,
}

pub(crate) fn compose(messages: &[&Message], fr: bool, public_url: Option<&str>) -> Mail {
    let opened: Vec<&&Message> = messages.iter().filter(|m| !m.resolved).collect();
    let resolved: Vec<&&Message> = messages.iter().filter(|m| m.resolved).collect();
    let subject = match messages {
        [one] => title(one, fr),
        _ => {
            let worst = opened
                .iter()
                .map(|m| m.severity.as_str())
                .max_by_key(|s| severity_rank(s))
                .unwrap_or("info");
            if fr {
                format!(
                    "[Reprise] {} — {} alerte(s) ouverte(s), {} résolue(s)",
                    severity_word(worst, fr),
                    opened.len(),
                    resolved.len()
                )
            } else {
                format!(
                    "[Reprise] {} — {} alert(s) opened, {} resolved",
                    worst.to_uppercase(),
                    opened.len(),
                    resolved.len()
                )
            }
        }
    };
    // An incident update is the drafted text itself, as its readers (a client) expect.
    if let [one] = messages
        && incident_update(one).is_some()
    {
        let mut text = one.text.clone();
        let mut html = format!("<pre>{}</pre>", escape(&one.text));
        if let Some(url) = link(one, public_url) {
            text.push_str(&format!("\n\n{url}\n"));
            html.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", escape(&url)));
        }
        return Mail {
            subject,
            text,
            html,
        };
    }
    let mut text = String::new();
    let mut html = format!("<h1>{}</h1>\n", escape(&subject));
    let open_word = if fr { "Alertes ouvertes" } else { "Opened" };
    let resolved_word = if fr { "Résolues" } else { "Resolved" };
    // French puts a space before a colon.
    let colon = if fr { " :" } else { ":" };
    if !opened.is_empty() {
        text.push_str(&format!("{open_word}{colon}\n"));
        let _ = write!(html, "<h2>{open_word}</h2>\n<ul>\n");
        for m in &opened {
            let severity = severity_word(&m.severity, fr);
            text.push_str(&format!(
                "  [{severity}] {}\n      {}\n",
                m.key,
                m.text.replace('\n', "\n      ")
            ));
            let (first, more) = m.text.split_once('\n').unwrap_or((&m.text, ""));
            let _ = write!(
                html,
                "<li><strong>{severity}</strong> <code>{}</code>{colon} {}",
                escape(&m.key),
                escape(first)
            );
            if !more.is_empty() {
                let _ = write!(html, "<pre>{}</pre>", escape(more));
            }
            if let Some(url) = link(m, public_url) {
                text.push_str(&format!("      {url}\n"));
                let _ = write!(html, " <a href=\"{0}\">{0}</a>", escape(&url));
            }
            html.push_str("</li>\n");
        }
        html.push_str("</ul>\n");
    }
    if !resolved.is_empty() {
        if !opened.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("{resolved_word}{colon}\n"));
        let _ = write!(html, "<h2>{resolved_word}</h2>\n<ul>\n");
        for m in &resolved {
            text.push_str(&format!("  {}\n", m.key));
            let _ = writeln!(html, "<li><code>{}</code></li>", escape(&m.key));
        }
        html.push_str("</ul>\n");
    }
    let footer = match (public_url, fr) {
        (Some(url), true) => format!("Alertes ouvertes : {url}/alerts, ou `reprise alerts`."),
        (Some(url), false) => format!("Open alerts: {url}/alerts, or `reprise alerts`."),
        (None, true) => {
            "Alertes ouvertes : `reprise alerts`, ou GET /api/v1/alerts sur le serveur Reprise."
                .into()
        }
        (None, false) => {
            "Open alerts: `reprise alerts`, or GET /api/v1/alerts on the Reprise server.".into()
        }
    };
    text.push_str(&format!("\n{footer}\n"));
    let _ = writeln!(html, "<p>{}</p>", escape(&footer));
    Mail {
        subject,
        text,
        html,
    }
}

/// The SMTP password, from the environment or a file; never from the configuration.
fn smtp_password(ws: &Workspace, email: &Email) -> Result<Option<String>, String> {
    if let Some(name) = &email.password_secret {
        return crate::secrets::get(ws, name)
            .map(Some)
            .map_err(|e| format!("the SMTP password: {e}"));
    }
    if let Some(var) = &email.password_env {
        return std::env::var(var).map(Some).map_err(|_| {
            format!("the environment variable {var} holding the SMTP password is not set")
        });
    }
    if let Some(file) = &email.password_file {
        let path = ws.resolve(file);
        return std::fs::read_to_string(&path)
            .map(|t| Some(t.lines().next().unwrap_or("").to_string()))
            .map_err(|e| format!("cannot read the SMTP password file {}: {e}", path.display()));
    }
    Ok(None)
}

async fn send_email(ws: &Workspace, email: &Email, mail: &Mail) -> Result<(), String> {
    let tls = match email.tls {
        SmtpTls::None => Tls::None,
        mode => {
            let mut params = TlsParameters::builder(email.host.clone());
            if let Some(ca) = &email.ca_file {
                let path = ws.resolve(ca);
                let pem = std::fs::read(&path)
                    .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("{} is not a PEM certificate: {e}", path.display()))?;
                params = params.add_root_certificate(cert);
            }
            let params = params.build_rustls().map_err(|e| e.to_string())?;
            if mode == SmtpTls::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(email.host.clone())
        .port(email.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(15)));
    if let (Some(user), Some(password)) = (&email.username, smtp_password(ws, email)?) {
        transport = transport.credentials(Credentials::new(user.clone(), password));
    }
    let mut builder = lettre::Message::builder()
        .from(
            email
                .from
                .parse()
                .map_err(|e| format!("`from` {}: {e}", email.from))?,
        )
        .subject(mail.subject.clone())
        // `<uuid@host>`: threads and deduplication in mail clients need one.
        .message_id(None);
    for to in &email.to {
        builder = builder.to(to.parse().map_err(|e| format!("`to` {to}: {e}"))?);
    }
    // Text and HTML alternatives (MIME-Version and the boundaries come with it).
    let message = builder
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| e.to_string())?;
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(key: &str, severity: &str, resolved: bool) -> Message {
        Message {
            key: key.into(),
            severity: severity.into(),
            text: format!("{key}: something"),
            resolved,
            audience: vec![],
            text_fr: None,
        }
    }

    #[test]
    fn bodies_fit_their_receivers() {
        let m = Message {
            key: "rpo:mail".into(),
            severity: "critical".into(),
            text: "mail: RPO breached".into(),
            resolved: false,
            audience: vec![],
            text_fr: None,
        };
        assert_eq!(
            body("slack", &m, false)["text"],
            "[Reprise] CRITICAL — mail: RPO breached"
        );
        assert_eq!(body("teams", &m, false)["@type"], "MessageCard");
        assert_eq!(body("generic", &m, false)["status"], "open");
    }

    #[test]
    fn one_mail_summarises_an_evaluation() {
        let a = message("rpo:mail", "critical", false);
        let b = message("missed:vpn", "warning", false);
        let c = message("backup:nas", "info", true);
        let mail = compose(&[&a, &b, &c], false, None);
        assert_eq!(
            mail.subject,
            "[Reprise] CRITICAL — 2 alert(s) opened, 1 resolved"
        );
        assert!(mail.text.contains("[CRITICAL] rpo:mail"));
        assert!(mail.text.contains("Resolved:\n  backup:nas"));
        assert!(mail.html.contains("<code>rpo:mail</code>"), "{}", mail.html);
        assert_eq!(
            compose(&[&a], false, None).subject,
            "[Reprise] CRITICAL — rpo:mail: something"
        );
        // In French for a channel that reads French.
        let fr = compose(&[&a, &b, &c], true, None);
        assert_eq!(
            fr.subject,
            "[Reprise] CRITIQUE — 2 alerte(s) ouverte(s), 1 résolue(s)"
        );
        assert!(fr.text.contains("Résolues :\n  backup:nas"), "{}", fr.text);
    }

    #[test]
    fn subjects_are_short_and_messages_link_to_their_page() {
        let mut long = message("rpo:mail", "critical", false);
        long.text = format!("{}\nsecond line", "x".repeat(300));
        let subject = compose(&[&long], false, None).subject;
        assert!(subject.chars().count() <= SUBJECT_CHARS, "{subject}");
        assert!(
            subject.ends_with('…') && !subject.contains("second"),
            "{subject}"
        );
        let mail = compose(&[&long], false, Some("https://reprise.example.org"));
        assert!(
            mail.text
                .contains("https://reprise.example.org/assets/mail"),
            "{}",
            mail.text
        );
        assert!(
            mail.html
                .contains("href=\"https://reprise.example.org/assets/mail\"")
        );
    }

    #[test]
    fn an_incident_update_is_its_drafted_text() {
        let mut update = message("incident:3:update", "critical", false);
        update.text = "Point d'étape n°2\nLe routeur est rétabli.\nProchain point à 14 h.".into();
        let mail = compose(&[&update], true, Some("https://reprise.example.org"));
        assert_eq!(mail.subject, "[Reprise] Incident 3 — point d'étape");
        assert!(
            mail.text
                .starts_with("Point d'étape n°2\nLe routeur est rétabli."),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("incident:3:update") && !mail.text.contains("Opened"));
        assert!(
            mail.text
                .contains("https://reprise.example.org/incidents/3")
        );
    }

    #[test]
    fn alerts_read_in_french_from_their_key() {
        let names = |id: &str| (id == "iredmail").then(|| "Serveur Iredmail".to_string());
        assert_eq!(
            french("rpo:iredmail", "", names),
            "RPO menacé ou dépassé : Serveur Iredmail"
        );
        assert_eq!(
            french("incident:3:gdpr", "", names),
            "Incident 3 : notification RGPD sous 72 h"
        );
        assert_eq!(
            french("rotation:offsite", "", names),
            "Rotation de la clé en retard : dépôt offsite"
        );
        // A device's change keeps its diff, whatever the language.
        assert_eq!(
            french("change:iredmail/config", "iredmail changed\n-a\n+b", names),
            "Configuration modifiée sur l'équipement : Serveur Iredmail (config) ; sauvegardée aussitôt (secrets masqués ci-dessous)\n-a\n+b"
        );
    }

    #[test]
    fn channels_hear_what_reaches_their_minimum_and_every_resolution() {
        let n = Notifier {
            id: "mgmt".into(),
            channel: Channel::Webhook {
                url: "http://x".into(),
                url_secret: None,
                format: "generic".into(),
            },
            min_severity: "critical".into(),
            audience: vec!["management".into()],
            lang: "en".into(),
        };
        assert!(routed(&n, &message("rpo:a", "critical", false)));
        let mut update = message("incident:1:update", "critical", false);
        update.audience = vec!["team".into()];
        assert!(!routed(&n, &update), "a SEV3 update is not for management");
        update.audience.push("management".into());
        assert!(routed(&n, &update));
        assert!(!routed(&n, &message("rpo:a", "warning", false)));
        assert!(routed(&n, &message("rpo:a", "info", true)));
    }
}
