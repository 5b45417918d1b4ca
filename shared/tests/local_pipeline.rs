//! The in-process event path of `serve`: the embedded store's change stream, the dispatcher
//! and the durable local queues, with consumers whose answers the queues must obey exactly as
//! the SQS adapter does.

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;
use vaccount::app::consumer::{Consumer, MAX_RECEIVES, Outcome, Received};
use vaccount::app::{AppError, Service, Settings};
use vaccount::domain::{AccountRequest, AccountType, BankCode, EventType, Krw, Metadata, OrderId, OutboxEvent, QueueName};
use vaccount::local::{Dispatcher, LocalQueues, run_worker};
use vaccount::ports::{Clock, StoreError, Table};
use vaccount::store::{EmbeddedTable, SealedTable};
use vaccount::testing::{FixedClock, seed_pool, test_key};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap()
}

struct Local {
    dir: tempfile::TempDir,
    raw: Arc<EmbeddedTable>,
    table: Arc<dyn Table>,
    clock: Arc<FixedClock>,
}

impl Local {
    fn open(dir: tempfile::TempDir, clock: Arc<FixedClock>) -> Local {
        let path = dir.path().join("vaccount.redb");
        // A store just dropped is released when its writer thread has noticed.
        let mut opened = EmbeddedTable::open_with_stream(&path, "EVENT");
        for _ in 0..200 {
            if opened.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            opened = EmbeddedTable::open_with_stream(&path, "EVENT");
        }
        let raw = Arc::new(opened.unwrap());
        let table: Arc<dyn Table> = Arc::new(SealedTable::new(raw.clone(), test_key()));
        Local { dir, raw, table, clock }
    }

    fn new() -> Local {
        Local::open(tempfile::tempdir().unwrap(), FixedClock::new(t0()))
    }

    fn service(&self) -> Arc<Service> {
        Arc::new(Service::new(self.table.clone(), self.clock.clone(), Settings::default()))
    }

    fn queues(&self) -> Arc<LocalQueues> {
        LocalQueues::new(self.table.clone(), self.clock.clone())
    }

    fn dispatcher(&self, queues: &Arc<LocalQueues>) -> Dispatcher {
        Dispatcher { raw: self.raw.clone(), table: self.table.clone(), queues: queues.clone() }
    }
}

fn request(order: &str) -> AccountRequest {
    AccountRequest {
        order_id: order.parse::<OrderId>().unwrap(),
        kind: AccountType::OneTime,
        amount: Some(Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: Some(t0() + Duration::hours(72)),
        allow_partial: false,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    }
}

fn kinds(messages: &[vaccount::local::QueuedMessage]) -> Vec<EventType> {
    messages.iter().map(|m| serde_json::from_str::<OutboxEvent>(&m.body).unwrap().kind()).collect()
}

#[tokio::test]
async fn every_event_reaches_each_of_its_queues_exactly_once() {
    let local = Local::new();
    let service = local.service();
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 3).await;
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-1")).await.unwrap();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-2")).await.unwrap();
    let queues = local.queues();
    let dispatcher = local.dispatcher(&queues);
    // Two issues; the pool of 3 runs low (threshold 100), raising pool.low once.
    assert_eq!(dispatcher.dispatch_once().await.unwrap(), 3);
    assert_eq!(dispatcher.dispatch_once().await.unwrap(), 0, "the checkpoint moved with the messages");

    let webhooks = queues.pending(QueueName::MerchantWebhooks).await.unwrap();
    assert_eq!(kinds(&webhooks), vec![EventType::AccountIssued, EventType::AccountIssued]);
    assert_eq!(kinds(&queues.pending(QueueName::CustomerNotices).await.unwrap()), vec![EventType::AccountIssued; 2]);
    assert_eq!(kinds(&queues.pending(QueueName::OpsAlerts).await.unwrap()), vec![EventType::PoolLow]);
    // The body is the event as merchants see it, decrypted from the sealed item.
    let mut orders: Vec<String> = webhooks
        .iter()
        .map(|m| serde_json::from_str::<serde_json::Value>(&m.body).unwrap()["data"]["virtual_account"]["order_id"].as_str().unwrap().to_owned())
        .collect();
    orders.sort();
    assert_eq!(orders, vec!["ORD-1", "ORD-2"]);
}

#[tokio::test]
async fn the_stream_and_its_checkpoint_survive_a_reopen() {
    let local = Local::new();
    let service = local.service();
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 500).await;
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-1")).await.unwrap();
    let queues = local.queues();
    assert_eq!(local.dispatcher(&queues).dispatch_once().await.unwrap(), 1);
    drop((service, queues));

    let Local { dir, raw, table, clock } = local;
    drop((raw, table));
    let local = Local::open(dir, clock);
    let service = local.service();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-2")).await.unwrap();
    let queues = local.queues();
    let dispatcher = local.dispatcher(&queues);
    assert_eq!(dispatcher.dispatch_once().await.unwrap(), 1, "only the new event: the stream was trimmed and its numbers go on");
    let mut orders: Vec<String> = queues
        .pending(QueueName::MerchantWebhooks)
        .await
        .unwrap()
        .iter()
        .map(|m| serde_json::from_str::<serde_json::Value>(&m.body).unwrap()["data"]["virtual_account"]["order_id"].as_str().unwrap().to_owned())
        .collect();
    // Queued at the same instant of the test clock: their order among themselves is not defined.
    orders.sort();
    assert_eq!(orders, vec!["ORD-1", "ORD-2"]);
}

/// Answers each delivery with the next scripted outcome and records the receive counts.
struct Scripted {
    clock: Arc<FixedClock>,
    script: Mutex<Vec<Step>>,
    seen: Mutex<Vec<u32>>,
}

#[derive(Clone, Copy)]
enum Step {
    Fail,
    RetryIn(i64),
    Done,
}

#[async_trait]
impl Consumer for Scripted {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError> {
        self.seen.lock().unwrap().push(message.receive_count);
        let step = {
            let mut script = self.script.lock().unwrap();
            if script.len() > 1 { script.remove(0) } else { script[0] }
        };
        match step {
            Step::Fail => Err(AppError::from(StoreError::Unavailable("receiver down".into()))),
            Step::RetryIn(secs) => Ok(Outcome::RetryAt(self.clock.now() + Duration::seconds(secs))),
            Step::Done => Ok(Outcome::Done),
        }
    }
}

async fn until(mut check: impl FnMut() -> bool) {
    for _ in 0..400 {
        if check() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("condition not reached in 4 s");
}

async fn one_issued_message(local: &Local) -> Arc<LocalQueues> {
    let service = local.service();
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 500).await;
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-1")).await.unwrap();
    let queues = local.queues();
    local.dispatcher(&queues).dispatch_once().await.unwrap();
    queues
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_applies_done_retry_and_error_as_sqs_would() {
    let local = Local::new();
    let queues = one_issued_message(&local).await;
    let consumer =
        Arc::new(Scripted { clock: local.clock.clone(), script: Mutex::new(vec![Step::Fail, Step::RetryIn(30), Step::Done]), seen: Mutex::default() });
    tokio::spawn(run_worker(queues.clone(), QueueName::MerchantWebhooks, consumer.clone(), 4, CancellationToken::new()));

    until(|| consumer.seen.lock().unwrap().len() == 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(consumer.seen.lock().unwrap().len(), 1, "an error puts the message back for the visibility timeout");
    local.clock.advance(Duration::seconds(61));
    until(|| consumer.seen.lock().unwrap().len() == 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(consumer.seen.lock().unwrap().len(), 2, "not before the time it asked for");
    local.clock.advance(Duration::seconds(30));
    until(|| consumer.seen.lock().unwrap().len() == 3).await;
    assert_eq!(*consumer.seen.lock().unwrap(), vec![1, 2, 3]);
    for _ in 0..100 {
        if queues.pending(QueueName::MerchantWebhooks).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(queues.pending(QueueName::MerchantWebhooks).await.unwrap().is_empty(), "done means deleted");
    assert!(queues.dead_letters(QueueName::MerchantWebhooks).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_never_done_is_dead_lettered_after_its_last_receive() {
    let local = Local::new();
    let queues = one_issued_message(&local).await;
    let consumer = Arc::new(Scripted { clock: local.clock.clone(), script: Mutex::new(vec![Step::RetryIn(0)]), seen: Mutex::default() });
    tokio::spawn(run_worker(queues.clone(), QueueName::MerchantWebhooks, consumer.clone(), 4, CancellationToken::new()));

    until(|| consumer.seen.lock().unwrap().len() == MAX_RECEIVES as usize).await;
    for _ in 0..200 {
        if queues.dead_letters(QueueName::MerchantWebhooks).await.unwrap().len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let dead = queues.dead_letters(QueueName::MerchantWebhooks).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].received, MAX_RECEIVES);
    assert!(queues.pending(QueueName::MerchantWebhooks).await.unwrap().is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(*consumer.seen.lock().unwrap(), (1..=MAX_RECEIVES).collect::<Vec<_>>(), "never received again once dead");
}

/// Holds every message until released, then answers `Done`; counts the messages it was given.
#[derive(Default)]
struct Gate {
    taken: Mutex<usize>,
    open: tokio::sync::Notify,
}

#[async_trait]
impl Consumer for Gate {
    async fn consume(&self, _: &Received) -> Result<Outcome, AppError> {
        *self.taken.lock().unwrap() += 1;
        self.open.notified().await;
        Ok(Outcome::Done)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_settles_the_message_under_way_and_takes_no_other() {
    let local = Local::new();
    let service = local.service();
    seed_pool(&service, BankCode::Kookmin, "12345600000000", 500).await;
    let merchant = service.setup().create_merchant("Mall", vaccount::domain::Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-1")).await.unwrap();
    service.accounts().issue_account(&merchant.merchant_id, None, request("ORD-2")).await.unwrap();
    let queues = local.queues();
    local.dispatcher(&queues).dispatch_once().await.unwrap();
    assert_eq!(queues.pending(QueueName::MerchantWebhooks).await.unwrap().len(), 2);
    let gate = Arc::new(Gate::default());
    let stop = CancellationToken::new();
    let worker = tokio::spawn(run_worker(queues.clone(), QueueName::MerchantWebhooks, gate.clone(), 1, stop.clone()));

    until(|| *gate.taken.lock().unwrap() == 1).await;
    stop.cancel();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!worker.is_finished(), "the worker waits for the message it has under way");
    gate.open.notify_one();
    tokio::time::timeout(std::time::Duration::from_secs(4), worker).await.expect("the worker returns once it is settled").unwrap();
    assert_eq!(*gate.taken.lock().unwrap(), 1, "no message is taken after the stop");
    assert_eq!(queues.pending(QueueName::MerchantWebhooks).await.unwrap().len(), 1, "the one under way was settled; the other stays stored");
}

#[tokio::test]
async fn a_stopped_dispatcher_returns() {
    let local = Local::new();
    let queues = local.queues();
    let stop = CancellationToken::new();
    let dispatcher = tokio::spawn(local.dispatcher(&queues).run(stop.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stop.cancel();
    tokio::time::timeout(std::time::Duration::from_secs(2), dispatcher).await.expect("the dispatcher returns when stopped").unwrap();
}
