//! Upstream providers. Each kind of provider has a [`NoticeReader`] that turns a raw callback
//! into a validated [`ProviderNotice`] after checking that it really comes from the provider,
//! applying whatever rules the provider's format needs (docs/providers.md); the use cases see
//! only the notice and [`ProviderError`], never a provider's wire format. [`reader_for`]
//! picks the reader of a kind. [`read_statement`] reads the daily statement every provider
//! delivers for reconciliation. `messaging` and `alerting` are the outbound adapters for
//! customer messages and ops alerts. (The built-in number pool lives in `repo::pool` and
//! `app::accounts`.)

pub mod alerting;
pub mod generic;
pub mod messaging;
pub mod statement;
pub mod tosspayments;

pub use statement::{RowError, StatementError, parse as read_statement};

use crate::domain::deposit::{DepositNotice, ReversalNotice};
use crate::domain::{Krw, Provider, ProviderKind};
use crate::fields::Invalid;
use crate::ports::{NoticeLookup, StoreError};
use async_trait::async_trait;
use std::net::IpAddr;

/// What a provider told us, in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderNotice {
    Deposit(DepositNotice),
    Reversal(ReversalNotice),
    /// A provider took back part of a deposit's credit.
    PartialReversal(ReversalNotice, Krw),
    /// Genuine, but nothing for us to record (e.g. Toss telling us an account was issued).
    Ignored,
}

/// A provider's callback as it arrived: from where, with which headers, and its raw body
/// (a signature covers the exact bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeRequest {
    /// The sender's address, where the transport knows it.
    pub source: Option<IpAddr>,
    /// Names in lowercase, in the order received.
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl NoticeRequest {
    pub fn new(source: Option<IpAddr>, body: impl Into<Vec<u8>>) -> NoticeRequest {
        NoticeRequest { source, headers: Vec::new(), body: body.into() }
    }

    /// Adds a header; names are compared without regard to case, as HTTP does.
    pub fn with_header(mut self, name: &str, value: &str) -> NoticeRequest {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The first value of the header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Why a provider's callback was not read into a notice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// Nothing shows the callback comes from this provider (an order that is not the
    /// provider's, a wrong secret). Answered exactly like an unknown provider, so a prober
    /// cannot tell which ids exist.
    #[error("unknown provider or invalid signature")]
    Unrecognised,
    /// The provider's signature is missing or wrong: the reason, safe to tell the sender.
    #[error("denied: {0}")]
    Denied(&'static str),
    /// Genuine as far as can be told, but not a notice we can read.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A look-up the reader needed failed; the provider retries.
    #[error("look-up failed: {0}")]
    Lookup(#[from] StoreError),
}

/// Verifies and reads the callbacks of one kind of provider.
#[async_trait]
pub trait NoticeReader: Send + Sync {
    /// Checks that `request` comes from `provider`, then reads it. `lookup` answers what the
    /// provider's format leaves out (the account behind an order id, the deposit a
    /// cancellation takes back).
    async fn read(&self, provider: &Provider, request: &NoticeRequest, lookup: &dyn NoticeLookup) -> Result<ProviderNotice, ProviderError>;
}

/// The reader of a provider kind's callbacks.
pub fn reader_for(kind: ProviderKind) -> &'static dyn NoticeReader {
    match kind {
        ProviderKind::Generic => &generic::GenericReader,
        ProviderKind::Tosspayments => &tosspayments::TossReader,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_found_whatever_their_case() {
        let request = NoticeRequest::new(None, b"{}".to_vec()).with_header("X-Provider-Signature", "ab").with_header("x-provider-signature", "cd");
        assert_eq!(request.header("x-PROVIDER-signature"), Some("ab"), "the first value, as HTTP header maps answer");
        assert_eq!(request.header("x-other"), None);
    }
}
