//! Black-box: a merchant's day settled by `vaccount settle` on the data dir of a stopped
//! `serve`, then listed and downloaded over HTTP from the restarted server.

mod support;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use support::{Client, Server, demo, vaccount_bin};


fn simulate(server: &Server, secret: &str, args: &[&str]) {
    let out = Command::new(vaccount_bin())
        .arg("simulate")
        .args(args)
        .args(["--url", &server.url, "--provider", "bank", "--secret", secret])
        .output()
        .expect("run vaccount simulate");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn settle(dir: &Path, date: &str) -> Value {
    let out = Command::new(vaccount_bin()).arg("--data-dir").arg(dir).args(["settle", "--date", date]).output().expect("run vaccount settle");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("settle prints JSON")
}

#[tokio::test]
async fn a_settled_day_is_served_as_it_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let creds = {
        let server = Server::start(dir.path(), &["--demo"]);
        let (creds, secret) = demo(dir.path());
        let client = Client::new(&server, &creds);
        let paid = client.post("/v1/virtual-accounts", &json!({"order_id": "S-1", "amount": 35000, "bank_code": "004"})).await;
        let fixed = client.post("/v1/virtual-accounts", &json!({"order_id": "S-2", "type": "fixed", "bank_code": "004"})).await;
        assert_eq!((paid.status, fixed.status), (201, 201));
        let number = |r: &support::Response| r.json["account_number"].as_str().unwrap().to_owned();
        let at = |hm: &str| format!("2026-11-24T{hm}:00+09:00");
        simulate(&server, &secret, &["deposit", "--bank", "004", "--account", &number(&paid), "--amount", "35000", "--tx", "S-T1", "--at", &at("10:00")]);
        simulate(&server, &secret, &["deposit", "--bank", "004", "--account", &number(&fixed), "--amount", "7000", "--tx", "S-T2", "--at", &at("10:05")]);
        simulate(&server, &secret, &["reversal", "--original", "S-T2", "--tx", "S-T2R", "--at", &at("11:00")]);
        // Another day's deposit stays out of this one.
        simulate(&server, &secret, &["deposit", "--bank", "004", "--account", &number(&fixed), "--amount", "1000", "--tx", "S-T3", "--at", "2026-11-25T00:00:00+09:00"]);
        creds
    };

    // The server is stopped (it holds the data dir while it runs).
    let settled = settle(dir.path(), "2026-11-24");
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
    assert_eq!(settle(dir.path(), "2026-11-24"), settled, "a second run is the same settlement");

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
