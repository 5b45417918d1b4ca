//! Black-box: a merchant's day settled by `vaccount settle` on the data dir of a stopped
//! `serve`, then listed and downloaded over HTTP from the restarted server.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use support::{Client, Server, demo, pii, vaccount_bin};

fn settle(dir: &Path, date: &str) -> std::process::Output {
    Command::new(vaccount_bin()).arg("--data-dir").arg(dir).args(["settle", "--date", date]).output().expect("run vaccount settle")
}

fn settled(dir: &Path, date: &str) -> Value {
    let out = settle(dir, date);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("settle prints JSON")
}

/// The demo merchant's movements of Tuesday 2026-11-24, recorded on that day: the use cases
/// `serve` runs, on its data dir, with the clock standing on the day (a settlement day is the
/// day a movement is recorded, and only a day that is over can be settled).
async fn record_a_past_day(dir: &Path, merchant: &str) {
    use vaccount::domain::deposit::{DepositNotice, ReversalNotice};
    use vaccount::domain::{AccountRequest, AccountType, BankCode, Krw, Metadata};
    let raw = vaccount::store::EmbeddedTable::open_with_stream(&dir.join("vaccount.redb"), vaccount::repo::outbox::EVENT_SORT_KEY).unwrap();
    let key = vaccount::store::DataKey::from_secret(&std::fs::read_to_string(dir.join("data.key")).unwrap()).unwrap();
    let table: std::sync::Arc<dyn vaccount::ports::Table> = std::sync::Arc::new(vaccount::store::SealedTable::new(raw, key));
    let at = |hm: &str| vaccount::domain::time::parse_rfc3339(&format!("2026-11-24T{hm}:00+09:00")).unwrap();
    let clock = vaccount::testing::FixedClock::new(at("09:00"));
    let service = vaccount::testing::service(table, clock.clone());
    let merchant = merchant.parse().unwrap();
    let issue = |order: &str, kind, amount: Option<i64>| AccountRequest {
        order_id: order.parse().unwrap(),
        kind,
        amount: amount.map(Krw::new),
        bank_code: BankCode::Kookmin,
        due_at: amount.map(|_| at("23:00")),
        allow_partial: false,
        depositor_name: None,
        customer: None,
        metadata: Metadata::new(),
        policy: Default::default(),
    };
    let paid = service.accounts().issue_account(&merchant, None, issue("S-1", AccountType::OneTime, Some(35_000))).await.unwrap();
    let fixed = service.accounts().issue_account(&merchant, None, issue("S-2", AccountType::Fixed, None)).await.unwrap();
    let deposit = |tx: &str, number: &vaccount::domain::AccountNumber, amount: i64, at| DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: tx.parse().unwrap(),
        bank_code: BankCode::Kookmin,
        account_number: number.clone(),
        amount: Krw::new(amount),
        depositor_name: Some(pii().depositor_name.into()),
        deposited_at: at,
    };
    clock.set(at("10:00"));
    service.deposits().record_deposit(deposit("S-T1", &paid.account_number, 35_000, at("10:00"))).await.unwrap();
    clock.set(at("10:05"));
    service.deposits().record_deposit(deposit("S-T2", &fixed.account_number, 7_000, at("10:05"))).await.unwrap();
    clock.set(at("11:00"));
    let reversal = ReversalNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: "S-T2R".parse().unwrap(),
        original_transaction_id: "S-T2".parse().unwrap(),
        occurred_at: at("11:00"),
    };
    service.deposits().reverse_deposit(reversal).await.unwrap();
    // Recorded the next day: it stays out of this one.
    clock.set(vaccount::domain::time::parse_rfc3339("2026-11-25T00:00:01+09:00").unwrap());
    service.deposits().record_deposit(deposit("S-T3", &fixed.account_number, 1_000, at("23:59"))).await.unwrap();
}

#[tokio::test]
async fn a_settled_day_is_served_as_it_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let creds = {
        let _server = Server::start(dir.path(), &["--demo"]);
        demo(dir.path()).0
    };
    record_a_past_day(dir.path(), &creds.merchant_id).await;

    // The server is stopped (it holds the data dir while it runs).
    let settled = settled(dir.path(), "2026-11-24");
    assert_eq!(settled.as_array().map(Vec::len), Some(1), "one merchant, one settlement: {settled}");
    let ours = settled[0].clone();
    // 35,000 and 7,000 deposited, the 7,000 reversed: one deposit, 300 won fee, 30 VAT.
    assert_eq!(
        (ours["deposit_count"].as_i64(), ours["gross"].as_i64(), ours["fee"].as_i64(), ours["vat"].as_i64(), ours["net"].as_i64()),
        (Some(1), Some(35_000), Some(300), Some(30), Some(34_670))
    );
    assert_eq!(ours["payout_date"], "2026-11-26");
    let on_disk = dir.path().join("settlements").join(&creds.merchant_id).join("2026/11/24/settlement-20261124.csv");
    let written = std::fs::read_to_string(&on_disk).expect("the CSV under the data dir");
    assert_eq!(written.matches("\r\n").count(), 4, "header and three rows: {written}");
    assert_eq!(self::settled(dir.path(), "2026-11-24"), settled, "a second run is the same settlement");
    let today = vaccount::domain::calendar::kst_day(chrono::Utc::now()).to_string();
    let early = settle(dir.path(), &today);
    assert!(!early.status.success() && String::from_utf8_lossy(&early.stderr).contains("not over yet"), "a day is settled once it is over");

    let server = Server::start(dir.path(), &[]);
    let client = Client::new(&server, &creds);
    let listed = client.get("/v1/settlements?from=2026-11-24&to=2026-11-24").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json["data"][0], ours);
    let file = client.get("/v1/settlements/2026-11-24/files/settlement-20261124.csv").await;
    assert_eq!(file.status, 200);
    assert_eq!(file.headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(file.json.as_str(), Some(written.as_str()), "served byte for byte");
    assert_eq!(client.get("/v1/settlements/2026-11-24/files/other.csv").await.status, 404);
}
