//! Settlement arithmetic: what a merchant is owed for a KST day.
//!
//! Every movement of money into or back out of a merchant's hands is a [`SettlementEntry`],
//! written in the same transaction as the change that caused it and never changed after. A
//! movement settles on the KST day vaccount **records** it (`recorded_at`), whatever day the
//! money moved at the bank (`deposited_at`, shown beside it), so a notice that arrives days late
//! still lands in a day not yet exported. A day once exported is final: the use case books a
//! movement that would fall into an exported day into the next open one (`app::settlements`).
//!
//! | entry | when | amount | deposits |
//! |---|---|---|---|
//! | `deposit` | a deposit credits an account | what it credited | +1 |
//! | `assigned` | an operator assigns an exception to an account | the exception's amount | +1, or 0 for an overpayment's excess (its deposit already counted) |
//! | `deposit_reversal`, `assigned_reversal` | the provider reverses a deposit | minus the entry it undoes | minus that entry's |
//!
//! Each entry carries the merchant's fee terms in force when it was recorded, and a reversal
//! carries the terms of the entry it undoes, so changing a merchant's terms never rewrites a
//! past row. A day's settlement is its entries in order, each made a [`Row`], and their
//! [`Totals`]. Rounding: the fee of a row is truncated to the won (원 미만 절사) — a flat fee is
//! already whole won, a rate is `⌊|amount| × bps / 10 000⌋` — and VAT is 10 % of the row's fee,
//! truncated the same way; both carry the sign of the row, so a reversal gives back exactly
//! what its entry was charged. `net = amount − fee − vat` per row, and every total is the sum
//! of its column.

use super::calendar::kst_day;
use super::{
    AccountNumber, BankCode, Deposit, DepositId, Fee, Krw, MerchantId, MoneyOverflow, OrderId, ProviderId, SettlementId, TransactionId, VirtualAccount,
    VirtualAccountId,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Deposit,
    Assigned,
    DepositReversal,
    AssignedReversal,
    /// Part of a deposit's credit taken back; the deposit still counts.
    PartialReversal,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Deposit => "deposit",
            EntryKind::Assigned => "assigned",
            EntryKind::DepositReversal => "deposit_reversal",
            EntryKind::AssignedReversal => "assigned_reversal",
            EntryKind::PartialReversal => "partial_reversal",
        }
    }

    /// How the merchant's file names it.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Deposit => "입금",
            EntryKind::Assigned => "예외 반영",
            EntryKind::DepositReversal => "입금 취소",
            EntryKind::AssignedReversal => "예외 반영 취소",
            EntryKind::PartialReversal => "입금 부분 취소",
        }
    }
}

/// One movement of a merchant's money (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementEntry {
    pub merchant_id: MerchantId,
    /// The KST day it settles on: the day it was recorded, or the next day not yet exported.
    pub day: NaiveDate,
    /// When vaccount recorded the movement. Entries written before the recording-day rule
    /// stored their movement time as `at`.
    #[serde(with = "super::time::kst_serde", alias = "at")]
    pub recorded_at: DateTime<Utc>,
    /// When the money moved at the bank (the deposit's `deposited_at`); absent on entries
    /// written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposited_at: Option<DateTime<Utc>>,
    pub kind: EntryKind,
    pub deposit_id: DepositId,
    pub provider: ProviderId,
    pub transaction_id: TransactionId,
    pub virtual_account_id: VirtualAccountId,
    pub order_id: OrderId,
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    pub depositor_name: Option<String>,
    /// Negative for a reversal.
    pub amount: Krw,
    /// What the entry adds to the day's deposit count: 1, 0 or -1.
    pub deposits: i8,
    /// The merchant's terms in force when the movement was recorded (a reversal: the terms of
    /// the entry it undoes). `None` only on entries written before terms were kept; those are
    /// charged at the merchant's terms when their day is exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_terms: Option<Fee>,
    /// A partial reversal's deposit credit before it: its fee is what the credit's fee
    /// drops by, so the fees of a deposit, its partial reversals and a final whole reversal
    /// always add up to exactly nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_before: Option<Krw>,
}

fn entry(
    deposit: &Deposit,
    account: &VirtualAccount,
    kind: EntryKind,
    recorded_at: DateTime<Utc>,
    amount: Krw,
    deposits: i8,
    fee_terms: Option<Fee>,
) -> SettlementEntry {
    SettlementEntry {
        merchant_id: account.merchant_id.clone(),
        day: kst_day(recorded_at),
        recorded_at,
        deposited_at: Some(deposit.deposited_at),
        kind,
        deposit_id: deposit.id.clone(),
        provider: deposit.provider.clone(),
        transaction_id: deposit.transaction_id.clone(),
        virtual_account_id: account.id.clone(),
        order_id: account.order_id.clone(),
        bank_code: deposit.bank_code,
        account_number: deposit.account_number.clone(),
        depositor_name: deposit.depositor_name.clone(),
        amount,
        deposits,
        fee_terms,
        credit_before: None,
    }
}

/// The entry of a deposit just matched to `account` and recorded `now`, if it credited
/// anything; `terms` are the merchant's terms now (the deposit keeps them, for its reversal).
pub fn entry_of_match(deposit: &Deposit, account: &VirtualAccount, terms: Fee, now: DateTime<Utc>) -> Option<SettlementEntry> {
    deposit.credited.is_positive().then(|| entry(deposit, account, EntryKind::Deposit, now, deposit.credited, 1, Some(terms)))
}

/// The entry of an exception's `amount` assigned to `account` at `now`, at `terms`. An
/// overpayment's excess belongs to a deposit that already counted; anything else is a deposit
/// counted now.
pub fn entry_of_assignment(deposit: &Deposit, account: &VirtualAccount, amount: Krw, terms: Fee, now: DateTime<Utc>) -> SettlementEntry {
    let deposits = if deposit.credited.is_positive() { 0 } else { 1 };
    entry(deposit, account, EntryKind::Assigned, now, amount, deposits, Some(terms))
}

/// The entries, recorded `now`, that undo what `before` (the deposit as it was) had put in
/// merchants' hands: its own credit (on `own`, its account) and an assigned exception (on
/// `assigned`), each at the terms it was charged.
pub fn entries_of_reversal(
    before: &Deposit,
    own: Option<&VirtualAccount>,
    assigned: Option<&VirtualAccount>,
    now: DateTime<Utc>,
) -> Result<Vec<SettlementEntry>, MoneyOverflow> {
    let mut undone = Vec::new();
    if let Some(account) = own
        && before.credited.is_positive()
    {
        undone.push(entry(before, account, EntryKind::DepositReversal, now, before.credited.negated()?, -1, before.fee_terms));
    }
    if let (Some(account), Some(exception)) = (assigned, before.assigned_to().and(before.exception.as_ref())) {
        let deposits = if before.credited.is_positive() { 0 } else { -1 };
        undone.push(entry(before, account, EntryKind::AssignedReversal, now, exception.amount.negated()?, deposits, exception.fee_terms));
    }
    Ok(undone)
}

/// The entry, recorded `now`, of `amount` taken back from the credit of `before` (the deposit
/// as it was) on `own`, its account, at the terms the credit was charged.
pub fn entry_of_partial_reversal(before: &Deposit, own: &VirtualAccount, amount: Krw, now: DateTime<Utc>) -> Result<SettlementEntry, MoneyOverflow> {
    Ok(SettlementEntry { credit_before: Some(before.credited), ..entry(before, own, EntryKind::PartialReversal, now, amount.negated()?, 0, before.fee_terms) })
}

/// The fee of one entry under `terms`; a negative entry's fee mirrors its positive's (shares
/// truncate toward zero).
pub fn fee_of(terms: Fee, amount: Krw, deposits: i8) -> Result<Krw, MoneyOverflow> {
    match terms {
        Fee::PerDeposit(per) => per.times(i64::from(deposits)),
        Fee::RateBps(bps) => amount.share(i64::from(bps), 10_000),
    }
}

/// VAT (부가가치세) on a fee: 10 %, truncated to the won.
pub fn vat_of(fee: Krw) -> Result<Krw, MoneyOverflow> {
    fee.share(1, 10)
}

/// An entry with its fee, VAT and net.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub entry: SettlementEntry,
    /// The terms its fee was computed at.
    pub terms: Fee,
    pub fee: Krw,
    pub vat: Krw,
    pub net: Krw,
}

impl Row {
    /// The row of `entry` at its own terms; `fallback` (the merchant's terms at export) only
    /// for entries written before terms were kept.
    pub fn of(entry: SettlementEntry, fallback: Fee) -> Result<Row, MoneyOverflow> {
        let terms = entry.fee_terms.unwrap_or(fallback);
        let (fee, vat) = match entry.credit_before {
            // A partial reversal gives back what the deposit's fee and VAT drop by.
            Some(before) => {
                let after = before.plus(entry.amount)?;
                let (fee_after, fee_before) = (fee_of(terms, after, 1)?, fee_of(terms, before, 1)?);
                (fee_after.minus(fee_before)?, vat_of(fee_after)?.minus(vat_of(fee_before)?)?)
            }
            None => {
                let fee = fee_of(terms, entry.amount, entry.deposits)?;
                (fee, vat_of(fee)?)
            }
        };
        let net = entry.amount.minus(fee)?.minus(vat)?;
        Ok(Row { entry, terms, fee, vat, net })
    }
}

/// A day's sums.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub rows: u64,
    pub deposit_count: i64,
    pub gross: Krw,
    pub fee: Krw,
    pub vat: Krw,
    pub net: Krw,
}

impl Totals {
    /// Counts `row` in; on overflow nothing changes.
    pub fn add(&mut self, row: &Row) -> Result<(), MoneyOverflow> {
        let next = Totals {
            rows: self.rows + 1,
            deposit_count: self.deposit_count + i64::from(row.entry.deposits),
            gross: self.gross.plus(row.entry.amount)?,
            fee: self.fee.plus(row.fee)?,
            vat: self.vat.plus(row.vat)?,
            net: self.net.plus(row.net)?,
        };
        *self = next;
        Ok(())
    }
}

/// One exported file of a settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementFile {
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// A merchant's settlement of one KST day, as exported (the API's settlement object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub id: SettlementId,
    pub merchant_id: MerchantId,
    pub date: NaiveDate,
    pub totals: Totals,
    pub payout_date: NaiveDate,
    /// The CSV, the XLSX and the manifest.
    pub files: Vec<SettlementFile>,
    #[serde(with = "super::time::kst_serde")]
    pub exported_at: DateTime<Utc>,
    pub version: u64,
}

impl Settlement {
    /// The same files as `other`: a re-run that changed nothing.
    pub fn same_files(&self, other: &Settlement) -> bool {
        self.files == other.files
    }
}

/// The names of a day's files, as the API serves them.
pub fn file_names(day: NaiveDate) -> [String; 3] {
    let stamp = day.format("%Y%m%d");
    [format!("settlement-{stamp}.csv"), format!("settlement-{stamp}.xlsx"), "manifest.json".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(amount: i64, deposits: i8) -> SettlementEntry {
        let at = DateTime::parse_from_rfc3339("2026-11-24T23:59:59.999+09:00").unwrap().with_timezone(&Utc);
        SettlementEntry {
            merchant_id: "mch_01JD0000000000000000000000".parse().unwrap(),
            day: kst_day(at),
            recorded_at: at,
            deposited_at: Some(at),
            kind: if amount < 0 { EntryKind::DepositReversal } else { EntryKind::Deposit },
            deposit_id: "dep_01JD0000000000000000000000".parse().unwrap(),
            provider: "bank".parse().unwrap(),
            transaction_id: "T-1".parse().unwrap(),
            virtual_account_id: "va_01JD0000000000000000000000".parse().unwrap(),
            order_id: "A-1".parse().unwrap(),
            bank_code: "004".parse().unwrap(),
            account_number: "12345678901234".parse().unwrap(),
            depositor_name: Some("홍길동".into()),
            amount: Krw::new(amount),
            deposits,
            fee_terms: None,
            credit_before: None,
        }
    }

    #[test]
    fn hand_computed_rows() {
        // 300 won flat: VAT 30, net 35000 - 330.
        let row = Row::of(sample(35_000, 1), Fee::PerDeposit(Krw::new(300))).unwrap();
        assert_eq!((row.fee.won(), row.vat.won(), row.net.won()), (300, 30, 34_670));
        // 1.5 % of 12 345 = 185.175 → 185; VAT 18.5 → 18.
        let row = Row::of(sample(12_345, 1), Fee::RateBps(150)).unwrap();
        assert_eq!((row.fee.won(), row.vat.won(), row.net.won()), (185, 18, 12_142));
        // Its reversal mirrors it to the won.
        let row = Row::of(sample(-12_345, -1), Fee::RateBps(150)).unwrap();
        assert_eq!((row.fee.won(), row.vat.won(), row.net.won()), (-185, -18, -12_142));
        // An overpayment's excess assigned later: no second flat fee.
        let row = Row::of(sample(5_000, 0), Fee::PerDeposit(Krw::new(300))).unwrap();
        assert_eq!((row.fee.won(), row.vat.won(), row.net.won()), (0, 0, 5_000));
    }

    #[test]
    fn an_entry_is_charged_at_its_own_terms_not_the_merchants_current_ones() {
        let entry = SettlementEntry { fee_terms: Some(Fee::PerDeposit(Krw::new(300))), ..sample(35_000, 1) };
        let row = Row::of(entry, Fee::RateBps(500)).unwrap();
        assert_eq!((row.terms, row.fee.won()), (Fee::PerDeposit(Krw::new(300)), 300));
        let legacy = Row::of(sample(35_000, 1), Fee::RateBps(100)).unwrap();
        assert_eq!((legacy.terms, legacy.fee.won()), (Fee::RateBps(100), 350), "an entry without terms: the fallback");
    }

    fn terms() -> impl Strategy<Value = Fee> {
        prop_oneof![(0i64..10_000).prop_map(|w| Fee::PerDeposit(Krw::new(w))), (0u32..=10_000).prop_map(Fee::RateBps)]
    }

    proptest! {
        #[test]
        fn each_row_balances(amount in 1i64..=10_000_000_000, deposits in 0i8..=1, terms in terms()) {
            let row = Row::of(sample(amount, deposits), terms).unwrap();
            prop_assert_eq!(row.entry.amount.won() - row.fee.won() - row.vat.won(), row.net.won());
            prop_assert!(row.vat.won() * 10 <= row.fee.won() && row.fee.won() < row.vat.won() * 10 + 10);
        }

        #[test]
        fn a_reversal_undoes_its_entry_exactly(amount in 1i64..=10_000_000_000, deposits in 0i8..=1, terms in terms()) {
            let there = Row::of(sample(amount, deposits), terms).unwrap();
            let back = Row::of(sample(-amount, -deposits), terms).unwrap();
            prop_assert_eq!(there.fee.won() + back.fee.won(), 0);
            prop_assert_eq!(there.vat.won() + back.vat.won(), 0);
            prop_assert_eq!(there.net.won() + back.net.won(), 0);
        }

        #[test]
        fn a_deposit_its_partial_reversals_and_its_final_reversal_charge_nothing_in_all(
            amount in 2i64..=10_000_000_000,
            cuts in prop::collection::vec(1i64..=1_000_000, 0..5),
            terms in terms(),
        ) {
            let charged = |e: SettlementEntry| { let r = Row::of(SettlementEntry { fee_terms: Some(terms), ..e }, terms).unwrap(); (r.fee.won(), r.vat.won(), r.net.won()) };
            let mut sum = charged(sample(amount, 1));
            let mut credit = amount;
            for cut in cuts.into_iter().filter(|c| *c < amount) {
                if cut >= credit { break; }
                let (f, v, n) = charged(SettlementEntry { kind: EntryKind::PartialReversal, credit_before: Some(Krw::new(credit)), ..sample(-cut, 0) });
                sum = (sum.0 + f, sum.1 + v, sum.2 + n);
                credit -= cut;
            }
            let (f, v, n) = charged(sample(-credit, -1));
            prop_assert_eq!((sum.0 + f, sum.1 + v, sum.2 + n), (0, 0, 0));
        }

        #[test]
        fn totals_are_the_sums_of_the_rows(
            entries in prop::collection::vec((1i64..=100_000_000, any::<bool>(), 0i8..=1), 0..60),
            terms in terms(),
        ) {
            let rows: Vec<Row> = entries
                .iter()
                .map(|&(amount, reversed, deposits)| {
                    if reversed { Row::of(sample(-amount, -deposits), terms).unwrap() } else { Row::of(sample(amount, deposits), terms).unwrap() }
                })
                .collect();
            let mut totals = Totals::default();
            rows.iter().for_each(|r| totals.add(r).unwrap());
            prop_assert_eq!(totals.rows, rows.len() as u64);
            prop_assert_eq!(totals.deposit_count, rows.iter().map(|r| i64::from(r.entry.deposits)).sum::<i64>());
            prop_assert_eq!(totals.gross.won(), rows.iter().map(|r| r.entry.amount.won()).sum::<i64>());
            prop_assert_eq!(totals.fee.won(), rows.iter().map(|r| r.fee.won()).sum::<i64>());
            prop_assert_eq!(totals.vat.won(), rows.iter().map(|r| r.vat.won()).sum::<i64>());
            prop_assert_eq!(totals.net.won(), rows.iter().map(|r| r.net.won()).sum::<i64>());
            prop_assert_eq!(totals.gross.won() - totals.fee.won() - totals.vat.won(), totals.net.won());
        }
    }
}
