//! Outbox events: written in the same transaction as the state change they report.

use super::{EventId, MerchantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "virtual_account.issued")]
    AccountIssued,
    #[serde(rename = "virtual_account.closed")]
    AccountClosed,
    #[serde(rename = "virtual_account.expired")]
    AccountExpired,
    #[serde(rename = "virtual_account.partially_paid")]
    AccountPartiallyPaid,
    #[serde(rename = "virtual_account.paid")]
    AccountPaid,
    #[serde(rename = "virtual_account.overpaid")]
    AccountOverpaid,
    #[serde(rename = "deposit.matched")]
    DepositMatched,
    #[serde(rename = "deposit.exception")]
    DepositException,
    #[serde(rename = "deposit.reversed")]
    DepositReversed,
    #[serde(rename = "exception.resolved")]
    ExceptionResolved,
    /// An operations alert, not a merchant event: the number pool of a bank runs low.
    #[serde(rename = "pool.low")]
    PoolLow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub id: EventId,
    #[serde(rename = "type")]
    pub kind: EventType,
    #[serde(with = "super::time::kst_serde")]
    pub occurred_at: DateTime<Utc>,
    /// `None` for operations events that belong to no merchant.
    pub merchant_id: Option<MerchantId>,
    pub data: serde_json::Value,
}

impl OutboxEvent {
    pub fn new(kind: EventType, merchant_id: Option<MerchantId>, data: serde_json::Value, now: DateTime<Utc>) -> OutboxEvent {
        OutboxEvent { id: EventId::generate(now), kind, occurred_at: now, merchant_id, data }
    }
}
