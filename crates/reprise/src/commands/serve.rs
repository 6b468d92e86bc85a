//! `reprise serve [--listen ADDR]`.

use std::net::SocketAddr;
use std::time::Duration;

use reprise_domain::Interval;

use super::Session;
use crate::cli::Global;
use crate::exit::{self, UsageError};

pub async fn run(
    global: &Global,
    listen: &str,
    allow_remote: bool,
    tick: &str,
) -> anyhow::Result<u8> {
    let addr: SocketAddr = listen.parse().map_err(|_| {
        UsageError(format!(
            "--listen {listen}: expected an address such as 127.0.0.1:8080"
        ))
    })?;
    if !addr.ip().is_loopback() && !allow_remote {
        return Err(UsageError(format!(
            "refusing plain HTTP on {addr}: listen on loopback behind a TLS proxy, or pass --allow-remote-http"
        ))
        .into());
    }
    let tick = Interval::parse(tick).map_err(|e| UsageError(format!("--tick: {e}")))?;
    let session = Session::open(global).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let state = reprise_server::State::new(session.loaded, session.catalog);
    println!("listening on http://{bound}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    reprise_server::serve(
        listener,
        state,
        Duration::from_secs(tick.as_secs().max(1)),
        shutdown(),
    )
    .await?;
    eprintln!("stopped");
    Ok(exit::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
