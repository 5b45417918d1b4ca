//! Merchant webhooks: registering endpoints, rotating their secrets, resending events, the
//! events feed (the polling fallback), and the consumer of the `merchant-webhooks` queue that
//! makes the deliveries.
//!
//! A queue message is an outbox event. Its id names a delivery round; the first consumer to see
//! the round opens it, in one transaction, with a delivery record per subscribed endpoint, so
//! every later receipt of the message (retries, duplicates) works on the same set. Each due
//! delivery is POSTed, the attempt logged, and the record moved on under its version: a
//! duplicate that loses that write stops, which keeps delivery at least once (receivers dedupe
//! on `webhook-id`). The message comes back when the earliest pending retry is due.

use super::consumer::{Consumer, Outcome, Received};
use super::error::Unavailable;
use super::idempotency::Receipt;
use super::{AppError, Service};
use crate::domain::address::webhook_may_reach;
use crate::domain::event::{DeadLetteredData, ResendData};
use crate::domain::webhook::{
    ATTEMPT_TIMEOUT, AttemptResult, Delivery, DeliveryState, MAX_ENDPOINTS_PER_MERCHANT, WebhookAttempt, WebhookEndpoint, WebhookSecret, WebhookUrl,
    signature_header,
};
use crate::domain::{EventData, EventId, EventType, MerchantId, OutboxEvent, WebhookEndpointId};
use crate::ports::{Condition, Cursor, HostResolver, HttpRequest, HttpSender, StoreError};
use crate::repo::webhooks::Roster;
use crate::repo::{self, Guard, Listing, Retry, Transaction, TxError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A registration waits this long for the URL's host to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Events one filtered events-page request looks at per shard, at most.
const EVENT_SCAN: usize = 200;

/// Dead letters one call resends at most: a call stays short, and `more` asks for another.
pub const DEAD_LETTERS_PER_CALL: usize = 500;

/// What a resend of an endpoint's dead letters did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLettersResent {
    pub endpoint_id: WebhookEndpointId,
    /// The dead letters given a fresh round now, oldest first.
    pub resent: Vec<ResentDeadLetter>,
    /// Dead letters found resent already by a call running at the same time.
    pub already: usize,
    /// More dead letters wait: call again.
    pub more: bool,
}

/// One dead letter resent: its event, and the round (the resend request) that delivers it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResentDeadLetter {
    pub event_id: EventId,
    pub round: EventId,
}

/// A new secret, shown once, and when the one it replaced stops signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatedSecret {
    pub endpoint_id: WebhookEndpointId,
    pub secret: WebhookSecret,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// Webhook endpoints, their delivery attempts, event resends and the events feed.
#[derive(Clone, Copy)]
pub struct Webhooks<'a> {
    pub(super) service: &'a Service,
}

impl Webhooks<'_> {
    /// Registers an endpoint with a fresh secret (in the answer, shown once). A host name must
    /// resolve, through `resolver`, to addresses a webhook may reach (public ones; with private
    /// webhooks allowed, anything but link-local and metadata); the connect-time guard (`net`)
    /// covers a name that changes its answer later.
    pub async fn create_webhook_endpoint(
        self,
        merchant: &MerchantId,
        url: &str,
        event_types: Option<Vec<EventType>>,
        resolver: &dyn HostResolver,
    ) -> Result<WebhookEndpoint, AppError> {
        self.create_webhook_endpoint_with(merchant, url, event_types, resolver, &Receipt::none()).await
    }

    /// [`Webhooks::create_webhook_endpoint`], its answer (the secret included) committed with the
    /// endpoint (`receipt`): a retry gets this endpoint and secret, never a second endpoint.
    pub async fn create_webhook_endpoint_with(
        self,
        merchant: &MerchantId,
        url: &str,
        event_types: Option<Vec<EventType>>,
        resolver: &dyn HostResolver,
        receipt: &Receipt<'_, WebhookEndpoint>,
    ) -> Result<WebhookEndpoint, AppError> {
        let allow_private = self.service.settings.allow_private_webhooks;
        let url = WebhookUrl::parse(url, allow_private).map_err(|e| AppError::field("url", e))?;
        refuse_unreachable_names(resolver, &url, allow_private).await?;
        let now = self.service.clock.now();
        let endpoint = WebhookEndpoint::new(WebhookEndpointId::generate(now), merchant.clone(), url, event_types, WebhookSecret::generate(), now)
            .map_err(|e| AppError::field("event_types", e))?;
        let mut retry = Retry::new();
        while retry.next().await {
            let roster = repo::webhooks::get_roster(self.service.table.as_ref(), merchant).await?;
            if roster.endpoints.len() >= MAX_ENDPOINTS_PER_MERCHANT {
                return Err(AppError::Conflict(format!("a merchant has at most {MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints")));
            }
            let mut next = Roster { endpoints: roster.endpoints.clone(), version: roster.version + 1 };
            next.endpoints.push(endpoint.id.clone());
            let tx = Transaction::of(
                Guard::Moved,
                [repo::webhooks::put_roster(merchant, &next, &roster)?, repo::webhooks::put_endpoint(&endpoint, Condition::NotExists)?],
            );
            match self.service.commit_with_receipt(tx, receipt, &endpoint).await? {
                Ok(()) => return Ok(endpoint),
                // Another create or delete moved the roster: count again.
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: "the webhook endpoints kept changing".into() }.into())
    }

    pub async fn list_webhook_endpoints(self, merchant: &MerchantId, limit: usize, after: Option<Cursor>) -> Result<Listing<WebhookEndpoint>, AppError> {
        Ok(repo::webhooks::list_endpoints(self.service.table.as_ref(), merchant, limit, after).await?)
    }

    async fn webhook_endpoint(self, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<WebhookEndpoint, AppError> {
        repo::webhooks::get_endpoint(self.service.table.as_ref(), merchant, id).await?.ok_or(AppError::NotFound)
    }

    /// Removes the endpoint; deliveries still pending to it stop at their next turn.
    pub async fn delete_webhook_endpoint(self, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<(), AppError> {
        let mut retry = Retry::new();
        while retry.next().await {
            let endpoint = self.webhook_endpoint(merchant, id).await?;
            let roster = repo::webhooks::get_roster(self.service.table.as_ref(), merchant).await?;
            let next = Roster { endpoints: roster.endpoints.iter().filter(|e| *e != id).cloned().collect(), version: roster.version + 1 };
            let writes = vec![repo::webhooks::put_roster(merchant, &next, &roster)?, repo::webhooks::delete_endpoint(&endpoint)];
            match self.service.table.transact(writes).await {
                Ok(()) => return Ok(()),
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("webhook endpoint {id} kept changing") }.into())
    }

    /// A new signing secret; the current one keeps signing beside it for 24 hours.
    pub async fn rotate_webhook_secret(self, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<RotatedSecret, AppError> {
        self.rotate_webhook_secret_with(merchant, id, &Receipt::none()).await
    }

    /// [`Webhooks::rotate_webhook_secret`], its answer committed with the rotation (`receipt`):
    /// a retry is told the same new secret, and the one the merchant still uses keeps signing.
    pub async fn rotate_webhook_secret_with(
        self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        receipt: &Receipt<'_, RotatedSecret>,
    ) -> Result<RotatedSecret, AppError> {
        let mut retry = Retry::new();
        while retry.next().await {
            let endpoint = self.webhook_endpoint(merchant, id).await?;
            let secret = WebhookSecret::generate();
            let (rotated, previous_secret_expires_at) = endpoint.rotate(secret.clone(), self.service.clock.now());
            let write = repo::webhooks::put_endpoint(&rotated, Condition::VersionIs(endpoint.version))?;
            let answer = RotatedSecret { endpoint_id: id.clone(), secret, previous_secret_expires_at };
            match self.service.commit_with_receipt(Transaction::of(Guard::Moved, [write]), receipt, &answer).await? {
                Ok(()) => return Ok(answer),
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("webhook endpoint {id} kept changing") }.into())
    }

    /// An endpoint's delivery attempts, newest first.
    pub async fn list_webhook_attempts(
        self,
        merchant: &MerchantId,
        endpoint: &WebhookEndpointId,
        limit: usize,
        after: Option<Cursor>,
    ) -> Result<Listing<WebhookAttempt>, AppError> {
        self.webhook_endpoint(merchant, endpoint).await?;
        Ok(repo::webhooks::attempts(self.service.table.as_ref(), endpoint, limit, after).await?)
    }

    /// Queues a fresh delivery round of one of the merchant's events: a
    /// `webhook.resend_requested` event, which the webhook consumer acts on. The answer is
    /// that request.
    pub async fn resend_event(self, merchant: &MerchantId, event_id: &EventId) -> Result<OutboxEvent, AppError> {
        self.resend_event_with(merchant, event_id, &Receipt::none()).await
    }

    /// [`Webhooks::resend_event`], its answer committed with the request (`receipt`): a retry
    /// queues no second round.
    pub async fn resend_event_with(self, merchant: &MerchantId, event_id: &EventId, receipt: &Receipt<'_, OutboxEvent>) -> Result<OutboxEvent, AppError> {
        match repo::outbox::get_event(self.service.table.as_ref(), event_id).await? {
            Some(event) if event.merchant_id.as_ref() == Some(merchant) && event.kind().is_merchant_event() => {}
            _ => return Err(AppError::NotFound),
        }
        let now = self.service.clock.now();
        let request = resend_request(merchant, event_id, None, now);
        self.service.commit_with_receipt(Transaction::of(Guard::NewItem, repo::outbox::put_event(&request)?), receipt, &request).await??;
        Ok(request)
    }

    /// An operator's resend: the merchant is the event's own.
    pub async fn resend_any_event(self, event_id: &EventId) -> Result<OutboxEvent, AppError> {
        let event = repo::outbox::get_event(self.service.table.as_ref(), event_id).await?.ok_or(AppError::NotFound)?;
        let merchant = event.merchant_id.ok_or(AppError::NotFound)?;
        self.resend_event(&merchant, event_id).await
    }

    /// A fresh round, to this endpoint only, of every event whose delivery to it was
    /// dead-lettered and not resent yet: at most [`DEAD_LETTERS_PER_CALL`] a call (`more` says
    /// whether others wait). Each dead letter is marked with its round in the transaction
    /// that asks for it, on condition of its version, so two calls at once (a double click)
    /// never give one dead letter two rounds. Dead letters to an endpoint since deleted are
    /// not resent: the endpoint is not found.
    pub async fn resend_dead_letters(self, endpoint: &WebhookEndpointId) -> Result<DeadLettersResent, AppError> {
        let table = self.service.table.as_ref();
        let mut answer = DeadLettersResent { endpoint_id: endpoint.clone(), resent: Vec::new(), already: 0, more: false };
        let mut cursor = None;
        let mut merchant_checked = false;
        loop {
            let room = DEAD_LETTERS_PER_CALL - answer.resent.len() - answer.already;
            let page = repo::webhooks::dead_letters(table, endpoint, room.min(100), cursor).await?;
            for dead in page.items.iter().filter(|d| d.awaits_resend() && &d.endpoint_id == endpoint) {
                if !merchant_checked {
                    self.webhook_endpoint(&dead.merchant_id, endpoint).await?;
                    merchant_checked = true;
                }
                let now = self.service.clock.now();
                let request = resend_request(&dead.merchant_id, &dead.event_id, Some(endpoint), now);
                let mut tx = Transaction::of(
                    Guard::AlreadyDone,
                    [repo::webhooks::put_delivery(&dead.resent(request.id.clone()), Condition::VersionIs(dead.version), now)?],
                );
                tx.extend(Guard::NewItem, repo::outbox::put_event(&request)?);
                match tx.commit(table).await {
                    Ok(()) => answer.resent.push(ResentDeadLetter { event_id: dead.event_id.clone(), round: request.id }),
                    // Resent meanwhile by another call: the index had not caught up yet.
                    Err(TxError::Refused(Guard::AlreadyDone)) => answer.already += 1,
                    Err(e) => return Err(e.into()),
                }
            }
            match page.next {
                Some(next) if answer.resent.len() + answer.already < DEAD_LETTERS_PER_CALL => cursor = Some(next),
                Some(_) => {
                    answer.more = true;
                    return Ok(answer);
                }
                None => return Ok(answer),
            }
        }
    }

    /// The merchant's events, oldest first, after `after` (or where `cursor` left off), of
    /// type `kind` if given. With a type filter a page may be short and still have a cursor:
    /// each request looks at a bounded number of events.
    pub async fn list_events(
        self,
        merchant: &MerchantId,
        after: Option<EventId>,
        kind: Option<EventType>,
        limit: usize,
        cursor: Option<Cursor>,
    ) -> Result<Listing<OutboxEvent>, AppError> {
        if kind.is_some_and(|k| !k.is_merchant_event()) {
            return Err(AppError::field("type", "is not an event type merchants receive"));
        }
        let resumed = cursor.as_ref().map(repo::outbox::cursor_position).transpose()?;
        let after = match after {
            None => None,
            Some(id) => match repo::outbox::position_of(self.service.table.as_ref(), merchant, &id).await? {
                Some(at) => Some(at),
                None => return Err(AppError::field("after", "is not an event of this merchant")),
            },
        };
        let start = after.into_iter().chain(resumed).max();
        let scan = if kind.is_some() { EVENT_SCAN } else { limit };
        let horizon = self.service.settings.event_feed_horizon;
        Ok(repo::outbox::merchant_page(self.service.table.as_ref(), merchant, start, kind, limit, scan, horizon).await?)
    }
}

/// A `webhook.resend_requested` event: a fresh round of `event_id`, to `endpoint` only if given.
fn resend_request(merchant: &MerchantId, event_id: &EventId, endpoint: Option<&WebhookEndpointId>, now: DateTime<Utc>) -> OutboxEvent {
    let data = ResendData { event_id: event_id.clone(), endpoint_id: endpoint.cloned() };
    OutboxEvent::new(Some(merchant.clone()), EventData::WebhookResendRequested(data), now)
}

/// Resolves the URL's host name and refuses it if any address is one a webhook may not reach.
/// With private webhooks allowed, a name that does not resolve is let through (a developer's
/// receiver may not be up yet); the connect-time guard still applies.
async fn refuse_unreachable_names(resolver: &dyn HostResolver, url: &WebhookUrl, allow_private: bool) -> Result<(), AppError> {
    let Some(host) = url.domain() else { return Ok(()) };
    let unresolved = || AppError::field("url", format!("the host {host} does not resolve"));
    let addresses = match tokio::time::timeout(RESOLVE_TIMEOUT, resolver.resolve(host)).await {
        Ok(Ok(found)) => found,
        _ if allow_private => return Ok(()),
        _ => return Err(unresolved()),
    };
    if addresses.is_empty() && !allow_private {
        return Err(unresolved());
    }
    if addresses.iter().any(|ip| !webhook_may_reach(*ip, allow_private)) {
        return Err(AppError::field("url", format!("the host {host} resolves to an address a webhook may not reach")));
    }
    Ok(())
}

/// Delivers merchant events to their webhook endpoints (the `merchant-webhooks` queue).
pub struct WebhookConsumer {
    service: Arc<Service>,
    http: Arc<dyn HttpSender>,
}

/// One delivery round: the event to send, under the id of the message that asked for it.
struct Round {
    id: EventId,
    event: OutboxEvent,
    merchant: MerchantId,
    /// Only this endpoint (an operator's resend of its dead letters); `None`: every subscriber.
    only: Option<WebhookEndpointId>,
}

impl WebhookConsumer {
    /// `http` is the guarded sender (`net::OutboundHttp::guarded`): merchants choose the URLs.
    pub fn new(service: Arc<Service>, http: Arc<dyn HttpSender>) -> WebhookConsumer {
        WebhookConsumer { service, http }
    }

    /// What a message asks for, if anything. A body that can never be delivered is dropped
    /// (logged) rather than put back forever; a storage failure is an error, so it comes back.
    async fn round_of(&self, message: &Received) -> Result<Option<Round>, AppError> {
        let drop = |why: &str| {
            tracing::warn!(message_id = %message.id, reason = why, "webhook message dropped");
            Ok(None)
        };
        let event: OutboxEvent = match serde_json::from_str(&message.body) {
            Ok(event) => event,
            Err(_) => return drop("the body is not an event"),
        };
        let Some(merchant) = event.merchant_id.clone() else { return drop("the event belongs to no merchant") };
        if event.kind().is_merchant_event() {
            return Ok(Some(Round { id: event.id.clone(), event, merchant, only: None }));
        }
        let EventData::WebhookResendRequested(request) = &event.data else { return drop("the event is not for merchants") };
        match repo::outbox::get_event(self.service.table.as_ref(), &request.event_id).await? {
            Some(original) if original.merchant_id.as_ref() == Some(&merchant) && original.kind().is_merchant_event() => {
                Ok(Some(Round { id: event.id, event: original, merchant, only: request.endpoint_id.clone() }))
            }
            _ => drop("the resend request names no event of its merchant"),
        }
    }

    /// The round's deliveries: as recorded, or, the first time, one per subscribed endpoint,
    /// created together so that every receipt of the message sees the same set.
    async fn open_round(&self, round: &Round, endpoints: &BTreeMap<WebhookEndpointId, WebhookEndpoint>) -> Result<Vec<Delivery>, AppError> {
        let table = self.service.table.as_ref();
        let recorded = repo::webhooks::deliveries(table, &round.id).await?;
        if !recorded.is_empty() {
            return Ok(recorded);
        }
        let now = self.service.clock.now();
        let fresh: Vec<Delivery> = endpoints
            .values()
            .filter(|e| e.subscribes_to(round.event.kind()) && round.only.as_ref().is_none_or(|only| only == &e.id))
            .map(|e| Delivery::new(round.id.clone(), round.event.id.clone(), e.id.clone(), round.merchant.clone(), now))
            .collect();
        if fresh.is_empty() {
            return Ok(fresh);
        }
        let writes = fresh.iter().map(|d| repo::webhooks::put_delivery(d, Condition::NotExists, now)).collect::<Result<Vec<_>, _>>()?;
        match table.transact(writes).await {
            Ok(()) => Ok(fresh),
            // A concurrent copy of the message opened the round first: work on its records.
            Err(StoreError::ConditionFailed { .. }) => Ok(repo::webhooks::deliveries(table, &round.id).await?),
            Err(e) => Err(e.into()),
        }
    }

    /// A delivery to an endpoint that no longer exists ends here.
    async fn cancel(&self, delivery: &Delivery) -> Result<(), AppError> {
        let write = repo::webhooks::put_delivery(&delivery.cancelled(), Condition::VersionIs(delivery.version), self.service.clock.now())?;
        match self.service.table.transact(vec![write]).await {
            Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[async_trait]
impl Consumer for WebhookConsumer {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError> {
        let Some(round) = self.round_of(message).await? else { return Ok(Outcome::Done) };
        let endpoints: BTreeMap<WebhookEndpointId, WebhookEndpoint> =
            repo::webhooks::all_endpoints(self.service.table.as_ref(), &round.merchant).await?.into_iter().map(|e| (e.id.clone(), e)).collect();
        let deliveries = self.open_round(&round, &endpoints).await?;
        let now = self.service.clock.now();
        let event = Arc::new(round.event);
        let mut pending: Vec<DateTime<Utc>> = Vec::new();
        // Endpoints are attempted side by side: one slow receiver must not hold up the others.
        let mut attempts = tokio::task::JoinSet::new();
        for delivery in deliveries.into_iter().filter(|d| d.state == DeliveryState::Pending) {
            let Some(endpoint) = endpoints.get(&delivery.endpoint_id) else {
                self.cancel(&delivery).await?;
                continue;
            };
            if !delivery.is_due(now) {
                pending.extend(delivery.next_at);
                continue;
            }
            attempts.spawn(attempt(self.service.clone(), self.http.clone(), endpoint.clone(), event.clone(), delivery));
        }
        // Every attempt runs to its end before an error is reported, so none is cut off half-recorded.
        let mut failure = None;
        while let Some(joined) = attempts.join_next().await {
            match joined {
                Ok(Ok(next_at)) => pending.extend(next_at),
                Ok(Err(e)) => failure = Some(e),
                Err(e) => failure = Some(Unavailable::Aborted { task: "a webhook attempt", detail: e.to_string() }.into()),
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(pending.into_iter().min().map_or(Outcome::Done, Outcome::RetryAt))
    }
}

/// One POST of `event` to `endpoint`, logged, and its delivery moved on. The answer is when
/// the delivery is due again, if it is still pending and this consumer still owns it.
async fn attempt(
    service: Arc<Service>,
    http: Arc<dyn HttpSender>,
    endpoint: WebhookEndpoint,
    event: Arc<OutboxEvent>,
    delivery: Delivery,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let sent_at = service.clock.now();
    let body = serde_json::to_vec(event.as_ref()).map_err(|e| Unavailable::Encoding(e.to_string()))?;
    let timestamp = sent_at.timestamp();
    let signature = signature_header(&endpoint.active_secrets(sent_at), event.id.as_str(), timestamp, &body);
    let request = HttpRequest {
        url: endpoint.url.as_str().to_owned(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("webhook-id".into(), event.id.to_string()),
            ("webhook-timestamp".into(), timestamp.to_string()),
            ("webhook-signature".into(), signature),
        ],
        body,
        timeout: ATTEMPT_TIMEOUT,
    };
    let started = std::time::Instant::now();
    let result = match http.post(request).await {
        Ok(answer) => AttemptResult::answered(answer.status),
        Err(e) => AttemptResult::failed(e.to_string()),
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let log = WebhookAttempt {
        endpoint_id: endpoint.id.clone(),
        event_id: event.id.clone(),
        round: delivery.round.clone(),
        attempt: delivery.attempts + 1,
        status_code: result.status,
        latency_ms,
        error: result.error.clone(),
        at: sent_at,
    };
    tracing::info!(
        endpoint = %endpoint.id, event = %event.id, attempt = log.attempt, status = ?log.status_code, latency_ms, host = %endpoint.url.host(),
        "webhook attempt"
    );
    // Logged on its own: the attempt happened whatever becomes of the delivery record.
    service.table.transact(vec![repo::webhooks::put_attempt(&log)?]).await?;
    let now = service.clock.now();
    let next = delivery.after_attempt(&result, &service.settings.webhook_retry_schedule, now);
    let mut writes = vec![repo::webhooks::put_delivery(&next, Condition::VersionIs(delivery.version), now)?];
    if next.state == DeliveryState::DeadLettered {
        writes.extend(repo::outbox::put_event(&dead_lettered(&endpoint, &event, &next, now))?);
    }
    match service.table.transact(writes).await {
        Ok(()) => Ok(next.next_at),
        // A concurrent copy of this message moved the delivery first; it carries on from there.
        Err(StoreError::ConditionFailed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The ops event of a delivery that failed its last attempt.
fn dead_lettered(endpoint: &WebhookEndpoint, event: &OutboxEvent, delivery: &Delivery, now: DateTime<Utc>) -> OutboxEvent {
    let data = DeadLetteredData {
        endpoint_id: endpoint.id.clone(),
        event_id: event.id.clone(),
        event_type: event.kind(),
        attempts: delivery.attempts,
        last_error: delivery.last_error.clone(),
        url_host: endpoint.url.host(),
    };
    OutboxEvent::new(Some(endpoint.merchant_id.clone()), EventData::WebhookDeadLettered(data), now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ResolveError;
    use std::net::IpAddr;

    /// Answers every name with the same addresses, or with a failure.
    struct Answers(Option<Vec<IpAddr>>);

    #[async_trait]
    impl HostResolver for Answers {
        async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
            self.0.clone().ok_or_else(|| ResolveError { host: host.to_owned(), reason: "no such host".into() })
        }
    }

    fn answers(addresses: &[&str]) -> Answers {
        Answers(Some(addresses.iter().map(|a| a.parse().unwrap()).collect()))
    }

    async fn check(resolver: &Answers, url: &str, allow_private: bool) -> Result<(), AppError> {
        refuse_unreachable_names(resolver, &WebhookUrl::parse(url, allow_private).unwrap(), allow_private).await
    }

    #[tokio::test]
    async fn a_name_is_refused_when_any_of_its_addresses_is_one_a_webhook_may_not_reach() {
        assert_eq!(check(&answers(&["8.8.8.8", "1.1.1.1"]), "https://hooks.example.com/x", false).await, Ok(()));
        assert!(check(&answers(&["8.8.8.8", "10.0.0.7"]), "https://hooks.example.com/x", false).await.is_err(), "one private address is enough");
        assert!(check(&answers(&["169.254.169.254"]), "http://hooks.example.com/x", true).await.is_err(), "metadata, even with private allowed");
        assert_eq!(check(&answers(&["127.0.0.1"]), "http://receiver.test/x", true).await, Ok(()));
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_refused_unless_private_webhooks_are_allowed() {
        for resolver in [Answers(None), answers(&[])] {
            let Err(AppError::Invalid { errors, .. }) = check(&resolver, "https://nowhere.example/x", false).await else { panic!("refused") };
            assert_eq!(errors[0].field, "url");
            assert_eq!(check(&resolver, "http://nowhere.example/x", true).await, Ok(()), "a developer's receiver may not be up yet");
        }
    }

    #[tokio::test]
    async fn an_address_literal_is_not_resolved() {
        assert_eq!(check(&Answers(None), "https://8.8.8.8/x", false).await, Ok(()), "the literal was checked when the URL was parsed");
    }
}
