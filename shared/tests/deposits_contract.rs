//! The money path on both backends: notices recorded exactly once, matching outcomes, reversals,
//! the due-time sweep, exception resolution, and what each deposit costs in storage calls.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use vaccount::app::exceptions::{ExceptionAction, ExceptionOwner};
use vaccount::app::{AppError, Service, Settings};
use vaccount::domain::deposit::{DepositNotice, DepositStatus, ExceptionReason, ExceptionState, Resolution, ReversalNotice};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{
    AccountRequest, AccountType, BankCode, DepositPolicy, EventType, Krw, MerchantId, Metadata, NumberState, OperatorName, ProviderKind, Status, VirtualAccount,
};
use vaccount::ports::{Item, Key, Page, Query, StoreError, Table, Write};
use vaccount::repo;
use vaccount::repo::deposits::DepositFilter;
use vaccount::testing::{Backend, FixedClock, TestTable, notice_request, table};

use vaccount::on_both_backends;

on_both_backends!(
    notices_are_matched_as_the_design_table_says,
    a_repeated_notice_returns_the_first_answer_and_changes_nothing,
    a_reversal_undoes_the_deposit_once,
    a_deposit_costs_one_account_read_and_one_transaction,
    concurrent_duplicated_deposits_to_one_account_equal_one_sequential_delivery,
    the_sweep_expires_overdue_accounts_and_returns_numbers_to_the_pool,
    exceptions_resolve_with_maker_checker_and_credit_the_chosen_account,
    merchants_list_their_own_deposits_newest_first,
    a_provider_allowlist_refuses_other_addresses,
    a_tosspayments_callback_is_verified_by_its_accounts_secret,
    a_reversal_under_its_originals_transaction_id_is_applied,
    a_reversal_under_another_deposits_transaction_id_reverses_its_original,
    an_excess_assigned_back_to_its_account_is_credited_once_and_reverses_cleanly,
    a_fenced_provider_and_an_unknown_one_get_the_same_answer,
    a_toss_cancellation_finds_its_deposit_though_the_index_lags,
    a_toss_partial_cancellation_takes_back_only_the_cancelled_amount,
    a_deposit_under_the_id_of_a_reversal_recorded_before_reversals_had_their_own_key_is_recorded,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

/// Counts the storage calls made through it, by kind.
#[derive(Default)]
struct Calls {
    gets: AtomicUsize,
    queries: AtomicUsize,
    transactions: AtomicUsize,
}

struct Counting {
    inner: Arc<dyn Table>,
    calls: Arc<Calls>,
}

#[async_trait::async_trait]
impl Table for Counting {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.calls.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.calls.queries.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.calls.transactions.fetch_add(1, Ordering::SeqCst);
        self.inner.transact(writes).await
    }
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    calls: Arc<Calls>,
    merchant: MerchantId,
    secret: String,
}

async fn world(backend: Backend, policy: DepositPolicy) -> World {
    let t = table(backend).await;
    let clock = FixedClock::new(t0());
    let calls = Arc::new(Calls::default());
    let counted: Arc<dyn Table> = Arc::new(Counting { inner: vaccount::testing::sealed(t.table.clone()), calls: calls.clone() });
    let service = Arc::new(Service::new(counted, clock.clone(), Settings::default()));
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, policy).await.unwrap().merchant_id;
    let secret = service.setup().add_provider("bank".parse().unwrap(), ProviderKind::Generic, vec![]).await.unwrap().secret;
    service.setup().add_pool_range(&"bank".parse().unwrap(), BankCode::Kookmin, &"12345600000000".parse().unwrap(), 20).await.unwrap();
    World { _t: t, clock, service, calls, merchant, secret }
}

fn request(order: &str, kind: AccountType, amount: Option<i64>, allow_partial: bool) -> AccountRequest {
    AccountRequest {
        order_id: order.parse().unwrap(),
        kind,
        amount: amount.map(Krw::new),
        bank_code: BankCode::Kookmin,
        due_at: (kind == AccountType::OneTime).then(|| t0() + Duration::hours(72)),
        allow_partial,
        depositor_name: Some("홍길동".into()),
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    }
}

async fn one_time(w: &World, order: &str, amount: i64, allow_partial: bool) -> VirtualAccount {
    w.service.accounts().issue_account(&w.merchant, None, request(order, AccountType::OneTime, Some(amount), allow_partial)).await.unwrap()
}

fn notice(tx: &str, account: &VirtualAccount, amount: i64) -> DepositNotice {
    DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        bank_code: account.bank_code,
        account_number: account.account_number.clone(),
        amount: Krw::new(amount),
        depositor_name: Some("홍길동".into()),
        deposited_at: t0() + Duration::minutes(5),
    }
}

async fn account_now(w: &World, account: &VirtualAccount) -> VirtualAccount {
    w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap()
}

async fn event_types(w: &World) -> Vec<EventType> {
    repo::outbox::all_for(w.service.table().as_ref(), w.merchant.as_str()).await.unwrap().into_iter().map(|e| e.kind()).collect()
}

async fn notices_are_matched_as_the_design_table_says(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let exact = one_time(&w, "EXACT", 35_000, false).await;
    let partial = one_time(&w, "PARTIAL", 35_000, true).await;
    let strict = one_time(&w, "STRICT", 35_000, false).await;
    let over = one_time(&w, "OVER", 35_000, false).await;

    let answer = w.service.deposits().record_deposit(notice("T-EXACT", &exact, 35_000)).await.unwrap();
    assert_eq!(answer.status, Some(DepositStatus::Matched));
    assert_eq!(account_now(&w, &exact).await.status, Status::Paid);

    w.service.deposits().record_deposit(notice("T-PART", &partial, 10_000)).await.unwrap();
    let p = account_now(&w, &partial).await;
    assert_eq!((p.status, p.paid_amount), (Status::PartiallyPaid, Krw::new(10_000)));

    let under = w.service.deposits().record_deposit(notice("T-UNDER", &strict, 10_000)).await.unwrap();
    let d = w.service.deposits().get_deposit(&w.merchant, under.deposit_id.as_ref().unwrap()).await.unwrap();
    assert_eq!(d.exception.map(|e| e.reason), Some(ExceptionReason::Underpaid));
    assert_eq!(account_now(&w, &strict).await.status, Status::Waiting);

    let o = w.service.deposits().record_deposit(notice("T-OVER", &over, 50_000)).await.unwrap();
    let d = w.service.deposits().get_deposit(&w.merchant, o.deposit_id.as_ref().unwrap()).await.unwrap();
    assert_eq!((d.credited, d.exception.map(|e| (e.reason, e.amount))), (Krw::new(35_000), Some((ExceptionReason::Overpaid, Krw::new(15_000)))));
    let a = account_now(&w, &over).await;
    assert_eq!((a.status, a.paid_amount), (Status::Overpaid, Krw::new(35_000)));

    let mut unknown = notice("T-UNKNOWN", &exact, 5_000);
    unknown.account_number = "99999999999999".parse().unwrap();
    assert_eq!(w.service.deposits().record_deposit(unknown).await.unwrap().status, Some(DepositStatus::Exception));
    let queue = w.service.exceptions().list_exceptions(&ExceptionOwner::Unmatched, None, 10, None).await.unwrap();
    assert_eq!(queue.items.iter().map(|d| d.exception.as_ref().unwrap().reason).collect::<Vec<_>>(), vec![ExceptionReason::UnknownAccount]);

    let types = event_types(&w).await;
    for expected in
        [EventType::AccountPaid, EventType::AccountPartiallyPaid, EventType::AccountOverpaid, EventType::DepositMatched, EventType::DepositException]
    {
        assert!(types.contains(&expected), "{expected:?} in {types:?}");
    }
}

async fn a_repeated_notice_returns_the_first_answer_and_changes_nothing(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let account = one_time(&w, "ORD-1", 35_000, false).await;
    let first = w.service.deposits().record_deposit(notice("T-1", &account, 35_000)).await.unwrap();
    let after_first = account_now(&w, &account).await;
    let events_after_first = event_types(&w).await.len();
    // Same transaction id, even with a different amount: the first answer, no effect.
    let again = w.service.deposits().record_deposit(notice("T-1", &account, 99_000)).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(account_now(&w, &account).await, after_first);
    assert_eq!(event_types(&w).await.len(), events_after_first);
}

async fn a_reversal_undoes_the_deposit_once(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let account = one_time(&w, "ORD-1", 35_000, false).await;
    let deposit = w.service.deposits().record_deposit(notice("T-1", &account, 50_000)).await.unwrap();
    let reversal = ReversalNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: "T-1R".parse().unwrap(),
        original_transaction_id: "T-1".parse().unwrap(),
        occurred_at: t0() + Duration::hours(1),
    };
    let answer = w.service.deposits().reverse_deposit(reversal.clone()).await.unwrap();
    assert_eq!((answer.deposit_id.clone(), answer.status), (deposit.deposit_id.clone(), Some(DepositStatus::Reversed)));
    let a = account_now(&w, &account).await;
    assert_eq!((a.status, a.paid_amount, a.excess), (Status::Waiting, Krw::ZERO, Krw::ZERO));
    let d = w.service.deposits().get_deposit(&w.merchant, deposit.deposit_id.as_ref().unwrap()).await.unwrap();
    assert_eq!(d.exception.map(|e| e.state), Some(ExceptionState::Resolved), "the excess is no longer owed");

    assert_eq!(w.service.deposits().reverse_deposit(reversal).await.unwrap(), answer);
    assert_eq!(account_now(&w, &account).await, a, "a repeated reversal changes nothing");
    assert_eq!(event_types(&w).await.iter().filter(|t| **t == EventType::DepositReversed).count(), 1);

    let orphan = ReversalNotice { transaction_id: "T-9R".parse().unwrap(), original_transaction_id: "T-9".parse().unwrap(), ..answer_free_reversal() };
    assert!(
        matches!(w.service.deposits().reverse_deposit(orphan).await, Err(AppError::Conflict(_))),
        "a reversal before its deposit is refused so the provider retries"
    );
}

fn answer_free_reversal() -> ReversalNotice {
    ReversalNotice { provider: "bank".parse().unwrap(), transaction_id: "X".parse().unwrap(), original_transaction_id: "Y".parse().unwrap(), occurred_at: t0() }
}

async fn a_deposit_costs_one_account_read_and_one_transaction(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let account = one_time(&w, "ORD-1", 35_000, false).await;
    let body = serde_json::json!({
        "type": "deposit", "transaction_id": "T-1", "bank_code": "004", "account_number": account.account_number.as_str(),
        "amount": 35000, "occurred_at": "2026-11-24T10:05:00+09:00",
    })
    .to_string();
    let signature = vaccount::providers::generic::sign(&w.secret, body.as_bytes());
    let count = |c: &Calls| (c.gets.load(Ordering::SeqCst), c.queries.load(Ordering::SeqCst), c.transactions.load(Ordering::SeqCst));
    let before = count(&w.calls);
    w.service.deposits().receive_notice("bank", &notice_request(None, Some(&signature), body.as_bytes())).await.unwrap();
    let after = count(&w.calls);
    // One Get of the provider (its secret), one consistent Query of the number's partition
    // (the account), one Get of the merchant (the fee terms in force, which the deposit's
    // settlement entry carries), one transaction.
    assert_eq!((after.0 - before.0, after.1 - before.1, after.2 - before.2), (2, 1, 1));
    w.service.deposits().receive_notice("bank", &notice_request(None, Some(&signature), body.as_bytes())).await.unwrap();
    let duplicate = count(&w.calls);
    // A redelivery: the provider, the account (now paid, so the copy would credit nothing and
    // no terms are read), the transaction that fails on the notice, then the stored answer.
    assert_eq!((duplicate.0 - after.0, duplicate.1 - after.1, duplicate.2 - after.2), (2, 1, 1));
}

async fn concurrent_duplicated_deposits_to_one_account_equal_one_sequential_delivery(backend: Backend) {
    let amounts: Vec<i64> = (0..50).map(|i| 1_000 + i * 37).collect();
    let concurrent = world(backend, DepositPolicy::default()).await;
    let fixed = concurrent.service.accounts().issue_account(&concurrent.merchant, None, request("FIXED", AccountType::Fixed, None, false)).await.unwrap();
    let tasks: Vec<_> = amounts
        .iter()
        .enumerate()
        .flat_map(|(i, amount)| [(i, *amount), (i, *amount)])
        .map(|(i, amount)| {
            let (service, n) = (concurrent.service.clone(), notice(&format!("T-{i}"), &fixed, amount));
            tokio::spawn(async move { (i, service.deposits().record_deposit(n).await.expect("every notice is recorded")) })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::new();
    for task in tasks {
        let (i, answer) = task.await.unwrap();
        let first = answers.entry(i).or_insert_with(|| answer.clone());
        assert_eq!(first, &answer, "both deliveries of T-{i} get one answer");
    }

    let sequential = world(backend, DepositPolicy::default()).await;
    let fixed_seq = sequential.service.accounts().issue_account(&sequential.merchant, None, request("FIXED", AccountType::Fixed, None, false)).await.unwrap();
    for (i, amount) in amounts.iter().enumerate() {
        sequential.service.deposits().record_deposit(notice(&format!("T-{i}"), &fixed_seq, *amount)).await.unwrap();
    }

    let (a, b) = (account_now(&concurrent, &fixed).await, account_now(&sequential, &fixed_seq).await);
    assert_eq!((a.status, a.paid_amount, a.version), (b.status, b.paid_amount, b.version));
    assert_eq!(a.paid_amount, Krw::new(amounts.iter().sum()));
    assert_eq!(a.version, 51, "one change per distinct deposit");
    let listed = concurrent.service.deposits().account_deposits(&concurrent.merchant, &fixed.id, 100, None).await.unwrap();
    assert_eq!(listed.items.len(), 50);
    assert!(listed.items.iter().all(|d| d.status == DepositStatus::Matched));
    let matched = event_types(&concurrent).await.into_iter().filter(|t| *t == EventType::DepositMatched).count();
    assert_eq!(matched, 50);
}

async fn the_sweep_expires_overdue_accounts_and_returns_numbers_to_the_pool(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let unpaid = one_time(&w, "UNPAID", 35_000, false).await;
    let paid = one_time(&w, "PAID", 35_000, false).await;
    w.service.deposits().record_deposit(notice("T-1", &paid, 35_000)).await.unwrap();
    let nothing_yet = w.service.expiry().sweep_due().await.unwrap();
    assert_eq!((nothing_yet.expired, nothing_yet.released), (0, 0));

    w.clock.advance(Duration::hours(73));
    let report = w.service.expiry().sweep_due().await.unwrap();
    assert_eq!((report.expired, report.released, report.failed), (1, 1, 0));
    assert_eq!(account_now(&w, &unpaid).await.status, Status::Expired);
    assert_eq!(account_now(&w, &paid).await.status, Status::Paid);
    for account in [&unpaid, &paid] {
        let number = repo::pool::get(w.service.table().as_ref(), BankCode::Kookmin, &account.account_number).await.unwrap().unwrap();
        assert!(matches!(number.state, NumberState::Cooling { .. }), "{:?}", number.state);
    }
    assert_eq!(event_types(&w).await.iter().filter(|t| **t == EventType::AccountExpired).count(), 1);
    let again = w.service.expiry().sweep_due().await.unwrap();
    assert_eq!((again.expired, again.released), (0, 0), "nothing is swept twice");

    // During the cooldown the number still leads to the expired account: a late deposit.
    let late = w.service.deposits().record_deposit(notice("T-LATE", &unpaid, 35_000)).await.unwrap();
    let d = w.service.deposits().get_deposit(&w.merchant, late.deposit_id.as_ref().unwrap()).await.unwrap();
    assert_eq!(d.exception.map(|e| e.reason), Some(ExceptionReason::Late));
}

async fn exceptions_resolve_with_maker_checker_and_credit_the_chosen_account(backend: Backend) {
    let w = world(backend, DepositPolicy { require_exception_approval: true, ..DepositPolicy::default() }).await;
    let (kim, lee): (OperatorName, OperatorName) = ("kim".parse().unwrap(), "lee".parse().unwrap());
    for op in [&kim, &lee] {
        vaccount::testing::active_operator(&w.service, op.as_str(), vaccount::domain::operator::Role::Admin).await;
    }
    let account = one_time(&w, "ORD-1", 35_000, false).await;
    let mut stray = notice("T-1", &account, 35_000);
    stray.account_number = "99999999999999".parse().unwrap();
    let exc = w.service.deposits().record_deposit(stray).await.unwrap();
    let deposit = repo::deposits::get(w.service.table().as_ref(), exc.deposit_id.as_ref().unwrap()).await.unwrap().unwrap();
    let id = deposit.exception.as_ref().unwrap().id.clone();

    let assign = ExceptionAction::Resolve(Resolution::Assign { account: account.id.clone() });
    let pending = w.service.exceptions().act_on_exception(&kim, &id, assign).await.unwrap();
    assert_eq!(pending.exception.as_ref().unwrap().state, ExceptionState::PendingApproval);
    assert_eq!(account_now(&w, &account).await.paid_amount, Krw::ZERO, "nothing moves before approval");
    assert!(matches!(w.service.exceptions().act_on_exception(&kim, &id, ExceptionAction::Approve).await, Err(AppError::Conflict(_))));

    let done = w.service.exceptions().act_on_exception(&lee, &id, ExceptionAction::Approve).await.unwrap();
    assert_eq!(done.exception.as_ref().unwrap().state, ExceptionState::Resolved);
    let a = account_now(&w, &account).await;
    assert_eq!((a.status, a.paid_amount), (Status::Paid, Krw::new(35_000)));
    assert_eq!(w.service.deposits().get_deposit(&w.merchant, &deposit.id).await.unwrap().merchant_id, Some(w.merchant.clone()), "now the merchant's");
    assert!(event_types(&w).await.contains(&EventType::ExceptionResolved));
    assert!(w.service.exceptions().act_on_exception(&lee, &id, ExceptionAction::Approve).await.is_err(), "resolved is final");
}

async fn merchants_list_their_own_deposits_newest_first(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let fixed = w.service.accounts().issue_account(&w.merchant, None, request("FIXED", AccountType::Fixed, None, false)).await.unwrap();
    for i in 0..7 {
        let mut n = notice(&format!("T-{i}"), &fixed, 1_000 + i);
        n.deposited_at = t0() + Duration::minutes(i);
        w.service.deposits().record_deposit(n).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = w.service.deposits().list_deposits(&w.merchant, &DepositFilter::default(), 3, cursor).await.unwrap();
        seen.extend(page.items.iter().map(|d| d.amount.won()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).rev().map(|i| 1_000 + i).collect::<Vec<_>>());
    let window = DepositFilter { from: Some(t0() + Duration::minutes(2)), to: Some(t0() + Duration::minutes(4)), ..DepositFilter::default() };
    assert_eq!(w.service.deposits().list_deposits(&w.merchant, &window, 10, None).await.unwrap().items.len(), 3);
    let exceptions = DepositFilter { status: Some(DepositStatus::Exception), ..DepositFilter::default() };
    assert!(w.service.deposits().list_deposits(&w.merchant, &exceptions, 10, None).await.unwrap().items.is_empty());

    let other = w.service.setup().create_merchant("Other", vaccount::domain::Fee::RateBps(1), 1, Default::default()).await.unwrap().merchant_id;
    assert!(w.service.deposits().list_deposits(&other, &DepositFilter::default(), 10, None).await.unwrap().items.is_empty());
    let any = w.service.deposits().list_deposits(&w.merchant, &DepositFilter::default(), 1, None).await.unwrap().items.remove(0);
    assert_eq!(w.service.deposits().get_deposit(&other, &any.id).await, Err(AppError::NotFound));
    assert_eq!(w.service.deposits().account_deposits(&other, &fixed.id, 10, None).await.map(|_| ()), Err(AppError::NotFound));
}

async fn a_provider_allowlist_refuses_other_addresses(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let allowed: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    let secret = w.service.setup().add_provider("fenced".parse().unwrap(), ProviderKind::Generic, vec![allowed]).await.unwrap().secret;
    let body = br#"{"type":"deposit","transaction_id":"T-1","bank_code":"004","account_number":"11111111111111","amount":1000,"occurred_at":"2026-11-24T10:05:00+09:00"}"#;
    let signature = vaccount::providers::generic::sign(&secret, body);
    // Refused as an unknown provider would be: an allowlist does not confirm that the id exists.
    let elsewhere = w.service.deposits().receive_notice("fenced", &notice_request(Some("198.51.100.1".parse().unwrap()), Some(&signature), body)).await;
    assert!(matches!(elsewhere, Err(AppError::Unauthorized(_))));
    assert!(matches!(w.service.deposits().receive_notice("fenced", &notice_request(None, Some(&signature), body)).await, Err(AppError::Unauthorized(_))));
    assert!(w.service.deposits().receive_notice("fenced", &notice_request(Some(allowed), Some(&signature), body)).await.is_ok());
    assert!(matches!(
        w.service.deposits().receive_notice("nobody", &notice_request(Some(allowed), Some(&signature), body)).await,
        Err(AppError::Unauthorized(_))
    ));
}

async fn a_tosspayments_callback_is_verified_by_its_accounts_secret(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    w.service.setup().add_provider("toss".parse().unwrap(), ProviderKind::Tosspayments, vec![]).await.unwrap();
    w.service.setup().add_pool_range(&"toss".parse().unwrap(), BankCode::Shinhan, &"56000000000000".parse().unwrap(), 5).await.unwrap();
    let mut order = request("TOSS-1", AccountType::OneTime, Some(35_000), false);
    order.bank_code = BankCode::Shinhan;
    let account = w.service.accounts().issue_account(&w.merchant, None, order).await.unwrap();
    assert_eq!(account.provider.as_str(), "toss");
    let secret = account.provider_secret.clone().unwrap();
    let callback = |status: &str, key: &str, secret: &str| {
        serde_json::json!({"createdAt": "2026-11-24T10:05:00.000000", "secret": secret, "status": status, "transactionKey": key, "orderId": account.id.as_str()})
            .to_string()
    };

    let forged = w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("DONE", "TK-1", "ps_guess").as_bytes())).await;
    assert!(matches!(forged, Err(AppError::Unauthorized(_))));
    let done = w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("DONE", "TK-1", &secret).as_bytes())).await.unwrap();
    assert_eq!(done.status, Some(DepositStatus::Matched));
    let paid = account_now(&w, &account).await;
    assert_eq!((paid.status, paid.paid_amount), (Status::Paid, Krw::new(35_000)));
    let deposit = w.service.deposits().get_deposit(&w.merchant, done.deposit_id.as_ref().unwrap()).await.unwrap();
    assert_eq!(deposit.deposited_at, parse_rfc3339("2026-11-24T10:05:00+09:00").unwrap(), "Toss times are KST");
    assert_eq!(w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("DONE", "TK-1", &secret).as_bytes())).await.unwrap(), done);

    let cancelled = w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("CANCELED", "TK-2", &secret).as_bytes())).await.unwrap();
    assert_eq!((cancelled.deposit_id.clone(), cancelled.status), (done.deposit_id.clone(), Some(DepositStatus::Reversed)));
    assert_eq!(account_now(&w, &account).await.status, Status::Waiting);
    let nothing =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("WAITING_FOR_DEPOSIT", "TK-3", &secret).as_bytes())).await.unwrap();
    assert_eq!(nothing.result, "ignored");
}

fn reversal(tx: &str, original: &str) -> ReversalNotice {
    ReversalNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        original_transaction_id: original.parse().unwrap(),
        occurred_at: t0() + Duration::hours(1),
    }
}

async fn a_reversal_under_its_originals_transaction_id_is_applied(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let account = one_time(&w, "ORD-1", 35_000, false).await;
    let deposit = w.service.deposits().record_deposit(notice("T-1", &account, 35_000)).await.unwrap();
    // Some banks report the cancellation under the deposit's own transaction id.
    let answer = w.service.deposits().reverse_deposit(reversal("T-1", "T-1")).await.expect("a definite answer, not 503 forever");
    assert_eq!((answer.deposit_id.clone(), answer.status), (deposit.deposit_id.clone(), Some(DepositStatus::Reversed)));
    assert_eq!(account_now(&w, &account).await.paid_amount, Krw::ZERO);
    assert_eq!(w.service.deposits().reverse_deposit(reversal("T-1", "T-1")).await.unwrap(), answer, "repeated: the same answer");
    let again = w.service.deposits().record_deposit(notice("T-1", &account, 35_000)).await.unwrap();
    assert_eq!(again.deposit_id, deposit.deposit_id, "the deposit notice redelivered is still answered from its deposit");
    assert_eq!(account_now(&w, &account).await.paid_amount, Krw::ZERO, "and credits nothing again");
}

async fn a_reversal_under_another_deposits_transaction_id_reverses_its_original(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let first = one_time(&w, "ORD-1", 35_000, false).await;
    let second = one_time(&w, "ORD-2", 20_000, false).await;
    let d1 = w.service.deposits().record_deposit(notice("T-1", &first, 35_000)).await.unwrap();
    w.service.deposits().record_deposit(notice("T-2", &second, 20_000)).await.unwrap();
    let answer = w.service.deposits().reverse_deposit(reversal("T-2", "T-1")).await.unwrap();
    assert_eq!((answer.deposit_id, answer.status), (d1.deposit_id, Some(DepositStatus::Reversed)), "the answer names what was reversed");
    assert_eq!(account_now(&w, &first).await.paid_amount, Krw::ZERO, "the original is reversed");
    assert_eq!(account_now(&w, &second).await.status, Status::Paid, "the other deposit is untouched");
}

async fn an_excess_assigned_back_to_its_account_is_credited_once_and_reverses_cleanly(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let kim: OperatorName = "kim".parse().unwrap();
    vaccount::testing::active_operator(&w.service, kim.as_str(), vaccount::domain::operator::Role::Admin).await;
    let account = one_time(&w, "ORD-1", 35_000, true).await;
    w.service.deposits().record_deposit(notice("T-1", &account, 20_000)).await.unwrap();
    w.service.deposits().record_deposit(notice("T-2", &account, 20_000)).await.unwrap(); // 15,000 credited, 5,000 excess
    w.service.deposits().reverse_deposit(reversal("T-1R", "T-1")).await.unwrap(); // the account expects 20,000 again
    let second = repo::deposits::get_by_transaction(w.service.table().as_ref(), &"bank".parse().unwrap(), &"T-2".parse().unwrap()).await.unwrap().unwrap();
    let exc = second.exception.unwrap().id;
    w.service.exceptions().act_on_exception(&kim, &exc, ExceptionAction::Resolve(Resolution::Assign { account: account.id.clone() })).await.unwrap();
    let a = account_now(&w, &account).await;
    assert_eq!((a.paid_amount.won(), a.excess.won(), a.status), (20_000, 0, Status::PartiallyPaid), "the excess became credit, counted once");
    w.service.deposits().reverse_deposit(reversal("T-2R", "T-2")).await.expect("a definite answer, not 503 forever");
    let a = account_now(&w, &account).await;
    assert_eq!((a.paid_amount.won(), a.excess.won(), a.status), (0, 0, Status::Waiting));
}

async fn a_fenced_provider_and_an_unknown_one_get_the_same_answer(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let allowed: std::net::IpAddr = "203.0.113.7".parse().unwrap();
    w.service.setup().add_provider("fenced".parse().unwrap(), ProviderKind::Generic, vec![allowed]).await.unwrap();
    let body = br#"{"type":"deposit","transaction_id":"T-1","bank_code":"004","account_number":"11111111111111","amount":1000,"occurred_at":"2026-11-24T10:05:00+09:00"}"#;
    let elsewhere = Some("198.51.100.1".parse().unwrap());
    let fenced = w.service.deposits().receive_notice("fenced", &notice_request(elsewhere, Some("00"), body)).await.unwrap_err();
    let unknown = w.service.deposits().receive_notice("nobody", &notice_request(elsewhere, Some("00"), body)).await.unwrap_err();
    assert_eq!(format!("{fenced:?}"), format!("{unknown:?}"), "provider ids cannot be enumerated");
}

/// An index that has not caught up with the last writes (DynamoDB's GSIs are eventually
/// consistent): queries of the account's deposit listing come back empty.
struct LaggingIndex(Arc<dyn Table>);

#[async_trait::async_trait]
impl Table for LaggingIndex {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.0.get(key).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        if query.index.is_some() && query.pk.starts_with("VADEP#") {
            return Ok(Page::default());
        }
        self.0.query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.0.transact(writes).await
    }
}

/// A Toss provider, an account issued through it, and a callback body maker.
async fn toss_account(w: &World) -> (VirtualAccount, impl Fn(&str, &str, serde_json::Value) -> String) {
    w.service.setup().add_provider("toss".parse().unwrap(), ProviderKind::Tosspayments, vec![]).await.unwrap();
    w.service.setup().add_pool_range(&"toss".parse().unwrap(), BankCode::Shinhan, &"56000000000000".parse().unwrap(), 5).await.unwrap();
    let mut order = request("TOSS-1", AccountType::OneTime, Some(35_000), true);
    order.bank_code = BankCode::Shinhan;
    let account = w.service.accounts().issue_account(&w.merchant, None, order).await.unwrap();
    let (secret, id) = (account.provider_secret.clone().unwrap(), account.id.to_string());
    let callback = move |status: &str, key: &str, extra: serde_json::Value| {
        let mut body = serde_json::json!({"createdAt": "2026-11-24T10:05:00.000000", "secret": secret, "status": status, "transactionKey": key, "orderId": id});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body.to_string()
    };
    (account, callback)
}

async fn a_toss_cancellation_finds_its_deposit_though_the_index_lags(backend: Backend) {
    let t = table(backend).await;
    let clock = FixedClock::new(t0());
    let lagging: Arc<dyn Table> = Arc::new(LaggingIndex(vaccount::testing::sealed(t.table.clone())));
    let service = Arc::new(Service::new(lagging, clock.clone(), Settings::default()));
    let merchant =
        service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, DepositPolicy::default()).await.unwrap().merchant_id;
    let w = World { _t: t, clock, service, calls: Arc::new(Calls::default()), merchant, secret: String::new() };
    let (account, callback) = toss_account(&w).await;
    let done =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("DONE", "TK-1", serde_json::json!({})).as_bytes())).await.unwrap();
    let cancelled =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("CANCELED", "TK-2", serde_json::json!({})).as_bytes())).await.unwrap();
    assert_eq!((cancelled.deposit_id, cancelled.status), (done.deposit_id, Some(DepositStatus::Reversed)), "not `ignored`: Toss would stop retrying");
    assert_eq!(account_now(&w, &account).await.paid_amount, Krw::ZERO);
}

async fn a_toss_partial_cancellation_takes_back_only_the_cancelled_amount(backend: Backend) {
    let w = world(backend, DepositPolicy::default()).await;
    let (account, callback) = toss_account(&w).await;
    let done =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("DONE", "TK-1", serde_json::json!({})).as_bytes())).await.unwrap();
    let cancels = serde_json::json!({"cancels": [{"transactionKey": "TK-2", "cancelAmount": 5000}]});
    let partial = w
        .service
        .deposits()
        .receive_notice("toss", &notice_request(None, None, callback("PARTIAL_CANCELED", "TK-2", cancels.clone()).as_bytes()))
        .await
        .unwrap();
    assert_eq!(partial.deposit_id, done.deposit_id);
    let a = account_now(&w, &account).await;
    assert_eq!((a.status, a.paid_amount.won()), (Status::PartiallyPaid, 30_000), "only the cancelled 5,000 left the account");
    let d = w.service.deposits().get_deposit(&w.merchant, done.deposit_id.as_ref().unwrap()).await.unwrap();
    assert_eq!((d.status, d.credited.won(), d.cancelled.won()), (DepositStatus::Matched, 30_000, 5_000));
    let again =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("PARTIAL_CANCELED", "TK-2", cancels).as_bytes())).await.unwrap();
    assert_eq!(again, partial, "a redelivered callback is answered as the first time and changes nothing");
    assert_eq!(partial.status, Some(DepositStatus::Matched));
    assert_eq!(account_now(&w, &account).await.paid_amount.won(), 30_000);
    // The rest cancelled: the whole deposit is reversed.
    let whole =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("CANCELED", "TK-3", serde_json::json!({})).as_bytes())).await.unwrap();
    let a = account_now(&w, &account).await;
    assert_eq!((a.status, a.paid_amount.won()), (Status::Waiting, 0));
    let redelivered =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("CANCELED", "TK-3", serde_json::json!({})).as_bytes())).await.unwrap();
    assert_eq!(redelivered, whole, "not `ignored` though nothing is left to cancel");
    let missing =
        w.service.deposits().receive_notice("toss", &notice_request(None, None, callback("PARTIAL_CANCELED", "TK-4", serde_json::json!({})).as_bytes())).await;
    assert!(matches!(missing, Err(AppError::Invalid { .. })), "no amount, no guess: {missing:?}");
}

async fn a_deposit_under_the_id_of_a_reversal_recorded_before_reversals_had_their_own_key_is_recorded(backend: Backend) {
    use vaccount::repo::deposits::ReversalClaim;
    let w = world(backend, DepositPolicy::default()).await;
    let first = one_time(&w, "ORD-1", 35_000, false).await;
    let second = one_time(&w, "ORD-2", 20_000, false).await;
    let d1 = w.service.deposits().record_deposit(notice("T-1", &first, 35_000)).await.unwrap();
    // The reversal of T-1 as the earlier layout stored it: under the notice key of its own id.
    let bank: vaccount::domain::ProviderId = "bank".parse().unwrap();
    let claim = ReversalClaim {
        provider: bank.clone(),
        transaction_id: "T-9".parse().unwrap(),
        original_transaction_id: "T-1".parse().unwrap(),
        deposit_id: d1.deposit_id.clone().unwrap(),
        received_at: t0(),
        answered: None,
    };
    let legacy = repo::deposits::put_legacy_reversal(&claim).unwrap();
    w.service.table().transact(vec![legacy]).await.unwrap();
    // A provider that numbers deposits apart from reversals now sends a deposit T-9.
    let d9 = w.service.deposits().record_deposit(notice("T-9", &second, 20_000)).await.unwrap();
    assert_ne!(d9.deposit_id, d1.deposit_id, "recorded as its own deposit, not answered as the old reversal");
    assert_eq!(account_now(&w, &second).await.status, Status::Paid);
    let again = w.service.deposits().reverse_deposit(reversal("T-9", "T-1")).await.unwrap();
    assert_eq!(again.deposit_id, d1.deposit_id, "the old reversal still answers from its record, now under its own key");
}
