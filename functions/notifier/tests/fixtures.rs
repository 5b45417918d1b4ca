//! The `events/notifier` fixture through the handler, on the embedded store, with the file
//! sink `serve` uses when no messaging provider is configured.

use aws_lambda_events::event::sqs::SqsEvent;
use std::sync::Arc;
use vaccount::app::Service;
use vaccount::app::notices::NoticeConsumer;
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{AccountRequest, AccountType, BankCode, Customer, Krw, Metadata, VirtualAccount};
use vaccount::providers::messaging::FileMessenger;
use vaccount::testing::fixtures::{ACCOUNT_ID, MERCHANT_ID, fixture_time};
use vaccount::testing::{Backend, FixedClock, table};

fn fixture(name: &str) -> SqsEvent {
    vaccount::testing::fixtures::sqs_fixture("notifier", name)
}

/// The account the fixture's `virtual_account.issued` reports, as its issue stored it: the
/// notifier reads whom to tell from the account.
async fn seed_issued_account(service: &Service) {
    let request = AccountRequest {
        order_id: "ORD-FIXTURE-1".parse().unwrap(),
        kind: AccountType::OneTime,
        amount: Some(Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: Some(parse_rfc3339("2026-11-29T17:46:40+09:00").unwrap()),
        allow_partial: false,
        depositor_name: Some("홍길동".into()),
        customer: Some(Customer { name: Some("홍길동".into()), phone: Some("01012345678".into()), email: Some("customer@example.com".into()) }),
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    let issued_at = parse_rfc3339("2026-11-26T17:46:40+09:00").unwrap();
    let account = VirtualAccount::issue(
        ACCOUNT_ID.parse().unwrap(),
        MERCHANT_ID.parse().unwrap(),
        "bank".parse().unwrap(),
        "12345600000000".parse().unwrap(),
        request,
        issued_at,
    );
    vaccount::repo::accounts::create_account(&account, None).unwrap().commit(service.table().as_ref()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issued_fixture_tells_the_customer_once() {
    let t = table(Backend::Embedded).await;
    let service = vaccount::testing::service(vaccount::testing::sealed(t.table.clone()), FixedClock::new(fixture_time()));
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("notices.jsonl");
    seed_issued_account(&service).await;
    let consumer = NoticeConsumer::new(service, Arc::new(FileMessenger::new(sink.clone())));

    let answer = notifier::handle(&consumer, &vaccount::testing::fixtures::offline_sqs(), fixture("issued.json"), fixture_time()).await;
    assert!(answer.batch_item_failures.is_empty());
    let sent = std::fs::read_to_string(&sink).unwrap();
    // The sink masks contacts; the masked forms still name the fixture customer's phone and email.
    let to: Vec<(String, String)> = sent
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| (v["channel"].as_str().unwrap().to_owned(), v["to"].as_str().unwrap().to_owned()))
        .collect();
    assert!(to.contains(&("alimtalk".to_owned(), "010-****-5678".to_owned())), "알림톡 to the customer's phone: {sent}");
    assert!(to.contains(&("email".to_owned(), "c***@example.com".to_owned())), "and an email: {sent}");
    assert!(!sent.contains("01012345678") && !sent.contains("customer@example.com"), "no clear contacts: {sent}");
    let lines = sent.lines().count();

    // The queue delivers it again: nothing is sent twice.
    let again = notifier::handle(&consumer, &vaccount::testing::fixtures::offline_sqs(), fixture("issued.json"), fixture_time()).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(std::fs::read_to_string(&sink).unwrap().lines().count(), lines);
}
