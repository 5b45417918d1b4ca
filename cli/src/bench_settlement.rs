//! `vaccount bench settlement`: the nightly export of one very busy day. A child process
//! (`bench settlement-generate`, hidden) fills a fresh embedded store (records sealed, as in
//! production) with a merchant and `deposits` settlement entries on one KST day, written as the
//! money path writes them (one entry item per deposit, in transactions of 100 from concurrent
//! writers). Then this process, which has done nothing else, opens the store and exports the
//! day to CSV, XLSX and manifest on the local file store, and prints the export's time and its
//! own peak RSS: what `vaccount settle` of such a day needs.

use crate::CliError;
use chrono::{Duration, NaiveDate};
use clap::Args;
use std::sync::Arc;
use std::time::Instant;
use vaccount::app::settlements::Settlements;
use vaccount::domain::calendar::kst_day_bounds;
use vaccount::domain::settlement::{EntryKind, SettlementEntry};
use vaccount::domain::{BankCode, DepositId, Fee, Krw, MerchantId, VirtualAccountId};
use vaccount::ports::{SystemClock, Table};
use vaccount::store::LocalBlobs;

#[derive(Args)]
pub struct BenchSettlementGenerateArgs {
    /// The data dir to fill (created).
    #[arg(long)]
    dir: std::path::PathBuf,
    #[command(flatten)]
    day: BenchSettlementArgs,
}

#[derive(Args, Clone)]
pub struct BenchSettlementArgs {
    /// Deposits on the day.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=5_000_000))]
    deposits: u64,
    /// Every n-th deposit is reversed the same day (0: none).
    #[arg(long, default_value_t = 50)]
    reverse_every: u64,
}

const DAY: &str = "2026-11-24";
const BATCH: usize = 100;
const WRITERS: usize = 8;

pub async fn settlement(args: BenchSettlementArgs) -> Result<(), CliError> {
    let dir = crate::bench::tempfile_dir()?;
    let result = run(&dir, &args).await;
    let _ = std::fs::remove_dir_all(&dir);
    crate::print_json(&result?)
}

/// The child's half: fill `dir` with the day and say how.
pub async fn generate_only(args: BenchSettlementGenerateArgs) -> Result<(), CliError> {
    let (_, table) = crate::store::open_local(&args.dir)?;
    let service = vaccount::app::Service::new(table.clone(), Arc::new(SystemClock), Default::default());
    let merchant = service.setup().create_merchant("Bench Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await?.merchant_id;
    let started = Instant::now();
    let rows = generate(&table, &merchant, day()?, &args.day).await?;
    crate::print_json(&serde_json::json!({ "merchant_id": merchant, "rows_written": rows, "generate_seconds": round(started.elapsed().as_secs_f64()) }))
}

fn day() -> Result<NaiveDate, CliError> {
    DAY.parse().map_err(|e| CliError::Config(format!("{e}")))
}

async fn run(dir: &std::path::Path, args: &BenchSettlementArgs) -> Result<serde_json::Value, CliError> {
    let out = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "settlement-generate", "--dir"])
        .arg(dir)
        .args(["--deposits", &args.deposits.to_string(), "--reverse-every", &args.reverse_every.to_string()])
        .output()
        .await?;
    if !out.status.success() {
        return Err(CliError::Config(format!("generating the day failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    let generated: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| CliError::Config(format!("generator output: {e}")))?;
    let merchant: MerchantId = crate::parse("merchant", generated["merchant_id"].as_str().unwrap_or_default())?;

    let (_, table) = crate::store::open_local(dir)?;
    let service = vaccount::app::Service::new(table, Arc::new(SystemClock), Default::default());
    let settlements = Settlements::new(&service, Arc::new(LocalBlobs::new(dir.join("files"))), dir.join("tmp"));
    let started = Instant::now();
    let settled = settlements.export_day(&merchant, day()?).await?;
    let export = started.elapsed();
    Ok(serde_json::json!({
        "bench": "settlement",
        "deposits": args.deposits,
        "rows": settled.totals.rows,
        "rows_written": generated["rows_written"],
        "generate_seconds": generated["generate_seconds"],
        "export_seconds": round(export.as_secs_f64()),
        "rows_per_second": (settled.totals.rows as f64 / export.as_secs_f64()).round(),
        "export_peak_rss_mib": peak_rss_mib(),
        "totals": {
            "deposit_count": settled.totals.deposit_count,
            "gross": settled.totals.gross.won(),
            "fee": settled.totals.fee.won(),
            "vat": settled.totals.vat.won(),
            "net": settled.totals.net.won(),
        },
        "files": settled.files,
    }))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The day's entries, spread evenly over it, from `WRITERS` concurrent writers.
async fn generate(table: &Arc<dyn Table>, merchant: &MerchantId, day: NaiveDate, args: &BenchSettlementArgs) -> Result<u64, CliError> {
    let (start, _) = kst_day_bounds(day);
    let spacing_ms = (86_400_000 / args.deposits.max(1)).max(1) as i64;
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS as u64 {
        let (table, merchant, deposits, reverse_every) = (table.clone(), merchant.clone(), args.deposits, args.reverse_every);
        writers.spawn(async move {
            let mut written = 0u64;
            let mut batch = Vec::with_capacity(BATCH);
            let mut n = writer;
            while n < deposits {
                let at = start + Duration::milliseconds(n as i64 * spacing_ms);
                let entry = bench_entry(&merchant, day, at, n, EntryKind::Deposit);
                batch.push(vaccount::repo::settlements::put_entry(&entry)?);
                if reverse_every > 0 && n % reverse_every == reverse_every - 1 {
                    let mut undo = bench_entry(&merchant, day, at + Duration::milliseconds(1), n, EntryKind::DepositReversal);
                    undo.amount = undo.amount.negated().map_err(|e| vaccount::ports::StoreError::Invalid(e.to_string()))?;
                    undo.deposits = -1;
                    undo.deposit_id = entry.deposit_id.clone();
                    batch.push(vaccount::repo::settlements::put_entry(&undo)?);
                }
                if batch.len() >= BATCH {
                    written += batch.len() as u64;
                    table.transact(std::mem::take(&mut batch)).await?;
                }
                n += WRITERS as u64;
            }
            written += batch.len() as u64;
            if !batch.is_empty() {
                table.transact(batch).await?;
            }
            Ok::<u64, vaccount::ports::StoreError>(written)
        });
    }
    let mut total = 0;
    while let Some(done) = writers.join_next().await {
        total += done.map_err(|e| CliError::Config(e.to_string()))?.map_err(vaccount::app::AppError::from)?;
    }
    Ok(total)
}

fn bench_entry(merchant: &MerchantId, day: NaiveDate, at: chrono::DateTime<chrono::Utc>, n: u64, kind: EntryKind) -> SettlementEntry {
    SettlementEntry {
        merchant_id: merchant.clone(),
        day,
        recorded_at: at,
        deposited_at: Some(at),
        kind,
        deposit_id: DepositId::generate(at),
        provider: "bench".parse().expect("provider id"),
        transaction_id: format!("T-{n:08}").parse().expect("transaction id"),
        virtual_account_id: VirtualAccountId::generate(at),
        order_id: format!("ORDER-{n:08}").parse().expect("order id"),
        bank_code: BankCode::Kookmin,
        account_number: format!("{:014}", 70_000_000_000_000u64 + n % 100_000).parse().expect("account number"),
        depositor_name: Some("홍길동".into()),
        amount: Krw::new(10_000 + (n % 90) as i64 * 1_000),
        deposits: 1,
        fee_terms: Some(vaccount::domain::Fee::PerDeposit(Krw::new(300))),
        credit_before: None,
    }
}

/// This process's peak resident set (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}
