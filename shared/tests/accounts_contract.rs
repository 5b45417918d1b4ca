//! Use-case behaviour of virtual accounts and idempotency, on both backends.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;
use vaccount::app::idempotency::Claim;
use vaccount::app::{AppError, Service, Settings};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{AccountRequest, AccountType, BankCode, EventData, EventType, Krw, MerchantId, Metadata, NumberState, OrderId, Status};
use vaccount::repo;
use vaccount::repo::accounts::ListFilter;
use vaccount::testing::{Backend, FixedClock, TestTable, seed_pool, table};

use vaccount::on_both_backends;

on_both_backends!(
    an_issued_account_is_waiting_and_its_event_is_stored_with_it,
    a_duplicate_order_is_a_conflict_and_consumes_no_number,
    another_merchants_account_is_not_found,
    closing_releases_the_number_only_after_the_cooldown,
    an_empty_pool_is_exhausted_and_raises_pool_low_once,
    running_low_raises_pool_low,
    concurrent_issues_get_distinct_numbers,
    listing_pages_newest_first_and_filters,
    idempotency_replays_refuses_and_recovers_from_a_crashed_holder,
    two_active_keys_rotate_without_downtime,
    a_retry_under_the_same_key_gets_the_account_its_lost_attempt_created,
    personal_data_and_secrets_are_sealed_at_rest,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    merchant: MerchantId,
}

async fn world(backend: Backend, settings: Settings, pool: u64) -> World {
    let t = table(backend).await;
    let clock = FixedClock::new(t0());
    let service = Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), clock.clone(), settings));
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    if pool > 0 {
        seed_pool(&service, BankCode::Kookmin, "12345600000000", pool).await;
    }
    World { t, clock, service, merchant }
}

fn request(order: &str) -> AccountRequest {
    AccountRequest {
        order_id: order.parse::<OrderId>().unwrap(),
        kind: AccountType::OneTime,
        amount: Some(Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: Some(t0() + Duration::hours(72)),
        allow_partial: false,
        depositor_name: Some("홍길동".into()),
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    }
}

async fn free_numbers(w: &World) -> usize {
    repo::pool::count_free(w.service.table().as_ref(), BankCode::Kookmin, usize::MAX).await.unwrap()
}

async fn an_issued_account_is_waiting_and_its_event_is_stored_with_it(backend: Backend) {
    let w = world(backend, Settings::default(), 10).await;
    let account = w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await.unwrap();
    assert_eq!((account.status, account.version, account.paid_amount), (Status::Waiting, 1, Krw::ZERO));
    assert_eq!(w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap(), account);
    let number = repo::pool::get(w.service.table().as_ref(), BankCode::Kookmin, &account.account_number).await.unwrap().unwrap();
    assert_eq!(number.state, NumberState::Assigned { account: account.id.clone() });
    let events = repo::outbox::all_for(w.service.table().as_ref(), w.merchant.as_str()).await.unwrap();
    assert_eq!(events.iter().map(|e| e.kind()).collect::<Vec<_>>(), vec![EventType::AccountIssued]);
    let EventData::AccountIssued(issued) = &events[0].data else { panic!("not virtual_account.issued: {:?}", events[0]) };
    assert_eq!(issued.virtual_account.id, account.id);
    let latest = repo::accounts::latest_on_number(w.service.table().as_ref(), BankCode::Kookmin, &account.account_number).await.unwrap();
    assert_eq!(latest, Some(account));
}

async fn a_duplicate_order_is_a_conflict_and_consumes_no_number(backend: Backend) {
    let w = world(backend, Settings::default(), 10).await;
    w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await.unwrap();
    let before = free_numbers(&w).await;
    let second = w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await;
    assert!(matches!(second, Err(AppError::Conflict(_))), "{second:?}");
    assert_eq!(free_numbers(&w).await, before);
    assert_eq!(repo::outbox::all_for(w.service.table().as_ref(), w.merchant.as_str()).await.unwrap().len(), 1);
}

async fn another_merchants_account_is_not_found(backend: Backend) {
    let w = world(backend, Settings::default(), 10).await;
    let other = w.service.setup().create_merchant("Other", vaccount::domain::Fee::RateBps(150), 1, Default::default()).await.unwrap().merchant_id;
    let account = w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await.unwrap();
    assert_eq!(w.service.accounts().get_account(&other, &account.id).await, Err(AppError::NotFound));
    assert_eq!(w.service.accounts().close_account(&other, &account.id).await, Err(AppError::NotFound));
    assert_eq!(w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap().status, Status::Waiting);
    // The same order id is free for another merchant.
    assert!(w.service.accounts().issue_account(&other, None, request("ORD-1")).await.is_ok());
}

async fn closing_releases_the_number_only_after_the_cooldown(backend: Backend) {
    let settings = Settings { pool_cooldown: Duration::days(30), pool_low_threshold: 0, ..Settings::default() };
    let w = world(backend, settings, 1).await;
    let account = w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await.unwrap();
    w.clock.advance(Duration::seconds(1));
    let closed = w.service.accounts().close_account(&w.merchant, &account.id).await.unwrap();
    assert_eq!((closed.status, closed.version), (Status::Closed, 2));
    assert!(matches!(w.service.accounts().close_account(&w.merchant, &account.id).await, Err(AppError::Conflict(_))));
    let kinds: Vec<_> = repo::outbox::all_for(w.service.table().as_ref(), w.merchant.as_str()).await.unwrap().iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, vec![EventType::AccountIssued, EventType::AccountClosed]);
    // The only number rests: nothing to issue for 30 days.
    w.clock.advance(Duration::days(29));
    assert!(matches!(w.service.accounts().issue_account(&w.merchant, None, request("ORD-2")).await, Err(AppError::PoolExhausted { .. })));
    w.clock.advance(Duration::days(1));
    let reissued = w.service.accounts().issue_account(&w.merchant, None, request("ORD-3")).await.unwrap();
    assert_eq!(reissued.account_number, account.account_number);
    // The number's newest account is the new one; the closed one stays readable by id.
    let latest = repo::accounts::latest_on_number(w.service.table().as_ref(), BankCode::Kookmin, &account.account_number).await.unwrap();
    assert_eq!(latest.map(|a| a.id), Some(reissued.id));
    assert_eq!(w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap().status, Status::Closed);
}

async fn an_empty_pool_is_exhausted_and_raises_pool_low_once(backend: Backend) {
    let w = world(backend, Settings::default(), 0).await;
    for order in ["A", "B"] {
        let result = w.service.accounts().issue_account(&w.merchant, None, request(order)).await;
        assert_eq!(result, Err(AppError::PoolExhausted { bank: "004".into() }));
    }
    let ops = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    assert_eq!(ops.iter().map(|e| e.kind()).collect::<Vec<_>>(), vec![EventType::PoolLow]);
    let EventData::PoolLow(low) = &ops[0].data else { panic!("not pool.low: {:?}", ops[0]) };
    assert_eq!(low.bank_code, BankCode::Kookmin);
}

async fn running_low_raises_pool_low(backend: Backend) {
    let settings = Settings { pool_low_threshold: 5, ..Settings::default() };
    let w = world(backend, settings, 8).await;
    for i in 0..3 {
        w.service.accounts().issue_account(&w.merchant, None, request(&format!("O-{i}"))).await.unwrap();
    }
    assert!(repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap().is_empty(), "5 left is not below 5");
    w.service.accounts().issue_account(&w.merchant, None, request("O-3")).await.unwrap();
    let ops = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    assert_eq!(ops.len(), 1);
    let EventData::PoolLow(low) = &ops[0].data else { panic!("not pool.low: {:?}", ops[0]) };
    assert_eq!(low.free, 4);
}

async fn concurrent_issues_get_distinct_numbers(backend: Backend) {
    let settings = Settings { pool_low_threshold: 0, ..Settings::default() };
    let w = world(backend, settings, 300).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (service, merchant) = (w.service.clone(), w.merchant.clone());
            tokio::spawn(async move { service.accounts().issue_account(&merchant, None, request(&format!("C-{i}"))).await })
        })
        .collect();
    let mut numbers = BTreeSet::new();
    for task in tasks {
        let account = task.await.unwrap().expect("every issue succeeds while numbers remain");
        numbers.insert(account.account_number);
    }
    assert_eq!(numbers.len(), 200);
    assert_eq!(free_numbers(&w).await, 100);
}

async fn listing_pages_newest_first_and_filters(backend: Backend) {
    let w = world(backend, Settings::default(), 20).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        w.clock.advance(Duration::seconds(1));
        ids.push(w.service.accounts().issue_account(&w.merchant, None, request(&format!("L-{i}"))).await.unwrap().id);
    }
    w.service.accounts().close_account(&w.merchant, &ids[2]).await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = w.service.accounts().list_accounts(&w.merchant, None, &ListFilter::default(), 3, after).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.into_iter().map(|a| a.id));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let closed = ListFilter { status: Some(Status::Closed), ..ListFilter::default() };
    let page = w.service.accounts().list_accounts(&w.merchant, None, &closed, 20, None).await.unwrap();
    assert_eq!(page.items.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), vec![ids[2].clone()]);
    let waiting = ListFilter { status: Some(Status::Waiting), ..ListFilter::default() };
    assert_eq!(w.service.accounts().list_accounts(&w.merchant, None, &waiting, 20, None).await.unwrap().items.len(), 6);

    let window = ListFilter { created_from: Some(t0() + Duration::seconds(2)), created_to: Some(t0() + Duration::seconds(4)), ..ListFilter::default() };
    let page = w.service.accounts().list_accounts(&w.merchant, None, &window, 20, None).await.unwrap();
    assert_eq!(page.items.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), vec![ids[3].clone(), ids[2].clone(), ids[1].clone()]);

    let by_order = w.service.accounts().list_accounts(&w.merchant, Some(&"L-4".parse().unwrap()), &ListFilter::default(), 20, None).await.unwrap();
    assert_eq!(by_order.items.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), vec![ids[4].clone()]);

    let other = w.service.setup().create_merchant("Other", vaccount::domain::Fee::RateBps(1), 1, Default::default()).await.unwrap().merchant_id;
    assert!(w.service.accounts().list_accounts(&other, None, &ListFilter::default(), 20, None).await.unwrap().items.is_empty());
}

async fn idempotency_replays_refuses_and_recovers_from_a_crashed_holder(backend: Backend) {
    let w = world(backend, Settings::default(), 0).await;
    let (m, s) = (&w.merchant, &w.service);
    let Claim::Proceed(held) = s.idempotency().claim_idempotent(m, "k1", "fp-a".into()).await.unwrap() else { panic!("first claim proceeds") };
    assert_eq!(s.idempotency().claim_idempotent(m, "k1", "fp-a".into()).await, Err(AppError::IdempotencyInFlight));
    assert_eq!(s.idempotency().claim_idempotent(m, "k1", "fp-b".into()).await, Err(AppError::IdempotencyMismatch));
    s.idempotency().finish_idempotent(held, 201, "{\"id\":1}".into()).await.unwrap();
    assert_eq!(s.idempotency().claim_idempotent(m, "k1", "fp-a".into()).await, Ok(Claim::Replay { status: 201, body: "{\"id\":1}".into() }));
    assert_eq!(s.idempotency().claim_idempotent(m, "k1", "fp-b".into()).await, Err(AppError::IdempotencyMismatch));

    // A holder that never finishes loses the key when its lease runs out.
    let Claim::Proceed(_crashed) = s.idempotency().claim_idempotent(m, "k2", "fp".into()).await.unwrap() else { panic!() };
    w.clock.advance(Duration::seconds(31));
    let Claim::Proceed(retry) = s.idempotency().claim_idempotent(m, "k2", "fp".into()).await.unwrap() else { panic!("lease expired") };
    s.idempotency().finish_idempotent(retry, 200, "ok".into()).await.unwrap();

    // A 5xx is not replayed: the key is free again at once.
    let Claim::Proceed(failed) = s.idempotency().claim_idempotent(m, "k3", "fp".into()).await.unwrap() else { panic!() };
    s.idempotency().finish_idempotent(failed, 503, "down".into()).await.unwrap();
    assert!(matches!(s.idempotency().claim_idempotent(m, "k3", "fp".into()).await, Ok(Claim::Proceed(_))));

    // After 24 hours a key may be reused for anything.
    w.clock.advance(Duration::hours(24));
    assert!(matches!(s.idempotency().claim_idempotent(m, "k1", "fp-b".into()).await, Ok(Claim::Proceed(_))));
    assert!(s.idempotency().claim_idempotent(m, "", "fp".into()).await.is_err());
    assert!(s.idempotency().claim_idempotent(m, &"x".repeat(256), "fp".into()).await.is_err());
}

async fn two_active_keys_rotate_without_downtime(backend: Backend) {
    use vaccount::app::auth::SignedRequest;
    let w = world(backend, Settings::default(), 0).await;
    let s = &w.service;
    let sign_with = |key_id: String, secret: String| {
        let ts = t0().timestamp();
        let signature = vaccount::testing::sign(&secret, ts, "GET", "/v1/virtual-accounts", b"");
        (key_id, ts.to_string(), signature)
    };
    let auth = |(key, ts, sig): (String, String, String)| async move {
        s.access()
            .authenticate(&SignedRequest {
                key_id: Some(&key),
                timestamp: Some(&ts),
                signature: Some(&sig),
                method: "GET",
                path_and_query: "/v1/virtual-accounts",
                body: b"",
            })
            .await
            .map(|m| m.id)
    };
    let merchant = repo::merchants::get_merchant(s.table().as_ref(), &w.merchant).await.unwrap().unwrap();
    let first_id = merchant.active_keys[0].clone();
    let first = repo::merchants::get_api_key(s.table().as_ref(), &first_id).await.unwrap().unwrap();
    let second = s.setup().add_api_key(&w.merchant).await.unwrap();
    assert_eq!(auth(sign_with(first_id.to_string(), first.secret.clone())).await, Ok(w.merchant.clone()));
    assert_eq!(auth(sign_with(second.key_id.to_string(), second.secret.clone())).await, Ok(w.merchant.clone()));
    assert!(matches!(s.setup().add_api_key(&w.merchant).await, Err(AppError::Conflict(_))), "a third active key is refused");
    s.setup().revoke_api_key(&w.merchant, &first_id).await.unwrap();
    assert!(matches!(auth(sign_with(first_id.to_string(), first.secret)).await, Err(AppError::Unauthorized(_))));
    assert_eq!(auth(sign_with(second.key_id.to_string(), second.secret)).await, Ok(w.merchant.clone()));
}

async fn a_retry_under_the_same_key_gets_the_account_its_lost_attempt_created(backend: Backend) {
    let w = world(backend, Settings::default(), 5).await;
    // The first attempt committed, but its answer (and idempotency record) never made it.
    let first = w.service.accounts().issue_account(&w.merchant, Some("key-1"), request("ORD-1")).await.unwrap();
    let retry = w.service.accounts().issue_account(&w.merchant, Some("key-1"), request("ORD-1")).await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(free_numbers(&w).await, 4, "the retry claimed no second number");
    assert!(matches!(w.service.accounts().issue_account(&w.merchant, Some("key-2"), request("ORD-1")).await, Err(AppError::Conflict(_))));
    assert!(matches!(w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await, Err(AppError::Conflict(_))));
}

#[tokio::test]
async fn a_standby_region_serves_reads_and_refuses_changes() {
    let w = world(Backend::Embedded, Settings::default(), 5).await;
    let account = w.service.accounts().issue_account(&w.merchant, None, request("ORD-1")).await.unwrap();
    let standby = Service::new(Arc::new(vaccount::store::StandbyTable::new(w.service.table().clone(), "ap-northeast-2")), w.clock.clone(), Settings::default());
    assert_eq!(standby.accounts().get_account(&w.merchant, &account.id).await.unwrap(), account);
    assert!(matches!(standby.accounts().issue_account(&w.merchant, None, request("ORD-2")).await, Err(AppError::Unavailable(_))));
    assert!(matches!(standby.accounts().close_account(&w.merchant, &account.id).await, Err(AppError::Unavailable(_))));
    assert_eq!(w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap().status, Status::Waiting);
}

async fn personal_data_and_secrets_are_sealed_at_rest(backend: Backend) {
    use vaccount::ports::{Attr, Key};
    let w = world(backend, Settings::default(), 5).await;
    let mut req = request("PII-1");
    req.customer = Some(vaccount::domain::Customer { name: Some("홍길동".into()), phone: Some("01098765432".into()), email: None });
    let account = w.service.accounts().issue_account(&w.merchant, None, req).await.unwrap();
    let account_key = repo::accounts::account_key(account.bank_code, &account.account_number, &account.id);
    let merchant = repo::merchants::get_merchant(w.service.table().as_ref(), &w.merchant).await.unwrap().unwrap();
    let key = repo::merchants::get_api_key(w.service.table().as_ref(), &merchant.active_keys[0]).await.unwrap().unwrap();
    let raw_text = |item: vaccount::ports::Item| format!("{item:?}");
    let raw_account = raw_text(w.t.table.get(&account_key).await.unwrap().unwrap());
    let raw_key = raw_text(w.t.table.get(&repo::merchants::api_key_key(&key.id)).await.unwrap().unwrap());
    for (raw, secret) in [(&raw_account, "01098765432"), (&raw_account, "홍길동"), (&raw_key, key.secret.as_str())] {
        assert!(!raw.contains(secret), "{secret} is stored in the clear: {raw}");
    }
    // What storage needs stays readable: keys, indexes, version.
    let raw_item = w.t.table.get(&account_key).await.unwrap().unwrap();
    assert_eq!(raw_item.get("version"), Some(&Attr::N(1)));
    assert!(matches!(raw_item.get("gsi1pk"), Some(Attr::S(_))));
    // A sealed record moved onto another item does not open.
    let mut moved = raw_item.clone();
    moved.insert("sk".into(), Attr::S("VA#elsewhere".into()));
    let moved_key = Key::new(account_key.pk.clone(), "VA#elsewhere");
    w.t.table.transact(vec![vaccount::ports::Write::Put { item: moved, condition: vaccount::ports::Condition::NotExists }]).await.unwrap();
    assert!(w.service.table().get(&moved_key).await.is_err());
    // And through the sealed table everything reads back as written.
    assert_eq!(w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap(), account);
}
