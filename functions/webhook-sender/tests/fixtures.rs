//! The `events/webhook-sender` fixture through the handler, on the embedded store, delivered
//! to a real local receiver.

use aws_lambda_events::event::sqs::SqsEvent;
use std::sync::{Arc, Mutex};
use vaccount::app::webhooks::WebhookConsumer;
use vaccount::app::{Service, Settings};
use vaccount::domain::MerchantId;
use vaccount::net::OutboundHttp;
use vaccount::testing::fixtures::{KEY_ID, MERCHANT_ID, SECRET, fixture_time};
use vaccount::testing::{Backend, FixedClock, seed_merchant, table};

fn fixture(name: &str) -> SqsEvent {
    vaccount::testing::fixtures::sqs_fixture("webhook-sender", name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_issued_fixture_is_delivered_signed_and_acknowledged() {
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |headers: http::HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let id = headers.get("webhook-id").unwrap().to_str().unwrap().to_owned();
                log.lock().unwrap().push((id, body));
                http::StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let t = table(Backend::Embedded).await;
    let clock = FixedClock::new(fixture_time());
    let settings = Settings { allow_private_webhooks: true, ..Settings::default() };
    let service = Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), clock, settings));
    let merchant: MerchantId = seed_merchant(service.table().as_ref(), MERCHANT_ID, KEY_ID, SECRET, fixture_time()).await;
    service.webhooks().create_webhook_endpoint(&merchant, &url, None, &vaccount::net::SystemResolver).await.unwrap();
    let consumer = WebhookConsumer::new(service, Arc::new(OutboundHttp::guarded(true).unwrap()));

    let answer = webhook_sender::handle(&consumer, &vaccount::testing::fixtures::offline_sqs(), fixture("issued.json"), fixture_time()).await;
    assert!(answer.batch_item_failures.is_empty(), "delivered, so Lambda deletes it");
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "evt_01KWFX0000000000000000EV01");
    let body: serde_json::Value = serde_json::from_str(&received[0].1).unwrap();
    assert_eq!(body["type"], "virtual_account.issued");
}
