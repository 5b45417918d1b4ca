//! Builds the clients once per cold start (the messaging provider's credentials from the
//! secret `VACCOUNT_NOTICE_PROVIDER_SECRET` names), then sends every batch with them.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use vaccount::app::notices::NoticeConsumer;
use vaccount::net::OutboundHttp;
use vaccount::providers::messaging::messenger_from_lookup;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let config = vaccount::aws::sdk_config().await;
    let service = vaccount::aws::service_from_env().await?;
    let settings = vaccount::aws::secret_settings(&config, "VACCOUNT_NOTICE_PROVIDER_SECRET").await?;
    let messenger = messenger_from_lookup(|name| settings.get(name), Arc::new(OutboundHttp::trusted()?), None)?;
    let consumer = NoticeConsumer::new(service, messenger);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let send =
        |event: LambdaEvent<SqsEvent>| async { Ok::<_, lambda_runtime::Error>(notifier::handle(&consumer, &sqs, event.payload, chrono::Utc::now()).await) };
    lambda_runtime::run(service_fn(send)).await
}
