//! Webhook endpoints, deliveries and the attempt log.
//!
//! - A merchant's endpoints live in one partition `WHEP#{merchant}` (sk `WHE#{id}`), beside a
//!   roster item (sk `ROSTER`) that every create and delete rewrites under its version: that is
//!   what makes the per-merchant cap exact under concurrent creates. Endpoints are few and
//!   rarely written, and the consumer reads them with one consistent query per message.
//! - A delivery is one item per (round, endpoint), `WHD#{round}` / `{endpoint}`: each round is
//!   a new partition, read consistently by whoever handles the round's message. A dead letter
//!   no operator has resent yet is listed under its endpoint in gsi1 (`WHDL#{endpoint}`).
//! - Attempts are new items every time and listed per endpoint through gsi1, write-sharded
//!   (`WHA#{endpoint}#{shard}`): one busy endpoint takes thousands of attempts a second.
//!
//! Deliveries and attempts expire ([`KEEP_DAYS`]); the queue holds a message far less long.

use super::scan::Part;
use super::{ItemBuilder, Listing, data_of, merged_page, shard_of, time_key};
use crate::domain::webhook::{Delivery, WebhookAttempt, WebhookEndpoint};
use crate::domain::{EventId, MerchantId, WebhookEndpointId};
use crate::ports::{Condition, Cursor, Index, Key, Query, SortRange, StoreError, Table, Write};
use serde::{Deserialize, Serialize};

/// Attempt-log write shards per endpoint: ~1,000 writes/s each (docs/storage.md, "Partition write rates").
pub const ATTEMPT_SHARDS: u8 = 8;
/// How long delivery records and attempt logs are kept.
pub const KEEP_DAYS: i64 = 30;

const ENDPOINT_PREFIX: &str = "WHE#";

/// The ids of a merchant's endpoints; its version serializes creates and deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub endpoints: Vec<WebhookEndpointId>,
    /// 0 when the merchant never had an endpoint (no item yet).
    pub version: u64,
}

fn partition(merchant: &MerchantId) -> String {
    format!("WHEP#{merchant}")
}

pub fn endpoint_key(merchant: &MerchantId, id: &WebhookEndpointId) -> Key {
    Key::new(partition(merchant), format!("{ENDPOINT_PREFIX}{id}"))
}

fn roster_key(merchant: &MerchantId) -> Key {
    Key::new(partition(merchant), "ROSTER")
}

fn delivery_key(round: &EventId, endpoint: &WebhookEndpointId) -> Key {
    Key::new(format!("WHD#{round}"), endpoint.as_str())
}

fn attempt_partition(endpoint: &WebhookEndpointId, shard: u8) -> String {
    format!("WHA#{endpoint}#{shard}")
}

fn expiry(at: chrono::DateTime<chrono::Utc>) -> i64 {
    (at + chrono::Duration::days(KEEP_DAYS)).timestamp()
}

pub fn put_endpoint(endpoint: &WebhookEndpoint, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&endpoint_key(&endpoint.merchant_id, &endpoint.id), "webhook_endpoint").version(endpoint.version).data(endpoint)?.put(condition))
}

pub fn delete_endpoint(endpoint: &WebhookEndpoint) -> Write {
    Write::Delete { key: endpoint_key(&endpoint.merchant_id, &endpoint.id), condition: Condition::VersionIs(endpoint.version) }
}

/// The roster as it will be, written under the version it was read at.
pub fn put_roster(merchant: &MerchantId, next: &Roster, read: &Roster) -> Result<Write, StoreError> {
    let condition = if read.version == 0 { Condition::NotExists } else { Condition::VersionIs(read.version) };
    Ok(ItemBuilder::new(&roster_key(merchant), "webhook_roster").version(next.version).data(next)?.put(condition))
}

pub async fn get_roster(table: &dyn Table, merchant: &MerchantId) -> Result<Roster, StoreError> {
    Ok(table.get(&roster_key(merchant)).await?.as_ref().map(data_of).transpose()?.unwrap_or_default())
}

pub async fn get_endpoint(table: &dyn Table, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<Option<WebhookEndpoint>, StoreError> {
    table.get(&endpoint_key(merchant, id)).await?.as_ref().map(data_of).transpose()
}

/// A merchant's endpoints in creation order (ids are time-ordered).
pub async fn list_endpoints(table: &dyn Table, merchant: &MerchantId, limit: usize, after: Option<Cursor>) -> Result<Listing<WebhookEndpoint>, StoreError> {
    let query = Query::table(partition(merchant)).range(SortRange::BeginsWith(ENDPOINT_PREFIX.into())).limit(limit).after(after);
    let page = table.query(&query).await?;
    Ok(Listing { items: page.items.iter().map(data_of).collect::<Result<_, _>>()?, next: page.next })
}

/// Every endpoint of a merchant: one read, as the cap keeps them within one page.
pub async fn all_endpoints(table: &dyn Table, merchant: &MerchantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
    let mut endpoints = Vec::new();
    let mut after = None;
    loop {
        let page = list_endpoints(table, merchant, 100, after).await?;
        endpoints.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(endpoints),
        }
    }
}

fn dead_letter_partition(endpoint: &WebhookEndpointId) -> String {
    format!("WHDL#{endpoint}")
}

/// A delivery's item. A dead letter no operator has resent yet is also listed under its
/// endpoint (gsi1 `WHDL#{endpoint}`, by the time it died), which is how an operator's "resend
/// every dead letter of this endpoint" finds them; writing it again once resent drops it there.
pub fn put_delivery(delivery: &Delivery, condition: Condition, now: chrono::DateTime<chrono::Utc>) -> Result<Write, StoreError> {
    let mut item = ItemBuilder::new(&delivery_key(&delivery.round, &delivery.endpoint_id), "webhook_delivery").version(delivery.version).data(delivery)?;
    if delivery.awaits_resend() {
        item = item.index(Index::Gsi1, dead_letter_partition(&delivery.endpoint_id), time_key(now, delivery.round.as_str()));
    }
    Ok(item.expires_at(expiry(now)).put(condition))
}

/// An endpoint's dead letters awaiting a resend, oldest first, a page at a time. The index is
/// eventually consistent: a delivery just resent may still show here, so whoever acts on one
/// writes it under its version.
pub async fn dead_letters(table: &dyn Table, endpoint: &WebhookEndpointId, limit: usize, after: Option<Cursor>) -> Result<Listing<Delivery>, StoreError> {
    let page = table.query(&Query::index(Index::Gsi1, dead_letter_partition(endpoint)).limit(limit).after(after)).await?;
    Ok(Listing { items: page.items.iter().map(data_of).collect::<Result<_, _>>()?, next: page.next })
}

/// The deliveries of one round, read consistently.
pub async fn deliveries(table: &dyn Table, round: &EventId) -> Result<Vec<Delivery>, StoreError> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = table.query(&Query::table(format!("WHD#{round}")).limit(100).after(after)).await?;
        for item in &page.items {
            found.push(data_of::<Delivery>(item)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(found),
        }
    }
}

/// A new attempt-log item. Its own id (time-ordered, random) keeps two consumers that raced
/// on one delivery from overwriting each other's log line: both attempts happened.
pub fn put_attempt(attempt: &WebhookAttempt) -> Result<Write, StoreError> {
    let ms = u64::try_from(attempt.at.timestamp_millis()).unwrap_or(0);
    let id = ulid::Ulid::from_parts(ms, rand::random()).to_string();
    let shard = shard_of(&id, ATTEMPT_SHARDS);
    Ok(ItemBuilder::new(&Key::new(format!("WHA#{id}"), "ATTEMPT"), "webhook_attempt")
        .data(attempt)?
        .index(Index::Gsi1, attempt_partition(&attempt.endpoint_id, shard), time_key(attempt.at, &id))
        .expires_at(expiry(attempt.at))
        .put(Condition::NotExists))
}

/// The shards of an endpoint's attempt log over a time window, as parts of a walk.
pub(crate) fn attempt_parts(endpoint: &WebhookEndpointId, from: Option<chrono::DateTime<chrono::Utc>>, to: Option<chrono::DateTime<chrono::Utc>>) -> Vec<Part> {
    let (lo, hi) = super::time_bounds(from, to);
    (0..ATTEMPT_SHARDS).map(|s| Part::index(Index::Gsi1, attempt_partition(endpoint, s), lo.clone(), hi.clone())).collect()
}

/// An endpoint's attempts, newest first, merged over its shards.
pub async fn attempts(table: &dyn Table, endpoint: &WebhookEndpointId, limit: usize, after: Option<Cursor>) -> Result<Listing<WebhookAttempt>, StoreError> {
    let partitions: Vec<String> = (0..ATTEMPT_SHARDS).map(|s| attempt_partition(endpoint, s)).collect();
    merged_page(table, Index::Gsi1, &partitions, "0".into(), "~".into(), limit, after).await
}
