//! The queues of `serve` (embedded store only; SQS holds them in AWS). A queue is the partition
//! `LQ#{queue}`; a message's sort key starts with the instant it becomes visible
//! (`{visible_at}#{message id}`), so the partition reads in due order and a retry is the
//! message put back under its new instant. Messages received too often move to the queue's
//! dead letters, `LQ#{queue}#dead`.

use super::{ItemBuilder, data_of, time_key};
use crate::domain::QueueName;
use crate::ports::{Condition, Key, Query, SortRange, StoreError, Table, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A stored queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMessage {
    pub id: String,
    pub body: String,
    /// Completed receives so far.
    pub received: u32,
    #[serde(with = "crate::domain::time::kst_serde")]
    pub visible_at: DateTime<Utc>,
}

/// Where a message of a queue is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// On the queue, handed out once visible.
    Queue,
    /// Among the queue's dead letters, handed out no more.
    DeadLetters,
}

fn partition(queue: QueueName, shelf: Shelf) -> String {
    match shelf {
        Shelf::Queue => format!("LQ#{queue}"),
        Shelf::DeadLetters => format!("LQ#{queue}#dead"),
    }
}

fn message_key(queue: QueueName, shelf: Shelf, message: &QueuedMessage) -> Key {
    Key::new(partition(queue, shelf), time_key(message.visible_at, &message.id))
}

fn put(queue: QueueName, shelf: Shelf, message: &QueuedMessage, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&message_key(queue, shelf, message), "queued_message").data(message)?.put(condition))
}

/// A new message on `queue`.
pub fn put_new(queue: QueueName, message: &QueuedMessage) -> Result<Write, StoreError> {
    put(queue, Shelf::Queue, message, Condition::NotExists)
}

/// Takes `message` off `queue` (it fails its condition once the message is gone).
pub fn remove(queue: QueueName, message: &QueuedMessage) -> Write {
    Write::Delete { key: message_key(queue, Shelf::Queue, message), condition: Condition::Exists }
}

/// Takes `message` off `queue` and puts it back as `next` on `shelf`. Put back on the queue at
/// the instant it was visible, it is the same item, rewritten.
pub fn put_back(queue: QueueName, message: &QueuedMessage, next: &QueuedMessage, shelf: Shelf) -> Result<Vec<Write>, StoreError> {
    if message_key(queue, Shelf::Queue, message) == message_key(queue, shelf, next) {
        return Ok(vec![put(queue, shelf, next, Condition::Exists)?]);
    }
    Ok(vec![remove(queue, message), put(queue, shelf, next, Condition::NotExists)?])
}

/// Messages of `queue` visible at `now`, oldest first, at most `limit`.
pub async fn due(table: &dyn Table, queue: QueueName, now: DateTime<Utc>, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
    let upto = time_key(now, "~");
    let page = table.query(&Query::table(partition(queue, Shelf::Queue)).range(SortRange::Between(String::new(), upto)).limit(limit)).await?;
    page.items.iter().map(data_of).collect()
}

/// Every message on the shelf, visible or not, oldest visibility first.
pub async fn all(table: &dyn Table, queue: QueueName, shelf: Shelf) -> Result<Vec<QueuedMessage>, StoreError> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = table.query(&Query::table(partition(queue, shelf)).limit(100).after(after)).await?;
        for item in &page.items {
            found.push(data_of(item)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(found),
        }
    }
}
