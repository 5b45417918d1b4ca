//! The `events/ops-alert` fixtures (an outbox ops event and a CloudWatch alarm) through the
//! handler, on the embedded store, with the file channel.

use aws_lambda_events::event::sqs::SqsEvent;
use std::sync::Arc;
use vaccount::app::alerts::AlertConsumer;
use vaccount::domain::incident::{IncidentStatus, Severity};
use vaccount::providers::alerting::FileAlertChannel;
use vaccount::testing::fixtures::fixture_time;
use vaccount::testing::{Backend, FixedClock, table};

fn fixture(name: &str) -> SqsEvent {
    vaccount::testing::fixtures::sqs_fixture("ops-alert", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_alert_and_an_alarm_become_incidents_and_reach_the_channel() {
    let t = table(Backend::Embedded).await;
    let service = vaccount::testing::service(vaccount::testing::sealed(t.table.clone()), FixedClock::new(fixture_time()));
    let dir = tempfile::tempdir().unwrap();
    let sink = dir.path().join("alerts.jsonl");
    let consumer = AlertConsumer::new(service.clone(), Arc::new(FileAlertChannel::new(sink.clone())));

    for name in ["pool-low.json", "cloudwatch-alarm.json"] {
        let answer = ops_alert::handle(&consumer, &vaccount::testing::fixtures::offline_sqs(), fixture(name), fixture_time()).await;
        assert!(answer.batch_item_failures.is_empty(), "{name}");
    }
    let incidents = service.incidents().list_incidents(Some(IncidentStatus::Open), 10, None).await.unwrap().items;
    let mut seen: Vec<(String, String, Severity)> = incidents.iter().map(|i| (i.kind.clone(), i.subject.clone(), i.severity)).collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        seen,
        vec![
            ("alarm".to_owned(), "vaccount-dev-merchant-webhooks-dlq".to_owned(), Severity::Page),
            ("pool.low".to_owned(), "004".to_owned(), Severity::Warning),
        ]
    );
    assert_eq!(std::fs::read_to_string(&sink).unwrap().lines().count(), 2);
}
