//! `webhook-sender`: consumes the `merchant-webhooks` queue. Each message is an outbox event (or a resend request) that `WebhookConsumer` delivers to the merchant's endpoints, signed, logging every attempt; retries come back through the message's visibility.
//!
//! The handler is the library's SQS adapter of the consumer contract (`vaccount::aws::sqs`):
//! the consumer answers each message, the adapter turns the answers into a partial batch response.

pub use vaccount::aws::sqs::handle_sqs_batch as handle;
