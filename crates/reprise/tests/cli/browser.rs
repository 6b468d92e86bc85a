//! A small WebDriver client over HTTP, driving Debian's headless Chromium through
//! chromedriver (`.ci/run` installs both): enough to sign in, click, type, read and take
//! screenshots like a user.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::blocking::Client,
    session: String,
    driver: Child,
    base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(self.url("")).send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session in `lang`.
    pub fn start(lang: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver is installed (Debian package chromium-driver; .ci/run installs it)",
            );
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,1000",
                         format!("--lang={lang}")],
                "prefs": { "intl.accept_languages": lang }
            }
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_string();
        Browser {
            http,
            session,
            driver,
            base,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body) {
            Ok(v) => v,
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    /// A call, or the driver's error (a page that changed under a found element says
    /// `stale element reference`).
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let request = match method {
            "GET" => self.http.get(self.url(path)),
            _ => self
                .http
                .post(self.url(path))
                .json(&body.unwrap_or_else(|| json!({}))),
        };
        let answer: Value = request.send().unwrap().json().unwrap();
        if answer["value"].get("error").is_some() {
            return Err(answer["value"].clone());
        }
        Ok(answer["value"].clone())
    }

    /// The id of the first element matching `css` now, if any.
    fn element(&self, css: &str) -> Option<String> {
        let answer: Value = self
            .http
            .post(self.url("/element"))
            .json(&json!({ "using": "css selector", "value": css }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["value"][ELEMENT].as_str().map(str::to_string)
    }

    /// Reads from the element matching `css`, again while the page changes under it.
    fn read(&self, css: &str, what: &str) -> Option<Value> {
        for _ in 0..50 {
            let Some(id) = self.element(css) else {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            };
            match self.try_call("GET", &format!("/element/{id}/{what}"), None) {
                Ok(v) => return Some(v),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        None
    }

    pub fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        self.call("GET", "/url", None).as_str().unwrap().to_string()
    }

    /// The element matching `css`, waited for up to 30 seconds.
    pub fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(id) = self.element(css) {
                return id;
            }
            assert!(
                Instant::now() < deadline,
                "no `{css}` on {}:\n{}",
                self.current_url(),
                self.text("body")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn exists(&self, css: &str) -> bool {
        let answer: Value = self
            .http
            .post(self.url("/elements"))
            .json(&json!({ "using": "css selector", "value": css }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["value"].as_array().is_some_and(|a| !a.is_empty())
    }

    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), None);
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/clear"), None);
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        );
    }

    /// The visible text of the first element matching `css` (empty when none).
    pub fn text(&self, css: &str) -> String {
        self.read(css, "text")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.read(css, &format!("attribute/{name}"))
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// The value of a cookie of the current page's site.
    pub fn cookie(&self, name: &str) -> String {
        self.call("GET", &format!("/cookie/{name}"), None)["value"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits up to `limit` for `check`, reloading nothing: live pages update themselves.
    pub fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&Browser) -> bool) {
        let deadline = Instant::now() + limit;
        while !check(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on {}:\n{}",
                self.current_url(),
                self.text("body")
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let data = self.call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }
}
