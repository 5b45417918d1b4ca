//! The customer-notices consumer (`notifier` in AWS, a worker in `serve`): tells the customer
//! about their account by 알림톡, falling back to SMS, and by email where they gave an address.
//!
//! Idempotent by event id: each channel's outcome is recorded right after its send, and a
//! redelivered event sends only what has not gone out yet. (A crash between a send and its
//! record can still repeat that one message; the queue is at-least-once and so is this.) When
//! a destination keeps failing, the event is retried on [`NOTICE_RETRY`]; after the last
//! failure the notice is recorded as given up and `notice.failed` raised in one transaction.
//!
//! Whom to tell is read from the account itself, not from the event (see [`Contact`]).

use super::consumer::{Consumer, Outcome, Received};
use super::{AppError, Service};
use crate::domain::event::NoticeFailedData;
use crate::domain::notice::{Channel, NoticeFacts, NoticeKind, render_alimtalk, render_email, render_sms};
use crate::domain::view::AccountView;
use crate::domain::{Customer, EventData, OutboxEvent, VirtualAccountId};
use crate::ports::{CustomerMessenger, MessagingError, ProviderMessageId};
use crate::repo::notices::{NoticeOutcome, NoticeRecord};
use crate::repo::{self, Guard, Transaction, TxError};
use async_trait::async_trait;
use chrono::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The waits before the second, third and fourth try of a notice that found a destination
/// failing; the fourth failure gives up. Short: a reminder that arrives hours late is noise.
pub const NOTICE_RETRY: [Duration; 3] = [Duration::minutes(1), Duration::minutes(5), Duration::minutes(30)];

pub struct NoticeConsumer {
    service: Arc<Service>,
    messenger: Arc<dyn CustomerMessenger>,
}

/// Where the customer can be reached: the contact the stored account holds, read when the
/// notice is sent. Not the `customer` inside the event: that is the merchant's view of the
/// account, which a view may show masked (see `Customer`). Nor a field of the event's own for
/// the notifier: `issued`, `paid` and `expired` are public, and the one message SNS fans out
/// to every queue is the body merchants receive and verify (docs/events.md), so it cannot
/// carry what merchants do not see. The account is the record of the contact, and a due-soon
/// reminder reads it anyway, to see that the account still waits for money.
struct Contact {
    phone: Option<String>,
    email: Option<String>,
}

impl Contact {
    fn of(customer: Option<&Customer>) -> Contact {
        let phone = customer.and_then(|c| c.phone.as_deref()).map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>()).filter(|p| !p.is_empty());
        let email = customer.and_then(|c| c.email.as_deref()).map(str::trim).filter(|e| e.contains('@')).map(str::to_owned);
        Contact { phone, email }
    }
}

impl NoticeConsumer {
    pub fn new(service: Arc<Service>, messenger: Arc<dyn CustomerMessenger>) -> NoticeConsumer {
        NoticeConsumer { service, messenger }
    }

    /// Writes what one send did and returns its error text, if it failed. A channel this
    /// deployment has no sender for is recorded as skipped and is not a failure.
    async fn record(
        &self,
        event: &OutboxEvent,
        account: &VirtualAccountId,
        channel: Channel,
        previous: &[NoticeRecord],
        sent: Result<ProviderMessageId, MessagingError>,
    ) -> Result<Option<String>, AppError> {
        let attempts = previous.iter().find(|r| r.channel == Some(channel)).map_or(0, |r| r.attempts) + 1;
        let (outcome, message_id, error) = match sent {
            Ok(id) => (NoticeOutcome::Sent, Some(id.0), None),
            Err(MessagingError::NotConfigured(what)) => (NoticeOutcome::Skipped, None, Some(format!("not configured: {what}"))),
            Err(e) => (NoticeOutcome::Failed, None, Some(e.to_string())),
        };
        let record = NoticeRecord {
            event_id: event.id.clone(),
            channel: Some(channel),
            outcome,
            message_id,
            error,
            at: self.service.clock.now(),
            attempts,
            merchant_id: event.merchant_id.clone(),
            virtual_account_id: Some(account.clone()),
            event_type: Some(event.kind()),
        };
        self.service.table.transact(vec![repo::notices::put_record(&record)?]).await?;
        tracing::info!(event = %event.id, %channel, outcome = ?record.outcome, attempts, "customer notice");
        Ok(match outcome {
            NoticeOutcome::Failed => record.error,
            _ => None,
        })
    }

    /// Records the notice as settled without sending (`Skipped`) or as given up (`GaveUp`,
    /// together with `notice.failed`). Written once: a concurrent twin's write wins harmlessly.
    async fn finish(
        &self,
        event: &OutboxEvent,
        account: &VirtualAccountId,
        outcome: NoticeOutcome,
        reason: String,
        alert: Option<OutboxEvent>,
    ) -> Result<Outcome, AppError> {
        let record = NoticeRecord {
            event_id: event.id.clone(),
            channel: None,
            outcome,
            message_id: None,
            error: Some(reason),
            at: self.service.clock.now(),
            attempts: 0,
            merchant_id: event.merchant_id.clone(),
            virtual_account_id: Some(account.clone()),
            event_type: Some(event.kind()),
        };
        let mut tx = Transaction::new();
        tx.push(Guard::AlreadyDone, repo::notices::put_record(&record)?);
        if let Some(alert) = &alert {
            tx.extend(Guard::NewItem, repo::outbox::put_event(alert)?);
        }
        match tx.commit(self.service.table.as_ref()).await {
            Ok(()) | Err(TxError::Refused(Guard::AlreadyDone)) => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = %event.id, outcome = ?outcome, "customer notice settled");
        Ok(Outcome::Done)
    }

    async fn notify(&self, event: &OutboxEvent, kind: NoticeKind, account: &AccountView, attempt: u32) -> Result<Outcome, AppError> {
        let previous = repo::notices::records(self.service.table.as_ref(), &event.id).await?;
        if previous.iter().any(|r| r.channel.is_none()) {
            return Ok(Outcome::Done);
        }
        let Some(stored) = repo::accounts::get(self.service.table.as_ref(), &account.id).await? else {
            tracing::error!(event = %event.id, account = %account.id, "customer notice of an account that is not stored");
            return self.finish(event, &account.id, NoticeOutcome::Skipped, "account not found".into(), None).await;
        };
        let contact = Contact::of(stored.customer.as_ref());
        if contact.phone.is_none() && contact.email.is_none() {
            return self.finish(event, &account.id, NoticeOutcome::Skipped, "no customer contact".into(), None).await;
        }
        // A reminder only makes sense while the account still waits for money; the event may
        // have waited in the queue while the customer paid.
        if kind == NoticeKind::DueSoon && !stored.status.is_open() {
            return self.finish(event, &account.id, NoticeOutcome::Skipped, "account no longer open".into(), None).await;
        }
        let done = |channels: &[Channel]| previous.iter().any(|r| r.outcome == NoticeOutcome::Sent && r.channel.is_some_and(|c| channels.contains(&c)));
        let facts = NoticeFacts::of(account);
        let mut errors: BTreeMap<Channel, String> = BTreeMap::new();
        let mut failing = false;
        if let Some(phone) = &contact.phone
            && !done(&[Channel::Alimtalk, Channel::Sms])
        {
            let talk = self.messenger.send_alimtalk(phone, &render_alimtalk(kind, &facts)).await;
            let talk_ok = talk.is_ok();
            if let Some(e) = self.record(event, &account.id, Channel::Alimtalk, &previous, talk).await? {
                errors.insert(Channel::Alimtalk, e);
            }
            if !talk_ok {
                let sms = self.messenger.send_sms(phone, &render_sms(kind, &facts)).await;
                let sms_configured = !matches!(sms, Err(MessagingError::NotConfigured(_)));
                match self.record(event, &account.id, Channel::Sms, &previous, sms).await? {
                    Some(e) => {
                        errors.insert(Channel::Sms, e);
                        failing = true;
                    }
                    // Neither phone channel is available here, yet 알림톡 failed: keep trying it.
                    None if !sms_configured => failing = errors.contains_key(&Channel::Alimtalk),
                    None => {}
                }
            }
        }
        if let Some(address) = &contact.email
            && !done(&[Channel::Email])
        {
            let mail = self.messenger.send_email(address, &render_email(kind, &facts)).await;
            if let Some(e) = self.record(event, &account.id, Channel::Email, &previous, mail).await? {
                errors.insert(Channel::Email, e);
                failing = true;
            }
        }
        if !failing {
            return Ok(Outcome::Done);
        }
        let now = self.service.clock.now();
        let retry = usize::try_from(attempt).ok().and_then(|a| a.checked_sub(1)).and_then(|i| NOTICE_RETRY.get(i));
        if let Some(wait) = retry {
            return Ok(Outcome::RetryAt(now + *wait));
        }
        tracing::warn!(event = %event.id, channels = ?errors.keys().collect::<Vec<_>>(), "customer notice failed on every try");
        let failed = NoticeFailedData {
            merchant_id: event.merchant_id.clone(),
            virtual_account_id: account.id.clone(),
            event_id: event.id.clone(),
            event_type: event.kind(),
            errors,
        };
        let alert = OutboxEvent::new(event.merchant_id.clone(), EventData::NoticeFailed(failed), now);
        self.finish(event, &account.id, NoticeOutcome::GaveUp, "every try failed".into(), Some(alert)).await
    }
}

#[async_trait]
impl Consumer for NoticeConsumer {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError> {
        // A body that does not parse never will: retrying would only delay the dead-letter
        // queue, so it is logged (without the body, which holds personal data) and dropped.
        let event: OutboxEvent = match serde_json::from_str(&message.body) {
            Ok(event) => event,
            Err(e) => {
                tracing::error!(message = %message.id, error = %e, "customer notice message is not an event; dropped");
                return Ok(Outcome::Done);
            }
        };
        let (kind, account) = match &event.data {
            EventData::AccountIssued(d) => (NoticeKind::Issued, &d.virtual_account),
            EventData::AccountPaid(d) => (NoticeKind::Paid, &d.virtual_account),
            EventData::AccountDueSoon(d) => (NoticeKind::DueSoon, &d.virtual_account),
            EventData::AccountExpired(d) => (NoticeKind::Expired, &d.virtual_account),
            // The customer is not told about the others.
            _ => return Ok(Outcome::Done),
        };
        self.notify(&event, kind, account, message.receive_count).await
    }
}
