//! `collect = { model = "vyos", address = "…" }` on a data set, and `[[device_model]]`:
//! the devices whose configuration Reprise reads, and the models users add.

use std::ops::Range;

use reprise_domain::device::{Collect, DeviceModel, HostKeyCheck, Transport, compile};
use reprise_domain::{DataSource, Interval, Inventory};

use super::reader::{Reader, TableView};

pub(super) const COLLECT_KEYS: &[&str] = &[
    "model",
    "address",
    "port",
    "user",
    "password_secret",
    "ssh_key",
    "command",
    "url",
    "path",
    "host_key",
    "watch",
    "ignore",
];

pub(super) const MODEL_KEYS: &[&str] = &[
    "name",
    "transport",
    "commands",
    "method",
    "url",
    "body",
    "volatile",
    "secrets",
    "errors",
    "expect",
    "push",
    "apply",
    "filename",
];

/// Where a device data set's fields were written, to check them against its model once
/// every model is read.
#[derive(Debug, Clone, Default)]
pub(super) struct CollectSpans {
    pub table: Range<usize>,
    pub model: Range<usize>,
    pub subject: String,
    /// Whether the data set named its file itself.
    pub filename: bool,
}

/// Reads a `collect` table. Credentials are only ever named, never written: a
/// `password` here is an error that says where it goes instead.
pub(super) fn collect(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> (Collect, CollectSpans) {
    let subject = t.subject.clone();
    if t.has("password") {
        r.error(
            t.span.clone(),
            Some(&subject),
            Some("password"),
            "a device's password never goes in reprise.toml: store it with `reprise secret set NAME` and write `password_secret = \"NAME\"`",
        );
    }
    let model = r.string(t, "model", true);
    let address = r.string(t, "address", true);
    let port = r.count(t, "port").and_then(|p| {
        let port = u16::try_from(p).ok().filter(|p| *p > 0);
        if port.is_none() {
            r.error(
                t.span.clone(),
                Some(&subject),
                Some("port"),
                "a port is a number from 1 to 65535",
            );
        }
        port
    });
    let host_key = r
        .parsed(t, "host_key", false, |v| match v {
            "strict" => Ok(HostKeyCheck::Strict),
            "accept-new" => Ok(HostKeyCheck::AcceptNew),
            other => Err(format!(
                "`{other}` is not a host key check (write `strict`, the default, or `accept-new`)"
            )),
        })
        .unwrap_or(HostKeyCheck::Strict);
    let watch = r.parsed(t, "watch", false, Interval::parse);
    let ignore = patterns(r, t, "ignore", &subject);
    let spans = CollectSpans {
        table: t.span.clone(),
        model: model.as_ref().map_or(t.span.clone(), |m| m.span.clone()),
        subject: subject.clone(),
        filename: false,
    };
    let collect = Collect {
        model: model.map(|m| m.value).unwrap_or_default(),
        address: address.map(|a| a.value).unwrap_or_default(),
        port,
        user: r.string(t, "user", false).map(|l| l.value),
        password_secret: r.string(t, "password_secret", false).map(|l| l.value),
        ssh_key: r.string(t, "ssh_key", false).map(|l| l.value),
        command: r.string(t, "command", false).map(|l| l.value),
        url: r.string(t, "url", false).map(|l| l.value),
        path: r.string(t, "path", false).map(|l| l.value),
        host_key,
        watch,
        ignore,
    };
    (collect, spans)
}

/// A list of regular expressions, each checked where it is written.
fn patterns(
    r: &mut Reader<'_>,
    t: &mut TableView<'_, '_>,
    key: &'static str,
    subject: &str,
) -> Vec<String> {
    r.strings(t, key)
        .into_iter()
        .filter_map(|p| match compile(&p.value) {
            Ok(_) => Some(p.value),
            Err(e) => {
                r.error(p.span, Some(subject), Some(key), e);
                None
            }
        })
        .collect()
}

/// Reads a `[[device_model]]`.
pub(super) fn model(r: &mut Reader<'_>, t: &mut TableView<'_, '_>) -> DeviceModel {
    let name = r.string(t, "name", true);
    if let Some(n) = &name {
        t.subject = format!("device model `{}`", n.value);
    }
    let subject = t.subject.clone();
    let transport = r
        .parsed(t, "transport", true, Transport::parse)
        .unwrap_or(Transport::Ssh);
    let commands: Vec<String> = r
        .strings(t, "commands")
        .into_iter()
        .map(|l| l.value)
        .collect();
    if transport == Transport::Ssh && commands.is_empty() {
        r.error(
            t.span.clone(),
            Some(&subject),
            Some("commands"),
            "an SSH model needs the `commands` that print the configuration",
        );
    }
    let method = r
        .parsed(t, "method", false, |v| {
            match v.to_ascii_uppercase().as_str() {
                m @ ("GET" | "POST") => Ok(m.to_string()),
                _ => Err(format!("`{v}` is not a method (write `GET` or `POST`)")),
            }
        })
        .unwrap_or_else(|| "GET".into());
    let expect = r
        .string(t, "expect", false)
        .and_then(|e| match compile(&e.value) {
            Ok(_) => Some(e.value),
            Err(message) => {
                r.error(e.span, Some(&subject), Some("expect"), message);
                None
            }
        });
    DeviceModel {
        name: name.map(|n| n.value).unwrap_or_default(),
        transport,
        commands,
        method,
        url: r.string(t, "url", false).map(|l| l.value),
        body: r.string(t, "body", false).map(|l| l.value),
        volatile: patterns(r, t, "volatile", &subject),
        secrets: patterns(r, t, "secrets", &subject),
        errors: patterns(r, t, "errors", &subject),
        expect,
        push: r.strings(t, "push").into_iter().map(|l| l.value).collect(),
        apply: r.string(t, "apply", false).map(|l| l.value),
        filename: r
            .string(t, "filename", false)
            .map_or_else(|| "config.txt".into(), |l| l.value),
    }
}

/// Checks every device data set against its model, once all models are read, and gives
/// each the model's file name unless it named one.
pub(super) fn resolve(
    r: &mut Reader<'_>,
    inventory: &mut Inventory,
    spans: &[Vec<Option<CollectSpans>>],
) {
    let models = inventory.clone();
    for (asset, asset_spans) in inventory.assets.iter_mut().zip(spans) {
        for (set, span) in asset.datasets.iter_mut().zip(asset_spans) {
            let (
                DataSource::Device {
                    collect, filename, ..
                },
                Some(span),
            ) = (&mut set.source, span)
            else {
                continue;
            };
            if collect.model.is_empty() {
                continue;
            }
            let Some(model) = models.device_model(&collect.model) else {
                let known: Vec<String> = reprise_domain::device::builtin_models()
                    .into_iter()
                    .chain(models.device_models.iter().cloned())
                    .map(|m| m.name)
                    .collect();
                r.error(
                    span.model.clone(),
                    Some(&span.subject),
                    Some("model"),
                    format!(
                        "unknown device model `{}` (known: {}; declare others in [[device_model]])",
                        collect.model,
                        known.join(", ")
                    ),
                );
                continue;
            };
            if !span.filename {
                *filename = model.filename.clone();
            }
            let missing = match model.transport {
                Transport::Ssh if model.commands.is_empty() && collect.command.is_none() => Some((
                    "command",
                    "the command that prints the configuration (`show running-config`)",
                )),
                Transport::Http if model.url.is_none() && collect.url.is_none() => {
                    Some(("url", "the URL of the configuration export"))
                }
                Transport::Sftp if collect.path.is_none() => {
                    Some(("path", "the remote file to fetch"))
                }
                _ => None,
            };
            if let Some((field, what)) = missing {
                r.error(
                    span.table.clone(),
                    Some(&span.subject),
                    Some(field),
                    format!("model `{}` needs `{field}`: {what}", model.name),
                );
            }
            if model.transport != Transport::Http && collect.user.is_none() {
                r.error(
                    span.table.clone(),
                    Some(&span.subject),
                    Some("user"),
                    format!("model `{}` connects over SSH and needs `user`", model.name),
                );
            }
            if model.transport != Transport::Http
                && collect.password_secret.is_none()
                && collect.ssh_key.is_none()
            {
                r.warning(
                    span.table.clone(),
                    Some(&span.subject),
                    Some("ssh_key"),
                    "neither `ssh_key` nor `password_secret`: the SSH agent or ~/.ssh keys of the user running Reprise will be tried",
                );
            }
        }
    }
}
