//! Builds the clients once per cold start, then delivers every batch with them.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use vaccount::app::webhooks::WebhookConsumer;
use vaccount::net::OutboundHttp;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let config = vaccount::aws::sdk_config().await;
    let service = vaccount::aws::service_from_env().await?;
    let http = Arc::new(OutboundHttp::guarded(service.settings().allow_private_webhooks)?);
    let consumer = WebhookConsumer::new(service, http);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let deliver = |event: LambdaEvent<SqsEvent>| async {
        Ok::<_, lambda_runtime::Error>(webhook_sender::handle(&consumer, &sqs, event.payload, chrono::Utc::now()).await)
    };
    lambda_runtime::run(service_fn(deliver)).await
}
