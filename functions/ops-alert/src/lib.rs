//! `ops-alert`: consumes the `ops-alerts` queue: outbox operations events and CloudWatch alarm notifications. `AlertConsumer` records each as an incident (escalating repeats) and posts it to Slack and/or email.
//!
//! The handler is the library's SQS adapter of the consumer contract (`vaccount::aws::sqs`)
//! over the AWS reading of the queue's messages (`vaccount::aws::alarms`: SNS envelopes
//! opened, CloudWatch alarms read): the consumer answers each message, the adapter turns the
//! answers into a partial batch response.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use chrono::{DateTime, Utc};
use vaccount::app::alerts::AlertConsumer;
use vaccount::aws::alarms::OpsAlertMessages;
use vaccount::aws::sqs::handle_sqs_batch;

pub async fn handle(consumer: &AlertConsumer, sqs: &aws_sdk_sqs::Client, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
    handle_sqs_batch(&OpsAlertMessages::new(consumer.clone()), sqs, event, now).await
}
