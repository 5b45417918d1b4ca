//! `settlement-exporter`: invoked by EventBridge Scheduler at 00:30 Asia/Seoul to settle
//! yesterday for every merchant (`Settlements::run_due`, which also catches up days a failed
//! run missed). An operator re-runs one day with the input `{"date": "2026-11-24"}` (and
//! optionally `"merchant": "mch_…"`); a re-run over unchanged deposits writes the same bytes.

use serde::Deserialize;
use vaccount::app::settlements::{SettlementView, Settlements};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rerun {
    date: String,
    merchant: Option<String>,
}

/// An error fails the invocation; the scheduler retries it and then hands it to the
/// exporter's dead-letter queue (template.yaml), whose alarm pages.
pub async fn handle(settlements: &Settlements, event: serde_json::Value) -> Result<serde_json::Value, lambda_runtime::Error> {
    // The schedule's own input names a task; anything with a `date` is a re-run request.
    if event.get("date").is_none() {
        let days = settlements.run_due().await?;
        tracing::info!(?days, "nightly settlement done");
        return Ok(serde_json::json!({ "settled_days": days }));
    }
    let rerun: Rerun = serde_json::from_value(event).map_err(|e| format!("a re-run takes {{\"date\": \"YYYY-MM-DD\", \"merchant\"?}}: {e}"))?;
    let day = vaccount::http::dto::parse_day(&rerun.date).map_err(|e| format!("date {e}"))?;
    let done = match rerun.merchant {
        Some(m) => vec![settlements.export_day(&m.parse().map_err(|e| format!("merchant: {e}"))?, day).await?],
        None => settlements.export_all(day).await?,
    };
    tracing::info!(%day, merchants = done.len(), "settlement re-run done");
    Ok(serde_json::to_value(done.iter().map(SettlementView::of).collect::<Vec<_>>())?)
}
