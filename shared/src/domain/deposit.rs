//! Deposits: what a provider reports, how it is matched to a virtual account (docs/decisions.md), and
//! how an operator resolves what could not be credited.
//!
//! Every won of a deposit sits in exactly one bucket: credited to an account, held in the
//! deposit's exception, or reversed with the deposit. `match_deposit`, `reverse` and the
//! exception steps are the only ways money moves, and each returns the new states whole;
//! storing them (atomically, conditional on versions) is the use case's business.

use super::{
    AccountNumber, AccountType, BankCode, DepositId, EventType, ExceptionId, Fee, Krw, MerchantId, MoneyOverflow, NameMismatchPolicy, OperatorName, ProviderId,
    Status, TransactionId, VirtualAccount, VirtualAccountId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A deposit as the provider reports it, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositNotice {
    pub provider: ProviderId,
    pub transaction_id: TransactionId,
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    pub amount: Krw,
    /// The name as the provider sent it (at most [`MAX_DEPOSITOR_RAW_BYTES`]): never a reason
    /// to refuse the money. [`match_deposit`] cleans it.
    pub depositor_name: Option<String>,
    pub deposited_at: DateTime<Utc>,
}

/// A provider taking a deposit back (입금취소), validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalNotice {
    pub provider: ProviderId,
    pub transaction_id: TransactionId,
    pub original_transaction_id: TransactionId,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DepositStatus {
    Matched,
    Exception,
    Reversed,
}

impl DepositStatus {
    pub const ALL: [DepositStatus; 3] = [DepositStatus::Matched, DepositStatus::Exception, DepositStatus::Reversed];

    pub fn as_str(self) -> &'static str {
        match self {
            DepositStatus::Matched => "matched",
            DepositStatus::Exception => "exception",
            DepositStatus::Reversed => "reversed",
        }
    }
}

impl FromStr for DepositStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        DepositStatus::ALL.into_iter().find(|st| st.as_str() == s).ok_or(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionReason {
    Underpaid,
    Overpaid,
    Late,
    UnknownAccount,
    ClosedAccount,
    NameMismatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    Open,
    PendingApproval,
    Resolved,
}

impl ExceptionState {
    pub const ALL: [ExceptionState; 3] = [ExceptionState::Open, ExceptionState::PendingApproval, ExceptionState::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionState::Open => "open",
            ExceptionState::PendingApproval => "pending_approval",
            ExceptionState::Resolved => "resolved",
        }
    }
}

impl FromStr for ExceptionState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ExceptionState::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| "must be open, pending_approval or resolved".to_owned())
    }
}

/// How an exception's money leaves the exception bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Resolution {
    /// Credited to an account (the one the customer meant, or the same one, accepting it late).
    Assign { account: VirtualAccountId },
    /// Sent back to the customer's account.
    Refund { bank_code: BankCode, account_number: AccountNumber, holder: String },
    /// Kept off the books with a reason (e.g. a fee the bank took, a test deposit).
    WriteOff { note: String },
    /// The provider took the deposit back before an operator resolved it.
    Reversed,
}

/// A resolution waiting for a second operator (maker-checker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub resolution: Resolution,
    pub by: OperatorName,
    #[serde(with = "super::time::kst_serde")]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositException {
    pub id: ExceptionId,
    pub reason: ExceptionReason,
    /// The part of the deposit held here: all of it, or the excess of an overpayment.
    pub amount: Krw,
    pub state: ExceptionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<Proposal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The maker, then the checker where approval was required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_by: Vec<OperatorName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The merchant's fee terms its assignment was settled at, so a reversal gives back
    /// exactly that fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_terms: Option<Fee>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reversal {
    pub transaction_id: TransactionId,
    pub reversed_at: DateTime<Utc>,
}

/// A part of a deposit's credit the provider took back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialReversal {
    #[serde(flatten)]
    pub reversal: Reversal,
    pub amount: Krw,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    pub id: DepositId,
    pub provider: ProviderId,
    pub transaction_id: TransactionId,
    /// The merchant whose account the number belonged to (or, for an unknown number, the one
    /// an operator assigned it to); `None` while nobody's.
    pub merchant_id: Option<MerchantId>,
    pub virtual_account_id: Option<VirtualAccountId>,
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    pub amount: Krw,
    /// Cleaned ([`clean_depositor_name`]): what merchants see and matching compares.
    pub depositor_name: Option<String>,
    /// The name exactly as the provider sent it, when that differs from `depositor_name`: for
    /// operators (a bank's odd record), never shown to merchants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depositor_name_raw: Option<String>,
    pub deposited_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub status: DepositStatus,
    /// What was added to the account's `paid_amount`.
    pub credited: Krw,
    /// The depositor's name differs from the expected one (policy `warn`: credited anyway).
    #[serde(default)]
    pub name_mismatch: bool,
    pub exception: Option<DepositException>,
    #[serde(default)]
    pub reversal: Option<Reversal>,
    pub version: u64,
    /// The merchant's fee terms its credit was settled at, so a reversal gives back exactly
    /// that fee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_terms: Option<Fee>,
    /// What partial cancellations took back of its credit (`credited` is what is left): with
    /// it, every won of the deposit is still in one bucket.
    #[serde(default, skip_serializing_if = "Krw::is_zero")]
    pub cancelled: Krw,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partial_reversals: Vec<PartialReversal>,
}

/// The outcome of matching one deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub deposit: Deposit,
    /// The account as the deposit leaves it, when the deposit changed it.
    pub account: Option<VirtualAccount>,
    /// `virtual_account.paid|partially_paid|overpaid` when the account's balance moved.
    pub account_event: Option<EventType>,
}

impl Deposit {
    /// The account that an `assign` resolution credited, if any.
    pub fn assigned_to(&self) -> Option<&VirtualAccountId> {
        match self.exception.as_ref().and_then(|e| e.resolution.as_ref()) {
            Some(Resolution::Assign { account }) => Some(account),
            _ => None,
        }
    }
}

/// The longest depositor name kept for merchants and matching, in characters: banks print
/// 10 to 30, a company's full name runs longer. Beyond it the name is cut; the raw keeps it.
pub const MAX_DEPOSITOR_NAME_CHARS: usize = 100;
/// The most of a name as received that is kept, in bytes (cut at a character boundary): an
/// operator sees what the bank sent without a provider being able to bloat the record.
pub const MAX_DEPOSITOR_RAW_BYTES: usize = 1024;

/// A depositor's name as merchants see it: control characters count as spaces, runs of white
/// space fold into one space, the ends are trimmed, and at most [`MAX_DEPOSITOR_NAME_CHARS`]
/// are kept. Nothing left is no name.
pub fn clean_depositor_name(raw: &str) -> Option<String> {
    let words: Vec<&str> = raw.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect();
    let cleaned: String = words.join(" ").chars().take(MAX_DEPOSITOR_NAME_CHARS).collect();
    let cleaned = cleaned.trim_end();
    (!cleaned.is_empty()).then(|| cleaned.to_owned())
}

/// `raw` cut to at most [`MAX_DEPOSITOR_RAW_BYTES`], at a character boundary.
pub fn bounded_raw_name(raw: &str) -> String {
    let mut end = raw.len().min(MAX_DEPOSITOR_RAW_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw[..end].to_owned()
}

/// Names as banks print them vary in spacing and case; anything else is a different name.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect::<String>();
    norm(a) == norm(b)
}

/// Matches a deposit to the newest account on its number (docs/decisions.md). `account` is that
/// account, or `None` when the number is unknown to us (or belongs to another provider).
pub fn match_deposit(id: DepositId, account: Option<&VirtualAccount>, notice: DepositNotice, now: DateTime<Utc>) -> Result<Judgement, MoneyOverflow> {
    let cleaned = notice.depositor_name.as_deref().and_then(clean_depositor_name);
    let depositor_name_raw = notice.depositor_name.filter(|raw| cleaned.as_deref() != Some(raw.as_str())).map(|raw| bounded_raw_name(&raw));
    let mut deposit = Deposit {
        exception: None,
        id,
        provider: notice.provider,
        transaction_id: notice.transaction_id,
        merchant_id: account.map(|a| a.merchant_id.clone()),
        virtual_account_id: account.map(|a| a.id.clone()),
        bank_code: notice.bank_code,
        account_number: notice.account_number,
        amount: notice.amount,
        depositor_name: cleaned,
        depositor_name_raw,
        deposited_at: notice.deposited_at,
        received_at: now,
        status: DepositStatus::Matched,
        credited: Krw::ZERO,
        name_mismatch: false,
        reversal: None,
        version: 1,
        fee_terms: None,
        cancelled: Krw::ZERO,
        partial_reversals: Vec::new(),
    };
    let hold = |mut deposit: Deposit, reason: ExceptionReason| {
        let amount = deposit.amount;
        deposit.status = DepositStatus::Exception;
        deposit.exception = Some(new_exception(&deposit.id, reason, amount));
        Ok(Judgement { deposit, account: None, account_event: None })
    };
    let Some(account) = account else { return hold(deposit, ExceptionReason::UnknownAccount) };
    if account.status == Status::Closed {
        return hold(deposit, ExceptionReason::ClosedAccount);
    }
    let late = account.status == Status::Expired || account.due_at.is_some_and(|due| deposit.deposited_at > due);
    if late && !account.policy.accept_late {
        return hold(deposit, ExceptionReason::Late);
    }
    deposit.name_mismatch = matches!(
        (&account.depositor_name, &deposit.depositor_name),
        (Some(expected), Some(actual)) if !same_name(expected, actual)
    );
    if deposit.name_mismatch && account.policy.name_mismatch == NameMismatchPolicy::Hold {
        return hold(deposit, ExceptionReason::NameMismatch);
    }
    let amount = deposit.amount;
    let (credited, excess) = match (account.kind, account.remaining()) {
        (AccountType::Fixed, _) | (_, None) => (amount, Krw::ZERO),
        (AccountType::OneTime, Some(remaining)) if amount <= remaining => {
            if amount < remaining && !account.allow_partial {
                return hold(deposit, ExceptionReason::Underpaid);
            }
            (amount, Krw::ZERO)
        }
        (AccountType::OneTime, Some(remaining)) => (remaining, amount.minus(remaining)?),
    };
    deposit.credited = credited;
    if excess.is_positive() {
        deposit.status = DepositStatus::Exception;
        deposit.exception = Some(new_exception(&deposit.id, ExceptionReason::Overpaid, excess));
    }
    let mut updated = account.with_balances(account.paid_amount.plus(credited)?, account.excess.plus(excess)?, now);
    updated.remember_deposit(&deposit.transaction_id);
    let account_event = balance_event(updated.status);
    Ok(Judgement { deposit, account: Some(updated), account_event })
}

fn new_exception(deposit: &DepositId, reason: ExceptionReason, amount: Krw) -> DepositException {
    DepositException {
        id: ExceptionId::of_deposit(deposit),
        reason,
        amount,
        state: ExceptionState::Open,
        proposal: None,
        resolution: None,
        resolved_by: Vec::new(),
        resolved_at: None,
        fee_terms: None,
    }
}

/// `a - b`, never below zero: a balance that would go negative (money taken back that an
/// earlier version never counted) stays at zero.
fn floor_sub(a: Krw, b: Krw) -> Result<Krw, MoneyOverflow> {
    Ok(a.minus(b)?.max(Krw::ZERO))
}

/// The account event a change of balance causes, by the status it leaves the account in.
pub fn balance_event(status: Status) -> Option<EventType> {
    match status {
        Status::Paid => Some(EventType::AccountPaid),
        Status::PartiallyPaid => Some(EventType::AccountPartiallyPaid),
        Status::Overpaid => Some(EventType::AccountOverpaid),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReversalError {
    #[error("deposit {0} is already reversed")]
    AlreadyReversed(DepositId),
    #[error("the account of deposit {0} is needed to reverse it")]
    AccountNeeded(DepositId),
    #[error(transparent)]
    Overflow(#[from] MoneyOverflow),
}

/// The outcome of reversing a deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalEffect {
    pub deposit: Deposit,
    /// The deposit's own account with the credit and excess taken back.
    pub account: Option<VirtualAccount>,
    /// An account an operator had credited with the deposit's exception, and the amount to
    /// take back from it.
    pub assigned_debit: Option<(VirtualAccountId, Krw)>,
}

/// Undoes a deposit's effect: its credit and its overpayment leave the account (whose status
/// is recomputed), an unresolved exception is closed as `reversed`, and an amount an operator
/// had assigned elsewhere must be taken back from that account (`assigned_debit`). An amount
/// assigned back to the deposit's own account is taken back in the same change of it.
pub fn reverse(deposit: &Deposit, account: Option<&VirtualAccount>, reversal: Reversal, now: DateTime<Utc>) -> Result<ReversalEffect, ReversalError> {
    if deposit.status == DepositStatus::Reversed {
        return Err(ReversalError::AlreadyReversed(deposit.id.clone()));
    }
    let assigned = match (deposit.assigned_to(), &deposit.exception) {
        (Some(target), Some(e)) => Some((target.clone(), e.amount)),
        _ => None,
    };
    let assigned_back = assigned.as_ref().filter(|(target, _)| Some(target) == deposit.virtual_account_id.as_ref()).map(|(_, amount)| *amount);
    // An excess assigned back to its own account already left `excess` for `paid_amount`.
    let excess = match &deposit.exception {
        Some(e) if e.reason == ExceptionReason::Overpaid && assigned_back.is_none() => e.amount,
        _ => Krw::ZERO,
    };
    let taken = deposit.credited.plus(assigned_back.unwrap_or(Krw::ZERO))?;
    let account = if taken.is_positive() || excess.is_positive() {
        let account = account.ok_or_else(|| ReversalError::AccountNeeded(deposit.id.clone()))?;
        Some(account.with_balances(floor_sub(account.paid_amount, taken)?, floor_sub(account.excess, excess)?, now))
    } else {
        None
    };
    let assigned_debit = assigned.filter(|_| assigned_back.is_none());
    let mut reversed = deposit.clone();
    reversed.status = DepositStatus::Reversed;
    reversed.reversal = Some(reversal);
    reversed.version += 1;
    if let Some(e) = reversed.exception.as_mut()
        && e.state != ExceptionState::Resolved
    {
        e.state = ExceptionState::Resolved;
        e.proposal = None;
        e.resolution = Some(Resolution::Reversed);
        e.resolved_at = Some(now);
    }
    Ok(ReversalEffect { deposit: reversed, account, assigned_debit })
}

/// Takes back `amount` of a deposit, the provider having cancelled that part of the payment
/// (Toss Payments' `PARTIAL_CANCELED`). Money still held in an open exception goes first (an
/// overpayment refunded, a held deposit partly returned), then the credit; the deposit stays
/// counted with what is left. Taking back everything it still holds, or more, is a whole
/// reversal ([`reverse`]).
pub fn reverse_part(
    deposit: &Deposit,
    account: Option<&VirtualAccount>,
    amount: Krw,
    reversal: Reversal,
    now: DateTime<Utc>,
) -> Result<ReversalEffect, ReversalError> {
    if deposit.status == DepositStatus::Reversed {
        return Err(ReversalError::AlreadyReversed(deposit.id.clone()));
    }
    let open = deposit.exception.as_ref().filter(|e| e.state != ExceptionState::Resolved);
    let held = open.map_or(Krw::ZERO, |e| e.amount);
    if amount >= deposit.credited.plus(held)? {
        return reverse(deposit, account, reversal, now);
    }
    let from_held = if amount < held { amount } else { held };
    let from_credit = floor_sub(amount, from_held)?;
    let from_excess = if open.is_some_and(|e| e.reason == ExceptionReason::Overpaid) { from_held } else { Krw::ZERO };
    let mut next = deposit.clone();
    next.credited = floor_sub(deposit.credited, from_credit)?;
    next.cancelled = deposit.cancelled.plus(amount)?;
    next.partial_reversals.push(PartialReversal { reversal, amount });
    next.version += 1;
    if let Some(e) = next.exception.as_mut().filter(|_| from_held.is_positive()) {
        e.amount = floor_sub(e.amount, from_held)?;
        if !e.amount.is_positive() {
            e.state = ExceptionState::Resolved;
            e.proposal = None;
            e.resolution = Some(Resolution::Reversed);
            e.resolved_at = Some(now);
        }
    }
    let account = if from_credit.is_positive() || from_excess.is_positive() {
        let account = account.ok_or_else(|| ReversalError::AccountNeeded(deposit.id.clone()))?;
        Some(account.with_balances(floor_sub(account.paid_amount, from_credit)?, floor_sub(account.excess, from_excess)?, now))
    } else {
        None
    };
    Ok(ReversalEffect { deposit: next, account, assigned_debit: None })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExceptionError {
    #[error("deposit has no exception")]
    NoException,
    #[error("the exception is {0}, not {1}")]
    WrongState(&'static str, &'static str),
    #[error("the deposit was reversed")]
    Reversed,
    #[error("the approver must be a different operator than {0}")]
    SameOperator(OperatorName),
    #[error("account {0} cannot take {1}: {2}")]
    CannotAssign(VirtualAccountId, Krw, &'static str),
    #[error("a resolution cannot be `reversed`; that comes from the provider")]
    NotAnOperatorResolution,
    #[error(transparent)]
    Overflow(#[from] MoneyOverflow),
}

impl Deposit {
    fn open_exception(&self, expected: ExceptionState) -> Result<&DepositException, ExceptionError> {
        if self.status == DepositStatus::Reversed {
            return Err(ExceptionError::Reversed);
        }
        let exception = self.exception.as_ref().ok_or(ExceptionError::NoException)?;
        if exception.state != expected {
            return Err(ExceptionError::WrongState(exception.state.as_str(), expected.as_str()));
        }
        Ok(exception)
    }

    /// An operator proposes a resolution. Without maker-checker it takes effect at once
    /// (`resolved`); with it, the exception waits for a second operator.
    pub fn propose(&self, resolution: Resolution, by: OperatorName, needs_approval: bool, now: DateTime<Utc>) -> Result<Deposit, ExceptionError> {
        self.open_exception(ExceptionState::Open)?;
        if resolution == Resolution::Reversed {
            return Err(ExceptionError::NotAnOperatorResolution);
        }
        let mut next = self.clone();
        next.version += 1;
        let exception = next.exception.as_mut().ok_or(ExceptionError::NoException)?;
        if needs_approval {
            exception.state = ExceptionState::PendingApproval;
            exception.proposal = Some(Proposal { resolution, by, at: now });
        } else {
            settle(exception, resolution, vec![by], now);
        }
        Ok(next)
    }

    /// A second operator approves a pending resolution; it takes effect now.
    pub fn approve(&self, by: OperatorName, now: DateTime<Utc>) -> Result<Deposit, ExceptionError> {
        let proposal = self.open_exception(ExceptionState::PendingApproval)?.proposal.clone().ok_or(ExceptionError::NoException)?;
        if proposal.by == by {
            return Err(ExceptionError::SameOperator(by));
        }
        let mut next = self.clone();
        next.version += 1;
        let exception = next.exception.as_mut().ok_or(ExceptionError::NoException)?;
        settle(exception, proposal.resolution, vec![proposal.by, by], now);
        Ok(next)
    }

    /// A second operator turns a pending resolution down; the exception is open again.
    pub fn reject(&self, by: OperatorName) -> Result<Deposit, ExceptionError> {
        let proposal = self.open_exception(ExceptionState::PendingApproval)?.proposal.clone().ok_or(ExceptionError::NoException)?;
        if proposal.by == by {
            return Err(ExceptionError::SameOperator(by));
        }
        let mut next = self.clone();
        next.version += 1;
        if let Some(exception) = next.exception.as_mut() {
            exception.state = ExceptionState::Open;
            exception.proposal = None;
        }
        Ok(next)
    }

    /// Where an unknown number's deposit was assigned, it now belongs to that merchant.
    pub fn assign_owner(&mut self, target: &VirtualAccount) {
        if self.merchant_id.is_none() {
            self.merchant_id = Some(target.merchant_id.clone());
        }
    }
}

fn settle(exception: &mut DepositException, resolution: Resolution, by: Vec<OperatorName>, now: DateTime<Utc>) {
    exception.state = ExceptionState::Resolved;
    exception.proposal = None;
    exception.resolution = Some(resolution);
    exception.resolved_by = by;
    exception.resolved_at = Some(now);
}

/// Credits the exception of `deposit` to the account an operator chose. A one-time account
/// takes at most what it still expects; a closed one takes nothing. An overpayment's excess
/// assigned back to its own account moves from `excess` to `paid_amount`: the same won is
/// never counted as both.
pub fn credit_assigned(deposit: &Deposit, account: &VirtualAccount, now: DateTime<Utc>) -> Result<VirtualAccount, ExceptionError> {
    let exception = deposit.exception.as_ref().ok_or(ExceptionError::NoException)?;
    let amount = exception.amount;
    let refuse = |why| Err(ExceptionError::CannotAssign(account.id.clone(), amount, why));
    if account.status == Status::Closed {
        return refuse("it is closed");
    }
    if account.remaining().is_some_and(|remaining| amount > remaining) {
        return refuse("it expects less than that; refund the difference instead");
    }
    let own_excess = exception.reason == ExceptionReason::Overpaid && deposit.virtual_account_id.as_ref() == Some(&account.id);
    let excess = if own_excess { floor_sub(account.excess, amount)? } else { account.excess };
    Ok(account.with_balances(account.paid_amount.plus(amount)?, excess, now))
}

/// Takes back an assigned amount when the deposit it came from is reversed.
pub fn debit_assigned(account: &VirtualAccount, amount: Krw, now: DateTime<Utc>) -> Result<VirtualAccount, MoneyOverflow> {
    Ok(account.with_balances(floor_sub(account.paid_amount, amount)?, account.excess, now))
}

#[cfg(test)]
mod tests;
