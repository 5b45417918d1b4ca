//! The outbox's way out in AWS: the table's stream hands the publisher batches of changed
//! items; the event items among them are opened, decoded and published, in stream order.
//!
//! A shard of the stream is read in order and Lambda resumes a failed batch from the record
//! we name, so the answer names the *first* record that did not go out, and nothing after it
//! is published in this invocation (it would only be published again on the retry). A record
//! that cannot be read is such a failure too, never skipped: after the retries it reaches the
//! on-failure destination, where an operator sees it.

use crate::domain::OutboxEvent;
use crate::ports::{PublishError, Publisher, SK, StoreError};
use crate::repo::outbox::EVENT_SORT_KEY;
use crate::store::DataKey;
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The image is not an item we could have written (attribute types we never use).
    #[error("stream image: {0}")]
    Image(StoreError),
    /// The sealed record does not open with our key, or what it holds is not an event.
    #[error("outbox event: {0}")]
    Event(StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// The outbox event a stream record carries: `None` for every record that is not the insert of
/// an event item (the event source's filter lets none through; this holds without it).
pub fn outbox_event(record: &EventRecord, key: &DataKey) -> Result<Option<OutboxEvent>, StreamError> {
    let image = &record.change.new_image;
    let is_event = matches!(image.get(SK), Some(serde_dynamo::AttributeValue::S(sk)) if sk == EVENT_SORT_KEY);
    if record.event_name != "INSERT" || !is_event {
        return Ok(None);
    }
    let sdk_item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue> = image.clone().into();
    let item = crate::store::dynamodb::from_dynamo_item(sdk_item).map_err(StreamError::Image)?;
    let opened = key.open_item(item).map_err(StreamError::Event)?;
    crate::repo::data_of::<OutboxEvent>(&opened).map(Some).map_err(StreamError::Event)
}

/// What became of one batch.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BatchReport {
    pub published: usize,
    /// Records that were not outbox inserts.
    pub skipped: usize,
    /// The record the batch stopped at; Lambda retries from it.
    pub failed: Option<FailedRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRecord {
    /// Empty when the record had none, which makes Lambda retry the whole batch: the safe
    /// reading of a record a real stream never sends.
    pub sequence_number: String,
    pub error: String,
}

impl BatchReport {
    /// The partial batch response Lambda reads (`ReportBatchItemFailures`).
    pub fn response(&self) -> DynamoDbEventResponse {
        let mut response = DynamoDbEventResponse::default();
        if let Some(failed) = &self.failed {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(failed.sequence_number.clone());
            response.batch_item_failures.push(failure);
        }
        response
    }
}

/// Publishes the batch's outbox events in order, stopping at the first record that fails.
pub async fn publish_batch(publisher: &dyn Publisher, key: &DataKey, batch: &Event) -> BatchReport {
    let mut report = BatchReport::default();
    for record in &batch.records {
        let outcome = match outbox_event(record, key) {
            Ok(Some(event)) => publisher.publish(&event).await.map(|()| true).map_err(StreamError::from),
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(true) => report.published += 1,
            Ok(false) => report.skipped += 1,
            Err(e) => {
                let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
                report.failed = Some(FailedRecord { sequence_number, error: e.to_string() });
                break;
            }
        }
    }
    report
}
