//! The errors a use case can end in. `http::problem` maps each to its public form, once.
//!
//! One rule for the cause of a failure: every error's `Display` names its cause, and its
//! `source()` returns it as a typed value. So a log line writes the error with `%` (the
//! whole chain, once), and code that must tell causes apart matches or downcasts them.

use super::exports::ExportError;
use crate::domain::MoneyOverflow;
use crate::domain::calendar::CalendarError;
use crate::domain::deposit::ReversalError;
use crate::domain::pool::PoolError;
pub use crate::fields::FieldError;
use crate::fields::Invalid;
use crate::ports::{AlertError, BlobError, StatementSourceError, StoreError};
use crate::providers::{ProviderError, StatementError};
use crate::repo::TxError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    #[error("the request is invalid")]
    Invalid { detail: String, errors: Vec<FieldError> },
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// An operator locked out after failed logins in a row.
    #[error("locked until {until}")]
    Locked { until: chrono::DateTime<chrono::Utc> },
    /// The action needs a fresh TOTP code from the acting operator (`X-TOTP-Code`).
    #[error("a fresh TOTP code is required")]
    StepUpRequired,
    /// An operator's password is older than 90 days: change it before logging in.
    #[error("the password has expired")]
    PasswordExpired,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("idempotency key in flight")]
    IdempotencyInFlight,
    #[error("idempotency key reused with a different request")]
    IdempotencyMismatch,
    #[error("no free account numbers for bank {bank}")]
    PoolExhausted { bank: String },
    /// The request body passed the transport's `limit` (in bytes); refused before any parsing.
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// Storage failed or kept conflicting; the caller may retry. The cause is for logs only.
    #[error("unavailable: {0}")]
    Unavailable(#[from] Unavailable),
}

/// Why a use case could not finish: what the caller may retry, and what a log shows.
/// Sources that are neither `Clone` nor `Eq` (I/O, JSON, joined tasks) are kept as their text,
/// so errors still compare in tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("{0}")]
    Store(#[source] StoreError),
    /// A transaction lost every retry to other writers.
    #[error("the records kept changing ({0}); try again")]
    Raced(#[source] TxError),
    #[error("{0}")]
    Blob(#[source] BlobError),
    #[error("{0}")]
    Money(#[source] MoneyOverflow),
    /// A stored pool number does not allow the change its account's record asks for.
    #[error("{0}")]
    Pool(#[source] PoolError),
    /// A stored deposit cannot be reversed as its records stand.
    #[error("{0}")]
    Reversal(#[source] ReversalError),
    #[error("{0}")]
    Calendar(#[source] CalendarError),
    #[error("{0}")]
    Statement(#[source] StatementSourceError),
    #[error("alert not posted: {0}")]
    Alert(#[source] AlertError),
    /// A read-decide-write loop used up its retries; `what` names the record and the step.
    #[error("{what}")]
    Contention { what: String },
    /// A record that another one says exists is missing or not what it should be.
    #[error("{0}")]
    Inconsistent(String),
    /// Records just written are not all readable yet (an index lags); a later run finds them.
    #[error("{what} are not all stored yet; run again")]
    NotYetStored { what: String },
    /// A batch (`job`) finished, but some of its parts failed, each named with its cause.
    #[error("{job} failed for {}", .failed.join("; "))]
    PartlyFailed { job: String, failed: Vec<String> },
    /// This deployment was built without the part (`what`) the request needs.
    #[error("{0} is not configured here")]
    NotConfigured(&'static str),
    /// Writing or reading local files (`what`) failed.
    #[error("{what}: {detail}")]
    Files { what: &'static str, detail: String },
    /// A value could not be encoded (JSON, an HTTP response).
    #[error("{0}")]
    Encoding(String),
    /// A spawned task (`task`) panicked or was cancelled before it finished.
    #[error("{task} did not finish: {detail}")]
    Aborted { task: &'static str, detail: String },
    /// A spreadsheet download could not be written.
    #[error("{0}")]
    Export(#[source] ExportError),
}

impl AppError {
    pub fn invalid(detail: impl Into<String>, errors: Vec<FieldError>) -> AppError {
        AppError::Invalid { detail: detail.into(), errors }
    }

    pub fn field(field: &str, message: impl std::fmt::Display) -> AppError {
        AppError::invalid("a field is invalid", vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::InvalidCursor => AppError::field("cursor", "is not a cursor of this listing"),
            other => Unavailable::Store(other).into(),
        }
    }
}

impl From<Invalid> for AppError {
    fn from(e: Invalid) -> AppError {
        AppError::Invalid { detail: e.detail, errors: e.errors }
    }
}

/// The one mapping of a provider's refusal: whatever the reader's reason, a callback nothing
/// shows to be the provider's is answered like an unknown provider (docs/providers.md).
impl From<ProviderError> for AppError {
    fn from(e: ProviderError) -> AppError {
        match e {
            ProviderError::Unrecognised => AppError::Unauthorized(UNRECOGNISED),
            ProviderError::Denied(reason) => AppError::Unauthorized(reason),
            ProviderError::Invalid(invalid) => invalid.into(),
            ProviderError::Lookup(store) => store.into(),
        }
    }
}

/// The answer to a notice from an unknown provider, an address outside its allowlist, or a
/// callback that is not the provider's: one text, so probing learns nothing.
pub(crate) const UNRECOGNISED: &str = "unknown provider or invalid signature";

/// A refused statement names each bad row as a field `line N: column`.
impl From<StatementError> for AppError {
    fn from(e: StatementError) -> AppError {
        let detail = format!("the statement is refused: {} error(s), nothing was imported", e.total);
        AppError::invalid(detail, e.errors.iter().map(|r| FieldError::new(format!("line {}: {}", r.line, r.field), &r.message)).collect())
    }
}

impl From<TxError> for AppError {
    fn from(e: TxError) -> AppError {
        match e {
            TxError::Store(e) => e.into(),
            race => Unavailable::Raced(race).into(),
        }
    }
}

impl From<MoneyOverflow> for AppError {
    fn from(e: MoneyOverflow) -> AppError {
        Unavailable::Money(e).into()
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> AppError {
        Unavailable::Blob(e).into()
    }
}

impl From<ExportError> for AppError {
    fn from(e: ExportError) -> AppError {
        Unavailable::Export(e).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderId;

    #[test]
    fn a_refused_statement_maps_to_field_errors_naming_the_line() {
        let provider: ProviderId = "bank".parse().unwrap();
        let statement = "type,transaction_id,original_transaction_id,bank_code,account_number,amount,depositor_name,occurred_at\n\
                         deposit,T-1,,004,12345678901234,0,,2026-11-24T10:00:00+09:00\n";
        let e: AppError = crate::providers::read_statement(&provider, statement.as_bytes()).unwrap_err().into();
        let AppError::Invalid { detail, errors } = e else { panic!("invalid") };
        assert!(detail.contains("nothing was imported"), "{detail}");
        assert_eq!(errors[0].field, "line 2: amount");
    }

    #[test]
    fn a_store_failure_keeps_its_typed_source_and_its_log_text() {
        let e = AppError::from(StoreError::Unavailable("timed out".into()));
        assert_eq!(e.to_string(), "unavailable: store unavailable: timed out");
        let cause = std::error::Error::source(&e).and_then(std::error::Error::source).and_then(|s| s.downcast_ref::<StoreError>());
        assert_eq!(cause, Some(&StoreError::Unavailable("timed out".into())));
        assert_eq!(AppError::from(StoreError::InvalidCursor), AppError::field("cursor", "is not a cursor of this listing"));
    }

    #[test]
    fn a_lost_race_money_and_blob_failures_are_unavailable_with_their_cause() {
        assert_eq!(AppError::from(TxError::Conflict), AppError::Unavailable(Unavailable::Raced(TxError::Conflict)));
        assert_eq!(AppError::from(TxError::Conflict).to_string(), "unavailable: the records kept changing (transaction conflict); try again");
        assert_eq!(AppError::from(TxError::Store(StoreError::Conflict)), AppError::Unavailable(Unavailable::Store(StoreError::Conflict)));
        assert_eq!(AppError::from(MoneyOverflow), AppError::Unavailable(Unavailable::Money(MoneyOverflow)));
        let blob = BlobError::Unavailable("S3 timed out".into());
        assert_eq!(AppError::from(blob.clone()).to_string(), format!("unavailable: {blob}"));
        let failed = Unavailable::PartlyFailed { job: "reconciliation".into(), failed: vec!["bank: a".into(), "toss: b".into()] };
        assert_eq!(failed.to_string(), "reconciliation failed for bank: a; toss: b");
    }

    #[test]
    fn every_provider_refusal_is_unauthorized_and_unrecognised_reads_like_an_unknown_provider() {
        assert_eq!(AppError::from(ProviderError::Unrecognised), AppError::Unauthorized(UNRECOGNISED));
        assert_eq!(AppError::from(ProviderError::Denied("invalid provider signature")), AppError::Unauthorized("invalid provider signature"));
        assert!(matches!(AppError::from(ProviderError::Invalid(Invalid::field("orderId", "bad"))), AppError::Invalid { .. }));
    }
}
