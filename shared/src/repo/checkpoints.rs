//! Checkpoints: how far a repeating job has got, one item per job (`{job}` / `CHECKPOINT`).
//!
//! A checkpoint is read with its version and moved only on condition that it is still the
//! one read, so two runs at once cannot move it back: the second move fails and changes
//! nothing. Each job's position is its own type, which names the key it is stored under:
//!
//! | position | key | what it says |
//! |---|---|---|
//! | [`DueSweep`] | `SWEEP#due` | the oldest hour of the due index that may still hold work |
//! | [`DueSoonSweep`] | `SWEEP#due_soon` | the due time up to which reminders were handed out |
//! | [`SettlementRun`] | `SETTLE#run` | the last day the scheduled settlement finished |
//! | [`ReconciliationRun`] | `RECON#run` | the last day through which every provider is reconciled |
//! | [`LocalStream`] | `STREAM#local` | the last change-stream record `serve` moved onto its queues |

use super::{ItemBuilder, data_of, version_of};
use crate::ports::{Condition, Key, StoreError, Table, Write};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const SORT_KEY: &str = "CHECKPOINT";

mod sealed {
    /// Where a position is stored: only this module names a checkpoint's key.
    pub trait Stored {
        const PARTITION: &'static str;
        const KIND: &'static str;
    }
}

/// The position of a job that keeps a checkpoint.
pub trait Position: sealed::Stored + Serialize + DeserializeOwned {}

impl<P: sealed::Stored + Serialize + DeserializeOwned> Position for P {}

/// The due-time sweep: the oldest hour of the due index that may still hold work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueSweep {
    pub hour: DateTime<Utc>,
}

impl sealed::Stored for DueSweep {
    const PARTITION: &'static str = "SWEEP#due";
    const KIND: &'static str = "sweep_checkpoint";
}

/// The due-soon sweep: reminders were handed out for every account due at or before this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueSoonSweep {
    pub covered_until: DateTime<Utc>,
}

impl sealed::Stored for DueSoonSweep {
    const PARTITION: &'static str = "SWEEP#due_soon";
    const KIND: &'static str = "sweep_checkpoint";
}

/// The scheduled settlement: the last day it settled for every merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRun {
    pub last_day: NaiveDate,
}

impl sealed::Stored for SettlementRun {
    const PARTITION: &'static str = "SETTLE#run";
    const KIND: &'static str = "settlement_run";
}

/// The scheduled reconciliation: the last day through which every provider's day is reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciliationRun {
    pub last_day: NaiveDate,
}

impl sealed::Stored for ReconciliationRun {
    const PARTITION: &'static str = "RECON#run";
    const KIND: &'static str = "reconciliation_run";
}

/// `serve`'s dispatcher: the last change-stream sequence it moved onto the local queues
/// (embedded store only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalStream {
    pub sequence: u64,
}

impl sealed::Stored for LocalStream {
    const PARTITION: &'static str = "STREAM#local";
    const KIND: &'static str = "stream_checkpoint";
}

fn key<P: Position>() -> Key {
    Key::new(P::PARTITION, SORT_KEY)
}

/// A job's checkpoint as read: where the job got to (`None`: it never moved it) and the
/// version a move is conditional on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint<P> {
    pub position: Option<P>,
    version: Option<u64>,
}

impl<P: Position> Checkpoint<P> {
    pub async fn read(table: &dyn Table) -> Result<Checkpoint<P>, StoreError> {
        Ok(match table.get(&key::<P>()).await? {
            Some(item) => Checkpoint { position: Some(data_of(&item)?), version: Some(version_of(&item).unwrap_or(0)) },
            None => Checkpoint { position: None, version: None },
        })
    }

    /// The write that moves the checkpoint to `to`, on condition that it is still as read;
    /// for a transaction that moves it together with the work it records.
    pub fn move_to(&self, to: &P) -> Result<Write, StoreError> {
        let condition = self.version.map_or(Condition::NotExists, Condition::VersionIs);
        Ok(ItemBuilder::new(&key::<P>(), P::KIND).version(self.next_version()).data(to)?.put(condition))
    }

    /// Moves the checkpoint to `to` in a transaction of its own; the checkpoint as now stored.
    /// Fails with `ConditionFailed` if another run moved it since it was read.
    pub async fn save(self, table: &dyn Table, to: P) -> Result<Checkpoint<P>, StoreError> {
        table.transact(vec![self.move_to(&to)?]).await?;
        Ok(Checkpoint { version: Some(self.next_version()), position: Some(to) })
    }

    fn next_version(&self) -> u64 {
        self.version.map_or(1, |v| v + 1)
    }
}
