//! Outbox events: written in the same transaction as the state change they report, then
//! delivered (Streams → SNS → SQS in AWS, the local dispatcher in `serve`) to the queues whose
//! consumers act on them. Which queue gets which event is decided here, once: the SNS filter
//! policies in `template.yaml` and the local dispatcher both come from [`EventType::queues`].
//!
//! What an event says is an [`EventData`], one variant per [`EventType`]: producers build the
//! variant, the event's type follows from it, and consumers match on it.

use super::deposit::{Deposit, DepositStatus};
use super::notice::Channel;
use super::reconciliation::KindCounts;
use super::view::{AccountView, DepositView, SettlementView};
use super::{BankCode, EventId, MerchantId, OperatorName, ProviderId, Status, VirtualAccount, VirtualAccountId, WebhookEndpointId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

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
    /// An operations alert: an operator was locked out after failed logins in a row.
    #[serde(rename = "operator.locked")]
    OperatorLocked,
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
    pub const ALL: [EventType; 19] = [
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
        EventType::OperatorLocked,
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
            EventType::OperatorLocked => "operator.locked",
        }
    }

    /// The types of the public contract: what merchants see in webhooks and `GET /v1/events`
    /// (docs/openapi.yaml, "Events"). Stated for every type, with no default, so a new type is public only
    /// by being listed here.
    pub fn is_merchant_event(self) -> bool {
        match self {
            EventType::AccountIssued
            | EventType::AccountClosed
            | EventType::AccountExpired
            | EventType::AccountPartiallyPaid
            | EventType::AccountPaid
            | EventType::AccountOverpaid
            | EventType::DepositMatched
            | EventType::DepositException
            | EventType::DepositReversed
            | EventType::ExceptionResolved
            | EventType::SettlementExported => true,
            EventType::AccountDueSoon
            | EventType::WebhookResendRequested
            | EventType::PoolLow
            | EventType::WebhookDeadLettered
            | EventType::NoticeFailed
            | EventType::ReconciliationMismatch
            | EventType::ReconciliationStatementMissing
            | EventType::OperatorLocked => false,
        }
    }

    /// The queues an event of this type goes to, stated for every type (docs/events.md).
    pub fn queues(self) -> &'static [QueueName] {
        use QueueName::*;
        match self {
            // The customer hears about these; the merchant's systems too.
            EventType::AccountIssued | EventType::AccountPaid | EventType::AccountExpired => &[MerchantWebhooks, CustomerNotices],
            EventType::AccountClosed
            | EventType::AccountPartiallyPaid
            | EventType::AccountOverpaid
            | EventType::DepositMatched
            | EventType::DepositException
            | EventType::DepositReversed
            | EventType::ExceptionResolved
            | EventType::SettlementExported => &[MerchantWebhooks],
            EventType::AccountDueSoon => &[CustomerNotices],
            // Internal, but the webhook consumer makes the delivery it asks for.
            EventType::WebhookResendRequested => &[MerchantWebhooks],
            EventType::PoolLow
            | EventType::WebhookDeadLettered
            | EventType::NoticeFailed
            | EventType::ReconciliationMismatch
            | EventType::ReconciliationStatementMissing
            | EventType::OperatorLocked => &[OpsAlerts],
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

/// What an event says: one variant per [`EventType`], whose payload is the event's `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventData {
    AccountIssued(AccountData),
    AccountClosed(AccountData),
    AccountExpired(AccountData),
    AccountPartiallyPaid(BalanceData),
    AccountPaid(BalanceData),
    AccountOverpaid(BalanceData),
    DepositMatched(DepositData),
    DepositException(DepositData),
    DepositReversed(DepositData),
    ExceptionResolved(DepositData),
    SettlementExported(SettlementData),
    AccountDueSoon(AccountData),
    WebhookResendRequested(ResendData),
    PoolLow(PoolLowData),
    WebhookDeadLettered(DeadLetteredData),
    NoticeFailed(NoticeFailedData),
    ReconciliationMismatch(MismatchData),
    ReconciliationStatementMissing(StatementMissingData),
    OperatorLocked(OperatorLockedData),
}

/// `virtual_account.issued|closed|expired|due_soon`: the account as the merchant sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountData {
    pub virtual_account: AccountView,
}

impl AccountData {
    pub fn of(account: &VirtualAccount) -> AccountData {
        AccountData { virtual_account: AccountView::from(account) }
    }
}

/// `virtual_account.paid|partially_paid|overpaid`: the deposit that moved the account's
/// balance, and the account as it now stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceData {
    pub deposit: DepositView,
    pub virtual_account: AccountView,
}

/// `deposit.matched|exception|reversed`, `exception.resolved`: the deposit, and the account it
/// credited as that account now stands (absent for a deposit no account took).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositData {
    pub deposit: DepositView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_account: Option<AccountView>,
}

impl DepositData {
    pub fn of(deposit: &Deposit, account: Option<&VirtualAccount>) -> DepositData {
        DepositData { deposit: DepositView::from(deposit), virtual_account: account.map(AccountView::from) }
    }
}

/// `settlement.exported`: the day's settlement, as `GET /v1/settlements` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementData {
    pub settlement: SettlementView,
}

/// `webhook.resend_requested`: the merchant's event to deliver again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResendData {
    pub event_id: EventId,
    /// Deliver to this endpoint only (an operator resending an endpoint's dead letters);
    /// absent: to every endpoint subscribed to the event's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<WebhookEndpointId>,
}

/// `pool.low`: a bank's free numbers fell below the threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolLowData {
    pub bank_code: BankCode,
    pub bank_name: String,
    pub free: usize,
    pub threshold: usize,
}

impl PoolLowData {
    pub fn of(bank: BankCode, free: usize, threshold: usize) -> PoolLowData {
        PoolLowData { bank_code: bank, bank_name: bank.name().to_owned(), free, threshold }
    }
}

/// `webhook.dead_lettered`: a delivery failed its last attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetteredData {
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub event_type: EventType,
    pub attempts: u32,
    /// What the last attempt met: the answer's status or the connection's error.
    pub last_error: Option<String>,
    /// The endpoint's host, never its full URL (which may carry a merchant's token).
    pub url_host: String,
}

/// `notice.failed`: a customer notice failed on every channel it tried. Names the account and
/// the event, never the customer's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeFailedData {
    pub merchant_id: Option<MerchantId>,
    pub virtual_account_id: VirtualAccountId,
    pub event_id: EventId,
    pub event_type: EventType,
    /// The last error of each channel that failed.
    pub errors: BTreeMap<Channel, String>,
}

/// `reconciliation.mismatch`: a provider's statement of a day differs from our deposits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MismatchData {
    pub provider: ProviderId,
    pub date: NaiveDate,
    pub differences: u64,
    pub by_kind: KindCounts,
    pub recovered: u64,
    /// Where the day's report file is (the blob key).
    pub report: String,
}

/// `reconciliation.statement_missing`: a provider's statement of a day is late or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementMissingData {
    pub provider: ProviderId,
    pub date: NaiveDate,
    #[serde(flatten)]
    pub fault: StatementFault,
}

/// `operator.locked`: an operator's logins failed too often in a row; locked until `until`.
/// Names the operator only (an operator name is not personal data of a customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorLockedData {
    pub operator: OperatorName,
    pub failures: u32,
    #[serde(with = "super::time::kst_serde")]
    pub until: DateTime<Utc>,
}

/// What is wrong with a day's statement (`problem` in the event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum StatementFault {
    /// Not arrived by the time it is due.
    Missing,
    /// Arrived and could not be read; the first of the parser's errors.
    Unreadable { errors: Vec<String> },
}

impl StatementFault {
    pub fn as_str(&self) -> &'static str {
        match self {
            StatementFault::Missing => "missing",
            StatementFault::Unreadable { .. } => "unreadable",
        }
    }
}

impl EventData {
    /// The event's type, which follows from the variant.
    pub fn kind(&self) -> EventType {
        match self {
            EventData::AccountIssued(_) => EventType::AccountIssued,
            EventData::AccountClosed(_) => EventType::AccountClosed,
            EventData::AccountExpired(_) => EventType::AccountExpired,
            EventData::AccountPartiallyPaid(_) => EventType::AccountPartiallyPaid,
            EventData::AccountPaid(_) => EventType::AccountPaid,
            EventData::AccountOverpaid(_) => EventType::AccountOverpaid,
            EventData::DepositMatched(_) => EventType::DepositMatched,
            EventData::DepositException(_) => EventType::DepositException,
            EventData::DepositReversed(_) => EventType::DepositReversed,
            EventData::ExceptionResolved(_) => EventType::ExceptionResolved,
            EventData::SettlementExported(_) => EventType::SettlementExported,
            EventData::AccountDueSoon(_) => EventType::AccountDueSoon,
            EventData::WebhookResendRequested(_) => EventType::WebhookResendRequested,
            EventData::PoolLow(_) => EventType::PoolLow,
            EventData::WebhookDeadLettered(_) => EventType::WebhookDeadLettered,
            EventData::NoticeFailed(_) => EventType::NoticeFailed,
            EventData::ReconciliationMismatch(_) => EventType::ReconciliationMismatch,
            EventData::ReconciliationStatementMissing(_) => EventType::ReconciliationStatementMissing,
            EventData::OperatorLocked(_) => EventType::OperatorLocked,
        }
    }

    /// The event of a deposit just recorded: `deposit.matched`, or `deposit.exception` when it
    /// is held (a reversal reports itself with [`EventData::DepositReversed`]).
    pub fn recorded_deposit(deposit: &Deposit, account: Option<&VirtualAccount>) -> EventData {
        let data = DepositData::of(deposit, account);
        match deposit.status {
            DepositStatus::Matched => EventData::DepositMatched(data),
            DepositStatus::Exception => EventData::DepositException(data),
            DepositStatus::Reversed => EventData::DepositReversed(data),
        }
    }

    /// The account's event for the balance a deposit (or a reversal of part of one) left it
    /// with, by its status; `None` for a status no balance event reports.
    pub fn balance(deposit: &Deposit, account: &VirtualAccount) -> Option<EventData> {
        let data = BalanceData { deposit: DepositView::from(deposit), virtual_account: AccountView::from(account) };
        match account.status {
            Status::PartiallyPaid => Some(EventData::AccountPartiallyPaid(data)),
            Status::Paid => Some(EventData::AccountPaid(data)),
            Status::Overpaid => Some(EventData::AccountOverpaid(data)),
            Status::Waiting | Status::Expired | Status::Closed => None,
        }
    }

    /// The payload, by its shape, for serialising.
    fn payload(&self) -> Payload<'_> {
        match self {
            EventData::AccountIssued(d) | EventData::AccountClosed(d) | EventData::AccountExpired(d) | EventData::AccountDueSoon(d) => Payload::Account(d),
            EventData::AccountPartiallyPaid(d) | EventData::AccountPaid(d) | EventData::AccountOverpaid(d) => Payload::Balance(d),
            EventData::DepositMatched(d) | EventData::DepositException(d) | EventData::DepositReversed(d) | EventData::ExceptionResolved(d) => {
                Payload::Deposit(d)
            }
            EventData::SettlementExported(d) => Payload::Settlement(d),
            EventData::WebhookResendRequested(d) => Payload::Resend(d),
            EventData::PoolLow(d) => Payload::PoolLow(d),
            EventData::WebhookDeadLettered(d) => Payload::DeadLettered(d),
            EventData::NoticeFailed(d) => Payload::NoticeFailed(d),
            EventData::ReconciliationMismatch(d) => Payload::Mismatch(d),
            EventData::ReconciliationStatementMissing(d) => Payload::StatementMissing(d),
            EventData::OperatorLocked(d) => Payload::OperatorLocked(d),
        }
    }

    /// Reads the `data` of an event of type `kind`.
    fn decode(kind: EventType, data: serde_json::Value) -> Result<EventData, serde_json::Error> {
        use serde_json::from_value as read;
        Ok(match kind {
            EventType::AccountIssued => EventData::AccountIssued(read(data)?),
            EventType::AccountClosed => EventData::AccountClosed(read(data)?),
            EventType::AccountExpired => EventData::AccountExpired(read(data)?),
            EventType::AccountPartiallyPaid => EventData::AccountPartiallyPaid(read(data)?),
            EventType::AccountPaid => EventData::AccountPaid(read(data)?),
            EventType::AccountOverpaid => EventData::AccountOverpaid(read(data)?),
            EventType::DepositMatched => EventData::DepositMatched(read(data)?),
            EventType::DepositException => EventData::DepositException(read(data)?),
            EventType::DepositReversed => EventData::DepositReversed(read(data)?),
            EventType::ExceptionResolved => EventData::ExceptionResolved(read(data)?),
            EventType::SettlementExported => EventData::SettlementExported(read(data)?),
            EventType::AccountDueSoon => EventData::AccountDueSoon(read(data)?),
            EventType::WebhookResendRequested => EventData::WebhookResendRequested(read(data)?),
            EventType::PoolLow => EventData::PoolLow(read(data)?),
            EventType::WebhookDeadLettered => EventData::WebhookDeadLettered(read(data)?),
            EventType::NoticeFailed => EventData::NoticeFailed(read(data)?),
            EventType::ReconciliationMismatch => EventData::ReconciliationMismatch(read(data)?),
            EventType::ReconciliationStatementMissing => EventData::ReconciliationStatementMissing(read(data)?),
            EventType::OperatorLocked => EventData::OperatorLocked(read(data)?),
        })
    }
}

/// The payload shapes, serialised as they are (no tag: the type is the event's `type`).
#[derive(Serialize)]
#[serde(untagged)]
enum Payload<'a> {
    Account(&'a AccountData),
    Balance(&'a BalanceData),
    Deposit(&'a DepositData),
    Settlement(&'a SettlementData),
    Resend(&'a ResendData),
    PoolLow(&'a PoolLowData),
    DeadLettered(&'a DeadLetteredData),
    NoticeFailed(&'a NoticeFailedData),
    Mismatch(&'a MismatchData),
    StatementMissing(&'a StatementMissingData),
    OperatorLocked(&'a OperatorLockedData),
}

/// `value` as the events' JSON writes it: every object's keys in alphabetical order, at every
/// depth. Payloads were first written as JSON maps, which keep their keys sorted, and the store
/// hands them back that way; receivers verify signatures over these bytes, so the order is part
/// of the contract (docs/events.md, "Merchant webhooks"), not the field order of the types.
fn in_key_order<T: Serialize>(value: &T) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(value)
}

/// `value` as compact JSON text in the events' key order: how an alert quotes a payload's
/// maps and lists.
pub fn json_text<T: Serialize>(value: &T) -> String {
    in_key_order(value).map(|v| v.to_string()).unwrap_or_default()
}

impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        in_key_order(&self.payload()).map_err(serde::ser::Error::custom)?.serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    pub id: EventId,
    pub occurred_at: DateTime<Utc>,
    /// `None` for operations events that belong to no merchant.
    pub merchant_id: Option<MerchantId>,
    pub data: EventData,
}

impl OutboxEvent {
    pub fn new(merchant_id: Option<MerchantId>, data: EventData, now: DateTime<Utc>) -> OutboxEvent {
        OutboxEvent { id: EventId::generate(now), occurred_at: now, merchant_id, data }
    }

    pub fn kind(&self) -> EventType {
        self.data.kind()
    }
}

/// An event on the wire and in the store: `{"id", "type", "occurred_at", "merchant_id", "data"}`.
#[derive(Serialize)]
struct WireOut<'a> {
    id: &'a EventId,
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(with = "super::time::kst_serde")]
    occurred_at: DateTime<Utc>,
    merchant_id: &'a Option<MerchantId>,
    data: &'a EventData,
}

/// An event as read: `data` is decoded by the `type` beside it, whichever comes first.
#[derive(Deserialize)]
struct WireIn {
    id: EventId,
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(with = "super::time::kst_serde")]
    occurred_at: DateTime<Utc>,
    merchant_id: Option<MerchantId>,
    data: serde_json::Value,
}

impl Serialize for OutboxEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut { id: &self.id, kind: self.kind(), occurred_at: self.occurred_at, merchant_id: &self.merchant_id, data: &self.data }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for OutboxEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<OutboxEvent, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        let data = EventData::decode(wire.kind, wire.data).map_err(|e| serde::de::Error::custom(format!("{} data: {e}", wire.kind)))?;
        Ok(OutboxEvent { id: wire.id, occurred_at: wire.occurred_at, merchant_id: wire.merchant_id, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

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

    /// The public types are exactly those of docs/openapi.yaml ("Events"); every other type is internal.
    #[test]
    fn the_merchant_events_are_exactly_the_public_contract() {
        let public: BTreeSet<&str> = EventType::ALL.into_iter().filter(|t| t.is_merchant_event()).map(EventType::as_str).collect();
        let contract = BTreeSet::from([
            "virtual_account.issued",
            "virtual_account.partially_paid",
            "virtual_account.paid",
            "virtual_account.overpaid",
            "virtual_account.expired",
            "virtual_account.closed",
            "deposit.matched",
            "deposit.exception",
            "deposit.reversed",
            "exception.resolved",
            "settlement.exported",
        ]);
        assert_eq!(public, contract);
    }

    /// Each type's queues, as docs/events.md lists them.
    #[test]
    fn every_type_goes_to_the_queues_the_docs_list() {
        use QueueName::*;
        for kind in EventType::ALL {
            let expected: &[QueueName] = match kind.as_str() {
                "virtual_account.issued" | "virtual_account.paid" | "virtual_account.expired" => &[MerchantWebhooks, CustomerNotices],
                "virtual_account.due_soon" => &[CustomerNotices],
                "pool.low" | "webhook.dead_lettered" | "notice.failed" | "reconciliation.mismatch" | "reconciliation.statement_missing" | "operator.locked" => {
                    &[OpsAlerts]
                }
                _ => &[MerchantWebhooks],
            };
            assert_eq!(kind.queues(), expected, "{kind}");
        }
    }

    #[test]
    fn the_type_of_an_event_is_the_type_of_its_data() {
        for kind in EventType::ALL {
            let event = OutboxEvent::new(None, crate::testing::sample_events::data(kind), Utc::now());
            assert_eq!(event.kind(), kind);
            let json: serde_json::Value = serde_json::to_value(&event).unwrap();
            assert_eq!(json["type"], kind.as_str());
        }
    }

    #[test]
    fn data_of_another_type_does_not_decode() {
        let paid = OutboxEvent::new(None, crate::testing::sample_events::data(EventType::AccountPaid), Utc::now());
        let mut json = serde_json::to_value(&paid).unwrap();
        json["type"] = "pool.low".into();
        assert!(serde_json::from_value::<OutboxEvent>(json).is_err());
    }

    #[test]
    fn the_balance_event_of_a_status_is_the_deposit_rules_one() {
        let sample = crate::testing::sample_events::account();
        let deposit = crate::testing::sample_events::deposit("DP01", Some(&sample), 35_000).deposit;
        for status in Status::ALL {
            let account = VirtualAccount { status, ..sample.clone() };
            assert_eq!(EventData::balance(&deposit, &account).map(|d| d.kind()), super::super::deposit::balance_event(status), "{status:?}");
        }
    }
}

#[cfg(test)]
mod golden;
