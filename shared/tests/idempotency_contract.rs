//! `Idempotency-Key` across a lost answer, on both backends: a request whose effect committed
//! but whose process died (or whose client hung up) before anything else happened is replayed
//! to every later retry with its key, never run a second time.
//!
//! The crash is simulated below the service: a table that commits the request's effect and
//! then never answers, so the request future is dropped right after the commit, as hyper
//! drops a handler whose client disconnected.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use http::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use tower::ServiceExt;
use vaccount::app::{Service, Settings};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{BankCode, EventType, Fee, Krw, MerchantId, WebhookEndpointId};
use vaccount::ports::{Clock, Item, Key, Page, Query, StoreError, Table, Write};
use vaccount::repo;
use vaccount::testing::{Backend, FixedClock, TestTable, sealed, seed_pool, table};

use vaccount::on_both_backends;

on_both_backends!(
    a_created_endpoint_whose_answer_was_lost_is_replayed_with_its_secret,
    a_committed_close_whose_answer_was_lost_is_replayed_not_refused,
    a_rotation_whose_answer_was_lost_is_replayed_and_rotates_once,
    a_resend_whose_answer_was_lost_is_replayed_and_queues_once,
    an_issue_whose_answer_was_lost_is_replayed_and_issues_once,
    an_answer_without_effect_is_still_replayed,
    a_holder_whose_key_was_taken_over_commits_nothing,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

/// A table that, once armed, lets the first transaction touching anything but an idempotency
/// record commit and then hangs forever: the process "dies" between the commit and whatever the
/// request would have done next.
struct CrashAfterEffect {
    inner: Arc<dyn Table>,
    armed: AtomicBool,
    committed: Notify,
}

fn is_effect(writes: &[Write]) -> bool {
    writes.iter().any(|w| w.key().is_some_and(|k| !k.pk.starts_with("IDEM#")))
}

#[async_trait]
impl Table for CrashAfterEffect {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let crash = is_effect(&writes) && self.armed.swap(false, Ordering::SeqCst);
        self.inner.transact(writes).await?;
        if crash {
            self.committed.notify_one();
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    crash: Arc<CrashAfterEffect>,
    router: axum::Router,
    merchant: MerchantId,
    key_id: String,
    secret: String,
}

struct Answer {
    status: StatusCode,
    replayed: bool,
    body: serde_json::Value,
}

async fn world(backend: Backend) -> World {
    let t = table(backend).await;
    let clock = FixedClock::new(t0());
    let crash = Arc::new(CrashAfterEffect { inner: sealed(t.table.clone()), armed: AtomicBool::new(false), committed: Notify::new() });
    let settings = Settings { allow_private_webhooks: true, ..Settings::default() };
    let service = Arc::new(Service::new(crash.clone(), clock.clone(), settings));
    let created = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 5).await;
    let router = vaccount::http::all_routes(service.clone(), None, Arc::new(vaccount::net::SystemResolver));
    World { _t: t, clock, service, crash, router, merchant: created.merchant_id, key_id: created.key_id.to_string(), secret: created.secret }
}

impl World {
    async fn call(&self, method: &str, target: &str, body: &str, key: Option<&str>) -> Answer {
        let timestamp = self.clock.now().timestamp();
        let signature = vaccount::testing::sign(&self.secret, timestamp, method, target, body.as_bytes());
        let mut request = http::Request::builder()
            .method(method)
            .uri(target)
            .header("x-va-key-id", &self.key_id)
            .header("x-va-timestamp", timestamp.to_string())
            .header("x-va-signature", signature);
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/json");
        }
        let response = self.router.clone().oneshot(request.body(axum::body::Body::from(body.to_owned())).unwrap()).await.unwrap();
        let status = response.status();
        let replayed = response.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        Answer { status, replayed, body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null) }
    }

    /// Sends the request, lets its effect commit, drops it before it can do anything more, then
    /// waits out the key's lease, as a client that retries later would.
    async fn lose_the_answer(&self, method: &str, target: &str, body: &str, key: &str) {
        self.crash.armed.store(true, Ordering::SeqCst);
        tokio::select! {
            answer = self.call(method, target, body, Some(key)) => {
                panic!("the request should have been cut off after its commit; it answered {} {}", answer.status, answer.body)
            }
            () = self.crash.committed.notified() => {}
        }
        self.clock.advance(self.service.settings().idempotency_lease + Duration::seconds(1));
    }

    async fn endpoint(&self, id: &str) -> vaccount::domain::webhook::WebhookEndpoint {
        let id: WebhookEndpointId = id.parse().unwrap();
        repo::webhooks::get_endpoint(self.service.table().as_ref(), &self.merchant, &id).await.unwrap().expect("the endpoint exists")
    }
}

const HOOK: &str = r#"{"url":"http://127.0.0.1:9/hook"}"#;

async fn a_created_endpoint_whose_answer_was_lost_is_replayed_with_its_secret(backend: Backend) {
    let w = world(backend).await;
    w.lose_the_answer("POST", "/v1/webhook-endpoints", HOOK, "create-1").await;

    let retry = w.call("POST", "/v1/webhook-endpoints", HOOK, Some("create-1")).await;
    assert_eq!((retry.status, retry.replayed), (StatusCode::CREATED, true), "{}", retry.body);
    let listed = w.call("GET", "/v1/webhook-endpoints", "", None).await;
    let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [retry.body["id"].as_str().unwrap()], "one endpoint, the one the replay names");
    let stored = w.endpoint(ids[0]).await;
    assert_eq!(stored.current_secret().map(ToString::to_string).as_deref(), retry.body["secret"].as_str(), "the replay carries the secret that signs");
}

async fn a_committed_close_whose_answer_was_lost_is_replayed_not_refused(backend: Backend) {
    let w = world(backend).await;
    let issued = w.call("POST", "/v1/virtual-accounts", r#"{"order_id":"A-1","amount":35000,"bank_code":"004"}"#, None).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let close = format!("/v1/virtual-accounts/{}/close", issued.body["id"].as_str().unwrap());
    w.lose_the_answer("POST", &close, "", "close-1").await;

    let retry = w.call("POST", &close, "", Some("close-1")).await;
    assert_eq!((retry.status, retry.replayed), (StatusCode::OK, true), "{}", retry.body);
    assert_eq!(retry.body["status"], "closed");
    assert_eq!(retry.body["version"], issued.body["version"].as_u64().unwrap() + 1, "closed once");
}

async fn a_rotation_whose_answer_was_lost_is_replayed_and_rotates_once(backend: Backend) {
    let w = world(backend).await;
    let created = w.call("POST", "/v1/webhook-endpoints", HOOK, None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let rotate = format!("/v1/webhook-endpoints/{id}/rotate-secret");
    w.lose_the_answer("POST", &rotate, "", "rotate-1").await;

    let retry = w.call("POST", &rotate, "", Some("rotate-1")).await;
    assert_eq!((retry.status, retry.replayed), (StatusCode::OK, true), "{}", retry.body);
    let stored = w.endpoint(id).await;
    let secrets: Vec<String> = stored.secrets.iter().map(|s| s.secret.to_string()).collect();
    assert_eq!(
        secrets,
        [retry.body["secret"].as_str().unwrap(), created.body["secret"].as_str().unwrap()],
        "rotated once: the replayed secret signs beside the one the merchant still uses"
    );
}

async fn a_resend_whose_answer_was_lost_is_replayed_and_queues_once(backend: Backend) {
    let w = world(backend).await;
    let issued = w.call("POST", "/v1/virtual-accounts", r#"{"order_id":"A-1","amount":35000,"bank_code":"004"}"#, None).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let events = repo::outbox::all_for(w.service.table().as_ref(), w.merchant.as_str()).await.unwrap();
    let resend = format!("/v1/events/{}/resend", events[0].id);
    w.lose_the_answer("POST", &resend, "", "resend-1").await;

    let retry = w.call("POST", &resend, "", Some("resend-1")).await;
    assert_eq!((retry.status, retry.replayed), (StatusCode::ACCEPTED, true), "{}", retry.body);
    let requests: Vec<String> = repo::outbox::all_for(w.service.table().as_ref(), "ops")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind() == EventType::WebhookResendRequested)
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(requests, [retry.body["resend_id"].as_str().unwrap()], "one resend, the one the replay names");
}

async fn an_issue_whose_answer_was_lost_is_replayed_and_issues_once(backend: Backend) {
    let w = world(backend).await;
    let body = r#"{"order_id":"A-1","amount":35000,"bank_code":"004"}"#;
    w.lose_the_answer("POST", "/v1/virtual-accounts", body, "issue-1").await;

    let retry = w.call("POST", "/v1/virtual-accounts", body, Some("issue-1")).await;
    assert_eq!((retry.status, retry.replayed), (StatusCode::CREATED, true), "{}", retry.body);
    let listed = w.call("GET", "/v1/virtual-accounts", "", None).await;
    let ids: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [retry.body["id"].as_str().unwrap()]);
}

/// A refusal changes nothing, so it needs no transaction of its own effect: it is stored after
/// it is decided, and replayed like any other answer.
async fn an_answer_without_effect_is_still_replayed(backend: Backend) {
    let w = world(backend).await;
    let missing = "/v1/virtual-accounts/va_01KWFX0000000000000000VA01/close";
    let first = w.call("POST", missing, "", Some("close-missing")).await;
    assert_eq!((first.status, first.replayed), (StatusCode::NOT_FOUND, false), "{}", first.body);
    let again = w.call("POST", missing, "", Some("close-missing")).await;
    assert_eq!((again.status, again.replayed, &again.body), (StatusCode::NOT_FOUND, true, &first.body));
}

/// A holder that outlived its lease lost the key to a retry: its effect must not commit beside
/// the retry's, so its transaction fails on the record and changes nothing.
async fn a_holder_whose_key_was_taken_over_commits_nothing(backend: Backend) {
    use vaccount::app::AppError;
    use vaccount::app::idempotency::{Claim, Hold, Receipt};
    let w = world(backend).await;
    let issued = w.call("POST", "/v1/virtual-accounts", r#"{"order_id":"A-1","amount":35000,"bank_code":"004"}"#, None).await;
    let id: vaccount::domain::VirtualAccountId = issued.body["id"].as_str().unwrap().parse().unwrap();
    let Claim::Proceed(slow) = w.service.idempotency().claim_idempotent(&w.merchant, "close-1", "fp".into()).await.unwrap() else {
        panic!("first claim proceeds")
    };
    w.clock.advance(w.service.settings().idempotency_lease + Duration::seconds(1));
    let Claim::Proceed(_retry) = w.service.idempotency().claim_idempotent(&w.merchant, "close-1", "fp".into()).await.unwrap() else {
        panic!("the lease ran out")
    };

    let slow = Hold::new(slow);
    let answer = |_: &vaccount::domain::VirtualAccount| Ok((200, "closed".to_owned()));
    let outcome = w.service.accounts().close_account_with(&w.merchant, &id, &Receipt::new(Some(&slow), &answer)).await;
    assert_eq!(outcome.map(|a| a.status), Err(AppError::IdempotencyInFlight));
    assert_eq!(w.service.accounts().get_account(&w.merchant, &id).await.unwrap().status, vaccount::domain::Status::Waiting);
    assert_eq!(slow.committed_answer(), None);
}
