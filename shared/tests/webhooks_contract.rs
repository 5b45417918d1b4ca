//! Webhooks on both backends: endpoints and their secrets, deliveries to a real local HTTP
//! receiver (signatures checked, bodies compared), retries on the configured schedule, dead
//! letters, duplicates, resends, and the events feed.

use axum::body::Bytes;
use chrono::{DateTime, Duration, Utc};
use http::{HeaderMap, StatusCode};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;
use vaccount::app::consumer::{Consumer, Outcome, Received};
use vaccount::app::webhooks::WebhookConsumer;
use vaccount::app::{AppError, Service, Settings};
use vaccount::domain::event::ResendData;
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::webhook::{WebhookEndpoint, WebhookSecret};
use vaccount::domain::{EventData, EventId, EventType, Fee, Krw, MerchantId, OutboxEvent};
use vaccount::net::{OutboundHttp, SystemResolver};
use vaccount::ports::{Clock, Item, Key, Page, Query, StoreError, Table, Write};
use vaccount::repo;
use vaccount::testing::sample_events;
use vaccount::testing::{Backend, FixedClock, TestTable, sealed, table};

use vaccount::on_both_backends;

on_both_backends!(
    endpoints_are_created_listed_capped_and_deleted,
    endpoint_urls_must_reach_public_addresses,
    a_delivery_is_signed_and_carries_the_event,
    a_rotated_out_secret_signs_for_24_hours_then_stops,
    a_failing_receiver_is_retried_on_schedule_then_dead_lettered,
    a_duplicate_message_after_delivery_sends_nothing,
    a_resend_makes_one_new_delivery,
    a_deleted_endpoint_stops_its_deliveries,
    an_endpoints_dead_letters_are_resent_once_and_to_it_alone,
    undeliverable_messages_are_dropped,
    events_are_listed_oldest_first_across_shards,
    the_routes_answer_as_the_contract_says,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

fn schedule() -> Vec<Duration> {
    vec![Duration::seconds(5), Duration::minutes(5), Duration::minutes(30)]
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    consumer: WebhookConsumer,
    merchant: MerchantId,
    key_id: String,
    secret: String,
}

async fn world(backend: Backend, allow_private: bool) -> World {
    let t = table(backend).await;
    let clock = FixedClock::new(t0());
    // No feed horizon: these tests write, then list, one at a time (the concurrent feed test
    // keeps the real rule, event_feed_contract.rs).
    let settings =
        Settings { allow_private_webhooks: allow_private, webhook_retry_schedule: schedule(), event_feed_horizon: Duration::zero(), ..Settings::default() };
    let service = Arc::new(Service::new(sealed(t.table.clone()), clock.clone(), settings));
    let created = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    let consumer = WebhookConsumer::new(service.clone(), Arc::new(OutboundHttp::guarded(allow_private).unwrap()));
    World { _t: t, clock, service, consumer, merchant: created.merchant_id, key_id: created.key_id.to_string(), secret: created.secret }
}

/// One request the receiver got.
#[derive(Clone)]
struct Hit {
    headers: HeaderMap,
    body: Bytes,
}

/// A real HTTP server on a free loopback port that records what it receives and answers with
/// a settable status.
struct Receiver {
    url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(status));
        let (recorded, answer) = (hits.clone(), status.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| async move {
                recorded.lock().unwrap().push(Hit { headers, body });
                StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap()
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, hits, status }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

fn header<'a>(hit: &'a Hit, name: &str) -> &'a str {
    hit.headers.get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap()
}

/// A merchant event, stored in the outbox as a use case would have written it.
async fn merchant_event(w: &World, kind: EventType) -> OutboxEvent {
    let event = OutboxEvent::new(Some(w.merchant.clone()), sample_events::data(kind), w.clock.now());
    w.service.table().transact(repo::outbox::put_event(&event).unwrap().to_vec()).await.unwrap();
    event
}

fn message(event: &OutboxEvent) -> Received {
    Received { id: format!("msg-{}", event.id), body: serde_json::to_string(event).unwrap(), receive_count: 1 }
}

async fn endpoint(w: &World, url: &str, types: Option<Vec<EventType>>) -> WebhookEndpoint {
    w.service.webhooks().create_webhook_endpoint(&w.merchant, url, types, &SystemResolver).await.unwrap()
}

async fn endpoints_are_created_listed_capped_and_deleted(backend: Backend) {
    let w = world(backend, false).await;
    let first = endpoint(&w, "https://8.8.8.8/hooks/vaccount", Some(vec![EventType::AccountPaid])).await;
    assert!(first.current_secret().unwrap().to_string().starts_with("whsec_"));
    assert_eq!(first.event_types, Some(vec![EventType::AccountPaid]));
    for _ in 1..10 {
        // Ids order endpoints by creation time; the fixed clock must move for that order to show.
        w.clock.advance(Duration::milliseconds(1));
        endpoint(&w, "https://1.1.1.1/hook", None).await;
    }
    let eleventh = w.service.webhooks().create_webhook_endpoint(&w.merchant, "https://1.1.1.1/hook", None, &SystemResolver).await;
    assert!(matches!(eleventh, Err(AppError::Conflict(_))), "{eleventh:?}");

    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = w.service.webhooks().list_webhook_endpoints(&w.merchant, 4, after).await.unwrap();
        listed.extend(page.items.into_iter().map(|e| e.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(listed.len(), 10);
    assert_eq!(listed[0], first.id);

    let stranger = w.service.setup().create_merchant("Other", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    assert_eq!(w.service.webhooks().delete_webhook_endpoint(&stranger, &first.id).await, Err(AppError::NotFound));
    assert_eq!(w.service.webhooks().rotate_webhook_secret(&stranger, &first.id).await.unwrap_err(), AppError::NotFound);
    w.service.webhooks().delete_webhook_endpoint(&w.merchant, &first.id).await.unwrap();
    assert_eq!(w.service.webhooks().delete_webhook_endpoint(&w.merchant, &first.id).await, Err(AppError::NotFound));
    assert_eq!(w.service.webhooks().list_webhook_endpoints(&w.merchant, 20, None).await.unwrap().items.len(), 9);
    // The freed place can be taken again.
    endpoint(&w, "https://1.1.1.1/again", None).await;
}

async fn endpoint_urls_must_reach_public_addresses(backend: Backend) {
    let w = world(backend, false).await;
    for url in ["https://127.0.0.1/hook", "https://169.254.169.254/latest", "http://8.8.8.8/hook", "https://localhost/hook", "https://u:p@8.8.8.8/"] {
        let refused = w.service.webhooks().create_webhook_endpoint(&w.merchant, url, None, &SystemResolver).await;
        assert!(matches!(&refused, Err(AppError::Invalid { errors, .. }) if errors[0].field == "url"), "{url}: {refused:?}");
    }
    let internal = w.service.webhooks().create_webhook_endpoint(&w.merchant, "https://8.8.8.8/hook", Some(vec![EventType::PoolLow]), &SystemResolver).await;
    assert!(matches!(&internal, Err(AppError::Invalid { errors, .. }) if errors[0].field == "event_types"), "{internal:?}");
    assert!(w.service.webhooks().list_webhook_endpoints(&w.merchant, 20, None).await.unwrap().items.is_empty());

    let local = world(backend, true).await;
    endpoint(&local, "http://127.0.0.1:9/hook", None).await;
}

async fn a_delivery_is_signed_and_carries_the_event(backend: Backend) {
    let w = world(backend, true).await;
    let paid_receiver = Receiver::start(200).await;
    let other_receiver = Receiver::start(200).await;
    let subscribed = endpoint(&w, &paid_receiver.url, Some(vec![EventType::AccountPaid])).await;
    endpoint(&w, &other_receiver.url, Some(vec![EventType::DepositMatched])).await;
    let event = merchant_event(&w, EventType::AccountPaid).await;

    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::Done);

    let hits = paid_receiver.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(header(hit, "content-type"), "application/json");
    assert_eq!(header(hit, "webhook-id"), event.id.as_str());
    let timestamp: i64 = header(hit, "webhook-timestamp").parse().unwrap();
    assert_eq!(timestamp, t0().timestamp());
    let secret = subscribed.current_secret().unwrap();
    assert!(secret.verifies(header(hit, "webhook-signature"), event.id.as_str(), timestamp, &hit.body));
    assert!(!WebhookSecret::generate().verifies(header(hit, "webhook-signature"), event.id.as_str(), timestamp, &hit.body));
    let body: serde_json::Value = serde_json::from_slice(&hit.body).unwrap();
    assert_eq!(body, serde_json::to_value(&event).unwrap());
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["data", "id", "merchant_id", "occurred_at", "type"]);
    assert!(other_receiver.hits().is_empty(), "an endpoint gets only the types it subscribed to");

    let attempts = w.service.webhooks().list_webhook_attempts(&w.merchant, &subscribed.id, 20, None).await.unwrap().items;
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].attempt, attempts[0].status_code, attempts[0].error.clone()), (1, Some(200), None));
    assert_eq!((&attempts[0].event_id, attempts[0].at), (&event.id, t0()));
}

async fn a_rotated_out_secret_signs_for_24_hours_then_stops(backend: Backend) {
    let w = world(backend, true).await;
    let receiver = Receiver::start(204).await;
    let created = endpoint(&w, &receiver.url, None).await;
    let old = created.current_secret().unwrap().clone();
    let rotated = w.service.webhooks().rotate_webhook_secret(&w.merchant, &created.id).await.unwrap();
    assert_eq!(rotated.previous_secret_expires_at, t0() + Duration::hours(24));
    assert_ne!(rotated.secret, old);

    let verified_by = |hit: &Hit, secret: &WebhookSecret| {
        let timestamp: i64 = header(hit, "webhook-timestamp").parse().unwrap();
        secret.verifies(header(hit, "webhook-signature"), header(hit, "webhook-id"), timestamp, &hit.body)
    };
    w.clock.advance(Duration::hours(23));
    let early = merchant_event(&w, EventType::DepositMatched).await;
    w.consumer.consume(&message(&early)).await.unwrap();
    let hit = receiver.hits()[0].clone();
    assert!(verified_by(&hit, &old) && verified_by(&hit, &rotated.secret), "both secrets sign during the overlap");
    assert_eq!(header(&hit, "webhook-signature").split(' ').count(), 2);

    w.clock.advance(Duration::hours(1));
    let late = merchant_event(&w, EventType::DepositMatched).await;
    w.consumer.consume(&message(&late)).await.unwrap();
    let hit = receiver.hits()[1].clone();
    assert!(verified_by(&hit, &rotated.secret));
    assert!(!verified_by(&hit, &old), "the old secret stops signing after 24 h");
}

async fn a_failing_receiver_is_retried_on_schedule_then_dead_lettered(backend: Backend) {
    let w = world(backend, true).await;
    let receiver = Receiver::start(500).await;
    let target = endpoint(&w, &receiver.url, None).await;
    let event = merchant_event(&w, EventType::AccountExpired).await;
    let mut at = t0();
    for wait in schedule() {
        let outcome = w.consumer.consume(&message(&event)).await.unwrap();
        assert_eq!(outcome, Outcome::RetryAt(at + wait));
        // Back before it is due: nothing is sent, the same time is asked for.
        assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::RetryAt(at + wait));
        at += wait;
        w.clock.advance(wait);
    }
    assert!(repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap().is_empty());
    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::Done);
    assert_eq!(receiver.hits().len(), 4, "one attempt and three retries");

    let attempts = w.service.webhooks().list_webhook_attempts(&w.merchant, &target.id, 20, None).await.unwrap().items;
    assert_eq!(attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(), [4, 3, 2, 1], "newest first");
    assert!(attempts.iter().all(|a| a.status_code == Some(500) && a.error.as_deref() == Some("HTTP 500")));
    let first_page = w.service.webhooks().list_webhook_attempts(&w.merchant, &target.id, 3, None).await.unwrap();
    let rest = w.service.webhooks().list_webhook_attempts(&w.merchant, &target.id, 3, first_page.next).await.unwrap();
    assert_eq!(rest.items.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1]);

    let ops = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    assert_eq!(ops.len(), 1);
    let alert = &ops[0];
    assert_eq!(alert.merchant_id.as_ref(), Some(&w.merchant));
    let EventData::WebhookDeadLettered(dead) = &alert.data else { panic!("not webhook.dead_lettered: {alert:?}") };
    assert_eq!((&dead.endpoint_id, &dead.event_id, dead.event_type, dead.attempts), (&target.id, &event.id, EventType::AccountExpired, 4));
    assert_eq!((dead.last_error.as_deref(), dead.url_host.as_str()), (Some("HTTP 500"), "127.0.0.1"));

    // The message again, after all that: nothing more is sent.
    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::Done);
    assert_eq!(receiver.hits().len(), 4);
}

async fn a_duplicate_message_after_delivery_sends_nothing(backend: Backend) {
    let w = world(backend, true).await;
    let receiver = Receiver::start(200).await;
    endpoint(&w, &receiver.url, None).await;
    let event = merchant_event(&w, EventType::AccountIssued).await;
    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::Done);
    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::Done);
    assert_eq!(receiver.hits().len(), 1);
}

async fn a_resend_makes_one_new_delivery(backend: Backend) {
    let w = world(backend, true).await;
    let receiver = Receiver::start(200).await;
    endpoint(&w, &receiver.url, None).await;
    let event = merchant_event(&w, EventType::AccountPaid).await;
    w.consumer.consume(&message(&event)).await.unwrap();

    w.clock.advance(Duration::minutes(1));
    let request = w.service.webhooks().resend_event(&w.merchant, &event.id).await.unwrap();
    assert_eq!(request.data, EventData::WebhookResendRequested(ResendData { event_id: event.id.clone(), endpoint_id: None }));
    let queued = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    assert_eq!(queued, vec![request.clone()], "the request is an outbox event, written by the resend");
    assert_eq!(w.consumer.consume(&message(&request)).await.unwrap(), Outcome::Done);
    assert_eq!(w.consumer.consume(&message(&request)).await.unwrap(), Outcome::Done);

    let hits = receiver.hits();
    assert_eq!(hits.len(), 2, "the original delivery and one resend");
    assert_eq!(header(&hits[1], "webhook-id"), event.id.as_str());
    assert_eq!(hits[1].body, hits[0].body);
    assert_eq!(header(&hits[1], "webhook-timestamp"), (t0() + Duration::minutes(1)).timestamp().to_string());

    let stranger = w.service.setup().create_merchant("Other", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    assert_eq!(w.service.webhooks().resend_event(&stranger, &event.id).await, Err(AppError::NotFound));
    assert_eq!(w.service.webhooks().resend_event(&w.merchant, &EventId::generate(t0())).await, Err(AppError::NotFound));
    assert_eq!(w.service.webhooks().resend_event(&w.merchant, &request.id).await, Err(AppError::NotFound), "internal events are not resent");
}

async fn a_deleted_endpoint_stops_its_deliveries(backend: Backend) {
    let w = world(backend, true).await;
    let receiver = Receiver::start(503).await;
    let target = endpoint(&w, &receiver.url, None).await;
    let event = merchant_event(&w, EventType::AccountClosed).await;
    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::RetryAt(t0() + Duration::seconds(5)));
    w.service.webhooks().delete_webhook_endpoint(&w.merchant, &target.id).await.unwrap();
    w.clock.advance(Duration::seconds(5));
    receiver.status.store(200, Ordering::SeqCst);
    assert_eq!(w.consumer.consume(&message(&event)).await.unwrap(), Outcome::Done);
    assert_eq!(receiver.hits().len(), 1);
    assert!(repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap().is_empty(), "a stopped delivery is not dead-lettered");
}

/// Delivers `event` through its whole retry schedule.
async fn run_out_the_schedule(w: &World, event: &OutboxEvent) {
    for wait in schedule() {
        w.consumer.consume(&message(event)).await.unwrap();
        w.clock.advance(wait);
    }
    assert_eq!(w.consumer.consume(&message(event)).await.unwrap(), Outcome::Done);
}

async fn an_endpoints_dead_letters_are_resent_once_and_to_it_alone(backend: Backend) {
    let w = world(backend, true).await;
    let (down, up) = (Receiver::start(500).await, Receiver::start(200).await);
    let failing = endpoint(&w, &down.url, None).await;
    endpoint(&w, &up.url, None).await;
    let events = [merchant_event(&w, EventType::AccountPaid).await, merchant_event(&w, EventType::AccountExpired).await];
    for event in &events {
        run_out_the_schedule(&w, event).await;
    }
    assert_eq!((down.hits().len(), up.hits().len()), (8, 2), "four attempts each to the failing endpoint, one each to the other");

    // The endpoint is fixed; the operator clicks twice at once.
    down.status.store(200, Ordering::SeqCst);
    w.clock.advance(Duration::minutes(1));
    let webhooks = w.service.webhooks();
    let (first, second) = tokio::join!(webhooks.resend_dead_letters(&failing.id), webhooks.resend_dead_letters(&failing.id));
    let (first, second) = (first.unwrap(), second.unwrap());
    let mut resent: Vec<EventId> = first.resent.iter().chain(&second.resent).map(|r| r.event_id.clone()).collect();
    resent.sort();
    let mut expected: Vec<EventId> = events.iter().map(|e| e.id.clone()).collect();
    expected.sort();
    assert_eq!(resent, expected, "each dead letter got exactly one fresh round");
    assert!(!first.more && !second.more);
    let again = webhooks.resend_dead_letters(&failing.id).await.unwrap();
    assert!(again.resent.is_empty() && !again.more, "nothing waits any more: {again:?}");

    let requests: Vec<OutboxEvent> =
        repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap().into_iter().filter(|e| e.kind() == EventType::WebhookResendRequested).collect();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        let EventData::WebhookResendRequested(data) = &request.data else { unreachable!() };
        assert_eq!(data.endpoint_id.as_ref(), Some(&failing.id));
        assert_eq!(w.consumer.consume(&message(request)).await.unwrap(), Outcome::Done);
    }
    assert_eq!(down.hits().len(), 10, "one more delivery of each event to the fixed endpoint");
    assert_eq!(up.hits().len(), 2, "the endpoint that had them gets nothing again");
    let mut delivered: Vec<String> = down.hits()[8..].iter().map(|h| header(h, "webhook-id").to_owned()).collect();
    delivered.sort();
    assert_eq!(delivered, expected.iter().map(ToString::to_string).collect::<Vec<_>>());

    // An endpoint deleted since its deliveries died: nothing to resend them to.
    let gone = endpoint(&w, &down.url, None).await;
    down.status.store(500, Ordering::SeqCst);
    let third = merchant_event(&w, EventType::AccountClosed).await;
    run_out_the_schedule(&w, &third).await;
    w.service.webhooks().delete_webhook_endpoint(&w.merchant, &gone.id).await.unwrap();
    assert_eq!(webhooks.resend_dead_letters(&gone.id).await, Err(AppError::NotFound));
}

/// A table whose every call fails, as an unreachable store does.
struct Unreachable;

#[async_trait::async_trait]
impl Table for Unreachable {
    async fn get(&self, _: &Key) -> Result<Option<Item>, StoreError> {
        Err(StoreError::Unavailable("unreachable".into()))
    }
    async fn query(&self, _: &Query) -> Result<Page, StoreError> {
        Err(StoreError::Unavailable("unreachable".into()))
    }
    async fn transact(&self, _: Vec<Write>) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("unreachable".into()))
    }
}

async fn undeliverable_messages_are_dropped(backend: Backend) {
    let w = world(backend, true).await;
    let receiver = Receiver::start(200).await;
    endpoint(&w, &receiver.url, None).await;
    let garbage = Received { id: "m1".into(), body: "not json".into(), receive_count: 1 };
    assert_eq!(w.consumer.consume(&garbage).await.unwrap(), Outcome::Done);
    let ops = OutboxEvent::new(None, sample_events::data(EventType::PoolLow), t0());
    assert_eq!(w.consumer.consume(&message(&ops)).await.unwrap(), Outcome::Done);
    let dangling = OutboxEvent::new(
        Some(w.merchant.clone()),
        EventData::WebhookResendRequested(ResendData { event_id: EventId::generate(t0()), endpoint_id: None }),
        t0(),
    );
    assert_eq!(w.consumer.consume(&message(&dangling)).await.unwrap(), Outcome::Done);
    assert!(receiver.hits().is_empty());

    // A store failure is not the message's fault: it comes back.
    let broken = Arc::new(Service::new(Arc::new(Unreachable), w.clock.clone(), w.service.settings().clone()));
    let consumer = WebhookConsumer::new(broken, Arc::new(OutboundHttp::guarded(true).unwrap()));
    let event = OutboxEvent::new(Some(w.merchant.clone()), sample_events::data(EventType::AccountPaid), t0());
    assert!(consumer.consume(&message(&event)).await.is_err());
}

async fn events_are_listed_oldest_first_across_shards(backend: Backend) {
    let w = world(backend, true).await;
    let mut events = Vec::new();
    for i in 0..24 {
        w.clock.advance(Duration::milliseconds(7));
        let kind = if i % 3 == 0 { EventType::AccountPaid } else { EventType::DepositMatched };
        events.push(merchant_event(&w, kind).await);
    }
    let shards: std::collections::BTreeSet<u8> = events.iter().map(|e| repo::shard_of(e.id.as_str(), repo::outbox::EVENT_SHARDS)).collect();
    assert!(shards.len() > 1, "the events spread over shards");
    let stranger = w.service.setup().create_merchant("Other", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    let theirs = OutboxEvent::new(Some(stranger), sample_events::data(EventType::AccountPaid), t0() + Duration::milliseconds(50));
    w.service.table().transact(repo::outbox::put_event(&theirs).unwrap().to_vec()).await.unwrap();

    let collect = |after: Option<EventId>, kind: Option<EventType>, limit: usize| {
        let (service, merchant) = (w.service.clone(), w.merchant.clone());
        async move {
            let mut seen = Vec::new();
            let mut cursor = None;
            for _ in 0..100 {
                let page = service.webhooks().list_events(&merchant, after.clone(), kind, limit, cursor).await.unwrap();
                assert!(page.items.len() <= limit);
                seen.extend(page.items.into_iter().map(|e| e.id));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return seen,
                }
            }
            panic!("paging did not end");
        }
    };
    let ids: Vec<EventId> = events.iter().map(|e| e.id.clone()).collect();
    assert_eq!(collect(None, None, 5).await, ids, "every event, oldest first, merged across shards");
    assert_eq!(collect(Some(ids[9].clone()), None, 4).await, ids[10..].to_vec(), "strictly after `after`");
    let paid: Vec<EventId> = events.iter().filter(|e| e.kind() == EventType::AccountPaid).map(|e| e.id.clone()).collect();
    assert_eq!(collect(None, Some(EventType::AccountPaid), 3).await, paid);
    assert_eq!(collect(Some(ids[23].clone()), None, 5).await, Vec::<EventId>::new());
    let internal = w.service.webhooks().list_events(&w.merchant, None, Some(EventType::PoolLow), 5, None).await;
    assert!(matches!(internal, Err(AppError::Invalid { .. })));
}

/// Sends a signed merchant request through the router.
async fn call(w: &World, router: &axum::Router, method: &str, target: &str, body: &str) -> (StatusCode, serde_json::Value) {
    let timestamp = w.clock.now().timestamp();
    let signature = vaccount::testing::sign(&w.secret, timestamp, method, target, body.as_bytes());
    let mut request = http::Request::builder()
        .method(method)
        .uri(target)
        .header("x-va-key-id", &w.key_id)
        .header("x-va-timestamp", timestamp.to_string())
        .header("x-va-signature", signature);
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    let response = router.clone().oneshot(request.body(axum::body::Body::from(body.to_owned())).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

async fn the_routes_answer_as_the_contract_says(backend: Backend) {
    let w = world(backend, true).await;
    let router = vaccount::http::webhooks::webhook_routes(w.service.clone(), Arc::new(SystemResolver));
    let (status, created) =
        call(&w, &router, "POST", "/v1/webhook-endpoints", r#"{"url":"http://127.0.0.1:9/hook","event_types":["virtual_account.paid"]}"#).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["event_types"], serde_json::json!(["virtual_account.paid"]));
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, listed) = call(&w, &router, "GET", "/v1/webhook-endpoints", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["data"][0]["id"], id.as_str());
    assert!(listed["data"][0].get("secret").is_none(), "the secret is shown only at creation");
    assert_eq!(listed["next_cursor"], serde_json::Value::Null);

    let (status, rotated) = call(&w, &router, "POST", &format!("/v1/webhook-endpoints/{id}/rotate-secret"), "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rotated["previous_secret_expires_at"], "2026-11-25T10:00:00+09:00");
    assert_ne!(rotated["secret"], created["secret"]);

    let (status, bad) = call(&w, &router, "POST", "/v1/webhook-endpoints", r#"{"url":"ftp://x","event_types":["pool.low"],"colour":1}"#).await;
    assert_eq!((status, bad["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")));
    let (status, bad) = call(&w, &router, "POST", "/v1/webhook-endpoints", r#"{"url":"ftp://x","event_types":["pool.low"]}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["errors"][0]["field"], "event_types[0]");

    let event = merchant_event(&w, EventType::AccountPaid).await;
    let (status, page) = call(&w, &router, "GET", "/v1/events?type=virtual_account.paid&limit=5", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["data"], serde_json::json!([serde_json::to_value(&event).unwrap()]));
    assert_eq!(call(&w, &router, "GET", "/v1/events?type=pool.low", "").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call(&w, &router, "GET", "/v1/events?after=evt_nope", "").await.0, StatusCode::BAD_REQUEST);

    let (status, resent) = call(&w, &router, "POST", &format!("/v1/events/{}/resend", event.id), "").await;
    assert_eq!((status, resent["event_id"].as_str()), (StatusCode::ACCEPTED, Some(event.id.as_str())));
    assert_eq!(call(&w, &router, "POST", "/v1/events/evt_01KWFX0000000000000000EV99/resend", "").await.0, StatusCode::NOT_FOUND);

    let (status, attempts) = call(&w, &router, "GET", &format!("/v1/webhook-endpoints/{id}/attempts"), "").await;
    assert_eq!((status, attempts["data"].clone()), (StatusCode::OK, serde_json::json!([])));
    assert_eq!(call(&w, &router, "DELETE", &format!("/v1/webhook-endpoints/{id}"), "").await.0, StatusCode::NO_CONTENT);
    assert_eq!(call(&w, &router, "DELETE", &format!("/v1/webhook-endpoints/{id}"), "").await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&w, &router, "GET", &format!("/v1/webhook-endpoints/{id}/attempts"), "").await.0, StatusCode::NOT_FOUND);
}
