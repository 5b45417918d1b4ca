//! The AWS event path against moto, through the real SDK: stream records → `aws::stream` →
//! `SnsPublisher` → topic → filtered, raw-delivery subscriptions → the three queues; then the
//! consumer side, `aws::sqs::handle_sqs_batch`, driven the way Lambda's SQS poller drives it.

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use vaccount::app::AppError;
use vaccount::app::consumer::{Consumer, MAX_RECEIVES, Outcome, Received};
use vaccount::aws::sns::SnsPublisher;
use vaccount::aws::sqs::handle_sqs_batch;
use vaccount::aws::stream::{outbox_event, publish_batch};
use vaccount::domain::{AccountRequest, AccountType, BankCode, EventType, Krw, Metadata, OutboxEvent, QueueName};
use vaccount::testing::{self, FixedClock, fixtures, moto_config, test_key};

// ---------------------------------------------------------------- the fan-out, as template.yaml declares it

struct Queue {
    url: String,
    arn: String,
    dead_letters_url: String,
}

struct Fanout {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    topic_arn: String,
    queues: BTreeMap<QueueName, Queue>,
}

fn unique(name: &str) -> String {
    format!("vaccount-test-{}-{name}", ulid::Ulid::new().to_string().to_lowercase())
}

/// A queue with its dead-letter queue: a message received `max_receives` times without being
/// deleted moves there on its next receive.
async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str, visibility_seconds: u32, max_receives: u32) -> Queue {
    let dead_letters_url = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
    let dead_letters_arn = queue_arn(sqs, &dead_letters_url).await;
    let redrive = serde_json::json!({"deadLetterTargetArn": dead_letters_arn, "maxReceiveCount": max_receives});
    let url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, visibility_seconds.to_string())
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let arn = queue_arn(sqs, &url).await;
    Queue { url, arn, dead_letters_url }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> String {
    let out = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn).send().await.unwrap();
    out.attributes.unwrap()[&QueueAttributeName::QueueArn].clone()
}

/// The events topic and its three queues, each subscribed with raw delivery and the filter
/// policy `QueueName::filter_policy` gives (the template holds the same, `template_policies.rs`).
async fn fanout() -> Fanout {
    let config = moto_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let topic_arn = sns.create_topic().name(unique("events")).send().await.unwrap().topic_arn.unwrap();
    let mut queues = BTreeMap::new();
    for name in QueueName::ALL {
        let queue = create_queue(&sqs, &unique(name.as_str()), 360, MAX_RECEIVES).await;
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(&queue.arn)
            .attributes("RawMessageDelivery", "true")
            .attributes("FilterPolicyScope", "MessageAttributes")
            .attributes("FilterPolicy", name.filter_policy().to_string())
            .send()
            .await
            .unwrap();
        queues.insert(name, queue);
    }
    Fanout { sns, sqs, topic_arn, queues }
}

/// Every message now visible in the queue (each one becomes invisible for its visibility timeout).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Message> {
    let mut all = Vec::new();
    loop {
        // No long polling: the test moto serves one request at a time (scripts/moto_server.py).
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        let batch = out.messages.unwrap_or_default();
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

/// Which queues each event id landed in, and how often.
async fn landed(fanout: &Fanout) -> BTreeMap<String, Vec<QueueName>> {
    let mut landed: BTreeMap<String, Vec<QueueName>> = BTreeMap::new();
    for (name, queue) in &fanout.queues {
        for message in drain(&fanout.sqs, &queue.url).await {
            let event: OutboxEvent = serde_json::from_str(message.body().unwrap()).expect("raw delivery: the body is the event");
            landed.entry(event.id.to_string()).or_default().push(*name);
        }
    }
    landed
}

fn assert_routed(events: &[OutboxEvent], landed: &BTreeMap<String, Vec<QueueName>>) {
    assert_eq!(landed.len(), events.len(), "every event landed somewhere, and nothing else did");
    for event in events {
        let mut expected = event.kind().queues().to_vec();
        expected.sort();
        assert_eq!(landed.get(event.id.as_str()), Some(&expected), "{} ({})", event.id, event.kind());
    }
}

fn fixture(name: &str) -> StreamBatch {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/event-publisher").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn events_of(batch: &StreamBatch) -> Vec<OutboxEvent> {
    batch.records.iter().filter_map(|r| outbox_event(r, &test_key()).unwrap()).collect()
}

// ---------------------------------------------------------------- publishing

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fixture_event_lands_in_exactly_the_queues_its_type_names() {
    let fanout = fanout().await;
    let publisher = SnsPublisher::new(fanout.sns.clone(), &fanout.topic_arn);
    let batch = fixture("outbox-batch.json");
    let report = publish_batch(&publisher, &test_key(), &batch).await;
    assert_eq!((report.published, report.failed), (3, None));

    let landed = landed(&fanout).await;
    assert_routed(&events_of(&batch), &landed);
    use QueueName::*;
    assert_eq!(landed["evt_01KWFX0000000000000000EV01"], [MerchantWebhooks, CustomerNotices], "virtual_account.paid");
    assert_eq!(landed["evt_01KWFX0000000000000000EV02"], [MerchantWebhooks], "deposit.matched");
    assert_eq!(landed["evt_01KWFX0000000000000000EV03"], [OpsAlerts], "pool.low");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_message_is_the_event_json_with_its_type_and_merchant_as_attributes() {
    let fanout = fanout().await;
    let publisher = SnsPublisher::new(fanout.sns.clone(), &fanout.topic_arn);
    let batch = fixture("outbox-batch.json");
    publish_batch(&publisher, &test_key(), &batch).await;
    let events: HashMap<String, OutboxEvent> = events_of(&batch).into_iter().map(|e| (e.id.to_string(), e)).collect();

    for queue in [&fanout.queues[&QueueName::MerchantWebhooks], &fanout.queues[&QueueName::OpsAlerts]] {
        for message in drain(&fanout.sqs, &queue.url).await {
            let body = message.body().unwrap();
            let event = &events[serde_json::from_str::<OutboxEvent>(body).unwrap().id.as_str()];
            assert_eq!(body, serde_json::to_string(event).unwrap(), "the very serialization, not an SNS envelope");
            let attributes = message.message_attributes().cloned().unwrap_or_default();
            assert_eq!(attributes["type"].string_value(), Some(event.kind().as_str()));
            let merchant = attributes.get("merchant_id").and_then(|a| a.string_value());
            assert_eq!(merchant, event.merchant_id.as_ref().map(|m| m.as_str()));
        }
    }
}

/// Reads the event items exactly as the table holds them (sealed), as the stream delivers
/// them, in the order they were written (event ids sort by time).
async fn stream_of_event_items(table: &vaccount::store::DynamoTable) -> StreamBatch {
    let out = testing::dynamo_client()
        .await
        .scan()
        .table_name(table.table_name())
        .filter_expression("sk = :event")
        .expression_attribute_values(":event", aws_sdk_dynamodb::types::AttributeValue::S("EVENT".into()))
        .send()
        .await
        .unwrap();
    let mut items = out.items.unwrap_or_default();
    items.sort_by_key(|item| item["pk"].as_s().unwrap().clone());
    let records: Vec<_> = items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            let image = serde_dynamo::Item::from(item);
            serde_json::json!({
                "eventID": format!("moto-{n}"),
                "eventName": "INSERT",
                "eventSource": "aws:dynamodb",
                "awsRegion": "ap-northeast-2",
                "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image, "SequenceNumber": format!("{:021}", n + 1), "SizeBytes": 1},
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records })).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_of_an_issue_and_a_deposit_reach_their_queues_from_the_sealed_table() {
    let table = testing::dynamo_table().await;
    let clock = FixedClock::new(fixtures::fixture_time());
    let service = testing::service(testing::sealed(Arc::new(table.clone())), clock);
    let merchant = testing::seed_merchant(service.table().as_ref(), fixtures::MERCHANT_ID, fixtures::KEY_ID, fixtures::SECRET, fixtures::fixture_time()).await;
    testing::seed_pool(&service, BankCode::Kookmin, "55500000000000", 5).await;
    let request = AccountRequest {
        order_id: "AWS-PATH-1".parse().unwrap(),
        kind: AccountType::OneTime,
        amount: Some(Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: Some(fixtures::fixture_time() + chrono::Duration::hours(72)),
        allow_partial: false,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    let account = service.accounts().issue_account(&merchant, None, request).await.unwrap();
    let notice = vaccount::domain::DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: "T-AWS-PATH-1".parse().unwrap(),
        bank_code: account.bank_code,
        account_number: account.account_number.clone(),
        amount: Krw::new(35_000),
        depositor_name: Some("홍길동".into()),
        deposited_at: fixtures::fixture_time(),
    };
    service.deposits().record_deposit(notice).await.unwrap();

    let batch = stream_of_event_items(&table).await;
    let events = events_of(&batch);
    let kinds: Vec<EventType> = events.iter().map(|e| e.kind()).collect();
    for kind in [EventType::AccountIssued, EventType::DepositMatched, EventType::AccountPaid] {
        assert!(kinds.contains(&kind), "{kind} among {kinds:?}");
    }
    let fanout = fanout().await;
    let report = publish_batch(&SnsPublisher::new(fanout.sns.clone(), &fanout.topic_arn), &test_key(), &batch).await;
    assert_eq!((report.published, report.failed), (events.len(), None));
    assert_routed(&events, &landed(&fanout).await);
    table.delete_table().await.unwrap();
}

// ---------------------------------------------------------------- consuming

/// A consumer that does what each message's body says.
struct Scripted {
    retry_in: chrono::Duration,
}

#[async_trait::async_trait]
impl Consumer for Scripted {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError> {
        match message.body.as_str() {
            "done" => Ok(Outcome::Done),
            "retry" => Ok(Outcome::RetryAt(Utc::now() + self.retry_in)),
            _ => Err(AppError::from(vaccount::ports::StoreError::Unavailable("the consumer failed".into()))),
        }
    }
}

/// One turn of Lambda's SQS poller: receive, invoke the function with the batch, delete what
/// the function did not report as failed.
async fn poll_once(sqs: &aws_sdk_sqs::Client, queue: &Queue, consumer: &dyn Consumer, now: DateTime<Utc>) -> Vec<String> {
    let messages = drain(sqs, &queue.url).await;
    let records: Vec<_> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": m.attributes().map(|a| a.iter().map(|(k, v)| (k.as_str().to_owned(), v.clone())).collect::<HashMap<_, _>>()),
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": queue.arn,
                "awsRegion": "ap-northeast-2",
            })
        })
        .collect();
    let event: SqsEvent = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
    let response = handle_sqs_batch(consumer, sqs, event, now).await;
    let failed: Vec<String> = response.batch_item_failures.into_iter().map(|f| f.item_identifier).collect();
    for message in &messages {
        if !failed.iter().any(|id| Some(id.as_str()) == message.message_id()) {
            sqs.delete_message().queue_url(&queue.url).receipt_handle(message.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
    failed
}

async fn send(sqs: &aws_sdk_sqs::Client, queue: &Queue, body: &str) -> String {
    sqs.send_message().queue_url(&queue.url).message_body(body).send().await.unwrap().message_id.unwrap()
}

/// (visible, in flight) messages of a queue.
async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> (u32, u32) {
    let out = sqs.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::All).send().await.unwrap();
    let attributes = out.attributes.unwrap();
    let count = |name: QueueAttributeName| attributes[&name].parse::<u32>().unwrap();
    (count(QueueAttributeName::ApproximateNumberOfMessages), count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
}

fn receive_count(message: &Message) -> u32 {
    message.attributes().unwrap()[&MessageSystemAttributeName::ApproximateReceiveCount].parse().unwrap()
}

async fn sqs_client() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&moto_config().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_done_message_is_deleted() {
    let sqs = sqs_client().await;
    let queue = create_queue(&sqs, &unique("consumer"), 30, 5).await;
    send(&sqs, &queue, "done").await;
    let failed = poll_once(&sqs, &queue, &Scripted { retry_in: chrono::Duration::zero() }, Utc::now()).await;
    assert!(failed.is_empty());
    assert_eq!(depth(&sqs, &queue.url).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_stays_invisible_until_its_time_then_comes_back_received_again() {
    let sqs = sqs_client().await;
    // The queue's own timeout is long: only the consumer's retry time can bring it back soon.
    let queue = create_queue(&sqs, &unique("consumer"), 300, 5).await;
    let id = send(&sqs, &queue, "retry").await;
    let consumer = Scripted { retry_in: chrono::Duration::seconds(2) };
    assert_eq!(poll_once(&sqs, &queue, &consumer, Utc::now()).await, [id.as_str()]);
    assert_eq!(depth(&sqs, &queue.url).await, (0, 1), "reported, kept, invisible");

    tokio::time::sleep(Duration::from_millis(3_200)).await;
    let again = drain(&sqs, &queue.url).await;
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].message_id(), receive_count(&again[0])), (Some(id.as_str()), 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_hours_away_keeps_the_message_out_of_sight() {
    let sqs = sqs_client().await;
    let queue = create_queue(&sqs, &unique("consumer"), 1, 5).await;
    send(&sqs, &queue, "retry").await;
    let consumer = Scripted { retry_in: chrono::Duration::hours(30) };
    poll_once(&sqs, &queue, &consumer, Utc::now()).await;
    // Past the queue's 1-second timeout, the changed visibility still holds it.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert!(drain(&sqs, &queue.url).await.is_empty());
    assert_eq!(depth(&sqs, &queue.url).await, (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_message_is_reported_and_comes_back_after_the_visibility_timeout() {
    let sqs = sqs_client().await;
    let queue = create_queue(&sqs, &unique("consumer"), 1, 5).await;
    let id = send(&sqs, &queue, "fail").await;
    let consumer = Scripted { retry_in: chrono::Duration::zero() };
    assert_eq!(poll_once(&sqs, &queue, &consumer, Utc::now()).await, [id.as_str()]);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let again = drain(&sqs, &queue.url).await;
    assert_eq!((again.len(), receive_count(&again[0])), (1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_keeps_failing_moves_to_the_dead_letter_queue_after_max_receives() {
    let sqs = sqs_client().await;
    let max_receives = 2;
    let queue = create_queue(&sqs, &unique("consumer"), 1, max_receives).await;
    let id = send(&sqs, &queue, "fail").await;
    let consumer = Scripted { retry_in: chrono::Duration::zero() };
    for _ in 0..max_receives {
        assert_eq!(poll_once(&sqs, &queue, &consumer, Utc::now()).await, [id.as_str()]);
        tokio::time::sleep(Duration::from_millis(1_200)).await;
    }
    // The next receive finds it over the limit: SQS moves it instead of delivering it.
    assert!(poll_once(&sqs, &queue, &consumer, Utc::now()).await.is_empty());
    let dead = drain(&sqs, &queue.dead_letters_url).await;
    assert_eq!(dead.iter().map(|m| m.message_id().unwrap()).collect::<Vec<_>>(), [id.as_str()]);
    assert_eq!(depth(&sqs, &queue.url).await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_reports_exactly_its_failed_and_retried_messages() {
    let sqs = sqs_client().await;
    let queue = create_queue(&sqs, &unique("consumer"), 300, 5).await;
    let _done = send(&sqs, &queue, "done").await;
    let retry = send(&sqs, &queue, "retry").await;
    let fail = send(&sqs, &queue, "fail").await;
    let mut failed = poll_once(&sqs, &queue, &Scripted { retry_in: chrono::Duration::seconds(60) }, Utc::now()).await;
    failed.sort();
    let mut expected = vec![retry, fail];
    expected.sort();
    assert_eq!(failed, expected);
    assert_eq!(depth(&sqs, &queue.url).await, (0, 2));
}
