//! Virtual accounts.
//!
//! The account item lives in the partition of its number (`NUM#bank#number`, sort key
//! `VA#id`), beside the pool item of that number: a deposit finds the account its number
//! belongs to with one read, and a reused number keeps its earlier accounts as history
//! (ids sort by time, so the newest is last). A small `VA#id` reference item resolves ids,
//! and an `ORD#merchant#order` item makes order ids unique per merchant.

use super::scan::Part;
use super::{Guard, ItemBuilder, Listing, Transaction, data_of};
use crate::domain::{AccountNumber, BankCode, MerchantId, OrderId, Status, VirtualAccount, VirtualAccountId};
use crate::ports::{Condition, Cursor, Index, Key, Query, SortRange, StoreError, Table, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an account id points: immutable once written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    pub merchant_id: MerchantId,
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
}

/// Who holds an order id: the account, and the Idempotency-Key of the request that created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderClaim {
    pub account: VirtualAccountId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

pub fn number_partition(bank: BankCode, number: &AccountNumber) -> String {
    format!("NUM#{bank}#{number}")
}

pub fn account_key(bank: BankCode, number: &AccountNumber, id: &VirtualAccountId) -> Key {
    Key::new(number_partition(bank, number), format!("VA#{id}"))
}

fn ref_key(id: &VirtualAccountId) -> Key {
    Key::new(format!("VA#{id}"), "REF")
}

fn order_key(merchant: &MerchantId, order: &OrderId) -> Key {
    Key::new(format!("ORD#{merchant}#{order}"), "ORDER")
}

/// The merchant's listing partition of one write shard: all accounts (gsi1) or one status (gsi2).
/// Deposits change account statuses, so a busy merchant writes here on every deposit.
fn merchant_listing(merchant: &MerchantId, status: Option<Status>, shard: u8) -> (Index, String) {
    match status {
        None => (Index::Gsi1, format!("MVA#{merchant}#{shard}")),
        Some(s) => (Index::Gsi2, format!("MVA#{merchant}#{}#{shard}", s.as_str())),
    }
}

/// Accounts awaiting their due time, by hour and write shard: the expiry sweep's work queue.
pub fn due_partition(hour: DateTime<Utc>, shard: u8) -> String {
    format!("DUE#{}#{shard}", hour.format("%Y-%m-%dT%H"))
}

/// The account item itself, guarded by `condition`. An account that the expiry sweep still
/// has work with carries the sparse due index (gsi3); the write that ends that work drops it.
pub fn put_account(account: &VirtualAccount, condition: Condition) -> Result<Write, StoreError> {
    let shard = super::shard_of(account.id.as_str(), super::LISTING_SHARDS);
    let (all_index, all_pk) = merchant_listing(&account.merchant_id, None, shard);
    let (status_index, status_pk) = merchant_listing(&account.merchant_id, Some(account.status), shard);
    let mut builder = ItemBuilder::new(&account_key(account.bank_code, &account.account_number, &account.id), "virtual_account")
        .version(account.version)
        .data(account)?
        .index(all_index, all_pk, account.id.as_str())
        .index(status_index, status_pk, account.id.as_str());
    if let Some(due) = account.due_at.filter(|_| account.awaits_due_time()) {
        builder = builder.index(Index::Gsi3, due_partition(due, shard), super::time_key(due, account.id.as_str()));
    }
    Ok(builder.put(condition))
}

/// The writes that create a new account: the account, its id reference, and its order claim.
/// The order claim is the last write, so a duplicate order fails at index `base + 2`.
/// A new account with its reference and its order's claim; refused as [`Guard::OrderTaken`]
/// when the order has an account already.
pub fn create_account(account: &VirtualAccount, idempotency_key: Option<&str>) -> Result<Transaction, StoreError> {
    let reference = AccountRef { merchant_id: account.merchant_id.clone(), bank_code: account.bank_code, account_number: account.account_number.clone() };
    let mut tx = Transaction::new();
    tx.push(Guard::NewItem, put_account(account, Condition::NotExists)?);
    tx.push(Guard::NewItem, ItemBuilder::new(&ref_key(&account.id), "account_ref").data(&reference)?.put(Condition::NotExists));
    tx.push(
        Guard::OrderTaken,
        ItemBuilder::new(&order_key(&account.merchant_id, &account.order_id), "order")
            .data(&OrderClaim { account: account.id.clone(), idempotency_key: idempotency_key.map(str::to_owned) })?
            .put(Condition::NotExists),
    );
    Ok(tx)
}

pub async fn get(table: &dyn Table, id: &VirtualAccountId) -> Result<Option<VirtualAccount>, StoreError> {
    let Some(item) = table.get(&ref_key(id)).await? else { return Ok(None) };
    let reference: AccountRef = data_of(&item)?;
    let item = table.get(&account_key(reference.bank_code, &reference.account_number, id)).await?;
    item.as_ref().map(data_of).transpose()
}

pub async fn order_claim(table: &dyn Table, merchant: &MerchantId, order: &OrderId) -> Result<Option<OrderClaim>, StoreError> {
    table.get(&order_key(merchant, order)).await?.as_ref().map(data_of).transpose()
}

pub async fn find_by_order(table: &dyn Table, merchant: &MerchantId, order: &OrderId) -> Result<Option<VirtualAccount>, StoreError> {
    let Some(claim) = order_claim(table, merchant, order).await? else { return Ok(None) };
    get(table, &claim.account).await
}

/// The newest account ever issued on a number, open or not: who a deposit to it belongs to.
pub async fn latest_on_number(table: &dyn Table, bank: BankCode, number: &AccountNumber) -> Result<Option<VirtualAccount>, StoreError> {
    let query = Query::table(number_partition(bank, number)).range(SortRange::BeginsWith("VA#".into())).descending().limit(1);
    let page = table.query(&query).await?;
    page.items.first().map(data_of).transpose()
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub status: Option<Status>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
}

/// A merchant's accounts, newest first.
pub async fn list(
    table: &dyn Table,
    merchant: &MerchantId,
    filter: &ListFilter,
    limit: usize,
    after: Option<Cursor>,
) -> Result<Listing<VirtualAccount>, StoreError> {
    let shards: Vec<(Index, String)> = (0..super::LISTING_SHARDS).map(|s| merchant_listing(merchant, filter.status, s)).collect();
    let (lo, hi) = id_bounds(filter.created_from, filter.created_to);
    let partitions: Vec<String> = shards.iter().map(|(_, pk)| pk.clone()).collect();
    super::merged_page(table, shards[0].0, &partitions, lo, hi, limit, after).await
}

/// The account ids that may have been created in a window: ids begin with their creation
/// time, so a time window is a key range.
fn id_bounds(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> (String, String) {
    let lo = from.map(|t| VirtualAccountId::bounds_at(t).0).unwrap_or_else(|| VirtualAccountId::PREFIX.into());
    let hi = to.map(|t| VirtualAccountId::bounds_at(t).1).unwrap_or_else(|| format!("{}~", VirtualAccountId::PREFIX));
    (lo, hi)
}

/// The shards of a merchant's account listing (of one status) over a creation window, as
/// parts of a walk.
pub(crate) fn listing_parts(merchant: &MerchantId, filter: &ListFilter) -> Vec<Part> {
    let (lo, hi) = id_bounds(filter.created_from, filter.created_to);
    (0..super::LISTING_SHARDS)
        .map(|s| {
            let (index, pk) = merchant_listing(merchant, filter.status, s);
            Part::index(index, pk, lo.clone(), hi.clone())
        })
        .collect()
}

/// The accounts ever issued on a number (created in a window), as a part of a walk.
pub(crate) fn number_part(bank: BankCode, number: &AccountNumber, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Part {
    let (lo, hi) = id_bounds(from, to);
    Part::table(number_partition(bank, number), format!("VA#{lo}"), format!("VA#{hi}"))
}

/// The account that holds a merchant's order, as a part of a walk: the order claim and the
/// account reference read (2 Get), `None` when the order has no account.
pub(crate) async fn order_part(table: &dyn Table, merchant: &MerchantId, order: &OrderId) -> Result<Option<Part>, StoreError> {
    let Some(claim) = order_claim(table, merchant, order).await? else { return Ok(None) };
    let Some(item) = table.get(&ref_key(&claim.account)).await? else { return Ok(None) };
    let reference: AccountRef = data_of(&item)?;
    let key = account_key(reference.bank_code, &reference.account_number, &claim.account);
    Ok(Some(Part::table(key.pk, key.sk.clone(), key.sk)))
}

/// The ids of every account ever issued on a number, newest first, and the store calls spent.
pub(crate) async fn ids_on_number(table: &dyn Table, bank: BankCode, number: &AccountNumber) -> Result<(Vec<VirtualAccountId>, usize), StoreError> {
    let mut ids = Vec::new();
    let mut calls = 0;
    let mut after = None;
    loop {
        let query = Query::table(number_partition(bank, number)).range(SortRange::BeginsWith("VA#".into())).descending().limit(100).after(after);
        let page = table.query(&query).await?;
        calls += 1;
        for item in &page.items {
            ids.push(data_of::<VirtualAccount>(item)?.id);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok((ids, calls)),
        }
    }
}

/// One page of the accounts of a due-index partition whose due time is at or before `now`,
/// oldest first, and the cursor of the next page (`None`: the partition holds no more). A
/// page may be short and still have a cursor (DynamoDB stops at 1 MB). Index reads lag: the
/// sweep re-checks each account with a conditional write.
pub async fn due_by(
    table: &dyn Table,
    hour: DateTime<Utc>,
    shard: u8,
    now: DateTime<Utc>,
    limit: usize,
    after: Option<Cursor>,
) -> Result<(Vec<VirtualAccount>, Option<Cursor>), StoreError> {
    let query = Query::index(Index::Gsi3, due_partition(hour, shard))
        .range(SortRange::Between("0".into(), format!("{}~", super::time_key(now, ""))))
        .limit(limit)
        .after(after);
    let page = table.query(&query).await?;
    Ok((page.items.iter().map(data_of).collect::<Result<_, _>>()?, page.next))
}

/// The account stored under its number, read consistently by key.
pub async fn get_on_number(table: &dyn Table, bank: BankCode, number: &AccountNumber, id: &VirtualAccountId) -> Result<Option<VirtualAccount>, StoreError> {
    table.get(&account_key(bank, number, id)).await?.as_ref().map(data_of).transpose()
}
