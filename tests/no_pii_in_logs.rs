//! Black-box: no personal data in the log of `serve`, at its most verbose (`VACCOUNT_LOG=trace`).
//! One server takes every path that carries a customer's or depositor's data: issuing with the
//! customer's name, phone and email, deposits with the depositor's name, a name mismatch held
//! as an exception and refunded to an account with maker-checker, a deposit to an unknown
//! number, an expiry, the customer notices of all of these, webhooks carrying them to a
//! merchant, and requests refused with personal data in their body and query. Then
//! scripts/check_logs_pii.py, the same check scripts/test.sh runs over every suite's logs, must
//! find none of tests/pii.txt in the captured log.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{Client, Server, pii, setup};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use vaccount::testing::{repo_root as root, venv_python as python};

/// The operator's side, on the admin API (cookie session + CSRF). Both operators have `pii`:
/// they see the names they act on, and the log must still show none.
struct Operator {
    session: support::AdminSession,
    url: String,
}

impl Operator {
    /// Creates an operator on the data dir of a stopped server; their enrolment token.
    fn add(dir: &Path, name: &str) -> String {
        setup(dir, &["admin", "create-user", "--name", name, "--role", "admin", "--pii"])["enrolment_token"].as_str().expect("enrolment token").to_owned()
    }

    async fn at(server: &Server, name: &str, token: &str) -> Operator {
        Operator { session: support::enrol_and_log_in(&server.url, name, token).await, url: server.url.clone() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.session.request(method, &format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("operator request");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    async fn open_exceptions(&self, owner: &str) -> Vec<Value> {
        let (status, page) = self.call(reqwest::Method::GET, &format!("/admin/v1/exceptions?merchant_id={owner}&state=open"), None).await;
        assert_eq!(status, 200, "{page}");
        page["data"].as_array().expect("a list").clone()
    }

    async fn refund(&self, exception: &str, bank: &str, account: &str, holder: &str) -> Value {
        let body = json!({"refund": {"bank_code": bank, "account_number": account, "holder": holder}});
        let (status, case) = self.call(reqwest::Method::POST, &format!("/admin/v1/exceptions/{exception}/resolve"), Some(body)).await;
        assert_eq!(status, 200, "{case}");
        case
    }

    async fn approve(&self, exception: &str) -> Value {
        let (status, case) = self.call(reqwest::Method::POST, &format!("/admin/v1/exceptions/{exception}/approve"), Some(json!({}))).await;
        assert_eq!(status, 200, "{case}");
        case
    }
}

/// A deposit notice from the `bank` provider; its JSON answer.
async fn notify(server: &Server, secret: &str, tx: &str, account_number: &str, amount: i64, depositor: &str) -> Value {
    let body = json!({
        "type": "deposit", "transaction_id": tx, "bank_code": "004", "account_number": account_number,
        "amount": amount, "depositor_name": depositor,
        "occurred_at": vaccount::domain::time::to_kst_string(chrono::Utc::now()),
    })
    .to_string();
    let response = reqwest::Client::new()
        .post(format!("{}/v1/providers/bank/notifications", server.url))
        .header("Content-Type", "application/json")
        .header("X-Provider-Signature", vaccount::providers::generic::sign(secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .expect("deposit notice");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("notice answer")
}

/// A merchant's webhook receiver that answers 200 to everything: the deliveries carry the
/// customer's data out through the server's HTTP client, whose trace lines are in the log.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buffer = [0u8; 8192];
                // One request a connection: read until the body the headers announce is in.
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&seen);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                            .unwrap_or(0);
                        if seen.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            });
        }
    });
    url
}

/// Waits until `done` holds, asking `probe` every 100 ms.
async fn eventually<T>(what: &str, within: Duration, mut probe: impl AsyncFnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let until = std::time::Instant::now() + within;
    loop {
        let seen = probe().await;
        if done(&seen) {
            return seen;
        }
        assert!(std::time::Instant::now() < until, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `text` as a query value: every byte but letters and digits as `%XX`.
fn percent_encoded(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") }).collect()
}

/// scripts/check_logs_pii.py on `paths`: its exit code and what it printed.
fn check_logs(paths: &[&Path]) -> (Option<i32>, String) {
    let out = Command::new(python()).arg(root().join("scripts/check_logs_pii.py")).args(paths).output().expect("run check_logs_pii.py");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_personal_data_path_leaves_the_trace_log_clean() {
    let pii = pii();
    let dir = tempfile::tempdir().unwrap();
    let merchant = {
        let out = setup(dir.path(), &["merchant", "create", "--name", "PII Mall", "--fee-per-deposit", "300", "--name-mismatch", "hold", "--require-approval"]);
        support::Credentials {
            merchant_id: out["merchant_id"].as_str().unwrap().into(),
            key_id: out["key_id"].as_str().unwrap().into(),
            secret: out["secret"].as_str().unwrap().into(),
        }
    };
    let provider_secret = setup(dir.path(), &["provider", "add", "--id", "bank", "--kind", "generic"])["secret"].as_str().unwrap().to_owned();
    setup(dir.path(), &["pool", "add", "--provider", "bank", "--bank", "004", "--first", "12345600000000", "--count", "10"]);
    let (maker, checker) = (Operator::add(dir.path(), "ops-maker"), Operator::add(dir.path(), "ops-checker"));
    let env = [("VACCOUNT_LOG", "trace"), ("VACCOUNT_ALLOW_PRIVATE_WEBHOOKS", "true"), ("VACCOUNT_EXPIRY_SWEEP_INTERVAL", "300ms")];
    let mut server = Server::start_with_env(dir.path(), &[], &env);
    let client = Client::new(&server, &merchant);
    let (maker, checker) = (Operator::at(&server, "ops-maker", &maker).await, Operator::at(&server, "ops-checker", &checker).await);

    let hooks = client.post("/v1/webhook-endpoints", &json!({"url": receiver().await})).await;
    assert_eq!(hooks.status, 201, "{}", hooks.json);
    let customer = json!({"name": pii.customer_name, "phone": pii.customer_phone, "email": pii.customer_email});
    let issue = async |order: &str, due_in: Option<i64>| {
        let mut body = json!({"order_id": order, "amount": 35000, "bank_code": "004", "depositor_name": pii.depositor_name, "customer": customer});
        if let Some(seconds) = due_in {
            body["due_at"] = json!((chrono::Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339());
        }
        let r = client.post("/v1/virtual-accounts", &body).await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json
    };

    // Paid by the expected depositor: issued and paid notices to the customer.
    let paid = issue("PII-PAID", None).await;
    let answer = notify(&server, &provider_secret, "PII-T1", paid["account_number"].as_str().unwrap(), 35000, pii.depositor_name).await;
    assert_eq!(answer["status"], "matched", "{answer}");

    // Paid by someone else: held as a name mismatch, refunded to them with maker-checker.
    let held = issue("PII-HELD", None).await;
    let answer = notify(&server, &provider_secret, "PII-T2", held["account_number"].as_str().unwrap(), 35000, pii.other_depositor_name).await;
    assert_eq!(answer["status"], "exception", "{answer}");
    let open = maker.open_exceptions(&merchant.merchant_id).await;
    let case = open.iter().find(|c| c["id"] == answer["deposit_id"]).expect("the held deposit is in the queue");
    assert_eq!((case["exception"]["reason"].as_str(), case["depositor_name"].as_str()), (Some("name_mismatch"), Some(pii.other_depositor_name)));
    let exception = case["exception"]["id"].as_str().unwrap();
    let proposed = maker.refund(exception, "088", pii.refund_account, pii.other_depositor_name).await;
    assert_eq!(proposed["exception"]["state"], "pending_approval", "{proposed}");
    let approved = checker.approve(exception).await;
    assert_eq!((approved["exception"]["state"].as_str(), approved["exception"]["resolution"].as_str()), (Some("resolved"), Some("refund")), "{approved}");

    // A deposit to a number nobody was given.
    let answer = notify(&server, &provider_secret, "PII-T3", "12345699999999", 5000, pii.other_depositor_name).await;
    assert_eq!(answer["status"], "exception", "{answer}");
    assert!(maker.open_exceptions("unmatched").await.iter().any(|c| c["id"] == answer["deposit_id"]));

    // Left unpaid until it expires: the expiry notice.
    let expiring = issue("PII-EXPIRES", Some(2)).await;
    let path = format!("/v1/virtual-accounts/{}", expiring["id"].as_str().unwrap());
    eventually("the account expires", Duration::from_secs(15), async || client.get(&path).await.json, |a| a["status"] == "expired").await;

    // Refused requests carrying personal data, in the body and in the query.
    let mut bad = json!({"order_id": "PII-BAD", "amount": 1, "bank_code": "004", "depositor_name": pii.depositor_name, "customer": customer});
    bad["customer"]["age"] = json!(30);
    assert_eq!(client.post("/v1/virtual-accounts", &bad).await.status, 400);
    let query = format!("/v1/virtual-accounts?depositor_name={}&phone={}", percent_encoded(pii.customer_name), pii.customer_phone);
    assert_eq!(client.get(&query).await.status, 400);

    // Every notice sent (issued ×3, paid, expired: 알림톡 and email each) and webhooks delivered.
    let notices = dir.path().join(vaccount::providers::messaging::NOTICES_FILE);
    eventually("the customer notices", Duration::from_secs(30), async || std::fs::read_to_string(&notices).unwrap_or_default().lines().count(), |n| *n >= 10)
        .await;
    let attempts = format!("/v1/webhook-endpoints/{}/attempts", hooks.json["id"].as_str().unwrap());
    eventually(
        "the webhook deliveries",
        Duration::from_secs(30),
        async || client.get(&attempts).await.json,
        |page| page["data"].as_array().is_some_and(|a| a.iter().filter(|x| x["status_code"] == 200).count() >= 5),
    )
    .await;

    assert!(server.terminate(Duration::from_secs(15)).is_some_and(|s| s.success()), "serve stops cleanly");
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("customer notice") && log.contains("webhook attempt"), "the log holds the paths taken:\n{log}");
    assert!(log.lines().any(|l| l.contains("TRACE") || l.contains("DEBUG")), "the log is at its most verbose");

    let (code, report) = check_logs(&[&server.log]);
    assert_eq!(code, Some(0), "personal data in the serve log {}:\n{report}", server.log.display());

    // The check finds what it looks for: the same log with one line quoting the customer.
    let planted = dir.path().join("planted.log");
    std::fs::write(&planted, format!("{log}INFO request customer=\"{}\"\n", pii.customer_phone)).unwrap();
    let (code, report) = check_logs(&[&planted]);
    assert_eq!(code, Some(1), "{report}");
    assert!(report.contains(&format!("planted.log:{}: customer_phone", log.lines().count() + 1)), "{report}");
}
