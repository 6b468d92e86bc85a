//! `reprise`, the one binary: the command line today, the server (`reprise serve`) as it
//! lands. This crate parses arguments, picks the catalog implementation, calls one use
//! case per command and renders the result. No business rule and no SQL lives here.

mod catalog;
mod cli;
mod commands;
mod exit;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // One line for people; the full report with RUST_BACKTRACE set. Output cut short
    // by a closed pipe (`reprise plan | head`) is not an error: stop quietly.
    let default_hook = std::panic::take_hook();
    let verbose = std::env::var_os("RUST_BACKTRACE").is_some();
    std::panic::set_hook(Box::new(move |info| {
        let text = info.to_string();
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(exit::SUCCESS.into());
        }
        if verbose {
            default_hook(info);
        } else {
            eprintln!("reprise: internal error: {info}");
        }
    }));
    // Two TLS providers live in the build (one for the storage backends, one for mail
    // and webhooks): name the one to use, or building a TLS client would panic.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Under --json, errors are JSON on standard error too (`{"code","message"}`).
    let json = std::env::args_os().any(|a| a == "--json");
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if json && e.use_stderr() => {
            exit::report_usage_json(&e.to_string());
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            if json {
                exit::report_json(&err);
            } else {
                exit::report(&err);
            }
            ExitCode::from(exit::code_for(&err))
        }
    }
}
