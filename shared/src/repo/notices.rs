//! Customer notice records and due-soon reminders.
//!
//! - Notice records live in the partition of the event they answer (`NOTICE#{event}`): one
//!   item per channel tried (`CH#{channel}`) and, once the notice is settled without success,
//!   one `FINAL` item. A redelivered event reads the partition and sends only what is missing.
//! - A reminder marker (`REMIND#{va}`) makes the due-soon reminder at-most-once per account;
//!   the sweep's checkpoint ([`super::checkpoints::DueSoonSweep`]) remembers up to which due
//!   time reminders were handed out.

use super::{ItemBuilder, data_of};
use crate::domain::notice::Channel;
use crate::domain::time::kst_serde;
use crate::domain::{EventId, VirtualAccount, VirtualAccountId};
use crate::ports::{Condition, Cursor, Index, Key, Query, SortRange, StoreError, Table, Write};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Notice records are kept this long: long enough for any redelivery and for support to look.
const RECORD_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeOutcome {
    Sent,
    Failed,
    /// Nothing to send: no contact, a channel this deployment does not have, or an account that
    /// no longer needs the notice.
    Skipped,
    /// Every retry failed; `notice.failed` was raised.
    GaveUp,
}

/// What became of one channel of a notice (or, with no channel, of the whole notice). Holds no
/// personal data: no recipient, and provider texts are redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRecord {
    pub event_id: EventId,
    pub channel: Option<Channel>,
    pub outcome: NoticeOutcome,
    pub message_id: Option<String>,
    pub error: Option<String>,
    #[serde(with = "kst_serde")]
    pub at: DateTime<Utc>,
    /// Sends tried on this channel so far.
    pub attempts: u32,
}

fn notice_partition(event: &EventId) -> String {
    format!("NOTICE#{event}")
}

fn record_key(record: &NoticeRecord) -> Key {
    let sk = match record.channel {
        Some(channel) => format!("CH#{channel}"),
        None => "FINAL".to_owned(),
    };
    Key::new(notice_partition(&record.event_id), sk)
}

/// A channel record replaces the previous one of its channel; the final record is written
/// once (a second consumer giving up at the same time fails on it and raises nothing).
pub fn put_record(record: &NoticeRecord) -> Result<Write, StoreError> {
    let condition = if record.channel.is_some() { Condition::Always } else { Condition::NotExists };
    Ok(ItemBuilder::new(&record_key(record), "notice_record").data(record)?.expires_at((record.at + Duration::days(RECORD_DAYS)).timestamp()).put(condition))
}

/// Every record of an event's notice: one Query of a small partition (at most four items).
pub async fn records(table: &dyn Table, event: &EventId) -> Result<Vec<NoticeRecord>, StoreError> {
    table.query(&Query::table(notice_partition(event)).limit(10)).await?.items.iter().map(data_of).collect()
}

fn reminder_key(account: &VirtualAccountId) -> Key {
    Key::new(format!("REMIND#{account}"), "DUE_SOON")
}

/// The marker that an account's reminder was handed out; only the first write succeeds. It
/// expires a week after the due time, when nothing can ask for the reminder again.
pub fn put_reminder_marker(account: &VirtualAccount, now: DateTime<Utc>) -> Write {
    let until = account.due_at.unwrap_or(now) + Duration::days(7);
    ItemBuilder::new(&reminder_key(&account.id), "reminder_marker").expires_at(until.timestamp()).put(Condition::NotExists)
}

/// One page of the due index partition (`hour`, `shard`): accounts whose due time is after
/// `after` and at or before `until`, oldest first. Candidates only (the index lags and holds
/// paid accounts until their numbers are released); the caller checks each one.
pub async fn due_between(
    table: &dyn Table,
    hour: DateTime<Utc>,
    shard: u8,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: usize,
    cursor: Option<Cursor>,
) -> Result<(Vec<VirtualAccount>, Option<Cursor>), StoreError> {
    // `~` sorts after every id, so `after`'s own millisecond is excluded and `until`'s included.
    let range = SortRange::Between(super::time_key(after, "~"), super::time_key(until, "~"));
    let query = Query::index(Index::Gsi3, super::accounts::due_partition(hour, shard)).range(range).limit(limit).after(cursor);
    let page = table.query(&query).await?;
    let accounts = page.items.iter().map(data_of).collect::<Result<_, _>>()?;
    Ok((accounts, page.next))
}
