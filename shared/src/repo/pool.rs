//! Pool numbers. A number's pool item shares the partition of the accounts issued on it.
//!
//! Free numbers carry `gsi3` = (`FREE#bank#shard`, `spread#number`) and cooling numbers carry
//! `gsi3` = (`COOL#bank`, `until#number`): sparse work indexes that the allocation reads and
//! that every state change rewrites in the same transaction.
//!
//! Each pool (a provider's numbers at one bank) has a record of the ranges imported into it
//! (`POOLS` / `{bank}#{provider}`), written only by `pool add`: the one partition lists every
//! pool, and the ranges tell how many numbers it holds, which the stock page compares with
//! what the free and cooling indexes show.

use super::{ItemBuilder, accounts::number_partition, data_of, version_of};
use crate::domain::pool::{NumberRange, SHARDS};
use crate::domain::{AccountNumber, BankCode, NumberState, PoolNumber, ProviderId};
use crate::ports::{Condition, Index, Key, Query, SortRange, StoreError, Table, Write};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub fn number_key(bank: BankCode, number: &AccountNumber) -> Key {
    Key::new(number_partition(bank, number), "POOL")
}

fn free_partition(bank: BankCode, shard: u32) -> String {
    format!("FREE#{bank}#{shard:02}")
}

fn cooling_partition(bank: BankCode) -> String {
    format!("COOL#{bank}")
}

fn instant_key(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn put_number(number: &PoolNumber, condition: Condition) -> Result<Write, StoreError> {
    let builder = ItemBuilder::new(&number_key(number.bank_code, &number.account_number), "pool_number").version(number.version).data(number)?;
    let builder = match &number.state {
        NumberState::Free => {
            builder.index(Index::Gsi3, free_partition(number.bank_code, number.shard()), format!("{}#{}", number.spread(), number.account_number))
        }
        NumberState::Cooling { until } => {
            builder.index(Index::Gsi3, cooling_partition(number.bank_code), format!("{}#{}", instant_key(*until), number.account_number))
        }
        NumberState::Assigned { .. } => builder,
    };
    Ok(builder.put(condition))
}

pub async fn get(table: &dyn Table, bank: BankCode, number: &AccountNumber) -> Result<Option<PoolNumber>, StoreError> {
    table.get(&number_key(bank, number)).await?.as_ref().map(data_of).transpose()
}

/// Up to `limit` numbers of one shard that looked free when the index was last updated,
/// read from `start` (a spread value, see [`PoolNumber::spread`]) onwards and wrapping around,
/// so that concurrent callers starting at random points mostly see different numbers.
pub async fn free_candidates(table: &dyn Table, bank: BankCode, shard: u32, start: &str, limit: usize) -> Result<Vec<PoolNumber>, StoreError> {
    let partition = free_partition(bank, shard);
    let upper = Query::index(Index::Gsi3, &partition).range(SortRange::Between(start.to_owned(), "~".into())).limit(limit);
    // A short page is not the end of the range (DynamoDB stops at 1 MB): read on before
    // wrapping around to the lower part.
    let mut items = super::query_up_to_limit(table, &upper).await?.items;
    if items.len() < limit {
        let lower = Query::index(Index::Gsi3, &partition).range(SortRange::Between("0".into(), start.to_owned())).limit(limit - items.len());
        items.extend(table.query(&lower).await?.items);
    }
    items.iter().map(data_of).collect()
}

/// Cooling numbers whose rest is over at `now`, oldest first.
pub async fn thawable(table: &dyn Table, bank: BankCode, now: DateTime<Utc>, limit: usize) -> Result<Vec<PoolNumber>, StoreError> {
    let query = Query::index(Index::Gsi3, cooling_partition(bank)).range(SortRange::Between("0".to_owned(), format!("{}#~", instant_key(now)))).limit(limit);
    let page = table.query(&query).await?;
    page.items.iter().map(data_of).collect()
}

/// Counts free numbers of a bank, stopping once `at_least` are seen: enough to tell "low".
pub async fn count_free(table: &dyn Table, bank: BankCode, at_least: usize) -> Result<usize, StoreError> {
    let mut seen = 0;
    for shard in 0..SHARDS {
        let mut after = None;
        loop {
            let query = Query::index(Index::Gsi3, free_partition(bank, shard)).limit(at_least.clamp(1, 1000)).after(after);
            let page = table.query(&query).await?;
            seen += page.items.len();
            if seen >= at_least {
                return Ok(seen);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(seen)
}

/// The ranges imported into one pool: a provider's numbers at one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolRanges {
    pub provider: ProviderId,
    pub bank_code: BankCode,
    /// Disjoint, as `domain::pool::merge_ranges` leaves them.
    pub ranges: Vec<NumberRange>,
}

/// Every pool's record in one partition: pools are few, and written only by imports.
const POOLS: &str = "POOLS";

fn ranges_key(bank: BankCode, provider: &ProviderId) -> Key {
    Key::new(POOLS, format!("{bank}#{provider}"))
}

/// A pool's ranges and their item's version, if it has a record.
pub async fn ranges(table: &dyn Table, bank: BankCode, provider: &ProviderId) -> Result<Option<(PoolRanges, u64)>, StoreError> {
    let Some(item) = table.get(&ranges_key(bank, provider)).await? else { return Ok(None) };
    Ok(Some((data_of(&item)?, version_of(&item).unwrap_or(0))))
}

/// The pool's ranges as they will be: created (`previous` is `None`) or moved on from the
/// version read, so two imports into one pool at once cannot lose a range.
pub fn put_ranges(ranges: &PoolRanges, previous: Option<u64>) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&ranges_key(ranges.bank_code, &ranges.provider), "pool_ranges")
        .version(previous.map_or(1, |v| v + 1))
        .data(ranges)?
        .put(previous.map_or(Condition::NotExists, Condition::VersionIs)))
}

/// Every pool with a record, by bank then provider.
pub async fn all_ranges(table: &dyn Table) -> Result<Vec<PoolRanges>, StoreError> {
    let mut pools = Vec::new();
    let mut after = None;
    loop {
        let page = table.query(&Query::table(POOLS).limit(100).after(after)).await?;
        for item in &page.items {
            pools.push(data_of(item)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(pools),
        }
    }
}

/// The numbers of a bank in one state, by provider, read from that state's index up to
/// `cap` numbers: `complete` is false when the read stopped there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateCounts {
    pub by_provider: BTreeMap<ProviderId, u64>,
    pub complete: bool,
}

/// Numbers read per store call while counting.
const COUNT_PAGE: usize = 500;

async fn count_partitions(table: &dyn Table, partitions: Vec<String>, cap: usize) -> Result<StateCounts, StoreError> {
    let mut counts = StateCounts { by_provider: BTreeMap::new(), complete: true };
    let mut seen = 0;
    for partition in partitions {
        let mut after = None;
        loop {
            if seen >= cap {
                counts.complete = false;
                return Ok(counts);
            }
            let query = Query::index(Index::Gsi3, partition.clone()).limit(COUNT_PAGE.min(cap - seen)).after(after);
            let page = table.query(&query).await?;
            for item in &page.items {
                let number: PoolNumber = data_of(item)?;
                *counts.by_provider.entry(number.provider).or_default() += 1;
                seen += 1;
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(counts)
}

/// A bank's free numbers by provider: its 16 free-index shards, read up to `cap` numbers.
pub async fn free_by_provider(table: &dyn Table, bank: BankCode, cap: usize) -> Result<StateCounts, StoreError> {
    count_partitions(table, (0..SHARDS).map(|shard| free_partition(bank, shard)).collect(), cap).await
}

/// A bank's cooling numbers by provider: its cooling index, read up to `cap` numbers.
pub async fn cooling_by_provider(table: &dyn Table, bank: BankCode, cap: usize) -> Result<StateCounts, StoreError> {
    count_partitions(table, vec![cooling_partition(bank)], cap).await
}
