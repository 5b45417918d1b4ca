//! Reconciliation (docs/providers.md, "Daily statements"): a provider's own list of one KST day's transactions against what
//! we hold from that provider.
//!
//! [`compare`] is a pure function of the statement, our records and the rows reconciliation
//! recorded before. It gives every statement row exactly one [`Verdict`] (it agrees with us, it
//! was or must be recorded through the normal notice path, or it differs), and adds a line for
//! each deposit or reversal of the day that we hold and the statement lacks. Recovering,
//! storing and reporting are `app::reconcile`'s business.
//!
//! What is compared: a deposit by its transaction id, then its amount and its account (bank
//! and number). Depositor names and times are not: banks print names differently, and a
//! provider's cut-off may put a late-evening deposit on the next day's statement.

use super::calendar::kst_day;
use super::deposit::{Deposit, DepositNotice, ReversalNotice};
use super::settlement::SettlementFile;
use super::{AccountNumber, BankCode, DepositId, Krw, MerchantId, ProviderId, TransactionId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One row of a provider's statement, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementEntry {
    Deposit(DepositNotice),
    Reversal(ReversalNotice),
}

impl StatementEntry {
    pub fn transaction_id(&self) -> &TransactionId {
        match self {
            StatementEntry::Deposit(d) => &d.transaction_id,
            StatementEntry::Reversal(r) => &r.transaction_id,
        }
    }

    pub fn kind(&self) -> EntryKind {
        match self {
            StatementEntry::Deposit(_) => EntryKind::Deposit,
            StatementEntry::Reversal(_) => EntryKind::Reversal,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Deposit,
    Reversal,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Deposit => "deposit",
            EntryKind::Reversal => "reversal",
        }
    }

    /// As the report file shows it.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::Deposit => "입금",
            EntryKind::Reversal => "입금 취소",
        }
    }
}

/// A reversal notice as we recorded it: which deposit it took back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedReversal {
    pub transaction_id: TransactionId,
    pub original_transaction_id: TransactionId,
}

/// What we hold from one provider: its deposits of the day, and every deposit and reversal that
/// the statement names by transaction id (whatever its day).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    pub deposits: Vec<Deposit>,
    pub reversals: Vec<RecordedReversal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Both sides have the deposit, for different amounts.
    AmountMismatch,
    /// Both sides have the deposit, to a different bank or account number.
    AccountMismatch,
    /// We hold a deposit or reversal of the day that the statement lacks.
    MissingAtProvider,
    /// A reversal that cannot be squared with our records: its deposit is unknown to us, we
    /// recorded it as the reversal of another deposit, or one side calls the transaction a
    /// deposit and the other a reversal.
    ReversalMismatch,
}

impl DifferenceKind {
    pub const ALL: [DifferenceKind; 4] =
        [DifferenceKind::AmountMismatch, DifferenceKind::AccountMismatch, DifferenceKind::MissingAtProvider, DifferenceKind::ReversalMismatch];

    pub fn as_str(self) -> &'static str {
        match self {
            DifferenceKind::AmountMismatch => "amount_mismatch",
            DifferenceKind::AccountMismatch => "account_mismatch",
            DifferenceKind::MissingAtProvider => "missing_at_provider",
            DifferenceKind::ReversalMismatch => "reversal_mismatch",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DifferenceKind::AmountMismatch => "금액 불일치",
            DifferenceKind::AccountMismatch => "계좌 불일치",
            DifferenceKind::MissingAtProvider => "제공사 누락",
            DifferenceKind::ReversalMismatch => "취소 불일치",
        }
    }
}

impl std::fmt::Display for DifferenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deposit's money facts as one side tells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    pub amount: Krw,
}

impl Facts {
    fn of_notice(n: &DepositNotice) -> Facts {
        Facts { bank_code: n.bank_code, account_number: n.account_number.clone(), amount: n.amount }
    }
}

/// Our deposit a line is about (for a reversal: the deposit it takes back).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    pub deposit_id: DepositId,
    pub merchant_id: Option<MerchantId>,
    #[serde(flatten)]
    pub facts: Facts,
}

impl Held {
    fn of(d: &Deposit) -> Held {
        Held {
            deposit_id: d.id.clone(),
            merchant_id: d.merchant_id.clone(),
            facts: Facts { bank_code: d.bank_code, account_number: d.account_number.clone(), amount: d.amount },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Both sides agree.
    Matched,
    /// We had lacked it; reconciliation recorded it through the notice path (now or before).
    Recovered,
    /// We lack it, and it can be recorded through the notice path.
    Recover,
    /// The sides disagree, or we lack it and cannot record it.
    Differs { kinds: Vec<DifferenceKind>, note: String },
}

/// One line of the comparison: a statement row, or something of ours the statement lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: EntryKind,
    pub transaction_id: TransactionId,
    pub original_transaction_id: Option<TransactionId>,
    /// The row's position in the statement (0-based); `None` for what only we hold.
    pub row: Option<usize>,
    pub theirs: Option<Facts>,
    pub ours: Option<Held>,
    pub verdict: Verdict,
}

fn differs(kind: DifferenceKind, note: &str) -> Verdict {
    Verdict::Differs { kinds: vec![kind], note: note.to_owned() }
}

/// Compares a provider's statement of `day` with what we hold from that provider. `recovered`
/// names the rows reconciliation recorded before: a row that agrees and was recovered stays
/// `Recovered`, so a re-run reports what the first run did.
///
/// The statement's rows come first, in its order; then what we hold and it lacks, by time.
pub fn compare(day: NaiveDate, statement: &[StatementEntry], held: &Holdings, recovered: &BTreeSet<TransactionId>) -> Vec<Line> {
    let deposits: BTreeMap<&TransactionId, &Deposit> = held.deposits.iter().map(|d| (&d.transaction_id, d)).collect();
    // A reversed deposit names its (effective) reversal; claims looked up add the others.
    let mut reversals: BTreeMap<&TransactionId, &TransactionId> =
        held.deposits.iter().filter_map(|d| d.reversal.as_ref().map(|r| (&r.transaction_id, &d.transaction_id))).collect();
    for r in &held.reversals {
        reversals.insert(&r.transaction_id, &r.original_transaction_id);
    }
    // Deposits of the statement that we will record: a reversal of one of them can follow it.
    let recoverable: BTreeSet<&TransactionId> = statement
        .iter()
        .filter_map(|e| match e {
            StatementEntry::Deposit(d) if !deposits.contains_key(&d.transaction_id) && !reversals.contains_key(&d.transaction_id) => Some(&d.transaction_id),
            _ => None,
        })
        .collect();
    let agreed = |tx: &TransactionId| if recovered.contains(tx) { Verdict::Recovered } else { Verdict::Matched };

    let mut lines = Vec::with_capacity(statement.len());
    for (row, entry) in statement.iter().enumerate() {
        let line = match entry {
            StatementEntry::Deposit(n) => {
                let theirs = Facts::of_notice(n);
                let ours = deposits.get(&n.transaction_id).copied();
                let verdict = match ours {
                    Some(d) => {
                        let mut kinds = Vec::new();
                        if d.amount != n.amount {
                            kinds.push(DifferenceKind::AmountMismatch);
                        }
                        if d.bank_code != n.bank_code || d.account_number != n.account_number {
                            kinds.push(DifferenceKind::AccountMismatch);
                        }
                        if kinds.is_empty() { agreed(&n.transaction_id) } else { Verdict::Differs { kinds, note: String::new() } }
                    }
                    None if reversals.contains_key(&n.transaction_id) => differs(DifferenceKind::ReversalMismatch, "당사에는 입금 취소로 기록됨"),
                    None => Verdict::Recover,
                };
                Line {
                    kind: EntryKind::Deposit,
                    transaction_id: n.transaction_id.clone(),
                    original_transaction_id: None,
                    row: Some(row),
                    theirs: Some(theirs),
                    ours: ours.map(Held::of),
                    verdict,
                }
            }
            StatementEntry::Reversal(n) => {
                let original = &n.original_transaction_id;
                let verdict = match reversals.get(&n.transaction_id) {
                    Some(ours) if *ours == original => agreed(&n.transaction_id),
                    Some(ours) => differs(DifferenceKind::ReversalMismatch, &format!("당사에는 {ours}의 취소로 기록됨")),
                    None if deposits.contains_key(&n.transaction_id) => differs(DifferenceKind::ReversalMismatch, "당사에는 입금으로 기록됨"),
                    None if deposits.contains_key(original) || recoverable.contains(original) => Verdict::Recover,
                    None => differs(DifferenceKind::ReversalMismatch, "원거래 입금이 당사에 없음"),
                };
                Line {
                    kind: EntryKind::Reversal,
                    transaction_id: n.transaction_id.clone(),
                    original_transaction_id: Some(original.clone()),
                    row: Some(row),
                    theirs: None,
                    ours: deposits.get(original).copied().map(Held::of),
                    verdict,
                }
            }
        };
        lines.push(line);
    }

    let named: BTreeSet<&TransactionId> = statement.iter().map(StatementEntry::transaction_id).collect();
    let mut ours_only: Vec<(DateTime<Utc>, Line)> = Vec::new();
    let mut seen = BTreeSet::new();
    for d in &held.deposits {
        if !seen.insert(&d.transaction_id) {
            continue;
        }
        if kst_day(d.deposited_at) == day && !named.contains(&d.transaction_id) {
            let line = Line {
                kind: EntryKind::Deposit,
                transaction_id: d.transaction_id.clone(),
                original_transaction_id: None,
                row: None,
                theirs: None,
                ours: Some(Held::of(d)),
                verdict: differs(DifferenceKind::MissingAtProvider, ""),
            };
            ours_only.push((d.deposited_at, line));
        }
        if let Some(r) = &d.reversal
            && kst_day(r.reversed_at) == day
            && !named.contains(&r.transaction_id)
        {
            let line = Line {
                kind: EntryKind::Reversal,
                transaction_id: r.transaction_id.clone(),
                original_transaction_id: Some(d.transaction_id.clone()),
                row: None,
                theirs: None,
                ours: Some(Held::of(d)),
                verdict: differs(DifferenceKind::MissingAtProvider, ""),
            };
            ours_only.push((r.reversed_at, line));
        }
    }
    ours_only.sort_by(|a, b| (a.0, &a.1.transaction_id).cmp(&(b.0, &b.1.transaction_id)));
    lines.extend(ours_only.into_iter().map(|(_, line)| line));
    lines
}

/// The statement rows to record through the notice path, deposits first (a reversal needs its
/// deposit), each in statement order.
pub fn to_recover<'a>(statement: &'a [StatementEntry], lines: &[Line]) -> Vec<&'a StatementEntry> {
    let pending: Vec<&StatementEntry> = lines.iter().filter(|l| l.verdict == Verdict::Recover).filter_map(|l| l.row.and_then(|r| statement.get(r))).collect();
    let (mut deposits, reversals): (Vec<_>, Vec<_>) = pending.into_iter().partition(|e| e.kind() == EntryKind::Deposit);
    deposits.extend(reversals);
    deposits
}

/// One difference, as reported and stored: a line with two kinds (amount and account) is two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    pub kind: DifferenceKind,
    pub entry: EntryKind,
    pub transaction_id: TransactionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_transaction_id: Option<TransactionId>,
    /// What the statement says (deposit rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theirs: Option<Facts>,
    /// Our deposit (for a reversal: the deposit it takes back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ours: Option<Held>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

pub fn differences(lines: &[Line]) -> Vec<Difference> {
    let mut out = Vec::new();
    for line in lines {
        let Verdict::Differs { kinds, note } = &line.verdict else { continue };
        for kind in kinds {
            out.push(Difference {
                kind: *kind,
                entry: line.kind,
                transaction_id: line.transaction_id.clone(),
                original_transaction_id: line.original_transaction_id.clone(),
                theirs: line.theirs.clone(),
                ours: line.ours.clone(),
                note: note.clone(),
            });
        }
    }
    out
}

/// Differences by kind; every kind is present, zero or not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindCounts {
    pub amount_mismatch: u64,
    pub account_mismatch: u64,
    pub missing_at_provider: u64,
    pub reversal_mismatch: u64,
}

impl KindCounts {
    pub fn of(differences: &[Difference]) -> KindCounts {
        let mut counts = KindCounts::default();
        for d in differences {
            *match d.kind {
                DifferenceKind::AmountMismatch => &mut counts.amount_mismatch,
                DifferenceKind::AccountMismatch => &mut counts.account_mismatch,
                DifferenceKind::MissingAtProvider => &mut counts.missing_at_provider,
                DifferenceKind::ReversalMismatch => &mut counts.reversal_mismatch,
            } += 1;
        }
        counts
    }
}

/// The record of one provider's reconciled day (`RECON#{provider}#{day}` / `REPORT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub provider: ProviderId,
    pub date: NaiveDate,
    /// Hex SHA-256 of the statement as received.
    pub statement_sha256: String,
    pub statement_rows: u64,
    pub matched: u64,
    pub recovered: u64,
    /// Differences in all (a line may hold two: amount and account).
    pub differences: u64,
    pub by_kind: KindCounts,
    /// Hex SHA-256 of the differences as stored: a re-run that finds the same differences
    /// announces nothing new.
    pub differences_sha256: String,
    pub file: SettlementFile,
    #[serde(with = "super::time::kst_serde")]
    pub reconciled_at: DateTime<Utc>,
    pub version: u64,
}

impl ReportSummary {
    /// The same outcome, whenever and however often it was reached.
    pub fn same_outcome(&self, other: &ReportSummary) -> bool {
        let strip = |s: &ReportSummary| ReportSummary { reconciled_at: DateTime::<Utc>::MIN_UTC, version: 0, ..s.clone() };
        strip(self) == strip(other)
    }
}

/// Counts of the lines' verdicts: (statement rows, matched, recovered).
pub fn tally(lines: &[Line]) -> (u64, u64, u64) {
    let rows = lines.iter().filter(|l| l.row.is_some()).count() as u64;
    let matched = lines.iter().filter(|l| l.verdict == Verdict::Matched).count() as u64;
    let recovered = lines.iter().filter(|l| l.verdict == Verdict::Recovered).count() as u64;
    (rows, matched, recovered)
}

#[cfg(test)]
mod tests;
