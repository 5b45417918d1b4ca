//! `vaccount simulate`: signed provider notices in the `generic` format, as a bank would send
//! them, for demos and manual tests.

use crate::CliError;
use clap::{Args, Subcommand};
use vaccount::domain::time::to_kst_string;

#[derive(Subcommand)]
pub enum SimulateCommand {
    /// A deposit notice (입금 통지).
    Deposit(DepositArgs),
    /// A reversal notice (입금 취소) of an earlier deposit.
    Reversal(ReversalArgs),
}

#[derive(Args)]
pub struct Target {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long, env = "VACCOUNT_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Provider id (as `vaccount provider add --id`).
    #[arg(long, default_value = "bank")]
    provider: String,
    /// The provider's notification secret.
    #[arg(long, env = "VACCOUNT_PROVIDER_SECRET", hide_env_values = true)]
    secret: String,
}

#[derive(Args)]
pub struct DepositArgs {
    #[command(flatten)]
    target: Target,
    /// KFTC bank code, e.g. 004.
    #[arg(long)]
    bank: String,
    /// The virtual account number.
    #[arg(long)]
    account: String,
    /// Won.
    #[arg(long)]
    amount: i64,
    /// Depositor name as the bank prints it.
    #[arg(long)]
    name: Option<String>,
    /// Transaction id [default: a fresh one]; send the same one twice to see a duplicate.
    #[arg(long)]
    tx: Option<String>,
    /// When the money arrived (RFC 3339) [default: now].
    #[arg(long)]
    at: Option<String>,
}

#[derive(Args)]
pub struct ReversalArgs {
    #[command(flatten)]
    target: Target,
    /// The transaction id of the deposit to reverse.
    #[arg(long)]
    original: String,
    #[arg(long)]
    tx: Option<String>,
    #[arg(long)]
    at: Option<String>,
}

fn fresh_tx() -> String {
    format!("SIM-{}", ulid::Ulid::new())
}

pub async fn run(command: SimulateCommand) -> Result<(), CliError> {
    let now = to_kst_string(chrono::Utc::now());
    let (target, body) = match command {
        SimulateCommand::Deposit(a) => {
            let mut body = serde_json::json!({
                "type": "deposit", "transaction_id": a.tx.unwrap_or_else(fresh_tx), "bank_code": a.bank,
                "account_number": a.account, "amount": a.amount, "occurred_at": a.at.unwrap_or(now),
            });
            if let Some(name) = a.name {
                body["depositor_name"] = name.into();
            }
            (a.target, body)
        }
        SimulateCommand::Reversal(a) => {
            let body = serde_json::json!({
                "type": "reversal", "transaction_id": a.tx.unwrap_or_else(fresh_tx),
                "original_transaction_id": a.original, "occurred_at": a.at.unwrap_or(now),
            });
            (a.target, body)
        }
    };
    let (status, answer) = send_notice(&reqwest::Client::new(), &target.url, &target.provider, &target.secret, &body.to_string()).await?;
    eprintln!("HTTP {status}");
    println!("{}", serde_json::to_string_pretty(&answer).unwrap_or_default());
    if (200..300).contains(&status) { Ok(()) } else { Err(CliError::Config(format!("HTTP {status}"))) }
}

/// Posts one signed notice; the answer's status and JSON body.
pub async fn send_notice(client: &reqwest::Client, url: &str, provider: &str, secret: &str, body: &str) -> Result<(u16, serde_json::Value), CliError> {
    let response = client
        .post(format!("{}/v1/providers/{provider}/notifications", url.trim_end_matches('/')))
        .header("Content-Type", "application/json")
        .header("X-Provider-Signature", vaccount::providers::generic::sign(secret, body.as_bytes()))
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| CliError::Config(format!("request failed: {e}")))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| CliError::Config(format!("reading the answer failed: {e}")))?;
    Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))))
}
