//! Upstream providers' notice formats. Each kind turns a raw callback into a validated
//! [`ProviderNotice`] after checking that it really comes from the provider; the use cases
//! never see a provider's wire format. `statement` reads providers' daily statements for
//! reconciliation. (The built-in number pool lives in `repo::pool` and
//! `app::accounts`.)

pub mod alerting;
pub mod generic;
pub mod messaging;
pub mod statement;
pub mod tosspayments;

use crate::domain::deposit::{DepositNotice, ReversalNotice};

/// What a provider told us, in our terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderNotice {
    Deposit(DepositNotice),
    Reversal(ReversalNotice),
    /// A provider took back part of a deposit's credit.
    PartialReversal(ReversalNotice, crate::domain::Krw),
    /// Genuine, but nothing for us to record (e.g. Toss telling us an account was issued).
    Ignored,
}
