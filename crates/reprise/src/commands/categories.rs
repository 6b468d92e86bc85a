//! `reprise categories`.

use reprise_ops::categories;

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::{Table, bytes, local_time, or_dash, print_json};

pub async fn run(global: &Global, json: bool) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let views = categories::list(&ctx).await?;
    if json {
        print_json(&views)?;
        return Ok(exit::SUCCESS);
    }
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!(
            "{}{}: kept at least {}, at most {}",
            v.name,
            v.description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default(),
            or_dash(v.min_retention),
            v.max_retention
                .map_or_else(|| "without limit".to_string(), |m| m.to_string()),
        );
        if v.datasets.is_empty() {
            println!("  no data set in this category");
            continue;
        }
        let mut table = Table::new(&[
            "  DATA SET",
            "POLICY",
            "KEPT FOR",
            "REPOSITORY",
            "POINTS",
            "SIZE",
            "OLDEST",
            "OLDEST KEPT UNTIL",
        ]);
        for d in &v.datasets {
            let name = format!("  {}/{}", d.asset, d.dataset);
            let kept = d
                .kept_for
                .map_or_else(|| "forever".to_string(), |k| k.to_string());
            if d.copies.is_empty() {
                table.row(vec![
                    name.clone(),
                    or_dash(d.policy.as_ref()),
                    kept.clone(),
                    "(no restore point)".into(),
                    "0".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
            for c in &d.copies {
                table.row(vec![
                    name.clone(),
                    or_dash(d.policy.as_ref()),
                    kept.clone(),
                    format!(
                        "{} ({}, {})",
                        c.repository,
                        c.medium.as_deref().unwrap_or("?"),
                        c.location.as_deref().unwrap_or("?")
                    ),
                    c.points.to_string(),
                    bytes(c.bytes),
                    local_time(c.oldest, &session.tz),
                    c.oldest_until
                        .map_or_else(|| "-".to_string(), |t| local_time(t, &session.tz)),
                ]);
            }
        }
        print!("{}", table.render());
    }
    Ok(exit::SUCCESS)
}
