//! `serve` settings: a flag beats a `VACCOUNT_*` variable, which beats `vaccount.toml`, which
//! beats the default. The file uses the variable names without the prefix, in lower case
//! (`pool_cooldown_days = 30`); an unknown key is an error, so a typo does not pass silently.

use crate::CliError;
use std::collections::BTreeMap;
use std::path::Path;
use vaccount::app::Settings;

/// The keys `vaccount.toml` accepts.
pub const KEYS: &[&str] = &["addr", "pool_cooldown_days", "pool_low_threshold", "idempotency_lease_secs", "log_format"];

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

    pub fn settings(&self) -> Result<Settings, CliError> {
        Settings::from_lookup(|name| self.lookup(name)).map_err(|e| CliError::Config(e.to_string()))
    }
}
