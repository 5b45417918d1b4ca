//! Virtual accounts: what a merchant asked for, and the state machine that money moves.

use super::{BankCode, Krw, MerchantId, OrderId, ProviderId, VirtualAccountId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A bank account number as the bank prints it, digits only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AccountNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be {min}-{max} digits", min = AccountNumber::MIN_LEN, max = AccountNumber::MAX_LEN)]
pub struct InvalidAccountNumber;

impl AccountNumber {
    pub const MIN_LEN: usize = 6;
    pub const MAX_LEN: usize = 20;

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number `offset` places after this one, keeping its width (pool ranges).
    pub fn offset(&self, offset: u64) -> Option<AccountNumber> {
        let value: u128 = self.0.parse().ok()?;
        let next = value.checked_add(u128::from(offset))?.to_string();
        if next.len() > self.0.len() {
            return None;
        }
        Some(AccountNumber(format!("{next:0>width$}", width = self.0.len())))
    }
}

impl FromStr for AccountNumber {
    type Err = InvalidAccountNumber;
    fn from_str(s: &str) -> Result<Self, InvalidAccountNumber> {
        if (Self::MIN_LEN..=Self::MAX_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountNumber(s.to_owned()))
        } else {
            Err(InvalidAccountNumber)
        }
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AccountNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// Per order: an expected amount and a due time.
    #[default]
    OneTime,
    /// Per customer: reusable, any amount, no due time.
    Fixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Waiting,
    PartiallyPaid,
    Paid,
    Overpaid,
    Expired,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] = [Status::Waiting, Status::PartiallyPaid, Status::Paid, Status::Overpaid, Status::Expired, Status::Closed];

    /// Still able to receive the money it was issued for.
    pub fn is_open(self) -> bool {
        matches!(self, Status::Waiting | Status::PartiallyPaid)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::PartiallyPaid => "partially_paid",
            Status::Paid => "paid",
            Status::Overpaid => "overpaid",
            Status::Expired => "expired",
            Status::Closed => "closed",
        }
    }
}

impl FromStr for Status {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Status::ALL.into_iter().find(|st| st.as_str() == s).ok_or(())
    }
}

/// The customer a one-time account is for. Personal data: encrypted at rest, masked in views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
}

pub type Metadata = BTreeMap<String, String>;

/// A refused state change. The account is left exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a {from} account cannot be {action}")]
    NotAllowed { from: &'static str, action: &'static str },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualAccount {
    pub id: VirtualAccountId,
    pub merchant_id: MerchantId,
    pub provider: ProviderId,
    pub order_id: OrderId,
    #[serde(rename = "type")]
    pub kind: AccountType,
    pub status: Status,
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    /// Expected amount; `None` for fixed accounts, which take any amount.
    pub amount: Option<Krw>,
    pub paid_amount: Krw,
    pub allow_partial: bool,
    pub due_at: Option<DateTime<Utc>>,
    pub depositor_name: Option<String>,
    pub customer: Option<Customer>,
    pub metadata: Metadata,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version: every change increments it by exactly one.
    pub version: u64,
    /// The merchant's deposit policy as it stood when the account was issued: a deposit is
    /// judged by the terms its account was issued under, and needs no read of the merchant.
    #[serde(default)]
    pub policy: AccountPolicy,
    /// Money received beyond the expected amount (the sum of `overpaid` exceptions of
    /// unreversed deposits). Not credited; it makes the account `overpaid`.
    #[serde(default)]
    pub excess: Krw,
    /// The account's number went back to the pool (closed, expired, or paid and past due):
    /// it can never be open again.
    #[serde(default)]
    pub number_released: bool,
    /// The secret a provider that authenticates callbacks per payment (Toss Payments) sends
    /// back with them. Never shown to merchants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_secret: Option<String>,
    /// The transaction ids of the latest deposits that moved this account's balance, oldest
    /// first, at most [`VirtualAccount::RECENT_DEPOSITS`]: a provider that cancels "the payment
    /// of this order" (Toss Payments) names no transaction, and this finds it by consistent
    /// reads, where the account's deposit listing (an index) may not show it yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recent_deposits: Vec<crate::domain::TransactionId>,
}

/// What to do when the depositor's name differs from the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NameMismatchPolicy {
    /// Credit the deposit and flag it.
    #[default]
    Warn,
    /// Hold the money as a `name_mismatch` exception for an operator.
    Hold,
}

impl FromStr for NameMismatchPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "warn" => Ok(NameMismatchPolicy::Warn),
            "hold" => Ok(NameMismatchPolicy::Hold),
            other => Err(format!("unknown name-mismatch policy `{other}`; expected warn or hold")),
        }
    }
}

/// The part of a merchant's deposit policy an account carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AccountPolicy {
    /// Credit a deposit made after the due time (or to an expired account) instead of holding
    /// it as a `late` exception.
    #[serde(default)]
    pub accept_late: bool,
    #[serde(default)]
    pub name_mismatch: NameMismatchPolicy,
}

/// What a merchant asked for, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRequest {
    pub order_id: OrderId,
    pub kind: AccountType,
    pub amount: Option<Krw>,
    pub bank_code: BankCode,
    pub due_at: Option<DateTime<Utc>>,
    pub allow_partial: bool,
    pub depositor_name: Option<String>,
    pub customer: Option<Customer>,
    pub metadata: Metadata,
    pub policy: AccountPolicy,
}

/// Why the terms of a new account are refused, by field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("amount is required for a one_time account")]
    AmountRequired,
    #[error("amount must be absent for a fixed account")]
    AmountForbidden,
    #[error("due_at must be absent for a fixed account")]
    DueForbidden,
    #[error("allow_partial applies only to one_time accounts")]
    PartialForbidden,
    #[error("due_at must be in the future")]
    DueInPast,
    #[error("due_at must be at most {} days ahead", AccountTerms::MAX_DUE_DAYS)]
    DueTooFar,
}

impl TermsError {
    pub fn field(&self) -> &'static str {
        match self {
            TermsError::AmountRequired | TermsError::AmountForbidden => "amount",
            TermsError::DueForbidden | TermsError::DueInPast | TermsError::DueTooFar => "due_at",
            TermsError::PartialForbidden => "allow_partial",
        }
    }
}

/// Amount, due time and partial-payment rule, checked together because each depends on the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountTerms {
    pub kind: AccountType,
    pub amount: Option<Krw>,
    pub due_at: Option<DateTime<Utc>>,
    pub allow_partial: bool,
}

impl AccountTerms {
    pub const DEFAULT_DUE_HOURS: i64 = 72;
    pub const MAX_DUE_DAYS: i64 = 30;

    pub fn new(
        kind: AccountType,
        amount: Option<Krw>,
        due_at: Option<DateTime<Utc>>,
        allow_partial: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<AccountTerms, Vec<TermsError>> {
        let mut errors = Vec::new();
        let terms = match kind {
            AccountType::OneTime => {
                if amount.is_none() {
                    errors.push(TermsError::AmountRequired);
                }
                let due = due_at.unwrap_or(now + Duration::hours(Self::DEFAULT_DUE_HOURS));
                if due <= now {
                    errors.push(TermsError::DueInPast);
                } else if due > now + Duration::days(Self::MAX_DUE_DAYS) {
                    errors.push(TermsError::DueTooFar);
                }
                AccountTerms { kind, amount, due_at: Some(due), allow_partial: allow_partial.unwrap_or(false) }
            }
            AccountType::Fixed => {
                if amount.is_some() {
                    errors.push(TermsError::AmountForbidden);
                }
                if due_at.is_some() {
                    errors.push(TermsError::DueForbidden);
                }
                if allow_partial == Some(true) {
                    errors.push(TermsError::PartialForbidden);
                }
                AccountTerms { kind, amount: None, due_at: None, allow_partial: false }
            }
        };
        if errors.is_empty() { Ok(terms) } else { Err(errors) }
    }
}

impl VirtualAccount {
    /// A freshly issued account on a number the provider handed out.
    pub fn issue(
        id: VirtualAccountId,
        merchant_id: MerchantId,
        provider: ProviderId,
        account_number: AccountNumber,
        request: AccountRequest,
        now: DateTime<Utc>,
    ) -> VirtualAccount {
        VirtualAccount {
            id,
            merchant_id,
            provider,
            order_id: request.order_id,
            kind: request.kind,
            status: Status::Waiting,
            bank_code: request.bank_code,
            account_number,
            amount: request.amount,
            paid_amount: Krw::ZERO,
            allow_partial: request.allow_partial,
            due_at: request.due_at,
            depositor_name: request.depositor_name,
            customer: request.customer,
            metadata: request.metadata,
            created_at: now,
            updated_at: now,
            version: 1,
            policy: request.policy,
            excess: Krw::ZERO,
            number_released: false,
            provider_secret: None,
            recent_deposits: Vec::new(),
        }
    }

    pub const RECENT_DEPOSITS: usize = 20;

    /// Remembers a deposit that moved this account's balance.
    pub fn remember_deposit(&mut self, transaction: &crate::domain::TransactionId) {
        if self.recent_deposits.len() == VirtualAccount::RECENT_DEPOSITS {
            self.recent_deposits.remove(0);
        }
        self.recent_deposits.push(transaction.clone());
    }

    /// What is still expected: the amount less what was credited. `None` for fixed accounts.
    /// (A payment amount less a balance that never goes below zero cannot overflow.)
    pub fn remaining(&self) -> Option<Krw> {
        self.amount.map(|a| a.minus(self.paid_amount).map_or(Krw::ZERO, |left| left.max(Krw::ZERO)))
    }

    /// The status that `paid_amount`, `excess` and the account's history imply. Closing is
    /// final; an account whose number went back to the pool cannot be open again, so it stays
    /// (or becomes) expired unless it is fully paid.
    pub fn settled_status(&self) -> Status {
        if self.status == Status::Closed {
            return Status::Closed;
        }
        let Some(amount) = self.amount else { return Status::Waiting };
        if self.excess.is_positive() {
            return Status::Overpaid;
        }
        if self.paid_amount >= amount {
            return Status::Paid;
        }
        if self.status == Status::Expired || self.number_released {
            return Status::Expired;
        }
        if self.paid_amount.is_positive() { Status::PartiallyPaid } else { Status::Waiting }
    }

    /// A copy with money moved (`paid_amount`, `excess`), its status recomputed, and the
    /// version bumped: every balance change goes through here.
    pub fn with_balances(&self, paid_amount: Krw, excess: Krw, now: DateTime<Utc>) -> VirtualAccount {
        let mut next = VirtualAccount { paid_amount, excess, updated_at: now.max(self.updated_at), version: self.version + 1, ..self.clone() };
        next.status = next.settled_status();
        next
    }

    /// Its number goes back to the pool: a paid account past its due time. The account itself
    /// does not change state; it only stops holding the number.
    pub fn release_number(&self, now: DateTime<Utc>) -> Result<VirtualAccount, TransitionError> {
        if self.number_released || self.status.is_open() {
            return Err(TransitionError::NotAllowed { from: self.status.as_str(), action: "released from its number" });
        }
        Ok(VirtualAccount { number_released: true, updated_at: now.max(self.updated_at), version: self.version + 1, ..self.clone() })
    }

    /// Whether the expiry sweep still has work with this account at its due time: expiring it
    /// if open, or releasing the number of a paid one.
    pub fn awaits_due_time(&self) -> bool {
        self.due_at.is_some() && !self.number_released && !matches!(self.status, Status::Closed | Status::Expired)
    }

    /// The merchant cancels the order: no more money is expected.
    pub fn close(&self, now: DateTime<Utc>) -> Result<VirtualAccount, TransitionError> {
        self.move_open_to(Status::Closed, "closed", now)
    }

    /// The due time passed with the account still open.
    pub fn expire(&self, now: DateTime<Utc>) -> Result<VirtualAccount, TransitionError> {
        match self.due_at {
            Some(due) if due <= now => self.move_open_to(Status::Expired, "expired", now),
            _ => Err(TransitionError::NotAllowed { from: self.status.as_str(), action: "expired before its due time" }),
        }
    }

    fn move_open_to(&self, to: Status, action: &'static str, now: DateTime<Utc>) -> Result<VirtualAccount, TransitionError> {
        if !self.status.is_open() {
            return Err(TransitionError::NotAllowed { from: self.status.as_str(), action });
        }
        Ok(VirtualAccount { status: to, number_released: true, updated_at: now.max(self.updated_at), version: self.version + 1, ..self.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        super::super::time::parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
    }

    fn account(kind: AccountType) -> VirtualAccount {
        let terms = match kind {
            AccountType::OneTime => AccountTerms::new(kind, Some(Krw::new(35_000)), None, None, now()),
            AccountType::Fixed => AccountTerms::new(kind, None, None, None, now()),
        }
        .unwrap();
        VirtualAccount::issue(
            VirtualAccountId::generate(now()),
            MerchantId::generate(now()),
            "bank".parse().unwrap(),
            "12345678901234".parse().unwrap(),
            AccountRequest {
                order_id: "ORD-1".parse().unwrap(),
                kind,
                amount: terms.amount,
                bank_code: BankCode::Kookmin,
                due_at: terms.due_at,
                allow_partial: terms.allow_partial,
                depositor_name: None,
                customer: None,
                metadata: Metadata::new(),
                policy: AccountPolicy::default(),
            },
            now(),
        )
    }

    #[test]
    fn one_time_terms_default_to_72_hours_and_require_an_amount() {
        let t = AccountTerms::new(AccountType::OneTime, Some(Krw::new(1)), None, None, now()).unwrap();
        assert_eq!(t.due_at, Some(now() + Duration::hours(72)));
        assert_eq!(AccountTerms::new(AccountType::OneTime, None, None, None, now()), Err(vec![TermsError::AmountRequired]));
    }

    #[test]
    fn due_time_must_be_future_and_within_thirty_days() {
        let at = |d: Duration| AccountTerms::new(AccountType::OneTime, Some(Krw::new(1)), Some(now() + d), None, now());
        assert_eq!(at(Duration::zero()), Err(vec![TermsError::DueInPast]));
        assert!(at(Duration::days(30)).is_ok());
        assert_eq!(at(Duration::days(30) + Duration::seconds(1)), Err(vec![TermsError::DueTooFar]));
    }

    #[test]
    fn fixed_terms_refuse_amount_due_and_partial() {
        let errs = AccountTerms::new(AccountType::Fixed, Some(Krw::new(1)), Some(now()), Some(true), now()).unwrap_err();
        assert_eq!(errs, vec![TermsError::AmountForbidden, TermsError::DueForbidden, TermsError::PartialForbidden]);
    }

    #[test]
    fn a_fixed_account_never_expires() {
        let fixed = account(AccountType::Fixed);
        assert!(fixed.expire(now() + Duration::days(400)).is_err());
    }

    #[test]
    fn account_number_offsets_keep_their_width() {
        let n: AccountNumber = "00000099".parse().unwrap();
        assert_eq!(n.offset(1).unwrap().as_str(), "00000100");
        assert_eq!("99999999".parse::<AccountNumber>().unwrap().offset(1), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Close(i64),
        Expire(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![(0i64..200).prop_map(Op::Close), (0i64..200).prop_map(Op::Expire)]
    }

    proptest! {
        #[test]
        fn account_number_text_round_trips(s in "[0-9]{6,20}") {
            let n: AccountNumber = s.parse().unwrap();
            prop_assert_eq!(n.as_str(), s.as_str());
            let json = serde_json::to_string(&n).unwrap();
            prop_assert_eq!(serde_json::from_str::<AccountNumber>(&json).unwrap(), n);
        }

        #[test]
        fn account_number_rejects_non_digits_and_bad_lengths(s in "\\PC{0,24}") {
            let valid = (6..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(s.parse::<AccountNumber>().is_ok(), valid);
        }

        #[test]
        fn account_round_trips_through_json(fixed in any::<bool>()) {
            let acct = account(if fixed { AccountType::Fixed } else { AccountType::OneTime });
            let json = serde_json::to_string(&acct).unwrap();
            prop_assert_eq!(serde_json::from_str::<VirtualAccount>(&json).unwrap(), acct);
        }

        /// Any sequence of close/expire attempts at any hour: a refused change leaves the account
        /// untouched, an accepted one bumps the version by one and lands in a terminal state,
        /// and nothing ever leaves `closed` or `expired`.
        #[test]
        fn state_machine_only_moves_open_accounts_to_terminal_states(
            fixed in any::<bool>(),
            ops in proptest::collection::vec(op(), 1..12),
        ) {
            let mut acct = account(if fixed { AccountType::Fixed } else { AccountType::OneTime });
            for op in ops {
                let before = acct.clone();
                let result = match op {
                    Op::Close(h) => acct.close(now() + Duration::hours(h)),
                    Op::Expire(h) => acct.expire(now() + Duration::hours(h)),
                };
                match result {
                    Ok(next) => {
                        prop_assert!(before.status.is_open());
                        prop_assert!(matches!(next.status, Status::Closed | Status::Expired));
                        prop_assert_eq!(next.version, before.version + 1);
                        prop_assert_eq!(next.paid_amount, before.paid_amount);
                        if next.status == Status::Expired {
                            prop_assert!(!fixed);
                            prop_assert!(before.due_at.is_some_and(|d| d <= next.updated_at));
                        }
                        acct = next;
                    }
                    Err(_) => prop_assert_eq!(&acct, &before),
                }
            }
        }
    }
}
