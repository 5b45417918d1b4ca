//! Outbox event items. Written in the transaction of the change they report; the table's
//! stream (AWS) or the local dispatcher (`serve`) delivers them.

use super::{ItemBuilder, Listing, data_of};
use crate::domain::{EventId, EventType, MerchantId, OutboxEvent};
use crate::ports::{Attr, COMMIT_BY, Condition, Cursor, Key, Query, SortRange, StoreError, Table, Write};

/// A merchant's feed is spread over this many partitions so a busy merchant's event
/// log is not capped by one partition's write rate; readers merge them.
pub const EVENT_SHARDS: u8 = 4;

/// The sort key of every outbox event item: what the stream filters select (the publisher's
/// FilterCriteria in template.yaml, the embedded store's change stream in `serve`).
pub const EVENT_SORT_KEY: &str = "EVENT";

fn event_key(id: &EventId) -> Key {
    Key::new(format!("EVT#{id}"), EVENT_SORT_KEY)
}

/// Merchant events are listed under their merchant (the events API reads them there); internal
/// and operations events under `ops`, so a merchant never polls them.
fn owner_of(event: &OutboxEvent) -> String {
    match &event.merchant_id {
        Some(merchant) if event.kind().is_merchant_event() => merchant.to_string(),
        _ => "ops".to_owned(),
    }
}

/// How long after its feed position an event's transaction may still commit: the store
/// refuses it later ([`COMMIT_BY`]). The feed hides positions younger than a horizon longer
/// than this (`Settings::event_feed_horizon`), so no event can appear behind a poller.
/// 3 s, or `VACCOUNT_EVENT_COMMIT_WINDOW` read once per process: the test suite's emulator
/// serves one request at a time and can take longer than DynamoDB ever does.
pub fn commit_window() -> chrono::Duration {
    static WINDOW: std::sync::OnceLock<chrono::Duration> = std::sync::OnceLock::new();
    *WINDOW.get_or_init(|| {
        std::env::var("VACCOUNT_EVENT_COMMIT_WINDOW")
            .ok()
            .and_then(|raw| crate::app::parse_duration(&raw))
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .filter(|d| *d > chrono::Duration::zero())
            .unwrap_or(chrono::Duration::seconds(3))
    })
}

/// The wall clock that stamps feed positions, and against which the stores enforce
/// [`COMMIT_BY`]. Not the service's `Clock`: that one dates business facts and stands still in
/// tests, while a position is about when storage really commits.
pub fn feed_clock() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn feed_partition(owner: &str, shard: u8) -> String {
    format!("FEED#{owner}#{shard}")
}

/// A feed position: the wall-clock millisecond the event's writes were built, then its id
/// (unique, so positions never tie). Fixed width, so positions sort as they compare.
fn position(at: chrono::DateTime<chrono::Utc>, id: &EventId) -> String {
    super::time_key(at, id.as_str())
}

/// The attribute of the event item that names its feed position (the events API resumes
/// after an event id through it).
const FEED_POSITION: &str = "feed_position";

/// The writes of one outbox event, for the transaction of the change it reports: the event
/// item (what the stream delivers, read by id) and its entry in the owner's feed (what the
/// events API lists, read consistently from the table). The feed entry carries a commit
/// deadline: a transaction that reaches the store after it is refused, so an entry can never
/// become visible behind the feed's horizon (docs/decisions.md, 21).
pub fn put_event(event: &OutboxEvent) -> Result<[Write; 2], StoreError> {
    let shard = super::shard_of(event.id.as_str(), EVENT_SHARDS);
    let stamped = feed_clock();
    let at = position(stamped, &event.id);
    let mut event_item = ItemBuilder::new(&event_key(&event.id), "event").data(event)?.put(Condition::NotExists);
    let mut feed_item = ItemBuilder::new(&Key::new(feed_partition(&owner_of(event), shard), at.clone()), "event_feed").data(event)?.put(Condition::NotExists);
    if let Write::Put { item, .. } = &mut event_item {
        item.insert(FEED_POSITION.into(), Attr::S(at));
    }
    if let Write::Put { item, .. } = &mut feed_item {
        item.insert(COMMIT_BY.into(), Attr::N((stamped + commit_window()).timestamp_millis()));
    }
    Ok([event_item, feed_item])
}

#[cfg(any(test, feature = "testing"))]
/// Every event of one owner (a merchant id, or `ops`), in id order. Small owners only: for
/// tests and tools; the events API pages through the shards.
pub async fn all_for(table: &dyn Table, owner: &str) -> Result<Vec<OutboxEvent>, StoreError> {
    let mut events = Vec::new();
    for shard in 0..EVENT_SHARDS {
        let mut after = None;
        loop {
            let page = table.query(&Query::table(feed_partition(owner, shard)).limit(100).after(after)).await?;
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

/// The feed position of one of `merchant`'s events; `None` if it is not one of its events.
pub async fn position_of(table: &dyn Table, merchant: &MerchantId, id: &EventId) -> Result<Option<String>, StoreError> {
    let Some(item) = table.get(&event_key(id)).await? else { return Ok(None) };
    let event: OutboxEvent = data_of(&item)?;
    if event.merchant_id.as_ref() != Some(merchant) || !event.kind().is_merchant_event() {
        return Ok(None);
    }
    match item.get(FEED_POSITION) {
        Some(Attr::S(at)) => Ok(Some(at.clone())),
        // An event from before the feed: it has no entry, and every entry was stamped after
        // it happened, so its own time is a position a poller resumes from without a gap.
        _ => Ok(Some(super::time_key(event.occurred_at, id.as_str()))),
    }
}

pub async fn get_event(table: &dyn Table, id: &EventId) -> Result<Option<OutboxEvent>, StoreError> {
    table.get(&event_key(id)).await?.as_ref().map(data_of).transpose()
}

/// The cursor key of an events page: the feed position of the last event looked at.
const AFTER: &str = "after";

/// One page of a merchant's feed, oldest position first, strictly after position `after`, of
/// type `kind` if given, and only positions at least `horizon` old on the wall clock: a younger
/// position may still be joined by one that commits later, an older one no longer can
/// ([`commit_window`] < horizon). The table is read consistently, so every committed entry
/// below the horizon is seen. Each shard is read from `after` on, `scan` entries at most; the
/// first `scan` of the merged reads are then exactly the next `scan` entries overall (a shard's
/// unread entries all follow its `scan` read ones). A type filter looks at those only: a page
/// may hold fewer than `limit` events and still have a cursor.
pub async fn merchant_page(
    table: &dyn Table,
    merchant: &MerchantId,
    after: Option<String>,
    kind: Option<EventType>,
    limit: usize,
    scan: usize,
    horizon: chrono::Duration,
) -> Result<Listing<OutboxEvent>, StoreError> {
    let scan = scan.max(limit);
    // Taken before any read: everything at or below it committed (or was refused) before now.
    let visible_until = super::time_key(feed_clock() - horizon, "~");
    let lo = after.clone().unwrap_or_else(|| "0".into());
    let mut read: Vec<(String, OutboxEvent)> = Vec::new();
    let mut more = false;
    if lo <= visible_until {
        for shard in 0..EVENT_SHARDS {
            // One more than `scan`: the `after` entry itself may come back and is dropped.
            let query = Query::table(feed_partition(merchant.as_str(), shard)).range(SortRange::Between(lo.clone(), visible_until.clone())).limit(scan + 1);
            // A shard cut short (DynamoDB's 1 MB) would let the merge run past its unread entries.
            let page = super::query_up_to_limit(table, &query).await?;
            more |= page.next.is_some();
            for item in &page.items {
                let Some(Key { sk, .. }) = Key::of(item) else { continue };
                if after.as_ref() != Some(&sk) {
                    read.push((sk, data_of(item)?));
                }
            }
        }
    }
    read.sort_by(|a, b| a.0.cmp(&b.0));
    more |= read.len() > scan;
    read.truncate(scan);
    let mut items = Vec::new();
    let mut last_seen = None;
    for (index, (at, event)) in read.iter().enumerate() {
        last_seen = Some(at.clone());
        if kind.is_none_or(|k| k == event.kind()) {
            items.push(event.clone());
        }
        if items.len() == limit {
            more |= index + 1 < read.len();
            break;
        }
    }
    let next = match last_seen {
        Some(at) if more => Some([(AFTER.to_owned(), at)].into_iter().collect()),
        _ => None,
    };
    Ok(Listing { items, next })
}

/// The feed position an events-page cursor resumes after.
pub fn cursor_position(cursor: &Cursor) -> Result<String, StoreError> {
    let valid = |at: &str| at.split_once('#').is_some_and(|(ms, id)| ms.len() == 13 && ms.bytes().all(|b| b.is_ascii_digit()) && id.parse::<EventId>().is_ok());
    match (cursor.len(), cursor.get(AFTER)) {
        (1, Some(at)) if valid(at) => Ok(at.clone()),
        _ => Err(StoreError::InvalidCursor),
    }
}
