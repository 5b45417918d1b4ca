//! Repositories: the single-table key layout of every record, written once on top of the
//! `Table` port so both backends store exactly the same items. `docs/storage.md` lists each
//! access pattern with its key and cost.
//!
//! An item is `{pk, sk, kind, version, data, [index attributes], [expires_at]}`: `data` holds
//! the record as a map, the rest is what storage needs to find and guard it.

pub mod accounts;
pub mod idempotency;
pub mod merchants;
pub mod outbox;
pub mod pool;

use crate::ports::{Attr, Condition, EXPIRES_AT, Index, Item, Key, PK, SK, StoreError, VERSION, Write};
use serde::Serialize;
use serde::de::DeserializeOwned;

const DATA: &str = "data";
const KIND: &str = "kind";

/// Builds one stored item.
pub struct ItemBuilder(Item);

impl ItemBuilder {
    pub fn new(key: &Key, kind: &str) -> ItemBuilder {
        let mut item = Item::new();
        item.insert(PK.into(), Attr::S(key.pk.clone()));
        item.insert(SK.into(), Attr::S(key.sk.clone()));
        item.insert(KIND.into(), Attr::S(kind.into()));
        ItemBuilder(item)
    }

    pub fn version(mut self, version: u64) -> ItemBuilder {
        self.0.insert(VERSION.into(), Attr::N(i64::try_from(version).unwrap_or(i64::MAX)));
        self
    }

    pub fn data(mut self, record: &impl Serialize) -> Result<ItemBuilder, StoreError> {
        self.0.insert(DATA.into(), to_attr(record)?);
        Ok(self)
    }

    pub fn index(mut self, index: Index, pk: impl Into<String>, sk: impl Into<String>) -> ItemBuilder {
        self.0.insert(index.pk().into(), Attr::S(pk.into()));
        self.0.insert(index.sk().into(), Attr::S(sk.into()));
        self
    }

    /// Lets the store delete the item after this instant (Unix seconds).
    pub fn expires_at(mut self, unix_seconds: i64) -> ItemBuilder {
        self.0.insert(EXPIRES_AT.into(), Attr::N(unix_seconds));
        self
    }

    pub fn put(self, condition: Condition) -> Write {
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

pub fn to_attr(record: &impl Serialize) -> Result<Attr, StoreError> {
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

/// Reads one page of `limit` records. It asks for one more than it returns, so the last page
/// says so (`next: None`) instead of leading the caller to an empty page.
pub async fn page<T: DeserializeOwned>(
    table: &dyn crate::ports::Table,
    query: crate::ports::Query,
    limit: usize,
) -> Result<Listing<T>, StoreError> {
    let query = query.limit(limit + 1);
    let page = table.query(&query).await?;
    let mut items = page.items;
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| crate::ports::cursor_after(&query, last))
    } else {
        // DynamoDB stops early at 1 MB of data; its cursor then resumes where it stopped.
        page.next.filter(|_| !items.is_empty())
    };
    Ok(Listing { items: items.iter().map(data_of).collect::<Result<_, _>>()?, next })
}
