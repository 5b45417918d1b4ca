//! Outbox event items. Written in the transaction of the change they report; the table's
//! stream (AWS) or the local dispatcher (`serve`) delivers them.

use super::{ItemBuilder, data_of};
use crate::domain::OutboxEvent;
use crate::ports::{Condition, Index, Key, Query, StoreError, Table, Write};

/// A merchant's events are spread over this many index partitions so a busy merchant's event
/// log is not capped by one partition's write rate; readers merge them.
pub const EVENT_SHARDS: u8 = 4;

/// The sort key of every event item, and of no other item: the table stream's consumer
/// (template.yaml's FilterCriteria, and `aws::stream` again) picks events by it.
pub const EVENT_SORT_KEY: &str = "EVENT";

fn event_key(event: &OutboxEvent) -> Key {
    Key::new(format!("EVT#{}", event.id), EVENT_SORT_KEY)
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
    Ok(ItemBuilder::new(&event_key(event), "event")
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
