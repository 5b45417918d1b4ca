//! `vaccount bench issue`: issues N virtual accounts over HTTP with C concurrent clients
//! against a fresh embedded store served in-process, and prints throughput and latency.
//! It measures the whole path a merchant sees: signature check, idempotency record,
//! pool claim, one group-committed transaction.

use crate::CliError;
use clap::Args;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vaccount::app::Service;
use vaccount::domain::signing::{merchant_canonical, sign_hex};
use vaccount::domain::{BankCode, Fee, Krw, ProviderKind};
use vaccount::ports::SystemClock;

#[derive(Args)]
pub struct BenchIssueArgs {
    /// Accounts to issue.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    count: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: u64,
    /// Send an Idempotency-Key with every request (one more conditional write each).
    #[arg(long)]
    idempotency: bool,
}

pub async fn issue(args: BenchIssueArgs) -> Result<(), CliError> {
    let dir = tempfile_dir()?;
    let (_, table) = crate::store::open_local(&dir)?;
    let settings = vaccount::app::Settings { pool_low_threshold: 0, ..Default::default() };
    let service = Arc::new(Service::new(table, Arc::new(SystemClock), settings));
    let merchant = service.create_merchant("Bench Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await?;
    let provider = service.add_provider("bench".parse().map_err(|e| CliError::Config(format!("{e}")))?, ProviderKind::Generic, vec![]).await?;
    let first = "70000000000000".parse().map_err(|e| CliError::Config(format!("{e}")))?;
    service.add_pool_range(&provider.provider_id, BankCode::Kookmin, &first, args.count).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/virtual-accounts", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, vaccount::http::all_routes(service)).await });

    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency as usize).build().map_err(|e| CliError::Config(e.to_string()))?;
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            let (key_id, secret) = (merchant.key_id.to_string(), merchant.secret.clone());
            let idempotency = args.idempotency;
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0u64;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= args.count {
                        break;
                    }
                    let body = format!(r#"{{"order_id":"BENCH-{i}","amount":35000,"bank_code":"004"}}"#);
                    let ts = chrono::Utc::now().timestamp().to_string();
                    let sig = sign_hex(&secret, merchant_canonical(&ts, "POST", "/v1/virtual-accounts", body.as_bytes()).as_bytes());
                    let mut request = client
                        .post(&url)
                        .header("X-VA-Key-Id", &key_id)
                        .header("X-VA-Timestamp", &ts)
                        .header("X-VA-Signature", sig)
                        .header("Content-Type", "application/json")
                        .body(body);
                    if idempotency {
                        request = request.header("Idempotency-Key", format!("bench-{i}"));
                    }
                    let sent = Instant::now();
                    match request.send().await {
                        Ok(r) if r.status() == 201 => latencies.push(sent.elapsed()),
                        _ => failures += 1,
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (l, f) = worker.await.map_err(|e| CliError::Config(e.to_string()))?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        millis(latencies[index])
    };
    crate::print_json(&serde_json::json!({
        "bench": "issue",
        "count": args.count,
        "concurrency": args.concurrency,
        "idempotency_key": args.idempotency,
        "issued": latencies.len(),
        "failed": failures,
        "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "per_second": (latencies.len() as f64 / elapsed.as_secs_f64()).round(),
        "latency_ms": { "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0) },
    }))
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn tempfile_dir() -> Result<std::path::PathBuf, CliError> {
    let dir = std::env::temp_dir().join(format!("vaccount-bench-{}-{}", std::process::id(), chrono::Utc::now().timestamp_millis()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
