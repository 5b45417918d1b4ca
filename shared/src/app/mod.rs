//! Use cases, written against the ports. Each public function here is one thing a merchant,
//! provider or operator can do; the HTTP layer and the CLI only translate to and from them.

pub mod accounts;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod consumer;
pub mod deposits;
pub mod error;
pub mod exceptions;
pub mod expiry;
pub mod exports;
pub mod idempotency;
pub mod merchants;
pub mod notices;
pub mod operators;
pub mod oversight;
pub mod reconcile;
pub mod reminders;
pub mod settlement_files;
pub mod settlements;
pub mod setup;
pub mod webhooks;

pub use crate::config::SettingsError;
pub use error::{AppError, FieldError, Unavailable};

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
    /// The waits between webhook attempts; the delivery is dead-lettered after the last retry.
    pub webhook_retry_schedule: Vec<Duration>,
    /// Local development only: webhook URLs may be `http://` and point at loopback or private
    /// addresses.
    pub allow_private_webhooks: bool,
    /// How long before an account's due time its customer gets the due-soon reminder.
    pub due_soon_lead: Duration,
    /// This many alerts of one kind about one subject within `alert_window` page the on-call.
    pub alert_escalate_after: u32,
    pub alert_window: Duration,
    /// The events feed lists only events whose feed position is at least this old: longer
    /// than any transaction may take to commit (`repo::outbox::commit_window`), plus clock
    /// skew between servers, so no event can later appear behind a poller (docs/decisions.md, 21).
    pub event_feed_horizon: Duration,
    /// The addresses operators may use the admin API and dashboard from (every operator, on
    /// top of each one's own list); empty allows any.
    pub admin_allowed_ips: Vec<crate::domain::operator::IpRange>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            pool_cooldown: Duration::days(30),
            pool_low_threshold: 100,
            idempotency_lease: Duration::seconds(30),
            idempotency_ttl: Duration::hours(24),
            webhook_retry_schedule: [5, 300, 1800, 7200, 18_000, 36_000, 36_000].into_iter().map(Duration::seconds).collect(),
            allow_private_webhooks: false,
            due_soon_lead: Duration::hours(24),
            alert_escalate_after: 3,
            alert_window: Duration::minutes(10),
            event_feed_horizon: Duration::seconds(5).max(crate::repo::outbox::commit_window() + Duration::seconds(2)),
            admin_allowed_ips: Vec::new(),
        }
    }
}

/// The shared context of every use case: the store, the clock and the settings, chosen by
/// whoever wires the app (a Lambda's environment, `serve`'s config, a test). The use cases
/// live in small holders by area, each borrowing this context: `service.accounts()`,
/// `service.deposits()`, … An area's rules are in its own module, and a new area (the admin
/// work) is a new module and one accessor here, touching no other.
#[derive(Clone)]
pub struct Service {
    pub(crate) table: Arc<dyn Table>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Settings,
}

impl Service {
    pub fn new(table: Arc<dyn Table>, clock: Arc<dyn Clock>, settings: Settings) -> Service {
        Service { table, clock, settings }
    }

    /// The store, for adapters that read or migrate records through `repo` themselves.
    pub fn table(&self) -> &Arc<dyn Table> {
        &self.table
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn accounts(&self) -> accounts::Accounts<'_> {
        accounts::Accounts { service: self }
    }

    pub fn deposits(&self) -> deposits::Deposits<'_> {
        deposits::Deposits { service: self }
    }

    pub fn exceptions(&self) -> exceptions::Exceptions<'_> {
        exceptions::Exceptions { service: self }
    }

    pub fn webhooks(&self) -> webhooks::Webhooks<'_> {
        webhooks::Webhooks { service: self }
    }

    pub fn access(&self) -> auth::Access<'_> {
        auth::Access { service: self }
    }

    pub fn operators(&self) -> operators::Operators<'_> {
        operators::Operators { service: self }
    }

    pub fn audit(&self) -> audit::Audit<'_> {
        audit::Audit { service: self }
    }

    pub fn idempotency(&self) -> idempotency::Idempotency<'_> {
        idempotency::Idempotency { service: self }
    }

    pub fn incidents(&self) -> alerts::Incidents<'_> {
        alerts::Incidents { service: self }
    }

    pub fn expiry(&self) -> expiry::Expiry<'_> {
        expiry::Expiry { service: self }
    }

    pub fn reminders(&self) -> reminders::Reminders<'_> {
        reminders::Reminders { service: self }
    }

    pub fn setup(&self) -> setup::Setup<'_> {
        setup::Setup { service: self }
    }

    pub fn merchants(&self) -> merchants::Merchants<'_> {
        merchants::Merchants { service: self }
    }

    pub fn oversight(&self) -> oversight::Oversight<'_> {
        oversight::Oversight { service: self, budget: oversight::ScanBudget::DEFAULT }
    }
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
        let duration = |name: &str, default: Duration| -> Result<Duration, SettingsError> {
            match lookup(name) {
                None => Ok(default),
                Some(raw) => parse_duration(&raw)
                    .and_then(|d| Duration::from_std(d).ok())
                    .filter(|d| *d > Duration::zero())
                    .ok_or_else(|| SettingsError { name: name.to_owned(), message: format!("`{raw}` is not a duration such as 500ms, 1s, 10m or 24h") }),
            }
        };
        Ok(Settings {
            pool_cooldown: Duration::days(number("VACCOUNT_POOL_COOLDOWN_DAYS", defaults.pool_cooldown.num_days(), 0..=365)?),
            pool_low_threshold: usize::try_from(number("VACCOUNT_POOL_LOW_THRESHOLD", defaults.pool_low_threshold as i64, 0..=1_000_000)?)
                .unwrap_or(defaults.pool_low_threshold),
            idempotency_lease: Duration::seconds(number("VACCOUNT_IDEMPOTENCY_LEASE_SECS", defaults.idempotency_lease.num_seconds(), 1..=3600)?),
            idempotency_ttl: defaults.idempotency_ttl,
            webhook_retry_schedule: match lookup("VACCOUNT_WEBHOOK_RETRY_SCHEDULE") {
                None => defaults.webhook_retry_schedule,
                Some(raw) => parse_schedule(&raw).map_err(|message| SettingsError { name: "VACCOUNT_WEBHOOK_RETRY_SCHEDULE".into(), message })?,
            },
            allow_private_webhooks: match lookup("VACCOUNT_ALLOW_PRIVATE_WEBHOOKS").as_deref().map(str::trim) {
                None | Some("false") | Some("") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(SettingsError { name: "VACCOUNT_ALLOW_PRIVATE_WEBHOOKS".into(), message: format!("must be true or false, got `{other}`") });
                }
            },
            due_soon_lead: duration("VACCOUNT_DUE_SOON_LEAD", defaults.due_soon_lead)?,
            alert_escalate_after: u32::try_from(number("VACCOUNT_ALERT_ESCALATE_AFTER", i64::from(defaults.alert_escalate_after), 1..=1000)?)
                .unwrap_or(defaults.alert_escalate_after),
            alert_window: duration("VACCOUNT_ALERT_WINDOW", defaults.alert_window)?,
            event_feed_horizon: match duration("VACCOUNT_EVENT_FEED_HORIZON", defaults.event_feed_horizon)? {
                horizon if horizon > crate::repo::outbox::commit_window() => horizon,
                _ => {
                    return Err(SettingsError {
                        name: "VACCOUNT_EVENT_FEED_HORIZON".into(),
                        message: format!("must be longer than the {} ms events may take to commit", crate::repo::outbox::commit_window().num_milliseconds()),
                    });
                }
            },
            admin_allowed_ips: match lookup("VACCOUNT_ADMIN_ALLOWED_IPS") {
                None => Vec::new(),
                Some(raw) => raw
                    .split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|message| SettingsError { name: "VACCOUNT_ADMIN_ALLOWED_IPS".into(), message })?,
            },
        })
    }
}

/// `250ms`, `1s`, `5m`, `2h`: how durations are written in settings.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let millis = match unit {
        "ms" => n,
        "s" => n.checked_mul(1000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(std::time::Duration::from_millis(millis))
}

/// A retry schedule, `5s,5m,30m`: 1-20 waits, each more than zero and at most the 12 h a
/// queue can hold a message back (`consumer::MAX_DELAY`).
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    let waits = text
        .split(',')
        .map(|part| {
            parse_duration(part)
                .and_then(|d| Duration::from_std(d).ok())
                .filter(|d| *d > Duration::zero() && *d <= consumer::MAX_DELAY)
                .ok_or_else(|| format!("`{}` is not a wait from 1ms to 12h such as 5s, 5m or 2h", part.trim()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if waits.len() > 20 {
        return Err("at most 20 retries".into());
    }
    Ok(waits)
}
