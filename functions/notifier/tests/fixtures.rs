//! The `events/notifier` fixture through the handler, on the embedded store, with the file
//! sink `serve` uses when no messaging provider is configured.

use aws_lambda_events::event::sqs::SqsEvent;
use std::sync::Arc;
use vaccount::app::notices::NoticeConsumer;
use vaccount::providers::messaging::FileMessenger;
use vaccount::testing::fixtures::fixture_time;
use vaccount::testing::{Backend, FixedClock, table};

fn fixture(name: &str) -> SqsEvent {
    vaccount::testing::fixtures::sqs_fixture("notifier", name)
}


#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issued_fixture_tells_the_customer_once() {
    let t = table(Backend::Embedded).await;
    let service = vaccount::testing::service(vaccount::testing::sealed(t.table.clone()), FixedClock::new(fixture_time()));
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("notices.jsonl");
    let consumer = NoticeConsumer::new(service, Arc::new(FileMessenger::new(sink.clone())));

    let answer = notifier::handle(&consumer, &vaccount::testing::fixtures::offline_sqs(), fixture("issued.json"), fixture_time()).await;
    assert!(answer.batch_item_failures.is_empty());
    let sent = std::fs::read_to_string(&sink).unwrap();
    assert!(sent.contains("01012345678"), "알림톡 to the customer's phone: {sent}");
    assert!(sent.contains("customer@example.com"), "and an email: {sent}");
    let lines = sent.lines().count();

    // The queue delivers it again: nothing is sent twice.
    let again = notifier::handle(&consumer, &vaccount::testing::fixtures::offline_sqs(), fixture("issued.json"), fixture_time()).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(std::fs::read_to_string(&sink).unwrap().lines().count(), lines);
}
