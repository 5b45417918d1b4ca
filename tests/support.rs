//! Black-box support: run the real `vaccount` binary on a temporary data dir, on a free port,
//! and talk to it over HTTP with signed requests. Every `serve` writes its log (stderr) to a
//! file under `target/test-logs/serve/`, which scripts/check_logs_pii.py searches for the
//! personal data of tests/pii.txt after the run.

#![allow(dead_code)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn vaccount_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vaccount"))
}

/// Runs a setup command on `data_dir` and returns its JSON output.
pub fn setup(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = Command::new(vaccount_bin()).arg("--data-dir").arg(data_dir).args(args).output().expect("run vaccount");
    assert!(output.status.success(), "vaccount {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("setup commands print JSON")
}

pub struct Credentials {
    pub merchant_id: String,
    pub key_id: String,
    pub secret: String,
}

pub fn create_merchant(data_dir: &Path, name: &str) -> Credentials {
    let out = setup(data_dir, &["merchant", "create", "--name", name, "--fee-per-deposit", "300"]);
    Credentials {
        merchant_id: out["merchant_id"].as_str().unwrap().into(),
        key_id: out["key_id"].as_str().unwrap().into(),
        secret: out["secret"].as_str().unwrap().into(),
    }
}

/// The personal data the suites send, from tests/pii.txt: the one list that scripts/check_logs_pii.py
/// also reads, so a value used here is a value the log check looks for.
pub struct Pii {
    pub customer_name: &'static str,
    pub customer_phone: &'static str,
    pub customer_email: &'static str,
    pub depositor_name: &'static str,
    pub other_depositor_name: &'static str,
    pub refund_account: &'static str,
}

pub const PII_LIST: &str = include_str!("pii.txt");

pub fn pii() -> Pii {
    let value = |key: &str| {
        PII_LIST
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .find_map(|line| line.split_once(char::is_whitespace).filter(|(k, _)| *k == key).map(|(_, v)| v.trim()))
            .unwrap_or_else(|| panic!("tests/pii.txt has no `{key}`"))
    };
    Pii {
        customer_name: value("customer_name"),
        customer_phone: value("customer_phone"),
        customer_email: value("customer_email"),
        depositor_name: value("depositor_name"),
        other_depositor_name: value("other_depositor_name"),
        refund_account: value("refund_account"),
    }
}

/// `target/test-logs/serve/`: where every `serve` of the black-box suites writes its log.
pub fn serve_log_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target dir holds tmp/").join("test-logs").join("serve")
}

/// A new log file for one `serve`: `<suite>.<test>.<pid>-<n>.log`, unique within the run (nextest
/// runs each test in its own process, `cargo test` runs them on threads named after them).
fn new_serve_log() -> PathBuf {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let dir = serve_log_dir();
    std::fs::create_dir_all(&dir).expect("create target/test-logs/serve");
    let thread = std::thread::current();
    let test: String = thread.name().unwrap_or("unnamed").chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{}.{test}.{}-{n}.log", env!("CARGO_CRATE_NAME"), std::process::id()))
}

/// The demo merchant's credentials and the demo provider's secret, from the `demo.json` that
/// `serve --demo` writes into its data dir.
pub fn demo(data_dir: &Path) -> (Credentials, String) {
    let demo: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data_dir.join("demo.json")).expect("demo.json")).expect("demo JSON");
    let creds = Credentials {
        merchant_id: demo["merchant_id"].as_str().unwrap().into(),
        key_id: demo["key_id"].as_str().unwrap().into(),
        secret: demo["secret"].as_str().unwrap().into(),
    };
    (creds, demo["provider_secret"].as_str().unwrap().into())
}

/// A running `vaccount serve`, stopped (SIGTERM, then kill) on drop.
pub struct Server {
    child: Child,
    pub url: String,
    /// Its log: every line it wrote to stderr. (Its stdout holds the address and the demo's
    /// banner with sample requests, not log lines.)
    pub log: PathBuf,
    /// What serve printed before its address (`--demo`'s banner).
    pub banner: String,
}

impl Server {
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_with_env(data_dir, extra, &[])
    }

    /// Logs at `info`, what `serve` does by default; `env` may set another `VACCOUNT_LOG`.
    pub fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let log = new_serve_log();
        let mut child = Command::new(vaccount_bin())
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .env("VACCOUNT_LOG", "info")
            // Plain text in the file, no terminal colours.
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).expect("create the serve log"))
            .spawn()
            .expect("spawn vaccount serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = String::new();
        let url = loop {
            let Some(line) = lines.next().and_then(Result::ok) else {
                panic!("serve exited before printing its address:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
            };
            if let Some(rest) = line.strip_prefix("vaccount listening on ") {
                break rest.split_whitespace().next().expect("url").to_owned();
            }
            banner.push_str(&line);
            banner.push('\n');
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, url, log, banner }
    }
}

impl Server {
    /// SIGTERM, then waits up to `within` for the process to exit; its exit status, or `None`
    /// if it was still running then (it is killed on drop).
    pub fn terminate(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let until = std::time::Instant::now() + within;
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }

    /// SIGKILL: no shutdown, no flush; what survives is what was durably committed.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("vaccount serve log: {}", self.log.display());
        }
        // Already stopped (`terminate`): there is nobody left to signal.
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

pub struct Response {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
}

/// A merchant API client that signs each request as docs/openapi.yaml says.
pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
    pub key_id: String,
    pub secret: String,
}

impl Client {
    pub fn new(server: &Server, creds: &Credentials) -> Client {
        Client { http: reqwest::Client::new(), url: server.url.clone(), key_id: creds.key_id.clone(), secret: creds.secret.clone() }
    }

    pub async fn send(&self, method: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> Response {
        let signature = vaccount::testing::sign(&self.secret, now(), method, path, body.as_bytes());
        let mut all =
            vec![("X-VA-Key-Id".to_owned(), self.key_id.clone()), ("X-VA-Timestamp".to_owned(), now().to_string()), ("X-VA-Signature".to_owned(), signature)];
        if !body.is_empty() {
            all.push(("Content-Type".into(), "application/json".into()));
        }
        // Explicit headers replace the defaults of the same name.
        for (name, value) in headers {
            all.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            all.push(((*name).to_owned(), (*value).to_owned()));
        }
        self.raw(method, path, body, &all).await
    }

    pub async fn raw(&self, method: &str, path: &str, body: &str, headers: &[(String, String)]) -> Response {
        let mut request = self.http.request(method.parse().unwrap(), format!("{}{}", self.url, path)).body(body.to_owned());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Response { status, headers, json }
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Response {
        self.send("POST", path, &body.to_string(), &[]).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send("GET", path, "", &[]).await
    }
}

/// An operator logged in to a running server's admin API: the session cookie and CSRF token.
pub struct AdminSession {
    pub name: String,
    pub cookie: String,
    pub csrf: String,
    pub secret: Vec<u8>,
}

/// `vaccount admin create-user` on a data dir no server holds: the enrolment token.
pub fn create_operator(data_dir: &Path, name: &str, role: &str) -> String {
    let created = setup(data_dir, &["admin", "create-user", "--name", name, "--role", role]);
    created["enrolment_token"].as_str().expect("enrolment_token").to_owned()
}

/// The TOTP code of `secret` now (`steps_ahead` 30 s steps later).
pub fn totp_now(secret: &[u8], steps_ahead: u64) -> String {
    let step = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() / 30 + steps_ahead;
    vaccount::domain::operator::totp_code(secret, step)
}

/// Enrols an operator created with [`create_operator`] through the admin API and logs in.
pub async fn enrol_and_log_in(url: &str, name: &str, token: &str) -> AdminSession {
    let http = reqwest::Client::new();
    let password = vaccount::testing::OPERATOR_PASSWORD;
    let enrolment: serde_json::Value = http
        .post(format!("{url}/admin/v1/enrolment"))
        .json(&serde_json::json!({"token": token, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = base32_decode(enrolment["totp_secret"].as_str().expect("totp_secret"));
    let code = totp_now(&secret, 0);
    let confirmed = http.post(format!("{url}/admin/v1/enrolment/confirm")).json(&serde_json::json!({"token": token, "code": code})).send().await.unwrap();
    assert_eq!(confirmed.status(), 204, "confirm enrolment");
    let login = http.post(format!("{url}/admin/v1/session")).json(&serde_json::json!({"name": name, "password": password, "code": code})).send().await.unwrap();
    assert_eq!(login.status(), 200, "log in");
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let body: serde_json::Value = login.json().await.unwrap();
    AdminSession { name: name.to_owned(), cookie, csrf: body["csrf_token"].as_str().unwrap().to_owned(), secret }
}

/// RFC 4648 base32 without padding (the TOTP secret's alphabet).
pub fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        value = (value << 5) | ALPHABET.iter().position(|a| *a == c).expect("base32") as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
        }
    }
    out
}

impl AdminSession {
    /// A request to the admin API with the session's cookie and CSRF token.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new().request(method, url).header("cookie", &self.cookie).header("x-csrf-token", &self.csrf)
    }
}
