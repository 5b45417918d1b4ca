//! The ops-alerts consumer (`ops-alert` in AWS, a worker in `serve`) and the operators' use
//! cases on incidents.
//!
//! A message is an outbox event (`pool.low`, `webhook.dead_lettered`, `notice.failed`,
//! `reconciliation.mismatch`, `reconciliation.statement_missing`); in AWS the queue also
//! carries CloudWatch alarms, which the AWS adapter (`aws::alarms`) reads into an
//! [`AlarmChange`] and hands to [`AlertConsumer::consume_alarm`] (`ALARM` pages at once, `OK`
//! resolves the alarm's incident). Each alert is counted on its incident exactly once: a
//! receipt keyed by the event id (or alarm name, state and change mark) is written in the
//! incident's transaction, and keeps the worded message until a channel took it, so a failed
//! post is retried with the same words and without counting the alert again.

use super::consumer::{Consumer, Outcome, Received};
use super::error::Unavailable;
use super::{AppError, Service};
use crate::domain::event::{StatementFault, json_text};
use crate::domain::incident::{AlarmChange, AlarmState, AlertFacts, AlertMessage, EscalationRule, Incident, IncidentError, IncidentStatus};
use crate::domain::{EventData, IncidentId, OperatorName, OutboxEvent};
use crate::ports::{AlertChannel, Condition, Cursor, StoreError};
use crate::repo::incidents::{self, AlertReceipt};
use crate::repo::{Listing, Retry};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Arc;

/// The longest quoted field value.
const MAX_FIELD_CHARS: usize = 300;

impl From<IncidentError> for AppError {
    fn from(e: IncidentError) -> AppError {
        AppError::Conflict(e.to_string())
    }
}

/// What the alert asks of its incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Raise,
    /// The alarm went back to OK.
    Clear,
}

#[derive(Debug, Clone)]
struct Alert {
    /// Unique per alert: the receipt's key.
    receipt: String,
    facts: AlertFacts,
    detail: String,
    signal: Signal,
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_FIELD_CHARS).collect()
}

/// One quoted field of an alert: `name=value`, the value cut short.
fn field(name: &str, value: impl std::fmt::Display) -> String {
    format!("{name}={}", truncate(&value.to_string()))
}

/// What an operations event's alert is about (its subject) and the fields it quotes, in this
/// order: identifiers, counts and error texts, never personal data. `None`: not an operations
/// event.
fn quote(event: &OutboxEvent) -> Option<(Option<String>, Vec<String>)> {
    let merchant = event.merchant_id.as_ref().map(ToString::to_string);
    Some(match &event.data {
        EventData::PoolLow(d) => (
            Some(d.bank_code.code().to_owned()),
            vec![field("bank_code", d.bank_code.code()), field("bank_name", &d.bank_name), field("free", d.free), field("threshold", d.threshold)],
        ),
        EventData::WebhookDeadLettered(d) => {
            let mut quoted =
                vec![field("endpoint_id", &d.endpoint_id), field("event_id", &d.event_id), field("event_type", d.event_type), field("attempts", d.attempts)];
            quoted.extend(d.last_error.as_deref().map(|e| field("last_error", e)));
            quoted.push(field("url_host", &d.url_host));
            (merchant, quoted)
        }
        EventData::NoticeFailed(d) => (
            merchant.or_else(|| d.merchant_id.as_ref().map(ToString::to_string)),
            vec![
                field("event_id", &d.event_id),
                field("event_type", d.event_type),
                field("virtual_account_id", &d.virtual_account_id),
                field("errors", json_text(&d.errors)),
            ],
        ),
        EventData::ReconciliationMismatch(d) => (
            Some(d.provider.to_string()),
            vec![
                field("provider", &d.provider),
                field("date", d.date),
                field("differences", d.differences),
                field("by_kind", json_text(&d.by_kind)),
                field("recovered", d.recovered),
                field("report", &d.report),
            ],
        ),
        EventData::ReconciliationStatementMissing(d) => {
            let mut quoted = Vec::new();
            if let StatementFault::Unreadable { errors } = &d.fault {
                quoted.push(field("errors", json_text(errors)));
            }
            quoted.extend([field("provider", &d.provider), field("date", d.date), field("problem", d.fault.as_str())]);
            (Some(d.provider.to_string()), quoted)
        }
        EventData::OperatorLocked(d) => (
            Some(d.operator.to_string()),
            vec![field("operator", &d.operator), field("failures", d.failures), field("until", crate::domain::time::to_kst_string(d.until))],
        ),
        EventData::AccountIssued(_)
        | EventData::AccountClosed(_)
        | EventData::AccountExpired(_)
        | EventData::AccountPartiallyPaid(_)
        | EventData::AccountPaid(_)
        | EventData::AccountOverpaid(_)
        | EventData::DepositMatched(_)
        | EventData::DepositException(_)
        | EventData::DepositReversed(_)
        | EventData::ExceptionResolved(_)
        | EventData::SettlementExported(_)
        | EventData::AccountDueSoon(_)
        | EventData::WebhookResendRequested(_) => return None,
    })
}

/// An alarm's change as an alert; undated changes are dated when they arrive.
fn alarm_alert(change: &AlarmChange, now: DateTime<Utc>) -> Alert {
    let signal = match change.state {
        AlarmState::Alarm => Signal::Raise,
        AlarmState::Ok => Signal::Clear,
    };
    let state = change.state.as_str();
    let receipt = format!("alarm#{}#{state}#{}", change.name, change.mark);
    let detail = format!("{} alarm {} is {state}: {}", change.monitor, change.name, truncate(&change.reason));
    let facts = AlertFacts { kind: "alarm".into(), subject: change.name.clone(), at: change.at.unwrap_or(now), pages: true };
    Alert { receipt, facts, detail, signal }
}

/// Reads a message body: an outbox event. `Ok(None)`: an event this consumer has nothing to
/// do with.
fn parse_alert(body: &str) -> Result<Option<Alert>, String> {
    let value: Value = serde_json::from_str(body).map_err(|e| e.to_string())?;
    let event: OutboxEvent = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let Some((subject, quoted)) = quote(&event) else { return Ok(None) };
    let detail = format!("{} ({}) {}", event.kind(), event.id, quoted.join(" "));
    let facts = AlertFacts { kind: event.kind().as_str().into(), subject: subject.unwrap_or_else(|| "unknown".into()), at: event.occurred_at, pages: false };
    Ok(Some(Alert { receipt: event.id.to_string(), facts, detail, signal: Signal::Raise }))
}

/// Two shared handles: cloning it is cheap, and a clone records into the same incidents.
#[derive(Clone)]
pub struct AlertConsumer {
    service: Arc<Service>,
    channel: Arc<dyn AlertChannel>,
}

impl AlertConsumer {
    pub fn new(service: Arc<Service>, channel: Arc<dyn AlertChannel>) -> AlertConsumer {
        AlertConsumer { service, channel }
    }

    fn rule(&self) -> EscalationRule {
        EscalationRule { after: self.service.settings.alert_escalate_after, window: self.service.settings.alert_window }
    }

    /// Counts the alert on its incident (once) and returns its receipt as stored.
    async fn count(&self, alert: &Alert) -> Result<(AlertReceipt, u64), AppError> {
        let table = self.service.table.as_ref();
        let mut retry = Retry::new();
        while retry.next().await {
            if let Some(found) = incidents::receipt(table, &alert.receipt).await? {
                return Ok(found);
            }
            let now = self.service.clock.now();
            let pointer = incidents::current(table, &alert.facts.kind, &alert.facts.subject).await?;
            let incident = match &pointer {
                Some((id, _)) => incidents::get(table, id).await?,
                None => None,
            };
            let mut writes = Vec::new();
            let message = match (alert.signal, incident) {
                (Signal::Raise, Some(current)) if current.takes_alerts() => {
                    let next = current.record(&alert.facts, self.rule())?;
                    writes.push(incidents::put_incident(&next, Condition::VersionIs(current.version))?);
                    Some(AlertMessage::for_incident(&next, &alert.detail))
                }
                (Signal::Raise, _) => {
                    let opened = Incident::open(IncidentId::generate(now), &alert.facts, self.rule());
                    writes.push(incidents::put_incident(&opened, Condition::NotExists)?);
                    writes.push(incidents::put_current(&opened, pointer.as_ref().map(|(_, v)| *v))?);
                    Some(AlertMessage::for_incident(&opened, &alert.detail))
                }
                (Signal::Clear, Some(current)) if current.takes_alerts() => {
                    let resolved = current.resolve(None, alert.facts.at.max(current.last_at))?;
                    writes.push(incidents::put_incident(&resolved, Condition::VersionIs(current.version))?);
                    Some(AlertMessage::resolved(&resolved, &alert.detail))
                }
                // An OK with no incident to resolve: nothing to tell anyone.
                (Signal::Clear, _) => None,
            };
            let receipt = AlertReceipt { posted: message.is_none(), message };
            writes.push(incidents::put_receipt(&alert.receipt, &receipt, None, now)?);
            match self.service.table.transact(writes).await {
                Ok(()) => return Ok((receipt, 1)),
                // Another alert of the same subject (or this one, redelivered) got in first.
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("incident of {} kept changing", alert.facts.kind) }.into())
    }
}

#[async_trait]
impl Consumer for AlertConsumer {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError> {
        let alert = match parse_alert(&message.body) {
            Ok(Some(alert)) => alert,
            Ok(None) => return Ok(Outcome::Done),
            Err(e) => {
                // Retrying cannot make it readable.
                tracing::error!(message = %message.id, error = %e, "ops alert message is neither an event nor an alarm; dropped");
                return Ok(Outcome::Done);
            }
        };
        self.alert(&alert).await
    }
}

impl AlertConsumer {
    /// A monitoring alarm's change of state, as the monitoring adapter read it.
    pub async fn consume_alarm(&self, change: &AlarmChange) -> Result<Outcome, AppError> {
        self.alert(&alarm_alert(change, self.service.clock.now())).await
    }

    /// Counts the alert on its incident, then posts its message until a channel takes it.
    async fn alert(&self, alert: &Alert) -> Result<Outcome, AppError> {
        let (receipt, version) = self.count(alert).await?;
        let Some(text) = receipt.message.as_ref().filter(|_| !receipt.posted) else { return Ok(Outcome::Done) };
        // A failed post comes back after the queue's visibility timeout, with the same words.
        self.channel.post(text).await.map_err(Unavailable::Alert)?;
        tracing::info!(alert = %alert.receipt, kind = %alert.facts.kind, severity = ?text.severity, "ops alert posted");
        let posted = AlertReceipt { posted: true, ..receipt.clone() };
        let write = incidents::put_receipt(&alert.receipt, &posted, Some(version), self.service.clock.now())?;
        // Failing to note the post only risks posting it once more on a redelivery.
        if let Err(e) = self.service.table.transact(vec![write]).await {
            tracing::warn!(alert = %alert.receipt, error = %e, "alert posted but not marked");
        }
        Ok(Outcome::Done)
    }
}

/// The operators' incidents: listed, read, acknowledged, resolved.
#[derive(Clone, Copy)]
pub struct Incidents<'a> {
    pub(super) service: &'a Service,
}

impl Incidents<'_> {
    /// Incidents newest first, optionally of one status.
    pub async fn list_incidents(self, status: Option<IncidentStatus>, limit: usize, after: Option<Cursor>) -> Result<Listing<Incident>, AppError> {
        Ok(incidents::list(self.service.table.as_ref(), status, limit, after).await?)
    }

    pub async fn get_incident(self, id: &IncidentId) -> Result<Incident, AppError> {
        incidents::get(self.service.table.as_ref(), id).await?.ok_or(AppError::NotFound)
    }

    /// The operator takes it: the page stops being everyone's.
    pub async fn acknowledge_incident(self, operator: &OperatorName, id: &IncidentId) -> Result<Incident, AppError> {
        self.change_incident(id, |incident, now| incident.acknowledge(operator.clone(), now)).await
    }

    pub async fn resolve_incident(self, operator: &OperatorName, id: &IncidentId) -> Result<Incident, AppError> {
        self.change_incident(id, |incident, now| incident.resolve(Some(operator.clone()), now)).await
    }

    async fn change_incident(
        self,
        id: &IncidentId,
        change: impl Fn(&Incident, DateTime<Utc>) -> Result<Incident, IncidentError>,
    ) -> Result<Incident, AppError> {
        let mut retry = Retry::new();
        while retry.next().await {
            let incident = self.get_incident(id).await?;
            let next = change(&incident, self.service.clock.now())?;
            match self.service.table.transact(vec![incidents::put_incident(&next, Condition::VersionIs(incident.version))?]).await {
                Ok(()) => return Ok(next),
                // An alert landed on it meanwhile: decide again on the incident as it now is.
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("incident {id} kept changing") }.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alarm_in_alarm_pages_and_ok_clears() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T01:00:00Z").unwrap().with_timezone(&Utc);
        let change = AlarmChange {
            monitor: "CloudWatch",
            name: "vaccount-prod-api-5xx".into(),
            state: AlarmState::Alarm,
            reason: "Threshold Crossed".into(),
            at: Some(at),
            mark: "2026-11-24T01:00:00.000+0000".into(),
        };
        let alert = alarm_alert(&change, Utc::now());
        assert_eq!((alert.signal, alert.facts.pages, alert.facts.subject.as_str(), alert.facts.at), (Signal::Raise, true, "vaccount-prod-api-5xx", at));
        assert_eq!(alert.receipt, "alarm#vaccount-prod-api-5xx#ALARM#2026-11-24T01:00:00.000+0000");
        assert_eq!(alert.detail, "CloudWatch alarm vaccount-prod-api-5xx is ALARM: Threshold Crossed");
        let ok = alarm_alert(&AlarmChange { state: AlarmState::Ok, at: None, ..change }, at);
        assert_eq!((ok.signal, ok.facts.at), (Signal::Clear, at), "an undated change is dated when it arrives");
    }

    #[test]
    fn alert_details_quote_identifiers_only() {
        let event = OutboxEvent::new(
            Some("mch_01KWFX0000000000000000MCH1".parse().unwrap()),
            crate::testing::sample_events::data(crate::domain::EventType::NoticeFailed),
            Utc::now(),
        );
        let alert = parse_alert(&serde_json::to_string(&event).unwrap()).unwrap().unwrap();
        assert!(alert.detail.contains("event_id=evt_01KWFX0000000000000000EV01"));
        assert!(!alert.detail.contains("1234-5678") && !alert.detail.contains("hong@") && !alert.detail.contains("홍길동"), "{}", alert.detail);
        assert_eq!(alert.facts.subject, "mch_01KWFX0000000000000000MCH1");
    }

    /// The alert of every operations event in the contract's golden lines, word for word: each
    /// quotes the fields its event carries, identifiers and counts.
    #[test]
    fn every_operations_event_is_quoted_with_the_fields_it_carries() {
        let expected = [
            ("GD14", "004", "pool.low (evt_01KWFX0000000000000000GD14) bank_code=004 bank_name=KB국민은행 free=12 threshold=100"),
            (
                "GD15",
                "mch_01KWFX0000000000000000MCH1",
                "webhook.dead_lettered (evt_01KWFX0000000000000000GD15) endpoint_id=whe_01KWFX0000000000000000WH01 event_id=evt_01KWFX0000000000000000EV01 \
                 event_type=virtual_account.paid attempts=8 last_error=HTTP 500 url_host=hooks.example.com",
            ),
            (
                "GD16",
                "mch_01KWFX0000000000000000MCH1",
                "notice.failed (evt_01KWFX0000000000000000GD16) event_id=evt_01KWFX0000000000000000EV01 event_type=virtual_account.issued \
                 virtual_account_id=va_01KWFX0000000000000000VA01 errors={\"alimtalk\":\"declined: template mismatch\",\"sms\":\"HTTP 500 from the SMS gateway\"}",
            ),
            (
                "GD17",
                "bank",
                "reconciliation.mismatch (evt_01KWFX0000000000000000GD17) provider=bank date=2026-11-24 differences=3 \
                 by_kind={\"account_mismatch\":1,\"amount_mismatch\":1,\"missing_at_provider\":1,\"reversal_mismatch\":0} recovered=1 \
                 report=reconciliation/bank/2026/11/24/reconciliation-bank-20261124.csv",
            ),
            ("GD18", "bank", "reconciliation.statement_missing (evt_01KWFX0000000000000000GD18) provider=bank date=2026-11-24 problem=missing"),
            ("GD19", "kim", "operator.locked (evt_01KWFX0000000000000000GD19) operator=kim failures=5 until=2026-11-24T10:15:00+09:00"),
            (
                "GD20",
                "bank",
                "reconciliation.statement_missing (evt_01KWFX0000000000000000GD20) errors=[\"line 2: amount is not a number\",\"line 7: unknown bank code 999\"] \
                 provider=bank date=2026-11-24 problem=unreadable",
            ),
            (
                "GD21",
                "mch_01KWFX0000000000000000MCH1",
                "webhook.dead_lettered (evt_01KWFX0000000000000000GD21) endpoint_id=whe_01KWFX0000000000000000WH01 event_id=evt_01KWFX0000000000000000EV01 \
                 event_type=virtual_account.paid attempts=8 url_host=hooks.example.com",
            ),
        ];
        let golden = include_str!("../domain/event/golden.jsonl");
        for (id, subject, detail) in expected {
            let line = golden.lines().find(|l| l.contains(&format!("\"evt_01KWFX0000000000000000{id}\""))).expect("a golden line");
            let alert = parse_alert(line).unwrap().expect("an alert");
            assert_eq!((alert.facts.subject.as_str(), alert.detail.as_str()), (subject, detail), "{id}");
            assert!(!alert.detail.contains("last_status") && !alert.detail.contains("webhook_endpoint_id"), "{id}");
        }
        let merchant_events = golden.lines().filter(|l| {
            !l.contains("\"type\":\"pool.")
                && !l.contains("\"type\":\"webhook.dead")
                && !l.contains("\"type\":\"notice.")
                && !l.contains("\"type\":\"reconciliation.")
                && !l.contains("\"type\":\"operator.")
        });
        for line in merchant_events {
            assert!(parse_alert(line).unwrap().is_none(), "not an alert: {line}");
        }
    }

    #[test]
    fn a_reconciliation_mismatch_is_an_alert_about_its_provider() {
        let data = crate::domain::event::MismatchData {
            provider: "bank".parse().unwrap(),
            date: "2026-11-24".parse().unwrap(),
            differences: 3,
            by_kind: crate::domain::reconciliation::KindCounts { amount_mismatch: 1, account_mismatch: 1, missing_at_provider: 1, reversal_mismatch: 0 },
            recovered: 1,
            report: "reconciliation/bank/2026/11/24/reconciliation-bank-20261124.csv".into(),
        };
        let event = OutboxEvent::new(None, EventData::ReconciliationMismatch(data), Utc::now());
        let alert = parse_alert(&serde_json::to_string(&event).unwrap()).unwrap().unwrap();
        assert_eq!((alert.facts.kind.as_str(), alert.facts.subject.as_str(), alert.signal), ("reconciliation.mismatch", "bank", Signal::Raise));
        assert!(alert.detail.contains("date=2026-11-24") && alert.detail.contains("differences=3"), "{}", alert.detail);
    }
}
