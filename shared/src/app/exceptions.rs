//! Deposit exceptions: resolving what could not be credited (assign to an account, refund,
//! write off), with maker-checker where the merchant asks for it. A resolution that takes effect writes the deposit, any credited account and the
//! `exception.resolved` event in one transaction.

use super::error::Unavailable;
use super::settlements::book;
use super::{AppError, Service};
use crate::domain::deposit::{self, Deposit, ExceptionError, ExceptionState, Resolution};
use crate::domain::event::DepositData;
use crate::domain::settlement;
use crate::domain::{EventData, ExceptionId, MerchantId, OperatorName, OutboxEvent};
use crate::ports::{Condition, Cursor};
use crate::repo::deposits::{DepositFilter, UNMATCHED};
use crate::repo::{self, Guard, Listing, Retry, Transaction, TxError};
use chrono::{DateTime, NaiveDate, Utc};

/// Whose exceptions to list: one merchant's, or the deposits to unknown numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionOwner {
    Merchant(MerchantId),
    Unmatched,
}

/// What an operator asks for: a resolution, or a decision on a pending one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExceptionAction {
    Resolve(Resolution),
    Approve,
    Reject,
}

impl From<ExceptionError> for AppError {
    fn from(e: ExceptionError) -> AppError {
        match e {
            ExceptionError::Overflow(overflow) => overflow.into(),
            refused => AppError::Conflict(refused.to_string()),
        }
    }
}

/// The deposit exceptions queue and its maker-checker resolutions.
#[derive(Clone, Copy)]
pub struct Exceptions<'a> {
    pub(super) service: &'a Service,
}

impl Exceptions<'_> {
    /// Deposits with an exception, newest first, optionally only those in `state`.
    pub async fn list_exceptions(
        self,
        owner: &ExceptionOwner,
        state: Option<ExceptionState>,
        limit: usize,
        after: Option<Cursor>,
    ) -> Result<Listing<Deposit>, AppError> {
        let owner = match owner {
            ExceptionOwner::Merchant(m) => m.to_string(),
            ExceptionOwner::Unmatched => UNMATCHED.to_owned(),
        };
        let filter = DepositFilter { status: Some(crate::domain::DepositStatus::Exception), ..DepositFilter::default() };
        let mut page = repo::deposits::list(self.service.table.as_ref(), &owner, &filter, limit, after).await?;
        page.items.retain(|d| state.is_none_or(|s| d.exception.as_ref().is_some_and(|e| e.state == s)));
        Ok(page)
    }

    /// Proposes, approves or rejects the resolution of an exception. The answer is the deposit
    /// as it now stands.
    pub async fn act_on_exception(self, operator: &OperatorName, id: &ExceptionId, action: ExceptionAction) -> Result<Deposit, AppError> {
        if !self.service.operators().operator_exists(operator).await? {
            return Err(AppError::field("operator", format!("no operator {operator}; create one with `vaccount admin create-user`")));
        }
        let mut not_before = None;
        let mut retry = Retry::new();
        while retry.next().await {
            let now = self.service.clock.now();
            let deposit = repo::deposits::get(self.service.table.as_ref(), &id.deposit()).await?.filter(|d| d.exception.is_some()).ok_or(AppError::NotFound)?;
            let next = match &action {
                ExceptionAction::Resolve(resolution) => {
                    let needs_approval = self.needs_approval(&deposit, resolution).await?;
                    deposit.propose(resolution.clone(), operator.clone(), needs_approval, now)?
                }
                ExceptionAction::Approve => deposit.approve(operator.clone(), now)?,
                ExceptionAction::Reject => deposit.reject(operator.clone())?,
            };
            let (next, tx) = self.resolution_writes(&deposit, next, now, not_before).await?;
            match tx.commit(self.service.table.as_ref()).await {
                Ok(()) => return Ok(next),
                Err(TxError::Refused(Guard::DaySealed(day))) => not_before = day.succ_opt(),
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("exception {id} kept changing") }.into())
    }

    /// Maker-checker applies when the merchant that owns the money asks for it: the deposit's
    /// merchant, or for an unknown number's deposit, the merchant of the account it goes to.
    async fn needs_approval(self, deposit: &Deposit, resolution: &Resolution) -> Result<bool, AppError> {
        let merchant = match (&deposit.merchant_id, resolution) {
            (Some(m), _) => Some(m.clone()),
            (None, Resolution::Assign { account }) => repo::accounts::get(self.service.table.as_ref(), account).await?.map(|a| a.merchant_id),
            (None, _) => None,
        };
        let Some(merchant) = merchant else {
            if let Resolution::Assign { account } = resolution {
                return Err(AppError::field("account", format!("no virtual account {account}")));
            }
            return Ok(false);
        };
        let merchant = repo::merchants::get_merchant(self.service.table.as_ref(), &merchant).await?.ok_or(AppError::NotFound)?;
        Ok(merchant.policy.require_exception_approval)
    }

    /// The writes of one step: the deposit, and once a resolution takes effect, the credited
    /// account and the events.
    async fn resolution_writes(
        self,
        before: &Deposit,
        mut next: Deposit,
        now: DateTime<Utc>,
        not_before: Option<NaiveDate>,
    ) -> Result<(Deposit, Transaction), AppError> {
        let resolved = next.exception.as_ref().is_some_and(|e| e.state == ExceptionState::Resolved);
        let mut tx = Transaction::new();
        if !resolved {
            tx.push(Guard::DepositMoved, repo::deposits::put_deposit(&next, Condition::VersionIs(before.version))?);
            return Ok((next, tx));
        }
        let mut entries = Vec::new();
        let mut credited = None;
        if let Some(target) = next.assigned_to().cloned() {
            let account = repo::accounts::get(self.service.table.as_ref(), &target)
                .await?
                .ok_or_else(|| AppError::field("account", format!("no virtual account {target}")))?;
            if next.merchant_id.as_ref().is_some_and(|m| m != &account.merchant_id) {
                return Err(AppError::Conflict("an exception is assigned to an account of the same merchant".into()));
            }
            let amount = next.exception.as_ref().map(|e| e.amount).unwrap_or_default();
            let after = deposit::credit_assigned(&next, &account, now)?;
            let terms = self.service.deposits().fee_terms(&mut None, &after.merchant_id).await?;
            next.assign_owner(&after);
            if let Some(exception) = next.exception.as_mut() {
                exception.fee_terms = Some(terms);
            }
            tx.push(Guard::AccountMoved, repo::accounts::put_account(&after, Condition::VersionIs(account.version))?);
            entries.push(settlement::entry_of_assignment(&next, &after, amount, terms, now));
            credited = Some(after);
        }
        tx.push(Guard::DepositMoved, repo::deposits::put_deposit(&next, Condition::VersionIs(before.version))?);
        let resolved = EventData::ExceptionResolved(DepositData::of(&next, credited.as_ref()));
        tx.extend(Guard::NewItem, repo::outbox::put_event(&OutboxEvent::new(next.merchant_id.clone(), resolved, now))?);
        if let Some(balance) = credited.as_ref().and_then(|after| EventData::balance(&next, after)) {
            tx.extend(Guard::NewItem, repo::outbox::put_event(&OutboxEvent::new(next.merchant_id.clone(), balance, now))?);
        }
        book(&mut tx, entries, now, not_before)?;
        Ok((next, tx))
    }
}
