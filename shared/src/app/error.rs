//! The errors a use case can end in. `http::problem` maps each to its public form, once.

pub use crate::fields::FieldError;
use crate::fields::Invalid;
use crate::ports::StoreError;
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
    /// Storage failed or kept conflicting; the caller may retry. The detail is for logs only.
    #[error("unavailable: {0}")]
    Unavailable(String),
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
            other => AppError::Unavailable(other.to_string()),
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
            race => AppError::Unavailable(format!("the records kept changing ({race}); try again")),
        }
    }
}

impl From<crate::domain::MoneyOverflow> for AppError {
    fn from(e: crate::domain::MoneyOverflow) -> AppError {
        AppError::Unavailable(e.to_string())
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
    fn every_provider_refusal_is_unauthorized_and_unrecognised_reads_like_an_unknown_provider() {
        assert_eq!(AppError::from(ProviderError::Unrecognised), AppError::Unauthorized(UNRECOGNISED));
        assert_eq!(AppError::from(ProviderError::Denied("invalid provider signature")), AppError::Unauthorized("invalid provider signature"));
        assert!(matches!(AppError::from(ProviderError::Invalid(Invalid::field("orderId", "bad"))), AppError::Invalid { .. }));
    }
}
