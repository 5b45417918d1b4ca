//! Daily reconciliation on both backends: a provider's statement holding a deposit and a
//! reversal we never received, an amount and an account that differ, and one of our deposits it
//! lacks. The lost notices are recorded once through the normal deposit path, the differences
//! are reported and announced once, the report file reads back through Python's `csv`, and a
//! re-run changes nothing. Then the schedule: waiting for a statement, reporting it missing
//! once, reconciling it when it arrives.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vaccount::app::alerts::AlertConsumer;
use vaccount::app::consumer::{Consumer, Received};
use vaccount::app::reconcile::{DayOutcome, Reconciler};
use vaccount::app::{AppError, Service};
use vaccount::domain::deposit::DepositNotice;
use vaccount::domain::event::StatementFault;
use vaccount::domain::reconciliation::DifferenceKind;
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{
    AccountRequest, AccountType, BankCode, DepositStatus, EventData, EventType, Krw, MerchantId, Metadata, OutboxEvent, ProviderId, Status, VirtualAccount,
};
use vaccount::ports::BlobStore;
use vaccount::providers::alerting::FileAlertChannel;
use vaccount::providers::statement::{BlobStatements, statement_key};
use vaccount::repo;
use vaccount::repo::checkpoints::{Checkpoint, ReconciliationRun};
use vaccount::store::LocalBlobs;
use vaccount::testing::{Backend, FixedClock, TestTable};

use vaccount::on_both_backends;

on_both_backends!(
    a_lost_deposit_is_recovered_exactly_once_and_the_planted_differences_are_reported,
    a_statement_with_one_bad_row_imports_nothing,
    the_schedule_waits_for_a_statement_reports_it_missing_once_then_reconciles_it,
    a_second_reversal_we_recorded_is_found_under_its_own_key,
);

/// Tuesday 2026-11-24, 10:00 KST.
fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

fn day() -> NaiveDate {
    "2026-11-24".parse().unwrap()
}

fn bank() -> ProviderId {
    "bank".parse().unwrap()
}

struct World {
    _t: TestTable,
    files: tempfile::TempDir,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    blobs: Arc<LocalBlobs>,
    reconciler: Reconciler,
    mall: MerchantId,
}

async fn world(backend: Backend) -> World {
    let (t, clock, service, mall) = vaccount::testing::mall(backend, t0()).await;
    let files = tempfile::tempdir().unwrap();
    let blobs = Arc::new(LocalBlobs::new(files.path().join("blobs")));
    let source = Arc::new(BlobStatements::new(blobs.clone()));
    let reconciler = Reconciler::new(service.clone(), blobs.clone(), source, files.path().join("work"));
    World { _t: t, files, clock, service, blobs, reconciler, mall }
}

async fn issue(w: &World, order: &str, kind: AccountType, amount: Option<i64>) -> VirtualAccount {
    let request = AccountRequest {
        order_id: order.parse().unwrap(),
        kind,
        amount: amount.map(Krw::new),
        bank_code: BankCode::Kookmin,
        due_at: (kind == AccountType::OneTime).then(|| t0() + Duration::hours(72)),
        allow_partial: false,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    w.service.accounts().issue_account(&w.mall, None, request).await.unwrap()
}

async fn deposit(w: &World, tx: &str, account: &VirtualAccount, amount: i64, minutes: i64) {
    let notice = DepositNotice {
        provider: bank(),
        transaction_id: tx.parse().unwrap(),
        bank_code: account.bank_code,
        account_number: account.account_number.clone(),
        amount: Krw::new(amount),
        depositor_name: Some("홍길동".into()),
        deposited_at: t0() + Duration::minutes(minutes),
    };
    w.service.deposits().record_deposit(notice).await.unwrap();
}

/// The accounts of the planted day.
struct Day {
    lost_to: VirtualAccount,
    reversed_on: VirtualAccount,
}

/// Five deposits we received; the statement below agrees on two, has another amount for T-2,
/// another account for T-3, lacks T-4, and has T-LOST and the reversal R-5 that never reached us.
async fn plant_the_day(w: &World) -> (Day, Vec<u8>) {
    let a = issue(w, "A", AccountType::OneTime, Some(35_000)).await;
    let b = issue(w, "B", AccountType::OneTime, Some(20_000)).await;
    let c = issue(w, "C", AccountType::Fixed, None).await;
    let d = issue(w, "D", AccountType::OneTime, Some(15_000)).await;
    let e = issue(w, "E", AccountType::Fixed, None).await;
    let f = issue(w, "F", AccountType::OneTime, Some(30_000)).await;
    deposit(w, "T-1", &a, 35_000, 1).await;
    deposit(w, "T-2", &b, 20_000, 2).await;
    deposit(w, "T-3", &c, 10_000, 3).await;
    deposit(w, "T-4", &d, 15_000, 4).await;
    deposit(w, "T-5", &e, 5_000, 5).await;
    let rows = [
        format!("deposit,T-1,,004,{},35000,홍길동,2026-11-24T10:01:00+09:00", a.account_number),
        format!("deposit,T-2,,004,{},21000,\"Kim, \"\"Jr\"\"\",2026-11-24T10:02:00+09:00", b.account_number),
        "deposit,T-3,,004,99999999999999,10000,,2026-11-24T10:03:00+09:00".to_owned(),
        format!("deposit,T-5,,004,{},5000,,2026-11-24T10:05:00+09:00", e.account_number),
        format!("deposit,T-LOST,,004,{},30000,홍길동,2026-11-24T11:00:00+09:00", f.account_number),
        "reversal,R-5,T-5,,,,,2026-11-24T15:00:00+09:00".to_owned(),
    ];
    let mut statement = "\u{feff}type,transaction_id,original_transaction_id,bank_code,account_number,amount,depositor_name,occurred_at\r\n".to_owned();
    for row in rows {
        statement.push_str(&row);
        statement.push_str("\r\n");
    }
    (Day { lost_to: f, reversed_on: e }, statement.into_bytes())
}

async fn merchant_events(w: &World) -> Vec<OutboxEvent> {
    repo::outbox::all_for(w.service.table().as_ref(), w.mall.as_str()).await.unwrap()
}

async fn ops_events(w: &World, kind: EventType) -> Vec<OutboxEvent> {
    repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap().into_iter().filter(|e| e.kind() == kind).collect()
}

fn report_path(w: &World) -> PathBuf {
    w.files.path().join("blobs/reconciliation/bank/2026/11/24/reconciliation-bank-20261124.csv")
}

/// The report file's rows as Python's `csv` reads them (`utf-8-sig`: what Excel does with the BOM).
fn read_with_python(path: &Path) -> Vec<Vec<String>> {
    let script = "import csv, json, sys\nwith open(sys.argv[1], encoding='utf-8-sig', newline='') as f:\n    print(json.dumps(list(csv.reader(f))))";
    serde_json::from_value(vaccount::testing::python_json([std::ffi::OsStr::new("-c"), script.as_ref(), path.as_os_str()])).unwrap()
}

async fn a_lost_deposit_is_recovered_exactly_once_and_the_planted_differences_are_reported(backend: Backend) {
    let w = world(backend).await;
    let (planted, statement) = plant_the_day(&w).await;
    let table = w.service.table().clone();
    let events_before = merchant_events(&w).await.len();
    w.clock.set(parse_rfc3339("2026-11-25T07:00:00+09:00").unwrap());

    let report = w.reconciler.reconcile_day(&bank(), day(), &statement).await.unwrap();
    let s = &report.summary;
    assert_eq!((s.statement_rows, s.matched, s.recovered, s.differences), (6, 2, 2, 3));
    let k = &s.by_kind;
    assert_eq!((k.amount_mismatch, k.account_mismatch, k.missing_at_provider, k.reversal_mismatch), (1, 1, 1, 0));
    let found: Vec<(DifferenceKind, &str)> = report.differences.iter().map(|d| (d.kind, d.transaction_id.as_str())).collect();
    assert_eq!(found, [(DifferenceKind::AmountMismatch, "T-2"), (DifferenceKind::AccountMismatch, "T-3"), (DifferenceKind::MissingAtProvider, "T-4")]);
    let recovered: Vec<&str> = report.recovered.iter().map(|r| r.transaction_id.as_str()).collect();
    assert_eq!(recovered, ["T-LOST", "R-5"]);

    // The lost deposit went the normal way: one matched deposit, the account paid, its events.
    let lost = repo::deposits::for_account(table.as_ref(), &planted.lost_to.id, 10, None).await.unwrap().items;
    assert_eq!(lost.len(), 1);
    assert_eq!((lost[0].transaction_id.as_str(), lost[0].status, lost[0].amount), ("T-LOST", DepositStatus::Matched, Krw::new(30_000)));
    assert_eq!(report.recovered[0].deposit_id.as_ref(), Some(&lost[0].id));
    let account = repo::accounts::get(table.as_ref(), &planted.lost_to.id).await.unwrap().unwrap();
    assert_eq!((account.status, account.paid_amount), (Status::Paid, Krw::new(30_000)));
    // The lost reversal took T-5's 5,000 back from its fixed account.
    let reversed = repo::deposits::get_by_transaction(table.as_ref(), &bank(), &"T-5".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(reversed.status, DepositStatus::Reversed);
    assert_eq!(repo::accounts::get(table.as_ref(), &planted.reversed_on.id).await.unwrap().unwrap().paid_amount, Krw::ZERO);
    let new_events: Vec<EventType> = merchant_events(&w).await[events_before..].iter().map(|e| e.kind()).collect();
    assert_eq!(new_events.iter().filter(|k| **k == EventType::DepositMatched).count(), 1);
    assert_eq!(new_events.iter().filter(|k| **k == EventType::AccountPaid).count(), 1);
    assert_eq!(new_events.iter().filter(|k| **k == EventType::DepositReversed).count(), 1);

    // Reported: stored differences, one ops event, the file.
    let stored = repo::reconciliation::differences(table.as_ref(), &bank(), day()).await.unwrap();
    assert_eq!(stored.len(), 3);
    let stored_report = repo::reconciliation::get_report(table.as_ref(), &bank(), day()).await.unwrap().unwrap();
    assert_eq!(&stored_report, s);
    let mismatches = ops_events(&w, EventType::ReconciliationMismatch).await;
    assert_eq!(mismatches.len(), 1);
    let EventData::ReconciliationMismatch(mismatch) = &mismatches[0].data else { panic!("not reconciliation.mismatch: {:?}", mismatches[0]) };
    assert_eq!((mismatch.provider.as_str(), mismatch.differences), ("bank", 3));
    let bytes = std::fs::read(report_path(&w)).unwrap();
    assert!(bytes.starts_with("\u{feff}대사일,".as_bytes()), "UTF-8 with a BOM");
    assert_eq!(bytes.windows(2).filter(|p| p == b"\r\n").count(), 8, "CRLF after the header and each of 7 rows");
    assert_eq!((s.file.name.as_str(), s.file.bytes), ("reconciliation-bank-20261124.csv", bytes.len() as u64));
    let rows = read_with_python(&report_path(&w));
    assert_eq!(rows[0][..6], ["대사일", "제공사", "구분", "거래번호", "원거래번호", "대사결과"]);
    let outcome: Vec<(&str, &str)> = rows[1..].iter().map(|r| (r[3].as_str(), r[5].as_str())).collect();
    assert_eq!(
        outcome,
        [("T-1", "일치"), ("T-2", "금액 불일치"), ("T-3", "계좌 불일치"), ("T-5", "일치"), ("T-LOST", "복구"), ("R-5", "복구"), ("T-4", "제공사 누락")]
    );
    assert_eq!((rows[2][8].as_str(), rows[2][13].as_str()), ("21000", "20000"), "the provider's amount and ours");
    assert_eq!((rows[3][7].as_str(), rows[3][12].as_str()), ("99999999999999", planted_number(&w, "T-3").await.as_str()));

    // The ops alert is about the provider.
    let dir = tempfile::tempdir().unwrap();
    let alerts = AlertConsumer::new(w.service.clone(), Arc::new(FileAlertChannel::new(dir.path().join("alerts.jsonl"))));
    let body = serde_json::to_string(&mismatches[0]).unwrap();
    alerts.consume(&Received { id: "m".into(), body, receive_count: 1 }).await.unwrap();
    let incidents = w.service.incidents().list_incidents(None, 10, None).await.unwrap().items;
    assert_eq!((incidents.len(), incidents[0].kind.as_str(), incidents[0].subject.as_str()), (1, "reconciliation.mismatch", "bank"));

    // Again, later: nothing recorded, nothing announced, the same report and file.
    let events_after = merchant_events(&w).await;
    w.clock.set(parse_rfc3339("2026-11-25T09:00:00+09:00").unwrap());
    let again = w.reconciler.reconcile_day(&bank(), day(), &statement).await.unwrap();
    assert_eq!(again, report);
    assert_eq!(std::fs::read(report_path(&w)).unwrap(), bytes, "the file is rewritten byte for byte");
    assert_eq!(merchant_events(&w).await, events_after, "no deposit or account event");
    assert_eq!(repo::deposits::for_account(table.as_ref(), &planted.lost_to.id, 10, None).await.unwrap().items.len(), 1);
    assert_eq!(ops_events(&w, EventType::ReconciliationMismatch).await.len(), 1);
    assert_eq!(repo::reconciliation::get_report(table.as_ref(), &bank(), day()).await.unwrap().unwrap().version, 1);

    // The lost callback finally arrives: answered from the recovered deposit, no new effect.
    let late = DepositNotice {
        provider: bank(),
        transaction_id: "T-LOST".parse().unwrap(),
        bank_code: BankCode::Kookmin,
        account_number: planted.lost_to.account_number.clone(),
        amount: Krw::new(30_000),
        depositor_name: Some("홍길동".into()),
        deposited_at: parse_rfc3339("2026-11-24T11:00:00+09:00").unwrap(),
    };
    let answer = w.service.deposits().record_deposit(late).await.unwrap();
    assert_eq!(answer.deposit_id.as_ref(), Some(&lost[0].id));
    assert_eq!(merchant_events(&w).await, events_after);

    // The provider corrects T-2's amount: a new outcome, recorded and announced; its difference gone.
    let corrected = String::from_utf8(statement.clone()).unwrap().replace(",21000,", ",20000,");
    let fixed = w.reconciler.reconcile_day(&bank(), day(), corrected.as_bytes()).await.unwrap();
    assert_eq!((fixed.summary.differences, fixed.summary.matched, fixed.summary.version), (2, 3, 2));
    assert_eq!(repo::reconciliation::differences(table.as_ref(), &bank(), day()).await.unwrap().len(), 2);
    assert_eq!(ops_events(&w, EventType::ReconciliationMismatch).await.len(), 2);
}

/// The account number our deposit `tx` went to.
async fn planted_number(w: &World, tx: &str) -> String {
    let d = repo::deposits::get_by_transaction(w.service.table().as_ref(), &bank(), &tx.parse().unwrap()).await.unwrap().unwrap();
    d.account_number.to_string()
}

async fn a_statement_with_one_bad_row_imports_nothing(backend: Backend) {
    let w = world(backend).await;
    let (planted, statement) = plant_the_day(&w).await;
    let bad = format!("{}deposit,T-BAD,,004,12345600000019,0,,2026-11-24T12:00:00+09:00\r\n", String::from_utf8(statement).unwrap());
    let error = w.reconciler.reconcile_day(&bank(), day(), bad.as_bytes()).await.unwrap_err();
    let AppError::Invalid { errors, .. } = error else { panic!("refused as invalid: {error:?}") };
    assert_eq!(errors[0].field, "line 8: amount");
    assert!(repo::deposits::for_account(w.service.table().as_ref(), &planted.lost_to.id, 10, None).await.unwrap().items.is_empty());
    assert!(repo::reconciliation::get_report(w.service.table().as_ref(), &bank(), day()).await.unwrap().is_none());
    assert!(!report_path(&w).exists());
}

async fn the_schedule_waits_for_a_statement_reports_it_missing_once_then_reconciles_it(backend: Backend) {
    let w = world(backend).await;
    let (planted, statement) = plant_the_day(&w).await;
    let at = |text: &str| parse_rfc3339(text).unwrap();
    let outcomes = |runs: Vec<vaccount::app::reconcile::DayRun>| runs.into_iter().map(|r| (r.date, r.outcome)).collect::<Vec<_>>();

    w.clock.set(at("2026-11-25T05:59:00+09:00"));
    assert!(w.reconciler.run_due().await.unwrap().is_empty(), "before 06:00 KST nothing runs");
    w.clock.set(at("2026-11-25T06:00:00+09:00"));
    assert_eq!(outcomes(w.reconciler.run_due().await.unwrap()), [(day(), DayOutcome::Waiting)]);
    assert!(ops_events(&w, EventType::ReconciliationStatementMissing).await.is_empty());
    w.clock.set(at("2026-11-25T12:00:00+09:00"));
    assert_eq!(outcomes(w.reconciler.run_due().await.unwrap()), [(day(), DayOutcome::Missing)]);
    w.clock.set(at("2026-11-25T12:01:00+09:00"));
    assert_eq!(outcomes(w.reconciler.run_due().await.unwrap()), [(day(), DayOutcome::Missing)]);
    let missing = ops_events(&w, EventType::ReconciliationStatementMissing).await;
    assert_eq!(missing.len(), 1, "told once");
    let EventData::ReconciliationStatementMissing(late) = &missing[0].data else { panic!("not reconciliation.statement_missing: {:?}", missing[0]) };
    assert_eq!((late.provider.as_str(), &late.fault), ("bank", &StatementFault::Missing));
    assert!(Checkpoint::<ReconciliationRun>::read(w.service.table().as_ref()).await.unwrap().position.is_none(), "the day is not done");

    // The provider drops its file into the store; the next check reconciles the day.
    let dropped = w.files.path().join("statement.csv");
    std::fs::write(&dropped, &statement).unwrap();
    w.blobs.put_file(&statement_key(&bank(), day()).unwrap(), &dropped, "text/csv").await.unwrap();
    w.clock.set(at("2026-11-25T12:02:00+09:00"));
    let runs = w.reconciler.run_due().await.unwrap();
    let shown = serde_json::to_value(&runs).unwrap();
    assert_eq!(
        (shown[0]["provider"].as_str(), shown[0]["outcome"].as_str(), shown[0]["report"]["recovered"].as_u64()),
        (Some("bank"), Some("reconciled"), Some(2))
    );
    let [run] = runs.as_slice() else { panic!("one run: {runs:?}") };
    let DayOutcome::Reconciled { report } = &run.outcome else { panic!("reconciled: {run:?}") };
    assert_eq!((report.recovered, report.differences), (2, 3));
    assert_eq!(repo::accounts::get(w.service.table().as_ref(), &planted.lost_to.id).await.unwrap().unwrap().status, Status::Paid);
    assert_eq!(Checkpoint::<ReconciliationRun>::read(w.service.table().as_ref()).await.unwrap().position.map(|p| p.last_day), Some(day()));
    w.clock.set(at("2026-11-25T12:03:00+09:00"));
    assert!(w.reconciler.run_due().await.unwrap().is_empty(), "the day is done");
    assert_eq!(ops_events(&w, EventType::ReconciliationMismatch).await.len(), 1);
}

async fn a_second_reversal_we_recorded_is_found_under_its_own_key(backend: Backend) {
    use vaccount::domain::deposit::ReversalNotice;
    let w = world(backend).await;
    let fixed = issue(&w, "F", AccountType::Fixed, None).await;
    deposit(&w, "T-1", &fixed, 5_000, 1).await;
    for (tx, minutes) in [("R-1", 60), ("R-2", 61)] {
        let reversal = ReversalNotice {
            provider: bank(),
            transaction_id: tx.parse().unwrap(),
            original_transaction_id: "T-1".parse().unwrap(),
            occurred_at: t0() + Duration::minutes(minutes),
        };
        w.service.deposits().reverse_deposit(reversal).await.unwrap();
    }
    let statement = format!(
        "type,transaction_id,original_transaction_id,bank_code,account_number,amount,depositor_name,occurred_at\r\n\
         deposit,T-1,,004,{},5000,,2026-11-24T10:01:00+09:00\r\nreversal,R-1,T-1,,,,,2026-11-24T11:00:00+09:00\r\nreversal,R-2,T-1,,,,,2026-11-24T11:01:00+09:00\r\n",
        fixed.account_number
    );
    w.clock.set(parse_rfc3339("2026-11-25T07:00:00+09:00").unwrap());
    let report = w.reconciler.reconcile_day(&bank(), day(), statement.as_bytes()).await.expect("both reversals are ours: nothing to recover, no endless retry");
    assert!(report.recovered.is_empty(), "{:?}", report.recovered);
}
