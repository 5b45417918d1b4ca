//! Repositories: the single-table key layout of every record, written once on top of the
//! `Table` port so both backends store exactly the same items. `docs/storage.md` lists each
//! access pattern with its key and cost.
//!
//! Every key format lives here and nowhere else (`shared/tests/seams_keys.rs` checks it): the
//! rest of the service hands typed values to these modules and gets `Write`s and records back.
//! The item builder is private to `repo` for that reason.
//!
//! An item is `{pk, sk, kind, version, data, [index attributes], [expires_at]}`: `data` holds
//! the record as a map, the rest is what storage needs to find and guard it.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod checkpoints;
pub mod deposits;
pub mod idempotency;
pub mod incidents;
pub mod local_queues;
pub mod merchants;
pub mod notices;
pub mod operators;
pub mod outbox;
pub mod oversight;
pub mod pool;
pub mod reconciliation;
mod scan;
pub mod settlements;
pub mod transaction;
pub mod webhooks;

pub use transaction::{Guard, Retry, Transaction, TxError};

use crate::ports::{Attr, Condition, EXPIRES_AT, Index, Item, Key, PK, SK, StoreError, VERSION, Write};
use serde::Serialize;
use serde::de::DeserializeOwned;

const DATA: &str = "data";
const KIND: &str = "kind";

/// Builds one stored item; only the modules of `repo` build items.
struct ItemBuilder(Item);

impl ItemBuilder {
    fn new(key: &Key, kind: &str) -> ItemBuilder {
        let mut item = Item::new();
        item.insert(PK.into(), Attr::S(key.pk.clone()));
        item.insert(SK.into(), Attr::S(key.sk.clone()));
        item.insert(KIND.into(), Attr::S(kind.into()));
        ItemBuilder(item)
    }

    fn version(mut self, version: u64) -> ItemBuilder {
        self.0.insert(VERSION.into(), Attr::N(i64::try_from(version).unwrap_or(i64::MAX)));
        self
    }

    fn data(mut self, record: &impl Serialize) -> Result<ItemBuilder, StoreError> {
        self.0.insert(DATA.into(), to_attr(record)?);
        Ok(self)
    }

    fn index(mut self, index: Index, pk: impl Into<String>, sk: impl Into<String>) -> ItemBuilder {
        self.0.insert(index.pk().into(), Attr::S(pk.into()));
        self.0.insert(index.sk().into(), Attr::S(sk.into()));
        self
    }

    /// Lets the store delete the item after this instant (Unix seconds).
    fn expires_at(mut self, unix_seconds: i64) -> ItemBuilder {
        self.0.insert(EXPIRES_AT.into(), Attr::N(unix_seconds));
        self
    }

    fn put(self, condition: Condition) -> Write {
        Write::Put { item: self.0, condition }
    }
}

/// The record stored in an item's `data`.
pub fn data_of<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let data = item.get(DATA).ok_or_else(|| corrupt("item has no data"))?;
    serde_json::from_value(attr_to_json(data)).map_err(|e| corrupt(&format!("undecodable record: {e}")))
}

pub fn version_of(item: &Item) -> Option<u64> {
    match item.get(VERSION) {
        Some(Attr::N(n)) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("corrupt item: {what}"))
}

pub(crate) fn to_attr(record: &impl Serialize) -> Result<Attr, StoreError> {
    let json = serde_json::to_value(record).map_err(|e| StoreError::Invalid(e.to_string()))?;
    json_to_attr(json)
}

fn json_to_attr(value: serde_json::Value) -> Result<Attr, StoreError> {
    use serde_json::Value;
    Ok(match value {
        Value::Null => Attr::Null,
        Value::Bool(b) => Attr::Bool(b),
        Value::Number(n) => Attr::N(n.as_i64().ok_or_else(|| StoreError::Invalid(format!("{n} is not an i64")))?),
        Value::String(s) => Attr::S(s),
        Value::Array(a) => Attr::L(a.into_iter().map(json_to_attr).collect::<Result<_, _>>()?),
        Value::Object(o) => Attr::M(o.into_iter().map(|(k, v)| Ok((k, json_to_attr(v)?))).collect::<Result<_, StoreError>>()?),
    })
}

fn attr_to_json(attr: &Attr) -> serde_json::Value {
    use serde_json::Value;
    match attr {
        Attr::S(s) => Value::String(s.clone()),
        Attr::N(n) => Value::from(*n),
        Attr::Bool(b) => Value::Bool(*b),
        Attr::Null => Value::Null,
        Attr::L(l) => Value::Array(l.iter().map(attr_to_json).collect()),
        Attr::M(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), attr_to_json(v))).collect()),
    }
}

/// One page of records and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next: Option<crate::ports::Cursor>,
}

/// Partitions of a listing a busy merchant writes on every deposit are spread over this many
/// write shards (docs/storage.md: about 1,000 writes/s per partition), and merged on read.
pub const LISTING_SHARDS: u8 = 4;

/// The write shard (of `shards`) of a record, stable for its id.
pub fn shard_of(id: &str, shards: u8) -> u8 {
    use sha2::Digest;
    sha2::Sha256::digest(id.as_bytes())[0] % shards
}

/// A sort key that orders records by an instant, then by id: fixed-width milliseconds, so a
/// time window is a key range (`time_key(from, "")` ..= `time_key(to, "~")`).
pub(crate) fn time_key(at: chrono::DateTime<chrono::Utc>, id: &str) -> String {
    format!("{:013}#{id}", at.timestamp_millis().max(0))
}

/// The sort-key range of a time window over keys built by [`time_key`] (inclusive at both
/// ends; an open end reaches every key).
pub(crate) fn time_bounds(from: Option<chrono::DateTime<chrono::Utc>>, to: Option<chrono::DateTime<chrono::Utc>>) -> (String, String) {
    let lo = from.map_or_else(|| "0".to_owned(), |t| time_key(t, ""));
    let hi = to.map_or_else(|| "~".to_owned(), |t| format!("{}~", time_key(t, "")));
    (lo, hi)
}

/// Up to `query.limit` items, following the store's cursor across short pages: a DynamoDB
/// Query stops at 1 MB whatever its limit, so a page shorter than asked for is not the end.
/// `next` is the store's cursor after the last item returned (`None`: nothing follows).
pub async fn query_up_to_limit(table: &dyn crate::ports::Table, query: &crate::ports::Query) -> Result<crate::ports::Page, StoreError> {
    let mut page = table.query(query).await?;
    while page.items.len() < query.limit {
        let Some(next) = page.next.take() else { break };
        let more = table.query(&query.clone().limit(query.limit - page.items.len()).after(Some(next))).await?;
        page.items.extend(more.items);
        page.next = more.next;
    }
    Ok(page)
}

/// The cursor key of a merged listing: the sort key of the last record shown.
const AFTER: &str = "after";

/// One page, newest first, of records from every shard of a listing (`partitions`) whose sort
/// keys lie in `[lo, hi]`. Sort keys are unique across shards (they end in the record's id),
/// so "strictly before the last key shown" resumes the merged order exactly.
pub async fn merged_page<T: DeserializeOwned>(
    table: &dyn crate::ports::Table,
    index: Index,
    partitions: &[String],
    lo: String,
    hi: String,
    limit: usize,
    after: Option<crate::ports::Cursor>,
) -> Result<Listing<T>, StoreError> {
    let after = match after {
        None => None,
        Some(cursor) => match (cursor.len(), cursor.get(AFTER)) {
            (1, Some(key)) if !key.is_empty() => Some(key.clone()),
            _ => return Err(StoreError::InvalidCursor),
        },
    };
    let hi = match &after {
        Some(a) if a.as_str() < hi.as_str() => a.clone(),
        _ => hi,
    };
    if lo > hi {
        return Ok(Listing { items: Vec::new(), next: None });
    }
    let mut found: Vec<(String, Item)> = Vec::new();
    for pk in partitions {
        // Two more than a page: the cursor's own item may come back and is dropped.
        let query = crate::ports::Query::index(index, pk.clone()).range(crate::ports::SortRange::Between(lo.clone(), hi.clone())).descending().limit(limit + 2);
        // Every shard must yield its full `limit + 2` (or all it has): a shard cut short would
        // let the merge show older keys of other shards past its unread ones, and the next page,
        // which resumes below the last key shown, would never see them.
        for item in query_up_to_limit(table, &query).await?.items {
            let Some(Attr::S(sk)) = item.get(index.sk()) else { continue };
            if after.as_deref() != Some(sk.as_str()) {
                found.push((sk.clone(), item));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    let next = (found.len() > limit).then(|| found[limit - 1].0.clone());
    found.truncate(limit);
    Ok(Listing {
        items: found.iter().map(|(_, item)| data_of(item)).collect::<Result<_, _>>()?,
        next: next.map(|key| [(AFTER.to_owned(), key)].into_iter().collect()),
    })
}
