//! `vaccount`: the whole service on one machine (`serve`), the setup commands operators run
//! against a data dir or a deployed table, and `call` for signed requests by hand.
//!
//! - `config`: settings from flags, `VACCOUNT_*` variables and `vaccount.toml`.
//! - `store`: opening the embedded store or a DynamoDB table from `--data-dir` / `--store`.
//! - `serve`: the local server and its `--demo` setup.
//! - `call`: a signed merchant request, signed at send time.
//! - `simulate`: signed provider notices, as a bank sends them.
//! - `admin`: operators of the dashboard, and the audit chain's check.
//! - `exceptions`: resolving deposit exceptions from the command line.
//! - `settle`: a day's settlement files under the data dir.
//! - `bench`: load generators whose figures go into docs/performance.md.

mod admin;
mod bench;
mod bench_settlement;
mod bench_webhooks;
mod call;
mod config;
mod exceptions;
mod reconcile;
mod serve;
mod settle;
mod simulate;
mod store;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use vaccount::app::AppError;
use vaccount::domain::{Fee, Krw};

#[derive(Parser)]
#[command(name = "vaccount", version, about = "Virtual-account collection service")]
struct Cli {
    /// Embedded store directory (ignored with --store).
    #[arg(long, global = true, env = "VACCOUNT_DATA_DIR", default_value = "./vaccount-data")]
    data_dir: PathBuf,
    /// Use a DynamoDB table instead of the data dir: dynamodb://TABLE_NAME (AWS config from the
    /// standard chain, AWS_ENDPOINT_URL for an emulator).
    #[arg(long, global = true, env = "VACCOUNT_STORE")]
    store: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole service in one process on the embedded store.
    Serve(serve::ServeArgs),
    /// Merchants and their API keys.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Upstream providers (banks, PGs).
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// The built-in account-number pool.
    #[command(subcommand)]
    Pool(PoolCommand),
    /// Create the store if it does not exist (the DynamoDB table in a local emulator).
    Migrate,
    /// Send one signed merchant API request.
    Call(call::CallArgs),
    /// Send signed provider notices to a running server (demos, manual tests).
    #[command(subcommand)]
    Simulate(simulate::SimulateCommand),
    /// Operators of the admin dashboard.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The audit log of operators' actions.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Deposit exceptions: list and resolve.
    #[command(subcommand)]
    Exception(exceptions::ExceptionCommand),
    /// Settle a KST day: CSV, XLSX and manifest per merchant under the data dir.
    Settle(settle::SettleArgs),
    /// Reconcile a provider's statement of a KST day; the report goes under the data dir.
    Reconcile(reconcile::ReconcileArgs),
    /// Measure the service; prints JSON figures.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Issue accounts over HTTP against a fresh in-process server.
    Issue(bench::BenchIssueArgs),
    /// Send signed deposit notices over HTTP, to a fresh in-process server or a running one.
    Deposits(bench::BenchDepositsArgs),
    /// Notice-to-webhook latency over a running `serve` at a steady deposit rate.
    Webhooks(bench_webhooks::BenchWebhooksArgs),
    /// Export one day of N deposits to CSV, XLSX and manifest; time and peak RSS.
    Settlement(bench_settlement::BenchSettlementArgs),
    /// The generating half of `bench settlement`, run as its child process.
    #[command(hide = true)]
    SettlementGenerate(bench_settlement::BenchSettlementGenerateArgs),
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Create a merchant and its first API key.
    Create(MerchantCreate),
    /// Add a second active key (rotation); a merchant holds at most two.
    AddKey {
        #[arg(long)]
        merchant: String,
    },
    /// Revoke one of a merchant's keys.
    RevokeKey {
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        key: String,
    },
}

#[derive(Args)]
struct MerchantCreate {
    #[arg(long)]
    name: String,
    /// Flat fee in won per credited deposit.
    #[arg(long, conflicts_with = "fee_rate_bps")]
    fee_per_deposit: Option<i64>,
    /// Fee in basis points of each deposit (150 = 1.5 %).
    #[arg(long)]
    fee_rate_bps: Option<u32>,
    /// Settlement pays out D+N business days after the deposit day.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(0..=30))]
    payout_days: u8,
    #[command(flatten)]
    policy: PolicyArgs,
}

/// A merchant's deposit policy (docs/decisions.md); accounts carry it as it was when they were issued.
#[derive(Args)]
struct PolicyArgs {
    /// New one-time accounts accept partial payments unless the request says otherwise.
    #[arg(long)]
    allow_partial: bool,
    /// Credit deposits made after the due time instead of holding them as `late` exceptions.
    #[arg(long)]
    accept_late: bool,
    /// When the depositor's name differs: `warn` (credit and flag) or `hold` (exception).
    #[arg(long, default_value = "warn")]
    name_mismatch: vaccount::domain::NameMismatchPolicy,
    /// Maker-checker: exception resolutions need a second operator's approval.
    #[arg(long)]
    require_approval: bool,
}

impl PolicyArgs {
    fn policy(&self) -> vaccount::domain::DepositPolicy {
        vaccount::domain::DepositPolicy {
            allow_partial_by_default: self.allow_partial,
            accept_late: self.accept_late,
            name_mismatch: self.name_mismatch,
            require_exception_approval: self.require_approval,
        }
    }
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Register a provider and print its notification secret.
    Add {
        #[arg(long)]
        id: String,
        #[arg(long, default_value = "generic")]
        kind: String,
        /// Accept notifications only from these addresses (repeatable).
        #[arg(long = "allow-ip")]
        allow_ip: Vec<std::net::IpAddr>,
    },
}

#[derive(Subcommand)]
enum PoolCommand {
    /// Import a range of account numbers for one bank.
    Add {
        #[arg(long)]
        provider: String,
        #[arg(long)]
        bank: String,
        #[arg(long)]
        first: String,
        #[arg(long)]
        count: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", serde_json::json!({ "error": e.to_string(), "detail": e.detail() }));
            ExitCode::FAILURE
        }
    }
}

/// A command failure, printed as JSON on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    App(#[from] AppError),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The command ran and found something wrong (its report is on stdout).
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    fn detail(&self) -> serde_json::Value {
        match self {
            CliError::App(AppError::Invalid { detail, errors }) => serde_json::json!({ "detail": detail, "errors": errors }),
            _ => serde_json::Value::Null,
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| CliError::Config(e.to_string()))?);
    Ok(())
}

fn parse<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, CliError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| CliError::App(AppError::field(field, e)))
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let location = store::Location::from_flags(&cli.data_dir, cli.store.as_deref())?;
    match cli.command {
        Command::Serve(args) => serve::run(&cli.data_dir, cli.store.is_some(), args).await,
        Command::Call(args) => call::run(args).await,
        Command::Bench(BenchCommand::Issue(args)) => bench::issue(args).await,
        Command::Bench(BenchCommand::Deposits(args)) => bench::deposits(args).await,
        Command::Bench(BenchCommand::Webhooks(args)) => bench_webhooks::webhooks(args).await,
        Command::Bench(BenchCommand::Settlement(args)) => bench_settlement::settlement(args).await,
        Command::Bench(BenchCommand::SettlementGenerate(args)) => bench_settlement::generate_only(args).await,
        Command::Simulate(command) => simulate::run(command).await,
        Command::Settle(args) => settle::run(&location, args).await,
        Command::Reconcile(args) => reconcile::run(&location, args).await,
        Command::Admin(command) => admin::admin(&store::service(&location).await?, command).await,
        Command::Audit(command) => admin::audit(&store::service(&location).await?, command).await,
        Command::Exception(command) => exceptions::exception(&store::service(&location).await?, command).await,
        Command::Migrate => {
            let (relisted, unsettled) = store::migrate(&location).await?;
            print_json(&serde_json::json!({ "migrated": location.to_string(), "relisted": relisted, "unsettled_days": unsettled }))
        }
        Command::Merchant(MerchantCommand::Create(args)) => {
            let fee = match (args.fee_per_deposit, args.fee_rate_bps) {
                (_, Some(bps)) => Fee::RateBps(bps),
                (Some(won), None) => Fee::PerDeposit(Krw::new(won)),
                (None, None) => Fee::PerDeposit(Krw::new(300)),
            };
            let service = store::service(&location).await?;
            print_json(&service.setup().create_merchant(&args.name, fee, args.payout_days, args.policy.policy()).await?)
        }
        Command::Merchant(MerchantCommand::AddKey { merchant }) => {
            let service = store::service(&location).await?;
            print_json(&service.setup().add_api_key(&parse("merchant", &merchant)?).await?)
        }
        Command::Merchant(MerchantCommand::RevokeKey { merchant, key }) => {
            let service = store::service(&location).await?;
            service.setup().revoke_api_key(&parse("merchant", &merchant)?, &parse("key", &key)?).await?;
            print_json(&serde_json::json!({ "revoked": key }))
        }
        Command::Provider(ProviderCommand::Add { id, kind, allow_ip }) => {
            let service = store::service(&location).await?;
            print_json(&service.setup().add_provider(parse("id", &id)?, parse("kind", &kind)?, allow_ip).await?)
        }
        Command::Pool(PoolCommand::Add { provider, bank, first, count }) => {
            let service = store::service(&location).await?;
            let added = service.setup().add_pool_range(&parse("provider", &provider)?, parse("bank", &bank)?, &parse("first", &first)?, count).await?;
            print_json(&added)
        }
    }
}
