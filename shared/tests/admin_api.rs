//! The admin API over the whole router, as the dashboard and an operator's tools call it, on
//! both backends: every list's filters and paging, XLSX downloads read back with openpyxl
//! holding exactly the filtered rows, personal data masked without `pii` and an unmasked
//! answer audited, merchants created and changed (fee terms behind a step-up code, changes
//! audited with before and after, applying from the change on), API keys rotated, dead letters
//! resent, the home page's figures, the pool's stock and a settlement file.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;
use vaccount::app::audit::{Change, Origin};
use vaccount::app::settlements::Settlements;
use vaccount::app::{Service, Settings};
use vaccount::domain::deposit::DepositNotice;
use vaccount::domain::incident::{Incident, IncidentStatus, Severity};
use vaccount::domain::notice::Channel;
use vaccount::domain::operator::{AuditAction, Role};
use vaccount::domain::settlement::{Settlement, SettlementFile, Totals};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::webhook::{Delivery, DeliveryState, WebhookAttempt};
use vaccount::domain::{
    AccountRequest, AccountType, BankCode, Customer, EventId, EventType, Fee, IncidentId, Krw, MerchantId, Metadata, OutboxEvent, ProviderId, ProviderKind,
    SettlementId, VirtualAccount, WebhookEndpointId,
};
use vaccount::on_both_backends;
use vaccount::ports::{Clock, Condition};
use vaccount::repo;
use vaccount::repo::notices::{NoticeOutcome, NoticeRecord};
use vaccount::store::LocalBlobs;
use vaccount::testing::{
    Backend, FixedClock, OPERATOR_PASSWORD, TestOperator, TestTable, operator_session, python_json, repo_root, sample_events, sealed, table,
};

on_both_backends!(
    every_list_filters_pages_and_refuses_unknown_parameters,
    a_download_holds_exactly_the_filtered_rows_of_every_page,
    personal_data_is_masked_without_pii_and_shown_with_it_audited,
    merchants_are_created_and_changed_behind_a_step_up_and_audited,
    a_fee_change_applies_to_movements_from_the_change_on,
    api_keys_rotate_with_the_secret_shown_once,
    an_endpoints_dead_letters_are_resent_and_audited,
    the_overview_the_pool_and_a_settlement_file_answer,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    _files: tempfile::TempDir,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    settlements: Arc<Settlements>,
    router: Router,
    /// The two merchants in id order.
    m: Vec<MerchantId>,
    /// super_admin with pii; admin without; admin with pii; viewer.
    boss: TestOperator,
    kim: TestOperator,
    lee: TestOperator,
    view: TestOperator,
    accounts: Vec<VirtualAccount>,
}

/// Two merchants; provider `bank` with 40 numbers at 004 and 10 at 088; five accounts (two
/// with a customer to tell); four deposits: two matched, an underpayment and one to a number
/// nobody holds.
async fn world(backend: Backend) -> World {
    let t = table(backend).await;
    let files = tempfile::tempdir().unwrap();
    let clock = FixedClock::new(t0());
    let service = Arc::new(Service::new(sealed(t.table.clone()), clock.clone(), Settings::default()));
    let blobs = Arc::new(LocalBlobs::new(files.path().join("blobs")));
    let settlements = Arc::new(Settlements::new(&service, blobs, files.path().join("work")));
    let router = vaccount::http::all_routes(service.clone(), Some(settlements.clone()), Arc::new(vaccount::net::SystemResolver));
    let mut m = Vec::new();
    for name in ["Alpha Mall", "Beta Shop"] {
        m.push(service.setup().create_merchant(name, Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id);
    }
    m.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let bank: ProviderId = "bank".parse().unwrap();
    service.setup().add_provider(bank.clone(), ProviderKind::Generic, vec![]).await.unwrap();
    service.setup().add_pool_range(&bank, BankCode::Kookmin, &"12345600000000".parse().unwrap(), 40).await.unwrap();
    service.setup().add_pool_range(&bank, BankCode::Shinhan, &"88800000000000".parse().unwrap(), 10).await.unwrap();
    let boss = operator_session(&service, "boss", Role::SuperAdmin, true).await;
    let kim = operator_session(&service, "kim", Role::Admin, false).await;
    let lee = operator_session(&service, "lee", Role::Admin, true).await;
    let view = operator_session(&service, "view", Role::Viewer, false).await;
    let mut w = World { _t: t, _files: files, clock, service, settlements, router, m, boss, kim, lee, view, accounts: Vec::new() };
    let hong = Customer { name: Some("홍길동".into()), phone: Some("01012345678".into()), email: Some("hong@example.com".into()) };
    let kim_cs = Customer { name: Some("김철수".into()), phone: Some("01098765432".into()), email: None };
    w.accounts = vec![
        issue(&w, 0, "A-1", BankCode::Kookmin, Some(35_000), Some(hong)).await,
        issue(&w, 0, "A-2", BankCode::Shinhan, Some(50_000), None).await,
        issue(&w, 0, "A-3", BankCode::Kookmin, None, None).await,
        issue(&w, 1, "B-1", BankCode::Kookmin, Some(10_000), Some(kim_cs)).await,
        issue(&w, 1, "B-2", BankCode::Kookmin, Some(20_000), None).await,
    ];
    let a = w.accounts.clone();
    deposit(&w, "T-1", BankCode::Kookmin, a[0].account_number.as_str(), 35_000, "홍길동").await;
    deposit(&w, "T-2", BankCode::Shinhan, a[1].account_number.as_str(), 10_000, "이영희").await;
    deposit(&w, "T-3", BankCode::Kookmin, a[3].account_number.as_str(), 10_000, "김철수").await;
    deposit(&w, "T-4", BankCode::Kookmin, "12345699999999", 7_000, "박민수").await;
    w
}

async fn issue(w: &World, merchant: usize, order: &str, bank: BankCode, amount: Option<i64>, customer: Option<Customer>) -> VirtualAccount {
    w.clock.advance(Duration::minutes(1));
    let request = AccountRequest {
        order_id: order.parse().unwrap(),
        kind: if amount.is_some() { AccountType::OneTime } else { AccountType::Fixed },
        amount: amount.map(Krw::new),
        bank_code: bank,
        due_at: amount.map(|_| w.clock.now() + Duration::hours(72)),
        allow_partial: false,
        depositor_name: None,
        customer,
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    w.service.accounts().issue_account(&w.m[merchant], None, request).await.unwrap()
}

async fn deposit(w: &World, tx: &str, bank: BankCode, number: &str, amount: i64, name: &str) {
    w.clock.advance(Duration::minutes(1));
    let notice = DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        bank_code: bank,
        account_number: number.parse().unwrap(),
        amount: Krw::new(amount),
        depositor_name: Some(name.into()),
        deposited_at: w.clock.now(),
    };
    w.service.deposits().record_deposit(notice).await.unwrap();
}

/// What the router answered.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// A request as `who`'s browser sends it: the session cookie, the CSRF token on anything
/// but a GET, and a step-up code when given.
async fn call(w: &World, who: &TestOperator, method: &str, path: &str, body: Option<Value>, code: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(path).header("cookie", who.cookie_header()).header("content-type", "application/json");
    if method != "GET" {
        request = request.header("x-csrf-token", &who.csrf);
    }
    if let Some(code) = code {
        request = request.header("x-totp-code", code);
    }
    let body = body.map_or_else(axum::body::Body::empty, |b| axum::body::Body::from(b.to_string()));
    let response = w.router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    Answer { status: parts.status, headers: parts.headers, body: axum::body::to_bytes(body, usize::MAX).await.unwrap() }
}

async fn get(w: &World, who: &TestOperator, path: &str) -> Value {
    let answer = call(w, who, "GET", path, None, None).await;
    assert_eq!(answer.status, StatusCode::OK, "GET {path}: {}", String::from_utf8_lossy(&answer.body));
    answer.json()
}

/// Every row of a list, following `next_cursor` page after page (a page may be short).
async fn all_rows(w: &World, who: &TestOperator, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let (mut rows, mut pages, mut cursor): (Vec<Value>, usize, Option<String>) = (Vec::new(), 0, None);
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = get(w, who, &url).await;
        pages += 1;
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        rows.extend(data.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (rows, pages),
        }
    }
}

async fn ids(w: &World, path: &str) -> Vec<String> {
    all_rows(w, &w.view, path, 100).await.0.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

fn enc(text: &str) -> String {
    text.replace('+', "%2B")
}

/// The audit entries newest first, as the super_admin's list shows them.
async fn audit(w: &World, query: &str) -> Vec<Value> {
    all_rows(w, &w.boss, &format!("/admin/v1/audit?{query}"), 100).await.0
}

async fn every_list_filters_pages_and_refuses_unknown_parameters(backend: Backend) {
    let w = world(backend).await;
    let a: Vec<String> = w.accounts.iter().map(|a| a.id.to_string()).collect();
    let (m0, m1) = (w.m[0].as_str(), w.m[1].as_str());
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    let of = |idx: &[usize]| idx.iter().map(|i| a[*i].clone()).collect::<BTreeSet<_>>();

    // Merchants: newest first, by part of the name.
    let merchants = ids(&w, "/admin/v1/merchants").await;
    assert_eq!(merchants, [m1, m0]);
    assert_eq!(ids(&w, "/admin/v1/merchants?name=alpha").await.len(), 1);
    let one = get(&w, &w.view, "/admin/v1/merchants?name=beta").await;
    assert_eq!(one["data"][0]["name"], "Beta Shop");
    assert_eq!((one["data"][0]["fee_per_deposit"].clone(), one["data"][0]["fee_rate_bps"].clone()), (json!(300), Value::Null));

    // Virtual accounts: merchant, status, bank, amount range, order id, number, created window.
    let (every, pages) = all_rows(&w, &w.view, "/admin/v1/virtual-accounts", 2).await;
    assert_eq!(every.len(), 5);
    assert!(pages >= 3, "five accounts in pages of two");
    assert_eq!(every.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<BTreeSet<_>>(), of(&[0, 1, 2, 3, 4]), "no account skipped or repeated");
    assert!(every.iter().all(|r| r["merchant_id"].is_string() && r["provider"] == "bank"), "every row says whose it is");
    assert_eq!(set(ids(&w, &format!("/admin/v1/virtual-accounts?merchant_id={m0}")).await), of(&[0, 1, 2]));
    assert_eq!(set(ids(&w, "/admin/v1/virtual-accounts?status=paid").await), of(&[0, 3]));
    assert_eq!(set(ids(&w, "/admin/v1/virtual-accounts?bank_code=088").await), of(&[1]));
    assert_eq!(set(ids(&w, "/admin/v1/virtual-accounts?min_amount=15000&max_amount=40000").await), of(&[0, 4]));
    assert_eq!(set(ids(&w, &format!("/admin/v1/virtual-accounts?merchant_id={m1}&order_id=B-2")).await), of(&[4]));
    assert_eq!(set(ids(&w, &format!("/admin/v1/virtual-accounts?account_number={}", w.accounts[3].account_number.as_str())).await), of(&[3]));
    let window = format!("created_from={}&created_to={}", enc("2026-11-24T10:02:00+09:00"), enc("2026-11-24T10:04:00+09:00"));
    assert_eq!(set(ids(&w, &format!("/admin/v1/virtual-accounts?{window}")).await), of(&[1, 2, 3]));

    // Deposits: owner (a merchant or `unmatched`), status, bank, amounts, depositor, time.
    let deposits = all_rows(&w, &w.view, "/admin/v1/deposits", 3).await.0;
    assert_eq!(deposits.len(), 4);
    let unmatched = get(&w, &w.view, "/admin/v1/deposits?merchant_id=unmatched").await;
    assert_eq!(unmatched["data"].as_array().unwrap().len(), 1);
    assert_eq!((unmatched["data"][0]["merchant_id"].clone(), unmatched["data"][0]["amount"].clone()), (Value::Null, json!(7000)));
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/deposits?status=exception", 10).await.0.len(), 2);
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/deposits?merchant_id={m1}"), 10).await.0.len(), 1);
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/deposits?bank_code=088", 10).await.0[0]["amount"], 10_000);
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/deposits?min_amount=8000&max_amount=10000", 10).await.0.len(), 2);
    let named = all_rows(&w, &w.view, "/admin/v1/deposits?depositor=%EC%98%81%ED%9D%AC", 10).await.0;
    assert_eq!((named.len(), named[0]["amount"].clone()), (1, json!(10_000)), "part of the depositor's name");
    let late = format!("from={}", enc("2026-11-24T10:08:00+09:00"));
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/deposits?{late}"), 10).await.0.len(), 2);
    let by_number = all_rows(&w, &w.view, &format!("/admin/v1/deposits?account_number={}", w.accounts[0].account_number.as_str()), 10).await.0;
    assert_eq!(by_number.len(), 1);
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/deposits?merchant_id={m0}&order_id=A-2"), 10).await.0.len(), 1);

    // The exceptions queue: no merchant needed any more; a merchant or `unmatched`; state, reason.
    let queue = all_rows(&w, &w.view, "/admin/v1/exceptions", 1).await.0;
    assert_eq!(queue.len(), 2);
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/exceptions?merchant_id=unmatched", 10).await.0[0]["exception"]["reason"], "unknown_account");
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/exceptions?merchant_id={m0}"), 10).await.0[0]["exception"]["reason"], "underpaid");
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/exceptions?reason=underpaid&state=open", 10).await.0.len(), 1);
    assert!(all_rows(&w, &w.view, "/admin/v1/exceptions?state=resolved", 10).await.0.is_empty());
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/exceptions?min_amount=8000", 10).await.0.len(), 1);

    // Webhook endpoints (no secrets) and attempts.
    let endpoint = w.service.webhooks().create_webhook_endpoint(&w.m[0], "https://8.8.8.8/hooks", None, &vaccount::net::SystemResolver).await.unwrap();
    let listed = call(&w, &w.view, "GET", &format!("/admin/v1/webhook-endpoints?merchant_id={m0}"), None, None).await;
    assert_eq!(listed.json()["data"][0]["id"], endpoint.id.as_str());
    let secret = endpoint.current_secret().unwrap().to_string();
    assert!(!String::from_utf8_lossy(&listed.body).contains(&secret), "no signing secret in the list");
    assert_eq!(call(&w, &w.view, "GET", "/admin/v1/webhook-endpoints", None, None).await.status, StatusCode::BAD_REQUEST, "endpoints are per merchant");
    let attempt = |minute: i64, status: u16| WebhookAttempt {
        endpoint_id: endpoint.id.clone(),
        event_id: EventId::generate(t0()),
        round: EventId::generate(t0()),
        attempt: 1,
        status_code: Some(status),
        latency_ms: 20,
        error: (status >= 300).then(|| format!("HTTP {status}")),
        at: t0() + Duration::minutes(minute),
    };
    let writes = [attempt(1, 200), attempt(2, 500), attempt(3, 204)].iter().map(|a| repo::webhooks::put_attempt(a).unwrap()).collect();
    w.service.table().transact(writes).await.unwrap();
    let failed = get(&w, &w.view, "/admin/v1/webhook-attempts?outcome=failed").await;
    assert_eq!((failed["data"].as_array().unwrap().len(), failed["data"][0]["status_code"].clone()), (1, json!(500)));
    assert_eq!(failed["data"][0]["merchant_id"], m0);
    let window = format!("from={}", enc("2026-11-24T10:02:00+09:00"));
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/webhook-attempts?merchant_id={m0}&endpoint_id={}&{window}", endpoint.id), 1).await.0.len(), 2);

    // Customer notices, incidents, settlements, reconciliation reports.
    let event = EventId::generate(t0());
    let record = |channel: Channel, outcome: NoticeOutcome, minute: i64| NoticeRecord {
        event_id: event.clone(),
        channel: Some(channel),
        outcome,
        message_id: None,
        error: None,
        at: t0() + Duration::minutes(minute),
        attempts: 1,
        merchant_id: Some(w.m[1].clone()),
        virtual_account_id: Some(w.accounts[3].id.clone()),
        event_type: Some(EventType::AccountIssued),
    };
    let incident = |minute: i64, status: IncidentStatus| Incident {
        id: IncidentId::generate(t0() + Duration::minutes(minute)),
        kind: "pool.low".into(),
        subject: format!("bank-{minute}"),
        severity: Severity::Warning,
        status,
        count: 1,
        first_at: t0() + Duration::minutes(minute),
        last_at: t0() + Duration::minutes(minute),
        recent_at: Vec::new(),
        acknowledged_by: None,
        acknowledged_at: None,
        resolved_by: None,
        resolved_at: None,
        version: 1,
    };
    let settlement = |merchant: &MerchantId, day: &str| Settlement {
        id: SettlementId::generate(t0()),
        merchant_id: merchant.clone(),
        date: day.parse().unwrap(),
        totals: Totals::default(),
        payout_date: day.parse::<chrono::NaiveDate>().unwrap() + Duration::days(2),
        files: vec![SettlementFile { name: "settlement.csv".into(), sha256: "00".repeat(32), bytes: 1 }],
        exported_at: t0(),
        version: 1,
    };
    let mut writes = vec![
        repo::notices::put_record(&record(Channel::Sms, NoticeOutcome::Sent, 1)).unwrap(),
        repo::notices::put_record(&record(Channel::Email, NoticeOutcome::Failed, 2)).unwrap(),
        repo::incidents::put_incident(&incident(1, IncidentStatus::Open), Condition::NotExists).unwrap(),
        repo::incidents::put_incident(&incident(30, IncidentStatus::Resolved), Condition::NotExists).unwrap(),
        repo::settlements::put_settlement(&settlement(&w.m[0], "2026-11-20"), Condition::NotExists).unwrap(),
        repo::settlements::put_settlement(&settlement(&w.m[1], "2026-11-21"), Condition::NotExists).unwrap(),
    ];
    writes.push(repo::reconciliation::put_report(&sample_report("2026-11-22"), Condition::NotExists).unwrap());
    w.service.table().transact(writes).await.unwrap();
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/notices?channel=sms", 10).await.0.len(), 1);
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/notices?outcome=failed&event_type=virtual_account.issued", 10).await.0[0]["channel"], "email");
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/notices?merchant_id={m0}"), 10).await.0.len(), 0);
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/incidents", 1).await.0.len(), 2);
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/incidents?status=open", 10).await.0[0]["subject"], "bank-1");
    let opened_late = format!("from={}", enc("2026-11-24T10:10:00+09:00"));
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/incidents?{opened_late}"), 10).await.0[0]["subject"], "bank-30");
    let settled = all_rows(&w, &w.view, "/admin/v1/settlements?from=2026-11-01", 1).await.0;
    assert_eq!(settled.len(), 2);
    assert!(settled.iter().all(|s| s["merchant_id"].is_string() && s["exported_at"].as_str().unwrap().ends_with("+09:00")));
    assert_eq!(all_rows(&w, &w.view, &format!("/admin/v1/settlements?merchant_id={m1}&from=2026-11-21&to=2026-11-21"), 10).await.0.len(), 1);
    assert!(all_rows(&w, &w.view, "/admin/v1/settlements", 10).await.0.len() == 2, "the last 30 days by default");
    assert_eq!(all_rows(&w, &w.view, "/admin/v1/reconciliation-reports?provider=bank&from=2026-11-20&to=2026-11-23", 10).await.0.len(), 1);
    assert!(all_rows(&w, &w.view, "/admin/v1/reconciliation-reports?from=2026-11-23", 10).await.0.is_empty());

    // The audit log (super_admin): by operator, action and time.
    let logins = audit(&w, "operator=kim&action=login.succeeded").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["actor"], "kim");
    assert_eq!(audit(&w, "action=login.succeeded").await.len(), 4);
    assert!(audit(&w, &format!("action=login.succeeded&from={}", enc("2026-11-25T00:00:00+09:00"))).await.is_empty());

    // Unknown or malformed parameters are refused, by name.
    for path in [
        "/admin/v1/merchants?colour=red",
        "/admin/v1/virtual-accounts?depositor=x",
        "/admin/v1/deposits?status=paid",
        "/admin/v1/deposits?from=2026-11-24T10:00:00+09:00",
        "/admin/v1/exceptions?state=closed",
        "/admin/v1/webhook-attempts?outcome=maybe",
        "/admin/v1/notices?channel=fax",
        "/admin/v1/incidents?status=asleep",
        "/admin/v1/settlements?from=yesterday",
        "/admin/v1/reconciliation-reports?merchant_id=x",
        "/admin/v1/audit?action=nothing",
        "/admin/v1/deposits?min_amount=-1",
        "/admin/v1/deposits?format=pdf",
        "/admin/v1/virtual-accounts?limit=101",
        "/admin/v1/overview?limit=1",
    ] {
        let answer = call(&w, &w.boss, "GET", path, None, None).await;
        assert_eq!((answer.status, answer.code()), (StatusCode::BAD_REQUEST, "invalid_request".to_owned()), "{path}");
    }
    let backwards = call(&w, &w.view, "GET", "/admin/v1/deposits?min_amount=9&max_amount=1", None, None).await;
    assert_eq!(backwards.status, StatusCode::BAD_REQUEST);

    // The records behind the rows.
    let detail = get(&w, &w.view, &format!("/admin/v1/virtual-accounts/{}", w.accounts[0].id)).await;
    assert_eq!((detail["order_id"].clone(), detail["merchant_id"].clone()), (json!("A-1"), json!(m0)));
    assert_eq!(detail["deposits"].as_array().unwrap().len(), 1);
    let deposit_id = detail["deposits"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(get(&w, &w.view, &format!("/admin/v1/deposits/{deposit_id}")).await["amount"], 35_000);
    for missing in
        ["/admin/v1/virtual-accounts/va_01KWFX0000000000000000ZZ99", "/admin/v1/deposits/nonsense", "/admin/v1/merchants/mch_01KWFX0000000000000000ZZ99"]
    {
        assert_eq!(call(&w, &w.view, "GET", missing, None, None).await.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

fn sample_report(day: &str) -> vaccount::domain::reconciliation::ReportSummary {
    vaccount::domain::reconciliation::ReportSummary {
        provider: "bank".parse().unwrap(),
        date: day.parse().unwrap(),
        statement_sha256: "00".repeat(32),
        statement_rows: 3,
        matched: 3,
        recovered: 0,
        differences: 0,
        by_kind: Default::default(),
        differences_sha256: "00".repeat(32),
        file: SettlementFile { name: "reconciliation-bank.csv".into(), sha256: "00".repeat(32), bytes: 1 },
        reconciled_at: t0(),
        version: 1,
    }
}

/// Reads a downloaded XLSX back with openpyxl: every sheet's rows (header first) and each
/// cell's number format.
fn read_xlsx(answer: &Answer) -> (Vec<Vec<Value>>, Vec<Vec<Value>>) {
    assert_eq!(answer.status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.headers["content-type"], vaccount::http::download::XLSX_CONTENT_TYPE);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.xlsx");
    std::fs::write(&path, &answer.body).unwrap();
    let read = python_json([repo_root().join("scripts/xlsx_export.py"), path]);
    let sheets = read["sheets"].as_array().unwrap();
    let lines = |key: &str| sheets.iter().flat_map(|s| s[key].as_array().unwrap().iter().map(|r| r.as_array().unwrap().clone())).collect();
    (lines("rows"), lines("formats"))
}

/// The column headed `header` of a file's rows (header row first).
fn column(rows: &[Vec<Value>], header: &str) -> Vec<Value> {
    let at = rows[0].iter().position(|h| h == header).unwrap_or_else(|| panic!("no column {header}: {:?}", rows[0]));
    rows[1..].iter().map(|r| r[at].clone()).collect()
}

async fn a_download_holds_exactly_the_filtered_rows_of_every_page(backend: Backend) {
    let w = world(backend).await;
    // Every account: the file holds the rows of all the pages, in their order.
    let (pages, _) = all_rows(&w, &w.kim, "/admin/v1/virtual-accounts", 2).await;
    let file = call(&w, &w.kim, "GET", "/admin/v1/virtual-accounts?format=xlsx&limit=2", None, None).await;
    let disposition = file.headers["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''%EA%B0%80%EC%83%81%EA%B3%84%EC%A2%8C-20261124-"), "{disposition}");
    let (rows, _) = read_xlsx(&file);
    assert_eq!(rows[0][..5], [json!("가상계좌 ID"), json!("가맹점 ID"), json!("주문번호"), json!("유형"), json!("상태")]);
    assert_eq!(column(&rows, "가상계좌 ID"), pages.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), "exactly the listed rows, in order");
    assert_eq!(column(&rows, "청구금액").iter().filter(|v| v.is_number()).count(), 4, "amounts are numbers; the fixed account has none");

    // A filtered list: only its rows, amounts as won, times in KST, names masked.
    let file = call(&w, &w.kim, "GET", "/admin/v1/deposits?status=exception&format=xlsx", None, None).await;
    let (rows, formats) = read_xlsx(&file);
    assert_eq!(rows.len(), 3, "the header and the two exceptions");
    let mut amounts = column(&rows, "입금액");
    amounts.sort_by_key(|v| v.as_i64());
    assert_eq!(amounts, [json!(7000), json!(10_000)]);
    let at = rows[0].iter().position(|h| h == "입금액").unwrap();
    assert!(formats[1..].iter().all(|line| line[at] == "#,##0\"원\""), "won, shown as 35,000원: {formats:?}");
    let mut names = column(&rows, "입금자명");
    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(names, [json!("박*수"), json!("이*희")], "masked for an operator without pii");
    let mut times = column(&rows, "입금일시");
    times.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(times, [json!("2026-11-24 10:07:00"), json!("2026-11-24 10:09:00")], "deposit times in KST");

    // The download is audited with its query; a viewer may not download.
    let exported = audit(&w, "action=list.exported&operator=kim").await;
    assert_eq!(exported.len(), 2);
    assert_eq!(exported[0]["target"], "/admin/v1/deposits");
    assert_eq!(exported[0]["after"], json!({"query": {"status": "exception", "format": "xlsx"}, "rows": 2, "unmasked": false}));
    let refused = call(&w, &w.view, "GET", "/admin/v1/deposits?format=xlsx", None, None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "forbidden".to_owned()));

    // Every list downloads, its header row in Korean.
    let m0 = w.m[0].as_str();
    for path in [
        "/admin/v1/merchants".to_owned(),
        "/admin/v1/exceptions".to_owned(),
        "/admin/v1/webhook-attempts".to_owned(),
        format!("/admin/v1/webhook-endpoints?merchant_id={m0}"),
        "/admin/v1/notices".to_owned(),
        "/admin/v1/incidents".to_owned(),
        "/admin/v1/settlements".to_owned(),
        "/admin/v1/reconciliation-reports".to_owned(),
        "/admin/v1/audit".to_owned(),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let file = call(&w, &w.boss, "GET", &format!("{path}{sep}format=xlsx"), None, None).await;
        let (rows, _) = read_xlsx(&file);
        assert!(rows[0].iter().all(|h| h.as_str().is_some_and(|h| !h.is_empty())), "{path}: {:?}", rows[0]);
        let (json_rows, _) = all_rows(&w, &w.boss, &path, 100).await;
        // The audit log grows by the download itself: its file was taken before.
        let expected = if path == "/admin/v1/audit" { json_rows.len() - 1 } else { json_rows.len() };
        assert_eq!(rows.len() - 1, expected, "{path}");
    }
}

async fn personal_data_is_masked_without_pii_and_shown_with_it_audited(backend: Backend) {
    let w = world(backend).await;
    let path = format!("/admin/v1/virtual-accounts/{}", w.accounts[0].id);
    let masked = get(&w, &w.kim, &path).await;
    assert_eq!(masked["customer"], json!({"name": "홍*동", "phone": "010-****-5678", "email": "h***@example.com"}));
    assert_eq!(masked["deposits"][0]["depositor_name"], "홍*동");
    assert_eq!(masked["account_number"], w.accounts[0].account_number.as_str(), "our own account number is not personal data");
    let shown = get(&w, &w.lee, &path).await;
    assert_eq!(shown["customer"], json!({"name": "홍길동", "phone": "01012345678", "email": "hong@example.com"}));
    let unmasked = audit(&w, "action=pii.unmasked").await;
    assert_eq!(unmasked.len(), 1, "only the operator with pii saw it, once");
    assert_eq!((unmasked[0]["actor"].clone(), unmasked[0]["target"].clone()), (json!("lee"), json!(path)));

    // A refund's destination is the customer's own account: masked too.
    let held = all_rows(&w, &w.kim, "/admin/v1/exceptions?reason=underpaid", 10).await.0;
    let exception = held[0]["exception"]["id"].as_str().unwrap().to_owned();
    let refund = json!({"refund": {"bank_code": "088", "account_number": "110123456789", "holder": "이영희"}});
    let resolved = call(&w, &w.kim, "POST", &format!("/admin/v1/exceptions/{exception}/resolve"), Some(refund), None).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", String::from_utf8_lossy(&resolved.body));
    let as_kim = all_rows(&w, &w.kim, "/admin/v1/exceptions?state=resolved", 10).await.0;
    assert_eq!(as_kim[0]["resolution_detail"]["account_number"], "110-***-***789");
    assert_eq!(as_kim[0]["resolution_detail"]["holder"], "이*희");
    let as_lee = all_rows(&w, &w.lee, "/admin/v1/exceptions?state=resolved", 10).await.0;
    assert_eq!(as_lee[0]["resolution_detail"]["account_number"], "110123456789");

    // Files: masked without pii; shown with it, and the download says so in the audit log.
    let query = format!("/admin/v1/virtual-accounts?merchant_id={}&format=xlsx", w.m[0]);
    let (rows, _) = read_xlsx(&call(&w, &w.kim, "GET", &query, None, None).await);
    assert!(column(&rows, "고객명").contains(&json!("홍*동")));
    assert!(column(&rows, "고객 전화번호").contains(&json!("010-****-5678")));
    let (rows, _) = read_xlsx(&call(&w, &w.lee, "GET", &query, None, None).await);
    assert!(column(&rows, "고객명").contains(&json!("홍길동")));
    assert!(column(&rows, "고객 이메일").contains(&json!("hong@example.com")));
    let (rows, _) = read_xlsx(&call(&w, &w.kim, "GET", "/admin/v1/exceptions?state=resolved&format=xlsx", None, None).await);
    assert_eq!(column(&rows, "환불 계좌"), [json!("110-***-***789")]);
    let exports = audit(&w, "action=list.exported").await;
    let by = |who: &str| exports.iter().find(|e| e["actor"] == who && e["target"] == "/admin/v1/virtual-accounts").unwrap()["after"]["unmasked"].clone();
    assert_eq!((by("kim"), by("lee")), (json!(false), json!(true)));
    assert_eq!(audit(&w, "action=pii.unmasked&operator=lee").await.len(), 3, "the account, the resolved exceptions and the file");
    assert!(audit(&w, "action=pii.unmasked&operator=kim").await.is_empty());
}

/// A step-up code one step after the last one `who` used (the clock moves a step first).
fn next_code(w: &World, who: &TestOperator) -> String {
    w.clock.advance(Duration::seconds(30));
    who.code(w.clock.now(), 1)
}

async fn merchants_are_created_and_changed_behind_a_step_up_and_audited(backend: Backend) {
    let w = world(backend).await;
    let body = json!({"name": "감마 스토어", "fee_rate_bps": 150, "payout_days": 3, "name_mismatch": "hold"});
    let refused = call(&w, &w.boss, "POST", "/admin/v1/merchants", Some(body.clone()), None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "step_up_required".to_owned()));
    let wrong = call(&w, &w.boss, "POST", "/admin/v1/merchants", Some(body.clone()), Some("000000")).await;
    assert_eq!(wrong.code(), "step_up_required");
    assert_eq!(ids(&w, "/admin/v1/merchants").await.len(), 2, "nothing created without the code");
    let not_theirs = call(&w, &w.kim, "POST", "/admin/v1/merchants", Some(body.clone()), Some(&next_code(&w, &w.kim))).await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN, "an admin does not manage merchants");

    let created = call(&w, &w.boss, "POST", "/admin/v1/merchants", Some(body), Some(&next_code(&w, &w.boss))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.headers["cache-control"], "no-store");
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 64);
    let merchant = created["merchant"].clone();
    assert_eq!(
        (merchant["name"].clone(), merchant["fee_rate_bps"].clone(), merchant["fee_per_deposit"].clone(), merchant["payout_days"].clone()),
        (json!("감마 스토어"), json!(150), Value::Null, json!(3))
    );
    assert_eq!((merchant["name_mismatch"].clone(), merchant["accept_late"].clone()), (json!("hold"), json!(false)));
    assert_eq!(merchant["keys"][0]["id"], created["key_id"]);
    let id = merchant["id"].as_str().unwrap().to_owned();
    let detail = call(&w, &w.view, "GET", &format!("/admin/v1/merchants/{id}"), None, None).await;
    assert!(!String::from_utf8_lossy(&detail.body).contains(&secret), "the secret is shown once");
    assert_eq!(detail.json()["due_soon_lead_seconds"], 86_400, "the deployment's reminder lead");
    let entry = &audit(&w, "action=merchant.created").await[0];
    assert_eq!((entry["actor"].clone(), entry["target"].clone(), entry["after"]["name"].clone()), (json!("boss"), json!(id), json!("감마 스토어")));
    assert!(!entry.to_string().contains(&secret), "no secret in the audit log");

    // Policies change with a code too; each change is audited with before and after.
    let path = format!("/admin/v1/merchants/{id}");
    let changed =
        call(&w, &w.boss, "PATCH", &path, Some(json!({"accept_late": true, "require_exception_approval": true})), Some(&next_code(&w, &w.boss))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&changed.body));
    assert_eq!((changed.json()["accept_late"].clone(), changed.json()["require_exception_approval"].clone()), (json!(true), json!(true)));
    let entry = &audit(&w, "action=merchant.settings_changed").await[0];
    assert_eq!((entry["before"]["accept_late"].clone(), entry["after"]["accept_late"].clone()), (json!(false), json!(true)));
    assert_eq!(entry["target"], id);

    // Fee terms need the code; the same terms again are no change and need none.
    let fee = json!({"fee_per_deposit": 200});
    let refused = call(&w, &w.boss, "PATCH", &path, Some(fee.clone()), None).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::FORBIDDEN, "step_up_required".to_owned()));
    assert_eq!(get(&w, &w.view, &path).await["fee_rate_bps"], 150, "unchanged");
    let changed = call(&w, &w.boss, "PATCH", &path, Some(fee.clone()), Some(&next_code(&w, &w.boss))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&changed.body));
    assert_eq!((changed.json()["fee_per_deposit"].clone(), changed.json()["fee_rate_bps"].clone()), (json!(200), Value::Null));
    let entry = &audit(&w, "action=merchant.settings_changed").await[0];
    assert_eq!((entry["before"]["fee_rate_bps"].clone(), entry["after"]["fee_per_deposit"].clone()), (json!(150), json!(200)));
    // Every setting needs the code, not only the fee: turning maker-checker off would let one
    // operator send held money anywhere.
    let unchecked = call(&w, &w.boss, "PATCH", &path, Some(json!({"require_exception_approval": false})), None).await;
    assert_eq!((unchecked.status, unchecked.code()), (StatusCode::FORBIDDEN, "step_up_required".to_owned()));
    let same = call(&w, &w.boss, "PATCH", &path, Some(json!({"fee_per_deposit": 200, "name": "감마 몰"})), Some(&next_code(&w, &w.boss))).await;
    assert_eq!((same.status, same.json()["name"].clone()), (StatusCode::OK, json!("감마 몰")));
    assert_eq!(audit(&w, "action=merchant.settings_changed").await.len(), 3);
    let untouched = call(&w, &w.boss, "PATCH", &path, Some(json!({"payout_days": 3})), Some(&next_code(&w, &w.boss))).await;
    assert_eq!(untouched.status, StatusCode::OK);
    assert_eq!(audit(&w, "action=merchant.settings_changed").await.len(), 3, "nothing changed, nothing audited");

    for (bad, field) in [
        (json!({"due_soon_lead": 3600}), "due_soon_lead"),
        (json!({"fee_per_deposit": 1, "fee_rate_bps": 1}), "fee_rate_bps"),
        (json!({"fee_rate_bps": 10_001}), "fee_rate_bps"),
        (json!({"payout_days": 31}), "payout_days"),
        (json!({"name_mismatch": "ignore"}), "name_mismatch"),
        (json!({"name": " "}), "name"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let answer = call(&w, &w.boss, "PATCH", &path, Some(bad.clone()), Some(&next_code(&w, &w.boss))).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.json()["errors"][0]["field"], field, "{bad}");
    }
    assert_eq!(call(&w, &w.boss, "PATCH", &path, Some(json!({})), None).await.status, StatusCode::BAD_REQUEST);
    let unknown =
        call(&w, &w.boss, "PATCH", "/admin/v1/merchants/mch_01KWFX0000000000000000ZZ99", Some(json!({"accept_late": true})), Some(&next_code(&w, &w.boss)))
            .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn a_fee_change_applies_to_movements_from_the_change_on(backend: Backend) {
    let w = world(backend).await;
    // Alpha's 35,000 won deposit was recorded at 300 won a deposit; from now on 1.5 %.
    let path = format!("/admin/v1/merchants/{}", w.m[0]);
    let changed = call(&w, &w.boss, "PATCH", &path, Some(json!({"fee_rate_bps": 150})), Some(&next_code(&w, &w.boss))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", String::from_utf8_lossy(&changed.body));
    deposit(&w, "T-5", BankCode::Kookmin, w.accounts[2].account_number.as_str(), 10_000, "정수민").await;
    w.clock.set(parse_rfc3339("2026-11-25T01:00:00+09:00").unwrap());
    let settled = w.settlements.export_day(&w.m[0], "2026-11-24".parse().unwrap()).await.unwrap();
    assert_eq!(settled.totals.deposit_count, 2);
    assert_eq!(settled.totals.gross, Krw::new(45_000));
    assert_eq!(settled.totals.fee, Krw::new(300 + 150), "each movement at the terms in force when it was recorded");
    assert_eq!(settled.totals.vat, Krw::new(30 + 15));
}

fn signed(w: &World, key_id: &str, secret: &str) -> Request<axum::body::Body> {
    let ts = w.clock.now().timestamp();
    Request::builder()
        .method("GET")
        .uri("/v1/virtual-accounts")
        .header("x-va-key-id", key_id)
        .header("x-va-timestamp", ts.to_string())
        .header("x-va-signature", vaccount::testing::sign(secret, ts, "GET", "/v1/virtual-accounts", b""))
        .body(axum::body::Body::empty())
        .unwrap()
}

async fn api_keys_rotate_with_the_secret_shown_once(backend: Backend) {
    let w = world(backend).await;
    let created = w.service.setup().create_merchant("Delta", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    let (id, old) = (created.merchant_id.to_string(), created.key_id.to_string());
    let keys = format!("/admin/v1/merchants/{id}/keys");
    assert_eq!(call(&w, &w.kim, "POST", &keys, None, None).await.status, StatusCode::FORBIDDEN, "an admin does not rotate keys");

    let added = call(&w, &w.boss, "POST", &keys, None, None).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&added.body));
    assert_eq!(added.headers["cache-control"], "no-store");
    let added = added.json();
    let (new, secret) = (added["key_id"].as_str().unwrap().to_owned(), added["secret"].as_str().unwrap().to_owned());
    let detail = call(&w, &w.view, "GET", &format!("/admin/v1/merchants/{id}"), None, None).await;
    assert!(!String::from_utf8_lossy(&detail.body).contains(&secret));
    assert_eq!(detail.json()["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), [old.clone(), new.clone()]);
    let third = call(&w, &w.boss, "POST", &keys, None, None).await;
    assert_eq!((third.status, third.code()), (StatusCode::CONFLICT, "conflict".to_owned()), "at most two active keys");

    // Both sign until the old one is revoked; the last one stays.
    assert_eq!(w.router.clone().oneshot(signed(&w, &new, &secret)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(w.router.clone().oneshot(signed(&w, &old, &created.secret)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(call(&w, &w.boss, "DELETE", &format!("{keys}/{old}"), None, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(w.router.clone().oneshot(signed(&w, &old, &created.secret)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(w.router.clone().oneshot(signed(&w, &new, &secret)).await.unwrap().status(), StatusCode::OK);
    let last = call(&w, &w.boss, "DELETE", &format!("{keys}/{new}"), None, None).await;
    assert_eq!(last.status, StatusCode::CONFLICT, "the only key is kept");
    assert_eq!(call(&w, &w.boss, "DELETE", &format!("{keys}/{old}"), None, None).await.status, StatusCode::NOT_FOUND, "revoked already");

    let rotations = audit(&w, "action=merchant.key_rotated").await;
    assert_eq!(rotations.len(), 2);
    assert_eq!(rotations[1]["after"]["active_keys"], json!([old.clone(), new.clone()]));
    assert_eq!((rotations[0]["before"]["active_keys"].clone(), rotations[0]["after"]["active_keys"].clone()), (json!([old, new.clone()]), json!([new])));
    assert!(rotations.iter().all(|r| !r.to_string().contains(&secret) && !r.to_string().contains(&created.secret)), "no secret in the audit log");
}

async fn an_endpoints_dead_letters_are_resent_and_audited(backend: Backend) {
    let w = world(backend).await;
    let endpoint = w.service.webhooks().create_webhook_endpoint(&w.m[0], "https://8.8.8.8/hooks", None, &vaccount::net::SystemResolver).await.unwrap();
    let event = OutboxEvent::new(Some(w.m[0].clone()), sample_events::data(EventType::AccountPaid), w.clock.now());
    let now = w.clock.now();
    let dead = Delivery {
        state: DeliveryState::DeadLettered,
        attempts: 8,
        next_at: None,
        last_status: Some(500),
        version: 9,
        ..Delivery::new(event.id.clone(), event.id.clone(), endpoint.id.clone(), w.m[0].clone(), now)
    };
    let mut writes = repo::outbox::put_event(&event).unwrap().to_vec();
    writes.push(repo::webhooks::put_delivery(&dead, Condition::NotExists, now).unwrap());
    w.service.table().transact(writes).await.unwrap();

    let path = format!("/admin/v1/webhook-endpoints/{}/resend-dead-letters", endpoint.id);
    let first = call(&w, &w.kim, "POST", &path, None, None).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&first.body));
    let first = first.json();
    assert_eq!((first["resent"][0]["event_id"].clone(), first["more"].clone()), (json!(event.id.as_str()), json!(false)));
    let again = call(&w, &w.kim, "POST", &path, Some(json!({})), None).await.json();
    assert_eq!(again["resent"], json!([]), "a second click resends nothing");
    let requests: Vec<OutboxEvent> =
        repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap().into_iter().filter(|e| e.kind() == EventType::WebhookResendRequested).collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].id.as_str(), first["resent"][0]["round"].as_str().unwrap());

    let entries = audit(&w, "action=webhook.dead_letters_resent").await;
    assert_eq!(entries.len(), 2);
    assert_eq!((entries[1]["target"].clone(), entries[1]["after"]["resent"].clone()), (json!(endpoint.id.as_str()), json!([event.id.as_str()])));
    let nobody: WebhookEndpointId = "whe_01KWFX0000000000000000ZZ99".parse().unwrap();
    let none = call(&w, &w.kim, "POST", &format!("/admin/v1/webhook-endpoints/{nobody}/resend-dead-letters"), None, None).await;
    assert_eq!((none.status, none.json()["resent"].clone()), (StatusCode::ACCEPTED, json!([])), "no dead letters, nothing to do");
}

async fn log_in_again(w: &World, op: &TestOperator) -> TestOperator {
    let code = op.code(w.clock.now(), 0);
    let opened = w.service.operators().login(&op.name, OPERATOR_PASSWORD, &code, &Origin::default()).await.unwrap();
    TestOperator { cookie: opened.cookie, csrf: opened.session.csrf_token, ..op.clone() }
}

async fn the_overview_the_pool_and_a_settlement_file_answer(backend: Backend) {
    let mut w = world(backend).await;
    let overview = get(&w, &w.view, "/admin/v1/overview").await;
    let today = &overview["today"];
    assert_eq!(today["day"], "2026-11-24");
    assert_eq!((today["accounts_issued"]["count"].clone(), today["accounts_issued"]["complete"].clone()), (json!(5), json!(true)));
    assert_eq!((today["deposits"]["count"].clone(), today["deposits"]["amount"].clone()), (json!(4), json!(62_000)));
    assert_eq!(today["exceptions_open"]["count"], 2);
    assert_eq!(today["pool_low_threshold"], 100);
    assert_eq!(today["pool_low_banks"].as_array().unwrap().len(), 2, "36 and 10 free numbers, both under 100");
    assert_eq!(today["webhook_failure_rate_bps"], Value::Null, "no attempts today");
    let (hourly, daily) = (overview["series"]["hourly"].as_array().unwrap(), overview["series"]["daily"].as_array().unwrap());
    assert_eq!((hourly.len(), daily.len()), (24, 30));
    assert_eq!(hourly.iter().map(|b| b["count"].as_u64().unwrap()).sum::<u64>(), 4);
    assert_eq!(daily.last().unwrap()["amount"], 62_000);
    assert!(hourly[0]["start"].as_str().unwrap().ends_with("+09:00"), "times in KST");

    let pool = get(&w, &w.view, "/admin/v1/pool").await;
    let rows = pool["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let kookmin = rows.iter().find(|r| r["bank_code"] == "004").unwrap();
    assert_eq!((kookmin["imported"].clone(), kookmin["free"]["count"].clone(), kookmin["assigned"].clone()), (json!(40), json!(36), json!(4)));
    assert!(kookmin["bank_name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(kookmin["provider"], "bank");

    // A settlement file, as its merchant would get it; the download is audited. The day must
    // be over, and the sessions with it: the operators log in again.
    w.clock.set(parse_rfc3339("2026-11-25T01:00:00+09:00").unwrap());
    w.kim = log_in_again(&w, &w.kim).await;
    w.view = log_in_again(&w, &w.view).await;
    w.boss = log_in_again(&w, &w.boss).await;
    let settled = w.settlements.export_day(&w.m[0], "2026-11-24".parse().unwrap()).await.unwrap();
    let csv = settled.files.iter().find(|f| f.name.ends_with(".csv")).unwrap();
    let path = format!("/admin/v1/settlements/{}/2026-11-24/files/{}", w.m[0], csv.name);
    let file = call(&w, &w.kim, "GET", &path, None, None).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body.len() as u64, csv.bytes);
    assert_eq!(call(&w, &w.view, "GET", &path, None, None).await.status, StatusCode::FORBIDDEN, "a viewer does not download");
    let missing = format!("/admin/v1/settlements/{}/2026-11-24/files/none.csv", w.m[1]);
    assert_eq!(call(&w, &w.kim, "GET", &missing, None, None).await.status, StatusCode::NOT_FOUND);
    let entries = audit(&w, "action=list.exported&operator=kim").await;
    assert_eq!(entries[0]["target"], path);
}

/// An export of more rows than one page reads: the audit log's 1,050 entries of one action
/// come from two pages and all of them are in the file, newest first (embedded store only:
/// the emulator would take minutes over the writes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_spans_every_page_of_its_list() {
    let w = world(Backend::Embedded).await;
    for n in 0..1_050 {
        let change = Change::of(AuditAction::EventResent, format!("evt-{n}"));
        w.service.audit().record("robot", Some(Role::Admin), change, &Origin::default()).await.unwrap();
    }
    let (rows, _) = read_xlsx(&call(&w, &w.boss, "GET", "/admin/v1/audit?action=event.resent&format=xlsx", None, None).await);
    assert_eq!(rows.len(), 1 + 1_050);
    assert!(column(&rows, "작업").iter().all(|a| a == "event.resent"));
    let targets = column(&rows, "대상");
    assert_eq!((targets.first().unwrap().clone(), targets.last().unwrap().clone()), (json!("evt-1049"), json!("evt-0")), "newest first");
    let seqs: Vec<i64> = column(&rows, "순번").iter().map(|s| s.as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|p| p[0] > p[1]), "no entry twice, none skipped between pages");
    assert_eq!(audit(&w, "action=list.exported").await[0]["after"]["rows"], 1_050);
}
