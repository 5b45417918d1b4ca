//! Pure business types and rules. No I/O, no async, no AWS: everything here is a function of
//! its arguments, so it is tested with property tests rather than fixtures.

pub mod account;
pub mod address;
pub mod bank;
pub mod calendar;
pub mod deposit;
pub mod event;
pub mod figures;
pub mod ids;
pub mod incident;
pub mod merchant;
pub mod money;
pub mod notice;
pub mod operator;
pub mod pool;
pub mod reconciliation;
pub mod settlement;
pub mod signing;
pub mod time;
pub mod view;
pub mod webhook;

pub use account::{
    AccountNumber, AccountPolicy, AccountRequest, AccountTerms, AccountType, Customer, Metadata, NameMismatchPolicy, Status, TermsError, TransitionError,
    VirtualAccount,
};
pub use bank::BankCode;
pub use deposit::{Deposit, DepositException, DepositNotice, DepositStatus, ExceptionReason, ExceptionState, Resolution};
pub use event::{EventData, EventType, OutboxEvent, QueueName};
pub use ids::{
    ApiKeyId, DepositId, EventId, ExceptionId, IdError, IncidentId, MerchantId, OperatorName, OrderId, ProviderId, SettlementId, TransactionId,
    VirtualAccountId, WebhookEndpointId,
};
pub use merchant::{ApiKey, DepositPolicy, Fee, Merchant, Provider, ProviderKind};
pub use money::{Krw, MoneyOverflow};
pub use pool::{NumberState, PoolNumber};
