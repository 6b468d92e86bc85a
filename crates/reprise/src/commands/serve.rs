//! `reprise serve [--listen ADDR]`.

use std::net::SocketAddr;
use std::time::Duration;

use reprise_domain::Interval;

use super::Session;
use crate::cli::{Global, LogFormat};
use crate::exit::{self, UsageError};

/// Structured logs on standard error: text for people, JSON for log collectors. The
/// filter comes from REPRISE_LOG (`info` by default).
fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REPRISE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn run(
    global: &Global,
    listen: Option<String>,
    allow_remote: bool,
    log_format: LogFormat,
    tick: &str,
) -> anyhow::Result<u8> {
    init_logs(log_format);
    let session = Session::open_as(global, "reprise-server").await?;
    let listen = listen
        .or_else(|| session.loaded.config.server.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
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
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let state = reprise_server::State::new(session.loaded, session.catalog);
    tracing::info!(address = %bound, "listening");
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
    tracing::info!("stopped");
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
