//! Use cases, written against the ports. Each public function here is one thing a merchant,
//! provider or operator can do; the HTTP layer and the CLI only translate to and from them.

pub mod accounts;
pub mod auth;
pub mod deposits;
pub mod exceptions;
pub mod expiry;
pub mod error;
pub mod idempotency;
pub mod setup;

pub use error::{AppError, FieldError};

use crate::ports::{Clock, Table};
use chrono::Duration;
use std::sync::Arc;

/// Operational knobs, from the config file and `VACCOUNT_*` variables (serve) or the function's
/// environment (Lambda).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// How long a released number rests before it can be issued again.
    pub pool_cooldown: Duration,
    /// Fewer free numbers than this for a bank raises a `pool.low` ops event.
    pub pool_low_threshold: usize,
    /// How long an unfinished request holds its Idempotency-Key before another may take it over.
    pub idempotency_lease: Duration,
    /// How long a finished request's answer is replayed.
    pub idempotency_ttl: Duration,
    /// `Some(home)` when this deployment runs outside its home region (a standby): it serves
    /// reads and refuses changes, so two regions never write the same accounts.
    pub standby_of: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            pool_cooldown: Duration::days(30),
            pool_low_threshold: 100,
            idempotency_lease: Duration::seconds(30),
            idempotency_ttl: Duration::hours(24),
            standby_of: None,
        }
    }
}

/// Everything a use case needs: the storage and the time, chosen by whoever wires the app.
#[derive(Clone)]
pub struct Service {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

impl Service {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>, settings: Settings) -> Service {
        Service { table, clock, settings }
    }

    /// Changes happen only in the home region; failing over is redeploying the standby with
    /// itself as home (docs/decisions.md).
    pub fn ensure_writable(&self) -> Result<(), AppError> {
        match &self.settings.standby_of {
            None => Ok(()),
            Some(home) => Err(AppError::Unavailable(format!("standby region: changes go to {home}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {message}")]
pub struct SettingsError {
    pub name: String,
    pub message: String,
}

impl Settings {
    /// Reads each setting by its `VACCOUNT_*` name through `lookup` (the environment, a config
    /// file, or both); absent names keep their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let defaults = Settings::default();
        let number = |name: &str, default: i64, range: std::ops::RangeInclusive<i64>| -> Result<i64, SettingsError> {
            match lookup(name) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<i64>() {
                    Ok(n) if range.contains(&n) => Ok(n),
                    _ => Err(SettingsError {
                        name: name.to_owned(),
                        message: format!("must be an integer from {} to {}, got `{raw}`", range.start(), range.end()),
                    }),
                },
            }
        };
        Ok(Settings {
            pool_cooldown: Duration::days(number("VACCOUNT_POOL_COOLDOWN_DAYS", defaults.pool_cooldown.num_days(), 0..=365)?),
            pool_low_threshold: usize::try_from(number(
                "VACCOUNT_POOL_LOW_THRESHOLD",
                defaults.pool_low_threshold as i64,
                0..=1_000_000,
            )?)
            .unwrap_or(defaults.pool_low_threshold),
            idempotency_lease: Duration::seconds(number(
                "VACCOUNT_IDEMPOTENCY_LEASE_SECS",
                defaults.idempotency_lease.num_seconds(),
                1..=3600,
            )?),
            idempotency_ttl: defaults.idempotency_ttl,
            standby_of: None,
        })
    }
}
