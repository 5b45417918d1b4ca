//! `expiry-sweeper`: invoked by EventBridge Scheduler every minute to settle the accounts whose
//! due time has come (`Service::sweep_due`) and to hand out the due-soon reminders of those whose
//! due time is near (`Service::sweep_due_soon`). Not HTTP: the handler is a plain async fn.

use vaccount::app::Service;
use vaccount::app::expiry::SweepReport;

/// The payload is the schedule's fixed Input and decides nothing: the work comes from the due
/// index, so a retried or overlapping invocation finds only what is still due. An error fails
/// the invocation, and a failed invocation lands in the sweeper's dead-letter queue (template.yaml).
pub async fn handle(service: &Service, event: serde_json::Value) -> Result<SweepReport, lambda_runtime::Error> {
    let report = service.expiry().sweep_due().await?;
    let reminders = service.reminders().sweep_due_soon().await?;
    tracing::info!(reminded = reminders.reminded, failed = reminders.failed, "due-soon reminders handed out");
    // An asynchronous invocation's result goes nowhere; the log line is what an operator sees.
    if report.failed > 0 {
        tracing::warn!(%event, expired = report.expired, released = report.released, failed = report.failed, "sweep left accounts for the next run");
    } else {
        tracing::info!(%event, expired = report.expired, released = report.released, "sweep done");
    }
    Ok(report)
}
