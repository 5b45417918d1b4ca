//! What operators read across merchants: accounts, deposits, exceptions, webhook attempts,
//! customer notices, incidents, settlements, reconciliation reports and merchants, and the
//! counts behind the dashboard's figures.
//!
//! Every listing reads the records' own listings (docs/storage.md, "Operators' listings"):
//! with a merchant filter, that merchant's; without one, every merchant's in id order (a
//! [`Walk`], whose cursor says which merchant it is in and where). An account number or an
//! order id is looked up directly. What the indexes cannot select (bank, amount, depositor, …)
//! is filtered while paging, and a page spends at most its [`ScanBudget`] of store calls
//! before it answers with what it found and a cursor: a page may then be short, even empty,
//! and only a missing cursor means the listing is over. Pages never skip or repeat a record.

use super::scan::{Owners, Part, Source, Walk};
use super::{Listing, accounts, data_of, deposits, incidents, merchants, notices, reconciliation, settlements, webhooks};
use crate::domain::deposit::{Deposit, DepositStatus, ExceptionReason, ExceptionState};
use crate::domain::figures::Tally;
use crate::domain::incident::{Incident, IncidentStatus};
use crate::domain::notice::Channel;
use crate::domain::reconciliation::ReportSummary;
use crate::domain::settlement::Settlement;
use crate::domain::webhook::WebhookAttempt;
use crate::domain::{AccountNumber, BankCode, EventType, Krw, Merchant, MerchantId, OrderId, ProviderId, Status, VirtualAccount, WebhookEndpointId};
use crate::ports::{Cursor, Item, StoreError, Table};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

pub use super::notices::{NoticeOutcome, NoticeRecord};
pub use super::scan::Coverage;

/// How many store calls (each Get or Query one) a page may spend before it answers with what
/// it found so far and a cursor. Each call reads at most [`SCAN_PAGE`] records, so a page
/// reads at most about `calls × SCAN_PAGE` records however little its filter matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanBudget {
    pub calls: usize,
}

impl ScanBudget {
    pub const DEFAULT: ScanBudget = ScanBudget { calls: 40 };
}

impl Default for ScanBudget {
    fn default() -> ScanBudget {
        ScanBudget::DEFAULT
    }
}

/// Records read per store call while a filter is applied in memory.
pub const SCAN_PAGE: usize = 100;
/// Records read per store call while counting.
const FOLD_PAGE: usize = 500;

/// Items a part is read by: a page's worth when the indexes select every record shown, more
/// when a filter in memory may drop most of them.
fn page_size(limit: usize, filtered: bool) -> usize {
    if filtered { SCAN_PAGE } else { limit.saturating_add(1).min(SCAN_PAGE) }
}

fn within(amount: Krw, min: Option<Krw>, max: Option<Krw>) -> bool {
    min.is_none_or(|m| amount >= m) && max.is_none_or(|m| amount <= m)
}

fn between(at: DateTime<Utc>, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> bool {
    from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
}

/// Case-insensitive: operators type names as they remember them.
fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.trim().to_lowercase())
}

/// One merchant, or every merchant (then `then`, names that sort after every merchant id).
fn merchants_or(merchant: Option<&MerchantId>, then: &[&str]) -> Owners {
    match merchant {
        Some(m) => Owners::one(m.as_str()),
        None => Owners::Merchants { then: then.iter().map(|s| (*s).to_owned()).collect() },
    }
}

/// The bank codes an account number may be at: the one named, or every bank.
fn banks(bank: Option<BankCode>) -> Vec<String> {
    bank.map_or_else(|| BankCode::ALL.iter().map(|b| b.code().to_owned()).collect(), |b| vec![b.code().to_owned()])
}

fn owner_as<T: std::str::FromStr>(owner: &str) -> Result<T, StoreError> {
    owner.parse().map_err(|_| StoreError::InvalidCursor)
}

// ---------------------------------------------------------------------------------------------
// Virtual accounts
// ---------------------------------------------------------------------------------------------

/// Which accounts to list. Every field narrows; none lists every account of every merchant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountQuery {
    pub merchant: Option<MerchantId>,
    pub status: Option<Status>,
    pub bank: Option<BankCode>,
    /// On the account's expected amount: an account without one (fixed) is outside any range.
    pub min_amount: Option<Krw>,
    pub max_amount: Option<Krw>,
    /// Creation time window, inclusive.
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Looked up directly, per merchant.
    pub order_id: Option<OrderId>,
    /// Looked up directly: the accounts ever issued on the number, newest first.
    pub account_number: Option<AccountNumber>,
}

impl AccountQuery {
    pub fn admits(&self, account: &VirtualAccount) -> bool {
        let amount_ok = (self.min_amount.is_none() && self.max_amount.is_none()) || account.amount.is_some_and(|a| within(a, self.min_amount, self.max_amount));
        self.merchant.as_ref().is_none_or(|m| &account.merchant_id == m)
            && self.status.is_none_or(|s| account.status == s)
            && self.bank.is_none_or(|b| account.bank_code == b)
            && amount_ok
            && between(account.created_at, self.created_from, self.created_to)
            && self.order_id.as_ref().is_none_or(|o| &account.order_id == o)
            && self.account_number.as_ref().is_none_or(|n| &account.account_number == n)
    }

    fn filters_in_memory(&self) -> bool {
        self.bank.is_some() || self.min_amount.is_some() || self.max_amount.is_some() || self.account_number.is_some()
    }
}

struct AccountSource(AccountQuery);

#[async_trait]
impl Source for AccountSource {
    type Record = VirtualAccount;

    async fn parts(&self, table: &dyn Table, owner: &str, calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        let q = &self.0;
        if let Some(number) = &q.account_number {
            return Ok(vec![accounts::number_part(owner_as(owner)?, number, q.created_from, q.created_to)]);
        }
        let merchant: MerchantId = owner_as(owner)?;
        if let Some(order) = &q.order_id {
            *calls += 2;
            return Ok(accounts::order_part(table, &merchant, order).await?.into_iter().collect());
        }
        let filter = accounts::ListFilter { status: q.status, created_from: q.created_from, created_to: q.created_to };
        Ok(accounts::listing_parts(&merchant, &filter))
    }

    fn keep(&self, _owner: &str, item: &Item) -> Result<Option<VirtualAccount>, StoreError> {
        let account: VirtualAccount = data_of(item)?;
        Ok(self.0.admits(&account).then_some(account))
    }
}

fn account_walk<'a>(table: &'a dyn Table, query: &AccountQuery, page: usize) -> Walk<'a, AccountSource> {
    let (name, owners) = if query.account_number.is_some() {
        ("accounts_by_number", Owners::listed(banks(query.bank)))
    } else if query.order_id.is_some() {
        ("accounts_by_order", merchants_or(query.merchant.as_ref(), &[]))
    } else {
        ("accounts", merchants_or(query.merchant.as_ref(), &[]))
    };
    Walk { table, name, owners, source: AccountSource(query.clone()), page }
}

/// Accounts, newest first within each merchant, merchants in id order.
pub async fn accounts(
    table: &dyn Table,
    query: &AccountQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<VirtualAccount>, StoreError> {
    account_walk(table, query, page_size(limit, query.filters_in_memory())).page(limit, after, budget.calls).await
}

/// How many accounts every merchant created in a window, reading at most `cap` of them.
pub async fn count_accounts(table: &dyn Table, from: DateTime<Utc>, to: DateTime<Utc>, cap: usize) -> Result<Tally, StoreError> {
    let query = AccountQuery { created_from: Some(from), created_to: Some(to), ..AccountQuery::default() };
    let mut count = 0;
    let coverage = account_walk(table, &query, FOLD_PAGE).fold(cap, cap, |_, _| count += 1).await?;
    Ok(Tally { count, complete: coverage.complete() })
}

// ---------------------------------------------------------------------------------------------
// Deposits and exceptions
// ---------------------------------------------------------------------------------------------

/// Whose deposits: a merchant's, or those to numbers nobody holds (until an operator assigns them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepositOwner {
    Merchant(MerchantId),
    Unmatched,
}

/// Which deposits to list. Every field narrows; none lists every owner's deposits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepositQuery {
    pub owner: Option<DepositOwner>,
    pub status: Option<DepositStatus>,
    pub bank: Option<BankCode>,
    /// On the amount deposited.
    pub min_amount: Option<Krw>,
    pub max_amount: Option<Krw>,
    /// Deposit time window (as the provider reported it), inclusive.
    pub deposited_from: Option<DateTime<Utc>>,
    pub deposited_to: Option<DateTime<Utc>>,
    /// Part of the depositor's name, as cleaned or as the provider sent it; case-insensitive.
    pub depositor: Option<String>,
    /// Deposits made to this number: looked up through the accounts issued on it, and among
    /// the unmatched deposits.
    pub account_number: Option<AccountNumber>,
    /// Deposits to the account of this order: looked up directly, per merchant.
    pub order_id: Option<OrderId>,
}

impl DepositQuery {
    /// Whether `deposit` passes every filter but `order_id` (a deposit does not name its order).
    pub fn admits(&self, deposit: &Deposit) -> bool {
        let owner_ok = match &self.owner {
            None => true,
            Some(DepositOwner::Merchant(m)) => deposit.merchant_id.as_ref() == Some(m),
            Some(DepositOwner::Unmatched) => deposit.merchant_id.is_none(),
        };
        let depositor_ok = self
            .depositor
            .as_deref()
            .is_none_or(|needle| [&deposit.depositor_name, &deposit.depositor_name_raw].into_iter().flatten().any(|name| contains(name, needle)));
        owner_ok
            && self.status.is_none_or(|s| deposit.status == s)
            && self.bank.is_none_or(|b| deposit.bank_code == b)
            && within(deposit.amount, self.min_amount, self.max_amount)
            && between(deposit.deposited_at, self.deposited_from, self.deposited_to)
            && depositor_ok
            && self.account_number.as_ref().is_none_or(|n| &deposit.account_number == n)
    }

    fn filters_in_memory(&self) -> bool {
        self.bank.is_some() || self.min_amount.is_some() || self.max_amount.is_some() || self.depositor.is_some() || self.account_number.is_some()
    }
}

/// Which exceptions to list: deposits whose money could not be credited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionQuery {
    pub owner: Option<DepositOwner>,
    pub state: Option<ExceptionState>,
    pub reason: Option<ExceptionReason>,
    pub bank: Option<BankCode>,
    /// On the amount the exception holds (all of a deposit, or an overpayment's excess).
    pub min_amount: Option<Krw>,
    pub max_amount: Option<Krw>,
    pub deposited_from: Option<DateTime<Utc>>,
    pub deposited_to: Option<DateTime<Utc>>,
}

impl ExceptionQuery {
    pub fn admits(&self, deposit: &Deposit) -> bool {
        self.deposits().admits(deposit)
            && deposit.exception.as_ref().is_some_and(|e| {
                self.state.is_none_or(|s| e.state == s) && self.reason.is_none_or(|r| e.reason == r) && within(e.amount, self.min_amount, self.max_amount)
            })
    }

    /// The deposit listing the exceptions are read from.
    fn deposits(&self) -> DepositQuery {
        DepositQuery {
            owner: self.owner.clone(),
            status: Some(DepositStatus::Exception),
            bank: self.bank,
            deposited_from: self.deposited_from,
            deposited_to: self.deposited_to,
            ..DepositQuery::default()
        }
    }
}

struct DepositSource {
    query: DepositQuery,
    exceptions: Option<ExceptionQuery>,
}

#[async_trait]
impl Source for DepositSource {
    type Record = Deposit;

    async fn parts(&self, table: &dyn Table, owner: &str, calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        let q = &self.query;
        let (from, to) = (q.deposited_from, q.deposited_to);
        if owner == deposits::UNMATCHED {
            return Ok(deposits::owner_parts(owner, q.status, from, to));
        }
        if let Some(number) = &q.account_number {
            let (ids, spent) = accounts::ids_on_number(table, owner_as(owner)?, number).await?;
            *calls += spent;
            return Ok(ids.iter().map(|id| deposits::account_part(id, from, to)).collect());
        }
        if let Some(order) = &q.order_id {
            *calls += 1;
            let claim = accounts::order_claim(table, &owner_as(owner)?, order).await?;
            return Ok(claim.iter().map(|c| deposits::account_part(&c.account, from, to)).collect());
        }
        Ok(deposits::owner_parts(owner, q.status, from, to))
    }

    fn keep(&self, _owner: &str, item: &Item) -> Result<Option<Deposit>, StoreError> {
        let Some(deposit) = deposits::deposit_of(item)? else { return Ok(None) };
        let kept = self.query.admits(&deposit) && self.exceptions.as_ref().is_none_or(|e| e.admits(&deposit));
        Ok(kept.then_some(deposit))
    }
}

fn deposit_walk<'a>(table: &'a dyn Table, name: &'static str, query: DepositQuery, exceptions: Option<ExceptionQuery>, page: usize) -> Walk<'a, DepositSource> {
    let unmatched = deposits::UNMATCHED;
    let (name, owners) = if query.account_number.is_some() {
        let owners = match &query.owner {
            Some(DepositOwner::Unmatched) => vec![unmatched.to_owned()],
            Some(DepositOwner::Merchant(_)) => banks(query.bank),
            None => banks(query.bank).into_iter().chain([unmatched.to_owned()]).collect(),
        };
        ("deposits_by_number", Owners::listed(owners))
    } else if query.order_id.is_some() {
        let owners = match &query.owner {
            Some(DepositOwner::Merchant(m)) => Owners::one(m.as_str()),
            Some(DepositOwner::Unmatched) => Owners::Listed(Vec::new()),
            None => merchants_or(None, &[]),
        };
        ("deposits_by_order", owners)
    } else {
        let owners = match &query.owner {
            Some(DepositOwner::Merchant(m)) => Owners::one(m.as_str()),
            Some(DepositOwner::Unmatched) => Owners::one(unmatched),
            None => merchants_or(None, &[unmatched]),
        };
        (name, owners)
    };
    Walk { table, name, owners, source: DepositSource { query, exceptions }, page }
}

/// Deposits, newest first within each owner: merchants in id order, then `unmatched`.
pub async fn deposits(
    table: &dyn Table,
    query: &DepositQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<Deposit>, StoreError> {
    let page = page_size(limit, query.filters_in_memory());
    deposit_walk(table, "deposits", query.clone(), None, page).page(limit, after, budget.calls).await
}

/// Deposits with an exception, newest first within each owner: merchants in id order, then
/// `unmatched`. Resolved exceptions stay in the listing (their deposits keep the status), so
/// a state filter is applied in memory.
pub async fn exceptions(
    table: &dyn Table,
    query: &ExceptionQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<Deposit>, StoreError> {
    let filtered = query.state.is_some() || query.reason.is_some() || query.min_amount.is_some() || query.max_amount.is_some() || query.bank.is_some();
    deposit_walk(table, "exceptions", query.deposits(), Some(query.clone()), page_size(limit, filtered)).page(limit, after, budget.calls).await
}

/// Visits the deposits `query` selects (its `order_id` and `account_number` aside: every
/// owner's listing is read), newest first per owner, reading at most `per_owner` of one owner
/// and `total` in all.
pub async fn fold_deposits(
    table: &dyn Table,
    query: &DepositQuery,
    per_owner: usize,
    total: usize,
    visit: impl FnMut(&str, Deposit) + Send,
) -> Result<Coverage, StoreError> {
    let query = DepositQuery { account_number: None, order_id: None, ..query.clone() };
    deposit_walk(table, "deposits", query, None, FOLD_PAGE).fold(per_owner, total, visit).await
}

// ---------------------------------------------------------------------------------------------
// Webhook attempts
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Succeeded,
    /// Any other answer, or none.
    Failed,
}

/// Which webhook attempts to list. An endpoint is one of a merchant's, so it needs the merchant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptQuery {
    pub merchant: Option<MerchantId>,
    pub endpoint: Option<WebhookEndpointId>,
    pub outcome: Option<AttemptOutcome>,
    /// Attempt time window, inclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AttemptQuery {
    pub fn admits(&self, attempt: &WebhookAttempt) -> bool {
        let outcome_ok = match self.outcome {
            None => true,
            Some(AttemptOutcome::Succeeded) => attempt.succeeded(),
            Some(AttemptOutcome::Failed) => !attempt.succeeded(),
        };
        outcome_ok && self.endpoint.as_ref().is_none_or(|e| &attempt.endpoint_id == e) && between(attempt.at, self.from, self.to)
    }
}

/// An attempt and the merchant whose endpoint it was made to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantAttempt {
    pub merchant_id: MerchantId,
    pub attempt: WebhookAttempt,
}

struct AttemptSource(AttemptQuery);

#[async_trait]
impl Source for AttemptSource {
    type Record = MerchantAttempt;

    async fn parts(&self, table: &dyn Table, owner: &str, calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        let merchant: MerchantId = owner_as(owner)?;
        let q = &self.0;
        *calls += 1;
        let endpoints = match &q.endpoint {
            Some(id) => webhooks::get_endpoint(table, &merchant, id).await?.into_iter().collect(),
            None => webhooks::all_endpoints(table, &merchant).await?,
        };
        Ok(endpoints.iter().flat_map(|e| webhooks::attempt_parts(&e.id, q.from, q.to)).collect())
    }

    fn keep(&self, owner: &str, item: &Item) -> Result<Option<MerchantAttempt>, StoreError> {
        let attempt: WebhookAttempt = data_of(item)?;
        if !self.0.admits(&attempt) {
            return Ok(None);
        }
        Ok(Some(MerchantAttempt { merchant_id: owner_as(owner)?, attempt }))
    }
}

fn attempt_walk<'a>(table: &'a dyn Table, query: &AttemptQuery, page: usize) -> Walk<'a, AttemptSource> {
    Walk { table, name: "webhook_attempts", owners: merchants_or(query.merchant.as_ref(), &[]), source: AttemptSource(query.clone()), page }
}

/// Webhook attempts, newest first within each merchant (over all its endpoints), merchants
/// in id order. Attempts to endpoints since deleted are not listed.
pub async fn webhook_attempts(
    table: &dyn Table,
    query: &AttemptQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<MerchantAttempt>, StoreError> {
    attempt_walk(table, query, page_size(limit, query.outcome.is_some())).page(limit, after, budget.calls).await
}

/// Visits the attempts `query` selects, reading at most `total`.
pub async fn fold_attempts(
    table: &dyn Table,
    query: &AttemptQuery,
    total: usize,
    visit: impl FnMut(&str, MerchantAttempt) + Send,
) -> Result<Coverage, StoreError> {
    attempt_walk(table, query, FOLD_PAGE).fold(total, total, visit).await
}

// ---------------------------------------------------------------------------------------------
// Customer notices
// ---------------------------------------------------------------------------------------------

/// Which customer notice records to list. Records written before they named their merchant
/// are not listed (docs/storage.md).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeQuery {
    pub merchant: Option<MerchantId>,
    /// Records of one channel; the record that settles a whole notice has none and is left out.
    pub channel: Option<Channel>,
    pub outcome: Option<NoticeOutcome>,
    pub event_type: Option<EventType>,
    /// Record time window, inclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl NoticeQuery {
    pub fn admits(&self, record: &NoticeRecord) -> bool {
        self.merchant.as_ref().is_none_or(|m| record.merchant_id.as_ref() == Some(m))
            && self.channel.is_none_or(|c| record.channel == Some(c))
            && self.outcome.is_none_or(|o| record.outcome == o)
            && self.event_type.is_none_or(|t| record.event_type == Some(t))
            && between(record.at, self.from, self.to)
    }
}

struct NoticeSource(NoticeQuery);

#[async_trait]
impl Source for NoticeSource {
    type Record = NoticeRecord;

    async fn parts(&self, _table: &dyn Table, owner: &str, _calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        Ok(notices::listing_parts(&owner_as(owner)?, self.0.outcome, self.0.from, self.0.to))
    }

    fn keep(&self, _owner: &str, item: &Item) -> Result<Option<NoticeRecord>, StoreError> {
        let record: NoticeRecord = data_of(item)?;
        Ok(self.0.admits(&record).then_some(record))
    }
}

/// Customer notice records, newest first within each merchant, merchants in id order.
pub async fn notices(
    table: &dyn Table,
    query: &NoticeQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<NoticeRecord>, StoreError> {
    let filtered = query.channel.is_some() || query.event_type.is_some();
    let walk = Walk {
        table,
        name: "notices",
        owners: merchants_or(query.merchant.as_ref(), &[]),
        source: NoticeSource(query.clone()),
        page: page_size(limit, filtered),
    };
    walk.page(limit, after, budget.calls).await
}

// ---------------------------------------------------------------------------------------------
// Incidents, settlements, merchants
// ---------------------------------------------------------------------------------------------

/// Which incidents to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncidentQuery {
    pub status: Option<IncidentStatus>,
    /// When the incident was opened, inclusive.
    pub opened_from: Option<DateTime<Utc>>,
    pub opened_to: Option<DateTime<Utc>>,
}

struct IncidentSource(IncidentQuery);

const INCIDENTS: &str = "incidents";

#[async_trait]
impl Source for IncidentSource {
    type Record = Incident;

    async fn parts(&self, _table: &dyn Table, _owner: &str, _calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        Ok(vec![incidents::listing_part(self.0.status, self.0.opened_from, self.0.opened_to)])
    }

    fn keep(&self, _owner: &str, item: &Item) -> Result<Option<Incident>, StoreError> {
        let incident: Incident = data_of(item)?;
        // The status listing is an index: it may still show an incident under its old status.
        Ok(self.0.status.is_none_or(|s| incident.status == s).then_some(incident))
    }
}

fn incident_walk<'a>(table: &'a dyn Table, query: &IncidentQuery, page: usize) -> Walk<'a, IncidentSource> {
    Walk { table, name: INCIDENTS, owners: Owners::one(INCIDENTS), source: IncidentSource(query.clone()), page }
}

/// Incidents, newest first.
pub async fn incidents(
    table: &dyn Table,
    query: &IncidentQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<Incident>, StoreError> {
    incident_walk(table, query, page_size(limit, false)).page(limit, after, budget.calls).await
}

/// How many incidents are in `status`, reading at most `cap` of them.
pub async fn count_incidents(table: &dyn Table, status: IncidentStatus, cap: usize) -> Result<Tally, StoreError> {
    let mut count = 0;
    let query = IncidentQuery { status: Some(status), ..IncidentQuery::default() };
    let coverage = incident_walk(table, &query, FOLD_PAGE).fold(cap, cap, |_, _| count += 1).await?;
    Ok(Tally { count, complete: coverage.complete() })
}

/// Which settlements to list: KST days, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettlementQuery {
    pub merchant: Option<MerchantId>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

struct SettlementSource(SettlementQuery);

#[async_trait]
impl Source for SettlementSource {
    type Record = Settlement;

    async fn parts(&self, _table: &dyn Table, owner: &str, _calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        Ok(vec![settlements::settlements_part(&owner_as(owner)?, self.0.from, self.0.to)])
    }

    fn keep(&self, _owner: &str, item: &Item) -> Result<Option<Settlement>, StoreError> {
        settlements::settlement_of(item).map(Some)
    }
}

/// Settlements, newest day first within each merchant, merchants in id order.
pub async fn settlements(
    table: &dyn Table,
    query: &SettlementQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<Settlement>, StoreError> {
    let owners = merchants_or(query.merchant.as_ref(), &[]);
    let walk = Walk { table, name: "settlements", owners, source: SettlementSource(query.clone()), page: page_size(limit, false) };
    walk.page(limit, after, budget.calls).await
}

/// Which merchants to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MerchantQuery {
    /// Part of the merchant's name; case-insensitive.
    pub name: Option<String>,
}

struct MerchantSource(MerchantQuery);

const MERCHANTS: &str = "merchants";

#[async_trait]
impl Source for MerchantSource {
    type Record = Merchant;

    async fn parts(&self, _table: &dyn Table, _owner: &str, _calls: &mut usize) -> Result<Vec<Part>, StoreError> {
        Ok(vec![merchants::all_merchants_part()])
    }

    fn keep(&self, _owner: &str, item: &Item) -> Result<Option<Merchant>, StoreError> {
        let merchant: Merchant = data_of(item)?;
        Ok(self.0.name.as_deref().is_none_or(|n| contains(&merchant.name, n)).then_some(merchant))
    }
}

/// Merchants, newest first.
pub async fn merchants(
    table: &dyn Table,
    query: &MerchantQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<Merchant>, StoreError> {
    let walk =
        Walk { table, name: MERCHANTS, owners: Owners::one(MERCHANTS), source: MerchantSource(query.clone()), page: page_size(limit, query.name.is_some()) };
    walk.page(limit, after, budget.calls).await
}

// ---------------------------------------------------------------------------------------------
// Reconciliation reports
// ---------------------------------------------------------------------------------------------

/// Which reconciliation reports to list: KST days, inclusive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub provider: Option<ProviderId>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

const REPORTS: &str = "reconciliation_reports";
const DAY: &str = "day";
const PROVIDER: &str = "provider";
const WALK: &str = "walk";

/// Reconciliation reports, newest day first, providers in id order within a day. A report is
/// its own partition (`RECON#{provider}#{day}`), so each (day, provider) is one Get, and the
/// cursor names the last one read.
pub async fn reports(
    table: &dyn Table,
    query: &ReportQuery,
    limit: usize,
    after: Option<Cursor>,
    budget: ScanBudget,
) -> Result<Listing<ReportSummary>, StoreError> {
    let mark = match after {
        None => None,
        Some(cursor) => match (cursor.len(), cursor.get(WALK).map(String::as_str), cursor.get(DAY), cursor.get(PROVIDER)) {
            (3, Some(REPORTS), Some(day), Some(provider)) => {
                let day: NaiveDate = day.parse().map_err(|_| StoreError::InvalidCursor)?;
                if day < query.from || day > query.to {
                    return Err(StoreError::InvalidCursor);
                }
                Some((day, provider.clone()))
            }
            _ => return Err(StoreError::InvalidCursor),
        },
    };
    let mut calls = 0;
    let mut providers: Vec<ProviderId> = match &query.provider {
        Some(p) => vec![p.clone()],
        None => {
            calls += 1;
            merchants::list_providers(table).await?.into_iter().map(|p| p.id).collect()
        }
    };
    providers.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let encode = |(day, provider): &(NaiveDate, String)| -> Cursor {
        [(WALK, REPORTS.to_owned()), (DAY, day.to_string()), (PROVIDER, provider.clone())].into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    let limit = limit.max(1);
    let mut items = Vec::new();
    let mut progress = false;
    let mut last_read = mark.clone();
    let mut day = mark.as_ref().map_or(query.to, |(d, _)| *d);
    while day >= query.from {
        for provider in &providers {
            if mark.as_ref().is_some_and(|(d, p)| *d == day && provider.as_str() <= p.as_str()) {
                continue;
            }
            if progress && calls >= budget.calls {
                return Ok(Listing { items, next: last_read.as_ref().map(encode) });
            }
            calls += 1;
            if let Some(report) = reconciliation::get_report(table, provider, day).await? {
                items.push(report);
            }
            progress = true;
            last_read = Some((day, provider.to_string()));
            if items.len() >= limit {
                let at_end = day == query.from && providers.last() == Some(provider);
                return Ok(Listing { items, next: if at_end { None } else { last_read.as_ref().map(encode) } });
            }
        }
        let Some(previous) = day.pred_opt() else { break };
        day = previous;
    }
    Ok(Listing { items, next: None })
}
