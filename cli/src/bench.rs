//! Load generators. `vaccount bench issue` issues N virtual accounts over HTTP with C concurrent clients
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

/// A fresh embedded store in a temporary directory with a merchant, a `generic` provider and
/// `numbers` pool numbers for bank 004, served in-process on 127.0.0.1.
struct LocalServer {
    url: String,
    creds: BenchCredentials,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: std::path::PathBuf,
}

impl LocalServer {
    async fn start(numbers: u64) -> Result<LocalServer, CliError> {
        let dir = tempfile_dir()?;
        let (_, table) = crate::store::open_local(&dir)?;
        let settings = vaccount::app::Settings { pool_low_threshold: 0, ..Default::default() };
        let service = Arc::new(Service::new(table, Arc::new(SystemClock), settings));
        let merchant = service.setup().create_merchant("Bench Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await?;
        let provider = service.setup().add_provider("bench".parse().map_err(|e| CliError::Config(format!("{e}")))?, ProviderKind::Generic, vec![]).await?;
        let first = "70000000000000".parse().map_err(|e| CliError::Config(format!("{e}")))?;
        service.setup().add_pool_range(&provider.provider_id, BankCode::Kookmin, &first, numbers).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let server =
            tokio::spawn(async move { axum::serve(listener, vaccount::http::all_routes(service, None, Arc::new(vaccount::net::SystemResolver))).await });
        let creds = BenchCredentials {
            key_id: merchant.key_id.to_string(),
            secret: merchant.secret,
            provider_id: provider.provider_id.to_string(),
            provider_secret: provider.secret,
        };
        Ok(LocalServer { url, creds, server, dir })
    }

    fn stop(self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub async fn issue(args: BenchIssueArgs) -> Result<(), CliError> {
    let local = LocalServer::start(args.count).await?;
    let url = format!("{}/v1/virtual-accounts", local.url);
    let merchant = (local.creds.key_id.clone(), local.creds.secret.clone());

    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency as usize).build().map_err(|e| CliError::Config(e.to_string()))?;
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, url, next) = (client.clone(), url.clone(), next.clone());
            let (key_id, secret) = merchant.clone();
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
    local.stop();
    crate::print_json(&serde_json::json!({
        "bench": "issue",
        "count": args.count,
        "concurrency": args.concurrency,
        "idempotency_key": args.idempotency,
        "issued": latencies.len(),
        "failed": failures,
        "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "per_second": (latencies.len() as f64 / elapsed.as_secs_f64()).round(),
        "latency_ms": percentiles(&mut latencies),
    }))
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

pub(crate) fn tempfile_dir() -> Result<std::path::PathBuf, CliError> {
    let dir = std::env::temp_dir().join(format!("vaccount-bench-{}-{}", std::process::id(), chrono::Utc::now().timestamp_millis()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[derive(Args)]
pub struct BenchDepositsArgs {
    /// Deposit notices to send.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    notices: u64,
    /// Fixed virtual accounts (bank 004) the notices are spread over.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    accounts: u64,
    /// Notices in flight at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: u64,
    /// A running server instead of a fresh in-process one (needs --credentials).
    #[arg(long, requires = "credentials")]
    url: Option<String>,
    /// The running server's demo.json (merchant key, provider secret), from its data dir.
    #[arg(long)]
    credentials: Option<std::path::PathBuf>,
    /// Names the run's orders and transactions: the same id again sends the very same notices
    /// (which must change nothing).
    #[arg(long)]
    run_id: Option<String>,
    /// Afterwards, check every account's paid amount against the notices: each exactly once.
    #[arg(long)]
    verify: bool,
}

/// Who the bench acts as: a merchant (to issue accounts) and a provider (to notify).
#[derive(Clone, serde::Deserialize)]
pub(crate) struct BenchCredentials {
    pub(crate) key_id: String,
    pub(crate) secret: String,
    pub(crate) provider_id: String,
    pub(crate) provider_secret: String,
}

/// The amount of notice `i`: varied, so that a notice counted twice or lost shows in a sum.
fn notice_amount(i: u64) -> i64 {
    1_000 + (i % 7) as i64 * 100
}

/// `vaccount bench deposits`: issues fixed accounts, then sends signed `generic` deposit
/// notices spread over them from C concurrent clients, and prints throughput and latency.
/// With `--verify` it then reads every account back and counts lost and doubled money.
pub async fn deposits(args: BenchDepositsArgs) -> Result<(), CliError> {
    let run = args.run_id.clone().unwrap_or_else(|| ulid::Ulid::new().to_string());
    let mut local = None;
    let (url, creds) = match (&args.url, &args.credentials) {
        (Some(url), Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
            let creds: BenchCredentials = serde_json::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
            (url.trim_end_matches('/').to_owned(), creds)
        }
        _ => {
            let started = LocalServer::start(args.accounts).await?;
            let (url, creds) = (started.url.clone(), started.creds.clone());
            local = Some(started);
            (url, creds)
        }
    };
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency as usize).build().map_err(|e| CliError::Config(e.to_string()))?;
    let creds = Arc::new(creds);

    // Accounts: one Idempotency-Key per order, so a re-run gets the same accounts back.
    let accounts = run_concurrently(args.accounts, args.concurrency, {
        let (client, url, creds, run) = (client.clone(), url.clone(), creds.clone(), run.clone());
        move |i| {
            let (client, url, creds, run) = (client.clone(), url.clone(), creds.clone(), run.clone());
            async move {
                let order = format!("BENCH-{run}-A{i}");
                let body = format!(r#"{{"order_id":"{order}","type":"fixed","bank_code":"004"}}"#);
                let (status, json) = merchant_call(&client, &url, &creds, "POST", "/v1/virtual-accounts", &body, Some(&order)).await;
                match (status, json["id"].as_str(), json["account_number"].as_str()) {
                    (201, Some(id), Some(number)) => Ok((id.to_owned(), number.to_owned())),
                    _ => Err(format!("issuing account {i}: HTTP {status} {json}")),
                }
            }
        }
    })
    .await;
    let accounts: Vec<(String, String)> = accounts.into_iter().map(|(_, r)| r).collect::<Result<_, _>>().map_err(CliError::Config)?;
    let accounts = Arc::new(accounts);

    let started = Instant::now();
    let sent = run_concurrently(args.notices, args.concurrency, {
        let (client, url, creds, run, accounts) = (client.clone(), url.clone(), creds.clone(), run.clone(), accounts.clone());
        move |i| {
            let (client, url, creds, run, accounts) = (client.clone(), url.clone(), creds.clone(), run.clone(), accounts.clone());
            async move {
                let (_, number) = &accounts[(i % accounts.len() as u64) as usize];
                let body = serde_json::json!({
                    "type": "deposit", "transaction_id": format!("BENCH-{run}-T{i}"), "bank_code": "004",
                    "account_number": number, "amount": notice_amount(i), "depositor_name": "홍길동",
                    "occurred_at": vaccount::domain::time::to_kst_string(chrono::Utc::now()),
                })
                .to_string();
                let at = Instant::now();
                match crate::simulate::send_notice(&client, &url, &creds.provider_id, &creds.provider_secret, &body).await {
                    Ok((200, _)) => Ok(at.elapsed()),
                    Ok((status, json)) => Err(format!("HTTP {status} {json}")),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    })
    .await;
    let elapsed = started.elapsed();
    let mut latencies: Vec<Duration> = sent.iter().filter_map(|(_, r)| r.as_ref().ok().copied()).collect();
    let failures: Vec<&String> = sent.iter().filter_map(|(_, r)| r.as_ref().err()).collect();
    if let Some(first) = failures.first() {
        eprintln!("{} notices failed; first: {first}", failures.len());
    }
    let mut report = serde_json::json!({
        "bench": "deposits",
        "run_id": run,
        "notices": args.notices,
        "accounts": args.accounts,
        "concurrency": args.concurrency,
        "answered_200": latencies.len(),
        "failed": failures.len(),
        "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "per_second": (latencies.len() as f64 / elapsed.as_secs_f64()).round(),
        "latency_ms": percentiles(&mut latencies),
    });
    let mut mismatched = 0;
    if args.verify {
        let (lost, doubled) = verify(&client, &url, &creds, &accounts, args.notices).await?;
        report["verify"] = serde_json::json!({ "accounts_short": lost, "accounts_over": doubled });
        mismatched = lost + doubled;
    }
    if let Some(local) = local {
        local.stop();
    }
    crate::print_json(&report)?;
    if mismatched > 0 {
        return Err(CliError::Config(format!("{mismatched} accounts do not hold exactly what was sent")));
    }
    Ok(())
}

/// Reads every account and compares its paid amount with the sum of the notices sent to it.
async fn verify(
    client: &reqwest::Client,
    url: &str,
    creds: &BenchCredentials,
    accounts: &[(String, String)],
    notices: u64,
) -> Result<(usize, usize), CliError> {
    let mut expected = vec![0i64; accounts.len()];
    for i in 0..notices {
        expected[(i % accounts.len() as u64) as usize] += notice_amount(i);
    }
    let (mut short, mut over) = (0, 0);
    for ((id, _), want) in accounts.iter().zip(expected) {
        let (status, json) = merchant_call(client, url, creds, "GET", &format!("/v1/virtual-accounts/{id}"), "", None).await;
        let paid = json["paid_amount"].as_i64().ok_or_else(|| CliError::Config(format!("reading {id}: HTTP {status} {json}")))?;
        if paid < want {
            short += 1;
        } else if paid > want {
            over += 1;
        }
    }
    Ok((short, over))
}

pub(crate) async fn merchant_call(
    client: &reqwest::Client,
    url: &str,
    creds: &BenchCredentials,
    method: &str,
    path: &str,
    body: &str,
    idempotency_key: Option<&str>,
) -> (u16, serde_json::Value) {
    let ts = chrono::Utc::now().timestamp().to_string();
    let sig = sign_hex(&creds.secret, merchant_canonical(&ts, method, path, body.as_bytes()).as_bytes());
    let mut request = client
        .request(method.parse().unwrap_or(reqwest::Method::GET), format!("{url}{path}"))
        .header("X-VA-Key-Id", &creds.key_id)
        .header("X-VA-Timestamp", &ts)
        .header("X-VA-Signature", sig);
    if !body.is_empty() {
        request = request.header("Content-Type", "application/json").body(body.to_owned());
    }
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(serde_json::Value::Null))
        }
        Err(e) => (0, serde_json::Value::String(e.to_string())),
    }
}

/// Runs `job(0..count)` with `concurrency` workers pulling from one counter; results by index.
pub(crate) async fn run_concurrently<T, F, Fut>(count: u64, concurrency: u64, job: F) -> Vec<(u64, T)>
where
    T: Send + 'static,
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = T> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let workers: Vec<_> = (0..concurrency.min(count))
        .map(|_| {
            let (next, job) = (next.clone(), job.clone());
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= count {
                        break done;
                    }
                    done.push((i, job(i).await));
                }
            })
        })
        .collect();
    let mut all = Vec::with_capacity(count as usize);
    for worker in workers {
        if let Ok(done) = worker.await {
            all.extend(done);
        }
    }
    all.sort_by_key(|(i, _)| *i);
    all
}

pub(crate) fn percentiles(latencies: &mut [Duration]) -> serde_json::Value {
    latencies.sort();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        millis(latencies[index])
    };
    serde_json::json!({ "p50": pct(0.50), "p90": pct(0.90), "p99": pct(0.99), "max": pct(1.0) })
}
