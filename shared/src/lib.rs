//! vaccount: virtual-account (가상계좌) collection for Korean merchants.
//!
//! Where things live, and which way dependencies point (inward only):
//!
//! - [`domain`]: pure types and rules (money, banks, ids, the account state machine, pool
//!   numbers, signatures, the business-day calendar, settlement arithmetic). No I/O, no async,
//!   no AWS.
//! - [`ports`]: the traits use cases are written against (`Table`, `Clock`, `Publisher`,
//!   `HttpSender`, `CustomerMessenger`, `AlertChannel`, `BlobStore`, `StatementSource`).
//! - [`repo`]: the single-table key layout of every record, written once over `Table`.
//! - [`app`]: use cases (issue, read, list, close, deposits, exceptions, authenticate,
//!   idempotency, setup, settlements and their files, reconcile) and the queue consumers
//!   (`consumer`: the contract; `webhooks`, `notices`, `reminders`, `alerts`).
//! - [`store`]: `Table` on DynamoDB and on an embedded `redb` file; `BlobStore` on a directory.
//! - [`aws`]: building AWS clients and the service from a Lambda's environment; the event path
//!   (`stream`: table stream → outbox events, `sns`: the `Publisher` port, `sqs`: consumer batches);
//!   `s3`: the `BlobStore` port.
//! - [`http`]: routers per endpoint group, auth extractor, problem+json, request parsing.
//! - [`providers`]: upstream notice formats (`generic`, `tosspayments`), verified and parsed
//!   into domain notices; daily statements (`statement`) for reconciliation; outbound adapters
//!   for customer messaging and ops alerting.
//! - [`local`]: the event path inside `serve` (change stream → stored queues → consumers).
//! - [`net`]: outbound HTTP that refuses non-public addresses when it connects.
//!
//! `domain` ← `repo`/`app` ← `store`/`aws`/`http` ← the functions and the CLI, which choose the
//! adapters and wire them in.

pub mod app;
pub mod aws;
pub mod config;
pub mod domain;
pub mod fields;
pub mod http;
pub mod local;
pub mod net;
pub mod ports;
pub mod providers;
pub mod repo;
pub mod store;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
