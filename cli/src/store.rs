//! Where the CLI's data lives: the embedded store in `--data-dir`, or a DynamoDB table.

use crate::CliError;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vaccount::app::{Service, Settings};
use vaccount::ports::{SystemClock, Table};
use vaccount::store::{DataKey, DynamoTable, EmbeddedTable, SealedTable};

pub const STORE_FILE: &str = "vaccount.redb";
/// The data key of an embedded store. Back it up with the store: without it the sealed
/// records (secrets, customer data) cannot be read.
pub const KEY_FILE: &str = "data.key";

pub enum Location {
    DataDir(PathBuf),
    Dynamo(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::DataDir(dir) => write!(f, "{}", dir.display()),
            Location::Dynamo(table) => write!(f, "dynamodb://{table}"),
        }
    }
}

impl Location {
    pub fn from_flags(data_dir: &Path, store: Option<&str>) -> Result<Location, CliError> {
        match store {
            None => Ok(Location::DataDir(data_dir.to_owned())),
            Some(url) => match url.strip_prefix("dynamodb://") {
                Some(table) if !table.is_empty() && table.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) => {
                    Ok(Location::Dynamo(table.to_owned()))
                }
                _ => Err(CliError::Config(format!("--store must be dynamodb://TABLE_NAME, got `{url}`"))),
            },
        }
    }
}

/// Every opener keeps the change stream of outbox events, so that events written by a setup
/// command while `serve` is stopped are dispatched when it starts.
pub fn open_embedded(data_dir: &Path) -> Result<EmbeddedTable, CliError> {
    std::fs::create_dir_all(data_dir)?;
    EmbeddedTable::open_with_stream(&data_dir.join(STORE_FILE), vaccount::repo::outbox::EVENT_SORT_KEY).map_err(|e| CliError::Config(e.to_string()))
}

/// The data dir's data key, created (owner-only) with the store.
pub fn local_data_key(data_dir: &Path) -> Result<DataKey, CliError> {
    let path = data_dir.join(KEY_FILE);
    let secret = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = vaccount::domain::merchant::new_secret();
            crate::serve::write_private(&path, secret.as_bytes())?;
            secret
        }
        Err(e) => return Err(e.into()),
    };
    DataKey::from_secret(&secret).map_err(|e| CliError::Config(format!("{}: {e}", path.display())))
}

/// The embedded store with its records sealed, and the raw store for housekeeping.
pub fn open_local(data_dir: &Path) -> Result<(Arc<EmbeddedTable>, Arc<dyn Table>), CliError> {
    let raw = Arc::new(open_embedded(data_dir)?);
    let key = local_data_key(data_dir)?;
    Ok((raw.clone(), Arc::new(SealedTable::new(raw, key))))
}

async fn dynamo(table: &str) -> DynamoTable {
    DynamoTable::new(aws_sdk_dynamodb::Client::new(&vaccount::aws::sdk_config().await), table)
}

pub async fn open(location: &Location) -> Result<Arc<dyn Table>, CliError> {
    Ok(match location {
        Location::DataDir(dir) => open_local(dir)?.1,
        Location::Dynamo(table) => {
            let secret = std::env::var("VACCOUNT_DATA_KEY_SECRET")
                .map_err(|_| CliError::Config("set VACCOUNT_DATA_KEY_SECRET to the stack's data key secret (output DataKeySecretArn)".into()))?;
            let key = vaccount::aws::data_key(&vaccount::aws::sdk_config().await, &secret).await.map_err(|e| CliError::Config(e.to_string()))?;
            vaccount::aws::in_home_region(&vaccount::aws::sdk_config().await, SealedTable::new(dynamo(table).await, key))
        }
    })
}

/// The service for a setup command: settings from the environment, real time.
pub async fn service(location: &Location) -> Result<Service, CliError> {
    let settings = Settings::from_lookup(|name| std::env::var(name).ok()).map_err(|e| CliError::Config(e.to_string()))?;
    Ok(Service::new(open(location).await?, Arc::new(SystemClock), settings))
}

/// Creates the store if it does not exist, then brings older records up to date: merchants and
/// providers created before their listings existed are rewritten with them (the nightly jobs
/// find merchants and providers through those listings), and days exported before seals
/// existed are sealed. Returns how many were rewritten, and the exported days whose entries no
/// longer match their record.
pub async fn migrate(location: &Location) -> Result<(usize, Vec<vaccount::app::settlements::UnsettledDay>), CliError> {
    let (relisted, table) = match location {
        Location::DataDir(dir) => {
            let (raw, table) = open_local(dir)?;
            (relist_local(&raw, table.as_ref()).await?, table)
        }
        Location::Dynamo(name) => {
            let raw = dynamo(name).await;
            match raw.create_table(true).await {
                Ok(()) => {}
                Err(e) if e.to_string().contains("ResourceInUseException") => {}
                Err(e) => return Err(CliError::Config(e.to_string())),
            }
            let mut keys = Vec::new();
            for (pk_prefix, sk) in vaccount::repo::merchants::LISTED_RECORDS {
                keys.extend(raw.keys_with_prefix(pk_prefix, sk).await.map_err(app_error)?);
            }
            let table = open(location).await?;
            let relisted = if keys.is_empty() { 0 } else { vaccount::repo::merchants::relist(table.as_ref(), &keys).await.map_err(app_error)? };
            (relisted, table)
        }
    };
    // Days exported before seals existed become final (decision 22).
    let unsettled = vaccount::app::settlements::seal_exported_days(table.as_ref(), chrono::Utc::now()).await?;
    Ok((relisted, unsettled))
}

/// The data dir's part of [`migrate`], also run by `serve` when it opens the store.
pub async fn relist_local(raw: &EmbeddedTable, table: &dyn Table) -> Result<usize, CliError> {
    let mut keys = Vec::new();
    for (pk_prefix, sk) in vaccount::repo::merchants::LISTED_RECORDS {
        keys.extend(raw.keys_with_prefix(pk_prefix, sk).await.map_err(app_error)?);
    }
    vaccount::repo::merchants::relist(table, &keys).await.map_err(app_error)
}

fn app_error(e: vaccount::ports::StoreError) -> CliError {
    CliError::App(e.into())
}
