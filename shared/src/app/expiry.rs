//! The due-time sweep (`expiry-sweeper` in AWS, a timer in `serve`): open accounts past their
//! due time expire with `virtual_account.expired`; paid accounts past it give their number
//! back. Either way the number starts its cooldown, in the same transaction.
//!
//! Work comes from the sparse due index (hourly partitions, write-sharded), never a scan. A
//! checkpoint item remembers the oldest hour that may still hold work, so a sweep reads one or
//! two hours normally and catches up after downtime.

use super::error::Unavailable;
use super::{AppError, Service};
use crate::domain::event::AccountData;
use crate::domain::{EventData, EventType, OutboxEvent, VirtualAccount};
use crate::ports::{Condition, StoreError};
use crate::repo::checkpoints::{Checkpoint, DueSweep};
use crate::repo::{self, LISTING_SHARDS, Retry};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

/// Accounts read per index page.
const PAGE: usize = 100;
/// Pages per shard and hour in one sweep; the rest waits for the next sweep.
const MAX_PAGES: usize = 50;
/// How far back a first sweep looks for work.
const FIRST_LOOKBACK_DAYS: i64 = 7;
/// An hour is left behind only this long after it ended: an account issued on a server whose
/// clock runs a little behind may still land in it.
const SETTLE_MARGIN_MINUTES: i64 = 5;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub expired: usize,
    pub released: usize,
    /// Accounts that could not be settled this time (they are retried next sweep).
    pub failed: usize,
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// The sweep that expires accounts at their due time.
#[derive(Clone, Copy)]
pub struct Expiry<'a> {
    pub(super) service: &'a Service,
}

impl Expiry<'_> {
    /// Settles every account whose due time has come.
    pub async fn sweep_due(self) -> Result<SweepReport, AppError> {
        let now = self.service.clock.now();
        let checkpoint = Checkpoint::<DueSweep>::read(self.service.table.as_ref()).await?;
        let start = checkpoint.position.map_or_else(|| hour_of(now - Duration::days(FIRST_LOOKBACK_DAYS)), |p| p.hour);
        let mut report = SweepReport::default();
        let mut settled_until = start;
        let mut hour = start;
        while hour <= now {
            let mut left = false;
            for shard in 0..LISTING_SHARDS {
                // The cursor, not the page's length, tells whether the partition holds more: a
                // short page (DynamoDB's 1 MB) taken for the end would move the checkpoint over
                // accounts never read, which would then never expire.
                let mut cursor = None;
                for page in 0..MAX_PAGES {
                    let (due, next) = repo::accounts::due_by(self.service.table.as_ref(), hour, shard, now, PAGE, cursor.take()).await?;
                    for account in &due {
                        match self.settle_due(account, now).await {
                            Ok(Some(EventType::AccountExpired)) => report.expired += 1,
                            Ok(Some(_)) => report.released += 1,
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(account = %account.id, error = %e, "due account not settled; next sweep retries");
                                report.failed += 1;
                                left = true;
                            }
                        }
                    }
                    match next {
                        None => break,
                        // The rest waits for the next sweep, and so does the checkpoint.
                        Some(_) if page + 1 == MAX_PAGES => left = true,
                        Some(next) => cursor = Some(next),
                    }
                }
            }
            let next = hour + Duration::hours(1);
            if settled_until == hour && !left && next + Duration::minutes(SETTLE_MARGIN_MINUTES) <= now {
                settled_until = next;
            }
            hour = next;
        }
        if settled_until != start {
            // Two sweepers at once: the other one moved it; either value is safe.
            match checkpoint.save(self.service.table.as_ref(), DueSweep { hour: settled_until }).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }

    /// Expires (or releases the number of) one account whose due time came. `candidate` comes
    /// from the index and may be stale; the write is conditional on the version, and a lost
    /// race reads the account again. Returns what it did: `AccountExpired`, `AccountPaid`
    /// (number released), or nothing.
    async fn settle_due(self, candidate: &VirtualAccount, now: DateTime<Utc>) -> Result<Option<EventType>, AppError> {
        let mut account = candidate.clone();
        let mut retry = Retry::new();
        while retry.next().await {
            if !account.awaits_due_time() || account.due_at.is_none_or(|due| due > now) {
                return Ok(None);
            }
            let (next, event) = if account.status.is_open() {
                let expired = account.expire(now).map_err(|e| AppError::Conflict(e.to_string()))?;
                (expired, Some(EventType::AccountExpired))
            } else {
                (account.release_number(now).map_err(|e| AppError::Conflict(e.to_string()))?, None)
            };
            let mut writes = vec![repo::accounts::put_account(&next, Condition::VersionIs(account.version))?];
            let number = repo::pool::get(self.service.table.as_ref(), account.bank_code, &account.account_number).await?;
            if let Some(number) = number
                && let Ok(released) = number.release(&account.id, now, self.service.settings.pool_cooldown)
            {
                writes.push(repo::pool::put_number(&released, Condition::VersionIs(number.version))?);
            }
            if event == Some(EventType::AccountExpired) {
                let expired = EventData::AccountExpired(AccountData::of(&next));
                writes.extend(repo::outbox::put_event(&OutboxEvent::new(Some(next.merchant_id.clone()), expired, now))?);
            }
            match self.service.table.transact(writes).await {
                Ok(()) => return Ok(Some(event.unwrap_or(EventType::AccountPaid))),
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                    match repo::accounts::get_on_number(self.service.table.as_ref(), account.bank_code, &account.account_number, &account.id).await? {
                        Some(fresh) => account = fresh,
                        None => return Ok(None),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("account {} kept changing at its due time", candidate.id) }.into())
    }
}
