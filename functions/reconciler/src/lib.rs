//! `reconciler`: invoked by EventBridge Scheduler every hour from 06:00 to 12:00 Asia/Seoul to
//! compare each provider's statement of yesterday (dropped into the bucket at
//! `statements/{provider}/YYYY/MM/DD/statement.csv`) with our deposits (`Reconciler::run_due`:
//! lost deposits recovered through the notice path, differences reported and alerted; a
//! statement still missing at noon is alerted). An operator reconciles a corrected statement
//! again with the input `{"provider": "bank", "date": "2026-11-24"}`.

use serde::Deserialize;
use vaccount::app::reconcile::Reconciler;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Again {
    provider: String,
    date: String,
}

/// An error fails the invocation: the scheduler retries it, then its dead-letter queue (alarmed)
/// keeps it.
pub async fn handle(reconciler: &Reconciler, event: serde_json::Value) -> Result<serde_json::Value, lambda_runtime::Error> {
    if event.get("date").is_none() {
        let runs = reconciler.run_due().await?;
        tracing::info!(runs = runs.len(), "scheduled reconciliation done");
        return Ok(serde_json::to_value(runs)?);
    }
    let again: Again = serde_json::from_value(event).map_err(|e| format!("a re-run takes {{\"provider\": …, \"date\": \"YYYY-MM-DD\"}}: {e}"))?;
    let provider = again.provider.parse().map_err(|e| format!("provider: {e}"))?;
    let day = vaccount::http::dto::parse_day(&again.date).map_err(|e| format!("date {e}"))?;
    match reconciler.reconcile_from_source(&provider, day).await? {
        Some(report) => Ok(serde_json::to_value(report)?),
        None => Err(format!("no statement of {provider} for {day} in the bucket").into()),
    }
}
