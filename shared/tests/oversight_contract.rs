//! What operators read across merchants, on both backends: every listing's filters, paging
//! across merchants that never skips or repeats a record (also when the store answers short
//! pages and when a page's budget runs out), the pool's stock, and the dashboard's figures and
//! charts on fixed-clock data.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use vaccount::app::oversight::{
    AccountQuery, AttemptOutcome, AttemptQuery, DepositOwner, DepositQuery, ExceptionQuery, IncidentQuery, MerchantQuery, NoticeOutcome, NoticeQuery,
    NoticeRecord, PoolStock, ReportQuery, ScanBudget, SettlementQuery, Tally,
};
use vaccount::app::{AppError, Service, Settings};
use vaccount::domain::deposit::{Deposit, DepositNotice, DepositStatus, ExceptionReason, ExceptionState, Resolution};
use vaccount::domain::incident::{Incident, IncidentStatus, Severity};
use vaccount::domain::notice::Channel;
use vaccount::domain::reconciliation::{KindCounts, ReportSummary};
use vaccount::domain::settlement::{Settlement, SettlementFile, Totals};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::webhook::{WebhookAttempt, WebhookEndpoint, WebhookSecret, WebhookUrl};
use vaccount::domain::{
    AccountNumber, AccountRequest, AccountType, BankCode, DepositId, EventId, EventType, Fee, IncidentId, Krw, MerchantId, Metadata, OperatorName, PoolNumber,
    ProviderId, ProviderKind, SettlementId, Status, VirtualAccount, WebhookEndpointId,
};
use vaccount::on_both_backends;
use vaccount::ports::{Clock, Condition, Cursor, Table};
use vaccount::repo::{self, Listing};
use vaccount::store::EmbeddedTable;
use vaccount::testing::{Backend, FixedClock, TestTable, table};

on_both_backends!(
    accounts_are_listed_across_merchants_by_every_filter,
    paging_across_merchants_never_skips_or_repeats_even_on_short_pages_and_small_budgets,
    deposits_are_listed_across_owners_by_every_filter,
    the_exceptions_queue_spans_owners_and_filters_by_state,
    webhook_attempts_are_listed_across_endpoints,
    the_notice_log_lists_records_by_merchant_channel_outcome_and_time,
    incidents_settlements_reports_and_merchants_are_listed,
    pool_stock_counts_free_assigned_and_cooling_per_provider_and_bank,
    todays_figures_and_the_deposit_series_are_computed_on_read,
    reads_stop_at_their_bounds_and_say_so,
    a_cursor_only_resumes_the_listing_it_came_from,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    parse_rfc3339(text).unwrap()
}

const NAMES: [&str; 3] = ["Alpha Mall", "Beta Shop", "감마 스토어"];

struct World {
    _t: Option<TestTable>,
    _dir: Option<tempfile::TempDir>,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    /// The three merchants in id order: the order the walks visit them in.
    m: Vec<MerchantId>,
    by_name: Vec<(&'static str, MerchantId)>,
}

/// Three merchants, provider `bank` with 40 numbers at 004 and 10 at 088. With `short_pages`,
/// the embedded store answers one item per query (DynamoDB's 1 MB pages, taken to the limit).
async fn world(backend: Backend, short_pages: bool, settings: Settings) -> World {
    let (t, dir, raw): (Option<TestTable>, Option<tempfile::TempDir>, Arc<dyn Table>) = match (backend, short_pages) {
        (Backend::Embedded, true) => {
            let dir = tempfile::tempdir().unwrap();
            let store = EmbeddedTable::open(&dir.path().join("vaccount.redb")).unwrap().with_page_bytes(1);
            (None, Some(dir), Arc::new(store))
        }
        _ => {
            let t = table(backend).await;
            let raw = t.table.clone();
            (Some(t), None, raw)
        }
    };
    let clock = FixedClock::new(t0());
    let service = Arc::new(Service::new(vaccount::testing::sealed(raw), clock.clone(), settings));
    let mut by_name = Vec::new();
    for name in NAMES {
        by_name.push((name, service.setup().create_merchant(name, Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id));
    }
    let mut m: Vec<MerchantId> = by_name.iter().map(|(_, id)| id.clone()).collect();
    m.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let bank: ProviderId = "bank".parse().unwrap();
    service.setup().add_provider(bank.clone(), ProviderKind::Generic, vec![]).await.unwrap();
    service.setup().add_pool_range(&bank, BankCode::Kookmin, &"12345600000000".parse().unwrap(), 40).await.unwrap();
    service.setup().add_pool_range(&bank, BankCode::Shinhan, &"88800000000000".parse().unwrap(), 10).await.unwrap();
    World { _t: t, _dir: dir, clock, service, m, by_name }
}

/// Issues an account a minute after the last thing that happened: one-time with `amount`,
/// fixed without.
async fn issue(w: &World, merchant: usize, order: &str, bank: BankCode, amount: Option<i64>) -> VirtualAccount {
    w.clock.advance(Duration::minutes(1));
    let request = AccountRequest {
        order_id: order.parse().unwrap(),
        kind: if amount.is_some() { AccountType::OneTime } else { AccountType::Fixed },
        amount: amount.map(Krw::new),
        bank_code: bank,
        due_at: amount.map(|_| w.clock.now() + Duration::hours(72)),
        allow_partial: false,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    w.service.accounts().issue_account(&w.m[merchant], None, request).await.unwrap()
}

/// Records a deposit made at `deposited_at` to `number`.
async fn deposit_at(w: &World, tx: &str, bank: BankCode, number: &AccountNumber, amount: i64, name: &str, deposited_at: DateTime<Utc>) -> Deposit {
    let notice = DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        bank_code: bank,
        account_number: number.clone(),
        amount: Krw::new(amount),
        depositor_name: Some(name.into()),
        deposited_at,
    };
    let id = w.service.deposits().record_deposit(notice).await.unwrap().deposit_id.unwrap();
    repo::deposits::get(w.service.table().as_ref(), &id).await.unwrap().unwrap()
}

/// Records a deposit a minute after the last thing that happened.
async fn deposit(w: &World, tx: &str, bank: BankCode, number: &AccountNumber, amount: i64, name: &str) -> Deposit {
    w.clock.advance(Duration::minutes(1));
    deposit_at(w, tx, bank, number, amount, name, w.clock.now()).await
}

/// Every item of a listing, page after page, and how many pages it took.
async fn pages<T, F, Fut>(mut page: F) -> (Vec<T>, usize)
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<Listing<T>, AppError>>,
{
    let (mut items, mut cursor, mut count) = (Vec::new(), None, 0);
    loop {
        count += 1;
        assert!(count < 5_000, "the listing never ends");
        let listing = page(cursor).await.unwrap();
        items.extend(listing.items);
        match listing.next {
            Some(next) => cursor = Some(next),
            None => return (items, count),
        }
    }
}

async fn accounts(w: &World, query: &AccountQuery) -> Vec<String> {
    let (found, _) = pages(|c| w.service.oversight().accounts(query, 3, c)).await;
    found.into_iter().map(|a| a.order_id.to_string()).collect()
}

/// The accounts world: per merchant i, `A{i}-1` (004, 10,000), `A{i}-2` (004, 50,000),
/// `A{i}-3` (088, 30,000) and the fixed `F{i}` (004), issued a minute apart in that order,
/// merchant by merchant; `A0-2` is closed.
async fn issue_accounts(w: &World) -> Vec<VirtualAccount> {
    let mut issued = Vec::new();
    for i in 0..3 {
        issued.push(issue(w, i, &format!("A{i}-1"), BankCode::Kookmin, Some(10_000)).await);
        issued.push(issue(w, i, &format!("A{i}-2"), BankCode::Kookmin, Some(50_000)).await);
        issued.push(issue(w, i, &format!("A{i}-3"), BankCode::Shinhan, Some(30_000)).await);
        issued.push(issue(w, i, &format!("F{i}"), BankCode::Kookmin, None).await);
    }
    w.service.accounts().close_account(&w.m[0], &issued[1].id).await.unwrap();
    issued
}

fn orders(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

async fn accounts_are_listed_across_merchants_by_every_filter(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    let issued = issue_accounts(&w).await;
    // Merchants in id order, each one's accounts newest first.
    let everything = orders(&["F0", "A0-3", "A0-2", "A0-1", "F1", "A1-3", "A1-2", "A1-1", "F2", "A2-3", "A2-2", "A2-1"]);
    assert_eq!(accounts(&w, &AccountQuery::default()).await, everything);
    assert_eq!(accounts(&w, &AccountQuery { merchant: Some(w.m[1].clone()), ..Default::default() }).await, orders(&["F1", "A1-3", "A1-2", "A1-1"]));
    assert_eq!(accounts(&w, &AccountQuery { status: Some(Status::Closed), ..Default::default() }).await, orders(&["A0-2"]));
    assert_eq!(accounts(&w, &AccountQuery { bank: Some(BankCode::Shinhan), ..Default::default() }).await, orders(&["A0-3", "A1-3", "A2-3"]));
    let mid = AccountQuery { min_amount: Some(Krw::new(20_000)), max_amount: Some(Krw::new(50_000)), ..Default::default() };
    assert_eq!(accounts(&w, &mid).await, orders(&["A0-3", "A0-2", "A1-3", "A1-2", "A2-3", "A2-2"]), "fixed accounts have no amount to range over");
    let merchant_1_hours = AccountQuery { created_from: Some(issued[4].created_at), created_to: Some(issued[7].created_at), ..Default::default() };
    assert_eq!(accounts(&w, &merchant_1_hours).await, orders(&["F1", "A1-3", "A1-2", "A1-1"]));
    let order = AccountQuery { order_id: Some("A1-2".parse().unwrap()), ..Default::default() };
    assert_eq!(accounts(&w, &order).await, orders(&["A1-2"]));
    assert!(accounts(&w, &AccountQuery { merchant: Some(w.m[0].clone()), ..order.clone() }).await.is_empty());
    let number = issued[5].account_number.clone();
    assert_eq!(
        accounts(&w, &AccountQuery { account_number: Some(number.clone()), bank: Some(BankCode::Kookmin), ..Default::default() }).await,
        orders(&["A1-2"])
    );
    assert_eq!(accounts(&w, &AccountQuery { account_number: Some(number.clone()), ..Default::default() }).await, orders(&["A1-2"]), "every bank is tried");
    assert!(accounts(&w, &AccountQuery { account_number: Some(number), bank: Some(BankCode::Shinhan), ..Default::default() }).await.is_empty());
    let combined = AccountQuery { merchant: Some(w.m[2].clone()), bank: Some(BankCode::Kookmin), min_amount: Some(Krw::new(20_000)), ..Default::default() };
    assert_eq!(accounts(&w, &combined).await, orders(&["A2-2"]));
    let refused =
        w.service.oversight().accounts(&AccountQuery { min_amount: Some(Krw::new(2)), max_amount: Some(Krw::new(1)), ..Default::default() }, 10, None).await;
    assert!(matches!(refused, Err(AppError::Invalid { .. })), "{refused:?}");
}

async fn paging_across_merchants_never_skips_or_repeats_even_on_short_pages_and_small_budgets(backend: Backend) {
    let w = world(backend, true, Settings { pool_low_threshold: 0, ..Settings::default() }).await;
    let issued = issue_accounts(&w).await;
    let unknown: AccountNumber = "99900000000001".parse().unwrap();
    let deposits = vec![
        deposit(&w, "T-0", BankCode::Kookmin, &issued[0].account_number, 10_000, "홍길동").await.id,
        deposit(&w, "T-1", BankCode::Kookmin, &issued[5].account_number, 10_000, "홍길동").await.id,
        deposit(&w, "T-U", BankCode::Kookmin, &unknown, 7_000, "박민수").await.id,
    ];
    let everything = accounts(&w, &AccountQuery::default()).await;
    assert_eq!(everything.len(), 12);
    let all = AccountQuery::default();
    for limit in [1, 2, 5, 7, 12, 13] {
        let (found, _) = pages(|c| w.service.oversight().accounts(&all, limit, c)).await;
        assert_eq!(found.into_iter().map(|a| a.order_id.to_string()).collect::<Vec<_>>(), everything, "limit {limit}");
    }
    // A filter the indexes cannot apply, a page budget of 2 store calls: pages stop early with a
    // cursor (some empty), and together they hold each match exactly once, in order.
    let shinhan = AccountQuery { bank: Some(BankCode::Shinhan), ..Default::default() };
    for limit in [1, 2, 100] {
        let small = ScanBudget { calls: 2 };
        let (found, count) = pages(|c| w.service.oversight().with_budget(small).accounts(&shinhan, limit, c)).await;
        assert_eq!(found.into_iter().map(|a| a.order_id.to_string()).collect::<Vec<_>>(), orders(&["A0-3", "A1-3", "A2-3"]), "limit {limit}");
        assert!(count > 3, "the budget cut pages short: {count} pages for limit {limit}");
    }
    // Deposits: the merchants, then the unmatched owner, also one at a time.
    let every = DepositQuery::default();
    let (found, _) = pages(|c| w.service.oversight().with_budget(ScanBudget { calls: 1 }).deposits(&every, 1, c)).await;
    let found: Vec<DepositId> = found.into_iter().map(|d| d.id).collect();
    assert_eq!(found, deposits, "merchants in id order, then the unmatched deposits");
}

/// The deposits world: `A0-1` paid exactly by 홍길동, `A1-2` underpaid by KIM Chulsoo (an
/// exception), `A2-3` (088) paid by 이영희, and 7,000 won from 박민수 to a number nobody holds.
async fn record_deposits(w: &World, issued: &[VirtualAccount]) -> Vec<Deposit> {
    vec![
        deposit(w, "T-1", BankCode::Kookmin, &issued[0].account_number, 10_000, "홍길동").await,
        deposit(w, "T-2", BankCode::Kookmin, &issued[5].account_number, 20_000, "KIM Chulsoo").await,
        deposit(w, "T-3", BankCode::Shinhan, &issued[10].account_number, 30_000, "이영희").await,
        deposit(w, "T-4", BankCode::Kookmin, &"99900000000001".parse().unwrap(), 7_000, "박민수").await,
    ]
}

async fn deposits(w: &World, query: &DepositQuery) -> Vec<String> {
    let (found, _) = pages(|c| w.service.oversight().deposits(query, 2, c)).await;
    found.into_iter().map(|d| d.transaction_id.to_string()).collect()
}

async fn deposits_are_listed_across_owners_by_every_filter(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    let issued = issue_accounts(&w).await;
    let made = record_deposits(&w, &issued).await;
    let all = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(deposits(&w, &DepositQuery::default()).await, all(&["T-1", "T-2", "T-3", "T-4"]));
    assert_eq!(deposits(&w, &DepositQuery { owner: Some(DepositOwner::Unmatched), ..Default::default() }).await, all(&["T-4"]));
    assert_eq!(deposits(&w, &DepositQuery { owner: Some(DepositOwner::Merchant(w.m[1].clone())), ..Default::default() }).await, all(&["T-2"]));
    assert_eq!(deposits(&w, &DepositQuery { status: Some(DepositStatus::Exception), ..Default::default() }).await, all(&["T-2", "T-4"]));
    assert_eq!(deposits(&w, &DepositQuery { bank: Some(BankCode::Shinhan), ..Default::default() }).await, all(&["T-3"]));
    let amounts = DepositQuery { min_amount: Some(Krw::new(8_000)), max_amount: Some(Krw::new(20_000)), ..Default::default() };
    assert_eq!(deposits(&w, &amounts).await, all(&["T-1", "T-2"]));
    let window = DepositQuery { deposited_from: Some(made[1].deposited_at), deposited_to: Some(made[2].deposited_at), ..Default::default() };
    assert_eq!(deposits(&w, &window).await, all(&["T-2", "T-3"]));
    assert_eq!(deposits(&w, &DepositQuery { depositor: Some("kim".into()), ..Default::default() }).await, all(&["T-2"]), "case-insensitive");
    assert_eq!(deposits(&w, &DepositQuery { depositor: Some("영희".into()), ..Default::default() }).await, all(&["T-3"]));
    let number = |n: &AccountNumber| DepositQuery { account_number: Some(n.clone()), ..Default::default() };
    assert_eq!(deposits(&w, &number(&issued[0].account_number)).await, all(&["T-1"]));
    let unknown: AccountNumber = "99900000000001".parse().unwrap();
    assert_eq!(deposits(&w, &number(&unknown)).await, all(&["T-4"]), "a number nobody holds: among the unmatched");
    assert!(deposits(&w, &DepositQuery { owner: Some(DepositOwner::Merchant(w.m[0].clone())), ..number(&unknown) }).await.is_empty());
    assert_eq!(deposits(&w, &DepositQuery { order_id: Some("A1-2".parse().unwrap()), ..Default::default() }).await, all(&["T-2"]));
    assert!(
        deposits(&w, &DepositQuery { order_id: Some("A1-2".parse().unwrap()), owner: Some(DepositOwner::Unmatched), ..Default::default() }).await.is_empty()
    );
    assert!(deposits(&w, &DepositQuery { order_id: Some("NOPE".parse().unwrap()), ..Default::default() }).await.is_empty());
}

/// Writes a deposit's exception as it stands after an operator's proposal.
async fn propose(w: &World, deposit: &Deposit, needs_approval: bool) {
    let next =
        deposit.propose(Resolution::WriteOff { note: "test deposit".into() }, "kim".parse::<OperatorName>().unwrap(), needs_approval, w.clock.now()).unwrap();
    let write = repo::deposits::put_deposit(&next, Condition::VersionIs(deposit.version)).unwrap();
    w.service.table().transact(vec![write]).await.unwrap();
}

async fn the_exceptions_queue_spans_owners_and_filters_by_state(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    let issued = issue_accounts(&w).await;
    let made = record_deposits(&w, &issued).await;
    let open = deposit(&w, "T-5", BankCode::Kookmin, &issued[8].account_number, 1_000, "최수진").await;
    propose(&w, &made[1], true).await;
    propose(&w, &made[3], false).await;
    assert_eq!(exceptions(&w, ExceptionQuery::default()).await, ["T-2", "T-5", "T-4"], "merchants in id order, then unmatched");
    assert_eq!(exceptions(&w, ExceptionQuery { state: Some(ExceptionState::Open), ..Default::default() }).await, ["T-5"]);
    assert_eq!(exceptions(&w, ExceptionQuery { state: Some(ExceptionState::PendingApproval), ..Default::default() }).await, ["T-2"]);
    assert_eq!(exceptions(&w, ExceptionQuery { state: Some(ExceptionState::Resolved), ..Default::default() }).await, ["T-4"]);
    assert_eq!(exceptions(&w, ExceptionQuery { reason: Some(ExceptionReason::UnknownAccount), ..Default::default() }).await, ["T-4"]);
    assert_eq!(exceptions(&w, ExceptionQuery { owner: Some(DepositOwner::Unmatched), ..Default::default() }).await, ["T-4"]);
    assert_eq!(exceptions(&w, ExceptionQuery { owner: Some(DepositOwner::Merchant(w.m[2].clone())), ..Default::default() }).await, ["T-5"]);
    assert_eq!(exceptions(&w, ExceptionQuery { bank: Some(BankCode::Kookmin), ..Default::default() }).await, ["T-2", "T-5", "T-4"]);
    assert!(exceptions(&w, ExceptionQuery { bank: Some(BankCode::Shinhan), ..Default::default() }).await.is_empty());
    let held = ExceptionQuery { min_amount: Some(Krw::new(5_000)), max_amount: Some(Krw::new(20_000)), ..Default::default() };
    assert_eq!(exceptions(&w, held).await, ["T-2", "T-4"], "on the amount held");
    let window = ExceptionQuery { deposited_from: Some(made[3].deposited_at), deposited_to: Some(open.deposited_at), ..Default::default() };
    assert_eq!(exceptions(&w, window).await, ["T-5", "T-4"]);
}

fn endpoint(merchant: &MerchantId, n: u32) -> WebhookEndpoint {
    let url = WebhookUrl::parse(&format!("https://hooks.example.com/{n}"), false).unwrap();
    WebhookEndpoint::new(WebhookEndpointId::generate(t0()), merchant.clone(), url, None, WebhookSecret::generate(), t0()).unwrap()
}

fn attempt(endpoint: &WebhookEndpoint, minute: i64, status: Option<u16>) -> WebhookAttempt {
    let event = EventId::generate(t0());
    WebhookAttempt {
        endpoint_id: endpoint.id.clone(),
        event_id: event.clone(),
        round: event,
        attempt: 1,
        status_code: status,
        latency_ms: 12,
        error: status.is_none().then(|| "no answer within the timeout".to_owned()),
        at: t0() + Duration::minutes(minute),
    }
}

async fn webhook_attempts_are_listed_across_endpoints(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    let (e1, e2, e3) = (endpoint(&w.m[0], 1), endpoint(&w.m[0], 2), endpoint(&w.m[1], 3));
    let mut writes = Vec::new();
    for e in [&e1, &e2, &e3] {
        writes.push(repo::webhooks::put_endpoint(e, Condition::NotExists).unwrap());
    }
    for a in [
        attempt(&e1, 1, Some(200)),
        attempt(&e1, 2, Some(500)),
        attempt(&e1, 3, None),
        attempt(&e2, 4, Some(204)),
        attempt(&e3, 5, Some(503)),
        attempt(&e3, 6, Some(200)),
    ] {
        writes.push(repo::webhooks::put_attempt(&a).unwrap());
    }
    w.service.table().transact(writes).await.unwrap();
    let (m0, m1) = (w.m[0].clone(), w.m[1].clone());
    assert_eq!(
        attempts(&w, AttemptQuery::default()).await,
        [(m0.clone(), 4), (m0.clone(), 3), (m0.clone(), 2), (m0.clone(), 1), (m1.clone(), 6), (m1.clone(), 5)]
    );
    assert_eq!(attempts(&w, AttemptQuery { merchant: Some(m1.clone()), ..Default::default() }).await, [(m1.clone(), 6), (m1.clone(), 5)]);
    let e1_only = AttemptQuery { merchant: Some(m0.clone()), endpoint: Some(e1.id.clone()), ..Default::default() };
    assert_eq!(attempts(&w, e1_only).await, [(m0.clone(), 3), (m0.clone(), 2), (m0.clone(), 1)]);
    let foreign = AttemptQuery { merchant: Some(m1.clone()), endpoint: Some(e1.id.clone()), ..Default::default() };
    assert!(attempts(&w, foreign).await.is_empty(), "another merchant's endpoint shows nothing");
    assert_eq!(
        attempts(&w, AttemptQuery { outcome: Some(AttemptOutcome::Failed), ..Default::default() }).await,
        [(m0.clone(), 3), (m0.clone(), 2), (m1.clone(), 5)]
    );
    assert_eq!(
        attempts(&w, AttemptQuery { outcome: Some(AttemptOutcome::Succeeded), ..Default::default() }).await,
        [(m0.clone(), 4), (m0.clone(), 1), (m1.clone(), 6)]
    );
    let window = AttemptQuery { from: Some(t0() + Duration::minutes(2)), to: Some(t0() + Duration::minutes(5)), ..Default::default() };
    assert_eq!(attempts(&w, window).await, [(m0.clone(), 4), (m0.clone(), 3), (m0.clone(), 2), (m1.clone(), 5)]);
    let refused = w.service.oversight().webhook_attempts(&AttemptQuery { endpoint: Some(e1.id.clone()), ..Default::default() }, 10, None).await;
    assert!(matches!(refused, Err(AppError::Invalid { .. })), "an endpoint needs its merchant: {refused:?}");
    let endpoints = w.service.oversight().webhook_endpoints(&m0, 10, None).await.unwrap();
    assert_eq!(endpoints.items.iter().map(|e| e.id.clone()).collect::<BTreeSet<_>>(), [e1.id.clone(), e2.id.clone()].into_iter().collect());
}

fn notice(merchant: Option<&MerchantId>, event: &EventId, channel: Option<Channel>, outcome: NoticeOutcome, minute: i64, kind: EventType) -> NoticeRecord {
    NoticeRecord {
        event_id: event.clone(),
        channel,
        outcome,
        message_id: None,
        error: None,
        at: t0() + Duration::minutes(minute),
        attempts: 1,
        merchant_id: merchant.cloned(),
        virtual_account_id: None,
        event_type: merchant.map(|_| kind),
    }
}

async fn the_notice_log_lists_records_by_merchant_channel_outcome_and_time(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    let events: Vec<EventId> = (0..4).map(|_| EventId::generate(t0())).collect();
    let (m0, m1) = (Some(&w.m[0]), Some(&w.m[1]));
    let records = [
        notice(m0, &events[0], Some(Channel::Alimtalk), NoticeOutcome::Failed, 1, EventType::AccountIssued),
        notice(m0, &events[0], Some(Channel::Sms), NoticeOutcome::Sent, 2, EventType::AccountIssued),
        notice(m1, &events[1], Some(Channel::Email), NoticeOutcome::Sent, 3, EventType::AccountPaid),
        notice(m1, &events[2], None, NoticeOutcome::GaveUp, 4, EventType::AccountDueSoon),
        // Written before records named their merchant: in no listing.
        notice(None, &events[3], Some(Channel::Alimtalk), NoticeOutcome::Sent, 5, EventType::AccountIssued),
    ];
    let writes = records.iter().map(|r| repo::notices::put_record(r).unwrap()).collect();
    w.service.table().transact(writes).await.unwrap();
    assert_eq!(notices(&w, NoticeQuery::default()).await, [2, 1, 4, 3]);
    assert_eq!(notices(&w, NoticeQuery { merchant: Some(w.m[0].clone()), ..Default::default() }).await, [2, 1]);
    assert_eq!(notices(&w, NoticeQuery { channel: Some(Channel::Sms), ..Default::default() }).await, [2]);
    assert_eq!(notices(&w, NoticeQuery { outcome: Some(NoticeOutcome::Sent), ..Default::default() }).await, [2, 3]);
    assert_eq!(notices(&w, NoticeQuery { outcome: Some(NoticeOutcome::GaveUp), ..Default::default() }).await, [4]);
    assert_eq!(notices(&w, NoticeQuery { event_type: Some(EventType::AccountPaid), ..Default::default() }).await, [3]);
    let window = NoticeQuery { from: Some(t0() + Duration::minutes(2)), to: Some(t0() + Duration::minutes(3)), ..Default::default() };
    assert_eq!(notices(&w, window).await, [2, 3]);
    // A retried channel's record replaces the earlier one, in the listings too.
    let retried = NoticeRecord { outcome: NoticeOutcome::Sent, at: t0() + Duration::minutes(9), attempts: 2, ..records[0].clone() };
    w.service.table().transact(vec![repo::notices::put_record(&retried).unwrap()]).await.unwrap();
    assert_eq!(notices(&w, NoticeQuery { merchant: Some(w.m[0].clone()), ..Default::default() }).await, [9, 2]);
    assert!(notices(&w, NoticeQuery { outcome: Some(NoticeOutcome::Failed), ..Default::default() }).await.is_empty());
}

fn incident(minute: i64, status: IncidentStatus) -> Incident {
    let opened = t0() + Duration::minutes(minute);
    Incident {
        id: IncidentId::generate(opened),
        kind: "pool.low".into(),
        subject: format!("bank-{minute}"),
        severity: Severity::Warning,
        status,
        count: 1,
        first_at: opened,
        last_at: opened,
        recent_at: Vec::new(),
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_by: None,
        resolved_at: None,
        version: 1,
    }
}

fn settlement(merchant: &MerchantId, day: &str) -> Settlement {
    let date: NaiveDate = day.parse().unwrap();
    Settlement {
        id: SettlementId::generate(t0()),
        merchant_id: merchant.clone(),
        date,
        totals: Totals::default(),
        payout_date: date + Duration::days(2),
        files: Vec::new(),
        exported_at: t0(),
        version: 1,
    }
}

fn report(provider: &str, day: &str) -> ReportSummary {
    ReportSummary {
        provider: provider.parse().unwrap(),
        date: day.parse().unwrap(),
        statement_sha256: "00".repeat(32),
        statement_rows: 0,
        matched: 0,
        recovered: 0,
        differences: 0,
        by_kind: KindCounts::default(),
        differences_sha256: "00".repeat(32),
        file: SettlementFile { name: "report.csv".into(), sha256: "00".repeat(32), bytes: 0 },
        reconciled_at: t0(),
        version: 1,
    }
}

async fn incidents_settlements_reports_and_merchants_are_listed(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    w.service.setup().add_provider("toss".parse().unwrap(), ProviderKind::Tosspayments, vec![]).await.unwrap();
    let opened = [incident(1, IncidentStatus::Open), incident(2, IncidentStatus::Acknowledged), incident(3, IncidentStatus::Resolved)];
    let mut writes: Vec<_> = opened.iter().map(|i| repo::incidents::put_incident(i, Condition::NotExists).unwrap()).collect();
    for (m, day) in [(0, "2026-11-20"), (0, "2026-11-21"), (1, "2026-11-21"), (1, "2026-11-25")] {
        writes.push(repo::settlements::put_settlement(&settlement(&w.m[m], day), Condition::NotExists).unwrap());
    }
    for (provider, day) in [("bank", "2026-11-20"), ("bank", "2026-11-22"), ("toss", "2026-11-22"), ("toss", "2026-11-30")] {
        writes.push(repo::reconciliation::put_report(&report(provider, day), Condition::NotExists).unwrap());
    }
    w.service.table().transact(writes).await.unwrap();

    assert_eq!(incidents(&w, IncidentQuery::default()).await, ["bank-3", "bank-2", "bank-1"]);
    assert_eq!(incidents(&w, IncidentQuery { status: Some(IncidentStatus::Open), ..Default::default() }).await, ["bank-1"]);
    let window = IncidentQuery { opened_from: Some(t0() + Duration::minutes(2)), opened_to: Some(t0() + Duration::minutes(3)), ..Default::default() };
    assert_eq!(incidents(&w, window).await, ["bank-3", "bank-2"]);

    let days = |merchant: Option<usize>, from: &str, to: &str| SettlementQuery {
        merchant: merchant.map(|m| w.m[m].clone()),
        from: from.parse().unwrap(),
        to: to.parse().unwrap(),
    };
    assert_eq!(
        settlements(&w, days(None, "2026-11-20", "2026-11-24")).await,
        [(0, "2026-11-21".to_owned()), (0, "2026-11-20".to_owned()), (1, "2026-11-21".to_owned())]
    );
    assert_eq!(settlements(&w, days(Some(1), "2026-11-01", "2026-11-30")).await, [(1, "2026-11-25".to_owned()), (1, "2026-11-21".to_owned())]);

    let reports = |provider: Option<&str>| ReportQuery {
        provider: provider.map(|p| p.parse().unwrap()),
        from: "2026-11-20".parse().unwrap(),
        to: "2026-11-23".parse().unwrap(),
    };
    let every = reports(None);
    for budget in [1, 40] {
        let (found, _) = pages(|c| w.service.oversight().with_budget(ScanBudget { calls: budget }).reconciliation_reports(&every, 1, c)).await;
        let found: Vec<_> = found.into_iter().map(|r| (r.provider.to_string(), r.date.to_string())).collect();
        let expected = [("bank", "2026-11-22"), ("toss", "2026-11-22"), ("bank", "2026-11-20")];
        assert_eq!(found, expected.map(|(p, d)| (p.to_owned(), d.to_owned())), "budget {budget}");
    }
    let of_toss = reports(Some("toss"));
    let (toss, _) = pages(|c| w.service.oversight().reconciliation_reports(&of_toss, 5, c)).await;
    assert_eq!(toss.len(), 1);

    assert_eq!(merchants(&w, None).await, w.m.iter().rev().cloned().collect::<Vec<_>>(), "newest first");
    assert_eq!(merchants(&w, Some("mall")).await, [w.m_named("Alpha Mall")]);
    assert_eq!(merchants(&w, Some("스토어")).await, [w.m_named("감마 스토어")]);
}

impl World {
    fn m_named(&self, name: &str) -> MerchantId {
        self.by_name.iter().find(|(n, _)| *n == name).map(|(_, id)| id.clone()).unwrap()
    }
}

fn stock_of<'a>(stock: &'a [PoolStock], provider: &str, bank: BankCode) -> &'a PoolStock {
    stock.iter().find(|s| s.provider.as_str() == provider && s.bank == bank).unwrap_or_else(|| panic!("no stock of {provider} at {bank}"))
}

fn exact(count: u64) -> Tally {
    Tally { count, complete: true }
}

async fn pool_stock_counts_free_assigned_and_cooling_per_provider_and_bank(backend: Backend) {
    let w = world(backend, false, Settings { pool_low_threshold: 8, ..Settings::default() }).await;
    let toss: ProviderId = "toss".parse().unwrap();
    w.service.setup().add_provider(toss.clone(), ProviderKind::Generic, vec![]).await.unwrap();
    w.service.setup().add_pool_range(&toss, BankCode::Hana, &"77700000000000".parse().unwrap(), 5).await.unwrap();
    // The same range again changes nothing: its numbers and its range are there already.
    let again = w.service.setup().add_pool_range(&"bank".parse().unwrap(), BankCode::Kookmin, &"12345600000000".parse().unwrap(), 40).await.unwrap();
    assert_eq!((again.added, again.skipped), (0, 40));
    // Numbers imported before ranges were recorded: counted, of unknown size.
    let legacy: Vec<_> = ["66600000000000", "66600000000001"]
        .into_iter()
        .map(|n| repo::pool::put_number(&PoolNumber::new(BankCode::Hana, n.parse().unwrap(), "bank".parse().unwrap()), Condition::NotExists).unwrap())
        .collect();
    w.service.table().transact(legacy).await.unwrap();
    let held: Vec<VirtualAccount> = vec![
        issue(&w, 0, "P-1", BankCode::Kookmin, Some(1_000)).await,
        issue(&w, 1, "P-2", BankCode::Kookmin, Some(1_000)).await,
        issue(&w, 2, "P-3", BankCode::Kookmin, Some(1_000)).await,
    ];
    w.service.accounts().close_account(&w.m[0], &held[0].id).await.unwrap();

    let stock = w.service.oversight().pool_stock().await.unwrap();
    let kookmin = stock_of(&stock, "bank", BankCode::Kookmin);
    assert_eq!((kookmin.imported, kookmin.free, kookmin.cooling, kookmin.assigned), (Some(40), exact(37), exact(1), Some(2)));
    let shinhan = stock_of(&stock, "bank", BankCode::Shinhan);
    assert_eq!((shinhan.imported, shinhan.free, shinhan.cooling, shinhan.assigned), (Some(10), exact(10), exact(0), Some(0)));
    let hana = stock_of(&stock, "toss", BankCode::Hana);
    assert_eq!((hana.imported, hana.free, hana.assigned), (Some(5), exact(5), Some(0)));
    let unrecorded = stock_of(&stock, "bank", BankCode::Hana);
    assert_eq!((unrecorded.imported, unrecorded.free, unrecorded.assigned), (None, exact(2), None));
    assert_eq!(stock.len(), 4);
    let banks: Vec<BankCode> = stock.iter().map(|s| s.bank).collect();
    assert!(banks.windows(2).all(|p| p[0] <= p[1]), "by bank: {banks:?}");

    let low = w.service.oversight().today(w.clock.now()).await.unwrap().pool_low;
    assert_eq!(low.iter().map(|l| (l.bank, l.free)).collect::<Vec<_>>(), [(BankCode::Hana, 7)], "every provider's free numbers of a bank count");

    let capped = repo::pool::free_by_provider(w.service.table().as_ref(), BankCode::Kookmin, 5).await.unwrap();
    assert_eq!((capped.by_provider.values().sum::<u64>(), capped.complete), (5, false));
}

/// The figures world, at 15:30 KST on 2026-11-24: accounts issued yesterday and today,
/// deposits today, yesterday, ten and forty days ago, exceptions in every state, webhook
/// attempts today and yesterday, incidents of each status.
async fn todays_figures_and_the_deposit_series_are_computed_on_read(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    let now = at("2026-11-24T15:30:00+09:00");
    w.clock.set(at("2026-11-23T20:00:00+09:00"));
    issue(&w, 0, "Y-1", BankCode::Kookmin, Some(5_000)).await;
    w.clock.set(at("2026-11-24T08:59:00+09:00"));
    let a = issue(&w, 0, "D-1", BankCode::Kookmin, Some(10_000)).await;
    let b = issue(&w, 1, "D-2", BankCode::Kookmin, Some(50_000)).await;
    issue(&w, 2, "D-3", BankCode::Shinhan, Some(30_000)).await;
    w.clock.set(now);
    let nobody = |n: &str| n.parse::<AccountNumber>().unwrap();
    deposit_at(&w, "T-1", BankCode::Kookmin, &a.account_number, 10_000, "홍길동", at("2026-11-24T09:10:00+09:00")).await;
    deposit_at(&w, "T-2", BankCode::Kookmin, &b.account_number, 20_000, "김철수", at("2026-11-24T10:20:00+09:00")).await;
    deposit_at(&w, "T-3", BankCode::Kookmin, &nobody("99900000000001"), 7_000, "박민수", at("2026-11-24T11:30:00+09:00")).await;
    deposit_at(&w, "T-4", BankCode::Kookmin, &nobody("99900000000002"), 5_000, "이영희", at("2026-11-23T23:30:00+09:00")).await;
    deposit_at(&w, "T-5", BankCode::Kookmin, &nobody("99900000000003"), 1_000, "최수진", at("2026-11-14T12:00:00+09:00")).await;
    let old = deposit_at(&w, "T-6", BankCode::Kookmin, &nobody("99900000000004"), 999, "정우성", at("2026-10-15T12:00:00+09:00")).await;
    propose(&w, &old, true).await;
    let e = endpoint(&w.m[0], 1);
    let mut writes = vec![repo::webhooks::put_endpoint(&e, Condition::NotExists).unwrap()];
    for (minute, status) in [(-1_000, Some(500)), (60, Some(200)), (120, None), (180, Some(200))] {
        let mut a = attempt(&e, minute, status);
        a.at = at("2026-11-24T08:00:00+09:00") + Duration::minutes(minute);
        writes.push(repo::webhooks::put_attempt(&a).unwrap());
    }
    for i in [incident(1, IncidentStatus::Open), incident(2, IncidentStatus::Acknowledged), incident(3, IncidentStatus::Resolved)] {
        writes.push(repo::incidents::put_incident(&i, Condition::NotExists).unwrap());
    }
    w.service.table().transact(writes).await.unwrap();

    let today = w.service.oversight().today(now).await.unwrap();
    assert_eq!(today.day, "2026-11-24".parse::<NaiveDate>().unwrap());
    assert_eq!(today.accounts_issued, exact(3));
    assert_eq!((today.deposits.count, today.deposits.amount, today.deposits.complete), (3, Krw::new(37_000), true));
    assert_eq!((today.exceptions_open, today.exceptions_pending_approval), (exact(4), exact(1)), "T-2 underpaid; T-3, T-4, T-5 unknown; T-6 proposed");
    assert_eq!((today.webhook_attempts, today.webhook_failures), (exact(3), exact(1)));
    assert_eq!(today.webhook_failure_rate_bps(), Some(3_333));
    assert_eq!((today.incidents_open, today.incidents_acknowledged), (exact(1), exact(1)));
    assert_eq!(today.pool_low.iter().map(|l| l.bank).collect::<Vec<_>>(), [BankCode::Kookmin, BankCode::Shinhan], "below the default mark of 100");

    let series = w.service.oversight().deposit_series(now).await.unwrap();
    assert_eq!(series.hourly.len(), 24);
    assert_eq!(series.hourly[0].start, at("2026-11-23T16:00:00+09:00"));
    let hour = |text: &str| series.hourly.iter().find(|b| b.start == at(text)).map(|b| (b.count, b.amount.won())).unwrap();
    assert_eq!(hour("2026-11-24T09:00:00+09:00"), (1, 10_000));
    assert_eq!(hour("2026-11-24T10:00:00+09:00"), (1, 20_000));
    assert_eq!(hour("2026-11-24T11:00:00+09:00"), (1, 7_000));
    assert_eq!(hour("2026-11-23T23:00:00+09:00"), (1, 5_000));
    assert_eq!(series.hourly.iter().map(|b| b.count).sum::<u64>(), 4);
    assert_eq!(series.daily.len(), 30);
    let day = |text: &str| series.daily.iter().find(|b| b.start == at(&format!("{text}T00:00:00+09:00"))).map(|b| (b.count, b.amount.won())).unwrap();
    assert_eq!(day("2026-11-24"), (3, 37_000));
    assert_eq!(day("2026-11-23"), (1, 5_000));
    assert_eq!(day("2026-11-14"), (1, 1_000));
    assert_eq!(series.daily.iter().map(|b| b.count).sum::<u64>(), 5, "forty days ago is outside the chart");
    assert!(series.hourly.iter().chain(&series.daily).all(|b| b.complete));
}

async fn reads_stop_at_their_bounds_and_say_so(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    issue_accounts(&w).await;
    let table = w.service.table();
    let (from, to) = (t0(), t0() + Duration::hours(1));
    assert_eq!(repo::oversight::count_accounts(table.as_ref(), from, to, 100).await.unwrap(), exact(12));
    assert_eq!(repo::oversight::count_accounts(table.as_ref(), from, to, 5).await.unwrap(), Tally { count: 5, complete: false });
    for (i, n) in ["99900000000001", "99900000000002", "99900000000003"].into_iter().enumerate() {
        deposit(&w, &format!("U-{i}"), BankCode::Kookmin, &n.parse().unwrap(), 1_000, "박민수").await;
    }
    let mut seen = 0;
    let coverage = repo::oversight::fold_deposits(table.as_ref(), &DepositQuery::default(), 2, 100, |_, _| seen += 1).await.unwrap();
    assert_eq!((seen, coverage.cut.as_slice(), coverage.unread), (2, [repo::deposits::UNMATCHED.to_owned()].as_slice(), false));
    let mut seen = 0;
    let coverage = repo::oversight::fold_deposits(table.as_ref(), &DepositQuery::default(), 100, 1, |_, _| seen += 1).await.unwrap();
    assert_eq!((seen, coverage.complete()), (1, false));
    // The first merchant's four accounts, read to their end; the other merchants left unread.
    assert_eq!(repo::oversight::count_accounts(table.as_ref(), from, to, 4).await.unwrap(), Tally { count: 4, complete: false });
}

async fn a_cursor_only_resumes_the_listing_it_came_from(backend: Backend) {
    let w = world(backend, false, Settings::default()).await;
    issue_accounts(&w).await;
    let page = w.service.oversight().accounts(&AccountQuery::default(), 2, None).await.unwrap();
    let cursor = page.next.unwrap();
    let refused = w.service.oversight().deposits(&DepositQuery::default(), 2, Some(cursor.clone())).await;
    assert_eq!(refused.unwrap_err(), AppError::field("cursor", "is not a cursor of this listing"));
    let by_number = AccountQuery { account_number: Some("12345600000000".parse().unwrap()), ..Default::default() };
    assert!(w.service.oversight().accounts(&by_number, 2, Some(cursor)).await.is_err(), "nor another walk of the same records");
    let merchant = w.service.oversight().merchants(&MerchantQuery::default(), 1, None).await.unwrap().next.unwrap();
    assert!(w.service.oversight().accounts(&AccountQuery::default(), 2, Some(merchant)).await.is_err());
    assert!(matches!(w.service.oversight().accounts(&AccountQuery::default(), 0, None).await, Err(AppError::Invalid { .. })));
}

async fn exceptions(w: &World, query: ExceptionQuery) -> Vec<String> {
    let (found, _) = pages(|c| w.service.oversight().exceptions(&query, 1, c)).await;
    found.into_iter().map(|d| d.transaction_id.to_string()).collect()
}

async fn attempts(w: &World, query: AttemptQuery) -> Vec<(MerchantId, i64)> {
    let (found, _) = pages(|c| w.service.oversight().webhook_attempts(&query, 2, c)).await;
    found.into_iter().map(|a| (a.merchant_id.clone(), (a.attempt.at - t0()).num_minutes())).collect()
}

async fn notices(w: &World, query: NoticeQuery) -> Vec<i64> {
    let (found, _) = pages(|c| w.service.oversight().notices(&query, 1, c)).await;
    found.into_iter().map(|r| (r.at - t0()).num_minutes()).collect()
}

async fn incidents(w: &World, query: IncidentQuery) -> Vec<String> {
    let (found, _) = pages(|c| w.service.oversight().incidents(&query, 2, c)).await;
    found.into_iter().map(|i| i.subject).collect()
}

async fn settlements(w: &World, query: SettlementQuery) -> Vec<(usize, String)> {
    let (found, _) = pages(|c| w.service.oversight().settlements(&query, 1, c)).await;
    found.into_iter().map(|s| (w.m.iter().position(|m| m == &s.merchant_id).unwrap(), s.date.to_string())).collect()
}

async fn merchants(w: &World, name: Option<&str>) -> Vec<MerchantId> {
    let query = MerchantQuery { name: name.map(str::to_owned) };
    let (found, _) = pages(|c| w.service.oversight().merchants(&query, 1, c)).await;
    found.into_iter().map(|m| m.id).collect()
}
