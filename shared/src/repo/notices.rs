//! Customer notice records and due-soon reminders.
//!
//! - Notice records live in the partition of the event they answer (`NOTICE#{event}`): one
//!   item per channel tried (`CH#{channel}`) and, once the notice is settled without success,
//!   one `FINAL` item. A redelivered event reads the partition and sends only what is missing.
//!   Records that name their merchant are listed for operators, newest first, by merchant
//!   (gsi1 `NOTICES#{merchant}#{shard}`) and by merchant and outcome (gsi2
//!   `NOTICES#{merchant}#{outcome}#{shard}`), write-sharded like the other per-merchant
//!   listings; records written before they named their merchant are in neither.
//! - A reminder marker (`REMIND#{va}`) makes the due-soon reminder at-most-once per account;
//!   the sweep's checkpoint ([`super::checkpoints::DueSoonSweep`]) remembers up to which due
//!   time reminders were handed out.

use super::{ItemBuilder, data_of};
use crate::domain::notice::Channel;
use crate::domain::time::kst_serde;
use crate::domain::{EventId, EventType, MerchantId, VirtualAccount, VirtualAccountId};
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
    /// Whose customer was told, about which account, on which event: what operators list
    /// notices by. Absent on records written before they were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<MerchantId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_account_id: Option<VirtualAccountId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<EventType>,
}

impl NoticeOutcome {
    pub const ALL: [NoticeOutcome; 4] = [NoticeOutcome::Sent, NoticeOutcome::Failed, NoticeOutcome::Skipped, NoticeOutcome::GaveUp];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeOutcome::Sent => "sent",
            NoticeOutcome::Failed => "failed",
            NoticeOutcome::Skipped => "skipped",
            NoticeOutcome::GaveUp => "gave_up",
        }
    }
}

impl std::str::FromStr for NoticeOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<NoticeOutcome, String> {
        NoticeOutcome::ALL.into_iter().find(|o| o.as_str() == s).ok_or_else(|| "must be sent, failed, skipped or gave_up".to_owned())
    }
}

/// The operators' listing of a merchant's notice records, all or of one outcome, one write shard.
fn listing(merchant: &MerchantId, outcome: Option<NoticeOutcome>, shard: u8) -> (Index, String) {
    match outcome {
        None => (Index::Gsi1, format!("NOTICES#{merchant}#{shard}")),
        Some(o) => (Index::Gsi2, format!("NOTICES#{merchant}#{}#{shard}", o.as_str())),
    }
}

/// A record's place in the listings: its time, then its event and channel (unique per record).
fn listing_key(record: &NoticeRecord) -> String {
    let channel = record.channel.map_or("final", Channel::as_str);
    super::time_key(record.at, &format!("{}#{channel}", record.event_id))
}

/// The shards of a merchant's notice listing (of one outcome) over a time window, as parts of
/// a walk.
pub(crate) fn listing_parts(
    merchant: &MerchantId,
    outcome: Option<NoticeOutcome>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Vec<super::scan::Part> {
    let (lo, hi) = super::time_bounds(from, to);
    (0..super::LISTING_SHARDS)
        .map(|s| {
            let (index, pk) = listing(merchant, outcome, s);
            super::scan::Part::index(index, pk, lo.clone(), hi.clone())
        })
        .collect()
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
    let mut builder = ItemBuilder::new(&record_key(record), "notice_record").data(record)?.expires_at((record.at + Duration::days(RECORD_DAYS)).timestamp());
    if let Some(merchant) = &record.merchant_id {
        // Sharded by event: a merchant's notices are written at its issuing and paying rate.
        let shard = super::shard_of(record.event_id.as_str(), super::LISTING_SHARDS);
        let (all_index, all_pk) = listing(merchant, None, shard);
        let (outcome_index, outcome_pk) = listing(merchant, Some(record.outcome), shard);
        builder = builder.index(all_index, all_pk, listing_key(record)).index(outcome_index, outcome_pk, listing_key(record));
    }
    Ok(builder.put(condition))
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
