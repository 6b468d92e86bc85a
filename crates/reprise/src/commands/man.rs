//! `reprise man [--out DIR]`: the man pages, rendered by clap_mangen from the command
//! line's own definitions, so that they never drift from `--help`.

use std::path::Path;

use clap::CommandFactory;

use crate::exit;

pub fn run(out: &Path) -> anyhow::Result<u8> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let command = crate::cli::Cli::command();
    let mut written = Vec::new();
    write_pages(&command, "reprise", out, &mut written)?;
    println!(
        "Wrote {} man pages into {} (read one with `man {}`).",
        written.len(),
        out.display(),
        out.join("reprise.1").display()
    );
    Ok(exit::SUCCESS)
}

/// The page of `command`, named `name`, then one per subcommand (`reprise-incident-open`).
fn write_pages(
    command: &clap::Command,
    name: &str,
    out: &Path,
    written: &mut Vec<String>,
) -> anyhow::Result<()> {
    // clap names commands with `&'static str`; a page's name lives as long as the run.
    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
    let command = command.clone().name(name);
    let mut page = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut page)?;
    let file = out.join(format!("{name}.1"));
    std::fs::write(&file, page)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
    written.push(name.to_string());
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(sub, &format!("{name}-{}", sub.get_name()), out, written)?;
    }
    Ok(())
}
