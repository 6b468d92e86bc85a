//! A real S3 server that enforces Object Lock, on loopback: moto's standalone server
//! (PyPI `moto[server]`), started per test and stopped when dropped. It keeps versions
//! and refuses to delete a locked one, as AWS does; it does not check signatures.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MotoServer {
    pub endpoint: String,
    process: Child,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl MotoServer {
    pub fn start() -> Self {
        let port = crate::free_port();
        let process = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs moto's server (PyPI `moto[server]`; .ci/run installs it)");
        let server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            process,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto's server did not start on port {port} (is `moto[server]` installed?)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// Creates a bucket with Object Lock enabled (or without, to test the refusal).
    pub fn bucket(&self, name: &str, object_lock: bool) {
        let lock = if object_lock { "True" } else { "False" };
        self.python(&format!(
            "s3.create_bucket(Bucket='{name}', ObjectLockEnabledForBucket={lock})"
        ));
    }

    /// Runs a Python snippet with `s3`, a boto3 client of this server (boto3 comes with
    /// moto), and returns what it printed; panics with its error when it fails.
    pub fn python(&self, code: &str) -> String {
        let script = format!(
            "import boto3, datetime\n\
             s3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='{}', \
             aws_secret_access_key='{}', region_name='us-east-1')\n{code}\n",
            self.endpoint,
            crate::s3::ACCESS_KEY,
            crate::s3::SECRET_KEY
        );
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
