//! Daily settlement on both backends: a day with matched, partial, overpaid, assigned and
//! reversed deposits, totals checked against figures computed by hand, files read back by
//! Python's `csv` and `openpyxl`, and a re-run that changes no byte.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use vaccount::app::exceptions::ExceptionAction;
use vaccount::app::settlements::Settlements;
use vaccount::app::{AppError, Service};
use vaccount::domain::deposit::{DepositNotice, Resolution, ReversalNotice};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{AccountRequest, AccountType, BankCode, DepositPolicy, EventData, EventType, Fee, Krw, MerchantId, Metadata, VirtualAccount};
use vaccount::ports::Clock;
use vaccount::repo;
use vaccount::store::LocalBlobs;
use vaccount::testing::{Backend, FixedClock, TestTable, table};

use vaccount::on_both_backends;

on_both_backends!(
    a_day_settles_to_hand_computed_totals_and_reruns_byte_identical,
    a_long_day_continues_on_further_sheets,
    a_late_notice_settles_on_the_day_it_is_recorded_and_the_settled_day_stays_as_it_was,
    a_notice_for_a_long_settled_day_settles_on_the_day_it_is_recorded,
    an_exported_day_never_changes_and_a_movement_after_it_goes_to_the_next_day,
    fees_are_the_terms_in_force_when_the_movement_was_recorded,
    days_exported_before_seals_existed_are_sealed_and_their_late_entries_reported,
);

/// Tuesday 2026-11-24, 10:00 KST.
fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

fn day(d: &str) -> NaiveDate {
    d.parse().unwrap()
}

struct World {
    _t: TestTable,
    files: tempfile::TempDir,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    settlements: Settlements,
    mall: MerchantId,
}

async fn world(backend: Backend) -> World {
    let (t, clock, service, mall) = vaccount::testing::mall(backend, t0()).await;
    let files = tempfile::tempdir().unwrap();
    let blobs = Arc::new(LocalBlobs::new(files.path().join("blobs")));
    let settlements = Settlements::new(&service, blobs, files.path().join("work"));
    World { _t: t, files, clock, service, settlements, mall }
}

async fn issue(w: &World, merchant: &MerchantId, order: &str, kind: AccountType, amount: Option<i64>, allow_partial: bool) -> VirtualAccount {
    let request = AccountRequest {
        order_id: order.parse().unwrap(),
        kind,
        amount: amount.map(Krw::new),
        bank_code: BankCode::Kookmin,
        due_at: (kind == AccountType::OneTime).then(|| t0() + Duration::hours(72)),
        allow_partial,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    w.service.accounts().issue_account(merchant, None, request).await.unwrap()
}

async fn deposit(w: &World, tx: &str, account: &VirtualAccount, amount: i64, at: DateTime<Utc>) {
    let notice = DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        bank_code: account.bank_code,
        account_number: account.account_number.clone(),
        amount: Krw::new(amount),
        depositor_name: Some("홍길동".into()),
        deposited_at: at,
    };
    w.service.deposits().record_deposit(notice).await.unwrap();
}

async fn reverse(w: &World, tx: &str, original: &str, at: DateTime<Utc>) {
    let notice = ReversalNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        original_transaction_id: original.parse().unwrap(),
        occurred_at: at,
    };
    w.service.deposits().reverse_deposit(notice).await.unwrap();
}

/// The day of the hand-computed figures below, on the 300-won flat fee (VAT 30 a deposit).
async fn plant_the_day(w: &World) -> MerchantId {
    let m = w.mall.clone();
    let minutes = |n: i64| t0() + Duration::minutes(n);
    let exact = issue(w, &m, "EXACT", AccountType::OneTime, Some(35_000), false).await;
    let partial = issue(w, &m, "PARTIAL", AccountType::OneTime, Some(35_000), true).await;
    let over = issue(w, &m, "OVER", AccountType::OneTime, Some(35_000), false).await;
    let strict = issue(w, &m, "STRICT", AccountType::OneTime, Some(35_000), false).await;
    let fixed = issue(w, &m, "FIXED", AccountType::Fixed, None, false).await;
    let target = issue(w, &m, "TARGET", AccountType::OneTime, Some(20_000), false).await;

    // Each movement is recorded at the minute it happens: a day's rows are in recording order.
    let at = |n: i64| {
        w.clock.set(minutes(n));
        minutes(n)
    };
    deposit(w, "T-EXACT", &exact, 35_000, at(1)).await; //           +35,000  1
    deposit(w, "T-PART", &partial, 10_000, at(2)).await; //          +10,000  1
    deposit(w, "T-OVER", &over, 50_000, at(3)).await; //             +35,000  1 (15,000 held)
    deposit(w, "T-UNDER", &strict, 10_000, at(4)).await; //          held: no entry
    deposit(w, "T-FIX", &fixed, 7_000, at(5)).await; //              +7,000   1
    deposit(w, "T-LATE", &fixed, 4_000, at(6)).await; //             +4,000   1 (reversed tomorrow)
    reverse(w, "T-FIX-R", "T-FIX", at(60)).await; //                 -7,000  -1
    // A deposit to a number nobody has, assigned by an operator the same day: +20,000, 1.
    let mut stray = exact.clone();
    stray.account_number = "99999999999999".parse().unwrap();
    deposit(w, "T-STRAY", &stray, 20_000, at(61)).await;
    let operator: vaccount::domain::OperatorName = "kim".parse().unwrap();
    vaccount::testing::active_operator(&w.service, operator.as_str(), vaccount::domain::operator::Role::Admin).await;
    let exc = repo::deposits::get_by_transaction(w.service.table().as_ref(), &"bank".parse().unwrap(), &"T-STRAY".parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .exception
        .unwrap()
        .id;
    w.clock.set(minutes(120));
    w.service.exceptions().act_on_exception(&operator, &exc, ExceptionAction::Resolve(Resolution::Assign { account: target.id.clone() })).await.unwrap();
    // The next day: the reversal of T-LATE, and a deposit of its own.
    let tomorrow = parse_rfc3339("2026-11-25T00:00:00+09:00").unwrap();
    w.clock.set(tomorrow + Duration::hours(1));
    reverse(w, "T-LATE-R", "T-LATE", tomorrow + Duration::minutes(30)).await;
    deposit(w, "T-NEXT", &fixed, 1_000, tomorrow).await;
    m
}

/// The CSV and XLSX of a settlement as Python's `csv` and `openpyxl` read them.
fn read_with_python(csv: &Path, xlsx: &Path) -> serde_json::Value {
    vaccount::testing::python_json([vaccount::testing::repo_root().join("scripts/settlement_files.py").as_path(), csv, xlsx])
}

fn stored(w: &World, merchant: &MerchantId, name: &str) -> PathBuf {
    w.files.path().join("blobs/settlements").join(merchant.as_str()).join("2026/11/24").join(name)
}

fn column(rows: &[serde_json::Value], index: usize) -> Vec<String> {
    rows.iter().skip(1).map(|r| r[index].as_str().unwrap().to_owned()).collect()
}

async fn a_day_settles_to_hand_computed_totals_and_reruns_byte_identical(backend: Backend) {
    let w = world(backend).await;
    let m = plant_the_day(&w).await;
    w.clock.set(parse_rfc3339("2026-11-25T00:30:00+09:00").unwrap());

    let s = w.settlements.export_day(&m, day("2026-11-24")).await.unwrap();
    let t = s.totals;
    assert_eq!((t.rows, t.deposit_count), (7, 5));
    assert_eq!((t.gross.won(), t.fee.won(), t.vat.won(), t.net.won()), (104_000, 1_500, 150, 102_350));
    assert_eq!(s.payout_date, day("2026-11-26"), "D+2 business days from a Tuesday");
    let names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["settlement-20261124.csv", "settlement-20261124.xlsx", "manifest.json"]);

    // The files say the same as the record, through a merchant's tools.
    let read = read_with_python(&stored(&w, &m, names[0]), &stored(&w, &m, names[1]));
    let rows = read["csv"].as_array().unwrap();
    assert_eq!(read["csv"], read["xlsx"], "the CSV and the XLSX hold the same rows");
    assert_eq!(rows[0][0], "정산일");
    assert_eq!((rows[0][1].as_str(), rows[0][2].as_str(), rows[0][12].as_str()), (Some("입금일시"), Some("기록일시"), Some("수수료 기준")));
    assert_eq!(column(rows, 14), ["35000", "10000", "35000", "7000", "4000", "-7000", "20000"], "amounts in recording order");
    assert_eq!(column(rows, 3), ["입금", "입금", "입금", "입금", "입금", "입금 취소", "예외 반영"]);
    assert_eq!(column(rows, 8)[..3], ["EXACT", "PARTIAL", "OVER"]);
    assert!(column(rows, 11).iter().all(|n| n == "홍*동"), "names are masked");
    assert!(column(rows, 12).iter().all(|t| t == "건당 300원"), "each row names the terms it was charged at");
    assert_eq!(column(rows, 1)[6], "2026-11-24 11:01:00", "the stray deposit's own time ...");
    assert_eq!(column(rows, 2)[6], "2026-11-24 12:00:00", "... and when its assignment was recorded");
    let net: i64 = column(rows, 17).iter().map(|n| n.parse::<i64>().unwrap()).sum();
    assert_eq!(net, 102_350, "the rows add up to the total");
    assert_eq!(read["frozen"][0], "A2", "the header row is frozen");
    assert_eq!(read["amount_formats"][0], "#,##0");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(stored(&w, &m, "manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["row_count"].as_u64(), manifest["net"].as_i64()), (Some(7), Some(102_350)));
    assert_eq!(manifest["fee_terms"], serde_json::json!([{"kind": "per_deposit", "value": 300}]));
    assert_eq!(manifest["files"][0]["sha256"], serde_json::json!(s.files[0].sha256));

    // Again, later: the same bytes, no new version, no second announcement.
    let before: Vec<Vec<u8>> = names.iter().map(|n| std::fs::read(stored(&w, &m, n)).unwrap()).collect();
    w.clock.set(parse_rfc3339("2026-11-25T09:00:00+09:00").unwrap());
    let again = w.settlements.export_day(&m, day("2026-11-24")).await.unwrap();
    assert_eq!(again, s);
    let after: Vec<Vec<u8>> = names.iter().map(|n| std::fs::read(stored(&w, &m, n)).unwrap()).collect();
    assert_eq!(before, after, "a re-run writes byte-identical files");
    let exported = repo::outbox::all_for(w.service.table().as_ref(), m.as_str()).await.unwrap();
    assert_eq!(exported.iter().filter(|e| e.kind() == EventType::SettlementExported).count(), 1);

    // The next day carries the late reversal and its own deposit.
    w.clock.set(parse_rfc3339("2026-11-26T00:30:00+09:00").unwrap());
    let next = w.settlements.export_day(&m, day("2026-11-25")).await.unwrap().totals;
    assert_eq!((next.rows, next.deposit_count, next.gross.won(), next.fee.won(), next.vat.won(), next.net.won()), (2, 0, -3_000, 0, 0, -3_000));

    // A rate merchant: 1.5 % of 12,345 is 185 (truncated), VAT 18.
    let rated = w.service.setup().create_merchant("Rated", Fee::RateBps(150), 0, DepositPolicy::default()).await.unwrap().merchant_id;
    let account = issue(&w, &rated, "R-1", AccountType::Fixed, None, false).await;
    w.clock.set(t0());
    deposit(&w, "T-RATED", &account, 12_345, t0()).await;
    w.clock.set(parse_rfc3339("2026-11-26T00:30:00+09:00").unwrap());
    let all = w.settlements.export_all(day("2026-11-24")).await.unwrap();
    let r = all.iter().find(|s| s.merchant_id == rated).unwrap();
    assert_eq!((r.totals.gross.won(), r.totals.fee.won(), r.totals.vat.won(), r.totals.net.won()), (12_345, 185, 18, 12_142));
    assert_eq!(r.payout_date, day("2026-11-24"), "D+0 on a business day is the day itself");
    assert_eq!(all.iter().find(|s| s.merchant_id == m).unwrap(), &s, "the mall's day was already settled: unchanged");

    let listed = w.settlements.list(&m, day("2026-11-01"), day("2026-11-30"), 100, None).await.unwrap();
    assert_eq!(listed.items.iter().map(|s| s.date).collect::<Vec<_>>(), [day("2026-11-24"), day("2026-11-25")]);
    // A page at a time: `limit` and the cursor of the page before.
    let first = w.settlements.list(&m, day("2026-11-01"), day("2026-11-30"), 1, None).await.unwrap();
    let second = w.settlements.list(&m, day("2026-11-01"), day("2026-11-30"), 1, first.next.clone()).await.unwrap();
    assert_eq!((first.items[0].date, second.items[0].date), (day("2026-11-24"), day("2026-11-25")));
    assert!(first.next.is_some());
}

async fn a_long_day_continues_on_further_sheets(backend: Backend) {
    let mut w = world(backend).await;
    w.settlements.rows_per_sheet = 3;
    let m = plant_the_day(&w).await;
    let s = w.settlements.export_day(&m, day("2026-11-24")).await.unwrap();
    let read = read_with_python(&stored(&w, &m, &s.files[0].name), &stored(&w, &m, &s.files[1].name));
    assert_eq!(read["sheets"], serde_json::json!(["정산내역", "정산내역 (2)", "정산내역 (3)"]));
    assert_eq!(read["csv"], read["xlsx"], "seven rows over sheets of three, each with the header");
    assert_eq!(read["frozen"], serde_json::json!(["A2", "A2", "A2"]));
}

/// More entries than a page per shard: the merge still yields every entry once, in order.
#[tokio::test]
async fn a_day_longer_than_a_page_per_shard_merges_in_order() {
    use vaccount::domain::settlement::{EntryKind, SettlementEntry};
    use vaccount::repo::settlements::{DayEntries, put_entry};
    let t = table(Backend::Embedded).await;
    let merchant: MerchantId = "mch_01KWFX0000000000000000MCH1".parse().unwrap();
    let start = t0();
    let entries: Vec<SettlementEntry> = (0..5_000i64)
        .map(|n| {
            // Times repeat (n / 3) so ties are broken by deposit id, as in the files.
            let at = start + Duration::milliseconds(n / 3);
            SettlementEntry {
                merchant_id: merchant.clone(),
                day: day("2026-11-24"),
                recorded_at: at,
                deposited_at: Some(at),
                kind: EntryKind::Deposit,
                deposit_id: vaccount::domain::DepositId::generate(at),
                provider: "bank".parse().unwrap(),
                transaction_id: format!("T-{n}").parse().unwrap(),
                virtual_account_id: vaccount::domain::VirtualAccountId::generate(at),
                order_id: format!("O-{n}").parse().unwrap(),
                bank_code: BankCode::Kookmin,
                account_number: "12345600000000".parse().unwrap(),
                depositor_name: None,
                amount: Krw::new(1_000 + n),
                deposits: 1,
                fee_terms: None,
                credit_before: None,
            }
        })
        .collect();
    for chunk in entries.chunks(100) {
        t.table.transact(chunk.iter().map(|e| put_entry(e).unwrap()).collect()).await.unwrap();
    }
    let mut expected: Vec<(i64, String)> = entries.iter().map(|e| (e.recorded_at.timestamp_millis(), e.deposit_id.to_string())).collect();
    expected.sort();
    let mut read = DayEntries::new(t.table.as_ref(), &merchant, day("2026-11-24"));
    let mut seen = Vec::new();
    while let Some(e) = read.next().await.unwrap() {
        seen.push((e.recorded_at.timestamp_millis(), e.deposit_id.to_string()));
    }
    assert_eq!(seen, expected);
    assert!(DayEntries::new(t.table.as_ref(), &merchant, day("2026-11-25")).next().await.unwrap().is_none(), "another day is empty");
}

async fn a_late_notice_settles_on_the_day_it_is_recorded_and_the_settled_day_stays_as_it_was(backend: Backend) {
    let w = world(backend).await;
    let fixed = issue(&w, &w.mall, "FIXED", AccountType::Fixed, None, false).await;
    deposit(&w, "T-1", &fixed, 10_000, t0()).await;
    w.clock.set(parse_rfc3339("2026-11-25T00:30:00+09:00").unwrap());
    assert_eq!(w.settlements.run_due().await.unwrap(), [day("2026-11-24")]);
    assert_eq!(w.settlements.run_due().await.unwrap(), Vec::<NaiveDate>::new(), "once a night");
    let first = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-24")).await.unwrap().unwrap();

    // A provider's retry after the export: deposited on the 24th, recorded at 01:00 on the 25th.
    w.clock.set(parse_rfc3339("2026-11-25T01:00:00+09:00").unwrap());
    deposit(&w, "T-LATE", &fixed, 5_000, parse_rfc3339("2026-11-24T23:59:30+09:00").unwrap()).await;
    w.clock.set(parse_rfc3339("2026-11-26T00:30:00+09:00").unwrap());
    assert_eq!(w.settlements.run_due().await.unwrap(), [day("2026-11-25")]);
    let settled = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-24")).await.unwrap().unwrap();
    assert_eq!(settled, first, "the 24th is final");
    let late = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-25")).await.unwrap().unwrap();
    assert_eq!((late.totals.deposit_count, late.totals.gross.won()), (1, 5_000));
    let announced = repo::outbox::all_for(w.service.table().as_ref(), w.mall.as_str()).await.unwrap();
    let dates: Vec<NaiveDate> = announced
        .iter()
        .filter_map(|e| match &e.data {
            EventData::SettlementExported(exported) => Some(exported.settlement.date),
            _ => None,
        })
        .collect();
    assert_eq!(dates, [day("2026-11-24"), day("2026-11-25")], "each day announced once");
}

/// Σ of the gross of every settlement the merchant has.
async fn settled_gross(w: &World) -> i64 {
    let all = w.settlements.list(&w.mall, day("2026-11-01"), day("2026-12-31"), 100, None).await.unwrap();
    all.items.iter().map(|s| s.totals.gross.won()).sum()
}

async fn nightly_at(w: &World, at: &str) -> Vec<NaiveDate> {
    w.clock.set(parse_rfc3339(at).unwrap());
    w.settlements.run_due().await.unwrap()
}

async fn a_notice_for_a_long_settled_day_settles_on_the_day_it_is_recorded(backend: Backend) {
    let w = world(backend).await;
    let fixed = issue(&w, &w.mall, "FIXED", AccountType::Fixed, None, false).await;
    deposit(&w, "T-1", &fixed, 10_000, t0()).await;
    nightly_at(&w, "2026-11-25T00:30:00+09:00").await;
    // Four days later the provider finally delivers a deposit made on the 24th.
    w.clock.set(parse_rfc3339("2026-11-28T10:00:00+09:00").unwrap());
    deposit(&w, "T-LATE", &fixed, 5_000, parse_rfc3339("2026-11-24T11:00:00+09:00").unwrap()).await;
    assert_eq!(nightly_at(&w, "2026-11-29T00:30:00+09:00").await, [day("2026-11-25"), day("2026-11-26"), day("2026-11-27"), day("2026-11-28")]);
    let recorded = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-28")).await.unwrap().unwrap();
    assert_eq!((recorded.totals.deposit_count, recorded.totals.gross.won()), (1, 5_000), "settled on the day vaccount recorded it");
    assert_eq!(settled_gross(&w).await, 15_000, "every credited won is in exactly one settlement");
}

async fn an_exported_day_never_changes_and_a_movement_after_it_goes_to_the_next_day(backend: Backend) {
    let w = world(backend).await;
    let fixed = issue(&w, &w.mall, "FIXED", AccountType::Fixed, None, false).await;
    deposit(&w, "T-1", &fixed, 10_000, t0()).await;
    nightly_at(&w, "2026-11-25T00:30:00+09:00").await;
    let exported = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-24")).await.unwrap().unwrap();
    // The clock steps back past midnight, or a transaction begun on the 24th commits late: the
    // movement cannot join the 24th, which was already paid out on its file.
    w.clock.set(parse_rfc3339("2026-11-24T23:59:59+09:00").unwrap());
    deposit(&w, "T-2", &fixed, 7_000, t0()).await;
    reverse(&w, "T-1R", "T-1", t0()).await;
    w.clock.set(parse_rfc3339("2026-11-25T09:00:00+09:00").unwrap());
    let again = w.settlements.export_day(&w.mall, day("2026-11-24")).await.unwrap();
    assert_eq!(again, exported, "an exported day is final");
    let stored = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-24")).await.unwrap().unwrap();
    assert_eq!(stored, exported);
    nightly_at(&w, "2026-11-26T00:30:00+09:00").await;
    let next = repo::settlements::get_settlement(w.service.table().as_ref(), &w.mall, day("2026-11-25")).await.unwrap().unwrap();
    assert_eq!((next.totals.rows, next.totals.deposit_count, next.totals.gross.won()), (2, 0, -3_000), "the deposit and the reversal, on the next open day");
    assert_eq!(settled_gross(&w).await, 7_000);
    let announced = repo::outbox::all_for(w.service.table().as_ref(), w.mall.as_str()).await.unwrap();
    assert_eq!(announced.iter().filter(|e| e.kind() == EventType::SettlementExported).count(), 2, "one announcement a day");
    let today = w.settlements.export_day(&w.mall, day("2026-11-26")).await;
    assert!(matches!(today, Err(vaccount::app::AppError::Invalid { .. })), "a day is settled once it is over: {today:?}");
}

async fn fees_are_the_terms_in_force_when_the_movement_was_recorded(backend: Backend) {
    let w = world(backend).await;
    let fixed = issue(&w, &w.mall, "FIXED", AccountType::Fixed, None, false).await;
    deposit(&w, "T-1", &fixed, 10_000, t0()).await; // at 300 won
    // The merchant's terms change before the 24th is exported.
    w.clock.set(parse_rfc3339("2026-11-24T18:00:00+09:00").unwrap());
    let table = w.service.table().as_ref();
    let mut merchant = repo::merchants::get_merchant(table, &w.mall).await.unwrap().unwrap();
    let version = merchant.version;
    merchant.fee = Fee::PerDeposit(Krw::new(500));
    merchant.version += 1;
    table.transact(vec![repo::merchants::put_merchant(&merchant, vaccount::ports::Condition::VersionIs(version)).unwrap()]).await.unwrap();
    deposit(&w, "T-2", &fixed, 10_000, w.clock.now()).await; // at 500 won
    nightly_at(&w, "2026-11-25T00:30:00+09:00").await;
    w.clock.set(parse_rfc3339("2026-11-25T10:00:00+09:00").unwrap());
    reverse(&w, "T-1R", "T-1", w.clock.now()).await; // gives back the 300 it was charged
    nightly_at(&w, "2026-11-26T00:30:00+09:00").await;
    let first = repo::settlements::get_settlement(table, &w.mall, day("2026-11-24")).await.unwrap().unwrap().totals;
    assert_eq!((first.fee.won(), first.vat.won(), first.net.won()), (800, 80, 19_120), "300 then 500, each at its own terms");
    let second = repo::settlements::get_settlement(table, &w.mall, day("2026-11-25")).await.unwrap().unwrap().totals;
    assert_eq!((second.fee.won(), second.vat.won(), second.net.won()), (-300, -30, -9_670), "the reversal mirrors the fee it undoes");
}

async fn days_exported_before_seals_existed_are_sealed_and_their_late_entries_reported(backend: Backend) {
    use vaccount::app::settlements::seal_exported_days;
    let w = world(backend).await;
    let table = w.service.table().as_ref();
    let fixed = issue(&w, &w.mall, "FIXED", AccountType::Fixed, None, false).await;
    deposit(&w, "T-1", &fixed, 10_000, t0()).await;
    // The 24th as the earlier version exported it: a record, no seals; then a late notice it
    // booked into the 24th after the export.
    let record = vaccount::domain::settlement::Settlement {
        id: vaccount::domain::SettlementId::generate(t0()),
        merchant_id: w.mall.clone(),
        date: day("2026-11-24"),
        totals: vaccount::domain::settlement::Totals {
            rows: 1,
            deposit_count: 1,
            gross: Krw::new(10_000),
            fee: Krw::new(300),
            vat: Krw::new(30),
            net: Krw::new(9_670),
        },
        payout_date: day("2026-11-26"),
        files: Vec::new(),
        exported_at: t0(),
        version: 1,
    };
    table.transact(vec![repo::settlements::put_settlement(&record, vaccount::ports::Condition::NotExists).unwrap()]).await.unwrap();
    deposit(&w, "T-LATE", &fixed, 5_000, t0()).await;

    let reported = seal_exported_days(table, t0()).await.unwrap();
    assert_eq!(
        reported.iter().map(|d| (d.date, d.rows, d.gross)).collect::<Vec<_>>(),
        [(day("2026-11-24"), 1, Krw::new(5_000))],
        "what the record lacks, reported"
    );
    assert!(seal_exported_days(table, t0()).await.unwrap().is_empty(), "once");
    // Sealed now: a movement with the clock still on the 24th goes to the 25th.
    deposit(&w, "T-AFTER", &fixed, 2_000, t0()).await;
    w.clock.set(parse_rfc3339("2026-11-26T00:30:00+09:00").unwrap());
    let next = w.settlements.export_day(&w.mall, day("2026-11-25")).await.unwrap();
    assert_eq!((next.totals.rows, next.totals.gross.won()), (1, 2_000));
}

/// A settlement run by hand in a standby region is refused before it writes anything: no seal,
/// no file, no record (the standby's store refuses every change, whoever asks).
#[tokio::test]
async fn a_standby_region_settles_nothing() {
    let w = world(Backend::Embedded).await;
    let m = plant_the_day(&w).await;
    w.clock.set(parse_rfc3339("2026-11-25T00:30:00+09:00").unwrap());
    let standby_table: Arc<dyn vaccount::ports::Table> = Arc::new(vaccount::store::StandbyTable::new(w.service.table().clone(), "ap-northeast-2"));
    let blobs = Arc::new(LocalBlobs::new(w.files.path().join("standby-blobs")));
    let standby = Settlements::new(&Service::new(standby_table, w.clock.clone(), Default::default()), blobs, w.files.path().join("standby-work"));
    let refused = standby.export_day(&m, day("2026-11-24")).await;
    assert!(matches!(&refused, Err(AppError::Unavailable(why)) if why.to_string().contains("ap-northeast-2")), "{refused:?}");
    assert!(!w.files.path().join("standby-blobs").exists(), "no file written");
    // The home region settles the day as if the standby had never tried.
    let settled = w.settlements.export_day(&m, day("2026-11-24")).await.unwrap();
    assert_eq!(settled.totals.gross.won(), 104_000);
}
