//! Customer notices and due-soon reminders, on both backends; the messaging provider is a real
//! local HTTP server (tests/fake_provider).

mod fake_provider;

use chrono::{DateTime, Duration, Utc};
use fake_provider::{Answer, FakeProvider, provider_settings};
use std::sync::Arc;
use vaccount::app::consumer::{Consumer, Outcome, Received};
use vaccount::app::notices::{NOTICE_RETRY, NoticeConsumer};
use vaccount::app::oversight::{NoticeOutcome, NoticeQuery};
use vaccount::app::{Service, Settings};
use vaccount::domain::notice::Channel;
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{
    AccountRequest, AccountType, BankCode, Customer, EventData, EventType, Krw, MerchantId, Metadata, OrderId, OutboxEvent, VirtualAccount,
};
use vaccount::net::OutboundHttp;
use vaccount::on_both_backends;
use vaccount::providers::messaging::messenger_from_lookup;
use vaccount::repo;
use vaccount::testing::{Backend, FixedClock, TestTable, seed_pool, table};

on_both_backends!(
    alimtalk_failure_falls_back_to_sms,
    failing_channels_retry_on_the_schedule_then_raise_notice_failed_without_personal_data,
    a_redelivered_event_sends_nothing_twice,
    an_account_without_contact_is_skipped,
    the_contact_is_the_accounts_not_the_merchant_facing_view_in_the_event,
    reminder_sweep_reminds_each_account_once_even_when_run_twice_or_concurrently,
    a_reminder_for_an_account_closed_meanwhile_is_not_sent,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    merchant: MerchantId,
    fake: FakeProvider,
    consumer: NoticeConsumer,
}

async fn world(backend: Backend) -> World {
    let t = table(backend).await;
    let clock = FixedClock::new(t0());
    let service = Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), clock.clone(), Settings::default()));
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 20).await;
    let fake = FakeProvider::start().await;
    let messenger = messenger_from_lookup(provider_settings(&fake), Arc::new(OutboundHttp::trusted().unwrap()), None).unwrap();
    let consumer = NoticeConsumer::new(service.clone(), messenger);
    World { _t: t, clock, service, merchant, fake, consumer }
}

fn customer(phone: bool, email: bool) -> Option<Customer> {
    Some(Customer { name: Some("홍길동".into()), phone: phone.then(|| "010-1234-5678".to_owned()), email: email.then(|| "hong@example.com".to_owned()) })
        .filter(|_| phone || email)
}

fn request(order: &str, due_in: Duration, customer: Option<Customer>) -> AccountRequest {
    AccountRequest {
        order_id: order.parse::<OrderId>().unwrap(),
        kind: AccountType::OneTime,
        amount: Some(Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: Some(t0() + due_in),
        allow_partial: false,
        depositor_name: None,
        customer,
        metadata: Metadata::new(),
        policy: Default::default(),
    }
}

/// The `virtual_account.issued` event of a freshly issued account, as the queue delivers it.
async fn issued(w: &World, order: &str, customer: Option<Customer>) -> (VirtualAccount, String) {
    let account = w.service.accounts().issue_account(&w.merchant, None, request(order, Duration::hours(72), customer)).await.unwrap();
    let events = repo::outbox::all_for(w.service.table().as_ref(), w.merchant.as_str()).await.unwrap();
    let event = events.into_iter().find(|e| matches!(&e.data, EventData::AccountIssued(d) if d.virtual_account.id == account.id)).unwrap();
    (account, serde_json::to_string(&event).unwrap())
}

fn received(body: &str, receive_count: u32) -> Received {
    Received { id: format!("m-{receive_count}"), body: body.to_owned(), receive_count }
}

async fn ops_events(w: &World, kind: EventType) -> Vec<OutboxEvent> {
    let events = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    events.into_iter().filter(|e| e.kind() == kind).collect()
}

async fn alimtalk_failure_falls_back_to_sms(backend: Backend) {
    let w = world(backend).await;
    w.fake.set("alimtalk", Answer::Decline);
    let (account, body) = issued(&w, "ORD-1", customer(true, false)).await;
    assert_eq!(w.consumer.consume(&received(&body, 1)).await.unwrap(), Outcome::Done);
    assert_eq!(w.fake.channels(), vec!["alimtalk", "sms"]);
    assert_eq!(w.fake.received()[1].body["recipientList"][0]["recipientNo"], "01012345678");
    assert!(w.fake.received()[1].body["body"].as_str().unwrap().contains("12345600"));
    // Operators see both records in the merchant's notice log, each naming what it was about.
    let query = NoticeQuery { merchant: Some(w.merchant.clone()), ..NoticeQuery::default() };
    let log = w.service.oversight().notices(&query, 10, None).await.unwrap().items;
    let mut seen: Vec<_> = log.iter().map(|r| (r.channel, r.outcome)).collect();
    seen.sort_by_key(|(channel, _)| channel.map(Channel::as_str));
    assert_eq!(seen, [(Some(Channel::Alimtalk), NoticeOutcome::Failed), (Some(Channel::Sms), NoticeOutcome::Sent)]);
    assert!(log.iter().all(|r| r.virtual_account_id.as_ref() == Some(&account.id) && r.event_type == Some(EventType::AccountIssued)));
}

async fn failing_channels_retry_on_the_schedule_then_raise_notice_failed_without_personal_data(backend: Backend) {
    let w = world(backend).await;
    for channel in ["alimtalk", "sms", "email"] {
        w.fake.set(channel, Answer::Status(500));
    }
    let (account, body) = issued(&w, "ORD-1", customer(true, true)).await;
    for (attempt, wait) in NOTICE_RETRY.iter().enumerate() {
        let outcome = w.consumer.consume(&received(&body, attempt as u32 + 1)).await.unwrap();
        assert_eq!(outcome, Outcome::RetryAt(t0() + *wait), "attempt {}", attempt + 1);
        assert!(ops_events(&w, EventType::NoticeFailed).await.is_empty());
    }
    let last = NOTICE_RETRY.len() as u32 + 1;
    assert_eq!(w.consumer.consume(&received(&body, last)).await.unwrap(), Outcome::Done);
    let failed = ops_events(&w, EventType::NoticeFailed).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].merchant_id.as_ref(), Some(&w.merchant));
    let EventData::NoticeFailed(notice) = &failed[0].data else { panic!("not notice.failed: {:?}", failed[0]) };
    assert_eq!(notice.virtual_account_id, account.id);
    assert!(notice.errors[&Channel::Sms].contains("500"));
    let text = serde_json::to_string(&failed[0]).unwrap();
    assert!(!text.contains("5678") && !text.contains("hong@") && !text.contains("홍길동"), "{text}");
    let gave_up = NoticeQuery { merchant: Some(w.merchant.clone()), outcome: Some(NoticeOutcome::GaveUp), ..NoticeQuery::default() };
    assert_eq!(w.service.oversight().notices(&gave_up, 10, None).await.unwrap().items.len(), 1, "the log shows the notice given up");
    // Given up: a later delivery sends nothing and raises nothing more.
    let sent = w.fake.received().len();
    assert_eq!(w.consumer.consume(&received(&body, last + 1)).await.unwrap(), Outcome::Done);
    assert_eq!((w.fake.received().len(), ops_events(&w, EventType::NoticeFailed).await.len()), (sent, 1));
}

async fn a_redelivered_event_sends_nothing_twice(backend: Backend) {
    let w = world(backend).await;
    let (_, body) = issued(&w, "ORD-1", customer(true, true)).await;
    assert_eq!(w.consumer.consume(&received(&body, 1)).await.unwrap(), Outcome::Done);
    assert_eq!(w.consumer.consume(&received(&body, 2)).await.unwrap(), Outcome::Done);
    assert_eq!(w.fake.channels(), vec!["alimtalk", "email"]);
}

async fn an_account_without_contact_is_skipped(backend: Backend) {
    let w = world(backend).await;
    let (_, body) = issued(&w, "ORD-1", None).await;
    assert_eq!(w.consumer.consume(&received(&body, 1)).await.unwrap(), Outcome::Done);
    assert!(w.fake.received().is_empty());
}

/// The event's `virtual_account` is the merchant's view of the account, whose customer part is
/// no address to send to (masked, as a view may show it): the notice goes to the contact the
/// account holds.
async fn the_contact_is_the_accounts_not_the_merchant_facing_view_in_the_event(backend: Backend) {
    let w = world(backend).await;
    let (_, body) = issued(&w, "ORD-1", customer(true, true)).await;
    let mut shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    shown["data"]["virtual_account"]["customer"] = serde_json::json!({"name": "홍*동", "phone": "010-****-5678", "email": "h***@example.com"});
    assert_eq!(w.consumer.consume(&received(&shown.to_string(), 1)).await.unwrap(), Outcome::Done);
    assert_eq!(w.fake.channels(), vec!["alimtalk", "email"]);
    assert_eq!(w.fake.received()[0].body["recipientList"][0]["recipientNo"], "01012345678");
    assert_eq!(w.fake.received()[1].body["receiverList"][0]["receiveMailAddr"], "hong@example.com");
}

fn reminds(event: &OutboxEvent, account: &VirtualAccount) -> bool {
    matches!(&event.data, EventData::AccountDueSoon(d) if d.virtual_account.id == account.id)
}

async fn due_soon_for(w: &World, account: &VirtualAccount) -> usize {
    ops_events(w, EventType::AccountDueSoon).await.iter().filter(|e| reminds(e, account)).count()
}

async fn reminder_sweep_reminds_each_account_once_even_when_run_twice_or_concurrently(backend: Backend) {
    let w = world(backend).await;
    let soon = w.service.accounts().issue_account(&w.merchant, None, request("SOON", Duration::hours(10), customer(true, false))).await.unwrap();
    let unreachable = w.service.accounts().issue_account(&w.merchant, None, request("NOBODY", Duration::hours(10), None)).await.unwrap();
    let later = w.service.accounts().issue_account(&w.merchant, None, request("LATER", Duration::hours(48), customer(false, true))).await.unwrap();
    let (a, b) = tokio::join!(w.service.reminders().sweep_due_soon(), w.service.reminders().sweep_due_soon());
    assert_eq!(a.unwrap().reminded + b.unwrap().reminded, 1);
    w.service.reminders().sweep_due_soon().await.unwrap();
    assert_eq!((due_soon_for(&w, &soon).await, due_soon_for(&w, &unreachable).await, due_soon_for(&w, &later).await), (1, 0, 0));
    w.clock.advance(Duration::hours(30));
    w.service.reminders().sweep_due_soon().await.unwrap();
    w.service.reminders().sweep_due_soon().await.unwrap();
    assert_eq!((due_soon_for(&w, &soon).await, due_soon_for(&w, &later).await), (1, 1));
    let event = ops_events(&w, EventType::AccountDueSoon).await.into_iter().find(|e| reminds(e, &later)).unwrap();
    assert_eq!(event.merchant_id.as_ref(), Some(&w.merchant));
    // The reminder reaches the customer by email, the only contact given.
    assert_eq!(w.consumer.consume(&received(&serde_json::to_string(&event).unwrap(), 1)).await.unwrap(), Outcome::Done);
    assert_eq!(w.fake.channels(), vec!["email"]);
    assert!(w.fake.received()[0].body["title"].as_str().unwrap().contains("입금기한 임박"));
}

async fn a_reminder_for_an_account_closed_meanwhile_is_not_sent(backend: Backend) {
    let w = world(backend).await;
    let account = w.service.accounts().issue_account(&w.merchant, None, request("SOON", Duration::hours(10), customer(true, false))).await.unwrap();
    w.service.reminders().sweep_due_soon().await.unwrap();
    let event = ops_events(&w, EventType::AccountDueSoon).await.remove(0);
    w.service.accounts().close_account(&w.merchant, &account.id).await.unwrap();
    assert_eq!(w.consumer.consume(&received(&serde_json::to_string(&event).unwrap(), 1)).await.unwrap(), Outcome::Done);
    assert!(w.fake.received().is_empty());
}
