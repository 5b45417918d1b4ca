//! Black-box: `vaccount serve` stopped with SIGTERM in the middle of its work. Every notice it
//! answered is stored, a webhook delivery under way is finished and recorded, and the process
//! exits 0 within a bound, leaving its data dir to the next `serve`.

mod support;

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use support::{Client, Server, demo};

/// How long `serve` may take from SIGTERM to its exit.
const EXIT_BOUND: Duration = Duration::from_secs(15);
/// Notice senders at once.
const SENDERS: usize = 16;

async fn issue(client: &Client, order: &str) -> Value {
    let r = client.post("/v1/virtual-accounts", &json!({"order_id": order, "amount": 35000, "bank_code": "004", "allow_partial": true})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json
}

/// Sends deposit notices to `accounts` in turn until the server stops taking them; the deposit
/// ids of the notices answered 200.
async fn send_until_refused(url: String, secret: String, accounts: Arc<Vec<String>>, sender: usize, answered: Arc<AtomicUsize>) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut deposits = Vec::new();
    for n in 0.. {
        let body = json!({
            "type": "deposit", "transaction_id": format!("SHUT-{sender}-{n}"), "bank_code": "004",
            "account_number": accounts[n % accounts.len()], "amount": 1000,
            "occurred_at": vaccount::domain::time::to_kst_string(chrono::Utc::now()),
        })
        .to_string();
        let sent = http
            .post(format!("{url}/v1/providers/bank/notifications"))
            .header("Content-Type", "application/json")
            .header("X-Provider-Signature", vaccount::providers::generic::sign(&secret, body.as_bytes()))
            .body(body)
            .send()
            .await;
        // Refused or cut: the server has stopped listening.
        let Ok(response) = sent else { break };
        let status = response.status().as_u16();
        let Ok(answer) = response.json::<Value>().await else { break };
        assert_eq!(status, 200, "a notice is answered 200 or not at all: {answer}");
        deposits.push(answer["deposit_id"].as_str().expect("an answered notice names its deposit").to_owned());
        answered.fetch_add(1, Ordering::Relaxed);
    }
    deposits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_load_stores_every_answered_notice_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--demo"]);
    let (creds, provider_secret) = demo(dir.path());
    let client = Client::new(&server, &creds);
    let mut accounts = Vec::new();
    for i in 0..8 {
        accounts.push(issue(&client, &format!("SHUT-{i}")).await["account_number"].as_str().unwrap().to_owned());
    }
    let accounts = Arc::new(accounts);
    let answered = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| tokio::spawn(send_until_refused(server.url.clone(), provider_secret.clone(), accounts.clone(), sender, answered.clone())))
        .collect();
    while answered.load(Ordering::Relaxed) < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = tokio::task::block_in_place(|| server.terminate(EXIT_BOUND));
    let mut stored = Vec::new();
    for sender in senders {
        stored.extend(sender.await.unwrap());
    }
    assert!(status.is_some(), "serve did not exit within {EXIT_BOUND:?} of SIGTERM");
    assert!(status.unwrap().success(), "serve exits 0 after SIGTERM: {status:?}");
    drop(server);

    let server = Server::start(dir.path(), &["--demo"]);
    let client = Client::new(&server, &creds);
    let mut missing = Vec::new();
    for deposit in &stored {
        let r = client.get(&format!("/v1/deposits/{deposit}")).await;
        if r.status != 200 {
            missing.push((deposit.clone(), r.status));
        }
    }
    assert!(missing.is_empty(), "{} of {} answered notices are not stored: {missing:?}", missing.len(), stored.len());
}

/// A merchant's webhook receiver that answers 200 after `delay`, and says when a request arrived.
async fn slow_receiver(delay: Duration) -> (String, Arc<tokio::sync::Notify>, tokio::task::JoinHandle<()>) {
    let arrived = Arc::new(tokio::sync::Notify::new());
    let notify = arrived.clone();
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::post(move || {
            let notify = notify.clone();
            async move {
                notify.notify_one();
                tokio::time::sleep(delay).await;
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, arrived, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_webhook_delivery_under_way_at_sigterm_is_finished_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (url, arrived, receiver) = slow_receiver(Duration::from_secs(2)).await;
    let mut server = Server::start_with_env(dir.path(), &["--demo"], &[("VACCOUNT_ALLOW_PRIVATE_WEBHOOKS", "true")]);
    let (creds, _) = demo(dir.path());
    let client = Client::new(&server, &creds);
    let r = client.post("/v1/webhook-endpoints", &json!({"url": url, "event_types": ["virtual_account.issued"]})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let endpoint = r.json["id"].as_str().unwrap().to_owned();
    issue(&client, "SHUT-WH").await;
    tokio::time::timeout(Duration::from_secs(10), arrived.notified()).await.expect("the webhook reached the receiver");

    let status = tokio::task::block_in_place(|| server.terminate(EXIT_BOUND));
    assert!(status.is_some_and(|s| s.success()), "serve exits 0 within {EXIT_BOUND:?} of SIGTERM: {status:?}");
    drop(server);
    // Nobody answers any more: only an attempt recorded before the exit can show a 200.
    receiver.abort();

    let server = Server::start(dir.path(), &["--demo"]);
    let client = Client::new(&server, &creds);
    let attempts = client.get(&format!("/v1/webhook-endpoints/{endpoint}/attempts")).await;
    assert_eq!(attempts.status, 200, "{}", attempts.json);
    let statuses: Vec<&Value> = attempts.json["data"].as_array().unwrap().iter().map(|a| &a["status_code"]).collect();
    assert_eq!(statuses, vec![&json!(200)], "the delivery under way at SIGTERM finished and was recorded once: {}", attempts.json);
}
