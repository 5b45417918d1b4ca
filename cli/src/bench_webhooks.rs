//! `vaccount bench webhooks`: the time from a deposit notice to its delivered webhook, over a
//! running `serve` (started with `VACCOUNT_ALLOW_PRIVATE_WEBHOOKS=true`, since the receiver
//! listens on loopback).
//!
//! The bench runs its own webhook receiver, registers it for `deposit.matched`, issues fixed
//! accounts, then sends deposit notices at a steady rate (open loop: a slow server does not
//! slow the sender down, so queueing shows in the figures). Each notice's latency is from the
//! moment it was sent to the moment its signed webhook arrived.

use crate::CliError;
use crate::bench::{BenchCredentials, merchant_call, percentiles, run_concurrently};
use clap::Args;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchWebhooksArgs {
    /// The running server.
    #[arg(long)]
    url: String,
    /// Its demo.json (merchant key, provider secret), from its data dir.
    #[arg(long)]
    credentials: std::path::PathBuf,
    /// Deposit notices per second.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    rate: u64,
    /// For how long notices are sent.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    seconds: u64,
    /// Fixed accounts the notices are spread over.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    accounts: u64,
}

#[derive(Default)]
struct Arrivals {
    /// Transaction id → when its deposit.matched webhook first arrived.
    first: HashMap<String, Instant>,
    duplicates: u64,
    bad_signatures: u64,
}

/// Receives webhooks, checks each signature, and notes when each transaction's first arrived.
async fn receiver(secret: Arc<Mutex<Option<String>>>, arrivals: Arc<Mutex<Arrivals>>) -> Result<(String, tokio::task::JoinHandle<()>), CliError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: http::HeaderMap, body: bytes::Bytes| {
            let (secret, arrivals) = (secret.clone(), arrivals.clone());
            async move {
                let at = Instant::now();
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let signed = match secret.lock().unwrap_or_else(|e| e.into_inner()).as_deref() {
                    Some(secret) => verify(secret, &header("webhook-id"), &header("webhook-timestamp"), &body, &header("webhook-signature")),
                    None => false,
                };
                let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let tx = event["data"]["deposit"]["transaction_id"].as_str().unwrap_or_default().to_owned();
                let mut seen = arrivals.lock().unwrap_or_else(|e| e.into_inner());
                if !signed {
                    seen.bad_signatures += 1;
                } else if let std::collections::hash_map::Entry::Vacant(first) = seen.first.entry(tx) {
                    first.insert(at);
                } else {
                    seen.duplicates += 1;
                }
                http::StatusCode::NO_CONTENT
            }
        }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, task))
}

/// A Standard Webhooks signature check with the bench's own reading of the spec.
fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    use base64::Engine;
    use hmac::Mac;
    let Some(key) = secret.strip_prefix("whsec_").and_then(|k| base64::engine::general_purpose::STANDARD.decode(k).ok()) else { return false };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else { return false };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()));
    header.split(' ').any(|candidate| candidate == expected)
}

pub async fn webhooks(args: BenchWebhooksArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.credentials).map_err(|e| CliError::Config(format!("{}: {e}", args.credentials.display())))?;
    let creds: Arc<BenchCredentials> = Arc::new(serde_json::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", args.credentials.display())))?);
    let url = args.url.trim_end_matches('/').to_owned();
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().map_err(|e| CliError::Config(e.to_string()))?;
    let run = ulid::Ulid::new().to_string();

    let secret = Arc::new(Mutex::new(None));
    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let (hook_url, receiver_task) = receiver(secret.clone(), arrivals.clone()).await?;
    let body = serde_json::json!({"url": hook_url, "event_types": ["deposit.matched"]}).to_string();
    let (status, endpoint) = merchant_call(&client, &url, &creds, "POST", "/v1/webhook-endpoints", &body, None).await;
    let (Some(endpoint_id), Some(whsec)) = (endpoint["id"].as_str(), endpoint["secret"].as_str()) else {
        return Err(CliError::Config(format!(
            "registering the receiver: HTTP {status} {endpoint} (is serve running with VACCOUNT_ALLOW_PRIVATE_WEBHOOKS=true?)"
        )));
    };
    *secret.lock().unwrap_or_else(|e| e.into_inner()) = Some(whsec.to_owned());

    let accounts = run_concurrently(args.accounts, 32, {
        let (client, url, creds, run) = (client.clone(), url.clone(), creds.clone(), run.clone());
        move |i| {
            let (client, url, creds, run) = (client.clone(), url.clone(), creds.clone(), run.clone());
            async move {
                let body = format!(r#"{{"order_id":"WH-{run}-A{i}","type":"fixed","bank_code":"004"}}"#);
                let (status, json) = merchant_call(&client, &url, &creds, "POST", "/v1/virtual-accounts", &body, None).await;
                json["account_number"].as_str().map(str::to_owned).ok_or_else(|| format!("issuing account {i}: HTTP {status} {json}"))
            }
        }
    })
    .await;
    let numbers: Vec<String> = accounts.into_iter().map(|(_, r)| r).collect::<Result<_, _>>().map_err(CliError::Config)?;
    let numbers = Arc::new(numbers);

    let total = args.rate * args.seconds;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let failed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut senders = Vec::with_capacity(total as usize);
    for i in 0..total {
        ticks.tick().await;
        let (client, url, creds, numbers, sent_at, failed, run) =
            (client.clone(), url.clone(), creds.clone(), numbers.clone(), sent_at.clone(), failed.clone(), run.clone());
        senders.push(tokio::spawn(async move {
            let tx = format!("WH-{run}-T{i}");
            let body = serde_json::json!({
                "type": "deposit", "transaction_id": tx, "bank_code": "004",
                "account_number": numbers[(i % numbers.len() as u64) as usize], "amount": 1000,
                "occurred_at": vaccount::domain::time::to_kst_string(chrono::Utc::now()),
            })
            .to_string();
            sent_at.lock().unwrap_or_else(|e| e.into_inner()).insert(tx, Instant::now());
            match crate::simulate::send_notice(&client, &url, &creds.provider_id, &creds.provider_secret, &body).await {
                Ok((200, _)) => {}
                _ => {
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for sender in senders {
        let _ = sender.await;
    }
    let send_seconds = started.elapsed().as_secs_f64();
    // Every accepted notice's webhook, or give up 30 s after the last notice.
    let accepted = total - failed.load(std::sync::atomic::Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(30);
    while (arrivals.lock().unwrap_or_else(|e| e.into_inner()).first.len() as u64) < accepted && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = merchant_call(&client, &url, &creds, "DELETE", &format!("/v1/webhook-endpoints/{endpoint_id}"), "", None).await;
    receiver_task.abort();

    let arrivals = arrivals.lock().unwrap_or_else(|e| e.into_inner());
    let sent_at = sent_at.lock().unwrap_or_else(|e| e.into_inner());
    let mut latencies: Vec<Duration> = arrivals.first.iter().filter_map(|(tx, at)| sent_at.get(tx).map(|sent| at.saturating_duration_since(*sent))).collect();
    let report = serde_json::json!({
        "bench": "webhooks",
        "rate_per_second": args.rate,
        "achieved_send_rate": (total as f64 / send_seconds).round(),
        "notices": total,
        "notices_failed": total - accepted,
        "webhooks_delivered": latencies.len(),
        "webhooks_missing": accepted.saturating_sub(latencies.len() as u64),
        "duplicates": arrivals.duplicates,
        "bad_signatures": arrivals.bad_signatures,
        "notice_to_webhook_ms": percentiles(&mut latencies),
    });
    crate::print_json(&report)?;
    if arrivals.bad_signatures > 0 || (latencies.len() as u64) < accepted {
        return Err(CliError::Config("some webhooks were missing or badly signed".into()));
    }
    Ok(())
}
