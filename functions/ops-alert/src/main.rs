//! Builds the clients once per cold start (Slack URL, ops mailbox and, for email, the
//! messaging provider, from the secret `VACCOUNT_OPS_ALERT_SECRET` names), then handles every
//! batch with them.

use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use std::sync::Arc;
use vaccount::app::alerts::AlertConsumer;
use vaccount::net::OutboundHttp;
use vaccount::ports::HttpSender;
use vaccount::providers::alerting::alert_channel_from_lookup;
use vaccount::providers::messaging::messenger_from_lookup;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let config = vaccount::aws::sdk_config().await;
    let service = vaccount::aws::service_from_env().await?;
    let settings = vaccount::aws::secret_settings(&config, "VACCOUNT_OPS_ALERT_SECRET").await?;
    let http: Arc<dyn HttpSender> = Arc::new(OutboundHttp::trusted()?);
    let messenger = match settings.get("VACCOUNT_MESSAGING_URL") {
        Some(_) => Some(messenger_from_lookup(|name| settings.get(name), http.clone(), None)?),
        None => None,
    };
    let channel = alert_channel_from_lookup(|name| settings.get(name), http, messenger, None)?;
    let consumer = AlertConsumer::new(service, channel);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let alert =
        |event: LambdaEvent<SqsEvent>| async { Ok::<_, lambda_runtime::Error>(ops_alert::handle(&consumer, &sqs, event.payload, chrono::Utc::now()).await) };
    lambda_runtime::run(service_fn(alert)).await
}
