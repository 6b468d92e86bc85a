//! A real S3-protocol server on loopback (the `s3s-fs` implementation, storing objects as
//! files), started once per test process on a thread of its own.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

/// Credentials of the test server, to export as `AWS_ACCESS_KEY_ID` and
/// `AWS_SECRET_ACCESS_KEY`.
pub const ACCESS_KEY: &str = "reprise-test-access";
pub const SECRET_KEY: &str = "reprise-test-secret-key";

pub struct S3Server {
    pub endpoint: String,
    root: tempfile::TempDir,
}

static SERVER: OnceLock<S3Server> = OnceLock::new();
static BUCKETS: AtomicUsize = AtomicUsize::new(0);

fn start() -> S3Server {
    let root = tempfile::Builder::new()
        .prefix("reprise-s3-")
        .tempdir()
        .expect("a directory for the S3 server");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener
        .set_nonblocking(true)
        .expect("a non-blocking listener");
    let endpoint = format!("http://{}", listener.local_addr().expect("its address"));
    let dir = root.path().to_path_buf();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the S3 server");
        runtime.block_on(async move {
            let fs = s3s_fs::FileSystem::new(dir).expect("the S3 file system");
            let mut builder = S3ServiceBuilder::new(fs);
            builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            let service = builder.build();
            let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
            let http = ConnBuilder::new(TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let conn = http
                    .serve_connection(TokioIo::new(socket), service.clone())
                    .into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
        });
    });
    S3Server { endpoint, root }
}

/// A new, empty bucket on the test server, as a restic location (`s3:http://…/bucket`).
pub fn s3_bucket() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!(
        "bucket-{}-{}",
        std::process::id(),
        BUCKETS.fetch_add(1, Ordering::SeqCst)
    );
    std::fs::create_dir_all(server.root.path().join(&name)).expect("the bucket directory");
    format!("s3:{}/{name}", server.endpoint)
}

/// Where the test server keeps the objects of the bucket of `location`: one file per
/// object, at its key. Stock restic can open that directory as a local repository, which
/// proves that what went to S3 is in restic's layout and format.
pub fn bucket_dir(location: &str) -> std::path::PathBuf {
    let server = SERVER.get().expect("the S3 server is running");
    let bucket = location.rsplit('/').next().expect("a bucket name");
    server.root.path().join(bucket)
}
