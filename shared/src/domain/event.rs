//! Outbox events: written in the same transaction as the state change they report, then
//! delivered (Streams → SNS → SQS in AWS, the local dispatcher in `serve`) to the queues whose
//! consumers act on them. Which queue gets which event is decided here, once: the SNS filter
//! policies in `template.yaml` and the local dispatcher both come from [`EventType::queues`].

use super::{EventId, MerchantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
    #[serde(rename = "settlement.exported")]
    SettlementExported,
    /// Internal: an account's due time is near; its customer gets a reminder. Not a merchant
    /// event (it is not in the public contract).
    #[serde(rename = "virtual_account.due_soon")]
    AccountDueSoon,
    /// Internal: a merchant asked for an event to be delivered again (`POST /v1/events/{id}/resend`);
    /// the webhook consumer makes a fresh delivery of the event named in `data.event_id`.
    #[serde(rename = "webhook.resend_requested")]
    WebhookResendRequested,
    /// An operations alert: the number pool of a bank runs low.
    #[serde(rename = "pool.low")]
    PoolLow,
    /// An operations alert: a webhook delivery failed its last attempt.
    #[serde(rename = "webhook.dead_lettered")]
    WebhookDeadLettered,
    /// An operations alert: a customer notice could not be sent on any channel.
    #[serde(rename = "notice.failed")]
    NoticeFailed,
    /// An operations alert: a provider's statement of a day differs from our deposits
    /// (`app::reconcile`); the data names the provider, the day and the counts.
    #[serde(rename = "reconciliation.mismatch")]
    ReconciliationMismatch,
    /// An operations alert: a provider's statement of a day has not arrived by the time it is due.
    #[serde(rename = "reconciliation.statement_missing")]
    ReconciliationStatementMissing,
}

/// The queues events fan out to: SQS queues subscribed to the topic in AWS, durable local
/// queues in `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueName {
    MerchantWebhooks,
    CustomerNotices,
    OpsAlerts,
}

impl QueueName {
    pub const ALL: [QueueName; 3] = [QueueName::MerchantWebhooks, QueueName::CustomerNotices, QueueName::OpsAlerts];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::MerchantWebhooks => "merchant-webhooks",
            QueueName::CustomerNotices => "customer-notices",
            QueueName::OpsAlerts => "ops-alerts",
        }
    }

    /// The event types this queue receives, in a stable order.
    pub fn event_types(self) -> Vec<EventType> {
        EventType::ALL.into_iter().filter(|t| t.queues().contains(&self)).collect()
    }

    /// The SNS subscription filter policy (on the `type` message attribute) of this queue;
    /// `template.yaml` must hold exactly this (a test checks it).
    pub fn filter_policy(self) -> serde_json::Value {
        serde_json::json!({ "type": self.event_types().iter().map(|t| t.as_str()).collect::<Vec<_>>() })
    }
}

impl std::fmt::Display for QueueName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl EventType {
    pub const ALL: [EventType; 18] = [
        EventType::AccountIssued,
        EventType::AccountClosed,
        EventType::AccountExpired,
        EventType::AccountPartiallyPaid,
        EventType::AccountPaid,
        EventType::AccountOverpaid,
        EventType::DepositMatched,
        EventType::DepositException,
        EventType::DepositReversed,
        EventType::ExceptionResolved,
        EventType::SettlementExported,
        EventType::AccountDueSoon,
        EventType::WebhookResendRequested,
        EventType::PoolLow,
        EventType::WebhookDeadLettered,
        EventType::NoticeFailed,
        EventType::ReconciliationMismatch,
        EventType::ReconciliationStatementMissing,
    ];

    /// The name on the wire (`virtual_account.paid`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AccountIssued => "virtual_account.issued",
            EventType::AccountClosed => "virtual_account.closed",
            EventType::AccountExpired => "virtual_account.expired",
            EventType::AccountPartiallyPaid => "virtual_account.partially_paid",
            EventType::AccountPaid => "virtual_account.paid",
            EventType::AccountOverpaid => "virtual_account.overpaid",
            EventType::DepositMatched => "deposit.matched",
            EventType::DepositException => "deposit.exception",
            EventType::DepositReversed => "deposit.reversed",
            EventType::ExceptionResolved => "exception.resolved",
            EventType::SettlementExported => "settlement.exported",
            EventType::AccountDueSoon => "virtual_account.due_soon",
            EventType::WebhookResendRequested => "webhook.resend_requested",
            EventType::PoolLow => "pool.low",
            EventType::WebhookDeadLettered => "webhook.dead_lettered",
            EventType::NoticeFailed => "notice.failed",
            EventType::ReconciliationMismatch => "reconciliation.mismatch",
            EventType::ReconciliationStatementMissing => "reconciliation.statement_missing",
        }
    }

    /// The types of the public contract: what merchants see in webhooks and `GET /v1/events`.
    pub fn is_merchant_event(self) -> bool {
        !matches!(
            self,
            EventType::AccountDueSoon
                | EventType::WebhookResendRequested
                | EventType::PoolLow
                | EventType::WebhookDeadLettered
                | EventType::NoticeFailed
                | EventType::ReconciliationMismatch
                | EventType::ReconciliationStatementMissing
        )
    }

    /// The queues an event of this type goes to (none: it is only kept, e.g. for polling).
    pub fn queues(self) -> &'static [QueueName] {
        use QueueName::*;
        match self {
            // The customer hears about these; the merchant's systems too, where public.
            EventType::AccountIssued | EventType::AccountPaid | EventType::AccountExpired => &[MerchantWebhooks, CustomerNotices],
            EventType::AccountDueSoon => &[CustomerNotices],
            EventType::PoolLow
            | EventType::WebhookDeadLettered
            | EventType::NoticeFailed
            | EventType::ReconciliationMismatch
            | EventType::ReconciliationStatementMissing => &[OpsAlerts],
            EventType::WebhookResendRequested => &[MerchantWebhooks],
            _ => &[MerchantWebhooks],
        }
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventType {
    type Err = String;
    fn from_str(s: &str) -> Result<EventType, String> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown event type `{s}`"))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_its_wire_name() {
        for kind in EventType::ALL {
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, serde_json::Value::String(kind.as_str().to_owned()));
            assert_eq!(kind.as_str().parse::<EventType>(), Ok(kind));
        }
    }

    #[test]
    fn merchant_events_reach_webhooks_and_nothing_internal_does() {
        for kind in EventType::ALL {
            let to_webhooks = kind.queues().contains(&QueueName::MerchantWebhooks);
            // Resend requests are the one internal type the webhook consumer reads.
            assert_eq!(to_webhooks, kind.is_merchant_event() || kind == EventType::WebhookResendRequested, "{kind}");
        }
        assert_eq!(EventType::ALL.iter().filter(|t| t.is_merchant_event()).count(), 11);
    }
}

#[cfg(test)]
mod golden;
