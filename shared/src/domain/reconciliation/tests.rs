//! The comparison row by row, and under random statements: every statement row gets exactly one
//! verdict, everything of ours the statement lacks is reported once, an equal statement is no
//! work, and recording what was recoverable leaves nothing more to recover.

use super::*;
use crate::domain::DepositStatus;
use crate::domain::deposit::{Reversal, match_deposit};
use crate::domain::time::parse_rfc3339;
use chrono::Duration;
use proptest::prelude::*;

fn day() -> NaiveDate {
    "2026-11-24".parse().unwrap()
}

/// 00:00 KST of `day()`.
fn midnight() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T00:00:00+09:00").unwrap()
}

fn tx(s: &str) -> TransactionId {
    s.parse().unwrap()
}

fn notice(id: &str, bank: BankCode, number: &str, amount: i64, at: DateTime<Utc>) -> DepositNotice {
    DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx(id),
        bank_code: bank,
        account_number: number.parse().unwrap(),
        amount: Krw::new(amount),
        depositor_name: None,
        deposited_at: at,
    }
}

/// Our record of a notice (an unknown number's exception: the status plays no part here).
fn held_deposit(n: &DepositNotice) -> Deposit {
    match_deposit(DepositId::generate(n.deposited_at), None, n.clone(), n.deposited_at).unwrap().deposit
}

fn reversed(mut d: Deposit, reversal: &str, at: DateTime<Utc>) -> Deposit {
    d.status = DepositStatus::Reversed;
    d.reversal = Some(Reversal { transaction_id: tx(reversal), reversed_at: at });
    d
}

fn reversal(id: &str, original: &str, at: DateTime<Utc>) -> ReversalNotice {
    ReversalNotice { provider: "bank".parse().unwrap(), transaction_id: tx(id), original_transaction_id: tx(original), occurred_at: at }
}

fn kinds(line: &Line) -> Vec<DifferenceKind> {
    match &line.verdict {
        Verdict::Differs { kinds, .. } => kinds.clone(),
        _ => Vec::new(),
    }
}

fn line<'a>(lines: &'a [Line], id: &str) -> &'a Line {
    lines.iter().find(|l| l.transaction_id.as_str() == id).unwrap_or_else(|| panic!("no line {id}"))
}

#[test]
fn planted_differences_are_reported_by_kind() {
    let at = midnight() + Duration::hours(10);
    let a = notice("T-A", BankCode::Kookmin, "1000000001", 35_000, at);
    let b = notice("T-B", BankCode::Kookmin, "1000000002", 20_000, at);
    let c = notice("T-C", BankCode::Kookmin, "1000000003", 10_000, at);
    let d = notice("T-D", BankCode::Kookmin, "1000000004", 5_000, at);
    let lost = notice("T-LOST", BankCode::Kookmin, "1000000005", 7_000, at);
    let held = Holdings { deposits: vec![held_deposit(&a), held_deposit(&b), held_deposit(&c), held_deposit(&d)], reversals: vec![] };
    let statement = vec![
        StatementEntry::Deposit(a.clone()),
        StatementEntry::Deposit(DepositNotice { amount: Krw::new(21_000), ..b.clone() }),
        StatementEntry::Deposit(DepositNotice { account_number: "1000000099".parse().unwrap(), ..c.clone() }),
        StatementEntry::Deposit(lost.clone()),
    ];
    let lines = compare(day(), &statement, &held, &BTreeSet::new());
    assert_eq!(line(&lines, "T-A").verdict, Verdict::Matched);
    assert_eq!(kinds(line(&lines, "T-B")), [DifferenceKind::AmountMismatch]);
    assert_eq!(kinds(line(&lines, "T-C")), [DifferenceKind::AccountMismatch]);
    assert_eq!(line(&lines, "T-LOST").verdict, Verdict::Recover);
    assert_eq!(kinds(line(&lines, "T-D")), [DifferenceKind::MissingAtProvider]);
    assert_eq!(line(&lines, "T-D").row, None);
    assert_eq!(to_recover(&statement, &lines), [&statement[3]]);
    let counts = KindCounts::of(&differences(&lines));
    assert_eq!((counts.amount_mismatch, counts.account_mismatch, counts.missing_at_provider, counts.reversal_mismatch), (1, 1, 1, 0));
}

#[test]
fn a_reversal_is_recovered_only_when_its_deposit_is_ours_or_recovered() {
    let at = midnight() + Duration::hours(9);
    let ours = notice("T-OURS", BankCode::Shinhan, "2000000001", 1_000, at);
    let lost = notice("T-LOST", BankCode::Shinhan, "2000000002", 2_000, at);
    let held = Holdings { deposits: vec![held_deposit(&ours)], reversals: vec![] };
    let statement = vec![
        // The reversal of a lost deposit comes before the deposit: order does not matter.
        StatementEntry::Reversal(reversal("R-LOST", "T-LOST", at + Duration::hours(1))),
        StatementEntry::Deposit(ours.clone()),
        StatementEntry::Deposit(lost.clone()),
        StatementEntry::Reversal(reversal("R-OURS", "T-OURS", at + Duration::hours(1))),
        StatementEntry::Reversal(reversal("R-NOBODY", "T-NOBODY", at + Duration::hours(1))),
    ];
    let lines = compare(day(), &statement, &held, &BTreeSet::new());
    assert_eq!(line(&lines, "R-LOST").verdict, Verdict::Recover);
    assert_eq!(line(&lines, "R-OURS").verdict, Verdict::Recover);
    assert_eq!(kinds(line(&lines, "R-NOBODY")), [DifferenceKind::ReversalMismatch]);
    let order: Vec<&str> = to_recover(&statement, &lines).iter().map(|e| e.transaction_id().as_str()).collect();
    assert_eq!(order, ["T-LOST", "R-LOST", "R-OURS"], "deposits first");
}

#[test]
fn reversals_are_matched_by_claim_or_by_the_reversed_deposit() {
    let at = midnight() + Duration::hours(9);
    let first = notice("T-1", BankCode::Kookmin, "3000000001", 1_000, at);
    let second = notice("T-2", BankCode::Kookmin, "3000000002", 1_000, at);
    let third = notice("T-3", BankCode::Kookmin, "3000000003", 1_000, at);
    let later = at + Duration::hours(2);
    let held = Holdings {
        deposits: vec![reversed(held_deposit(&first), "R-1", later), held_deposit(&second), reversed(held_deposit(&third), "R-3", later)],
        // A second reversal of T-1, recorded without effect; and R-X, recorded against T-2.
        reversals: vec![
            RecordedReversal { transaction_id: tx("R-1B"), original_transaction_id: tx("T-1") },
            RecordedReversal { transaction_id: tx("R-X"), original_transaction_id: tx("T-2") },
        ],
    };
    let statement = vec![
        StatementEntry::Deposit(first),
        StatementEntry::Deposit(second),
        StatementEntry::Deposit(third),
        StatementEntry::Reversal(reversal("R-1", "T-1", later)),
        StatementEntry::Reversal(reversal("R-1B", "T-1", later)),
        StatementEntry::Reversal(reversal("R-X", "T-3", later)),
        StatementEntry::Reversal(reversal("T-2", "T-3", later)),
    ];
    let lines = compare(day(), &statement, &held, &BTreeSet::new());
    assert_eq!(line(&lines, "R-1").verdict, Verdict::Matched);
    assert_eq!(line(&lines, "R-1B").verdict, Verdict::Matched);
    assert_eq!(kinds(line(&lines, "R-X")), [DifferenceKind::ReversalMismatch], "we hold it as the reversal of T-2");
    assert_eq!(kinds(lines.iter().find(|l| l.kind == EntryKind::Reversal && l.transaction_id.as_str() == "T-2").unwrap()), [DifferenceKind::ReversalMismatch]);
    let missing: Vec<&str> = lines.iter().filter(|l| l.row.is_none()).map(|l| l.transaction_id.as_str()).collect();
    assert_eq!(missing, ["R-3"], "our reversal of the day that the statement lacks");
}

#[test]
fn what_we_hold_from_other_days_is_not_missing_from_this_one() {
    let yesterday = midnight() - Duration::minutes(1);
    let old = held_deposit(&notice("T-OLD", BankCode::Kookmin, "4000000001", 1_000, yesterday));
    let old_reversed_today = reversed(held_deposit(&notice("T-OLD2", BankCode::Kookmin, "4000000002", 1_000, yesterday)), "R-OLD2", midnight());
    let lines = compare(day(), &[], &Holdings { deposits: vec![old, old_reversed_today], reversals: vec![] }, &BTreeSet::new());
    let missing: Vec<(&str, EntryKind)> = lines.iter().map(|l| (l.transaction_id.as_str(), l.kind)).collect();
    assert_eq!(missing, [("R-OLD2", EntryKind::Reversal)]);
}

#[test]
fn a_recovered_row_stays_recovered() {
    let at = midnight() + Duration::hours(1);
    let lost = notice("T-LOST", BankCode::Kookmin, "5000000001", 1_000, at);
    let statement = vec![StatementEntry::Deposit(lost.clone())];
    let held = Holdings { deposits: vec![held_deposit(&lost)], reversals: vec![] };
    let lines = compare(day(), &statement, &held, &[tx("T-LOST")].into_iter().collect());
    assert_eq!(lines[0].verdict, Verdict::Recovered);
    assert_eq!(tally(&lines), (1, 0, 1));
}

/// What happens to one of our deposits in a random statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Agrees,
    AmountDiffers,
    AccountDiffers,
    BothDiffer,
    /// The statement lacks it.
    Unlisted,
    /// We never received it.
    Lost,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        4 => Just(Fate::Agrees),
        1 => Just(Fate::AmountDiffers),
        1 => Just(Fate::AccountDiffers),
        1 => Just(Fate::BothDiffer),
        1 => Just(Fate::Unlisted),
        1 => Just(Fate::Lost),
    ]
}

/// Reversal of a deposit: none; on both sides; only ours; only the statement's.
fn reversal_fate() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8)]
}

#[derive(Debug, Clone)]
struct Planted {
    notice: DepositNotice,
    fate: Fate,
    reversal: u8,
}

fn planted() -> impl Strategy<Value = Vec<Planted>> {
    prop::collection::vec((1i64..=10_000_000, 0i64..1440, any::<bool>(), fate(), reversal_fate()), 0..24).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (amount, minute, shinhan, fate, reversal))| Planted {
                notice: notice(
                    &format!("T-{i}"),
                    if shinhan { BankCode::Shinhan } else { BankCode::Kookmin },
                    &format!("60000{i:05}"),
                    amount,
                    midnight() + Duration::minutes(minute),
                ),
                fate,
                reversal,
            })
            .collect()
    })
}

/// Our holdings and the provider's statement for the planted day, the statement shuffled.
fn world(planted: &[Planted], order: &[usize]) -> (Holdings, Vec<StatementEntry>) {
    let mut held = Holdings::default();
    let mut statement = Vec::new();
    for p in planted {
        let rev_at = p.notice.deposited_at + Duration::seconds(30);
        let rev_id = format!("R-{}", p.notice.transaction_id);
        if p.fate != Fate::Lost {
            let mut ours = held_deposit(&p.notice);
            if p.reversal == 1 || p.reversal == 2 {
                ours = reversed(ours, &rev_id, rev_at);
            }
            held.deposits.push(ours);
        }
        let mut theirs = p.notice.clone();
        match p.fate {
            Fate::AmountDiffers => theirs.amount = Krw::new(theirs.amount.won() + 1),
            Fate::AccountDiffers => theirs.account_number = "69999999999".parse().unwrap(),
            Fate::BothDiffer => {
                theirs.amount = Krw::new(theirs.amount.won() + 1);
                theirs.bank_code = BankCode::Woori;
            }
            _ => {}
        }
        if p.fate != Fate::Unlisted {
            statement.push(StatementEntry::Deposit(theirs));
        }
        if p.reversal == 1 || p.reversal == 3 {
            statement.push(StatementEntry::Reversal(reversal(&rev_id, p.notice.transaction_id.as_str(), rev_at)));
        }
    }
    let shuffled = order.iter().filter_map(|&i| statement.get(i).cloned()).collect::<Vec<_>>();
    let statement = if shuffled.len() == statement.len() { shuffled } else { statement };
    (held, statement)
}

proptest! {
    #[test]
    fn every_statement_row_gets_one_verdict_and_every_planted_difference_is_found(
        planted in planted(),
        order in Just((0..48usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let (held, statement) = world(&planted, &order);
        let lines = compare(day(), &statement, &held, &BTreeSet::new());

        // Statement rows: each exactly once, in order, under its own transaction id.
        let rows: Vec<usize> = lines.iter().filter_map(|l| l.row).collect();
        prop_assert_eq!(rows, (0..statement.len()).collect::<Vec<_>>());
        for l in lines.iter().filter(|l| l.row.is_some()) {
            prop_assert_eq!(&l.transaction_id, statement[l.row.unwrap()].transaction_id());
        }
        // What only we hold: each once, never a statement row, always missing at the provider.
        let named: BTreeSet<&TransactionId> = statement.iter().map(StatementEntry::transaction_id).collect();
        let ours_only: Vec<&Line> = lines.iter().filter(|l| l.row.is_none()).collect();
        let distinct: BTreeSet<&TransactionId> = ours_only.iter().map(|l| &l.transaction_id).collect();
        prop_assert_eq!(distinct.len(), ours_only.len());
        for l in &ours_only {
            prop_assert!(!named.contains(&l.transaction_id));
            prop_assert_eq!(kinds(l), vec![DifferenceKind::MissingAtProvider]);
        }

        for p in &planted {
            let id = p.notice.transaction_id.as_str();
            let deposit_line = lines.iter().find(|l| l.kind == EntryKind::Deposit && l.transaction_id.as_str() == id).unwrap();
            let expected = match p.fate {
                Fate::Agrees | Fate::Lost => vec![],
                Fate::AmountDiffers => vec![DifferenceKind::AmountMismatch],
                Fate::AccountDiffers => vec![DifferenceKind::AccountMismatch],
                Fate::BothDiffer => vec![DifferenceKind::AmountMismatch, DifferenceKind::AccountMismatch],
                Fate::Unlisted => vec![DifferenceKind::MissingAtProvider],
            };
            prop_assert_eq!(kinds(deposit_line), expected, "{}", id);
            prop_assert_eq!(deposit_line.verdict == Verdict::Recover, p.fate == Fate::Lost, "{}", id);
            let rev_id = format!("R-{id}");
            let reversal_line = lines.iter().find(|l| l.transaction_id.as_str() == rev_id);
            match p.reversal {
                0 => prop_assert!(reversal_line.is_none()),
                1 if p.fate == Fate::Lost => prop_assert_eq!(&reversal_line.unwrap().verdict, &Verdict::Recover),
                1 => prop_assert_eq!(&reversal_line.unwrap().verdict, &Verdict::Matched),
                2 if p.fate == Fate::Lost => prop_assert!(reversal_line.is_none(), "we hold neither"),
                2 => prop_assert_eq!(kinds(reversal_line.unwrap()), vec![DifferenceKind::MissingAtProvider]),
                _ => prop_assert_eq!(&reversal_line.unwrap().verdict, &Verdict::Recover),
            }
        }
    }

    #[test]
    fn recording_what_was_recoverable_leaves_nothing_to_recover_and_the_same_differences(planted in planted()) {
        let (mut held, statement) = world(&planted, &[]);
        let lines = compare(day(), &statement, &held, &BTreeSet::new());
        let mut recovered = BTreeSet::new();
        for entry in to_recover(&statement, &lines) {
            recovered.insert(entry.transaction_id().clone());
            match entry {
                StatementEntry::Deposit(n) => held.deposits.push(held_deposit(n)),
                StatementEntry::Reversal(r) => held.reversals.push(RecordedReversal {
                    transaction_id: r.transaction_id.clone(),
                    original_transaction_id: r.original_transaction_id.clone(),
                }),
            }
        }
        let again = compare(day(), &statement, &held, &recovered);
        prop_assert!(to_recover(&statement, &again).is_empty());
        prop_assert_eq!(differences(&again), differences(&lines));
        let (rows, matched, was_recovered) = tally(&again);
        prop_assert_eq!(was_recovered, recovered.len() as u64);
        prop_assert_eq!(rows, matched + was_recovered + again.iter().filter(|l| l.row.is_some() && matches!(l.verdict, Verdict::Differs { .. })).count() as u64);
        let third = compare(day(), &statement, &held, &recovered);
        prop_assert_eq!(third, again, "a re-run is the same");
    }

    #[test]
    fn a_statement_equal_to_our_deposits_is_no_work(planted in planted()) {
        let agreeing: Vec<Planted> = planted.into_iter().map(|p| Planted { fate: Fate::Agrees, reversal: if p.reversal == 0 { 0 } else { 1 }, ..p }).collect();
        let (held, statement) = world(&agreeing, &[]);
        let lines = compare(day(), &statement, &held, &BTreeSet::new());
        prop_assert!(lines.iter().all(|l| l.verdict == Verdict::Matched));
        prop_assert_eq!(lines.len(), statement.len());
        prop_assert!(to_recover(&statement, &lines).is_empty());
        prop_assert!(differences(&lines).is_empty());
    }
}
