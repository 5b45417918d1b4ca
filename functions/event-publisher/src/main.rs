//! Builds the SNS client and reads the data key once per cold start, then publishes every
//! stream batch with them.

use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    vaccount::aws::init_logging();
    let config = vaccount::aws::sdk_config().await;
    let publisher = vaccount::aws::sns::SnsPublisher::from_env(&config)?;
    let key = vaccount::aws::data_key_from_env(&config).await?;
    let publish = |event: LambdaEvent<Event>| async { Ok::<_, lambda_runtime::Error>(event_publisher::handle(&publisher, &key, event.payload).await) };
    lambda_runtime::run(service_fn(publish)).await
}
