//! The queue consumers' common shape. A consumer gets one message at a time and says what
//! became of it; the queue adapter (SQS through Lambda, or the local queue in `serve`) acts on
//! the answer the same way, so the retry and dead-letter behaviour is identical:
//!
//! - `Ok(Done)`: the message is deleted.
//! - `Ok(RetryAt(t))`: the message comes back at `t` (SQS: its visibility is changed to the
//!   time left, at most [`MAX_DELAY`], and it is reported as a batch item failure).
//! - `Err(_)`: the message comes back after the queue's visibility timeout.
//!
//! A message received [`MAX_RECEIVES`] times without `Done` goes to the queue's dead-letter
//! queue (SQS redrive policy; the same count locally). Consumers are idempotent by event id:
//! a message may arrive more than once.

use super::AppError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// One received queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The queue's id of this message (SQS message id), for logs and batch failures.
    pub id: String,
    pub body: String,
    /// How many times it has been received, this time included (starts at 1).
    pub receive_count: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Deliver the message again, not before this instant.
    RetryAt(DateTime<Utc>),
}

/// The redrive policy's `maxReceiveCount` on every queue (template.yaml) and the local queues'
/// dead-letter rule. High because a webhook event message is received once per retry of its
/// slowest endpoint: eight attempts by default, more with a longer configured schedule.
pub const MAX_RECEIVES: u32 = 50;

/// The longest a message can be put back for: SQS's visibility timeout limit (12 h).
pub const MAX_DELAY: chrono::Duration = chrono::Duration::hours(12);

/// How long a failed (`Err`) message waits before it comes back: the queues' visibility timeout.
pub const ERROR_RETRY: chrono::Duration = chrono::Duration::seconds(60);

#[async_trait]
pub trait Consumer: Send + Sync + 'static {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError>;
}
