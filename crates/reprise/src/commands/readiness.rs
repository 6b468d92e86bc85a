//! `reprise readiness [--site S] [--lang fr] [--json]` and `reprise readiness approve`.

use jiff::Timestamp;

use super::Session;
use crate::cli::{Global, Lang, ReadinessCommand};
use crate::exit;
use crate::output::{local_time, print_json};

pub async fn run(
    global: &Global,
    approve: Option<ReadinessCommand>,
    site: Option<String>,
    lang: Lang,
    json: bool,
) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    if let Some(ReadinessCommand::Approve { asset, by }) = approve {
        let a = reprise_recovery::readiness::approve(&ctx, &asset, &by, Timestamp::now()).await?;
        println!(
            "{}: RPO {} and RTO {} approved by {} on {}.",
            a.asset,
            a.rpo.as_deref().unwrap_or("-"),
            a.rto.as_deref().unwrap_or("-"),
            a.by,
            local_time(a.at, &session.tz)
        );
        return Ok(exit::SUCCESS);
    }
    let r = reprise_recovery::readiness::check(&ctx, site.as_deref(), Timestamp::now()).await?;
    if json {
        print_json(&r)?;
        return Ok(exit::SUCCESS);
    }
    let fr = lang == Lang::Fr;
    let l = |en: &'static str, f: &'static str| if fr { f } else { en };
    for s in &r.sites {
        println!(
            "{} {}: {} ({}/{} {})",
            l("Site", "Site"),
            s.site,
            if s.ready {
                l("READY", "PRÊT")
            } else {
                l("NOT READY", "PAS PRÊT")
            },
            s.assets_ready,
            s.assets,
            l("assets ready", "éléments prêts")
        );
    }
    for a in &r.assets {
        println!(
            "\n{} ({}) — {}",
            a.asset,
            a.name,
            if a.ready {
                l("ready", "prêt")
            } else {
                l("not ready", "pas prêt")
            }
        );
        for i in &a.items {
            let label = if fr { i.fr } else { i.en };
            match (&i.blocker, &i.blocker_fr) {
                (None, _) => println!("  [x] {label}"),
                (Some(en), Some(f)) => println!("  [ ] {label} — {}", if fr { f } else { en }),
                (Some(en), None) => println!("  [ ] {label} — {en}"),
            }
        }
    }
    Ok(exit::SUCCESS)
}
