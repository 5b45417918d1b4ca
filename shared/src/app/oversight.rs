//! What operators read across merchants (the admin API and the dashboard): listings with
//! filters and cursor paging, the number pool's stock, today's figures and the deposit
//! charts. Read-only; every read is bounded (docs/storage.md, "Operators' listings" and
//! "Dashboard figures").
//!
//! Listings answer [`Listing`]s whose `next` is an opaque cursor. A page may hold fewer items
//! than asked for, even none, when a filter the indexes cannot apply matched little within
//! the page's [`ScanBudget`]: only a `next` of `None` means the listing is over.

use super::{AppError, Service};
use crate::domain::calendar::{kst_day, kst_day_bounds};
use crate::domain::deposit::{Deposit, DepositStatus, ExceptionState};
use crate::domain::figures::{self, rate_bps};
use crate::domain::incident::{Incident, IncidentStatus};
use crate::domain::pool::numbers_in;
use crate::domain::reconciliation::ReportSummary;
use crate::domain::settlement::Settlement;
use crate::domain::webhook::WebhookEndpoint;
use crate::domain::{BankCode, Krw, Merchant, MerchantId, ProviderId, VirtualAccount, VirtualAccountId};
use crate::ports::Cursor;
use crate::repo::{self, Listing};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub use crate::domain::figures::{Bucket, Tally, Volume};
pub use crate::repo::oversight::{
    AccountQuery, AttemptOutcome, AttemptQuery, DepositOwner, DepositQuery, ExceptionQuery, IncidentQuery, MerchantAttempt, MerchantQuery, NoticeOutcome,
    NoticeQuery, NoticeRecord, ReportQuery, ScanBudget, SettlementQuery,
};

/// The largest page a listing serves (an export reads its pages at this size).
pub const MAX_LIMIT: usize = 1000;
/// Records one figure reads at most; beyond, the figure is a lower bound (`complete: false`).
pub const FIGURE_READ_CAP: usize = 20_000;
/// Deposits the charts read at most, shared evenly by the owners (merchants and `unmatched`).
pub const SERIES_READ_CAP: usize = 100_000;
/// Numbers of one bank and state the stock read counts at most.
pub const STOCK_READ_CAP: usize = 10_000;

/// One pool's stock: a provider's numbers at one bank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolStock {
    pub provider: ProviderId,
    pub bank: BankCode,
    /// Numbers imported into the pool (the union of its ranges); `None` for a pool whose
    /// ranges were imported before they were recorded (docs/storage.md).
    pub imported: Option<u64>,
    pub free: Tally,
    pub cooling: Tally,
    /// Imported, neither free nor cooling: held by an account. `None` unless the other three
    /// are known exactly.
    pub assigned: Option<u64>,
}

/// A bank with fewer free numbers than `Settings::pool_low_threshold`, all providers together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LowPool {
    pub bank: BankCode,
    pub free: u64,
}

/// The dashboard home's figures for one KST day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodayFigures {
    pub day: NaiveDate,
    /// Accounts created today, every merchant.
    pub accounts_issued: Tally,
    /// Deposits with a deposit time today, every owner and status, and their amount.
    pub deposits: Volume,
    /// Exceptions waiting for an operator, and those waiting for a second one's approval.
    pub exceptions_open: Tally,
    pub exceptions_pending_approval: Tally,
    /// Webhook attempts made today and those that failed (no 2xx answer).
    pub webhook_attempts: Tally,
    pub webhook_failures: Tally,
    /// Banks whose free numbers are below the low-water mark, by bank code.
    pub pool_low: Vec<LowPool>,
    pub incidents_open: Tally,
    pub incidents_acknowledged: Tally,
}

impl TodayFigures {
    /// Failed attempts of all attempts today, in basis points (1 % = 100); `None` without attempts.
    pub fn webhook_failure_rate_bps(&self) -> Option<u32> {
        rate_bps(self.webhook_failures.count, self.webhook_attempts.count)
    }
}

/// Deposits per hour over the last 24 hours and per KST day over the last 30 days, oldest
/// first, every bucket present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepositSeries {
    pub hourly: Vec<Bucket>,
    pub daily: Vec<Bucket>,
}

/// The operators' read side across merchants.
#[derive(Clone, Copy)]
pub struct Oversight<'a> {
    pub(super) service: &'a Service,
    pub(super) budget: ScanBudget,
}

fn check_limit(limit: usize) -> Result<(), AppError> {
    if (1..=MAX_LIMIT).contains(&limit) { Ok(()) } else { Err(AppError::field("limit", format!("must be 1-{MAX_LIMIT}"))) }
}

fn check_order<T: PartialOrd>(from: Option<T>, to: Option<T>, from_field: &str, to_field: &str) -> Result<(), AppError> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(AppError::field(from_field, format!("must not be after {to_field}"))),
        _ => Ok(()),
    }
}

fn check_amounts(min: Option<Krw>, max: Option<Krw>) -> Result<(), AppError> {
    check_order(min, max, "min_amount", "max_amount")
}

/// The instants of a KST day as an inclusive window: the stored times are milliseconds.
fn day_window(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let (start, end) = kst_day_bounds(day);
    (start, end - Duration::milliseconds(1))
}

impl Oversight<'_> {
    /// The same reads with another budget per page (tests use a small one).
    pub fn with_budget(self, budget: ScanBudget) -> Self {
        Oversight { budget: ScanBudget { calls: budget.calls.max(1) }, ..self }
    }

    fn table(&self) -> &dyn crate::ports::Table {
        self.service.table.as_ref()
    }

    /// One account, whichever merchant's it is.
    pub async fn account(self, id: &VirtualAccountId) -> Result<VirtualAccount, AppError> {
        repo::accounts::get(self.table(), id).await?.ok_or(AppError::NotFound)
    }

    /// Virtual accounts across merchants.
    pub async fn accounts(self, query: &AccountQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<VirtualAccount>, AppError> {
        check_limit(limit)?;
        check_amounts(query.min_amount, query.max_amount)?;
        check_order(query.created_from, query.created_to, "created_from", "created_to")?;
        Ok(repo::oversight::accounts(self.table(), query, limit, after, self.budget).await?)
    }

    /// Deposits across owners: every merchant, then `unmatched`.
    pub async fn deposits(self, query: &DepositQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<Deposit>, AppError> {
        check_limit(limit)?;
        check_amounts(query.min_amount, query.max_amount)?;
        check_order(query.deposited_from, query.deposited_to, "deposited_from", "deposited_to")?;
        Ok(repo::oversight::deposits(self.table(), query, limit, after, self.budget).await?)
    }

    /// The exceptions queue across owners: every merchant, then `unmatched`.
    pub async fn exceptions(self, query: &ExceptionQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<Deposit>, AppError> {
        check_limit(limit)?;
        check_amounts(query.min_amount, query.max_amount)?;
        check_order(query.deposited_from, query.deposited_to, "deposited_from", "deposited_to")?;
        Ok(repo::oversight::exceptions(self.table(), query, limit, after, self.budget).await?)
    }

    /// Webhook attempts across merchants and their endpoints.
    pub async fn webhook_attempts(self, query: &AttemptQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<MerchantAttempt>, AppError> {
        check_limit(limit)?;
        check_order(query.from, query.to, "from", "to")?;
        if query.endpoint.is_some() && query.merchant.is_none() {
            return Err(AppError::field("merchant_id", "is required with an endpoint: an endpoint is one of a merchant's"));
        }
        Ok(repo::oversight::webhook_attempts(self.table(), query, limit, after, self.budget).await?)
    }

    /// A merchant's webhook endpoints, oldest first. They hold their signing secrets: what
    /// an operator is shown of them is the caller's to choose.
    pub async fn webhook_endpoints(self, merchant: &MerchantId, limit: usize, after: Option<Cursor>) -> Result<Listing<WebhookEndpoint>, AppError> {
        check_limit(limit)?;
        Ok(repo::webhooks::list_endpoints(self.table(), merchant, limit, after).await?)
    }

    /// The customer notice log across merchants.
    pub async fn notices(self, query: &NoticeQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<NoticeRecord>, AppError> {
        check_limit(limit)?;
        check_order(query.from, query.to, "from", "to")?;
        Ok(repo::oversight::notices(self.table(), query, limit, after, self.budget).await?)
    }

    pub async fn incidents(self, query: &IncidentQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<Incident>, AppError> {
        check_limit(limit)?;
        check_order(query.opened_from, query.opened_to, "opened_from", "opened_to")?;
        Ok(repo::oversight::incidents(self.table(), query, limit, after, self.budget).await?)
    }

    /// Settlements across merchants, newest day first within each.
    pub async fn settlements(self, query: &SettlementQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<Settlement>, AppError> {
        check_limit(limit)?;
        check_order(Some(query.from), Some(query.to), "from", "to")?;
        Ok(repo::oversight::settlements(self.table(), query, limit, after, self.budget).await?)
    }

    /// Reconciliation reports, newest day first, providers in id order within a day.
    pub async fn reconciliation_reports(self, query: &ReportQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<ReportSummary>, AppError> {
        check_limit(limit)?;
        check_order(Some(query.from), Some(query.to), "from", "to")?;
        Ok(repo::oversight::reports(self.table(), query, limit, after, self.budget).await?)
    }

    /// Merchants, newest first.
    pub async fn merchants(self, query: &MerchantQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<Merchant>, AppError> {
        check_limit(limit)?;
        Ok(repo::oversight::merchants(self.table(), query, limit, after, self.budget).await?)
    }

    /// Every pool's stock, by bank code then provider: each bank's free and cooling indexes
    /// counted up to [`STOCK_READ_CAP`] numbers apiece.
    pub async fn pool_stock(self) -> Result<Vec<PoolStock>, AppError> {
        let pools = repo::pool::all_ranges(self.table()).await?;
        let banks: BTreeSet<BankCode> = pools.iter().map(|p| p.bank_code).collect();
        let mut stock = Vec::new();
        for bank in banks {
            let free = repo::pool::free_by_provider(self.table(), bank, STOCK_READ_CAP).await?;
            let cooling = repo::pool::cooling_by_provider(self.table(), bank, STOCK_READ_CAP).await?;
            let imported: BTreeMap<&ProviderId, u64> = pools.iter().filter(|p| p.bank_code == bank).map(|p| (&p.provider, numbers_in(&p.ranges))).collect();
            // Numbers of a provider whose ranges were never recorded still show up in the indexes.
            let providers: BTreeSet<&ProviderId> = imported.keys().copied().chain(free.by_provider.keys()).chain(cooling.by_provider.keys()).collect();
            for provider in providers {
                let free_count = Tally { count: free.by_provider.get(provider).copied().unwrap_or(0), complete: free.complete };
                let cooling_count = Tally { count: cooling.by_provider.get(provider).copied().unwrap_or(0), complete: cooling.complete };
                let imported = imported.get(provider).copied();
                let assigned = imported
                    .filter(|_| free_count.complete && cooling_count.complete)
                    .map(|total| total.saturating_sub(free_count.count).saturating_sub(cooling_count.count));
                stock.push(PoolStock { provider: provider.clone(), bank, imported, free: free_count, cooling: cooling_count, assigned });
            }
        }
        Ok(stock)
    }

    /// The dashboard home's figures for the KST day of `now`.
    pub async fn today(self, now: DateTime<Utc>) -> Result<TodayFigures, AppError> {
        let day = kst_day(now);
        let (from, to) = day_window(day);
        let table = self.table();
        let cap = FIGURE_READ_CAP;

        let accounts_issued = repo::oversight::count_accounts(table, from, to, cap).await?;

        let mut deposits = Volume::ZERO;
        let mut overflow = None;
        let today = DepositQuery { deposited_from: Some(from), deposited_to: Some(to), ..DepositQuery::default() };
        let coverage = repo::oversight::fold_deposits(table, &today, cap, cap, |_, d| {
            if let Err(e) = deposits.add(d.amount) {
                overflow = Some(e);
            }
        })
        .await?;
        if let Some(e) = overflow {
            return Err(e.into());
        }
        deposits.complete = coverage.complete();

        let (mut open, mut pending) = (0, 0);
        let held = DepositQuery { status: Some(DepositStatus::Exception), ..DepositQuery::default() };
        let coverage = repo::oversight::fold_deposits(table, &held, cap, cap, |_, d| match d.exception.map(|e| e.state) {
            Some(ExceptionState::Open) => open += 1,
            Some(ExceptionState::PendingApproval) => pending += 1,
            _ => {}
        })
        .await?;
        let exceptions_open = Tally { count: open, complete: coverage.complete() };
        let exceptions_pending_approval = Tally { count: pending, complete: coverage.complete() };

        let (mut attempts, mut failures) = (0, 0);
        let attempted = AttemptQuery { from: Some(from), to: Some(to), ..AttemptQuery::default() };
        let coverage = repo::oversight::fold_attempts(table, &attempted, cap, |_, a| {
            attempts += 1;
            if !a.attempt.succeeded() {
                failures += 1;
            }
        })
        .await?;
        let webhook_attempts = Tally { count: attempts, complete: coverage.complete() };
        let webhook_failures = Tally { count: failures, complete: coverage.complete() };

        Ok(TodayFigures {
            day,
            accounts_issued,
            deposits,
            exceptions_open,
            exceptions_pending_approval,
            webhook_attempts,
            webhook_failures,
            pool_low: self.low_pools().await?,
            incidents_open: repo::oversight::count_incidents(table, IncidentStatus::Open, cap).await?,
            incidents_acknowledged: repo::oversight::count_incidents(table, IncidentStatus::Acknowledged, cap).await?,
        })
    }

    /// Banks (of the recorded pools) with fewer free numbers than the low-water mark: each
    /// counted only up to the mark, as issuance does.
    async fn low_pools(self) -> Result<Vec<LowPool>, AppError> {
        let threshold = self.service.settings.pool_low_threshold;
        if threshold == 0 {
            return Ok(Vec::new());
        }
        let banks: BTreeSet<BankCode> = repo::pool::all_ranges(self.table()).await?.into_iter().map(|p| p.bank_code).collect();
        let mut low = Vec::new();
        for bank in banks {
            let free = repo::pool::count_free(self.table(), bank, threshold).await?;
            if free < threshold {
                low.push(LowPool { bank, free: free as u64 });
            }
        }
        Ok(low)
    }

    /// Deposits per hour for the 24 hours up to `now` and per KST day for the 30 days up to
    /// `now`'s, every owner and status, by deposit time. Each owner's deposits are read newest
    /// first, at most its share of [`SERIES_READ_CAP`]; a bucket older than where an owner's
    /// read stopped is marked incomplete.
    pub async fn deposit_series(self, now: DateTime<Utc>) -> Result<DepositSeries, AppError> {
        let mut hourly = figures::hourly_buckets(now);
        let mut daily = figures::daily_buckets(now);
        let from = daily.first().map_or(now, |b| b.start).min(hourly.first().map_or(now, |b| b.start));
        let to = daily.last().map_or(now, |b| b.end).max(hourly.last().map_or(now, |b| b.end)) - Duration::milliseconds(1);
        let owners = repo::merchants::list_merchants(self.table()).await?.len() + 1;
        let per_owner = (SERIES_READ_CAP / owners).max(1);
        let window = DepositQuery { deposited_from: Some(from), deposited_to: Some(to), ..DepositQuery::default() };
        let mut oldest: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        let mut overflow = None;
        let coverage = repo::oversight::fold_deposits(self.table(), &window, per_owner, SERIES_READ_CAP, |owner, d| {
            let added = figures::add_to(&mut hourly, d.deposited_at, d.amount).and_then(|()| figures::add_to(&mut daily, d.deposited_at, d.amount));
            if let Err(e) = added {
                overflow = Some(e);
            }
            oldest.insert(owner.to_owned(), d.deposited_at);
        })
        .await?;
        if let Some(e) = overflow {
            return Err(e.into());
        }
        let mut cuts: Vec<DateTime<Utc>> = coverage.cut.iter().filter_map(|owner| oldest.get(owner).copied()).collect();
        if coverage.unread {
            cuts.push(DateTime::<Utc>::MAX_UTC);
        }
        for cut in cuts {
            figures::mark_cut(&mut hourly, cut);
            figures::mark_cut(&mut daily, cut);
        }
        Ok(DepositSeries { hourly, daily })
    }
}
