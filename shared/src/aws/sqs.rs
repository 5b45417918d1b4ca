//! The SQS side of the consumer contract (`app::consumer`), for a Lambda function on an SQS
//! event source with `ReportBatchItemFailures`:
//!
//! - `Done`: not reported, so Lambda deletes the message;
//! - `RetryAt(t)`: the message's visibility is changed so it comes back at `t` (at most
//!   [`MAX_DELAY`] away), and it is reported, so Lambda leaves it in the queue;
//! - `Err`: reported; the message comes back after the queue's visibility timeout.
//!
//! Each receive counts towards the queue's redrive `maxReceiveCount` ([`crate::app::consumer::MAX_RECEIVES`]),
//! after which SQS moves the message to the dead-letter queue.

use crate::app::consumer::{Consumer, MAX_DELAY, Outcome, Received};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::Client;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// Messages handled at once. A batch holds at most ten (the event source's batch size); the
/// bound keeps a larger configured batch from opening that many connections at once.
const CONCURRENCY: usize = 10;

/// SQS counts a message's 12-hour visibility limit from when it was received, and the poller
/// received it before this invocation began; asking for the whole 12 hours would be refused.
/// Coming back this much earlier than asked is harmless: the consumer answers `RetryAt` again.
const RECEIVE_HEADROOM: chrono::Duration = chrono::Duration::minutes(5);

#[derive(Debug, thiserror::Error)]
enum RetryError {
    #[error("event source ARN `{0}` is not an SQS queue ARN")]
    BadArn(String),
    #[error("{0}")]
    Sqs(String),
}

/// Hands every message of the batch to `consumer` and answers which ones Lambda must not delete.
pub async fn handle_sqs_batch(consumer: &dyn Consumer, sqs: &Client, event: SqsEvent, now: DateTime<Utc>) -> SqsBatchResponse {
    let failed: Vec<Option<String>> =
        futures_util::stream::iter(event.records).map(|message| handle_message(consumer, sqs, message, now)).buffered(CONCURRENCY).collect().await;
    let mut response = SqsBatchResponse::default();
    // A message without an id cannot be named; an empty identifier makes Lambda keep the
    // whole batch, which is the safe side. Lambda always sends ids.
    response.set_failures(failed.into_iter().flatten());
    response
}

/// The message's id when it is to stay in the queue.
async fn handle_message(consumer: &dyn Consumer, sqs: &Client, message: SqsMessage, now: DateTime<Utc>) -> Option<String> {
    let id = message.message_id.clone().unwrap_or_default();
    let received = Received {
        id: id.clone(),
        body: message.body.clone().unwrap_or_default(),
        receive_count: message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1),
    };
    match consumer.consume(&received).await {
        Ok(Outcome::Done) => None,
        Ok(Outcome::RetryAt(at)) => {
            let seconds = visibility_seconds(at, now);
            if let Err(e) = change_visibility(sqs, &message, seconds).await {
                // Still reported: it comes back after the queue's visibility timeout instead.
                tracing::warn!(message_id = %id, error = %e, "could not put the message back for its retry time");
            }
            Some(id)
        }
        Err(e) => {
            tracing::warn!(message_id = %id, receive_count = received.receive_count, error = %e, "message failed; it comes back after the visibility timeout");
            Some(id)
        }
    }
}

/// Seconds until `at`, as a visibility timeout: never negative, at most the 12-hour limit
/// less [`RECEIVE_HEADROOM`].
pub fn visibility_seconds(at: DateTime<Utc>, now: DateTime<Utc>) -> i32 {
    let longest = (MAX_DELAY - RECEIVE_HEADROOM).num_seconds();
    // Rounded up, so a message never comes back before the instant it asked for.
    let wait = ((at - now).num_milliseconds().max(0) + 999) / 1000;
    i32::try_from(wait.min(longest)).unwrap_or(0)
}

async fn change_visibility(sqs: &Client, message: &SqsMessage, seconds: i32) -> Result<(), RetryError> {
    let arn = message.event_source_arn.as_deref().unwrap_or_default();
    let receipt = message.receipt_handle.as_deref().unwrap_or_default();
    let url = queue_url(sqs, arn).await?;
    sqs.change_message_visibility()
        .queue_url(url)
        .receipt_handle(receipt)
        .visibility_timeout(seconds)
        .send()
        .await
        .map_err(|e| RetryError::Sqs(super::sdk_error_detail(&e)))?;
    Ok(())
}

/// Queue URLs by ARN, looked up once per process: a Lambda execution environment reads one
/// queue for its whole life.
fn known_urls() -> &'static Mutex<HashMap<String, String>> {
    static URLS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    URLS.get_or_init(Default::default)
}

/// The queue's URL, from its ARN (`arn:aws:sqs:<region>:<account>:<name>`). Asked of SQS rather
/// than built, so it holds for any endpoint (a local emulator, another partition).
async fn queue_url(sqs: &Client, arn: &str) -> Result<String, RetryError> {
    if let Some(url) = known_urls().lock().unwrap_or_else(|e| e.into_inner()).get(arn) {
        return Ok(url.clone());
    }
    let (account, name) = match arn.split(':').collect::<Vec<_>>()[..] {
        ["arn", _, "sqs", _, account, name] if !account.is_empty() && !name.is_empty() => (account, name),
        _ => return Err(RetryError::BadArn(arn.to_owned())),
    };
    let out =
        sqs.get_queue_url().queue_name(name).queue_owner_aws_account_id(account).send().await.map_err(|e| RetryError::Sqs(super::sdk_error_detail(&e)))?;
    let url = out.queue_url.ok_or_else(|| RetryError::Sqs(format!("no URL for {arn}")))?;
    known_urls().lock().unwrap_or_else(|e| e.into_inner()).insert(arn.to_owned(), url.clone());
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_600_000 + seconds, 0).expect("valid time")
    }

    #[test]
    fn a_retry_comes_back_at_its_time_rounded_up_and_never_in_the_past() {
        assert_eq!(visibility_seconds(at(90), at(0)), 90);
        assert_eq!(visibility_seconds(at(0) + chrono::Duration::milliseconds(1), at(0)), 1);
        assert_eq!(visibility_seconds(at(-30), at(0)), 0);
    }

    #[test]
    fn a_retry_beyond_twelve_hours_waits_as_long_as_sqs_allows() {
        let limit = (MAX_DELAY - RECEIVE_HEADROOM).num_seconds() as i32;
        assert_eq!(visibility_seconds(at(0) + chrono::Duration::days(3), at(0)), limit);
        assert!(limit < 43_200);
    }
}
