//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `reprise` binary, run in `dir`, with no workspace or catalog inherited from the
/// environment of the test run.
pub fn reprise(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("reprise").expect("the reprise binary is built");
    cmd.current_dir(dir)
        .env_remove("REPRISE_WORKSPACE")
        .env_remove("REPRISE_CATALOG")
        .env("TZ", "UTC");
    cmd
}

/// A directory on another filesystem than the test workspaces (`/dev/shm`, a tmpfs), for
/// a repository that must not count as the same disk in the 3-2-1 rule.
pub fn other_filesystem() -> tempfile::TempDir {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir_in("/dev/shm").expect("/dev/shm, a tmpfs, as a second filesystem");
    let dev = |p: &Path| std::fs::metadata(p).unwrap().dev();
    assert_ne!(
        dev(dir.path()),
        dev(&std::env::temp_dir()),
        "/dev/shm must be another filesystem than the temporary directory"
    );
    dir
}

/// A fresh workspace created by `reprise init`, in a temporary directory.
pub struct TestWorkspace {
    pub dir: tempfile::TempDir,
}

impl TestWorkspace {
    pub fn init() -> Self {
        let dir = tempfile::tempdir().unwrap();
        reprise(dir.path()).arg("init").assert().success();
        Self { dir }
    }

    pub fn demo() -> Self {
        let dir = tempfile::tempdir().unwrap();
        reprise(dir.path()).args(["demo", "."]).assert().success();
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("reprise.toml")
    }

    pub fn config(&self) -> String {
        std::fs::read_to_string(self.config_path()).unwrap()
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn cmd(&self) -> Command {
        reprise(self.path())
    }

    /// Runs `args` and parses standard output as JSON, asserting success.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Stock restic, pointed at the workspace's default repository by `reprise repo env`.
pub fn restic(ws: &TestWorkspace, args: &[&str]) -> std::process::Output {
    restic_in(ws, None, args)
}

/// Stock restic, pointed at repository `repo` (the default one when `None`).
pub fn restic_in(ws: &TestWorkspace, repo: Option<&str>, args: &[&str]) -> std::process::Output {
    let env = ws.cmd().args(["repo", "env"]).args(repo).output().unwrap();
    assert!(
        env.status.success(),
        "{}",
        String::from_utf8_lossy(&env.stderr)
    );
    let mut cmd = std::process::Command::new("restic");
    for line in String::from_utf8(env.stdout).unwrap().lines() {
        if let Some(assignment) = line.strip_prefix("export ") {
            let (key, value) = assignment.split_once('=').unwrap();
            cmd.env(key, value.trim_matches('\''));
        }
    }
    cmd.args(args)
        .current_dir(ws.path())
        .env("RESTIC_CACHE_DIR", ws.path().join(".restic-cache"))
        .output()
        .expect("stock restic is installed (Debian package `restic`; .ci/run installs it)")
}

/// The id of the snapshot `restic backup --json` made, from its summary line.
pub fn restic_snapshot_id(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["message_type"] == "summary")
        .expect("restic's summary")["snapshot_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The 1-based line of the first line of `text` containing `needle`.
pub fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + 1
}

/// A minimal valid configuration: one site, one repository, a daily policy.
pub const BASE: &str = r#"[workspace]
name = "Test"
default_policy = "daily"

[[site]]
id = "hq"
name = "HQ"

[[repository]]
id = "local"
path = "repository"
password_file = ".reprise/keys/local.key"

[[policy]]
id = "daily"
schedule = "daily at 02:00"
repository = "local"
"#;

/// An asset block with the given extra lines.
pub fn asset(id: &str, extra: &str) -> String {
    format!(
        "\n[[asset]]\nid = \"{id}\"\nname = \"{id} name\"\nsite = \"hq\"\ncategory = \"server\"\ncriticality = \"major\"\n{extra}\n"
    )
}

/// Writes `count` files of 4 MiB of incompressible, reproducible bytes into `dir`: enough
/// for a backup to take a while, so that it can be interrupted mid-way.
pub fn incompressible_files(dir: &Path, count: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for i in 0..count {
        let bytes = reprise_testkit::noise(4 << 20, 0x2545_f491_4f6c_dd1d + i as u64);
        std::fs::write(dir.join(format!("file-{i}.bin")), bytes).unwrap();
    }
}

/// How many pack files the workspace's local repository holds.
pub fn pack_count(ws: &TestWorkspace) -> usize {
    std::fs::read_dir(ws.path().join("repository/data"))
        .map(|d| {
            d.flat_map(|s| std::fs::read_dir(s.unwrap().path()).unwrap())
                .count()
        })
        .unwrap_or(0)
}

/// A real SMTP server on loopback (Python's aiosmtpd, from Debian's `python3-aiosmtpd`)
/// that stores every message it receives in a Maildir.
pub struct SmtpSink {
    child: std::process::Child,
    pub port: u16,
    pub maildir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the server; with `tls`, a certificate and key for STARTTLS.
    pub fn start(tls: Option<(&Path, &Path)>) -> Self {
        let maildir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = std::process::Command::new("/usr/bin/python3");
        cmd.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        if let Some((cert, key)) = tls {
            cmd.arg("--tlscert").arg(cert).arg("--tlskey").arg(key);
        }
        cmd.args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = cmd
            .spawn()
            .expect("aiosmtpd (Debian's python3-aiosmtpd; .ci/run installs it)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the SMTP sink did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Self {
            child,
            port,
            maildir,
        }
    }

    /// Every message received so far, raw, each followed by how a person reads it
    /// ([`mail_text`]: the subject and text decoded).
    pub fn read(&self) -> Vec<String> {
        self.messages()
            .iter()
            .map(|m| format!("{m}\n----- read -----\n{}", mail_text(m)))
            .collect()
    }

    /// Every message received so far, as raw text.
    pub fn messages(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.path().join("mail/new"))
            .map(|d| {
                d.flatten()
                    .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file below `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// A private certificate authority (`ca.pem`) and a certificate for `localhost` that it
/// (and `127.0.0.1`) signed (`cert.pem`, `key.pem`), made with the openssl command.
pub fn private_ca(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "cert.pem",
    ]);
    (dir.join("cert.pem"), dir.join("key.pem"))
}

/// Runs `statement` on a catalog: a PostgreSQL URL, or an SQLite file's path. What
/// another process sharing the catalog, or someone editing it, would leave there.
pub fn sql(url: &str, statement: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await
                .unwrap();
        } else {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{url}"))
                .await
                .unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                .execute(&pool)
                .await
                .unwrap();
        }
    });
}

/// A received mail as a person reads it: `Subject: …` (decoded), its headers' names, then
/// the text part decoded (quoted-printable or base64), by Python's `email` package.
pub fn mail_text(raw: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("/usr/bin/python3")
        .args([
            "-c",
            "import email,email.policy,sys\n\
             m=email.message_from_string(sys.stdin.read(), policy=email.policy.default)\n\
             print('Subject: ' + str(m['subject']))\n\
             print('Headers: ' + ' '.join(m.keys()))\n\
             print('Content-Type: ' + m.get_content_type())\n\
             b=m.get_body(preferencelist=('plain',))\n\
             print()\n\
             print(b.get_content() if b else '')",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(raw.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python could not read the mail:\n{raw}"
    );
    String::from_utf8(out.stdout).unwrap()
}
