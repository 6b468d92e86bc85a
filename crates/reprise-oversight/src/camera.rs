//! A network camera played on loopback, for the demo (and the tests that drive it): it
//! serves its configuration export at `/cgi-bin/config.cgi` behind HTTP digest
//! authentication (RFC 7616, MD5, `qop=auth`), as IP cameras and recorders do, and a
//! login page at `/login.html`. The export is read from a file at each request, so that
//! changing the file changes the camera. Needs no root and no network.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use md5::Digest;

const REALM: &str = "IP Camera";

/// A running camera; stopped when dropped.
pub struct Camera {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Camera {
    /// Starts a camera on a free loopback port, serving `config` to `user`/`password`.
    pub fn start(config: PathBuf, user: &str, password: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (user, password) = (user.to_string(), password.to_string());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(s) = stream {
                    let _ = answer(s, &config, &user, &password);
                }
            }
        });
        Ok(Self {
            port,
            stop,
            thread: Some(thread),
        })
    }

    /// The camera's base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn hex_md5(text: &str) -> String {
    md5::Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn answer(stream: TcpStream, config: &PathBuf, user: &str, password: &str) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut authorization = None;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "authorization" => authorization = Some(value),
                "content-length" => length = value.parse().unwrap_or(0),
                _ => {}
            }
        }
    }
    if length > 0 {
        let mut body = vec![0; length.min(1 << 16)];
        std::io::Read::read_exact(&mut reader, &mut body)?;
    }
    let mut parts = request.split_whitespace();
    let (method, uri) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut out = stream;
    if uri.starts_with("/login") {
        return respond(
            &mut out,
            "200 OK",
            "text/html",
            b"<!DOCTYPE html><html><body><form>Login</form></body></html>",
            None,
        );
    }
    if !uri.starts_with("/cgi-bin/config.cgi") {
        return respond(
            &mut out,
            "404 Not Found",
            "text/plain",
            b"not found\n",
            None,
        );
    }
    let granted = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Digest "))
        .is_some_and(|a| digest_holds(a, method, user, password));
    if !granted {
        let mut nonce = [0u8; 12];
        let _ = getrandom::fill(&mut nonce);
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let challenge =
            format!("Digest realm=\"{REALM}\", qop=\"auth\", nonce=\"{nonce}\", algorithm=MD5");
        return respond(
            &mut out,
            "401 Unauthorized",
            "text/plain",
            b"unauthorized\n",
            Some(&challenge),
        );
    }
    let body = std::fs::read(config).unwrap_or_default();
    respond(&mut out, "200 OK", "application/octet-stream", &body, None)
}

fn digest_holds(header: &str, method: &str, user: &str, password: &str) -> bool {
    let field = |name: &str| {
        header.split(',').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim() == name).then(|| v.trim().trim_matches('"').to_string())
        })
    };
    let (Some(username), Some(nonce), Some(uri), Some(response)) = (
        field("username"),
        field("nonce"),
        field("uri"),
        field("response"),
    ) else {
        return false;
    };
    if username != user {
        return false;
    }
    let ha1 = hex_md5(&format!("{user}:{REALM}:{password}"));
    let ha2 = hex_md5(&format!("{method}:{uri}"));
    let expected = match (field("qop"), field("nc"), field("cnonce")) {
        (Some(qop), Some(nc), Some(cnonce)) => {
            hex_md5(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
        }
        _ => hex_md5(&format!("{ha1}:{nonce}:{ha2}")),
    };
    expected == response
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    kind: &str,
    body: &[u8],
    challenge: Option<&str>,
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(c) = challenge {
        head.push_str(&format!("WWW-Authenticate: {c}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}
