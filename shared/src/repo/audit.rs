//! The audit log: one hash chain of entries, appended and never rewritten.
//!
//! - The head (`AUDIT#HEAD` / `HEAD`) holds the last sequence number and hash; every append
//!   moves it on condition of its version, in the same transaction as the entry (not exists),
//!   so two appends can never take one number or fork the chain. Admin actions come at human
//!   rates, far below the ~1,000 writes/s one partition takes.
//! - Entries live in blocks of 10,000 (`AUDIT#{seq / 10000:08}` / `{seq:012}`), so no partition
//!   grows without end and a walk reads blocks in order.

use super::{ItemBuilder, Listing, data_of, version_of};
use crate::domain::operator::AuditEntry;
use crate::ports::{Condition, Cursor, Key, Query, SortRange, StoreError, Table, Write};
use serde::{Deserialize, Serialize};

const BLOCK: u64 = 10_000;

/// The chain's last link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

fn head_key() -> Key {
    Key::new("AUDIT#HEAD", "HEAD")
}

fn block_partition(block: u64) -> String {
    format!("AUDIT#{block:08}")
}

fn entry_key(seq: u64) -> Key {
    Key::new(block_partition(seq / BLOCK), format!("{seq:012}"))
}

/// The head and its version (0: no entry yet).
pub async fn head(table: &dyn Table) -> Result<Option<(Head, u64)>, StoreError> {
    match table.get(&head_key()).await? {
        Some(item) => Ok(Some((data_of(&item)?, version_of(&item).unwrap_or(0)))),
        None => Ok(None),
    }
}

/// The writes that append `entry` after a head at `head_version` (0: the first entry).
pub fn append(entry: &AuditEntry, head_version: u64) -> Result<Vec<Write>, StoreError> {
    let head = Head { seq: entry.seq, hash: entry.hash.clone() };
    let head_condition = if head_version == 0 { Condition::NotExists } else { Condition::VersionIs(head_version) };
    Ok(vec![
        ItemBuilder::new(&entry_key(entry.seq), "audit").data(entry)?.put(Condition::NotExists),
        ItemBuilder::new(&head_key(), "audit_head").version(head_version + 1).data(&head)?.put(head_condition),
    ])
}

/// Entries from `from_seq` on, oldest first, at most `limit` (for the verifier and exports).
pub async fn from(table: &dyn Table, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
    let mut out = Vec::new();
    let Some((head, _)) = head(table).await? else { return Ok(out) };
    let mut next = from_seq.max(1);
    while out.len() < limit && next <= head.seq {
        let block = next / BLOCK;
        let wanted = limit - out.len();
        let query =
            Query::table(block_partition(block)).range(SortRange::Between(format!("{next:012}"), format!("{:012}", block * BLOCK + BLOCK - 1))).limit(wanted);
        let page = super::query_up_to_limit(table, &query).await?;
        let got: Vec<AuditEntry> = page.items.iter().map(data_of).collect::<Result<_, _>>()?;
        next = match got.last() {
            Some(last) if got.len() == wanted => last.seq + 1,
            _ => (block + 1) * BLOCK,
        };
        out.extend(got);
    }
    Ok(out)
}

/// Entries newest first, a page at a time.
pub async fn newest_first(table: &dyn Table, limit: usize, after: Option<Cursor>) -> Result<Listing<AuditEntry>, StoreError> {
    // The cursor is the sequence number to continue below; the head says where to begin.
    let mut below = match after.as_ref().and_then(|c| c.get(SEQ)) {
        Some(seq) => seq.parse::<u64>().map_err(|_| StoreError::InvalidCursor)?,
        None => match head(table).await? {
            Some((head, _)) => head.seq + 1,
            None => return Ok(Listing { items: Vec::new(), next: None }),
        },
    };
    let mut items: Vec<AuditEntry> = Vec::new();
    while items.len() < limit && below > 1 {
        let block = (below - 1) / BLOCK;
        let wanted = limit - items.len();
        let range = SortRange::Between(format!("{:012}", block * BLOCK), format!("{:012}", below - 1));
        let page = super::query_up_to_limit(table, &Query::table(block_partition(block)).range(range).descending().limit(wanted)).await?;
        let got: Vec<AuditEntry> = page.items.iter().map(data_of).collect::<Result<_, _>>()?;
        below = match got.last() {
            Some(last) if got.len() == wanted => last.seq,
            _ => block * BLOCK,
        };
        items.extend(got);
    }
    let next = (below > 1 && items.len() >= limit).then(|| Cursor::from([(SEQ.to_owned(), below.to_string())]));
    Ok(Listing { items, next })
}

const SEQ: &str = "seq";

/// The cursor of [`newest_first`] that goes on with the entries before `seq`.
pub fn before(seq: u64) -> Cursor {
    Cursor::from([(SEQ.to_owned(), seq.to_string())])
}

/// Rewrites a stored entry in place: what a tamper test does to prove the verifier notices.
/// Nothing in the service calls it (entries are never updated).
#[cfg(feature = "testing")]
pub fn overwrite(entry: &AuditEntry) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&entry_key(entry.seq), "audit").data(entry)?.put(Condition::Exists))
}
