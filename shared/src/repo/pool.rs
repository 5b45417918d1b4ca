//! Pool numbers. A number's pool item shares the partition of the accounts issued on it.
//!
//! Free numbers carry `gsi3` = (`FREE#bank#shard`, `spread#number`) and cooling numbers carry
//! `gsi3` = (`COOL#bank`, `until#number`): sparse work indexes that the allocation reads and
//! that every state change rewrites in the same transaction.

use super::{ItemBuilder, accounts::number_partition, data_of};
use crate::domain::pool::SHARDS;
use crate::domain::{AccountNumber, BankCode, NumberState, PoolNumber};
use crate::ports::{Condition, Index, Key, Query, SortRange, StoreError, Table, Write};
use chrono::{DateTime, SecondsFormat, Utc};

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
