//! `event-publisher`: reads the table's stream and publishes each new outbox event to the
//! events topic, once, in stream order (`vaccount::aws::stream`). Not HTTP: the handler is a
//! plain async fn over the `Publisher` port and the key that opens sealed records.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use vaccount::aws::stream::publish_batch;
use vaccount::ports::Publisher;
use vaccount::store::DataKey;

/// Never an invocation error: a failure is reported as the record to resume from, so the
/// records before it are not published twice (the event source has `ReportBatchItemFailures`).
pub async fn handle(publisher: &dyn Publisher, key: &DataKey, batch: Event) -> DynamoDbEventResponse {
    let report = publish_batch(publisher, key, &batch).await;
    match &report.failed {
        Some(failed) => {
            tracing::error!(
                published = report.published,
                skipped = report.skipped,
                sequence_number = %failed.sequence_number,
                error = %failed.error,
                "batch stopped at a record; Lambda retries from it"
            );
        }
        None => tracing::info!(published = report.published, skipped = report.skipped, "batch published"),
    }
    report.response()
}
