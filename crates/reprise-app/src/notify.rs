//! Sending alert changes to webhooks: a generic JSON body, or one shaped for Slack and
//! Mattermost, or for Microsoft Teams. A failing channel is retried a few times with a
//! growing pause and then given up on; it never blocks the caller for long and never
//! stops the other channels.

use std::time::Duration;

use reprise_domain::{Notifier, severity_rank};
use serde_json::{Value, json};

use crate::supervise::Changes;

/// One message: an alert opened or resolved.
#[derive(Debug, Clone)]
pub struct Message {
    pub key: String,
    pub severity: String,
    pub text: String,
    pub resolved: bool,
}

pub fn messages(changes: &Changes) -> Vec<Message> {
    let mut out: Vec<Message> = changes
        .opened
        .iter()
        .map(|c| Message {
            key: c.key.clone(),
            severity: c.severity.to_string(),
            text: c.message.clone(),
            resolved: false,
        })
        .collect();
    out.extend(changes.resolved.iter().map(|key| Message {
        key: key.clone(),
        severity: "info".into(),
        text: format!("resolved: {key}"),
        resolved: true,
    }));
    out
}

fn body(format: &str, m: &Message) -> Value {
    let title = if m.resolved {
        format!("[Reprise] resolved: {}", m.key)
    } else {
        format!("[Reprise] {}: {}", m.severity.to_uppercase(), m.text)
    };
    match format {
        "slack" => json!({ "text": title }),
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

/// Sends `messages` to every notifier whose minimum severity they reach. Returns one
/// line per failed delivery (after retries).
pub async fn send(notifiers: &[Notifier], messages: &[Message]) -> Vec<String> {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => return vec![format!("cannot build the HTTP client: {e}")],
    };
    let mut failures = Vec::new();
    for n in notifiers {
        for m in messages {
            // A resolution is sent wherever the opening went.
            if !m.resolved && severity_rank(&m.severity) < severity_rank(&n.min_severity) {
                continue;
            }
            let payload = body(&n.format, m);
            let mut delay = Duration::from_millis(200);
            let mut last_error = String::new();
            let mut delivered = false;
            for _ in 0..3 {
                match client.post(&n.url).json(&payload).send().await {
                    Ok(r) if r.status().is_success() => {
                        delivered = true;
                        break;
                    }
                    Ok(r) => last_error = format!("HTTP {}", r.status()),
                    Err(e) => last_error = e.to_string(),
                }
                tokio::time::sleep(delay).await;
                delay *= 4;
            }
            if !delivered {
                failures.push(format!(
                    "notify `{}`: {} not delivered: {last_error}",
                    n.id, m.key
                ));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_fit_their_receivers() {
        let m = Message {
            key: "rpo:mail".into(),
            severity: "critical".into(),
            text: "mail: RPO breached".into(),
            resolved: false,
        };
        assert_eq!(
            body("slack", &m)["text"],
            "[Reprise] CRITICAL: mail: RPO breached"
        );
        assert_eq!(body("teams", &m)["@type"], "MessageCard");
        assert_eq!(body("generic", &m)["status"], "open");
    }
}
