//! `vaccount serve`: every route in one process on the embedded store.
//!
//! SIGTERM or Ctrl-C stops it cleanly: one cancellation token tells the HTTP server and every
//! background task (dispatcher, queue workers, sweeps, purge, nightly jobs) to stop taking
//! work; each finishes the unit it has under way (a request, a dispatched batch, a queue
//! message, a sweep, a day's run), `serve` waits for all of them for at most
//! [`SHUTDOWN_GRACE`], then the store closes and the process exits 0.

use crate::config::ConfigFile;
use crate::{CliError, store};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vaccount::app::alerts::AlertConsumer;
use vaccount::app::consumer::Consumer;
use vaccount::app::notices::NoticeConsumer;
use vaccount::app::webhooks::WebhookConsumer;
use vaccount::app::{AppError, Service};
use vaccount::domain::QueueName;
use vaccount::domain::operator::{OperatorStatus, Role};
use vaccount::domain::{BankCode, Fee, Krw, ProviderKind};
use vaccount::local::{Dispatcher, LocalQueues, run_worker};
use vaccount::net::OutboundHttp;
use vaccount::ports::{HttpSender, SystemClock};
use vaccount::providers::alerting::alert_channel_from_lookup;
use vaccount::providers::messaging::messenger_from_lookup;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080, or `addr` in the config file].
    #[arg(long, env = "VACCOUNT_ADDR")]
    addr: Option<SocketAddr>,
    /// A vaccount.toml with settings (see docs/configuration in the README).
    #[arg(long, env = "VACCOUNT_CONFIG")]
    config: Option<PathBuf>,
    /// On an empty data dir, create a demo merchant, a `generic` provider and number pools,
    /// and print credentials and a ready-to-run request.
    #[arg(long)]
    demo: bool,
}

/// What `--demo` created, kept in the data dir so a restart prints the same credentials.
#[derive(Serialize, Deserialize)]
struct Demo {
    merchant_id: String,
    key_id: String,
    secret: String,
    provider_id: String,
    provider_secret: String,
    /// The dashboard's super_admin, made when the data dir had none (a demo data dir of an
    /// earlier version gets one at its next `--demo` start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin: Option<DemoAdmin>,
}

/// The demo's first operator and the one-time token that enrols them.
#[derive(Serialize, Deserialize)]
struct DemoAdmin {
    operator: String,
    enrolment_token: String,
}

/// The demo super_admin's name.
const DEMO_ADMIN: &str = "admin";

const DEMO_FILE: &str = "demo.json";
const DEMO_BANKS: [(BankCode, &str); 4] = [
    (BankCode::Kookmin, "90400000000000"),
    (BankCode::Shinhan, "90880000000000"),
    (BankCode::Woori, "90200000000000"),
    (BankCode::KakaoBank, "90900000000000"),
];
const DEMO_POOL_SIZE: u64 = 1000;

/// How long, from the shutdown signal, requests and tasks have to finish the work under way.
/// What is still running then is cut off; its work is stored and resumes after a restart (a
/// queue message comes back, a sweep or nightly run starts again from its checkpoint).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub async fn run(data_dir: &Path, with_store_flag: bool, args: ServeArgs) -> Result<(), CliError> {
    if with_store_flag {
        return Err(CliError::Config("serve runs on the embedded store; use --data-dir, not --store".into()));
    }
    let config = ConfigFile::load(args.config.as_deref())?;
    init_logging(config.lookup("VACCOUNT_LOG_FORMAT").as_deref());
    let addr = match args.addr {
        Some(addr) => addr,
        None => config.lookup("VACCOUNT_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()).parse().map_err(|e| CliError::Config(format!("addr: {e}")))?,
    };
    let stop = CancellationToken::new();
    stop_on_signal(stop.clone())?;
    let (raw, table) = store::open_local(data_dir)?;
    let relisted = store::relist_local(&raw, table.as_ref()).await?;
    if relisted > 0 {
        tracing::info!(relisted, "merchants and providers from an older version listed for the nightly jobs");
    }
    for day in vaccount::app::settlements::seal_exported_days(table.as_ref(), chrono::Utc::now()).await? {
        tracing::warn!(merchant = %day.merchant_id, date = %day.date, rows = day.rows, gross = day.gross.won(), "an exported day gained movements after its export under the earlier version; square them with the merchant");
    }
    let service = Arc::new(Service::new(table, Arc::new(SystemClock), config.settings()?));
    let mut tasks = JoinSet::new();
    tasks.spawn(purge_expired_items(raw.clone(), stop.clone()));
    tasks.spawn(sweep_due_accounts(service.clone(), config.sweep_interval()?, stop.clone()));
    start_event_path(&service, raw, &config, data_dir, &mut tasks, &stop)?;
    let settlements = Arc::new(crate::settle::local_settlements(data_dir, &service));
    tasks.spawn(settle_nightly(settlements.clone(), stop.clone()));
    tasks.spawn(reconcile_daily(crate::reconcile::local_reconciler(data_dir, service.clone()), stop.clone()));
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| CliError::Config(format!("cannot listen on {addr}: {e}")))?;
    let bound = listener.local_addr()?;
    if args.demo {
        let demo = ensure_demo(&service, data_dir).await?;
        print_demo(&demo, bound);
        println!("{}", dashboard_note(&service, &demo, bound).await?);
    }
    // One line on stdout that scripts can wait for.
    println!("vaccount listening on http://{bound} (data dir {})", data_dir.display());
    tracing::info!(%bound, data_dir = %data_dir.display(), "serving");
    // The peer address feeds providers' source allowlists.
    let app =
        vaccount::http::all_routes(service, Some(settlements), Arc::new(vaccount::net::SystemResolver)).into_make_service_with_connect_info::<SocketAddr>();
    let http = axum::serve(listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
    let drained = async {
        let served = http.await;
        // The server also ends on its own if it fails: the tasks stop with it.
        stop.cancel();
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "a background task ended abnormally");
            }
        }
        served
    };
    let grace_over = async {
        stop.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let served = tokio::select! {
        served = drained => Some(served),
        () = grace_over => None,
    };
    if served.is_none() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "work still under way when the shutdown grace ran out; cut off, it resumes after a restart");
    }
    // Whatever the grace cut off is gone before the store closes.
    tasks.shutdown().await;
    served.transpose()?;
    tracing::info!("stopped");
    Ok(())
}

/// Cancels `stop` on SIGTERM or Ctrl-C. The handlers are in place when this returns, so a
/// signal from then on stops `serve` cleanly instead of killing it.
fn stop_on_signal(stop: CancellationToken) -> Result<(), CliError> {
    #[cfg(unix)]
    let signalled = {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut interrupt) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
        async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
    };
    #[cfg(not(unix))]
    let signalled = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tokio::spawn(async move {
        signalled.await;
        tracing::info!("stopping: finishing the work under way");
        stop.cancel();
    });
    Ok(())
}

/// Waits for the next tick; `false` once `stop` is cancelled (also when both are ready).
async fn next_tick(ticks: &mut tokio::time::Interval, stop: &CancellationToken) -> bool {
    tokio::select! {
        biased;
        () = stop.cancelled() => false,
        _ = ticks.tick() => true,
    }
}

/// DynamoDB's TTL, locally: idempotency records and alert markers go once they expire. The
/// unit of work is one batch.
async fn purge_expired_items(table: Arc<vaccount::store::EmbeddedTable>, stop: CancellationToken) {
    const BATCH: usize = 10_000;
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    while next_tick(&mut every, &stop).await {
        while !stop.is_cancelled() {
            match table.purge_expired(chrono::Utc::now().timestamp(), BATCH).await {
                Ok(n) if n == BATCH => continue,
                Ok(n) => {
                    if n > 0 {
                        tracing::info!(purged = n, "expired items removed");
                    }
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "purging expired items failed");
                    break;
                }
            }
        }
    }
}

/// What the stream, the topic, the queues and the consumer functions do in AWS, in-process:
/// the dispatcher moves outbox events onto durable local queues, one worker per queue runs
/// the same consumer as its Lambda function (vaccount::local).
fn start_event_path(
    service: &Arc<Service>,
    raw: Arc<vaccount::store::EmbeddedTable>,
    config: &ConfigFile,
    data_dir: &Path,
    tasks: &mut JoinSet<()>,
    stop: &CancellationToken,
) -> Result<(), CliError> {
    let queues = LocalQueues::new(service.table().clone(), service.clock().clone());
    tasks.spawn(Dispatcher { raw, table: service.table().clone(), queues: queues.clone() }.run(stop.clone()));
    let outbound = |e: vaccount::ports::HttpError| CliError::Config(format!("outbound HTTP client: {e}"));
    let trusted: Arc<dyn HttpSender> = Arc::new(OutboundHttp::trusted().map_err(outbound)?);
    let merchant_urls: Arc<dyn HttpSender> = Arc::new(OutboundHttp::guarded(service.settings().allow_private_webhooks).map_err(outbound)?);
    let lookup = |name: &str| config.lookup(name);
    let settings_error = |e: vaccount::app::SettingsError| CliError::Config(e.to_string());
    let messenger = messenger_from_lookup(lookup, trusted.clone(), Some(data_dir)).map_err(settings_error)?;
    let alerts = alert_channel_from_lookup(lookup, trusted, Some(messenger.clone()), Some(data_dir)).map_err(settings_error)?;
    let consumers: [(QueueName, Arc<dyn Consumer>, usize); 3] = [
        (QueueName::MerchantWebhooks, Arc::new(WebhookConsumer::new(service.clone(), merchant_urls)), WEBHOOK_CONCURRENCY),
        (QueueName::CustomerNotices, Arc::new(NoticeConsumer::new(service.clone(), messenger)), 16),
        (QueueName::OpsAlerts, Arc::new(AlertConsumer::new(service.clone(), alerts)), 4),
    ];
    for (queue, consumer, concurrency) in consumers {
        tasks.spawn(run_worker(queues.clone(), queue, consumer, concurrency, stop.clone()));
    }
    if service.settings().allow_private_webhooks {
        tracing::warn!("VACCOUNT_ALLOW_PRIVATE_WEBHOOKS=true: webhook URLs may be http and point at private addresses (local development only)");
    }
    Ok(())
}

/// Webhook messages handled at once: each mostly waits on a merchant's server (up to 10 s).
const WEBHOOK_CONCURRENCY: usize = 128;

/// The expiry sweep and the due-soon reminders, as the `expiry-sweeper` function runs them on
/// its schedule in AWS. The unit of work is one sweep.
async fn sweep_due_accounts(service: Arc<Service>, every: std::time::Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut ticks, &stop).await {
        match service.expiry().sweep_due().await {
            Ok(report) if report.expired + report.released + report.failed > 0 => {
                tracing::info!(expired = report.expired, released = report.released, failed = report.failed, "due accounts swept");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "expiry sweep failed"),
        }
        if stop.is_cancelled() {
            return;
        }
        match service.reminders().sweep_due_soon().await {
            Ok(report) if report.reminded + report.failed > 0 => {
                tracing::info!(reminded = report.reminded, failed = report.failed, "due-soon reminders handed out");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "due-soon sweep failed"),
        }
    }
}

/// The nightly settlement, checked every minute: after 00:30 KST it settles yesterday (and any
/// day missed while the server was down) once. The unit of work is one run.
async fn settle_nightly(settlements: Arc<vaccount::app::settlements::Settlements>, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut ticks, &stop).await {
        match settlements.run_due().await {
            Ok(days) if !days.is_empty() => tracing::info!(?days, "settled"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "nightly settlement failed; retrying in a minute"),
        }
    }
}

/// Providers' statements dropped under `DATA/statements/{provider}/YYYY/MM/DD/statement.csv`
/// are reconciled after 06:00 KST, checked every minute, as the reconciler function does. The
/// unit of work is one run.
async fn reconcile_daily(reconciler: vaccount::app::reconcile::Reconciler, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(std::time::Duration::from_secs(60));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut ticks, &stop).await {
        match reconciler.run_due().await {
            Ok(runs) if !runs.is_empty() => tracing::info!(runs = runs.len(), "reconciliation ran"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "reconciliation failed; retrying in a minute"),
        }
    }
}

fn init_logging(format: Option<&str>) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VACCOUNT_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == Some("json") { builder.json().try_init() } else { builder.try_init() };
}

async fn ensure_demo(service: &Service, data_dir: &Path) -> Result<Demo, CliError> {
    let path = data_dir.join(DEMO_FILE);
    let mut demo = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?,
        Err(_) => create_demo(service, &path).await?,
    };
    if demo.admin.is_none()
        && let Some(admin) = demo_admin(service).await?
    {
        demo.admin = Some(admin);
        replace_private(&path, &serde_json::to_vec_pretty(&demo).map_err(|e| CliError::Config(e.to_string()))?)?;
    }
    Ok(demo)
}

/// A super_admin for the dashboard, unless the data dir has one already.
async fn demo_admin(service: &Service) -> Result<Option<DemoAdmin>, CliError> {
    let operators = service.operators();
    let mut cursor = None;
    loop {
        let page = operators.list(100, cursor).await?;
        if page.items.iter().any(|op| op.role == Role::SuperAdmin) {
            return Ok(None);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let name = DEMO_ADMIN.parse().map_err(|e| CliError::Config(format!("{e}")))?;
    let created = operators.create_user(name, Role::SuperAdmin, false, None).await?;
    Ok(Some(DemoAdmin { operator: created.operator.to_string(), enrolment_token: created.enrolment_token }))
}

async fn create_demo(service: &Service, path: &Path) -> Result<Demo, CliError> {
    let merchant = service.setup().create_merchant("Demo Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await?;
    let provider_id: vaccount::domain::ProviderId = "bank".parse().map_err(|e| CliError::Config(format!("{e}")))?;
    // A demo setup interrupted half-way left the provider behind: reuse it.
    let provider = match vaccount::repo::merchants::get_provider(service.table().as_ref(), &provider_id).await.map_err(AppError::from)? {
        Some(existing) => vaccount::app::setup::ProviderCreated { provider_id: existing.id, secret: existing.secret },
        None => service.setup().add_provider(provider_id, ProviderKind::Generic, vec![]).await?,
    };
    for (bank, first) in DEMO_BANKS {
        let first = first.parse().map_err(|e| CliError::Config(format!("{e}")))?;
        service.setup().add_pool_range(&provider.provider_id, bank, &first, DEMO_POOL_SIZE).await?;
    }
    let demo = Demo {
        merchant_id: merchant.merchant_id.to_string(),
        key_id: merchant.key_id.to_string(),
        secret: merchant.secret,
        provider_id: provider.provider_id.to_string(),
        provider_secret: provider.secret,
        admin: None,
    };
    write_private(path, &serde_json::to_vec_pretty(&demo).map_err(|e| CliError::Config(e.to_string()))?)?;
    Ok(demo)
}

/// Rewrites an owner-only file whole: a new file beside it, renamed over it.
fn replace_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let fresh = path.with_extension("json.new");
    let _ = std::fs::remove_file(&fresh);
    write_private(&fresh, bytes)?;
    std::fs::rename(&fresh, path)?;
    Ok(())
}

/// The demo secrets are readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)?;
    Ok(())
}

/// How to reach the dashboard: the demo super_admin's enrolment link while it is unused, then
/// where to log in.
async fn dashboard_note(service: &Service, demo: &Demo, addr: SocketAddr) -> Result<String, CliError> {
    let url = format!("http://{addr}/admin/");
    let Some(admin) = &demo.admin else {
        return Ok(format!("Operations dashboard: {url} (log in with an operator of this data dir; `vaccount admin create-user` makes one)"));
    };
    let name = admin.operator.parse().map_err(|e| CliError::Config(format!("{e}")))?;
    let enrolling = match service.operators().get(&name).await {
        Ok(op) => op.status == OperatorStatus::Enrolling,
        Err(AppError::NotFound) => false,
        Err(e) => return Err(e.into()),
    };
    Ok(if enrolling {
        format!(
            "Operations dashboard: {url}
  super_admin      {operator} (kept in {DEMO_FILE}); enrol once with this link, valid for 24 hours from the first start:
  {url}enrol?token={token}
  (choose a password, scan the QR code with an authenticator app, type its code; then log in with all three)
",
            operator = admin.operator,
            token = admin.enrolment_token,
        )
    } else {
        format!("Operations dashboard: {url} (log in as {operator}: password and authenticator code)\n", operator = admin.operator)
    })
}

fn print_demo(demo: &Demo, addr: SocketAddr) {
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "vaccount".into());
    let url = format!("http://{addr}");
    let now = chrono::Utc::now();
    let order = format!("DEMO-{}", now.format("%Y%m%d-%H%M%S"));
    let body = format!(r#"{{"order_id":"{order}","amount":35000,"bank_code":"004","depositor_name":"홍길동"}}"#);
    let timestamp = now.timestamp().to_string();
    let signature = vaccount::domain::signing::sign_hex(
        &demo.secret,
        vaccount::domain::signing::merchant_canonical(&timestamp, "POST", "/v1/virtual-accounts", body.as_bytes()).as_bytes(),
    );
    println!(
        "\nDemo merchant ready (stored in {DEMO_FILE} in the data dir).
  merchant_id      {merchant}
  key_id           {key}
  secret           {secret}
  provider         {provider} (generic), notification secret {psecret}
  number pools     004, 088, 020, 090 ({DEMO_POOL_SIZE} numbers each)

Issue a virtual account (signed when sent; run it again to see the Idempotent-Replayed answer):
  {exe} call --url {url} --key-id {key} --secret {secret} --idempotency-key {order} POST /v1/virtual-accounts '{body}'

Or with curl (this signature is valid for 300 seconds):
  curl -i -X POST {url}/v1/virtual-accounts -H 'Content-Type: application/json' -H 'X-VA-Key-Id: {key}' -H 'X-VA-Timestamp: {timestamp}' -H 'X-VA-Signature: {signature}' -H 'Idempotency-Key: {order}' --data '{body}'

Pay it as the bank would (put the account_number of the answer in ACCOUNT; send it twice: one deposit):
  {exe} simulate deposit --url {url} --provider {provider} --secret {psecret} --bank 004 --account ACCOUNT --amount 35000 --name 홍길동 --tx T-1
  {exe} simulate reversal --url {url} --provider {provider} --secret {psecret} --original T-1
  {exe} call --url {url} --key-id {key} --secret {secret} GET /v1/deposits
",
        merchant = demo.merchant_id,
        key = demo.key_id,
        secret = demo.secret,
        provider = demo.provider_id,
        psecret = demo.provider_secret,
    );
}
