//! vaccount: virtual-account (가상계좌) collection for Korean merchants.
//!
//! Where things live, and which way dependencies point (inward only):
//!
//! - [`domain`]: pure types and rules (money, banks, ids, the account state machine, pool
//!   numbers, signatures, the business-day calendar, settlement arithmetic). No I/O, no async,
//!   no AWS.
//! - [`ports`]: the traits use cases are written against (`Table`, `Clock`, `Publisher`,
//!   `HttpSender`, `CustomerMessenger`, `AlertChannel`, `BlobStore`, `StatementSource`,
//!   `NoticeLookup`, `HostResolver`).
//! - [`fields`]: reading outside JSON field by field, every problem named by its field; used
//!   by `http` and `providers` alike. [`config`]: the error of a setting that cannot be read.
//! - [`repo`]: the single-table key layout of every record, written once over `Table`; every
//!   key format lives here, job checkpoints included (`repo::checkpoints`). Transactions name
//!   each write by what its condition guards (`repo::Transaction`, `Guard`), and every lost
//!   race is retried by one rule (`repo::Retry`).
//! - [`app`]: use cases in small holders by area over one shared context, `Service` (store,
//!   clock, settings): `service.accounts()`, `deposits()`, `exceptions()`, `webhooks()` (with
//!   the events feed), `access()`, `operators()` (the back office's identity: enrolment, login,
//!   sessions, step-up), `audit()` (the hash-chained audit log), `oversight()` (operators' reads
//!   across merchants and the dashboard's figures), `idempotency()`, `incidents()`, `expiry()`,
//!   `reminders()`, `setup()`; `exports` writes any list as a streamed XLSX; settlement runs and their files (`Settlements`), reconciliation
//!   (`Reconciler`) and the queue consumers (`consumer`: the contract; `webhooks`, `notices`,
//!   `alerts`), each built over the same `Service`.
//! - [`store`]: `Table` on DynamoDB and on an embedded `redb` file; `BlobStore` on a directory;
//!   `StandbyTable`, the read-only store of a standby region.
//! - [`aws`]: building AWS clients and the service from a Lambda's environment; the event path
//!   (`stream`: table stream → outbox events, `sns`: the `Publisher` port, `sqs`: consumer batches,
//!   `alarms`: CloudWatch alarms and SNS envelopes on the ops-alerts queue → domain alarms);
//!   `s3`: the `BlobStore` port.
//! - [`http`]: routers per endpoint group, auth extractor, problem+json, request parsing;
//!   `http::admin`: the admin API and dashboard behind one route table and one RBAC layer.
//! - [`providers`]: upstream notice formats, one `NoticeReader` per provider kind (`generic`,
//!   `tosspayments`, chosen by `reader_for`), verified and read into domain notices with their
//!   own `ProviderError`; daily statements (`read_statement`) for reconciliation; outbound
//!   adapters for customer messaging and ops alerting. Imports neither `app` nor `http`.
//! - [`local`]: the event path inside `serve` (change stream → stored queues → consumers).
//! - [`net`]: the system DNS resolver (`HostResolver`), and outbound HTTP that refuses
//!   non-public addresses when it connects.
//!
//! `domain` ← `repo`/`app` ← `store`/`aws`/`http` ← the functions and the CLI, which choose the
//! adapters and wire them in. `app` names no concrete provider, store, AWS, `local`, `net` or
//! `http` module (`shared/tests/seams.rs` checks it).

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
