//! The admin API's lists across merchants — merchants, virtual accounts, deposits, the
//! exceptions queue, webhook attempts and endpoints, the customer notice log, incidents,
//! settlements, reconciliation reports and the audit log — and the records behind them.
//!
//! Each list has one query-string parser (`parse_*`, for the dashboard's pages too) that gives
//! its typed filter (`app::oversight`), the page asked for and the format. A page answers
//! `{"data": [...], "next_cursor"}`; a page may be short, even empty, and still have a cursor
//! (only `null` ends a list). `format=xlsx` answers every row the filters select, all pages,
//! as one XLSX streamed from disk (`app::exports`), its `limit` and `cursor` playing no part.
//! A file's rows are the JSON rows, masked by the same walk, so a file and the pages never
//! disagree; each download is audited (`list.exported`, with the query). Unknown parameters
//! are refused (400).

use super::queue::{answer, case, note};
use super::{Operator, mask};
use crate::app::AppError;
use crate::app::audit::{AuditQuery, Change};
use crate::app::exports::{Cell, Column, Kind, XlsxExport, export_all};
use crate::app::oversight::{
    AccountQuery, AttemptOutcome, AttemptQuery, DepositOwner, DepositQuery, ExceptionQuery, IncidentQuery, MAX_LIMIT as EXPORT_PAGE, MerchantAttempt,
    MerchantQuery, NoticeQuery, ReportQuery, SettlementQuery,
};
use crate::domain::operator::AuditAction;
use crate::domain::settlement::Settlement;
use crate::domain::time::{kst, kst_serde, parse_rfc3339};
use crate::domain::view::{AccountView, SettlementView};
use crate::domain::webhook::WebhookEndpoint;
use crate::domain::{
    ApiKeyId, DepositId, EventId, EventType, Krw, Merchant, MerchantId, NameMismatchPolicy, ProviderId, VirtualAccount, VirtualAccountId, WebhookEndpointId,
};
use crate::fields::Fields;
use crate::http::dto::{self, Paging};
use crate::http::problem::Problem;
use crate::http::{AppState, ListBody, download};
use crate::ports::Cursor;
use crate::repo::Listing;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use http::{StatusCode, Uri};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::future::Future;

// ---------------------------------------------------------------------------------------------
// Query strings
// ---------------------------------------------------------------------------------------------

/// One list request: the filter, the page asked for, and whether the whole list is wanted as
/// a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest<Q> {
    pub filter: Q,
    pub paging: Paging,
    /// `format=xlsx`: every row of every page, as one file.
    pub xlsx: bool,
}

/// Reads `limit`, `cursor` and `format`, and every other parameter through `filter`, which
/// answers false for a name it does not know.
fn list_request<Q: Default>(raw: Option<&str>, mut filter: impl FnMut(&mut Fields, &mut Q, &str, &str) -> bool) -> Result<ListRequest<Q>, AppError> {
    let mut query = Q::default();
    let mut xlsx = false;
    let (f, paging) = dto::listing_query(raw, |f, name, value| match name {
        "format" => {
            match value {
                "json" => xlsx = false,
                "xlsx" => xlsx = true,
                _ => f.fail("format", "must be json or xlsx"),
            }
            true
        }
        _ => filter(f, &mut query, name, value),
    })?;
    Ok(f.done(ListRequest { filter: query, paging, xlsx })?)
}

fn parse<T: std::str::FromStr>(f: &mut Fields, field: &str, value: &str) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| f.fail(field, e)).ok()
}

/// A value by its API name (`paid`, `pending_approval`, …), as its JSON form spells it.
fn named<T: DeserializeOwned>(f: &mut Fields, field: &str, value: &str, expected: &str) -> Option<T> {
    serde_json::from_value(Value::String(value.to_owned())).map_err(|_| f.fail(field, format!("must be one of {expected}"))).ok()
}

/// An amount bound: whole won, 0 or more.
fn won(f: &mut Fields, field: &str, value: &str) -> Option<Krw> {
    match value.parse::<i64>() {
        Ok(n) if n >= 0 => Some(Krw::new(n)),
        _ => {
            f.fail(field, "must be a whole number of won, 0 or more");
            None
        }
    }
}

fn day(f: &mut Fields, field: &str, value: &str) -> Option<NaiveDate> {
    dto::parse_day(value).map_err(|e| f.fail(field, e)).ok()
}

/// `merchant_id`: a merchant's id, or `unmatched` for deposits to numbers nobody holds.
fn owner(f: &mut Fields, value: &str) -> Option<DepositOwner> {
    if value == "unmatched" {
        return Some(DepositOwner::Unmatched);
    }
    parse::<MerchantId>(f, "merchant_id", value).map(DepositOwner::Merchant)
}

const ACCOUNT_STATUSES: &str = "waiting, partially_paid, paid, overpaid, expired, closed";
const DEPOSIT_STATUSES: &str = "matched, exception, reversed";

/// `GET /admin/v1/merchants`: `name` (part of it, any case).
pub fn parse_merchants(raw: Option<&str>) -> Result<ListRequest<MerchantQuery>, AppError> {
    list_request(raw, |_, q: &mut MerchantQuery, name, value| match name {
        "name" => {
            q.name = Some(value.to_owned());
            true
        }
        _ => false,
    })
}

/// `GET /admin/v1/virtual-accounts`: `merchant_id`, `status`, `bank_code`, `min_amount` and
/// `max_amount` (on the expected amount), `created_from`/`created_to`, `order_id`,
/// `account_number`.
pub fn parse_accounts(raw: Option<&str>) -> Result<ListRequest<AccountQuery>, AppError> {
    list_request(raw, |f, q: &mut AccountQuery, name, value| {
        match name {
            "merchant_id" => q.merchant = parse(f, name, value),
            "status" => q.status = named(f, name, value, ACCOUNT_STATUSES),
            "bank_code" => q.bank = parse(f, name, value),
            "min_amount" => q.min_amount = won(f, name, value),
            "max_amount" => q.max_amount = won(f, name, value),
            "created_from" => q.created_from = dto::query_time(f, name, value),
            "created_to" => q.created_to = dto::query_time(f, name, value),
            "order_id" => q.order_id = parse(f, name, value),
            "account_number" => q.account_number = parse(f, name, value),
            _ => return false,
        }
        true
    })
}

/// `GET /admin/v1/deposits`: `merchant_id` (or `unmatched`), `status`, `bank_code`,
/// `min_amount`/`max_amount`, `from`/`to` (deposit time), `depositor` (part of the name),
/// `account_number`, `order_id`.
pub fn parse_deposits(raw: Option<&str>) -> Result<ListRequest<DepositQuery>, AppError> {
    list_request(raw, |f, q: &mut DepositQuery, name, value| {
        match name {
            "merchant_id" => q.owner = owner(f, value),
            "status" => q.status = named(f, name, value, DEPOSIT_STATUSES),
            "bank_code" => q.bank = parse(f, name, value),
            "min_amount" => q.min_amount = won(f, name, value),
            "max_amount" => q.max_amount = won(f, name, value),
            "from" => q.deposited_from = dto::query_time(f, name, value),
            "to" => q.deposited_to = dto::query_time(f, name, value),
            "depositor" => q.depositor = Some(value.to_owned()),
            "account_number" => q.account_number = parse(f, name, value),
            "order_id" => q.order_id = parse(f, name, value),
            _ => return false,
        }
        true
    })
}

/// `GET /admin/v1/exceptions`: `merchant_id` (or `unmatched`), `state`, `reason`,
/// `bank_code`, `min_amount`/`max_amount` (on the amount held), `from`/`to` (deposit time).
pub fn parse_exceptions(raw: Option<&str>) -> Result<ListRequest<ExceptionQuery>, AppError> {
    list_request(raw, |f, q: &mut ExceptionQuery, name, value| {
        match name {
            "merchant_id" => q.owner = owner(f, value),
            "state" => q.state = named(f, name, value, "open, pending_approval, resolved"),
            "reason" => q.reason = named(f, name, value, "underpaid, overpaid, late, unknown_account, closed_account, name_mismatch"),
            "bank_code" => q.bank = parse(f, name, value),
            "min_amount" => q.min_amount = won(f, name, value),
            "max_amount" => q.max_amount = won(f, name, value),
            "from" => q.deposited_from = dto::query_time(f, name, value),
            "to" => q.deposited_to = dto::query_time(f, name, value),
            _ => return false,
        }
        true
    })
}

/// `GET /admin/v1/webhook-attempts`: `merchant_id`, `endpoint_id` (with its merchant),
/// `outcome` (`succeeded` | `failed`), `from`/`to` (attempt time).
pub fn parse_attempts(raw: Option<&str>) -> Result<ListRequest<AttemptQuery>, AppError> {
    list_request(raw, |f, q: &mut AttemptQuery, name, value| {
        match name {
            "merchant_id" => q.merchant = parse(f, name, value),
            "endpoint_id" => q.endpoint = parse(f, name, value),
            "outcome" => {
                q.outcome = match value {
                    "succeeded" => Some(AttemptOutcome::Succeeded),
                    "failed" => Some(AttemptOutcome::Failed),
                    _ => {
                        f.fail(name, "must be succeeded or failed");
                        None
                    }
                }
            }
            "from" => q.from = dto::query_time(f, name, value),
            "to" => q.to = dto::query_time(f, name, value),
            _ => return false,
        }
        true
    })
}

/// Whose webhook endpoints to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointQuery {
    pub merchant: Option<MerchantId>,
}

/// `GET /admin/v1/webhook-endpoints`: `merchant_id` (required).
pub fn parse_endpoints(raw: Option<&str>) -> Result<ListRequest<EndpointQuery>, AppError> {
    let request = list_request(raw, |f, q: &mut EndpointQuery, name, value| match name {
        "merchant_id" => {
            q.merchant = parse(f, name, value);
            true
        }
        _ => false,
    })?;
    if request.filter.merchant.is_none() {
        return Err(AppError::field("merchant_id", "is required: endpoints are listed per merchant"));
    }
    Ok(request)
}

/// `GET /admin/v1/notices`: `merchant_id`, `channel`, `outcome`, `event_type`, `from`/`to`.
pub fn parse_notices(raw: Option<&str>) -> Result<ListRequest<NoticeQuery>, AppError> {
    list_request(raw, |f, q: &mut NoticeQuery, name, value| {
        match name {
            "merchant_id" => q.merchant = parse(f, name, value),
            "channel" => q.channel = named(f, name, value, "alimtalk, sms, email"),
            "outcome" => q.outcome = parse(f, name, value),
            "event_type" => q.event_type = parse::<EventType>(f, name, value),
            "from" => q.from = dto::query_time(f, name, value),
            "to" => q.to = dto::query_time(f, name, value),
            _ => return false,
        }
        true
    })
}

/// `GET /admin/v1/incidents`: `status`, `from`/`to` (when it was opened).
pub fn parse_incidents(raw: Option<&str>) -> Result<ListRequest<IncidentQuery>, AppError> {
    list_request(raw, |f, q: &mut IncidentQuery, name, value| {
        match name {
            "status" => q.status = parse(f, name, value),
            "from" => q.opened_from = dto::query_time(f, name, value),
            "to" => q.opened_to = dto::query_time(f, name, value),
            _ => return false,
        }
        true
    })
}

/// A range of KST days as the lists of days take it: `to` defaults to today, `from` to 30
/// days before `to` (as `GET /v1/settlements`).
struct Days<K> {
    key: Option<K>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

impl<K> Default for Days<K> {
    fn default() -> Days<K> {
        Days { key: None, from: None, to: None }
    }
}

/// The longest range of days one list takes: a reconciliation report is read day by day and
/// provider by provider, so an unbounded range would be an unbounded read.
const MAX_DAYS: i64 = 366;

impl<K> Days<K> {
    fn range(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), AppError> {
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or(to - Duration::days(30));
        if to - from >= Duration::days(MAX_DAYS) {
            return Err(AppError::field("from", format!("a range is at most {MAX_DAYS} days")));
        }
        Ok((from, to))
    }
}

fn days<K: std::str::FromStr>(raw: Option<&str>, key: &'static str) -> Result<ListRequest<Days<K>>, AppError>
where
    K::Err: std::fmt::Display,
{
    list_request(raw, |f, q: &mut Days<K>, name, value| {
        match name {
            "from" => q.from = day(f, name, value),
            "to" => q.to = day(f, name, value),
            _ if name == key => q.key = parse(f, name, value),
            _ => return false,
        }
        true
    })
}

/// `GET /admin/v1/settlements`: `merchant_id`, `from`/`to` (KST days, as `2026-11-24`).
pub fn parse_settlements(raw: Option<&str>, today: NaiveDate) -> Result<ListRequest<SettlementQuery>, AppError> {
    let request = days::<MerchantId>(raw, "merchant_id")?;
    let (from, to) = request.filter.range(today)?;
    Ok(ListRequest { filter: SettlementQuery { merchant: request.filter.key, from, to }, paging: request.paging, xlsx: request.xlsx })
}

/// `GET /admin/v1/reconciliation-reports`: `provider`, `from`/`to` (KST days).
pub fn parse_reports(raw: Option<&str>, today: NaiveDate) -> Result<ListRequest<ReportQuery>, AppError> {
    let request = days::<ProviderId>(raw, "provider")?;
    let (from, to) = request.filter.range(today)?;
    Ok(ListRequest { filter: ReportQuery { provider: request.filter.key, from, to }, paging: request.paging, xlsx: request.xlsx })
}

/// `GET /admin/v1/audit`: `operator` (who acted), `action` (`merchant.settings_changed`, …),
/// `from`/`to`.
pub fn parse_audit(raw: Option<&str>) -> Result<ListRequest<AuditQuery>, AppError> {
    list_request(raw, |f, q: &mut AuditQuery, name, value| {
        match name {
            "operator" => q.actor = Some(value.to_owned()),
            "action" => q.action = parse::<AuditAction>(f, name, value),
            "from" => q.from = dto::query_time(f, name, value),
            "to" => q.to = dto::query_time(f, name, value),
            _ => return false,
        }
        true
    })
}

// ---------------------------------------------------------------------------------------------
// Rows: what a list shows of each record (the merchant API's views, with `merchant_id`)
// ---------------------------------------------------------------------------------------------

/// A merchant as operators see it: profile, fee terms and policies, its active key ids.
#[derive(Debug, Clone, Serialize)]
pub struct MerchantView {
    pub id: MerchantId,
    pub name: String,
    /// Won per credited deposit, when the fee is flat.
    pub fee_per_deposit: Option<Krw>,
    /// Basis points of each deposit (150 = 1.5 %), when the fee is a rate.
    pub fee_rate_bps: Option<u32>,
    pub payout_days: u8,
    pub allow_partial_by_default: bool,
    pub accept_late: bool,
    pub name_mismatch: NameMismatchPolicy,
    pub require_exception_approval: bool,
    pub active_keys: Vec<ApiKeyId>,
    #[serde(with = "kst_serde")]
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl From<&Merchant> for MerchantView {
    fn from(m: &Merchant) -> MerchantView {
        let (fee_per_deposit, fee_rate_bps) = match m.fee {
            crate::domain::Fee::PerDeposit(won) => (Some(won), None),
            crate::domain::Fee::RateBps(bps) => (None, Some(bps)),
        };
        MerchantView {
            id: m.id.clone(),
            name: m.name.clone(),
            fee_per_deposit,
            fee_rate_bps,
            payout_days: m.payout_days,
            allow_partial_by_default: m.policy.allow_partial_by_default,
            accept_late: m.policy.accept_late,
            name_mismatch: m.policy.name_mismatch,
            require_exception_approval: m.policy.require_exception_approval,
            active_keys: m.active_keys.clone(),
            created_at: m.created_at,
            version: m.version,
        }
    }
}

/// A virtual account: as its merchant sees it, with whose it is and the provider of its number.
#[derive(Debug, Clone, Serialize)]
pub struct AccountRow {
    pub merchant_id: MerchantId,
    pub provider: ProviderId,
    #[serde(flatten)]
    pub account: AccountView,
}

impl From<&VirtualAccount> for AccountRow {
    fn from(a: &VirtualAccount) -> AccountRow {
        AccountRow { merchant_id: a.merchant_id.clone(), provider: a.provider.clone(), account: AccountView::from(a) }
    }
}

/// A webhook attempt and whose endpoint it went to.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptRow {
    pub merchant_id: MerchantId,
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    /// The delivery round: the event's own id, or a resend request's.
    pub round: EventId,
    pub attempt: u32,
    pub status_code: Option<u16>,
    pub succeeded: bool,
    pub latency_ms: u64,
    pub error: Option<String>,
    #[serde(with = "kst_serde")]
    pub at: DateTime<Utc>,
}

impl From<&MerchantAttempt> for AttemptRow {
    fn from(m: &MerchantAttempt) -> AttemptRow {
        let a = &m.attempt;
        AttemptRow {
            merchant_id: m.merchant_id.clone(),
            endpoint_id: a.endpoint_id.clone(),
            event_id: a.event_id.clone(),
            round: a.round.clone(),
            attempt: a.attempt,
            status_code: a.status_code,
            succeeded: a.succeeded(),
            latency_ms: a.latency_ms,
            error: a.error.clone(),
            at: a.at,
        }
    }
}

/// A webhook endpoint without its signing secrets.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointRow {
    pub id: WebhookEndpointId,
    pub merchant_id: MerchantId,
    pub url: String,
    /// `null`: every merchant event.
    pub event_types: Option<Vec<EventType>>,
    #[serde(with = "kst_serde")]
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl From<&WebhookEndpoint> for EndpointRow {
    fn from(e: &WebhookEndpoint) -> EndpointRow {
        EndpointRow {
            id: e.id.clone(),
            merchant_id: e.merchant_id.clone(),
            url: e.url.as_str().to_owned(),
            event_types: e.event_types.clone(),
            created_at: e.created_at,
            version: e.version,
        }
    }
}

/// A settlement as its merchant sees it, with whose it is and when it was exported.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementRow {
    pub merchant_id: MerchantId,
    #[serde(flatten)]
    pub settlement: SettlementView,
    #[serde(with = "kst_serde")]
    pub exported_at: DateTime<Utc>,
}

impl From<&Settlement> for SettlementRow {
    fn from(s: &Settlement) -> SettlementRow {
        SettlementRow { merchant_id: s.merchant_id.clone(), settlement: SettlementView::of(s), exported_at: s.exported_at }
    }
}

/// A row as JSON. The views here hold only strings, numbers and string-keyed maps, which
/// always serialize.
fn json_of(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Spreadsheets
// ---------------------------------------------------------------------------------------------

/// One column of a list's file: its header and kind, and where in the row's JSON its value is
/// (a JSON pointer).
struct Col {
    column: Column,
    at: &'static str,
}

const fn text(header: &'static str, at: &'static str) -> Col {
    Col { column: Column::text(header), at }
}

const fn krw(header: &'static str, at: &'static str) -> Col {
    Col { column: Column::krw(header), at }
}

const fn int(header: &'static str, at: &'static str) -> Col {
    Col { column: Column::integer(header), at }
}

const fn time(header: &'static str, at: &'static str) -> Col {
    Col { column: Column::time(header), at }
}

/// A list's file: its sheet (and file) name and columns.
struct Sheet {
    title: &'static str,
    columns: &'static [Col],
}

impl Sheet {
    fn columns(&self) -> Vec<Column> {
        self.columns.iter().map(|c| c.column).collect()
    }

    /// The cells of one row, from its (masked) JSON.
    fn cells(&self, row: &Value) -> Vec<Cell> {
        self.columns.iter().map(|c| cell(c.column.kind, row.pointer(c.at).unwrap_or(&Value::Null))).collect()
    }

    /// `입금내역-20261124-103000.xlsx`: the list and when it was taken, in KST.
    fn filename(&self, now: DateTime<Utc>) -> String {
        format!("{}-{}.xlsx", self.title, now.with_timezone(&kst()).format("%Y%m%d-%H%M%S"))
    }
}

/// A JSON value as a cell of `kind`: won and counts as numbers, times as KST date-times, flags
/// as 예/아니오, lists joined with commas (an object in a list by its `name`, as files are).
fn cell(kind: Kind, value: &Value) -> Cell {
    match (kind, value) {
        (_, Value::Null) => Cell::Empty,
        (Kind::Krw, Value::Number(n)) => n.as_i64().map_or(Cell::Empty, |n| Cell::Krw(Krw::new(n))),
        (Kind::Integer, Value::Number(n)) => n.as_i64().map_or(Cell::Empty, Cell::Integer),
        (Kind::Time, Value::String(s)) => parse_rfc3339(s).map_or_else(|_| Cell::text(s.as_str()), Cell::Time),
        (_, value) => Cell::text(shown(value)),
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "예".to_owned(),
        Value::Bool(false) => "아니오".to_owned(),
        Value::Array(items) => items.iter().map(|v| v.get("name").map_or_else(|| shown(v), shown)).collect::<Vec<_>>().join(", "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const MERCHANTS: Sheet = Sheet {
    title: "가맹점",
    columns: &[
        text("가맹점 ID", "/id"),
        text("가맹점명", "/name"),
        krw("건당 수수료", "/fee_per_deposit"),
        int("수수료율(bp)", "/fee_rate_bps"),
        int("정산 주기(영업일)", "/payout_days"),
        text("부분입금 기본 허용", "/allow_partial_by_default"),
        text("기한 후 입금 수납", "/accept_late"),
        text("입금자명 불일치 처리", "/name_mismatch"),
        text("예외 처리 승인 필요", "/require_exception_approval"),
        text("API 키", "/active_keys"),
        time("등록일시", "/created_at"),
    ],
};

const ACCOUNTS: Sheet = Sheet {
    title: "가상계좌",
    columns: &[
        text("가상계좌 ID", "/id"),
        text("가맹점 ID", "/merchant_id"),
        text("주문번호", "/order_id"),
        text("유형", "/type"),
        text("상태", "/status"),
        text("은행코드", "/bank_code"),
        text("은행", "/bank_name"),
        text("계좌번호", "/account_number"),
        krw("청구금액", "/amount"),
        krw("입금액", "/paid_amount"),
        time("입금기한", "/due_at"),
        text("지정 입금자명", "/depositor_name"),
        text("고객명", "/customer/name"),
        text("고객 전화번호", "/customer/phone"),
        text("고객 이메일", "/customer/email"),
        time("발급일시", "/created_at"),
        time("변경일시", "/updated_at"),
    ],
};

const DEPOSITS: Sheet = Sheet {
    title: "입금내역",
    columns: &[
        text("입금 ID", "/id"),
        text("가맹점 ID", "/merchant_id"),
        text("가상계좌 ID", "/virtual_account_id"),
        text("제공사", "/provider"),
        text("거래번호", "/transaction_id"),
        text("은행코드", "/bank_code"),
        text("은행", "/bank_name"),
        text("계좌번호", "/account_number"),
        krw("입금액", "/amount"),
        krw("반영액", "/credited_amount"),
        text("입금자명", "/depositor_name"),
        text("입금자명 불일치", "/name_mismatch"),
        text("상태", "/status"),
        text("예외 사유", "/exception/reason"),
        text("예외 상태", "/exception/state"),
        krw("예외 금액", "/exception/amount"),
        time("입금일시", "/deposited_at"),
        time("수신일시", "/received_at"),
        time("취소일시", "/reversed_at"),
    ],
};

const EXCEPTIONS: Sheet = Sheet {
    title: "입금예외",
    columns: &[
        text("예외 ID", "/exception/id"),
        text("입금 ID", "/id"),
        text("가맹점 ID", "/merchant_id"),
        text("사유", "/exception/reason"),
        text("상태", "/exception/state"),
        krw("예외 금액", "/exception/amount"),
        krw("입금액", "/amount"),
        text("은행코드", "/bank_code"),
        text("은행", "/bank_name"),
        text("계좌번호", "/account_number"),
        text("입금자명", "/depositor_name"),
        text("원본 입금자명", "/depositor_name_raw"),
        text("처리 방법", "/exception/resolution"),
        text("환불 계좌", "/resolution_detail/account_number"),
        text("환불 예금주", "/resolution_detail/holder"),
        text("승인 대기 제안자", "/proposal/by"),
        time("입금일시", "/deposited_at"),
    ],
};

const ATTEMPTS: Sheet = Sheet {
    title: "웹훅 전송",
    columns: &[
        text("가맹점 ID", "/merchant_id"),
        text("엔드포인트 ID", "/endpoint_id"),
        text("이벤트 ID", "/event_id"),
        text("전송 회차", "/round"),
        int("시도", "/attempt"),
        int("응답 코드", "/status_code"),
        text("성공", "/succeeded"),
        int("응답 시간(ms)", "/latency_ms"),
        text("오류", "/error"),
        time("시도일시", "/at"),
    ],
};

const ENDPOINTS: Sheet = Sheet {
    title: "웹훅 엔드포인트",
    columns: &[
        text("엔드포인트 ID", "/id"),
        text("가맹점 ID", "/merchant_id"),
        text("URL", "/url"),
        text("이벤트 유형", "/event_types"),
        time("등록일시", "/created_at"),
    ],
};

const NOTICES: Sheet = Sheet {
    title: "고객 알림",
    columns: &[
        text("이벤트 ID", "/event_id"),
        text("가맹점 ID", "/merchant_id"),
        text("가상계좌 ID", "/virtual_account_id"),
        text("이벤트 유형", "/event_type"),
        text("채널", "/channel"),
        text("결과", "/outcome"),
        int("시도 횟수", "/attempts"),
        text("메시지 ID", "/message_id"),
        text("오류", "/error"),
        time("기록일시", "/at"),
    ],
};

const INCIDENTS: Sheet = Sheet {
    title: "장애",
    columns: &[
        text("장애 ID", "/id"),
        text("유형", "/kind"),
        text("대상", "/subject"),
        text("심각도", "/severity"),
        text("상태", "/status"),
        int("발생 횟수", "/count"),
        time("최초 발생", "/first_at"),
        time("최근 발생", "/last_at"),
        text("확인자", "/acknowledged_by"),
        time("확인일시", "/acknowledged_at"),
        text("해결자", "/resolved_by"),
        time("해결일시", "/resolved_at"),
    ],
};

const SETTLEMENTS: Sheet = Sheet {
    title: "정산",
    columns: &[
        text("정산 ID", "/id"),
        text("가맹점 ID", "/merchant_id"),
        text("정산일", "/date"),
        int("입금 건수", "/deposit_count"),
        krw("총 입금액", "/gross"),
        krw("수수료", "/fee"),
        krw("부가세", "/vat"),
        krw("정산액", "/net"),
        text("지급일", "/payout_date"),
        text("파일", "/files"),
        time("생성일시", "/exported_at"),
    ],
};

const REPORTS: Sheet = Sheet {
    title: "대사 결과",
    columns: &[
        text("제공사", "/provider"),
        text("대사일", "/date"),
        int("명세 건수", "/statement_rows"),
        int("일치", "/matched"),
        int("복구", "/recovered"),
        int("차이", "/differences"),
        int("금액 불일치", "/by_kind/amount_mismatch"),
        int("계좌 불일치", "/by_kind/account_mismatch"),
        int("제공사 누락", "/by_kind/missing_at_provider"),
        int("취소 불일치", "/by_kind/reversal_mismatch"),
        text("보고서 파일", "/file/name"),
        time("대사일시", "/reconciled_at"),
    ],
};

const AUDIT: Sheet = Sheet {
    title: "감사 로그",
    columns: &[
        int("순번", "/seq"),
        time("일시", "/at"),
        text("작업자", "/actor"),
        text("역할", "/role"),
        text("작업", "/action"),
        text("대상", "/target"),
        text("변경 전", "/before"),
        text("변경 후", "/after"),
        text("IP", "/ip"),
        text("User-Agent", "/user_agent"),
        text("해시", "/hash"),
    ],
};

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

/// Answers a list request: the page asked for, or with `format=xlsx` every page as one file.
/// `fetch(limit, cursor)` reads a page; `row` is what a record shows.
async fn respond<T, F, Fut>(
    state: &AppState,
    acting: &Operator,
    uri: &Uri,
    request: (bool, Paging),
    sheet: &Sheet,
    mut fetch: F,
    row: fn(&T) -> Value,
) -> Result<Response, Problem>
where
    F: FnMut(usize, Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<Listing<T>, AppError>>,
{
    let (xlsx, paging) = request;
    if !xlsx {
        let page = fetch(paging.limit, paging.cursor).await?;
        let body = ListBody { data: page.items.iter().map(row).collect(), next_cursor: page.next.as_ref().map(dto::encode_cursor) };
        return Ok(answer(state, StatusCode::OK, &body, acting, uri).await);
    }
    let pii = acting.operator.pii;
    let mut unmasked = false;
    let export = XlsxExport::create(sheet.title, &sheet.columns()).map_err(AppError::from)?;
    let file = export_all(
        export,
        None,
        |cursor| fetch(EXPORT_PAGE, cursor),
        |item| {
            let full = row(item);
            let masked = mask::for_operator(full.clone(), false);
            if pii {
                unmasked |= masked != full;
                sheet.cells(&full)
            } else {
                sheet.cells(&masked)
            }
        },
    )
    .await?;
    let target = uri.path().to_owned();
    let after = json!({"query": mask::query_for_audit(uri.query()), "rows": file.rows(), "unmasked": unmasked});
    note(state, acting, Change { after: Some(after), ..Change::of(AuditAction::ListExported, target.clone()) }).await;
    if unmasked {
        note(state, acting, Change::of(AuditAction::PiiUnmasked, target.clone())).await;
    }
    Ok(download::xlsx(file, &sheet.filename(state.service.clock().now()))?)
}

pub(super) async fn merchants(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_merchants(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &MERCHANTS, |n, c| o.merchants(&r.filter, n, c), |m| json_of(MerchantView::from(m))).await
}

pub(super) async fn accounts(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_accounts(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &ACCOUNTS, |n, c| o.accounts(&r.filter, n, c), |a| json_of(AccountRow::from(a))).await
}

pub(super) async fn deposits(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_deposits(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &DEPOSITS, |n, c| o.deposits(&r.filter, n, c), |d| json_of(case(d))).await
}

pub(super) async fn exceptions(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_exceptions(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &EXCEPTIONS, |n, c| o.exceptions(&r.filter, n, c), |d| json_of(case(d))).await
}

pub(super) async fn webhook_attempts(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_attempts(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &ATTEMPTS, |n, c| o.webhook_attempts(&r.filter, n, c), |a| json_of(AttemptRow::from(a))).await
}

pub(super) async fn webhook_endpoints(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_endpoints(uri.query())?;
    let merchant = r.filter.merchant.clone().ok_or(AppError::NotFound)?;
    let o = state.service.oversight();
    let fetch = |n, c| o.webhook_endpoints(&merchant, n, c);
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &ENDPOINTS, fetch, |e| json_of(EndpointRow::from(e))).await
}

pub(super) async fn notices(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_notices(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &NOTICES, |n, c| o.notices(&r.filter, n, c), |x| json_of(x)).await
}

pub(super) async fn incidents(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_incidents(uri.query())?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &INCIDENTS, |n, c| o.incidents(&r.filter, n, c), |x| json_of(x)).await
}

fn today(state: &AppState) -> NaiveDate {
    crate::domain::calendar::kst_day(state.service.clock().now())
}

pub(super) async fn settlements(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_settlements(uri.query(), today(&state))?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &SETTLEMENTS, |n, c| o.settlements(&r.filter, n, c), |s| json_of(SettlementRow::from(s))).await
}

pub(super) async fn reconciliation_reports(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_reports(uri.query(), today(&state))?;
    let o = state.service.oversight();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &REPORTS, |n, c| o.reconciliation_reports(&r.filter, n, c), |x| json_of(x)).await
}

pub(super) async fn audit(State(state): State<AppState>, acting: Operator, uri: Uri) -> Result<Response, Problem> {
    let r = parse_audit(uri.query())?;
    let audit = state.service.audit();
    respond(&state, &acting, &uri, (r.xlsx, r.paging), &AUDIT, |n, c| audit.list(&r.filter, n, c), |x| json_of(x)).await
}

/// How many of an account's deposits its detail shows, newest first (the deposits list,
/// filtered by its number, has them all).
pub const ACCOUNT_DEPOSITS_SHOWN: usize = 20;

/// `GET /admin/v1/virtual-accounts/{id}`: the account, with its newest deposits.
pub(super) async fn account(State(state): State<AppState>, acting: Operator, uri: Uri, id: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let id: VirtualAccountId = id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)?;
    let account = state.service.oversight().account(&id).await?;
    let deposits = state.service.deposits().account_deposits(&account.merchant_id, &id, ACCOUNT_DEPOSITS_SHOWN, None).await?;
    let mut body = json_of(AccountRow::from(&account));
    if let Value::Object(map) = &mut body {
        map.insert("deposits".to_owned(), Value::Array(deposits.items.iter().map(|d| json_of(case(d))).collect()));
    }
    Ok(answer(&state, StatusCode::OK, &body, &acting, &uri).await)
}

/// `GET /admin/v1/deposits/{id}`: one deposit, whoever's it is, with its exception in full.
pub(super) async fn deposit(State(state): State<AppState>, acting: Operator, uri: Uri, id: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    let id: DepositId = id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)?;
    let deposit = state.service.deposits().deposit_by_id(&id).await?;
    Ok(answer(&state, StatusCode::OK, &case(&deposit), &acting, &uri).await)
}
