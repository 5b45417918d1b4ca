//! Deposits and reversal claims.
//!
//! Every provider notice owns one item, created with `attribute_not_exists`: that item *is* the
//! notice's idempotency record, so a redelivered notice fails its condition and is answered
//! from what is stored. A deposit notice owns `TX#{provider}#{transaction}` / `NOTICE`, a
//! reversal notice `TX#{provider}#{transaction}` / `REVERSAL`: providers number deposits and
//! reversals independently (some report a cancellation under the deposit's own id), so the two
//! kinds never take each other's record.
//! A `DEP#{id}` reference resolves deposit ids. Deposit items carry three listings: the
//! merchant's (gsi1, write-sharded), the merchant's by status (gsi2, write-sharded), and the
//! account's (gsi3), each sorted by deposit time then id.

use super::scan::Part;
use super::{Guard, ItemBuilder, LISTING_SHARDS, Listing, Transaction, data_of, merged_page, shard_of, time_key};
use crate::domain::deposit::{Deposit, DepositStatus};
use crate::domain::{DepositId, ProviderId, TransactionId, VirtualAccountId};
use crate::ports::{Condition, Cursor, Index, Key, StoreError, Table, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The owner name of deposits to numbers we do not know, until an operator assigns them.
pub const UNMATCHED: &str = "unmatched";

/// What a provider notice left behind.
// One record is read or written at a time; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "notice")]
pub enum NoticeRecord {
    Deposit(Deposit),
    Reversal(ReversalClaim),
}

/// A reversal notice, recorded under its own transaction id: which deposit it reversed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReversalClaim {
    pub provider: ProviderId,
    pub transaction_id: TransactionId,
    pub original_transaction_id: TransactionId,
    pub deposit_id: DepositId,
    pub received_at: DateTime<Utc>,
    /// The deposit's status the notice was answered with (a partial cancellation leaves it
    /// matched); absent on records from before it was kept, which were whole reversals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<DepositStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct DepositRef {
    provider: ProviderId,
    transaction_id: TransactionId,
}

pub fn notice_key(provider: &ProviderId, transaction: &TransactionId) -> Key {
    Key::new(format!("TX#{provider}#{transaction}"), "NOTICE")
}

/// A reversal notice's record. Reversals recorded before it existed sit under [`notice_key`].
fn reversal_key(provider: &ProviderId, transaction: &TransactionId) -> Key {
    Key::new(format!("TX#{provider}#{transaction}"), "REVERSAL")
}

fn ref_key(id: &DepositId) -> Key {
    Key::new(format!("DEP#{id}"), "REF")
}

fn owner_of(deposit: &Deposit) -> String {
    deposit.merchant_id.as_ref().map_or_else(|| UNMATCHED.to_owned(), ToString::to_string)
}

/// An account's deposits (gsi3), including those assigned to it by an operator.
fn account_listing(account: &VirtualAccountId) -> String {
    format!("VADEP#{account}")
}

fn listing(owner: &str, status: Option<DepositStatus>, shard: u8) -> String {
    match status {
        None => format!("MDEP#{owner}#{shard}"),
        Some(s) => format!("MDEP#{owner}#{}#{shard}", s.as_str()),
    }
}

/// The deposit item, guarded by `condition` (creation: not exists; changes: its version).
pub fn put_deposit(deposit: &Deposit, condition: Condition) -> Result<Write, StoreError> {
    let owner = owner_of(deposit);
    let shard = shard_of(deposit.id.as_str(), LISTING_SHARDS);
    // Deposit time first, so a time window is a key range and a settlement day is one read.
    let sk = time_key(deposit.deposited_at, deposit.id.as_str());
    let mut builder = ItemBuilder::new(&notice_key(&deposit.provider, &deposit.transaction_id), "deposit")
        .version(deposit.version)
        .data(&NoticeRecord::Deposit(deposit.clone()))?
        .index(Index::Gsi1, listing(&owner, None, shard), sk.clone())
        .index(Index::Gsi2, listing(&owner, Some(deposit.status), shard), sk.clone());
    // An unknown number's deposit, once assigned, is listed with the account that took it.
    if let Some(account) = deposit.virtual_account_id.as_ref().or(deposit.assigned_to()) {
        builder = builder.index(Index::Gsi3, account_listing(account), sk);
    }
    Ok(builder.put(condition))
}

/// The writes that record a new deposit; the notice item comes first, so a redelivered
/// notice fails at index 0.
/// A new deposit, keyed by its notice: refused as [`Guard::AlreadyRecorded`] when the notice
/// was recorded before.
pub fn create_deposit(deposit: &Deposit) -> Result<Transaction, StoreError> {
    let mut tx = Transaction::new();
    tx.push(Guard::AlreadyRecorded, put_deposit(deposit, Condition::NotExists)?);
    tx.push(
        Guard::NewItem,
        ItemBuilder::new(&ref_key(&deposit.id), "deposit_ref")
            .data(&DepositRef { provider: deposit.provider.clone(), transaction_id: deposit.transaction_id.clone() })?
            .put(Condition::NotExists),
    );
    Ok(tx)
}

pub fn put_reversal_claim(claim: &ReversalClaim) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&reversal_key(&claim.provider, &claim.transaction_id), "reversal")
        .version(1)
        .data(&NoticeRecord::Reversal(claim.clone()))?
        .put(Condition::NotExists))
}

pub async fn get_notice(table: &dyn Table, provider: &ProviderId, transaction: &TransactionId) -> Result<Option<NoticeRecord>, StoreError> {
    table.get(&notice_key(provider, transaction)).await?.as_ref().map(data_of).transpose()
}

/// Moves a reversal's record stored under [`notice_key`] (before reversals had their own key)
/// to its own key, freeing the notice key for a deposit with the same id. Fails on the delete if
/// it was moved already.
pub fn move_legacy_reversal(claim: &ReversalClaim) -> Result<Vec<Write>, StoreError> {
    Ok(vec![
        ItemBuilder::new(&reversal_key(&claim.provider, &claim.transaction_id), "reversal")
            .version(1)
            .data(&NoticeRecord::Reversal(claim.clone()))?
            .put(Condition::Always),
        Write::Delete { key: notice_key(&claim.provider, &claim.transaction_id), condition: Condition::VersionIs(1) },
    ])
}

/// A reversal's record as it was stored before reversals had their own key: under the notice
/// key of its own transaction id. For the tests of that layout.
#[cfg(any(test, feature = "testing"))]
pub fn put_legacy_reversal(claim: &ReversalClaim) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&notice_key(&claim.provider, &claim.transaction_id), "reversal")
        .version(1)
        .data(&NoticeRecord::Reversal(claim.clone()))?
        .put(Condition::NotExists))
}

/// The reversal notice a provider sent under `transaction`, if any.
pub async fn get_reversal_claim(table: &dyn Table, provider: &ProviderId, transaction: &TransactionId) -> Result<Option<ReversalClaim>, StoreError> {
    if let Some(item) = table.get(&reversal_key(provider, transaction)).await? {
        return match data_of(&item)? {
            NoticeRecord::Reversal(claim) => Ok(Some(claim)),
            NoticeRecord::Deposit(_) => Err(StoreError::Unavailable("corrupt item: a deposit under a reversal key".into())),
        };
    }
    Ok(match get_notice(table, provider, transaction).await? {
        Some(NoticeRecord::Reversal(claim)) => Some(claim),
        _ => None,
    })
}

/// The deposit a provider reported under `transaction`, if that notice was a deposit.
pub async fn get_by_transaction(table: &dyn Table, provider: &ProviderId, transaction: &TransactionId) -> Result<Option<Deposit>, StoreError> {
    Ok(match get_notice(table, provider, transaction).await? {
        Some(NoticeRecord::Deposit(d)) => Some(d),
        _ => None,
    })
}

pub async fn get(table: &dyn Table, id: &DepositId) -> Result<Option<Deposit>, StoreError> {
    let Some(item) = table.get(&ref_key(id)).await? else { return Ok(None) };
    let reference: DepositRef = data_of(&item)?;
    get_by_transaction(table, &reference.provider, &reference.transaction_id).await
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepositFilter {
    pub status: Option<DepositStatus>,
    /// Deposit time window, inclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A merchant's deposits (or, with owner [`UNMATCHED`], the unassigned ones), newest first.
pub async fn list(table: &dyn Table, owner: &str, filter: &DepositFilter, limit: usize, after: Option<Cursor>) -> Result<Listing<Deposit>, StoreError> {
    let index = if filter.status.is_some() { Index::Gsi2 } else { Index::Gsi1 };
    let partitions: Vec<String> = (0..LISTING_SHARDS).map(|s| listing(owner, filter.status, s)).collect();
    let (lo, hi) = super::time_bounds(filter.from, filter.to);
    let page = merged_page::<NoticeRecord>(table, index, &partitions, lo, hi, limit, after).await?;
    Ok(Listing { items: deposits_of(page.items), next: page.next })
}

/// The shards of an owner's deposit listing (of one status) over a deposit-time window, as
/// parts of a walk.
pub(crate) fn owner_parts(owner: &str, status: Option<DepositStatus>, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Vec<Part> {
    let index = if status.is_some() { Index::Gsi2 } else { Index::Gsi1 };
    let (lo, hi) = super::time_bounds(from, to);
    (0..LISTING_SHARDS).map(|s| Part::index(index, listing(owner, status, s), lo.clone(), hi.clone())).collect()
}

/// An account's deposit listing over a deposit-time window, as a part of a walk.
pub(crate) fn account_part(account: &VirtualAccountId, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Part {
    let (lo, hi) = super::time_bounds(from, to);
    Part::index(Index::Gsi3, account_listing(account), lo, hi)
}

/// The record a deposit listing's item holds, when it is a deposit.
pub(crate) fn deposit_of(item: &crate::ports::Item) -> Result<Option<Deposit>, StoreError> {
    Ok(match data_of::<NoticeRecord>(item)? {
        NoticeRecord::Deposit(d) => Some(d),
        NoticeRecord::Reversal(_) => None,
    })
}

/// The deposits of one account, newest first.
pub async fn for_account(table: &dyn Table, account: &VirtualAccountId, limit: usize, after: Option<Cursor>) -> Result<Listing<Deposit>, StoreError> {
    let page = merged_page::<NoticeRecord>(table, Index::Gsi3, &[account_listing(account)], "0".into(), "~".into(), limit, after).await?;
    Ok(Listing { items: deposits_of(page.items), next: page.next })
}

fn deposits_of(records: Vec<NoticeRecord>) -> Vec<Deposit> {
    records
        .into_iter()
        .filter_map(|r| match r {
            NoticeRecord::Deposit(d) => Some(d),
            NoticeRecord::Reversal(_) => None,
        })
        .collect()
}
