//! Pure business types and rules. No I/O, no async, no AWS: everything here is a function of
//! its arguments, so it is tested with property tests rather than fixtures.

pub mod account;
pub mod bank;
pub mod event;
pub mod ids;
pub mod merchant;
pub mod money;
pub mod pool;
pub mod signing;
pub mod time;
pub mod view;

pub use account::{
    AccountNumber, AccountRequest, AccountTerms, AccountType, Customer, Metadata, Status, TermsError,
    TransitionError, VirtualAccount,
};
pub use bank::BankCode;
pub use event::{EventType, OutboxEvent};
pub use ids::{ApiKeyId, DepositId, EventId, IdError, MerchantId, OrderId, ProviderId, VirtualAccountId};
pub use merchant::{ApiKey, Fee, Merchant, Provider, ProviderKind};
pub use money::Krw;
pub use pool::{NumberState, PoolNumber};
