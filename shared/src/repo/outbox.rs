//! Outbox event items. Written in the transaction of the change they report; the table's
//! stream (AWS) or the local dispatcher (`serve`) delivers them.

use super::{ItemBuilder, Listing, data_of};
use crate::domain::{EventId, EventType, MerchantId, OutboxEvent};
use crate::ports::{Condition, Cursor, Index, Key, Query, SortRange, StoreError, Table, Write};

/// A merchant's events are spread over this many index partitions so a busy merchant's event
/// log is not capped by one partition's write rate; readers merge them.
pub const EVENT_SHARDS: u8 = 4;

/// The sort key of every outbox event item: what the stream filters select (the publisher's
/// FilterCriteria in template.yaml, the embedded store's change stream in `serve`).
pub const EVENT_SORT_KEY: &str = "EVENT";

fn event_key(id: &EventId) -> Key {
    Key::new(format!("EVT#{id}"), EVENT_SORT_KEY)
}

fn owner_partition(owner: &str, shard: u8) -> String {
    format!("EVENTS#{owner}#{shard}")
}

/// Merchant events are listed under their merchant (the events API reads them there); internal
/// and operations events under `ops`, so a merchant never polls them.
fn owner_of(event: &OutboxEvent) -> String {
    match &event.merchant_id {
        Some(merchant) if event.kind.is_merchant_event() => merchant.to_string(),
        _ => "ops".to_owned(),
    }
}

pub fn put_event(event: &OutboxEvent) -> Result<Write, StoreError> {
    let shard = super::shard_of(event.id.as_str(), EVENT_SHARDS);
    Ok(ItemBuilder::new(&event_key(&event.id), "event")
        .data(event)?
        .index(Index::Gsi1, owner_partition(&owner_of(event), shard), event.id.as_str())
        .put(Condition::NotExists))
}

/// Every event of one owner (a merchant id, or `ops`), oldest first. Small owners only: for
/// tests and tools; the events API pages through the shards.
pub async fn all_for(table: &dyn Table, owner: &str) -> Result<Vec<OutboxEvent>, StoreError> {
    let mut events = Vec::new();
    for shard in 0..EVENT_SHARDS {
        let mut after = None;
        loop {
            let page = table.query(&Query::index(Index::Gsi1, owner_partition(owner, shard)).limit(100).after(after)).await?;
            for item in &page.items {
                events.push(data_of::<OutboxEvent>(item)?);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    events.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(events)
}

pub async fn get_event(table: &dyn Table, id: &EventId) -> Result<Option<OutboxEvent>, StoreError> {
    table.get(&event_key(id)).await?.as_ref().map(data_of).transpose()
}

/// The cursor key of an events page: the id of the last event looked at.
const AFTER: &str = "after";

/// One page of a merchant's events, oldest first, strictly after `after`, of type `kind` if
/// given. Each shard is read from `after` on, `scan` events at most; the first `scan` of the
/// merged reads are then exactly the next `scan` events overall (a shard's unread events all
/// follow its `scan` read ones). A type filter looks at those only: a page may hold fewer than
/// `limit` events and still have a cursor, so a request never reads more than `scan` per shard.
pub async fn merchant_page(
    table: &dyn Table,
    merchant: &MerchantId,
    after: Option<EventId>,
    kind: Option<EventType>,
    limit: usize,
    scan: usize,
) -> Result<Listing<OutboxEvent>, StoreError> {
    let scan = scan.max(limit);
    let mut read: Vec<OutboxEvent> = Vec::new();
    let mut more = false;
    for shard in 0..EVENT_SHARDS {
        let range = match &after {
            None => SortRange::All,
            Some(id) => SortRange::Between(id.to_string(), "~".into()),
        };
        // One more than `scan`: the `after` event itself may come back and is dropped.
        let query = Query::index(Index::Gsi1, owner_partition(merchant.as_str(), shard)).range(range).limit(scan + 1);
        // A shard cut short (DynamoDB's 1 MB) would let the merge run past its unread events.
        let page = super::query_up_to_limit(table, &query).await?;
        more |= page.next.is_some();
        for item in &page.items {
            let event: OutboxEvent = data_of(item)?;
            if after.as_ref() != Some(&event.id) {
                read.push(event);
            }
        }
    }
    read.sort_by(|a, b| a.id.cmp(&b.id));
    more |= read.len() > scan;
    read.truncate(scan);
    let mut items = Vec::new();
    let mut last_seen = None;
    for (position, event) in read.iter().enumerate() {
        last_seen = Some(event.id.clone());
        if kind.is_none_or(|k| k == event.kind) {
            items.push(event.clone());
        }
        if items.len() == limit {
            more |= position + 1 < read.len();
            break;
        }
    }
    let next = match last_seen {
        Some(id) if more => Some([(AFTER.to_owned(), id.to_string())].into_iter().collect()),
        _ => None,
    };
    Ok(Listing { items, next })
}

/// The event id an events-page cursor resumes after.
pub fn cursor_position(cursor: &Cursor) -> Result<EventId, StoreError> {
    match (cursor.len(), cursor.get(AFTER).map(|id| id.parse::<EventId>())) {
        (1, Some(Ok(id))) => Ok(id),
        _ => Err(StoreError::InvalidCursor),
    }
}
