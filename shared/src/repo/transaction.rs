//! Transactions whose writes are named by what their conditions guard, and the one rule for
//! trying again after a lost race.
//!
//! The store reports a failed condition by the write's position. A use case that decided by
//! position (`index == 0`: the notice was recorded before) would silently change meaning the
//! day a write is inserted in front; so every write of a [`Transaction`] carries a [`Guard`],
//! and a refusal comes back as that name.

use crate::ports::{StoreError, Table, Write};
use chrono::NaiveDate;

/// What a write's condition stands for: the answer when the store refuses the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The notice (provider, transaction id) is recorded already: answer from its record.
    AlreadyRecorded,
    /// The merchant's order id has an account already.
    OrderTaken,
    /// The pool number is no longer as it was read: another request claimed it.
    NumberTaken,
    /// The account changed since it was read.
    AccountMoved,
    /// The deposit changed since it was read.
    DepositMoved,
    /// The settlement day is sealed (exported): the movement belongs to a later day.
    DaySealed(NaiveDate),
    /// The request's idempotency key was taken over after its lease ran out.
    KeyLost,
    /// A record written once is there already: a twin (a redelivered message, a concurrent
    /// run) wrote it first.
    AlreadyDone,
    /// An item changed since it was read, where the use case tells no one item apart.
    Moved,
    /// A new item under a freshly generated id or a unique key: refused only if that key
    /// exists, which the use case treats as a race like any other.
    NewItem,
}

/// Why a [`Transaction`] was not written. Nothing was written in every case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    #[error("refused: {0:?}")]
    Refused(Guard),
    /// Another transaction touched the same items at the same moment; try again.
    #[error("transaction conflict")]
    Conflict,
    #[error(transparent)]
    Store(StoreError),
}

impl TxError {
    /// Lost to another writer: the items are worth reading again and the change judging again.
    pub fn is_race(&self) -> bool {
        matches!(self, TxError::Refused(_) | TxError::Conflict)
    }
}

/// Writes committed all or none, each named by its [`Guard`].
#[derive(Debug, Default)]
pub struct Transaction {
    writes: Vec<Write>,
    guards: Vec<Guard>,
}

impl Transaction {
    pub fn new() -> Transaction {
        Transaction::default()
    }

    /// Writes that share one guard.
    pub fn of(guard: Guard, writes: impl IntoIterator<Item = Write>) -> Transaction {
        let mut tx = Transaction::new();
        tx.extend(guard, writes);
        tx
    }

    pub fn push(&mut self, guard: Guard, write: Write) {
        self.writes.push(write);
        self.guards.push(guard);
    }

    /// Adds writes that share one guard.
    pub fn extend(&mut self, guard: Guard, writes: impl IntoIterator<Item = Write>) {
        for write in writes {
            self.push(guard, write);
        }
    }

    /// Adds the writes of another transaction, with their names.
    pub fn append(&mut self, other: Transaction) {
        self.writes.extend(other.writes);
        self.guards.extend(other.guards);
    }

    pub async fn commit(self, table: &dyn Table) -> Result<(), TxError> {
        let Transaction { writes, guards } = self;
        match table.transact(writes).await {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index }) => match guards.get(index) {
                Some(guard) => Err(TxError::Refused(*guard)),
                None => Err(TxError::Store(StoreError::Invalid(format!("the store named write {index} of {}", guards.len())))),
            },
            Err(StoreError::Conflict) => Err(TxError::Conflict),
            Err(e) => Err(TxError::Store(e)),
        }
    }
}

/// How often a change that lost a race is read, judged and written again before the caller
/// hears `unavailable`: every loss means another writer committed, so the item made progress.
pub const ATTEMPTS: u32 = 24;
/// For an item many write at the same moment: 64 deposits in flight to one fixed account
/// commit one at a time, each loser judging again on a fresh read.
pub const HOT_ATTEMPTS: u32 = 200;

/// The one retry rule: `while retry.next().await { … }`. The first try starts at once; each
/// later one after a random pause of up to 2, 4, … 32 ms (doubling per try), so racing
/// writers spread out instead of colliding again in step.
#[derive(Debug)]
pub struct Retry {
    tried: u32,
    limit: u32,
}

impl Retry {
    /// Up to [`ATTEMPTS`] tries.
    pub fn new() -> Retry {
        Retry::up_to(ATTEMPTS)
    }

    /// Up to [`HOT_ATTEMPTS`] tries, for a hot item.
    pub fn hot() -> Retry {
        Retry::up_to(HOT_ATTEMPTS)
    }

    pub fn up_to(limit: u32) -> Retry {
        Retry { tried: 0, limit }
    }

    /// Whether to try (again), after the pause; `false` once every try is used.
    pub async fn next(&mut self) -> bool {
        if self.tried >= self.limit {
            return false;
        }
        if self.tried > 0 {
            let cap_us = 1000u64 << self.tried.min(5);
            tokio::time::sleep(std::time::Duration::from_micros(rand::random_range(0..cap_us))).await;
        }
        self.tried += 1;
        true
    }
}

impl Default for Retry {
    fn default() -> Retry {
        Retry::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_retry_gives_exactly_its_tries() {
        let mut retry = Retry::up_to(3);
        let mut tries = 0;
        while retry.next().await {
            tries += 1;
        }
        assert_eq!(tries, 3);
        assert!(!retry.next().await, "spent stays spent");
    }
}
