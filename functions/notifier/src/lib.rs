//! `notifier`: consumes the `customer-notices` queue. `NoticeConsumer` sends the customer 알림톡 (SMS when it fails) and email for issued, paid, due-soon and expired accounts, and records each send.
//!
//! The handler is the library's SQS adapter of the consumer contract (`vaccount::aws::sqs`):
//! the consumer answers each message, the adapter turns the answers into a partial batch response.

pub use vaccount::aws::sqs::handle_sqs_batch as handle;
