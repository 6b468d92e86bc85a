//! A real SSH server on loopback for SFTP repositories: Debian's OpenSSH `sshd`, with a
//! host key and a client key made for the test, started per test and stopped when dropped.
//! It lets in the user running the tests, by key only.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SshServer {
    pub port: u16,
    /// The user the server lets in (the one running the tests).
    pub user: String,
    /// The private key it accepts.
    pub key: PathBuf,
    /// Its public host key, to check fingerprints against.
    pub host_key: PathBuf,
    process: Child,
    _dir: tempfile::TempDir,
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen is installed (Debian package `openssh-client`; .ci/run installs it)");
    assert!(status.success(), "ssh-keygen failed");
}

impl SshServer {
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// A server with more `sshd_config` lines (`ForceCommand /path/fake-router.sh`, to
    /// play a device's command line).
    pub fn start_with(extra: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("reprise-sshd-")
            .tempdir()
            .expect("a directory for the SSH server");
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys"))
            .expect("the authorized keys");
        let user = String::from_utf8(Command::new("id").arg("-un").output().expect("id").stdout)
            .expect("a user name")
            .trim()
            .to_string();
        // Run as root, sshd wants its privilege separation directory.
        if user == "root" {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let port = crate::free_port();
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
                 StrictModes no\nPermitRootLogin prohibit-password\nPidFile {pid}\n\
                 Subsystem sftp internal-sftp\n{extra}\n",
                host = d.join("host_key").display(),
                keys = d.join("authorized_keys").display(),
                pid = d.join("sshd.pid").display(),
            ),
        )
        .expect("the sshd configuration");
        let process = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd is installed (Debian package `openssh-server`; .ci/run installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not start on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            user,
            key: d.join("client_key"),
            host_key: d.join("host_key.pub"),
            process,
            _dir: dir,
        }
    }

    /// A restic SFTP location for `path` (absolute) on this server.
    pub fn location(&self, path: &Path) -> String {
        format!(
            "sftp://{}@127.0.0.1:{}/{}",
            self.user,
            self.port,
            path.display()
        )
    }
}
