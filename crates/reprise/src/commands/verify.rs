//! `reprise verify [ASSET…] [--read-data | --subset P | --rolling N]`.

use reprise_ops::verify::{self, Mode};

use super::Session;
use crate::cli::Global;
use crate::exit::{self, UsageError};
use crate::output::{local_time, print_json};

pub async fn run(
    global: &Global,
    assets: Vec<String>,
    read_data: bool,
    subset: Option<f64>,
    rolling: Option<u32>,
    json: bool,
) -> anyhow::Result<u8> {
    let mode = match (read_data, subset, rolling) {
        (true, _, _) => Mode::ReadAll,
        (_, Some(p), _) if p > 0.0 && p <= 100.0 => Mode::Subset(p),
        (_, Some(p), _) => {
            return Err(
                UsageError(format!("--subset {p}: give a percentage between 0 and 100")).into(),
            );
        }
        (_, _, Some(n)) if n >= 1 => Mode::Rolling { of: n },
        (_, _, Some(_)) => return Err(UsageError("--rolling needs at least 1 slice".into()).into()),
        _ => Mode::Structure,
    };
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let reports = verify::run(&ctx, &assets, mode).await?;
    let ok = reports.iter().all(|r| r.ok);
    if json {
        print_json(&reports)?;
    } else {
        for r in &reports {
            if r.ok {
                println!(
                    "ok      repository `{}` ({}){}",
                    r.repository,
                    r.mode,
                    if r.proven > 0 {
                        format!(": {} restore point(s) proven intact", r.proven)
                    } else {
                        String::new()
                    }
                );
            } else {
                println!("FAILED  repository `{}` ({})", r.repository, r.mode);
                for e in &r.errors {
                    println!("  {e}");
                }
                for a in &r.affected {
                    println!(
                        "  affected: {}/{} restore point {} of {}",
                        a.asset,
                        a.dataset,
                        &a.snapshot[..8],
                        local_time(a.time, &session.tz)
                    );
                }
            }
            for w in &r.warnings {
                println!("  warning: {w}");
            }
        }
    }
    Ok(if ok { exit::SUCCESS } else { exit::FAILURE })
}
