//! The traits the use cases are written against. Adapters in `store`, `aws` and `providers`
//! implement them; `app` never names an adapter.
//!
//! The `Table` port is deliberately storage-shaped (a DynamoDB single table is its model):
//! items addressed by `pk`/`sk`, a few sparse secondary indexes, and conditional transactions.
//! Business rules live above it, in `repo` and `app`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// An attribute value. Numbers are integers only: the service has no use for fractions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Attr {
    S(String),
    N(i64),
    Bool(bool),
    Null,
    L(Vec<Attr>),
    M(BTreeMap<String, Attr>),
}

/// One stored item: `pk`, `sk`, and any other attributes.
pub type Item = BTreeMap<String, Attr>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Every mutable item carries it; writes are conditional on it.
pub const VERSION: &str = "version";
/// Unix seconds after which the store may delete the item (DynamoDB TTL).
pub const EXPIRES_AT: &str = "expires_at";
/// Unix milliseconds (wall clock) after which a transaction holding this item must not
/// commit: the store refuses it with [`StoreError::DeadlinePassed`]. The embedded store checks
/// it in its writer, just before applying; DynamoDB before sending, with the call cut off at
/// the deadline (docs/decisions.md, 21).
pub const COMMIT_BY: &str = "commit_by";

/// The earliest commit deadline among a transaction's puts, if any.
pub fn commit_deadline(writes: &[Write]) -> Option<i64> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Put { item, .. } => match item.get(COMMIT_BY) {
                Some(Attr::N(ms)) => Some(*ms),
                _ => None,
            },
            _ => None,
        })
        .min()
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Key {
        Key { pk: pk.into(), sk: sk.into() }
    }

    pub fn of(item: &Item) -> Option<Key> {
        match (item.get(PK), item.get(SK)) {
            (Some(Attr::S(pk)), Some(Attr::S(sk))) => Some(Key::new(pk.clone(), sk.clone())),
            _ => None,
        }
    }
}

/// The secondary indexes. Each is sparse: only items carrying both attributes appear in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Index {
    Gsi1,
    Gsi2,
    Gsi3,
}

impl Index {
    pub const ALL: [Index; 3] = [Index::Gsi1, Index::Gsi2, Index::Gsi3];

    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1",
            Index::Gsi2 => "gsi2",
            Index::Gsi3 => "gsi3",
        }
    }

    pub fn pk(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1pk",
            Index::Gsi2 => "gsi2pk",
            Index::Gsi3 => "gsi3pk",
        }
    }

    pub fn sk(self) -> &'static str {
        match self {
            Index::Gsi1 => "gsi1sk",
            Index::Gsi2 => "gsi2sk",
            Index::Gsi3 => "gsi3sk",
        }
    }
}

/// Which sort keys of the partition a query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortRange {
    All,
    BeginsWith(String),
    /// Inclusive at both ends.
    Between(String, String),
}

impl SortRange {
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            SortRange::All => true,
            SortRange::BeginsWith(p) => sk.starts_with(p.as_str()),
            SortRange::Between(lo, hi) => lo.as_str() <= sk && sk <= hi.as_str(),
        }
    }
}

/// Where the previous page stopped: the key attributes of its last item (table keys, plus the
/// index keys when querying an index). Opaque to callers above the repositories.
pub type Cursor = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub index: Option<Index>,
    pub pk: String,
    pub range: SortRange,
    pub descending: bool,
    pub limit: usize,
    pub after: Option<Cursor>,
}

impl Query {
    pub fn table(pk: impl Into<String>) -> Query {
        Query { index: None, pk: pk.into(), range: SortRange::All, descending: false, limit: 100, after: None }
    }

    pub fn index(index: Index, pk: impl Into<String>) -> Query {
        Query { index: Some(index), ..Query::table(pk) }
    }

    pub fn range(self, range: SortRange) -> Query {
        Query { range, ..self }
    }

    pub fn descending(self) -> Query {
        Query { descending: true, ..self }
    }

    pub fn limit(self, limit: usize) -> Query {
        Query { limit, ..self }
    }

    pub fn after(self, after: Option<Cursor>) -> Query {
        Query { after, ..self }
    }

    /// The attribute names of this query's partition and sort key.
    pub fn key_names(&self) -> (&'static str, &'static str) {
        match self.index {
            None => (PK, SK),
            Some(i) => (i.pk(), i.sk()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// `Some` when more items may follow.
    pub next: Option<Cursor>,
}

/// What must hold for a write to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Always,
    NotExists,
    Exists,
    /// The item exists and its `version` attribute equals this.
    VersionIs(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put { item: Item, condition: Condition },
    Delete { key: Key, condition: Condition },
    Check { key: Key, condition: Condition },
}

impl Write {
    pub fn key(&self) -> Option<Key> {
        match self {
            Write::Put { item, .. } => Key::of(item),
            Write::Delete { key, .. } | Write::Check { key, .. } => Some(key.clone()),
        }
    }
}

/// The most writes one transaction may hold (DynamoDB's limit, kept on both backends).
pub const MAX_TRANSACTION_WRITES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The condition of write number `index` did not hold; nothing was written.
    #[error("condition of write {index} failed")]
    ConditionFailed { index: usize },
    /// Another transaction touched the same items at the same moment; nothing was written and
    /// the caller may retry.
    #[error("transaction conflict")]
    Conflict,
    /// The request itself is wrong (bad key, too many writes, the same item twice, foreign cursor).
    #[error("invalid store request: {0}")]
    Invalid(String),
    /// A listing cursor that does not belong to the query it was given to.
    #[error("cursor does not belong to this query")]
    InvalidCursor,
    /// The transaction reached the store after the commit deadline of one of its items
    /// ([`COMMIT_BY`]); nothing was written. Retrying means building it again.
    #[error("transaction refused: its commit deadline passed")]
    DeadlinePassed,
    /// This deployment runs outside the home region `home` and refuses every change
    /// (`store::StandbyTable`); nothing was written.
    #[error("standby region: changes go to {home}")]
    Standby { home: String },
    /// The store could not be reached or failed; the outcome of a write is unknown.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Table: Send + Sync + 'static {
    /// A strongly consistent read of one item.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Items of one partition in sort-key order. Index queries may lag the last write a little
    /// on DynamoDB, so callers treat their results as candidates, not truth.
    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// All writes or none. Each write's condition is checked against the state before the
    /// transaction; the first failing one is reported by its position.
    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError>;
}

/// A shared table is a table, so decorators such as `store::SealedTable` can wrap one.
#[async_trait]
impl<T: Table + ?Sized> Table for std::sync::Arc<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        (**self).get(key).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        (**self).query(query).await
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        (**self).transact(writes).await
    }
}

/// Checks every backend applies before it talks to storage, so that both reject the same
/// requests in the same way.
pub fn validate_transaction(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_TRANSACTION_WRITES {
        return Err(StoreError::Invalid(format!("a transaction holds 1-{MAX_TRANSACTION_WRITES} writes")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for write in writes {
        let key = write.key().ok_or_else(|| StoreError::Invalid("an item lacks string pk/sk".into()))?;
        validate_key_text(&key.pk)?;
        validate_key_text(&key.sk)?;
        if !seen.insert(key) {
            return Err(StoreError::Invalid("a transaction touches one item twice".into()));
        }
        if let Write::Check { condition: Condition::Always, .. } = write {
            return Err(StoreError::Invalid("a condition check needs a condition".into()));
        }
        if let Write::Put { item, .. } = write {
            for index in Index::ALL {
                for name in [index.pk(), index.sk()] {
                    match item.get(name) {
                        None => {}
                        Some(Attr::S(text)) => validate_key_text(text)?,
                        Some(_) => return Err(StoreError::Invalid(format!("{name} must be a string"))),
                    }
                }
            }
        }
    }
    Ok(())
}

/// Key strings are non-empty and free of NUL, which the embedded store uses as a separator.
pub fn validate_key_text(s: &str) -> Result<(), StoreError> {
    if s.is_empty() || s.contains('\0') || s.len() > 1024 {
        return Err(StoreError::Invalid("key attributes are 1-1024 bytes without NUL".into()));
    }
    Ok(())
}

/// A query's cursor must point into the partition being queried.
pub fn validate_cursor(query: &Query) -> Result<(), StoreError> {
    let Some(after) = &query.after else { return Ok(()) };
    let (pk_name, sk_name) = query.key_names();
    let expected: &[&str] = if query.index.is_some() { &[PK, SK, pk_name, sk_name] } else { &[PK, SK] };
    let names_match = after.len() == expected.len() && expected.iter().all(|n| after.contains_key(*n));
    if !names_match || after.get(pk_name) != Some(&query.pk) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(())
}

/// The cursor that resumes after `item` in `query`.
pub fn cursor_after(query: &Query, item: &Item) -> Cursor {
    let (pk_name, sk_name) = query.key_names();
    [PK, SK, pk_name, sk_name]
        .into_iter()
        .filter_map(|n| match item.get(n) {
            Some(Attr::S(v)) => Some((n.to_owned(), v.clone())),
            _ => None,
        })
        .collect()
}

/// Time, injected so tests can stand at any instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    /// Millisecond precision: what ids carry and what every stored or shown time needs.
    fn now(&self) -> DateTime<Utc> {
        use chrono::DurationRound;
        let now = Utc::now();
        now.duration_trunc(chrono::TimeDelta::milliseconds(1)).unwrap_or(now)
    }
}

/// Hands an outbox event to the fan-out (an SNS topic in AWS; the local queues in `serve`),
/// which routes it to the queues of [`crate::domain::QueueName`] by its type.
#[async_trait]
pub trait Publisher: Send + Sync + 'static {
    async fn publish(&self, event: &crate::domain::OutboxEvent) -> Result<(), PublishError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("publishing failed: {0}")]
pub struct PublishError(pub String);

/// An outbound HTTP POST: merchant webhooks, the messaging provider, Slack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// No answer within this is a failed attempt.
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// The start of the answer's body (senders keep at most a few KiB).
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The destination resolves to an address we must not call (loopback, private, link-local,
    /// metadata): refused before any byte is sent.
    #[error("destination refused: {0}")]
    Refused(String),
    #[error("no answer within the timeout")]
    Timeout,
    /// DNS, connect or TLS failure, or the connection broke.
    #[error("connection failed: {0}")]
    Connect(String),
}

#[async_trait]
pub trait HttpSender: Send + Sync + 'static {
    async fn post(&self, request: HttpRequest) -> Result<HttpResponse, HttpError>;
}

// ---------------------------------------------------------------------------------------------
// Customer notices and operations alerts
// ---------------------------------------------------------------------------------------------

/// The provider's id of a message it accepted (its request id), for tracing a complaint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ProviderMessageId(pub String);

/// Why a message was not accepted. Texts carry no recipient (providers' messages are passed
/// through `domain::notice::redact_contacts`), so they may be logged and stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessagingError {
    /// The provider answered and declined (`isSuccessful: false`, or a per-recipient failure).
    #[error("provider declined (code {code}): {message}")]
    Declined { code: i64, message: String },
    /// The provider answered with a non-2xx status.
    #[error("provider answered HTTP {status}")]
    Status { status: u16 },
    /// The answer was not what the provider's API promises.
    #[error("unreadable provider answer: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Transport(#[from] HttpError),
    /// This deployment has no sender configured for the channel (e.g. no 알림톡 sender key).
    #[error("channel not configured: {0}")]
    NotConfigured(&'static str),
    /// The local file sink could not be written.
    #[error("notice sink failed: {0}")]
    Sink(String),
}

/// Sends customer notices: KakaoTalk 알림톡, SMS (LMS when long), email. The recipient is a
/// phone number (digits) or an email address.
#[async_trait]
pub trait CustomerMessenger: Send + Sync + 'static {
    async fn send_alimtalk(&self, phone: &str, message: &crate::domain::notice::AlimtalkMessage) -> Result<ProviderMessageId, MessagingError>;
    async fn send_sms(&self, phone: &str, message: &crate::domain::notice::SmsMessage) -> Result<ProviderMessageId, MessagingError>;
    async fn send_email(&self, address: &str, message: &crate::domain::notice::EmailMessage) -> Result<ProviderMessageId, MessagingError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("alert channel answered HTTP {status}")]
    Status { status: u16 },
    #[error(transparent)]
    Transport(#[from] HttpError),
    #[error("alert email failed: {0}")]
    Email(MessagingError),
    #[error("alert sink failed: {0}")]
    Sink(String),
    /// Every channel of a fan-out failed; each one's error.
    #[error("every alert channel failed: {}", .0.join("; "))]
    AllFailed(Vec<String>),
}

/// Where operations alerts go: Slack, the ops mailbox, a local file.
#[async_trait]
pub trait AlertChannel: Send + Sync + 'static {
    async fn post(&self, alert: &crate::domain::incident::AlertMessage) -> Result<(), AlertError>;
}

// ---------------------------------------------------------------------------------------------
// Files: settlement exports and reconciliation reports
// ---------------------------------------------------------------------------------------------

/// A stored file's key: `/`-separated segments of `[A-Za-z0-9._-]`, none empty, `.` or `..`
/// (so a key is safe as a path below a data dir and as an S3 key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    pub fn new(key: impl Into<String>) -> Result<BlobKey, BlobError> {
        let key = key.into();
        let segment_ok = |s: &str| !s.is_empty() && s != "." && s != ".." && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if key.len() > 512 || !key.split('/').all(segment_ok) {
            return Err(BlobError::BadKey(key));
        }
        Ok(BlobKey(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("not a valid file key: `{0}`")]
    BadKey(String),
    /// The local file to upload could not be read, or a local store could not write.
    #[error("file I/O failed: {0}")]
    Io(String),
    /// The store (S3) failed or could not be reached.
    #[error("file store unavailable: {0}")]
    Unavailable(String),
}

/// How a stored file is handed to a reader.
#[derive(Debug)]
pub enum BlobDownload {
    /// A time-limited URL the client is redirected to (S3 presigned GET).
    Redirect(String),
    /// The file on this machine, streamed by the server (`serve`).
    Local(std::path::PathBuf),
}

/// Where files are kept: an S3 bucket in AWS, a directory below the data dir in `serve`.
/// Files are written whole from a local file (large ones in parts), and overwritten by key.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    async fn put_file(&self, key: &BlobKey, file: &std::path::Path, content_type: &str) -> Result<(), BlobError>;
    /// `None` when no file has that key.
    async fn download(&self, key: &BlobKey, valid_for: std::time::Duration) -> Result<Option<BlobDownload>, BlobError>;
    /// Reads a whole (small) file: manifests, reports. `None` when no file has that key.
    async fn read(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError>;
}

// ---------------------------------------------------------------------------------------------
// Provider statements (reconciliation)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statement source unavailable: {0}")]
pub struct StatementSourceError(pub String);

impl From<BlobError> for StatementSourceError {
    fn from(e: BlobError) -> StatementSourceError {
        StatementSourceError(e.to_string())
    }
}

/// Where a provider's list of a day's transactions comes from: a file the provider drops into
/// the bucket (the data dir in `serve`), or a provider's API. Either way the bytes are the
/// generic statement CSV (docs/providers.md, "Daily statements"); an API adapter writes its
/// answer in that format, so one parser and one comparison serve every provider.
#[async_trait]
pub trait StatementSource: Send + Sync + 'static {
    /// The statement of the KST `day`, or `None` while the provider has not made it available.
    async fn statement(&self, provider: &crate::domain::ProviderId, day: chrono::NaiveDate) -> Result<Option<Vec<u8>>, StatementSourceError>;
}

// ---------------------------------------------------------------------------------------------
// Provider notices
// ---------------------------------------------------------------------------------------------

/// What a provider's notice reader (`providers::NoticeReader`) may look up in our records. A
/// provider whose callback names our account rather than its number (Toss Payments) needs
/// the account, and one whose cancellation does not name the deposit it takes back needs the
/// deposit (docs/providers.md).
#[async_trait]
pub trait NoticeLookup: Send + Sync {
    /// The account with this id.
    async fn account(&self, id: &crate::domain::VirtualAccountId) -> Result<Option<crate::domain::VirtualAccount>, StoreError>;

    /// The transaction that the reversal notice `reversal` of `provider` took back, when that
    /// notice is already recorded.
    async fn reversed_by(
        &self,
        provider: &crate::domain::ProviderId,
        reversal: &crate::domain::TransactionId,
    ) -> Result<Option<crate::domain::TransactionId>, StoreError>;

    /// The transaction of the newest deposit from the account's provider on `account` that is
    /// not reversed.
    async fn latest_credited(&self, account: &crate::domain::VirtualAccount) -> Result<Option<crate::domain::TransactionId>, StoreError>;
}

// ---------------------------------------------------------------------------------------------
// Name resolution
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} does not resolve: {reason}")]
pub struct ResolveError {
    pub host: String,
    pub reason: String,
}

/// DNS: the addresses a host name stands for now. A webhook URL's host is checked through it
/// when the URL is registered; the connect-time guard (`net`) resolves through it again.
#[async_trait]
pub trait HostResolver: Send + Sync + 'static {
    async fn resolve(&self, host: &str) -> Result<Vec<std::net::IpAddr>, ResolveError>;
}
