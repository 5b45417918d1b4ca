//! AWS wiring for the Lambda functions: clients are built once per cold start from the
//! standard configuration chain (region, credentials, and `AWS_ENDPOINT_URL` for a local
//! emulator), and every name comes from the function's environment.

pub mod alarms;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod stream;

use crate::app::{Service, Settings};
use crate::ports::StoreError;
use crate::ports::{SystemClock, Table};
use crate::store::{DataKey, DynamoTable, SealedTable};
// Every SDK crate re-exports these two from the same smithy crates.
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error(transparent)]
    Settings(#[from] crate::app::SettingsError),
    #[error("data key: {0}")]
    DataKey(String),
    #[error("settings secret: {0}")]
    Secret(String),
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// An S3 client. Against an emulator (an endpoint URL is set), buckets go in the path:
/// `bucket.127.0.0.1`, the virtual-hosted name S3 uses by default, does not resolve.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some()).build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// The data key that seals records, from the Secrets Manager secret `secret_id` (name or ARN).
pub async fn data_key(config: &aws_config::SdkConfig, secret_id: &str) -> Result<DataKey, ConfigError> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let out = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        ConfigError::DataKey(format!("reading {secret_id}: {}", e.code().unwrap_or("unreachable")))
    })?;
    let secret = out.secret_string().ok_or_else(|| ConfigError::DataKey(format!("{secret_id} has no string value")))?;
    DataKey::from_secret(secret).map_err(|e: StoreError| ConfigError::DataKey(e.to_string()))
}

/// The data key from the secret named by `VACCOUNT_DATA_KEY_SECRET`.
pub async fn data_key_from_env(config: &aws_config::SdkConfig) -> Result<DataKey, ConfigError> {
    let secret = std::env::var("VACCOUNT_DATA_KEY_SECRET").map_err(|_| ConfigError::Missing("VACCOUNT_DATA_KEY_SECRET"))?;
    data_key(config, &secret).await
}

/// The sealed table named by `TABLE_NAME`, its data key from `VACCOUNT_DATA_KEY_SECRET`,
/// read-only outside the home region ([`in_home_region`]).
pub async fn table_from_env(config: &aws_config::SdkConfig) -> Result<Arc<dyn Table>, ConfigError> {
    let table = std::env::var("TABLE_NAME").map_err(|_| ConfigError::Missing("TABLE_NAME"))?;
    let key = data_key_from_env(config).await?;
    Ok(in_home_region(config, SealedTable::new(DynamoTable::new(aws_sdk_dynamodb::Client::new(config), table), key)))
}

/// `table` as this region may use it: whole in the home region, read-only in a standby (a
/// region other than `VACCOUNT_HOME_REGION`), so no use case can write there
/// (`store::StandbyTable`). Every way to a DynamoDB table goes through here.
pub fn in_home_region(config: &aws_config::SdkConfig, table: impl Table) -> Arc<dyn Table> {
    match standby_here(config) {
        Some(home) => Arc::new(crate::store::StandbyTable::new(table, home)),
        None => Arc::new(table),
    }
}

/// The home region, when this deployment is a standby of it.
fn standby_here(config: &aws_config::SdkConfig) -> Option<String> {
    standby_of(config.region().map(|r| r.as_ref()), std::env::var("VACCOUNT_HOME_REGION").ok().as_deref())
}

/// The service over the table named by `TABLE_NAME`, configured by `VACCOUNT_*` variables.
/// A function running outside `VACCOUNT_HOME_REGION` is a standby and refuses changes.
pub async fn service_from_env() -> Result<Arc<Service>, ConfigError> {
    let settings = Settings::from_lookup(|name| std::env::var(name).ok())?;
    let config = sdk_config().await;
    let table = table_from_env(&config).await?;
    Ok(Arc::new(Service::new(table, Arc::new(SystemClock), settings)))
}

/// Settlement files in the bucket named by `SETTLEMENT_BUCKET`, written first below
/// `/tmp/vaccount` (a function's ephemeral storage).
pub fn settlements_from_env(config: &aws_config::SdkConfig, service: &Service) -> Result<crate::app::settlements::Settlements, ConfigError> {
    let blobs = bucket_from_env(config)?;
    Ok(crate::app::settlements::Settlements::new(service, blobs, std::env::temp_dir().join("vaccount")))
}

/// The reconciler over the same bucket: statements in, reports out.
pub fn reconciler_from_env(config: &aws_config::SdkConfig, service: Arc<Service>) -> Result<crate::app::reconcile::Reconciler, ConfigError> {
    let blobs = bucket_from_env(config)?;
    let statements = Arc::new(crate::providers::statement::BlobStatements::new(blobs.clone()));
    Ok(crate::app::reconcile::Reconciler::new(service, blobs, statements, std::env::temp_dir().join("vaccount")))
}

/// The settlement bucket, read-only in a standby region like the table ([`in_home_region`]).
fn bucket_from_env(config: &aws_config::SdkConfig) -> Result<Arc<dyn crate::ports::BlobStore>, ConfigError> {
    let bucket = std::env::var("SETTLEMENT_BUCKET").map_err(|_| ConfigError::Missing("SETTLEMENT_BUCKET"))?;
    let blobs = s3::S3Blobs::new(s3_client(config), bucket);
    Ok(match standby_here(config) {
        Some(home) => Arc::new(crate::store::StandbyBlobs::new(blobs, home)),
        None => Arc::new(blobs),
    })
}

/// Settings kept in a Secrets Manager secret (provider credentials do not belong in plain
/// environment variables): a JSON object of `VACCOUNT_*` names to strings, from the secret the
/// environment variable `secret_var` names. Absent variable: no settings. Environment variables
/// of the same names win, so one value can be overridden without editing the secret.
pub async fn secret_settings(config: &aws_config::SdkConfig, secret_var: &'static str) -> Result<SettingsLookup, ConfigError> {
    let Ok(secret_id) = std::env::var(secret_var) else { return Ok(SettingsLookup::default()) };
    let client = aws_sdk_secretsmanager::Client::new(config);
    let out = client.get_secret_value().secret_id(&secret_id).send().await.map_err(|e| {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        ConfigError::Secret(format!("reading {secret_id}: {}", e.code().unwrap_or("unreachable")))
    })?;
    let text = out.secret_string().ok_or_else(|| ConfigError::Secret(format!("{secret_id} has no string value")))?;
    let values: std::collections::BTreeMap<String, String> =
        serde_json::from_str(text).map_err(|_| ConfigError::Secret(format!("{secret_id} must hold a JSON object of VACCOUNT_* names to strings")))?;
    Ok(SettingsLookup(values))
}

/// `VACCOUNT_*` settings: the environment first, then the values of a settings secret.
#[derive(Debug, Clone, Default)]
pub struct SettingsLookup(std::collections::BTreeMap<String, String>);

impl SettingsLookup {
    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().or_else(|| self.0.get(name).cloned())
    }
}

/// The home region, when this one (`running`) is not it.
pub fn standby_of(running: Option<&str>, home: Option<&str>) -> Option<String> {
    match (running, home) {
        (Some(running), Some(home)) if !home.is_empty() && running != home => Some(home.to_owned()),
        _ => None,
    }
}

/// What an AWS call's failure says, for logs and error messages: the service's error code and
/// message, or the kind of transport failure (never the request, which may carry records).
pub(crate) fn sdk_error_detail<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(s) => format!("{}: {}", s.err().code().unwrap_or("error"), s.err().message().unwrap_or("")),
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(_) => "could not reach the service".into(),
        _ => "the call failed".into(),
    }
}

/// JSON logs, as CloudWatch Logs Insights queries them.
pub fn init_logging() {
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")))
            .with_current_span(false)
            .without_time()
            .finish(),
    );
}

#[cfg(test)]
mod tests {
    use super::standby_of;

    #[test]
    fn only_a_region_other_than_home_is_a_standby() {
        assert_eq!(standby_of(Some("ap-northeast-1"), Some("ap-northeast-2")), Some("ap-northeast-2".into()));
        assert_eq!(standby_of(Some("ap-northeast-2"), Some("ap-northeast-2")), None);
        assert_eq!(standby_of(Some("ap-northeast-2"), None), None);
        assert_eq!(standby_of(None, Some("ap-northeast-2")), None);
    }
}
