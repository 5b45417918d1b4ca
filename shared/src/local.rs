//! The AWS event path in one process, for `vaccount serve`: what DynamoDB Streams, SNS and SQS
//! do in AWS, done durably on the embedded store so that a restart loses nothing.
//!
//! - [`Dispatcher`] reads the embedded store's change stream (the keys of inserted outbox
//!   events) from a checkpoint and, in one transaction with the moved checkpoint, puts one
//!   message per event on every queue its type routes to ([`crate::domain::EventType::queues`],
//!   the same rule as the SNS filter policies). So each event reaches each queue exactly once.
//! - [`LocalQueues`] are queues stored as table items, ordered by the instant they become
//!   visible. [`run_worker`] hands due messages to a [`Consumer`] and applies its [`Outcome`]
//!   as the SQS adapter does: delete on `Done`, put back until `RetryAt`, put back for
//!   [`ERROR_RETRY`] on an error, and move to the queue's dead letters once a message has been
//!   received [`MAX_RECEIVES`] times.
//!
//! One `serve` process owns the store, so a message in progress is known in memory; if the
//! process dies mid-message, the message is still stored and comes back after the restart
//! (at least once, as with SQS; consumers are idempotent by event id).
//!
//! Both run until their `stop` token is cancelled: the dispatcher commits the batch it is
//! moving, a worker takes no new message and settles the ones under way, then they return.

use crate::app::consumer::{Consumer, ERROR_RETRY, MAX_RECEIVES, Outcome, Received};
use crate::domain::{OutboxEvent, QueueName};
use crate::ports::{Clock, StoreError, Table, Write};
use crate::repo::checkpoints::{Checkpoint, LocalStream};
use crate::repo::data_of;
use crate::repo::local_queues::{self, Shelf};
use crate::store::EmbeddedTable;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Stream records dispatched per transaction: each fans out to at most two queues, so one
/// transaction stays well under the 100-write limit.
const DISPATCH_BATCH: usize = 32;
/// How long an idle dispatcher or worker waits before looking again without being woken
/// (a retry falls due with nobody waking the worker).
const IDLE_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

pub use crate::repo::local_queues::QueuedMessage;

pub struct LocalQueues {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
    wake: [Notify; 3],
}

fn slot(queue: QueueName) -> usize {
    match queue {
        QueueName::MerchantWebhooks => 0,
        QueueName::CustomerNotices => 1,
        QueueName::OpsAlerts => 2,
    }
}

impl LocalQueues {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>) -> Arc<LocalQueues> {
        Arc::new(LocalQueues { table, clock, wake: [Notify::new(), Notify::new(), Notify::new()] })
    }

    fn new_message(&self, body: String) -> QueuedMessage {
        let now = self.clock.now();
        QueuedMessage {
            id: ulid::Ulid::from_parts(u64::try_from(now.timestamp_millis()).unwrap_or(0), rand::random()).to_string(),
            body,
            received: 0,
            visible_at: now,
        }
    }

    /// Messages visible now, oldest first, at most `limit`.
    pub async fn due(&self, queue: QueueName, limit: usize) -> Result<Vec<QueuedMessage>, StoreError> {
        local_queues::due(self.table.as_ref(), queue, self.clock.now(), limit).await
    }

    /// Every stored message of the queue (visible or not), oldest visibility first; for tests
    /// and operators, not for large queues.
    pub async fn pending(&self, queue: QueueName) -> Result<Vec<QueuedMessage>, StoreError> {
        local_queues::all(self.table.as_ref(), queue, Shelf::Queue).await
    }

    #[cfg(any(test, feature = "testing"))]
    /// The messages that were received `MAX_RECEIVES` times without being done.
    pub async fn dead_letters(&self, queue: QueueName) -> Result<Vec<QueuedMessage>, StoreError> {
        local_queues::all(self.table.as_ref(), queue, Shelf::DeadLetters).await
    }

    /// Applies a consumer's answer to a message it was given.
    async fn settle(&self, queue: QueueName, message: &QueuedMessage, outcome: Result<Outcome, String>) -> Result<(), StoreError> {
        let received = message.received + 1;
        let back_at = match outcome {
            Ok(Outcome::Done) => return self.transact_quietly(vec![local_queues::remove(queue, message)]).await,
            Ok(Outcome::RetryAt(at)) => at,
            Err(error) => {
                tracing::warn!(%queue, message = %message.id, %error, "consumer failed; the message comes back");
                self.clock.now() + ERROR_RETRY
            }
        };
        let mut next = QueuedMessage { received, visible_at: back_at, ..message.clone() };
        let shelf = if received >= MAX_RECEIVES {
            tracing::error!(%queue, message = %message.id, received, "message dead-lettered after its last receive");
            next.visible_at = self.clock.now();
            Shelf::DeadLetters
        } else {
            Shelf::Queue
        };
        self.transact_quietly(local_queues::put_back(queue, message, &next, shelf)?).await
    }

    /// A message already settled (its item gone) is not an error: there is nothing left to do.
    async fn transact_quietly(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        match self.table.transact(writes).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Moves outbox events from the embedded store's change stream onto the local queues.
pub struct Dispatcher {
    /// The raw store, for its stream.
    pub raw: Arc<EmbeddedTable>,
    /// The same store as the rest of the service sees it (sealed records opened).
    pub table: Arc<dyn Table>,
    pub queues: Arc<LocalQueues>,
}

impl Dispatcher {
    /// Dispatches until `stop` is cancelled; a batch is committed whole before it returns.
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.dispatch_once().await {
                Ok(0) => {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        _ = tokio::time::timeout(IDLE_WAIT, self.raw.stream_grew()) => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "dispatching events failed; retrying");
                    tokio::select! {
                        () = stop.cancelled() => {}
                        () = tokio::time::sleep(IDLE_WAIT) => {}
                    }
                }
            }
        }
    }

    /// Dispatches one batch of the stream; returns how many records it took.
    pub async fn dispatch_once(&self) -> Result<usize, StoreError> {
        let checkpoint = Checkpoint::<LocalStream>::read(self.table.as_ref()).await?;
        let records = self.raw.read_stream(checkpoint.position.map(|p| p.sequence), DISPATCH_BATCH).await?;
        let Some(last) = records.last().map(|r| r.sequence) else { return Ok(0) };
        let mut writes = vec![checkpoint.move_to(&LocalStream { sequence: last })?];
        let mut woken = HashSet::new();
        for record in &records {
            let Some(item) = self.table.get(&record.key).await? else {
                tracing::error!(pk = %record.key.pk, "stream names an event that is not stored; skipped");
                continue;
            };
            let event: OutboxEvent = data_of(&item)?;
            let body = serde_json::to_string(&event).map_err(|e| StoreError::Invalid(e.to_string()))?;
            for queue in event.kind().queues() {
                writes.push(local_queues::put_new(*queue, &self.queues.new_message(body.clone()))?);
                woken.insert(*queue);
            }
        }
        self.table.transact(writes).await?;
        for queue in woken {
            self.queues.wake[slot(queue)].notify_one();
        }
        // Trimming is housekeeping: the checkpoint already says where to resume.
        if let Err(e) = self.raw.trim_stream(last).await {
            tracing::warn!(error = %e, "trimming the dispatched stream failed");
        }
        Ok(records.len())
    }
}

/// Consumes one queue, `concurrency` messages at a time, until `stop` is cancelled; then it
/// waits for the messages under way to be settled. Those not yet taken stay stored.
pub async fn run_worker(queues: Arc<LocalQueues>, queue: QueueName, consumer: Arc<dyn Consumer>, concurrency: usize, stop: CancellationToken) {
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = JoinSet::new();
    'taking: while !stop.is_cancelled() {
        while running.try_join_next().is_some() {}
        let busy = in_flight.lock().map(|s| s.len()).unwrap_or(0);
        let due = match queues.due(queue, busy + concurrency).await {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(%queue, error = %e, "reading the local queue failed");
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = tokio::time::sleep(IDLE_WAIT) => {}
                }
                continue;
            }
        };
        let fresh: Vec<QueuedMessage> = {
            let mut taken = in_flight.lock().unwrap_or_else(|e| e.into_inner());
            due.into_iter().filter(|m| taken.insert(m.id.clone())).collect()
        };
        if fresh.is_empty() {
            tokio::select! {
                () = stop.cancelled() => {}
                _ = tokio::time::timeout(IDLE_WAIT, queues.wake[slot(queue)].notified()) => {}
            }
            continue;
        }
        for message in fresh {
            let permit = tokio::select! {
                () = stop.cancelled() => break 'taking,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break 'taking,
                },
            };
            let (queues, consumer, in_flight) = (queues.clone(), consumer.clone(), in_flight.clone());
            running.spawn(async move {
                let received = Received { id: message.id.clone(), body: message.body.clone(), receive_count: message.received + 1 };
                let outcome = consumer.consume(&received).await.map_err(|e| e.to_string());
                if let Err(e) = queues.settle(queue, &message, outcome).await {
                    // Left as it was: it comes back, as an unacknowledged SQS message would.
                    tracing::error!(%queue, message = %message.id, error = %e, "settling a message failed");
                }
                in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(&message.id);
                queues.wake[slot(queue)].notify_one();
                drop(permit);
            });
        }
    }
    while running.join_next().await.is_some() {}
}
