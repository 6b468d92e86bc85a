//! Devices as people watch them (`reprise devices`, the API, the web page): each one's
//! model, address, last read, last change, last backup, status, and how its
//! configuration goes back.

use jiff::Timestamp;
use reprise_catalog::DeviceRecord;
use reprise_domain::DataSource;
use reprise_domain::device::{self, Transport};
use reprise_ops::context::Ctx;
use reprise_ops::devices::{Device, all, records};
use reprise_ops::error::AppResult;
use serde::Serialize;

/// One device for `reprise devices`.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceView {
    pub asset: String,
    pub name: String,
    pub site: String,
    pub dataset: String,
    pub model: String,
    pub address: String,
    pub watch: Option<String>,
    pub checked: Option<Timestamp>,
    pub checks: u64,
    pub changed: Option<Timestamp>,
    pub backed_up: Option<Timestamp>,
    pub snapshot: Option<String>,
    /// `ok`, `failing`, or `never read`.
    pub status: &'static str,
    pub error: Option<String>,
    /// The last change seen, secrets masked.
    pub change: Option<String>,
    /// How its configuration goes back, for people.
    pub push: Vec<String>,
    pub can_apply: bool,
}

/// Every device data set with what was last seen of it, in inventory order.
pub async fn list(ctx: &Ctx<'_>) -> AppResult<Vec<DeviceView>> {
    let records = records(ctx).await?;
    Ok(all(ctx)
        .into_iter()
        .map(|d| {
            view(
                &d,
                records
                    .iter()
                    .find(|r| r.asset == d.asset.id.as_str() && r.dataset == d.set.name),
            )
        })
        .collect())
}

fn view(d: &Device<'_>, r: Option<&DeviceRecord>) -> DeviceView {
    let file = match &d.set.source {
        DataSource::Device { filename, .. } => filename.clone(),
        _ => String::new(),
    };
    DeviceView {
        asset: d.asset.id.to_string(),
        name: d.asset.name.clone(),
        site: d.asset.site.to_string(),
        dataset: d.set.name.clone(),
        model: d.model.name.clone(),
        address: d.collect.address.clone(),
        watch: d.collect.watch.map(|w| w.to_string()),
        checked: r.and_then(|r| r.checked),
        checks: r.map_or(0, |r| r.checks),
        changed: r.and_then(|r| r.changed),
        backed_up: r.and_then(|r| r.backed_up),
        snapshot: r.and_then(|r| r.snapshot.clone()),
        status: match r {
            None => "never read",
            Some(r) if r.error.is_some() => "failing",
            Some(r) if r.checked.is_none() => "never read",
            Some(_) => "ok",
        },
        error: r.and_then(|r| r.error.clone()),
        change: r.and_then(|r| r.change.clone()),
        push: device::push_steps(&d.model, d.collect, &file),
        can_apply: d.model.apply.is_some() && d.model.transport == Transport::Ssh,
    }
}
