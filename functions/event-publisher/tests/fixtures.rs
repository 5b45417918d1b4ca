//! The `events/event-publisher` Streams batches against an in-memory `Publisher` (the SNS one is
//! exercised against moto in `shared/tests/aws_events.rs`).

use aws_lambda_events::event::dynamodb::Event;
use event_publisher::handle;
use std::sync::Mutex;
use vaccount::domain::{EventData, EventType, Krw, OutboxEvent};
use vaccount::ports::{PublishError, Publisher};
use vaccount::testing::test_key;

/// Keeps what it is given; refuses events of one type, as an unreachable topic would.
#[derive(Default)]
struct Recorder {
    published: Mutex<Vec<OutboxEvent>>,
    refuse: Option<EventType>,
}

#[async_trait::async_trait]
impl Publisher for Recorder {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError> {
        if self.refuse == Some(event.kind()) {
            return Err(PublishError("topic unavailable".into()));
        }
        self.published.lock().unwrap().push(event.clone());
        Ok(())
    }
}

impl Recorder {
    fn kinds(&self) -> Vec<&'static str> {
        self.published.lock().unwrap().iter().map(|e| e.kind().as_str()).collect()
    }
}

fn batch(name: &str) -> Event {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/event-publisher").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("DynamoDB Streams event")
}

fn failed_sequence_numbers(response: &aws_lambda_events::event::streams::DynamoDbEventResponse) -> Vec<String> {
    response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap_or_default()).collect()
}

#[tokio::test]
async fn every_outbox_insert_is_published_once_in_stream_order_and_other_records_are_left_alone() {
    let recorder = Recorder::default();
    let response = handle(&recorder, &test_key(), batch("outbox-batch.json")).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(recorder.kinds(), ["virtual_account.paid", "deposit.matched", "pool.low"]);
}

#[tokio::test]
async fn published_events_are_the_records_the_outbox_sealed() {
    let recorder = Recorder::default();
    handle(&recorder, &test_key(), batch("outbox-batch.json")).await;
    let published = recorder.published.lock().unwrap();
    let paid = &published[0];
    assert_eq!(paid.id.as_str(), "evt_01KWFX0000000000000000EV01");
    assert_eq!(paid.merchant_id.as_ref().map(|m| m.as_str()), Some(vaccount::testing::fixtures::MERCHANT_ID));
    let EventData::AccountPaid(balance) = &paid.data else { panic!("not virtual_account.paid: {paid:?}") };
    assert_eq!((balance.virtual_account.paid_amount, balance.deposit.amount), (Krw::new(35_000), Krw::new(35_000)));
    assert_eq!(published[2].merchant_id, None, "an operations event belongs to no merchant");
}

#[tokio::test]
async fn a_record_that_does_not_open_stops_the_batch_there() {
    let recorder = Recorder::default();
    let response = handle(&recorder, &test_key(), batch("unreadable-record.json")).await;
    assert_eq!(failed_sequence_numbers(&response), ["40000000000000000000000002"]);
    assert_eq!(recorder.kinds(), ["virtual_account.paid"], "nothing after the failed record goes out before the retry");
}

#[tokio::test]
async fn a_refused_publish_names_the_first_record_that_did_not_go_out() {
    let recorder = Recorder { refuse: Some(EventType::DepositMatched), ..Recorder::default() };
    let response = handle(&recorder, &test_key(), batch("outbox-batch.json")).await;
    assert_eq!(failed_sequence_numbers(&response), ["40000000000000000000000003"]);
    assert_eq!(recorder.kinds(), ["virtual_account.paid"]);
}

#[tokio::test]
async fn records_sealed_under_another_key_are_not_published() {
    let other_key = vaccount::store::DataKey::from_secret("another-data-key-secret-of-enough-length-0123456789").unwrap();
    let recorder = Recorder::default();
    let response = handle(&recorder, &other_key, batch("outbox-batch.json")).await;
    assert_eq!(failed_sequence_numbers(&response), ["40000000000000000000000001"]);
    assert!(recorder.kinds().is_empty());
}

#[test]
fn the_response_is_the_shape_lambda_reads() {
    let mut response = aws_lambda_events::event::streams::DynamoDbEventResponse::default();
    let mut failure = aws_lambda_events::event::streams::DynamoDbBatchItemFailure::default();
    failure.item_identifier = Some("42".into());
    response.batch_item_failures.push(failure);
    assert_eq!(serde_json::to_value(&response).unwrap(), serde_json::json!({"batchItemFailures": [{"itemIdentifier": "42"}]}));
}
