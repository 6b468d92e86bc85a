//! `reprise serve [--listen ADDR]`.

use std::net::SocketAddr;
use std::path::PathBuf;
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

/// How `reprise serve` was asked to run.
pub struct Options {
    pub listen: Option<String>,
    pub allow_remote_http: bool,
    /// Certificate chain and private key, both PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub log_format: LogFormat,
    pub tick: String,
}

pub async fn run(global: &Global, options: Options) -> anyhow::Result<u8> {
    init_logs(options.log_format);
    let session = Session::open_as(global, "reprise-server").await?;
    let server = &session.loaded.config.server;
    let listen = options
        .listen
        .or_else(|| server.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let addr: SocketAddr = listen.parse().map_err(|_| {
        UsageError(format!(
            "--listen {listen}: expected an address such as 127.0.0.1:8080"
        ))
    })?;
    let ws = &session.loaded.workspace;
    let tls = options.tls.or_else(|| {
        server
            .tls_cert
            .as_ref()
            .zip(server.tls_key.as_ref())
            .map(|(c, k)| (ws.resolve(c), ws.resolve(k)))
    });
    let tls = match tls {
        Some((cert, key)) => Some(reprise_server::tls::config(&cert, &key).map_err(UsageError)?),
        None => None,
    };
    if tls.is_none() && !addr.ip().is_loopback() && !options.allow_remote_http {
        return Err(UsageError(format!(
            "refusing plain HTTP on {addr}: give a certificate (--tls-cert, --tls-key or [server] tls_cert, tls_key), listen on loopback behind a TLS proxy, or pass --allow-remote-http"
        ))
        .into());
    }
    let tick = Interval::parse(&options.tick).map_err(|e| UsageError(format!("--tick: {e}")))?;
    let tick = Duration::from_secs(tick.as_secs().max(1));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let state = reprise_server::State::new(session.loaded, session.catalog);
    state
        .tls
        .store(tls.is_some(), std::sync::atomic::Ordering::Relaxed);
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %bound, scheme, "listening");
    println!("listening on {scheme}://{bound}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    match tls {
        Some(config) => {
            let listener = reprise_server::tls::TlsListener::new(listener, config)?;
            reprise_server::serve(listener, state, tick, shutdown()).await?;
        }
        None => reprise_server::serve(listener, state, tick, shutdown()).await?,
    }
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
