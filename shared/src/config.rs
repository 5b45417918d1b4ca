//! The one error of reading a deployment's `VACCOUNT_*` settings, shared by every reader of
//! them: the use cases' knobs (`app::Settings`) and the outbound adapters chosen by settings
//! (`providers::messaging`, `providers::alerting`).

/// A setting that is missing or cannot be read, by its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {message}")]
pub struct SettingsError {
    pub name: String,
    pub message: String,
}
