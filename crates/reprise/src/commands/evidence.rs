//! `reprise evidence --period Q`.

use std::path::PathBuf;

use reprise_oversight::evidence;

use super::Session;
use crate::cli::Global;
use crate::exit;
use crate::output::print_json;

pub async fn run(
    global: &Global,
    period: &str,
    out: Option<PathBuf>,
    json: bool,
) -> anyhow::Result<u8> {
    let session = Session::open(global).await?;
    let ctx = session.ctx();
    let period = match evidence::parse_period(period, &session.tz) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::USAGE);
        }
    };
    let out =
        out.unwrap_or_else(|| PathBuf::from(format!("reprise-evidence-{}.tar.gz", period.label)));
    let pack = evidence::build(&ctx, &period, &out).await?;
    if json {
        print_json(&pack)?;
        return Ok(exit::SUCCESS);
    }
    let text = evidence::summary_text(&pack, false, &session.tz);
    print!("{text}");
    println!(
        "\nWritten to {} (summary.en|fr.html and .pdf inside).",
        pack.path.display()
    );
    Ok(exit::SUCCESS)
}
