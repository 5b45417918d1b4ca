//! Operations incidents and the alerts recorded on them.
//!
//! - The incident item (`INC#{id}`) is listed newest first in gsi1 `INCIDENTS#{status}` and
//!   gsi2 `INCIDENTS`. Alerts arrive at operations rates (a few a minute at worst), so these
//!   unsharded partitions are far from any write limit.
//! - The subject pointer (`INCSUBJ#{kind}#{subject}`) names the incident that alerts of that
//!   kind about that subject currently go to; a resolved one is replaced by the next alert.
//! - An alert receipt (`ALERTMSG#{alert}`) makes each alert count once and keeps its worded
//!   message until a channel took it.

use super::{ItemBuilder, Listing, data_of, version_of};
use crate::domain::IncidentId;
use crate::domain::incident::{AlertMessage, Incident, IncidentStatus};
use crate::ports::{Condition, Cursor, Index, Key, Query, StoreError, Table, Write};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A receipt outlives any redelivery of its alert (SQS keeps a message at most 14 days).
const RECEIPT_DAYS: i64 = 15;

fn incident_key(id: &IncidentId) -> Key {
    Key::new(format!("INC#{id}"), "INCIDENT")
}

fn status_partition(status: IncidentStatus) -> String {
    format!("INCIDENTS#{}", status.as_str())
}

const ALL_PARTITION: &str = "INCIDENTS";

pub fn put_incident(incident: &Incident, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&incident_key(&incident.id), "incident")
        .version(incident.version)
        .data(incident)?
        .index(Index::Gsi1, status_partition(incident.status), incident.id.as_str())
        .index(Index::Gsi2, ALL_PARTITION, incident.id.as_str())
        .put(condition))
}

pub async fn get(table: &dyn Table, id: &IncidentId) -> Result<Option<Incident>, StoreError> {
    table.get(&incident_key(id)).await?.as_ref().map(data_of).transpose()
}

/// Incidents newest first, all or of one status.
pub async fn list(table: &dyn Table, status: Option<IncidentStatus>, limit: usize, after: Option<Cursor>) -> Result<Listing<Incident>, StoreError> {
    let query = match status {
        Some(s) => Query::index(Index::Gsi1, status_partition(s)),
        None => Query::index(Index::Gsi2, ALL_PARTITION),
    };
    let page = table.query(&query.descending().limit(limit).after(after)).await?;
    Ok(Listing { items: page.items.iter().map(data_of).collect::<Result<_, _>>()?, next: page.next })
}

/// Incidents (all, or of one status) opened in a window, as a part of a walk: ids begin with
/// their creation time, so the window is a key range.
pub(crate) fn listing_part(status: Option<IncidentStatus>, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> super::scan::Part {
    let lo = from.map_or_else(|| IncidentId::PREFIX.to_owned(), |t| IncidentId::bounds_at(t).0);
    let hi = to.map_or_else(|| format!("{}~", IncidentId::PREFIX), |t| IncidentId::bounds_at(t).1);
    match status {
        Some(s) => super::scan::Part::index(Index::Gsi1, status_partition(s), lo, hi),
        None => super::scan::Part::index(Index::Gsi2, ALL_PARTITION, lo, hi),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pointer {
    incident: IncidentId,
}

fn pointer_key(kind: &str, subject: &str) -> Key {
    Key::new(format!("INCSUBJ#{kind}#{subject}"), "CURRENT")
}

/// The incident alerts of `kind` about `subject` currently go to, and the pointer's version.
pub async fn current(table: &dyn Table, kind: &str, subject: &str) -> Result<Option<(IncidentId, u64)>, StoreError> {
    let Some(item) = table.get(&pointer_key(kind, subject)).await? else { return Ok(None) };
    let pointer: Pointer = data_of(&item)?;
    Ok(Some((pointer.incident, version_of(&item).unwrap_or(0))))
}

/// Points the subject at `incident`: created (`previous` is `None`) or moved on from the
/// version read, so two alerts racing to open an incident cannot both win.
pub fn put_current(incident: &Incident, previous: Option<u64>) -> Result<Write, StoreError> {
    let condition = previous.map_or(Condition::NotExists, Condition::VersionIs);
    Ok(ItemBuilder::new(&pointer_key(&incident.kind, &incident.subject), "incident_pointer")
        .version(previous.map_or(1, |v| v + 1))
        .data(&Pointer { incident: incident.id.clone() })?
        .put(condition))
}

/// An alert that was counted. `message` is what still has to be posted (`None`: nothing to
/// post, e.g. an OK for an alarm without an incident); `posted` once a channel took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertReceipt {
    pub message: Option<AlertMessage>,
    pub posted: bool,
}

fn receipt_key(alert: &str) -> Key {
    Key::new(format!("ALERTMSG#{alert}"), "RECEIPT")
}

pub async fn receipt(table: &dyn Table, alert: &str) -> Result<Option<(AlertReceipt, u64)>, StoreError> {
    let Some(item) = table.get(&receipt_key(alert)).await? else { return Ok(None) };
    Ok(Some((data_of(&item)?, version_of(&item).unwrap_or(0))))
}

/// A new receipt (`previous` is `None`; not exists: an alert counts once), or the next
/// version of the one read.
pub fn put_receipt(alert: &str, receipt: &AlertReceipt, previous: Option<u64>, now: DateTime<Utc>) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&receipt_key(alert), "alert_receipt")
        .version(previous.map_or(1, |v| v + 1))
        .data(receipt)?
        .expires_at((now + Duration::days(RECEIPT_DAYS)).timestamp())
        .put(previous.map_or(Condition::NotExists, Condition::VersionIs)))
}
