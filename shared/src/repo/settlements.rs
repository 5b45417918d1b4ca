//! Settlement entries and settlement records.
//!
//! Entries are written by the money paths (deposit, assignment, reversal) in the transaction
//! of the change, under `STL#{merchant}#{day}#{shard}`: a busy merchant's day is spread over
//! [`ENTRY_SHARDS`] partitions, and [`DayEntries`] merges them back in sort-key order, a page
//! per shard at a time, so a day of any size is read in bounded memory.
//!
//! Each of those partitions also holds its **seal** (`SEALED`), written by the exporter before
//! it reads the day. Every entry's transaction carries a check that its partition is not
//! sealed ([`check_open`]), so once the seal is in, no entry can join the day: the store, not a
//! timing assumption, makes an exported day final. The seal sits in the entries' own partition
//! so the check reads spread over the same shards as the writes.

use super::{ItemBuilder, data_of, time_key, version_of};
use crate::domain::MerchantId;
use crate::domain::settlement::{Settlement, SettlementEntry};
use crate::ports::{Condition, Cursor, Key, Query, SortRange, StoreError, Table, Write};
use chrono::NaiveDate;
use std::collections::VecDeque;

/// One partition takes about 1,000 writes/s (docs/storage.md, "Partition write rates"); eight let one merchant's day take
/// several thousand deposits a second.
pub const ENTRY_SHARDS: u8 = 8;

/// Items read per shard and page while merging a day.
const PAGE: usize = 500;

fn entry_partition(merchant: &MerchantId, day: NaiveDate, shard: u8) -> String {
    format!("STL#{merchant}#{day}#{shard}")
}

/// Entry sort keys start with a 13-digit time; the seal's (`SEALED`) sorts after every one of
/// them, outside [`ENTRY_RANGE`].
const SEAL_SORT_KEY: &str = "SEALED";

/// The sort keys of entries: from the first digit up to (not including) any letter.
fn entry_range() -> SortRange {
    SortRange::Between("0".into(), "9~".into())
}

fn shard_of_entry(entry: &SettlementEntry) -> u8 {
    super::shard_of(entry.deposit_id.as_str(), ENTRY_SHARDS)
}

fn seal_key(merchant: &MerchantId, day: NaiveDate, shard: u8) -> Key {
    Key::new(entry_partition(merchant, day, shard), SEAL_SORT_KEY)
}

/// The condition an entry's transaction carries: its day's partition is not sealed.
pub fn check_open(entry: &SettlementEntry) -> Write {
    Write::Check { key: seal_key(&entry.merchant_id, entry.day, shard_of_entry(entry)), condition: Condition::NotExists }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Seal {
    day: NaiveDate,
}

/// Seals one shard of a merchant's day: after this, no entry can be added to it.
pub fn put_seal(merchant: &MerchantId, day: NaiveDate, shard: u8) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&seal_key(merchant, day, shard), "settlement_seal").version(1).data(&Seal { day })?.put(Condition::NotExists))
}

/// Time, deposit, kind: the order of a day's rows, and unique per entry.
fn entry_sort_key(entry: &SettlementEntry) -> String {
    format!("{}#{}", time_key(entry.recorded_at, entry.deposit_id.as_str()), entry.kind.as_str())
}

pub fn put_entry(entry: &SettlementEntry) -> Result<Write, StoreError> {
    let key = Key::new(entry_partition(&entry.merchant_id, entry.day, shard_of_entry(entry)), entry_sort_key(entry));
    Ok(ItemBuilder::new(&key, "settlement_entry").data(entry)?.put(Condition::NotExists))
}

struct Shard {
    partition: String,
    buffered: VecDeque<(String, SettlementEntry)>,
    after: Option<Cursor>,
    exhausted: bool,
}

/// A merchant's entries of one day, in row order.
pub struct DayEntries<'a> {
    table: &'a dyn Table,
    shards: Vec<Shard>,
}

impl<'a> DayEntries<'a> {
    pub fn new(table: &'a dyn Table, merchant: &MerchantId, day: NaiveDate) -> DayEntries<'a> {
        let shards = (0..ENTRY_SHARDS)
            .map(|shard| Shard { partition: entry_partition(merchant, day, shard), buffered: VecDeque::new(), after: None, exhausted: false })
            .collect();
        DayEntries { table, shards }
    }

    pub async fn next(&mut self) -> Result<Option<SettlementEntry>, StoreError> {
        for shard in &mut self.shards {
            // A page may come back empty with more to read (DynamoDB may stop early), so read
            // until the shard has a head or is done: the merge needs every shard's head.
            while shard.buffered.is_empty() && !shard.exhausted {
                let query = Query::table(shard.partition.clone()).range(entry_range()).limit(PAGE).after(shard.after.take());
                let page = self.table.query(&query).await?;
                for item in &page.items {
                    let sk = Key::of(item).map(|k| k.sk).ok_or_else(|| StoreError::Unavailable("settlement entry without a key".into()))?;
                    shard.buffered.push_back((sk, data_of(item)?));
                }
                shard.exhausted = page.next.is_none();
                shard.after = page.next;
            }
        }
        let first = self.shards.iter_mut().filter(|s| !s.buffered.is_empty()).min_by(|a, b| a.buffered[0].0.cmp(&b.buffered[0].0));
        Ok(first.and_then(|shard| shard.buffered.pop_front()).map(|(_, entry)| entry))
    }
}

fn settlement_key(merchant: &MerchantId, day: NaiveDate) -> Key {
    Key::new(format!("MCH#{merchant}"), format!("STL#{day}"))
}

pub fn put_settlement(settlement: &Settlement, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&settlement_key(&settlement.merchant_id, settlement.date), "settlement").version(settlement.version).data(settlement)?.put(condition))
}

pub async fn get_settlement(table: &dyn Table, merchant: &MerchantId, day: NaiveDate) -> Result<Option<Settlement>, StoreError> {
    table.get(&settlement_key(merchant, day)).await?.as_ref().map(settlement_of).transpose()
}

/// A stored settlement, its version the item's.
pub(crate) fn settlement_of(item: &crate::ports::Item) -> Result<Settlement, StoreError> {
    let mut settlement: Settlement = data_of(item)?;
    settlement.version = version_of(item).unwrap_or(settlement.version);
    Ok(settlement)
}

/// A merchant's settlements from `from` to `to` (inclusive), as a part of a walk.
pub(crate) fn settlements_part(merchant: &MerchantId, from: NaiveDate, to: NaiveDate) -> super::scan::Part {
    super::scan::Part::table(format!("MCH#{merchant}"), format!("STL#{from}"), format!("STL#{to}"))
}

/// A page of a merchant's settlements from `from` to `to` (inclusive), oldest first.
pub async fn list_settlements(
    table: &dyn Table,
    merchant: &MerchantId,
    from: NaiveDate,
    to: NaiveDate,
    limit: usize,
    after: Option<Cursor>,
) -> Result<super::Listing<Settlement>, StoreError> {
    let range = SortRange::Between(format!("STL#{from}"), format!("STL#{to}"));
    let query = Query::table(format!("MCH#{merchant}")).range(range).limit(limit).after(after);
    let page = super::query_up_to_limit(table, &query).await?;
    Ok(super::Listing { items: page.items.iter().map(settlement_of).collect::<Result<_, _>>()?, next: page.next })
}

/// Every shard of a merchant's day sealed: no entry can join it any more. Idempotent.
pub async fn seal_day(table: &dyn Table, merchant: &MerchantId, day: NaiveDate) -> Result<(), StoreError> {
    for shard in 0..ENTRY_SHARDS {
        // A movement holding the seal item in its transaction makes the seal's write conflict;
        // it is done in milliseconds, so the seal waits and writes again. Every movement of the
        // day checks the seal, so under load it is a hot item.
        let mut retry = super::Retry::hot();
        let mut sealed = false;
        while !sealed && retry.next().await {
            match table.transact(vec![put_seal(merchant, day, shard)?]).await {
                // Sealed by an earlier run of the same day.
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => sealed = true,
                Err(StoreError::Conflict) => {}
                Err(e) => return Err(e),
            }
        }
        if !sealed {
            return Err(StoreError::Conflict);
        }
    }
    Ok(())
}

fn seals_migrated_key() -> Key {
    Key::new("MIGRATION#settlement-seals", "DONE")
}

/// Whether the days exported before seals existed have been sealed (`vaccount migrate`).
pub async fn seals_migrated(table: &dyn Table) -> Result<bool, StoreError> {
    Ok(table.get(&seals_migrated_key()).await?.is_some())
}

pub fn put_seals_migrated(at: chrono::DateTime<chrono::Utc>) -> Result<Write, StoreError> {
    #[derive(serde::Serialize)]
    struct Done {
        at: chrono::DateTime<chrono::Utc>,
    }
    Ok(ItemBuilder::new(&seals_migrated_key(), "migration").version(1).data(&Done { at })?.put(Condition::NotExists))
}
