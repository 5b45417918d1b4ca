//! `ops-alert`: consumes the `ops-alerts` queue: outbox operations events and CloudWatch alarm notifications. `AlertConsumer` records each as an incident (escalating repeats) and posts it to Slack and/or email.
//!
//! The handler is the library's SQS adapter of the consumer contract (`vaccount::aws::sqs`):
//! the consumer answers each message, the adapter turns the answers into a partial batch response.

pub use vaccount::aws::sqs::handle_sqs_batch as handle;
