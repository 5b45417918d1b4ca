//! Test support (feature `testing`): a settable clock, fresh tables on both backends, and
//! seeding helpers. Tests use the real adapters; nothing here imitates AWS.

use crate::app::{Service, Settings};
use crate::domain::{ApiKey, ApiKeyId, BankCode, Fee, Krw, Merchant, MerchantId, ProviderId, ProviderKind};
use crate::ports::{Clock, Condition, Table};
use crate::repo;
use crate::store::{DynamoTable, EmbeddedTable};
use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

/// A clock that stands still until moved.
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Arc<FixedClock> {
        Arc::new(FixedClock(Mutex::new(at)))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Declares each listed `async fn name(backend: Backend)` of the calling test file as two
/// tests, `embedded::name` and `dynamodb::name`: one contract, both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::testing::Backend::Embedded).await }) *
        }
        mod dynamodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::testing::Backend::Dynamo).await }) *
        }
    };
}

/// Which storage a contract test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Dynamo,
}

/// A table that lives as long as this value: the temporary directory or the moto table is
/// removed on drop, so a long test run does not pile tables up in the emulator.
pub struct TestTable {
    pub table: Arc<dyn Table>,
    _dir: Option<tempfile::TempDir>,
    dynamo: Option<DynamoTable>,
}

impl Drop for TestTable {
    fn drop(&mut self) {
        if let Some(table) = self.dynamo.take() {
            // Drop cannot await; a short-lived runtime on its own thread does the call.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                if let Ok(runtime) = runtime {
                    let _ = runtime.block_on(table.delete_table());
                }
            })
            .join();
        }
    }
}

/// The moto endpoint the test script started (`VACCOUNT_TEST_DYNAMODB_ENDPOINT`).
pub fn moto_endpoint() -> String {
    std::env::var("VACCOUNT_TEST_DYNAMODB_ENDPOINT")
        .expect("VACCOUNT_TEST_DYNAMODB_ENDPOINT is not set: run the tests through scripts/test.sh, which starts moto_server")
}

/// AWS configuration pointing at the test moto server.
pub async fn moto_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new("ap-northeast-2"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "moto"))
        // A request moto never answers fails the test (the SDK retries the attempt first)
        // instead of hanging the whole run: moto serves one request at a time, and a loaded
        // machine makes it slow but never this slow.
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(std::time::Duration::from_secs(60))
                .operation_timeout(std::time::Duration::from_secs(200))
                .build(),
        )
        .load()
        .await
}

pub async fn dynamo_client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&moto_config().await)
}

/// The data key the tests seal records with.
pub fn test_key() -> crate::store::DataKey {
    crate::store::DataKey::from_secret("test-data-key-secret-with-enough-entropy-0123456789").expect("valid test key")
}

/// `table` with its records sealed at rest, as every deployment runs it.
pub fn sealed(table: Arc<dyn Table>) -> Arc<dyn Table> {
    Arc::new(crate::store::SealedTable::new(table, test_key()))
}

/// A fresh, uniquely named table in moto, created as the template declares it.
pub async fn dynamo_table() -> DynamoTable {
    let name = format!("vaccount-test-{}", ulid::Ulid::new().to_string().to_lowercase());
    let table = DynamoTable::new(dynamo_client().await, name);
    table.create_table(false).await.expect("create table in moto");
    table
}

pub async fn table(backend: Backend) -> TestTable {
    match backend {
        Backend::Embedded => {
            let dir = tempfile::tempdir().expect("temp dir");
            let table = EmbeddedTable::open(&dir.path().join("vaccount.redb")).expect("open embedded store");
            TestTable { table: Arc::new(table), _dir: Some(dir), dynamo: None }
        }
        Backend::Dynamo => {
            let table = dynamo_table().await;
            TestTable { table: Arc::new(table.clone()), _dir: None, dynamo: Some(table) }
        }
    }
}

/// The most bytes of items one DynamoDB Query returns (moto keeps the same rule).
pub const DYNAMODB_PAGE_BYTES: usize = 1_000_000;

/// A fresh table whose queries stop at [`DYNAMODB_PAGE_BYTES`] on both backends: DynamoDB (and
/// moto) always do, the embedded store only when told to. For tests of code that reads pages.
pub async fn table_with_short_pages(backend: Backend) -> TestTable {
    match backend {
        Backend::Embedded => {
            let dir = tempfile::tempdir().expect("temp dir");
            let table = EmbeddedTable::open(&dir.path().join("vaccount.redb")).expect("open embedded store").with_page_bytes(DYNAMODB_PAGE_BYTES);
            TestTable { table: Arc::new(table), _dir: Some(dir), dynamo: None }
        }
        Backend::Dynamo => table(backend).await,
    }
}

/// The repository's root (the tests of every crate run from their own directory).
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python of `.venv`, which scripts/test.sh installs with the test tools (moto, openpyxl,
/// standardwebhooks).
pub fn venv_python() -> std::path::PathBuf {
    let python = repo_root().join(".venv/bin/python");
    assert!(python.exists(), "run the tests through scripts/test.sh: it installs .venv with the Python test tools");
    python
}

/// Runs the venv's Python with `args` and reads the JSON it prints.
pub fn python_json<I: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = I>) -> serde_json::Value {
    let out = std::process::Command::new(venv_python()).args(args).output().expect("run python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

/// A service on a fresh table with the clock at `at`, a merchant "Mall" (300 won a deposit,
/// D+2), the `generic` provider `bank` and 20 pool numbers for bank 004: the day-end tests'
/// common ground.
pub async fn mall(backend: Backend, at: DateTime<Utc>) -> (TestTable, Arc<FixedClock>, Arc<Service>, MerchantId) {
    let t = table(backend).await;
    let clock = FixedClock::new(at);
    let service = Arc::new(Service::new(sealed(t.table.clone()), clock.clone(), Settings::default()));
    let mall = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.expect("merchant").merchant_id;
    let bank: ProviderId = "bank".parse().expect("provider id");
    service.setup().add_provider(bank.clone(), ProviderKind::Generic, vec![]).await.expect("provider");
    service.setup().add_pool_range(&bank, BankCode::Kookmin, &"12345600000000".parse().expect("number"), 20).await.expect("pool");
    (t, clock, service, mall)
}

pub fn service(table: Arc<dyn Table>, clock: Arc<FixedClock>) -> Arc<Service> {
    Arc::new(Service::new(table, clock, Settings::default()))
}

/// A merchant with a known key, as the `events/` fixtures were signed with.
pub async fn seed_merchant(table: &dyn Table, merchant_id: &str, key_id: &str, secret: &str, at: DateTime<Utc>) -> MerchantId {
    let merchant_id: MerchantId = merchant_id.parse().expect("merchant id");
    let key_id: ApiKeyId = key_id.parse().expect("key id");
    let merchant = Merchant {
        id: merchant_id.clone(),
        name: "Fixture Mall".into(),
        fee: Fee::PerDeposit(Krw::new(300)),
        payout_days: 2,
        active_keys: vec![key_id.clone()],
        created_at: at,
        version: 1,
        policy: Default::default(),
    };
    let key = ApiKey { id: key_id, merchant_id: merchant_id.clone(), secret: secret.into(), active: true, created_at: at, version: 1 };
    table
        .transact(vec![
            repo::merchants::put_merchant(&merchant, Condition::NotExists).expect("merchant item"),
            repo::merchants::put_api_key(&key, Condition::NotExists).expect("key item"),
        ])
        .await
        .expect("seed merchant");
    merchant_id
}

/// A `generic` provider `bank` with `count` numbers for `bank` starting at `first`.
pub async fn seed_pool(service: &Service, bank: BankCode, first: &str, count: u64) {
    let provider: ProviderId = "bank".parse().expect("provider id");
    if repo::merchants::get_provider(service.table().as_ref(), &provider).await.expect("read provider").is_none() {
        service.setup().add_provider(provider.clone(), ProviderKind::Generic, vec![]).await.expect("add provider");
    }
    service.setup().add_pool_range(&provider, bank, &first.parse().expect("number"), count).await.expect("add pool");
}

/// Signs a merchant request the way docs/openapi.yaml specifies, for tests that build requests by hand.
pub fn sign(secret: &str, timestamp: i64, method: &str, path_and_query: &str, body: &[u8]) -> String {
    let canonical = crate::domain::signing::merchant_canonical(&timestamp.to_string(), method, path_and_query, body);
    crate::domain::signing::sign_hex(secret, canonical.as_bytes())
}

/// A provider callback as the notice route hands it to the use case: from `source`, with the
/// `generic` kind's signature header when `signature` is given.
pub fn notice_request(source: Option<std::net::IpAddr>, signature: Option<&str>, body: &[u8]) -> crate::providers::NoticeRequest {
    let request = crate::providers::NoticeRequest::new(source, body.to_vec());
    match signature {
        Some(signature) => request.with_header(crate::providers::generic::SIGNATURE_HEADER, signature),
        None => request,
    }
}

/// The merchant, key and account that the `events/` fixtures name (see `events/generate.py`).
/// The password every test operator enrols with.
pub const OPERATOR_PASSWORD: &str = "correct horse battery staple";

/// An operator with a live admin session: what a browser would hold after logging in.
#[derive(Debug, Clone)]
pub struct TestOperator {
    pub name: String,
    pub cookie: String,
    pub csrf: String,
    pub secret: Vec<u8>,
}

impl TestOperator {
    /// The `Cookie` header value.
    pub fn cookie_header(&self) -> String {
        format!("{}={}", crate::http::admin::COOKIE, self.cookie)
    }

    /// The TOTP code `steps_ahead` 30-second steps after `now` (a step-up needs a code later
    /// than the one the login spent; one step ahead is within the allowed drift).
    pub fn code(&self, now: DateTime<Utc>, steps_ahead: u64) -> String {
        let step = u64::try_from(now.timestamp()).unwrap_or(0) / crate::domain::operator::TOTP_STEP_SECONDS + steps_ahead;
        crate::domain::operator::totp_code(&self.secret, step)
    }
}

/// An active operator with no credentials, for tests that only need the name to act under
/// (the command line's `--operator`): no argon2 hashing, so a property test can make thousands.
pub async fn active_operator(service: &Service, name: &str, role: crate::domain::operator::Role) {
    let mut op = crate::domain::operator::Operator::new(name.parse().expect("operator name"), role, false, service.clock().now(), None);
    op.status = crate::domain::operator::OperatorStatus::Active;
    service.table().transact(vec![repo::operators::put_operator(&op, 1, Condition::NotExists).expect("operator write")]).await.expect("store the operator");
}

/// Creates, enrols and logs in an operator on `service` at its clock's time.
pub async fn operator_session(service: &Service, name: &str, role: crate::domain::operator::Role, pii: bool) -> TestOperator {
    let ops = service.operators();
    let created = ops.create_user(name.parse().expect("operator name"), role, pii, None).await.expect("create operator");
    let enrolment = ops.begin_enrolment(&created.enrolment_token, OPERATOR_PASSWORD).await.expect("enrol");
    let secret = totp_rs::Secret::Encoded(enrolment.totp_secret).to_bytes().expect("base32 secret");
    let now = service.clock().now();
    let code = crate::domain::operator::totp_code(&secret, u64::try_from(now.timestamp()).unwrap_or(0) / crate::domain::operator::TOTP_STEP_SECONDS);
    let origin = crate::app::audit::Origin::default();
    ops.confirm_enrolment(&created.enrolment_token, &code, &origin).await.expect("confirm enrolment");
    let opened = ops.login(name, OPERATOR_PASSWORD, &code, &origin).await.expect("log in");
    TestOperator { name: name.to_owned(), cookie: opened.cookie, csrf: opened.session.csrf_token, secret }
}

pub mod fixtures {
    use super::*;
    use crate::domain::{AccountRequest, AccountType, Metadata, PoolNumber, VirtualAccount, VirtualAccountId};
    use axum::Router;
    use http::{HeaderMap, StatusCode};
    use tower::ServiceExt;

    pub const MERCHANT_ID: &str = "mch_01KWFX0000000000000000MCH1";
    pub const KEY_ID: &str = "key_01KWFX0000000000000000KEY1";
    pub const SECRET: &str = "fixture-secret-do-not-use-in-production";
    pub const ACCOUNT_ID: &str = "va_01KWFX0000000000000000VA01";
    /// The instant every fixture was signed at.
    pub const FIXTURE_TIME: i64 = 1_795_600_000;

    pub fn fixture_time() -> DateTime<Utc> {
        DateTime::from_timestamp(FIXTURE_TIME, 0).expect("valid fixture time")
    }

    /// The SQS event `events/{function}/{name}`.
    pub fn sqs_fixture(function: &str, name: &str) -> aws_lambda_events::event::sqs::SqsEvent {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(function).join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("an SQS event")
    }

    /// An SQS client that reaches no SQS: a batch whose every answer is `Done` never calls it,
    /// and using this client proves as much.
    pub fn offline_sqs() -> aws_sdk_sqs::Client {
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version_latest()
            .region(aws_sdk_sqs::config::Region::new("ap-northeast-2"))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        aws_sdk_sqs::Client::from_conf(config)
    }

    /// Settlements over a fresh moto bucket (its name returned with them), for the exporter
    /// and the settlement API functions.
    pub async fn moto_settlements(service: &Service) -> (crate::app::settlements::Settlements, aws_sdk_s3::Client, String) {
        use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
        let client = crate::aws::s3_client(&moto_config().await);
        let bucket = format!("vaccount-settlements-{}", ulid::Ulid::new().to_string().to_lowercase());
        let location = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::ApNortheast2).build();
        client.create_bucket().bucket(&bucket).create_bucket_configuration(location).send().await.expect("create the bucket");
        let blobs = Arc::new(crate::aws::s3::S3Blobs::new(client.clone(), bucket.clone()));
        let work = std::env::temp_dir().join("vaccount-test-settlements");
        (crate::app::settlements::Settlements::new(service, blobs, work), client, bucket)
    }

    /// A moto table with the fixture merchant and a pool for bank 004, and a service whose
    /// clock stands at the fixtures' signing time.
    pub async fn fixture_service() -> (TestTable, Arc<Service>) {
        let (t, service, _) = fixture_service_with_clock().await;
        (t, service)
    }

    /// The fixture account, waiting on a number of the fixture pool, as if issued.
    pub async fn seed_fixture_account(service: &Service) -> VirtualAccount {
        let id: VirtualAccountId = ACCOUNT_ID.parse().expect("account id");
        let number = PoolNumber::new(BankCode::Kookmin, "55500000000099".parse().expect("number"), "bank".parse().expect("provider"));
        let held = number.assign(id.clone()).expect("free number");
        let request = AccountRequest {
            order_id: "FIXTURE-SEEDED".parse().expect("order id"),
            kind: AccountType::OneTime,
            amount: Some(Krw::new(35_000)),
            bank_code: BankCode::Kookmin,
            due_at: Some(fixture_time() + chrono::Duration::hours(72)),
            allow_partial: false,
            depositor_name: None,
            customer: None,
            metadata: Metadata::new(),
            policy: Default::default(),
        };
        let account = VirtualAccount::issue(
            id,
            MERCHANT_ID.parse().expect("merchant id"),
            number.provider.clone(),
            number.account_number.clone(),
            request,
            fixture_time(),
        );
        let mut tx = repo::Transaction::of(repo::Guard::NumberTaken, [repo::pool::put_number(&held, Condition::NotExists).expect("pool item")]);
        tx.append(repo::accounts::create_account(&account, None).expect("account items"));
        tx.commit(service.table().as_ref()).await.expect("seed account");
        account
    }

    /// Feeds one `events/<function>/<name>.json` fixture to a function's router, as the Lambda
    /// runtime would, and returns the status, headers and JSON body.
    pub async fn invoke(router: Router, fixture: &str) -> (StatusCode, HeaderMap, serde_json::Value) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events").join(fixture);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let event: lambda_http::request::LambdaRequest = serde_json::from_str(&text).expect("API Gateway v2 event");
        let request: lambda_http::Request = event.into();
        let response = router.oneshot(request).await.expect("router never fails");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX).await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (parts.status, parts.headers, json)
    }

    /// The secret of provider `bank` that the `events/deposit-callback` fixtures are signed with.
    pub const PROVIDER_SECRET: &str = "fixture-provider-secret-do-not-use-in-production";

    /// Gives provider `bank` the fixtures' secret: `seed_pool` created it with a random one, and
    /// the fixture account's number belongs to it, so it is overwritten rather than renamed.
    pub async fn seed_fixture_provider(service: &Service, allowed_ips: Vec<std::net::IpAddr>) {
        let provider = crate::domain::Provider {
            id: "bank".parse().expect("provider id"),
            kind: ProviderKind::Generic,
            secret: PROVIDER_SECRET.into(),
            allowed_ips,
            created_at: fixture_time(),
            version: 1,
        };
        let write = repo::merchants::put_provider(&provider, Condition::Always).expect("provider item");
        service.table().transact(vec![write]).await.expect("seed provider");
    }

    /// `fixture_service`, with its clock in hand for tests that move time (the due-time sweep).
    pub async fn fixture_service_with_clock() -> (TestTable, Arc<Service>, Arc<FixedClock>) {
        let t = table(Backend::Dynamo).await;
        let clock = FixedClock::new(fixture_time());
        let service = super::service(sealed(t.table.clone()), clock.clone());
        seed_merchant(service.table().as_ref(), MERCHANT_ID, KEY_ID, SECRET, fixture_time()).await;
        seed_pool(&service, BankCode::Kookmin, "55500000000000", 20).await;
        (t, service, clock)
    }

    /// The deposit `events/deposit-callback/deposit.json` carries (the fixture account's whole
    /// amount, before its due time), recorded without going through HTTP.
    pub async fn record_fixture_deposit(service: &Service) -> crate::domain::DepositId {
        let notice = crate::domain::DepositNotice {
            provider: "bank".parse().expect("provider id"),
            transaction_id: "T-FIXTURE-1".parse().expect("transaction id"),
            bank_code: BankCode::Kookmin,
            account_number: "55500000000099".parse().expect("number"),
            amount: Krw::new(35_000),
            depositor_name: Some("홍길동".into()),
            deposited_at: fixture_time() - chrono::Duration::seconds(400),
        };
        service.deposits().record_deposit(notice).await.expect("record deposit").deposit_id.expect("a recorded deposit")
    }
}

/// One event of every type, from fixed records (ids, times, amounts), for tests that need a
/// realistic payload of a given type and for the golden test of the events' JSON.
pub mod sample_events {
    use crate::domain::deposit::{self, Deposit, DepositNotice, Judgement, Resolution, Reversal};
    use crate::domain::event::{
        AccountData, DeadLetteredData, DepositData, MismatchData, NoticeFailedData, OperatorLockedData, PoolLowData, ResendData, SettlementData,
        StatementFault, StatementMissingData,
    };
    use crate::domain::notice::Channel;
    use crate::domain::reconciliation::KindCounts;
    use crate::domain::settlement::{Settlement, SettlementFile, Totals};
    use crate::domain::time::parse_rfc3339;
    use crate::domain::view::SettlementView;
    use crate::domain::{
        AccountRequest, AccountType, BankCode, Customer, EventData, EventId, EventType, Krw, MerchantId, Metadata, OutboxEvent, VirtualAccount,
    };
    use chrono::{DateTime, Duration, Utc};
    use std::collections::BTreeMap;

    pub const MERCHANT_ID: &str = "mch_01KWFX0000000000000000MCH1";

    pub fn t0() -> DateTime<Utc> {
        parse_rfc3339("2026-11-24T10:00:00+09:00").expect("time")
    }

    fn merchant() -> MerchantId {
        MERCHANT_ID.parse().expect("merchant id")
    }

    /// A one-time account of 35,000 won that takes partial payments, with a customer to tell.
    pub fn account() -> VirtualAccount {
        let request = AccountRequest {
            order_id: "ORD-1".parse().expect("order id"),
            kind: AccountType::OneTime,
            amount: Some(Krw::new(35_000)),
            bank_code: BankCode::Kookmin,
            due_at: Some(t0() + Duration::hours(72)),
            allow_partial: true,
            depositor_name: Some("홍길동".into()),
            customer: Some(Customer { name: Some("홍길동".into()), phone: Some("010-1234-5678".into()), email: Some("hong@example.com".into()) }),
            metadata: Metadata::from([("cart".to_owned(), "42".to_owned())]),
            policy: Default::default(),
        };
        let id = "va_01KWFX0000000000000000VA01".parse().expect("account id");
        VirtualAccount::issue(id, merchant(), "bank".parse().expect("provider"), "12345600000000".parse().expect("number"), request, t0())
    }

    /// A deposit of `amount` to `account` (or to a number no account has), judged.
    pub fn deposit(id: &str, account: Option<&VirtualAccount>, amount: i64) -> Judgement {
        let at = t0() + Duration::hours(1);
        let notice = DepositNotice {
            provider: "bank".parse().expect("provider"),
            transaction_id: format!("T-{id}").parse().expect("transaction id"),
            bank_code: BankCode::Kookmin,
            account_number: "12345600000000".parse().expect("number"),
            amount: Krw::new(amount),
            depositor_name: Some("홍길동".into()),
            deposited_at: at,
        };
        deposit::match_deposit(format!("dep_01KWFX0000000000000000{id}").parse().expect("deposit id"), account, notice, at).expect("amounts in range")
    }

    fn credited(judgement: Judgement) -> (Deposit, VirtualAccount) {
        (judgement.deposit, judgement.account.expect("a credited account"))
    }

    fn settlement() -> SettlementView {
        let day = t0().date_naive();
        SettlementView::of(&Settlement {
            id: "stl_01KWFX0000000000000000ST01".parse().expect("settlement id"),
            merchant_id: merchant(),
            date: day,
            totals: Totals { rows: 1, deposit_count: 1, gross: Krw::new(35_000), fee: Krw::new(300), vat: Krw::new(30), net: Krw::new(34_670) },
            payout_date: day + Duration::days(2),
            files: vec![SettlementFile { name: "settlement-20261124.csv".into(), sha256: "ab".repeat(32), bytes: 512 }],
            exported_at: t0() + Duration::hours(15),
            version: 1,
        })
    }

    /// The `data` of an event of type `kind`, as its producer writes it.
    pub fn data(kind: EventType) -> EventData {
        let account = account();
        let event_id: EventId = "evt_01KWFX0000000000000000EV01".parse().expect("event id");
        let balance = |judgement: Judgement| {
            let (deposit, account) = credited(judgement);
            EventData::balance(&deposit, &account).expect("a balance event")
        };
        match kind {
            EventType::AccountIssued => EventData::AccountIssued(AccountData::of(&account)),
            EventType::AccountDueSoon => EventData::AccountDueSoon(AccountData::of(&account)),
            EventType::AccountClosed => EventData::AccountClosed(AccountData::of(&account.close(t0() + Duration::hours(2)).expect("close"))),
            EventType::AccountExpired => EventData::AccountExpired(AccountData::of(&account.expire(t0() + Duration::hours(73)).expect("expire"))),
            EventType::AccountPaid => balance(deposit("DP01", Some(&account), 35_000)),
            EventType::AccountPartiallyPaid => balance(deposit("DP02", Some(&account), 10_000)),
            EventType::AccountOverpaid => balance(deposit("DP03", Some(&account), 50_000)),
            EventType::DepositMatched => {
                let (deposit, account) = credited(deposit("DP01", Some(&account), 35_000));
                EventData::recorded_deposit(&deposit, Some(&account))
            }
            EventType::DepositException => EventData::recorded_deposit(&deposit("DP04", None, 35_000).deposit, None),
            EventType::DepositReversed => {
                let (paid, account) = credited(deposit("DP01", Some(&account), 35_000));
                let at = t0() + Duration::hours(2);
                let effect =
                    deposit::reverse(&paid, Some(&account), Reversal { transaction_id: "T-DP01R".parse().expect("id"), reversed_at: at }, at).expect("reverse");
                EventData::DepositReversed(DepositData::of(&effect.deposit, effect.account.as_ref()))
            }
            EventType::ExceptionResolved => {
                let held = deposit("DP04", None, 35_000).deposit;
                let written_off = held
                    .propose(Resolution::WriteOff { note: "test deposit".into() }, "ops-kim".parse().expect("operator"), false, t0() + Duration::hours(2))
                    .expect("resolve");
                EventData::ExceptionResolved(DepositData::of(&written_off, None))
            }
            EventType::SettlementExported => EventData::SettlementExported(SettlementData { settlement: settlement() }),
            EventType::WebhookResendRequested => EventData::WebhookResendRequested(ResendData { event_id, endpoint_id: None }),
            EventType::PoolLow => EventData::PoolLow(PoolLowData::of(BankCode::Kookmin, 12, 100)),
            EventType::WebhookDeadLettered => EventData::WebhookDeadLettered(DeadLetteredData {
                endpoint_id: "whe_01KWFX0000000000000000WH01".parse().expect("endpoint id"),
                event_id,
                event_type: EventType::AccountPaid,
                attempts: 8,
                last_error: Some("HTTP 500".into()),
                url_host: "hooks.example.com".into(),
            }),
            EventType::NoticeFailed => EventData::NoticeFailed(NoticeFailedData {
                merchant_id: Some(merchant()),
                virtual_account_id: account.id,
                event_id,
                event_type: EventType::AccountIssued,
                errors: BTreeMap::from([(Channel::Sms, "HTTP 500 from the SMS gateway".into()), (Channel::Alimtalk, "declined: template mismatch".into())]),
            }),
            EventType::ReconciliationMismatch => EventData::ReconciliationMismatch(MismatchData {
                provider: "bank".parse().expect("provider"),
                date: t0().date_naive(),
                differences: 3,
                by_kind: KindCounts { amount_mismatch: 1, account_mismatch: 1, missing_at_provider: 1, reversal_mismatch: 0 },
                recovered: 1,
                report: "reconciliation/bank/2026/11/24/reconciliation-bank-20261124.csv".into(),
            }),
            EventType::ReconciliationStatementMissing => EventData::ReconciliationStatementMissing(StatementMissingData {
                provider: "bank".parse().expect("provider"),
                date: t0().date_naive(),
                fault: StatementFault::Missing,
            }),
            EventType::OperatorLocked => EventData::OperatorLocked(OperatorLockedData {
                operator: "kim".parse().expect("operator"),
                failures: 5,
                until: t0() + chrono::Duration::minutes(15),
            }),
        }
    }

    /// An event of type `kind` about the sample merchant (none for the operations events
    /// that belong to no merchant), at `at`.
    pub fn event(kind: EventType, at: DateTime<Utc>) -> OutboxEvent {
        let owner = match kind {
            EventType::PoolLow | EventType::ReconciliationMismatch | EventType::ReconciliationStatementMissing | EventType::OperatorLocked => None,
            _ => Some(merchant()),
        };
        OutboxEvent::new(owner, data(kind), at)
    }
}
