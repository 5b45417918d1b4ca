//! Black-box: merchant webhooks as a merchant's system receives them. `vaccount serve` with a
//! short retry schedule, a real HTTP receiver (scripts/webhook_receiver.py) and the
//! independent Standard Webhooks implementation from PyPI (scripts/verify_webhooks.py).

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{Client, Server, demo, vaccount_bin};

use vaccount::testing::{repo_root as root, venv_python as python};

/// The receiver, stopped on drop.
struct Receiver {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path) -> Receiver {
        let log = dir.join("webhooks.jsonl");
        std::fs::write(&log, "").unwrap();
        let mut child = Command::new(python())
            .arg(root().join("scripts/webhook_receiver.py"))
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the webhook receiver");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let port = first.trim().strip_prefix("listening ").expect("receiver prints its port").to_owned();
        Receiver { child, base: format!("http://127.0.0.1:{port}"), log }
    }

    fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    async fn wait_for(&self, what: &str, mut done: impl FnMut(&[Value]) -> bool, within: Duration) -> Vec<Value> {
        let until = std::time::Instant::now() + within;
        loop {
            let requests = self.requests();
            if done(&requests) {
                return requests;
            }
            assert!(std::time::Instant::now() < until, "{what}: not within {within:?}; got {requests:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Checks every recorded request with the independent verifier; returns its report.
    fn verify(&self, secrets: &[&str]) -> Value {
        let out = Command::new(python()).arg(root().join("scripts/verify_webhooks.py")).arg(&self.log).args(secrets).output().unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("verifier: {}", String::from_utf8_lossy(&out.stderr)));
        assert!(out.status.success(), "requests that do not verify: {report}");
        report
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SERVE_ENV: [(&str, &str); 3] =
    [("VACCOUNT_ALLOW_PRIVATE_WEBHOOKS", "true"), ("VACCOUNT_WEBHOOK_RETRY_SCHEDULE", "1s,1s,2s"), ("VACCOUNT_EXPIRY_SWEEP_INTERVAL", "1s")];

fn deposit(server: &Server, provider_secret: &str, account_number: &str, amount: i64, tx: &str) {
    let out = Command::new(vaccount_bin())
        .args(["simulate", "deposit", "--url", &server.url, "--provider", "bank", "--secret", provider_secret])
        .args(["--bank", "004", "--account", account_number, "--amount", &amount.to_string(), "--tx", tx])
        .output()
        .unwrap();
    assert!(out.status.success(), "simulate: {}", String::from_utf8_lossy(&out.stderr));
}

async fn register(client: &Client, url: &str, types: Option<&[&str]>) -> (String, String) {
    let mut body = json!({ "url": url });
    if let Some(types) = types {
        body["event_types"] = json!(types);
    }
    let r = client.post("/v1/webhook-endpoints", &body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    (r.json["id"].as_str().unwrap().to_owned(), r.json["secret"].as_str().unwrap().to_owned())
}

async fn issue(client: &Client, order: &str, amount: i64) -> Value {
    let r = client.post("/v1/virtual-accounts", &json!({"order_id": order, "amount": amount, "bank_code": "004"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json
}

fn attempts_of<'a>(requests: &'a [Value], path: &str, event_type: &str) -> Vec<&'a Value> {
    requests.iter().filter(|r| r["path"] == path && serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap()["type"] == event_type).collect()
}

#[tokio::test]
async fn delivered_webhooks_verify_independently_and_failures_are_retried_on_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let server = Server::start_with_env(dir.path(), &["--demo"], &SERVE_ENV);
    let (creds, provider_secret) = demo(dir.path());
    let client = Client::new(&server, &creds);
    let (_, all_secret) = register(&client, &format!("{}/ok", receiver.base), None).await;
    let (_, flaky_secret) = register(&client, &format!("{}/fail/2", receiver.base), Some(&["deposit.matched"])).await;

    let account = issue(&client, "WH-1", 35_000).await;
    deposit(&server, &provider_secret, account["account_number"].as_str().unwrap(), 35_000, "WH-T1");

    let requests = receiver
        .wait_for(
            "three events on /ok and a third attempt on /fail/2",
            |r| r.iter().filter(|x| x["path"] == "/ok").count() == 3 && attempts_of(r, "/fail/2", "deposit.matched").len() == 3,
            Duration::from_secs(20),
        )
        .await;
    let report = receiver.verify(&[&all_secret, &flaky_secret]);
    assert_eq!(report["verified"].as_u64(), Some(requests.len() as u64));

    let mut types: Vec<&str> = report["events"].as_array().unwrap().iter().filter(|e| e["path"] == "/ok").map(|e| e["type"].as_str().unwrap()).collect();
    types.sort();
    assert_eq!(types, vec!["deposit.matched", "virtual_account.issued", "virtual_account.paid"]);
    let paid = report["events"].as_array().unwrap().iter().find(|e| e["type"] == "virtual_account.paid").unwrap();
    assert_eq!(paid["data"]["virtual_account"]["status"], "paid");
    assert_eq!(paid["data"]["virtual_account"]["id"], account["id"]);

    // Only the subscribed type reached /fail/2: 500, 500, then 200, the retries 1 s apart.
    assert_eq!(requests.iter().filter(|r| r["path"] == "/fail/2").count(), 3);
    let flaky = attempts_of(&requests, "/fail/2", "deposit.matched");
    let statuses: Vec<u64> = flaky.iter().map(|r| r["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, vec![500, 500, 200]);
    let ids: Vec<&Value> = flaky.iter().map(|r| &r["headers"]["webhook-id"]).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "a retry carries the same webhook-id");
    for pair in flaky.windows(2) {
        let gap = pair[1]["at"].as_f64().unwrap() - pair[0]["at"].as_f64().unwrap();
        assert!((0.9..3.0).contains(&gap), "retry gap {gap} s, schedule says 1 s");
    }
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_gets_every_retry_then_a_dead_letter_and_an_ops_alert() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    // Setup commands need the data dir to themselves: before serve starts.
    let enrolment = support::create_operator(dir.path(), "ops-kim", "viewer");
    let server = Server::start_with_env(dir.path(), &["--demo"], &SERVE_ENV);
    let kim = support::enrol_and_log_in(&server.url, "ops-kim", &enrolment).await;
    let (creds, _) = demo(dir.path());
    let client = Client::new(&server, &creds);
    let (endpoint, _) = register(&client, &format!("{}/fail/100", receiver.base), Some(&["virtual_account.issued"])).await;

    issue(&client, "WH-DEAD", 10_000).await;
    // 1 + 3 retries, 1 s, 1 s and 2 s apart.
    receiver.wait_for("four attempts", |r| r.len() == 4, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 4, "nothing after the last retry");
    let gaps: Vec<f64> = requests.windows(2).map(|w| w[1]["at"].as_f64().unwrap() - w[0]["at"].as_f64().unwrap()).collect();
    for (gap, want) in gaps.iter().zip([1.0, 1.0, 2.0]) {
        assert!(*gap >= want - 0.1 && *gap < want + 1.5, "gaps {gaps:?}, schedule 1s,1s,2s");
    }

    let attempts = client.get(&format!("/v1/webhook-endpoints/{endpoint}/attempts")).await;
    assert_eq!(attempts.status, 200, "{}", attempts.json);
    let logged = attempts.json["data"].as_array().unwrap();
    assert_eq!(logged.len(), 4);
    assert!(logged.iter().all(|a| a["status_code"] == 500), "{logged:?}");

    let incidents = kim.request(reqwest::Method::GET, &format!("{}/admin/v1/incidents", server.url)).send().await.unwrap().json::<Value>().await.unwrap();
    let incidents = incidents["data"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["kind"], "webhook.dead_lettered");
    assert_eq!(incidents[0]["status"], "open");
}

#[tokio::test]
async fn a_restart_of_serve_mid_retry_loses_no_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start(dir.path());
    let env = [("VACCOUNT_ALLOW_PRIVATE_WEBHOOKS", "true"), ("VACCOUNT_WEBHOOK_RETRY_SCHEDULE", "3s")];
    let server = Server::start_with_env(dir.path(), &["--demo"], &env);
    let (creds, _) = demo(dir.path());
    let client = Client::new(&server, &creds);
    let (_, secret) = register(&client, &format!("{}/fail/1", receiver.base), Some(&["virtual_account.issued"])).await;
    for i in 0..5 {
        issue(&client, &format!("WH-R{i}"), 10_000).await;
    }
    receiver.wait_for("the first attempts", |r| r.len() == 5, Duration::from_secs(10)).await;
    server.kill_hard();

    let server = Server::start_with_env(dir.path(), &["--demo"], &env);
    let requests = receiver.wait_for("the retries after the restart", |r| r.iter().filter(|x| x["status"] == 200).count() == 5, Duration::from_secs(15)).await;
    let delivered: std::collections::BTreeSet<&str> =
        requests.iter().filter(|r| r["status"] == 200).map(|r| r["headers"]["webhook-id"].as_str().unwrap()).collect();
    assert_eq!(delivered.len(), 5, "each of the five events delivered");
    receiver.verify(&[&secret]);
    drop(server);
}
