//! The scheduler's invocations against the real DynamoDB and S3 adapters (moto).

use settlement_exporter::handle;
use vaccount::domain::EventData;
use vaccount::testing::fixtures::{MERCHANT_ID, fixture_service_with_clock, moto_settlements, record_fixture_deposit, seed_fixture_account};

fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/settlement-exporter").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("scheduler input")
}

async fn object(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = client.get_object().bucket(bucket).key(key).send().await.unwrap_or_else(|e| panic!("{key}: {e:?}"));
    out.body.collect().await.unwrap().into_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nightly_run_settles_yesterday_into_the_bucket_once() {
    let (_t, service, clock) = fixture_service_with_clock().await;
    seed_fixture_account(&service).await;
    record_fixture_deposit(&service).await;
    let (settlements, s3, bucket) = moto_settlements(&service).await;

    // The first run settles yesterday (the fixture day is 2026-11-25); the next, nothing more
    // until 00:30 KST of the following day.
    let report = handle(&settlements, fixture("scheduled.json")).await.unwrap();
    assert_eq!(report["settled_days"], serde_json::json!(["2026-11-24"]));
    clock.set(vaccount::domain::time::parse_rfc3339("2026-11-26T00:29:59+09:00").unwrap());
    assert_eq!(handle(&settlements, fixture("scheduled.json")).await.unwrap()["settled_days"], serde_json::json!([]));
    clock.set(vaccount::domain::time::parse_rfc3339("2026-11-26T00:30:00+09:00").unwrap());
    let report = handle(&settlements, fixture("scheduled.json")).await.unwrap();
    assert_eq!(report["settled_days"], serde_json::json!(["2026-11-25"]));

    let prefix = format!("settlements/{MERCHANT_ID}/2026/11/25/");
    let manifest: serde_json::Value = serde_json::from_slice(&object(&s3, &bucket, &format!("{prefix}manifest.json")).await).unwrap();
    assert_eq!((manifest["row_count"].as_u64(), manifest["gross"].as_i64(), manifest["net"].as_i64()), (Some(1), Some(35_000), Some(34_670)));
    let csv = object(&s3, &bucket, &format!("{prefix}settlement-20261125.csv")).await;
    assert!(csv.starts_with("\u{feff}정산일".as_bytes()));
    assert_eq!(manifest["files"][0]["bytes"].as_u64(), Some(csv.len() as u64));

    // The same schedule again: the day is done; nothing is exported or announced twice.
    let again = handle(&settlements, fixture("scheduled.json")).await.unwrap();
    assert_eq!(again["settled_days"], serde_json::json!([]));
    let events = vaccount::repo::outbox::all_for(service.table().as_ref(), MERCHANT_ID).await.unwrap();
    let exported: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::SettlementExported(exported) => Some(exported.settlement.date.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(exported, ["2026-11-24", "2026-11-25"], "one announcement per settled day");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reruns_one_day_to_the_same_bytes() {
    let (_t, service, clock) = fixture_service_with_clock().await;
    seed_fixture_account(&service).await;
    record_fixture_deposit(&service).await;
    let (settlements, s3, bucket) = moto_settlements(&service).await;
    // The fixture day is over: a day is settled once it has ended.
    clock.set(vaccount::domain::time::parse_rfc3339("2026-11-26T09:00:00+09:00").unwrap());
    let first = handle(&settlements, fixture("rerun.json")).await.unwrap();
    assert_eq!(first[0]["date"], "2026-11-25");
    assert_eq!(first[0]["deposit_count"], 1);
    let key = format!("settlements/{MERCHANT_ID}/2026/11/25/settlement-20261125.xlsx");
    let before = object(&s3, &bucket, &key).await;
    let second = handle(&settlements, fixture("rerun.json")).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(object(&s3, &bucket, &key).await, before);

    let bad = handle(&settlements, serde_json::json!({"date": "2026-13-01"})).await;
    assert!(bad.is_err(), "a malformed date fails the invocation");
}
