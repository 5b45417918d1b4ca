//! Due-soon reminders: run with the due-time sweep (`expiry-sweeper` in AWS, the sweep timer
//! in `serve`). An open one-time account whose customer can be reached gets one
//! `virtual_account.due_soon` event when its due time comes within `settings.due_soon_lead`.
//!
//! The sweep reads the same sparse due index as the expiry sweep, but only the slice of due
//! times that entered the lead window since the last sweep: a checkpoint remembers the due
//! time up to which reminders were handed out, so a sweep normally reads one hour partition
//! per shard and a handful of accounts, not every account due in the next day. The first sweep
//! (no checkpoint) covers everything from now. An account issued with its due time already
//! inside the covered slice gets no reminder: its customer has just been told the due time by
//! the issued notice.
//!
//! At most one reminder per account, even with sweeps running concurrently: the reminder is a
//! marker item written on condition that it does not exist, in the transaction of its event,
//! which also checks that the account is still the version the index showed.

use super::error::Unavailable;
use super::{AppError, Service};
use crate::domain::event::AccountData;
use crate::domain::{AccountType, EventData, OutboxEvent, VirtualAccount};
use crate::ports::{Condition, StoreError, Write};
use crate::repo::checkpoints::{Checkpoint, DueSoonSweep};
use crate::repo::{self, Guard, LISTING_SHARDS, Retry, Transaction, TxError};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

/// Accounts read per index page.
const PAGE: usize = 100;
/// Each sweep reads this much of the previous slice again: an account issued just before the
/// last sweep may not have been in the (eventually consistent) index yet.
const INDEX_LAG_MARGIN: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReminderReport {
    pub reminded: usize,
    /// Could not be written this time; the next sweep reads them again.
    pub failed: usize,
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Whether the account wants a reminder now: open, one-time, someone to tell, due ahead.
fn wants_reminder(account: &VirtualAccount, now: DateTime<Utc>, horizon: DateTime<Utc>) -> bool {
    let reachable = account
        .customer
        .as_ref()
        .is_some_and(|c| c.phone.as_deref().is_some_and(|p| !p.trim().is_empty()) || c.email.as_deref().is_some_and(|e| e.contains('@')));
    account.kind == AccountType::OneTime && account.status.is_open() && reachable && account.due_at.is_some_and(|due| due > now && due <= horizon)
}

/// The sweep that raises due-soon reminders.
#[derive(Clone, Copy)]
pub struct Reminders<'a> {
    pub(super) service: &'a Service,
}

impl Reminders<'_> {
    /// Hands out the due-soon reminders of every account whose due time entered the lead
    /// window since the last sweep.
    pub async fn sweep_due_soon(self) -> Result<ReminderReport, AppError> {
        let now = self.service.clock.now();
        let horizon = now + self.service.settings.due_soon_lead;
        let checkpoint = Checkpoint::<DueSoonSweep>::read(self.service.table.as_ref()).await?;
        let covered = checkpoint.position.map_or(now, |p| p.covered_until);
        let from = (covered - INDEX_LAG_MARGIN).max(now);
        let mut report = ReminderReport::default();
        let mut hour = hour_of(from);
        while hour <= horizon {
            for shard in 0..LISTING_SHARDS {
                let mut cursor = None;
                loop {
                    let (due, next) = repo::notices::due_between(self.service.table.as_ref(), hour, shard, from, horizon, PAGE, cursor).await?;
                    for account in due.iter().filter(|a| wants_reminder(a, now, horizon)) {
                        match self.remind(account, now, horizon).await {
                            Ok(true) => report.reminded += 1,
                            Ok(false) => {}
                            Err(e) => {
                                tracing::warn!(account = %account.id, error = %e, "due-soon reminder not written; next sweep retries");
                                report.failed += 1;
                            }
                        }
                    }
                    match next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
            hour += Duration::hours(1);
        }
        // With a failure the slice is read again next time; the markers keep that harmless.
        if report.failed == 0 && horizon > covered {
            // Another sweep moved it at the same time; either value is safe.
            match checkpoint.save(self.service.table.as_ref(), DueSoonSweep { covered_until: horizon }).await {
                Ok(_) | Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }

    /// Writes one account's reminder marker and event. `false`: it already had its reminder,
    /// or no longer wants one.
    async fn remind(self, candidate: &VirtualAccount, now: DateTime<Utc>, horizon: DateTime<Utc>) -> Result<bool, AppError> {
        let mut account = candidate.clone();
        let mut retry = Retry::new();
        while retry.next().await {
            if !wants_reminder(&account, now, horizon) {
                return Ok(false);
            }
            let event = OutboxEvent::new(Some(account.merchant_id.clone()), EventData::AccountDueSoon(AccountData::of(&account)), now);
            let mut tx = Transaction::new();
            tx.push(Guard::AlreadyDone, repo::notices::put_reminder_marker(&account, now));
            tx.push(
                Guard::AccountMoved,
                Write::Check {
                    key: repo::accounts::account_key(account.bank_code, &account.account_number, &account.id),
                    condition: Condition::VersionIs(account.version),
                },
            );
            tx.extend(Guard::NewItem, repo::outbox::put_event(&event)?);
            match tx.commit(self.service.table.as_ref()).await {
                Ok(()) => return Ok(true),
                Err(TxError::Refused(Guard::AlreadyDone)) => return Ok(false),
                // The index showed an older version (or another sweep raced us): read the
                // account itself and decide again.
                Err(e) if e.is_race() => {
                    match repo::accounts::get_on_number(self.service.table.as_ref(), account.bank_code, &account.account_number, &account.id).await? {
                        Some(fresh) => account = fresh,
                        None => return Ok(false),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("account {} kept changing while reminding", candidate.id) }.into())
    }
}
