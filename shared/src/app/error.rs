//! The errors a use case can end in. `http::problem` maps each to its public form, once.

use crate::ports::StoreError;
use crate::repo::TxError;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl std::fmt::Display) -> FieldError {
        FieldError { field: field.into(), message: message.to_string() }
    }
}

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
