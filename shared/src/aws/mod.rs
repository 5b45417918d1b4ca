//! AWS wiring for the Lambda functions: clients are built once per cold start from the
//! standard configuration chain (region, credentials, and `AWS_ENDPOINT_URL` for a local
//! emulator), and every name comes from the function's environment.

use crate::app::{Service, Settings};
use crate::ports::SystemClock;
use crate::store::DynamoTable;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Settings(#[from] crate::app::SettingsError),
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The service over the table named by `TABLE_NAME`, configured by `VACCOUNT_*` variables.
pub async fn service_from_env() -> Result<Arc<Service>, ConfigError> {
    let table = std::env::var("TABLE_NAME").map_err(|_| ConfigError::Missing("TABLE_NAME"))?;
    let settings = Settings::from_lookup(|name| std::env::var(name).ok())?;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    Ok(Arc::new(Service::new(Arc::new(DynamoTable::new(client, table)), Arc::new(SystemClock), settings)))
}

/// JSON logs, as CloudWatch Logs Insights queries them.
pub fn init_logging() {
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
            )
            .with_current_span(false)
            .without_time()
            .finish(),
    );
}
