//! `vaccount call`: one merchant API request, signed at the moment it is sent (a pasted
//! signature expires after 300 s; this command never does).

use crate::CliError;
use clap::Args;
use std::time::{SystemTime, UNIX_EPOCH};
use vaccount::domain::signing::{merchant_canonical, sign_hex};

#[derive(Args)]
pub struct CallArgs {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long, env = "VACCOUNT_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, env = "VACCOUNT_KEY_ID")]
    key_id: String,
    #[arg(long, env = "VACCOUNT_SECRET", hide_env_values = true)]
    secret: String,
    #[arg(long)]
    idempotency_key: Option<String>,
    /// GET, POST, ...
    method: String,
    /// Path and query, e.g. /v1/virtual-accounts?limit=5
    path: String,
    /// JSON body
    body: Option<String>,
}

pub async fn run(args: CallArgs) -> Result<(), CliError> {
    let method: reqwest::Method = args.method.to_ascii_uppercase().parse().map_err(|_| CliError::Config(format!("`{}` is not an HTTP method", args.method)))?;
    if !args.path.starts_with('/') {
        return Err(CliError::Config("the path must start with /".into()));
    }
    let body = args.body.unwrap_or_default();
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default().to_string();
    let signature = sign_hex(&args.secret, merchant_canonical(&timestamp, method.as_str(), &args.path, body.as_bytes()).as_bytes());
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{}", args.url.trim_end_matches('/'), args.path))
        .header("X-VA-Key-Id", &args.key_id)
        .header("X-VA-Timestamp", &timestamp)
        .header("X-VA-Signature", signature);
    if !body.is_empty() {
        request = request.header("Content-Type", "application/json").body(body);
    }
    if let Some(key) = &args.idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.map_err(|e| CliError::Config(format!("request failed: {e}")))?;
    let status = response.status();
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let text = response.text().await.map_err(|e| CliError::Config(format!("reading the response failed: {e}")))?;
    eprintln!("HTTP {}{}", status.as_u16(), if replayed { " (Idempotent-Replayed: true)" } else { "" });
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => println!("{}", serde_json::to_string_pretty(&json).unwrap_or(text)),
        Err(_) => println!("{text}"),
    }
    if status.is_success() { Ok(()) } else { Err(CliError::Config(format!("HTTP {}", status.as_u16()))) }
}
