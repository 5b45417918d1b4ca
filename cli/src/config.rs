//! `serve` settings: a flag beats a `VACCOUNT_*` variable, which beats `vaccount.toml`, which
//! beats the default. The file uses the variable names without the prefix, in lower case
//! (`pool_cooldown_days = 30`); an unknown key is an error, so a typo does not pass silently.

use crate::CliError;
use std::collections::BTreeMap;
use std::path::Path;
use vaccount::app::Settings;

/// The keys `vaccount.toml` accepts.
pub const KEYS: &[&str] = &[
    "addr",
    "pool_cooldown_days",
    "pool_low_threshold",
    "idempotency_lease_secs",
    "log_format",
    "expiry_sweep_interval",
    "webhook_retry_schedule",
    "allow_private_webhooks",
    "due_soon_lead",
    "alert_escalate_after",
    "alert_window",
    "event_feed_horizon",
    "notice_sink",
    "messaging_url",
    "messaging_app_key",
    "messaging_secret_key",
    "alimtalk_sender_key",
    "sms_sender",
    "email_sender",
    "slack_webhook_url",
    "ops_email",
];

#[derive(Debug, Default, Clone)]
pub struct ConfigFile(BTreeMap<String, String>);

impl ConfigFile {
    pub fn load(path: Option<&Path>) -> Result<ConfigFile, CliError> {
        let Some(path) = path else { return Ok(ConfigFile::default()) };
        let text = std::fs::read_to_string(path).map_err(|e| CliError::Config(format!("cannot read {}: {e}", path.display())))?;
        let table: toml::Table = text.parse().map_err(|e| CliError::Config(format!("{}: {e}", path.display())))?;
        let mut values = BTreeMap::new();
        for (key, value) in table {
            if !KEYS.contains(&key.as_str()) {
                return Err(CliError::Config(format!("{}: unknown key `{key}`; known keys: {}", path.display(), KEYS.join(", "))));
            }
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                other => return Err(CliError::Config(format!("{}: `{key}` must be a string or integer, got {other}", path.display()))),
            };
            values.insert(key, text);
        }
        Ok(ConfigFile(values))
    }

    /// `VACCOUNT_POOL_COOLDOWN_DAYS` from the environment, else `pool_cooldown_days` from the file.
    pub fn lookup(&self, env_name: &str) -> Option<String> {
        std::env::var(env_name).ok().or_else(|| {
            let key = env_name.strip_prefix("VACCOUNT_")?.to_ascii_lowercase();
            self.0.get(&key).cloned()
        })
    }

    /// `VACCOUNT_EXPIRY_SWEEP_INTERVAL`: `500ms`, `1s`, `2m`; one minute by default, as the
    /// schedule in AWS.
    pub fn sweep_interval(&self) -> Result<std::time::Duration, CliError> {
        match self.lookup("VACCOUNT_EXPIRY_SWEEP_INTERVAL") {
            None => Ok(std::time::Duration::from_secs(60)),
            Some(text) => parse_duration(&text)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| CliError::Config(format!("VACCOUNT_EXPIRY_SWEEP_INTERVAL: `{text}` is not a duration such as 500ms, 1s or 2m"))),
        }
    }

    pub fn settings(&self) -> Result<Settings, CliError> {
        Settings::from_lookup(|name| self.lookup(name)).map_err(|e| CliError::Config(e.to_string()))
    }
}

pub use vaccount::app::parse_duration;

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration("s"), None);
    }
}
