//! Idempotency records: one item per (merchant, Idempotency-Key), deleted by TTL after 24 h.

use super::{ItemBuilder, data_of, version_of};
use crate::domain::MerchantId;
use crate::ports::{Condition, Key, StoreError, Table, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Progress {
    /// A request holds the key until `lease_until`; after that a crashed holder is presumed dead.
    InFlight {
        lease_until: DateTime<Utc>,
    },
    Done {
        status: u16,
        body: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub merchant_id: MerchantId,
    pub key: String,
    /// SHA-256 of method, path and body: "the same request".
    pub fingerprint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(flatten)]
    pub progress: Progress,
    pub version: u64,
}

fn record_key(merchant: &MerchantId, key: &str) -> Key {
    Key::new(format!("IDEM#{merchant}#{key}"), "IDEM")
}

pub async fn get(table: &dyn Table, merchant: &MerchantId, key: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
    let Some(item) = table.get(&record_key(merchant, key)).await? else { return Ok(None) };
    let mut record: IdempotencyRecord = data_of(&item)?;
    record.version = version_of(&item).unwrap_or(record.version);
    Ok(Some(record))
}

pub fn put(record: &IdempotencyRecord, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&record_key(&record.merchant_id, &record.key), "idempotency")
        .version(record.version)
        .data(record)?
        .expires_at(record.expires_at.timestamp())
        .put(condition))
}

/// Frees the key, if `record` is still the stored version.
pub fn delete(record: &IdempotencyRecord) -> Write {
    Write::Delete { key: record_key(&record.merchant_id, &record.key), condition: Condition::VersionIs(record.version) }
}
