//! `GET /v1/events?after=`: a client that always passes the last id it received sees every
//! event exactly once, in a stable order, however events commit concurrently (docs/openapi.yaml). Writers
//! here commit out of order on purpose (a table that holds some transactions back), while one
//! poller reads on; both backends.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;
use vaccount::app::{Service, Settings};
use vaccount::domain::{AccountRequest, AccountType, BankCode, EventId, Fee, Krw, MerchantId, Metadata, OrderId};
use vaccount::ports::{Item, Key, Page, Query, StoreError, SystemClock, Table, Write};
use vaccount::testing::{Backend, seed_pool, table};

use vaccount::on_both_backends;

on_both_backends!(
    a_poller_passing_the_last_id_sees_every_event_once_in_order_while_commits_land_out_of_order,
    a_poller_holding_an_event_from_before_the_feed_resumes_after_it,
);

const WRITERS: usize = 6;
const ISSUES_PER_WRITER: usize = 15;

/// Holds every other transaction back for a random while before it reaches the store, so
/// commits land out of the order their events were made in.
struct Straggling<T>(T);

#[async_trait]
impl<T: Table> Table for Straggling<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.0.get(key).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.0.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        if rand::random::<bool>() {
            tokio::time::sleep(StdDuration::from_millis(rand::random::<u64>() % 150)).await;
        }
        self.0.transact(writes).await
    }
}

fn request(order: String) -> AccountRequest {
    AccountRequest {
        order_id: order.parse::<OrderId>().unwrap(),
        kind: AccountType::OneTime,
        amount: Some(Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: None,
        allow_partial: false,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    }
}

/// Every event of the merchant, read page by page with the listing's cursor once all is quiet.
async fn full_read(service: &Service, merchant: &MerchantId) -> Vec<EventId> {
    let mut ids = Vec::new();
    let mut cursor = None;
    loop {
        let page = service.webhooks().list_events(merchant, None, None, 100, cursor).await.unwrap();
        ids.extend(page.items.into_iter().map(|e| e.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

async fn a_poller_passing_the_last_id_sees_every_event_once_in_order_while_commits_land_out_of_order(backend: Backend) {
    let t = table(backend).await;
    let stored: Arc<dyn Table> = Arc::new(Straggling(vaccount::testing::sealed(t.table.clone())));
    // The production rule with a horizon just past the commit window, so the test ends soon.
    let horizon = vaccount::repo::outbox::commit_window() + chrono::Duration::milliseconds(500);
    let settings = Settings { pool_low_threshold: 0, event_feed_horizon: horizon, ..Settings::default() };
    let service = Arc::new(Service::new(stored, Arc::new(SystemClock), settings));
    let merchant = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    seed_pool(&service, BankCode::Kookmin, "12345600000000", (WRITERS * ISSUES_PER_WRITER) as u64).await;

    let writing = Arc::new(AtomicBool::new(true));
    let poller = {
        let (service, merchant, writing) = (service.clone(), merchant.clone(), writing.clone());
        tokio::spawn(async move {
            let mut seen: Vec<EventId> = Vec::new();
            let mut quiet_since: Option<tokio::time::Instant> = None;
            let started = tokio::time::Instant::now();
            // After the last write, poll on long enough for any held-back event to become visible.
            let settle = (horizon + chrono::Duration::seconds(5)).to_std().unwrap();
            while quiet_since.is_none_or(|at| at.elapsed() < settle) {
                assert!(started.elapsed() < StdDuration::from_secs(240), "the poller never caught up");
                let page = service.webhooks().list_events(&merchant, seen.last().cloned(), None, 20, None).await.unwrap();
                seen.extend(page.items.into_iter().map(|e| e.id));
                if quiet_since.is_none() && !writing.load(Ordering::SeqCst) {
                    quiet_since = Some(tokio::time::Instant::now());
                }
                tokio::time::sleep(StdDuration::from_millis(10)).await;
            }
            seen
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (service, merchant) = (service.clone(), merchant.clone());
            tokio::spawn(async move {
                for i in 0..ISSUES_PER_WRITER {
                    service.accounts().issue_account(&merchant, None, request(format!("W{w}-{i:03}"))).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    writing.store(false, Ordering::SeqCst);
    let polled = poller.await.unwrap();

    let everything = full_read(&service, &merchant).await;
    assert_eq!(everything.len(), WRITERS * ISSUES_PER_WRITER, "one virtual_account.issued per account");
    let missed: Vec<&EventId> = everything.iter().filter(|id| !polled.contains(id)).collect();
    assert!(missed.is_empty(), "the poller missed {} of {} events: {missed:?}", missed.len(), everything.len());
    assert_eq!(polled, everything, "each event once, in the order of a full read");
}

async fn a_poller_holding_an_event_from_before_the_feed_resumes_after_it(backend: Backend) {
    let t = table(backend).await;
    let horizon = vaccount::repo::outbox::commit_window() + chrono::Duration::milliseconds(500);
    let settings = Settings { pool_low_threshold: 0, event_feed_horizon: horizon, ..Settings::default() };
    let service = Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), Arc::new(SystemClock), settings));
    let merchant = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 1).await;
    // An event as it was stored before the feed existed: the event item alone, no position.
    let old = vaccount::domain::OutboxEvent::new(
        Some(merchant.clone()),
        vaccount::testing::sample_events::data(vaccount::domain::EventType::AccountIssued),
        chrono::Utc::now() - chrono::Duration::hours(1),
    );
    let [mut event_item, _] = vaccount::repo::outbox::put_event(&old).unwrap();
    if let Write::Put { item, .. } = &mut event_item {
        item.remove("feed_position");
    }
    service.table().transact(vec![event_item]).await.unwrap();
    service.accounts().issue_account(&merchant, None, request("NEW-1".into())).await.unwrap();
    tokio::time::sleep((horizon + chrono::Duration::milliseconds(200)).to_std().unwrap()).await;
    let page = service.webhooks().list_events(&merchant, Some(old.id.clone()), None, 20, None).await.expect("the last id the poller received before the feed");
    assert_eq!(page.items.iter().map(|e| e.kind()).collect::<Vec<_>>(), [vaccount::domain::EventType::AccountIssued]);
    assert_ne!(page.items[0].id, old.id, "the events after it, not it");
}
