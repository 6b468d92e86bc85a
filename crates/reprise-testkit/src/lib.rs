//! Test support: a real PostgreSQL server for the catalog suite and the end-to-end tests,
//! a real S3-protocol server for object-storage repositories ([`s3`]), a real SSH server
//! for SFTP repositories ([`sftp`]) and a restic REST server ([`rest`]).
//!
//! [`postgres_database`] returns the URL of a fresh, empty database. The first call in a
//! test process starts one server for the whole process (from Debian's `postgresql`
//! binaries, as the `postgres` user when running as root, on a free loopback port, with
//! `fsync` off); the server stops by itself when the test process exits. When
//! `REPRISE_TEST_POSTGRES_URL` names an existing server (its maintenance database), that
//! server is used instead.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;

pub mod fuzz;
pub mod moto;
pub mod rest;
pub mod s3;
pub mod sftp;

/// `len` bytes that do not compress, the same on every call with the same `seed`:
/// file data that a backup must store whole (xorshift64).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

struct Server {
    /// URL of the maintenance database, without a trailing database name.
    base: String,
    _dir: Option<tempfile::TempDir>,
    /// The shell that runs the server; it exits with the test process.
    _process: Option<std::process::Child>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Creates an empty database on the test server and returns its URL.
pub async fn postgres_database() -> String {
    let server = SERVER.get_or_init(start_or_reuse);
    let name = format!(
        "reprise_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let admin = format!("{}/postgres", server.base);
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    format!("{}/{name}", server.base)
}

/// Same as [`postgres_database`], for synchronous tests (end-to-end tests of the binary).
pub fn postgres_database_blocking() -> String {
    // A thread of its own, so this works whether or not the caller is inside a runtime.
    std::thread::spawn(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime to create the test database")
            .block_on(postgres_database())
    })
    .join()
    .expect("creating a test database")
}

fn start_or_reuse() -> Server {
    if let Ok(url) = std::env::var("REPRISE_TEST_POSTGRES_URL") {
        let base = url
            .trim_end_matches('/')
            .rsplit_once('/')
            .map_or(url.clone(), |(b, _)| b.to_string());
        return Server {
            base,
            _dir: None,
            _process: None,
        };
    }
    let bin = find_bin_dir().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found: install Debian's `postgresql` package \
             (the CI script does) or set REPRISE_TEST_POSTGRES_URL"
        )
    });
    let dir = tempfile::Builder::new()
        .prefix("reprise-pg-")
        .tempdir()
        .expect("temporary directory for PostgreSQL");
    let data = dir.path().join("data");
    let as_root = is_root();
    if as_root {
        // PostgreSQL refuses to run as root: hand the directory to the `postgres` user.
        run(Command::new("chown").args(["postgres"]).arg(dir.path()));
        run(Command::new("chmod").args(["700"]).arg(dir.path()));
    }
    let port = free_port();
    let mut initdb = pg_command(as_root, &bin.join("initdb"));
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
    run(&mut initdb);
    // The server runs under a small shell that stops it once the test process is gone,
    // since a static server is never dropped.
    let script = format!(
        "'{postgres}' -D '{data}' -p {port} -k '{sock}' -c listen_addresses=127.0.0.1 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
         >'{log}' 2>&1 & pg=$!; \
         while [ -d /proc/{parent} ] && [ -d /proc/$pg ]; do sleep 0.5; done; \
         kill -INT $pg 2>/dev/null; wait $pg",
        postgres = bin.join("postgres").display(),
        data = data.display(),
        sock = dir.path().display(),
        log = dir.path().join("server.log").display(),
        parent = std::process::id(),
    );
    let mut sh = pg_command(as_root, Path::new("sh"));
    sh.args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let process = sh.spawn().expect("starting PostgreSQL");
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("PostgreSQL did not start on port {port}:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Accepting TCP is not yet accepting queries: wait for the start-up to finish.
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        if Instant::now() > deadline {
            panic!("PostgreSQL on port {port} does not accept connections");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Server {
        base: format!("postgres://postgres@127.0.0.1:{port}"),
        _dir: Some(dir),
        _process: Some(process),
    }
}

fn find_bin_dir() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_command(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command) {
    let out = command.output().expect("running a PostgreSQL tool");
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
