//! Matching, reversal and exception rules, row by row (docs/decisions.md), and the money invariants
//! under random sequences of notices, duplicates, reversals, expiries, closes and resolutions.

use super::*;
use crate::domain::time::parse_rfc3339;
use crate::domain::{AccountPolicy, AccountRequest, Metadata};
use chrono::Duration;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

fn one_time(amount: i64, allow_partial: bool, policy: AccountPolicy) -> VirtualAccount {
    account(AccountType::OneTime, Some(amount), allow_partial, policy, "12345678901234")
}

fn account(kind: AccountType, amount: Option<i64>, allow_partial: bool, policy: AccountPolicy, number: &str) -> VirtualAccount {
    VirtualAccount::issue(
        VirtualAccountId::generate(t0()),
        MerchantId::generate(t0()),
        "bank".parse().unwrap(),
        number.parse().unwrap(),
        AccountRequest {
            order_id: "ORD-1".parse().unwrap(),
            kind,
            amount: amount.map(Krw::new),
            bank_code: BankCode::Kookmin,
            due_at: (kind == AccountType::OneTime).then(|| t0() + Duration::hours(72)),
            allow_partial,
            depositor_name: Some("홍길동".into()),
            customer: None,
            metadata: Metadata::new(),
            policy,
        },
        t0(),
    )
}

fn notice(tx: &str, amount: i64, name: &str, at: DateTime<Utc>) -> DepositNotice {
    DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        bank_code: BankCode::Kookmin,
        account_number: "12345678901234".parse().unwrap(),
        amount: Krw::new(amount),
        depositor_name: Some(name.into()),
        deposited_at: at,
    }
}

fn judge(account: Option<&VirtualAccount>, amount: i64) -> Judgement {
    judge_at(account, amount, "홍길동", t0() + Duration::hours(1))
}

fn judge_at(account: Option<&VirtualAccount>, amount: i64, name: &str, at: DateTime<Utc>) -> Judgement {
    match_deposit(DepositId::generate(at), account, notice("T-1", amount, name, at), at).unwrap()
}

fn reason(j: &Judgement) -> Option<ExceptionReason> {
    j.deposit.exception.as_ref().map(|e| e.reason)
}

#[test]
fn the_exact_amount_pays_the_account() {
    let a = one_time(35_000, false, AccountPolicy::default());
    let j = judge(Some(&a), 35_000);
    let after = j.account.unwrap();
    assert_eq!((j.deposit.status, j.deposit.credited), (DepositStatus::Matched, Krw::new(35_000)));
    assert_eq!((after.status, after.paid_amount, after.version), (Status::Paid, Krw::new(35_000), 2));
    assert_eq!(j.account_event, Some(EventType::AccountPaid));
}

#[test]
fn less_than_remaining_is_partial_only_when_allowed() {
    let allowed = judge(Some(&one_time(35_000, true, AccountPolicy::default())), 10_000);
    assert_eq!(allowed.account.as_ref().map(|a| (a.status, a.paid_amount)), Some((Status::PartiallyPaid, Krw::new(10_000))));
    assert_eq!(allowed.account_event, Some(EventType::AccountPartiallyPaid));
    let refused = judge(Some(&one_time(35_000, false, AccountPolicy::default())), 10_000);
    assert_eq!(reason(&refused), Some(ExceptionReason::Underpaid));
    assert_eq!((refused.deposit.status, refused.deposit.credited), (DepositStatus::Exception, Krw::ZERO));
    assert!(refused.account.is_none(), "an underpayment leaves the account as it was");
}

#[test]
fn more_than_remaining_credits_the_remaining_and_holds_the_excess() {
    let j = judge(Some(&one_time(35_000, false, AccountPolicy::default())), 50_000);
    let after = j.account.unwrap();
    assert_eq!((after.status, after.paid_amount, after.excess), (Status::Overpaid, Krw::new(35_000), Krw::new(15_000)));
    assert_eq!(j.deposit.credited, Krw::new(35_000));
    let e = j.deposit.exception.unwrap();
    assert_eq!((e.reason, e.amount, e.state), (ExceptionReason::Overpaid, Krw::new(15_000), ExceptionState::Open));
    assert_eq!(j.account_event, Some(EventType::AccountOverpaid));
}

#[test]
fn a_deposit_to_a_paid_account_is_all_excess() {
    let paid = judge(Some(&one_time(35_000, false, AccountPolicy::default())), 35_000).account.unwrap();
    let j = judge(Some(&paid), 1_000);
    let after = j.account.unwrap();
    assert_eq!((after.status, after.paid_amount, after.excess), (Status::Overpaid, Krw::new(35_000), Krw::new(1_000)));
    assert_eq!((j.deposit.credited, j.deposit.exception.map(|e| e.amount)), (Krw::ZERO, Some(Krw::new(1_000))));
}

#[test]
fn late_deposits_are_held_unless_the_policy_accepts_them() {
    let due_passed = t0() + Duration::hours(73);
    let strict = one_time(35_000, false, AccountPolicy::default());
    assert_eq!(reason(&judge_at(Some(&strict), 35_000, "홍길동", due_passed)), Some(ExceptionReason::Late));
    let expired = strict.expire(due_passed).unwrap();
    assert_eq!(reason(&judge(Some(&expired), 35_000)), Some(ExceptionReason::Late), "an expired account is late whatever the deposit time");
    let lenient = one_time(35_000, false, AccountPolicy { accept_late: true, ..AccountPolicy::default() });
    let j = judge_at(Some(&lenient), 35_000, "홍길동", due_passed);
    assert_eq!((j.deposit.status, j.account.map(|a| a.status)), (DepositStatus::Matched, Some(Status::Paid)));
}

#[test]
fn closed_and_unknown_accounts_hold_the_whole_deposit() {
    let closed = one_time(35_000, false, AccountPolicy::default()).close(t0()).unwrap();
    assert_eq!(reason(&judge(Some(&closed), 35_000)), Some(ExceptionReason::ClosedAccount));
    let unknown = judge(None, 35_000);
    assert_eq!(reason(&unknown), Some(ExceptionReason::UnknownAccount));
    assert_eq!((unknown.deposit.merchant_id, unknown.deposit.virtual_account_id), (None, None));
}

#[test]
fn a_different_depositor_name_is_flagged_or_held_by_policy() {
    let warn = judge_at(Some(&one_time(35_000, false, AccountPolicy::default())), 35_000, "김철수", t0());
    assert_eq!((warn.deposit.status, warn.deposit.name_mismatch), (DepositStatus::Matched, true));
    let hold_policy = AccountPolicy { name_mismatch: NameMismatchPolicy::Hold, ..AccountPolicy::default() };
    let hold = judge_at(Some(&one_time(35_000, false, hold_policy)), 35_000, "김철수", t0());
    assert_eq!(reason(&hold), Some(ExceptionReason::NameMismatch));
    let spacing = judge_at(Some(&one_time(35_000, false, hold_policy)), 35_000, " 홍 길동 ", t0());
    assert_eq!((spacing.deposit.status, spacing.deposit.name_mismatch), (DepositStatus::Matched, false));
}

#[test]
fn a_fixed_account_takes_every_deposit_and_stays_waiting() {
    let fixed = account(AccountType::Fixed, None, false, AccountPolicy::default(), "12345678901234");
    let first = judge(Some(&fixed), 7).account.unwrap();
    let second = judge(Some(&first), 10_000_000_000).account.unwrap();
    assert_eq!((second.status, second.paid_amount, second.version), (Status::Waiting, Krw::new(10_000_000_007), 3));
}

#[test]
fn a_reversal_takes_back_the_credit_and_the_excess() {
    let a = one_time(35_000, false, AccountPolicy::default());
    let j = judge(Some(&a), 50_000);
    let reversal = Reversal { transaction_id: "T-1R".parse().unwrap(), reversed_at: t0() };
    let effect = reverse(&j.deposit, j.account.as_ref(), reversal.clone(), t0() + Duration::hours(2)).unwrap();
    let after = effect.account.unwrap();
    assert_eq!((after.status, after.paid_amount, after.excess), (Status::Waiting, Krw::ZERO, Krw::ZERO));
    assert_eq!(effect.deposit.status, DepositStatus::Reversed);
    assert_eq!(effect.deposit.exception.as_ref().unwrap().resolution, Some(Resolution::Reversed));
    assert!(matches!(reverse(&effect.deposit, Some(&after), reversal, t0()), Err(ReversalError::AlreadyReversed(_))));
}

#[test]
fn reversing_the_payment_of_a_released_account_leaves_it_expired() {
    let paid = judge(Some(&one_time(35_000, false, AccountPolicy::default())), 35_000);
    let released = paid.account.unwrap().release_number(t0() + Duration::hours(73)).unwrap();
    let reversal = Reversal { transaction_id: "T-1R".parse().unwrap(), reversed_at: t0() };
    let effect = reverse(&paid.deposit, Some(&released), reversal, t0() + Duration::hours(74)).unwrap();
    assert_eq!(effect.account.unwrap().status, Status::Expired);
}

#[test]
fn maker_checker_needs_a_second_operator() {
    let j = judge(None, 35_000);
    let (kim, lee): (OperatorName, OperatorName) = ("kim".parse().unwrap(), "lee".parse().unwrap());
    let refund = Resolution::Refund { bank_code: BankCode::Shinhan, account_number: "110123456789".parse().unwrap(), holder: "홍길동".into() };
    let pending = j.deposit.propose(refund.clone(), kim.clone(), true, t0()).unwrap();
    assert_eq!(pending.exception.as_ref().unwrap().state, ExceptionState::PendingApproval);
    assert!(matches!(pending.approve(kim.clone(), t0()), Err(ExceptionError::SameOperator(_))));
    let done = pending.approve(lee.clone(), t0()).unwrap();
    let e = done.exception.as_ref().unwrap();
    assert_eq!((e.state, e.resolution.clone(), e.resolved_by.clone()), (ExceptionState::Resolved, Some(refund), vec![kim.clone(), lee.clone()]));
    assert!(done.propose(Resolution::WriteOff { note: "x".into() }, kim.clone(), false, t0()).is_err(), "resolved is final");
    let reopened = j.deposit.propose(Resolution::WriteOff { note: "test".into() }, kim, true, t0()).unwrap().reject(lee).unwrap();
    assert_eq!(reopened.exception.unwrap().state, ExceptionState::Open);
}

#[test]
fn an_assignment_never_overfills_a_one_time_account() {
    let a = one_time(35_000, false, AccountPolicy::default());
    let stray = |amount| match_deposit(DepositId::generate(t0()), None, notice("T-STRAY", amount, "홍길동", t0()), t0()).unwrap().deposit;
    assert!(credit_assigned(&stray(35_001), &a, t0()).is_err());
    assert_eq!(credit_assigned(&stray(35_000), &a, t0()).unwrap().status, Status::Paid);
    assert!(credit_assigned(&stray(1), &a.close(t0()).unwrap(), t0()).is_err());
}

#[test]
fn a_partial_cancellation_takes_back_held_money_first_then_credit() {
    let a = one_time(35_000, false, AccountPolicy::default());
    let over = match_deposit(DepositId::generate(t0()), Some(&a), notice("T-1", 50_000, "홍길동", t0()), t0()).unwrap();
    let (d, a) = (over.deposit, over.account.unwrap());
    let cut = |d: &Deposit, a: &VirtualAccount, won: i64| {
        reverse_part(d, Some(a), Krw::new(won), Reversal { transaction_id: "C".parse().unwrap(), reversed_at: t0() }, t0()).unwrap()
    };
    // 10,000 of the 15,000 overpaid goes back: the excess shrinks, the credit stays.
    let e = cut(&d, &a, 10_000);
    let (d2, a2) = (e.deposit, e.account.unwrap());
    assert_eq!((d2.credited.won(), d2.exception.as_ref().unwrap().amount.won(), d2.cancelled.won()), (35_000, 5_000, 10_000));
    assert_eq!((a2.paid_amount.won(), a2.excess.won(), a2.status), (35_000, 5_000, Status::Overpaid));
    // 8,000 more: the last 5,000 of excess (its exception closed), then 3,000 of the credit.
    let e = cut(&d2, &a2, 8_000);
    let (d3, a3) = (e.deposit, e.account.unwrap());
    assert_eq!((d3.credited.won(), d3.cancelled.won()), (32_000, 18_000));
    assert_eq!(d3.exception.as_ref().map(|x| (x.amount.won(), x.state)), Some((0, ExceptionState::Resolved)));
    assert_eq!((a3.paid_amount.won(), a3.excess.won(), a3.status), (32_000, 0, Status::PartiallyPaid));
    assert_eq!(d3.credited.won() + d3.cancelled.won(), d3.amount.won(), "every won in one bucket");
    // Everything that is left: a whole reversal.
    let e = cut(&d3, &a3, 32_000);
    assert_eq!((e.deposit.status, e.account.unwrap().paid_amount.won()), (DepositStatus::Reversed, 0));
}

#[test]
fn an_excess_assigned_back_to_its_own_account_is_counted_once_and_reversed_in_one_change() {
    // 35,000 expected, partial allowed: 20,000, then 20,000 (15,000 credited, 5,000 excess).
    let a = one_time(35_000, true, AccountPolicy::default());
    let first = match_deposit(DepositId::generate(t0()), Some(&a), notice("T-1", 20_000, "홍길동", t0()), t0()).unwrap();
    let a = first.account.unwrap();
    let second = match_deposit(DepositId::generate(t0()), Some(&a), notice("T-2", 20_000, "홍길동", t0()), t0()).unwrap();
    let a = second.account.unwrap();
    assert_eq!((a.paid_amount.won(), a.excess.won(), a.status), (35_000, 5_000, Status::Overpaid));
    // The first is taken back by the bank, so the account expects 20,000 again ...
    let undo = reverse(&first.deposit, Some(&a), Reversal { transaction_id: "T-1R".parse().unwrap(), reversed_at: t0() }, t0()).unwrap();
    let a = undo.account.unwrap();
    // ... and an operator assigns the second's excess back to it.
    let kim: OperatorName = "kim".parse().unwrap();
    let assigned = second.deposit.propose(Resolution::Assign { account: a.id.clone() }, kim, false, t0()).unwrap();
    let a = credit_assigned(&assigned, &a, t0()).unwrap();
    assert_eq!((a.paid_amount.won(), a.excess.won(), a.status), (20_000, 0, Status::PartiallyPaid), "the excess is now credit, not both");
    // Reversing the second takes its credit and the assigned excess back in one change.
    let undo = reverse(&assigned, Some(&a), Reversal { transaction_id: "T-2R".parse().unwrap(), reversed_at: t0() }, t0()).unwrap();
    assert_eq!(undo.assigned_debit, None, "no second write of the same account");
    let a = undo.account.unwrap();
    assert_eq!((a.paid_amount.won(), a.excess.won(), a.status), (0, 0, Status::Waiting));
}

// ---------------------------------------------------------------- invariants under random play

#[derive(Debug, Clone)]
enum Op {
    /// A notice to account `to` (or an unknown number), `minutes` after t0, transaction `tx`
    /// (a small space, so the same transaction comes again now and then).
    Deposit {
        to: Option<usize>,
        amount: i64,
        minutes: i64,
        other_name: bool,
        tx: u8,
    },
    Reverse {
        tx: u8,
    },
    Expire {
        hours: i64,
    },
    Close {
        account: usize,
    },
    Assign {
        tx: u8,
        to: usize,
    },
    Refund {
        tx: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (proptest::option::weighted(0.9, 0usize..4), prop_oneof![1i64..=60_000, Just(35_000), Just(10_000)], 0i64..6000, proptest::bool::weighted(0.1), 0u8..24)
            .prop_map(|(to, amount, minutes, other_name, tx)| Op::Deposit { to, amount, minutes, other_name, tx }),
        2 => (0u8..24).prop_map(|tx| Op::Reverse { tx }),
        1 => (1i64..100).prop_map(|hours| Op::Expire { hours }),
        1 => (0usize..4).prop_map(|account| Op::Close { account }),
        1 => (0u8..24, 0usize..4).prop_map(|(tx, to)| Op::Assign { tx, to }),
        1 => (0u8..24).prop_map(|tx| Op::Refund { tx }),
    ]
}

/// Four accounts on four numbers: strict, partial-allowed and lenient one-time accounts, and a
/// fixed one. Deposits are kept by transaction id, as the store keeps them.
struct World {
    accounts: Vec<VirtualAccount>,
    deposits: BTreeMap<u8, Deposit>,
    now: DateTime<Utc>,
}

impl World {
    fn new() -> World {
        let lenient = AccountPolicy { accept_late: true, name_mismatch: NameMismatchPolicy::Hold };
        World {
            accounts: vec![
                account(AccountType::OneTime, Some(35_000), false, AccountPolicy::default(), "10000000000000"),
                account(AccountType::OneTime, Some(35_000), true, AccountPolicy::default(), "10000000000001"),
                account(AccountType::OneTime, Some(100_000), true, lenient, "10000000000002"),
                account(AccountType::Fixed, None, false, AccountPolicy::default(), "10000000000003"),
            ],
            deposits: BTreeMap::new(),
            now: t0(),
        }
    }

    fn index_of(&self, id: &VirtualAccountId) -> usize {
        self.accounts.iter().position(|a| &a.id == id).expect("known account")
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Deposit { to, amount, minutes, other_name, tx } => {
                if self.deposits.contains_key(&tx) {
                    return; // the same transaction again: answered from the stored deposit
                }
                let at = t0() + Duration::minutes(minutes);
                self.now = self.now.max(at);
                let target = to.map(|i| self.accounts[i].clone());
                let name = if other_name { "김철수" } else { "홍길동" };
                let j = match_deposit(DepositId::generate(at), target.as_ref(), notice(&format!("T-{tx}"), amount, name, at), self.now).unwrap();
                if let (Some(updated), Some(i)) = (j.account, to) {
                    assert_eq!(updated.version, self.accounts[i].version + 1);
                    self.accounts[i] = updated;
                }
                self.deposits.insert(tx, j.deposit);
            }
            Op::Reverse { tx } => {
                let Some(deposit) = self.deposits.get(&tx).cloned() else { return };
                let own = deposit.virtual_account_id.as_ref().map(|id| self.accounts[self.index_of(id)].clone());
                let reversal = Reversal { transaction_id: format!("R-{tx}").parse().unwrap(), reversed_at: self.now };
                let Ok(effect) = reverse(&deposit, own.as_ref(), reversal, self.now) else {
                    assert_eq!(deposit.status, DepositStatus::Reversed);
                    return;
                };
                if let Some(updated) = effect.account {
                    let i = self.index_of(&updated.id);
                    self.accounts[i] = updated;
                }
                if let Some((target, amount)) = effect.assigned_debit {
                    let i = self.index_of(&target);
                    self.accounts[i] = debit_assigned(&self.accounts[i], amount, self.now).unwrap();
                }
                self.deposits.insert(tx, effect.deposit);
            }
            Op::Expire { hours } => {
                self.now += Duration::hours(hours);
                for a in &mut self.accounts {
                    if a.status.is_open() && a.due_at.is_some_and(|d| d <= self.now) {
                        *a = a.expire(self.now).unwrap();
                    } else if a.awaits_due_time() && a.due_at.is_some_and(|d| d <= self.now) {
                        *a = a.release_number(self.now).unwrap();
                    }
                }
            }
            Op::Close { account } => {
                if let Ok(closed) = self.accounts[account].close(self.now) {
                    self.accounts[account] = closed;
                }
            }
            Op::Assign { tx, to } => {
                let Some(deposit) = self.deposits.get(&tx).cloned() else { return };
                if deposit.exception.is_none() {
                    return;
                }
                let target = self.accounts[to].clone();
                let resolution = Resolution::Assign { account: target.id.clone() };
                let (Ok(resolved), Ok(credited)) =
                    (deposit.propose(resolution, "kim".parse().unwrap(), false, self.now), credit_assigned(&deposit, &target, self.now))
                else {
                    return;
                };
                self.accounts[to] = credited;
                self.deposits.insert(tx, resolved);
            }
            Op::Refund { tx } => {
                let Some(deposit) = self.deposits.get(&tx).cloned() else { return };
                let refund = Resolution::Refund { bank_code: BankCode::Hana, account_number: "81012345678".parse().unwrap(), holder: "홍길동".into() };
                if let Ok(resolved) = deposit.propose(refund, "kim".parse().unwrap(), false, self.now) {
                    self.deposits.insert(tx, resolved);
                }
            }
        }
    }

    /// paid = Σ matched − Σ reversed (plus assigned exceptions); every deposit in one bucket;
    /// Σ deposits = Σ credited + Σ exceptions (+ Σ reversed).
    fn check(&self) -> Result<(), TestCaseError> {
        let (mut total, mut credited, mut held, mut reversed) = (0i64, 0i64, 0i64, 0i64);
        for d in self.deposits.values() {
            total += d.amount.won();
            let exception = d.exception.as_ref().map_or(0, |e| e.amount.won());
            match d.status {
                DepositStatus::Reversed => reversed += d.amount.won(),
                DepositStatus::Matched => {
                    prop_assert!(d.exception.is_none());
                    prop_assert_eq!(d.credited, d.amount);
                    credited += d.credited.won();
                }
                DepositStatus::Exception => {
                    prop_assert!(d.exception.is_some());
                    prop_assert_eq!(d.credited.won() + exception, d.amount.won());
                    credited += d.credited.won();
                    held += exception;
                }
            }
        }
        prop_assert_eq!(total, credited + held + reversed);
        for a in &self.accounts {
            let live = self.deposits.values().filter(|d| d.status != DepositStatus::Reversed);
            let own: i64 = live.clone().filter(|d| d.virtual_account_id.as_ref() == Some(&a.id)).map(|d| d.credited.won()).sum();
            let assigned: i64 = live.clone().filter(|d| d.assigned_to() == Some(&a.id)).map(|d| d.exception.as_ref().map_or(0, |e| e.amount.won())).sum();
            // An excess assigned back to its own account is credit, no longer excess.
            let excess: i64 = live
                .filter(|d| d.virtual_account_id.as_ref() == Some(&a.id) && d.assigned_to() != Some(&a.id))
                .filter_map(|d| d.exception.as_ref().filter(|e| e.reason == ExceptionReason::Overpaid))
                .map(|e| e.amount.won())
                .sum();
            prop_assert_eq!(a.paid_amount.won(), own + assigned, "paid of {:?}", a.status);
            prop_assert_eq!(a.excess.won(), excess);
            if let Some(amount) = a.amount {
                prop_assert!(a.paid_amount <= amount, "a one-time account is never credited beyond its amount");
            }
            if a.status != Status::Closed {
                prop_assert_eq!(a.status, a.settled_status());
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10_000, ..ProptestConfig::default() })]

    #[test]
    fn money_is_never_lost_or_doubled(ops in proptest::collection::vec(op(), 1..40)) {
        let mut world = World::new();
        for op in ops {
            let before: BTreeMap<u8, Deposit> = world.deposits.clone();
            let duplicate = matches!(&op, Op::Deposit { tx, .. } if before.contains_key(tx));
            let accounts_before = world.accounts.clone();
            world.apply(op);
            if duplicate {
                prop_assert_eq!(&world.deposits, &before);
                prop_assert_eq!(&world.accounts, &accounts_before);
            }
            world.check()?;
        }
    }
}
