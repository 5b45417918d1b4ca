//! An operator's re-run against the real DynamoDB and S3 adapters (moto): the statement in the
//! bucket holds the fixture deposit and one we never heard of.

use std::sync::Arc;
use vaccount::app::reconcile::Reconciler;
use vaccount::providers::statement::BlobStatements;
use vaccount::repo::deposits::get_by_transaction;
use vaccount::testing::fixtures::{fixture_service, moto_settlements, record_fixture_deposit, seed_fixture_account};

fn fixture(name: &str) -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/reconciler").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("scheduler input")
}

const STATEMENT: &str = "type,transaction_id,original_transaction_id,bank_code,account_number,amount,depositor_name,occurred_at\r\n\
deposit,T-FIXTURE-1,,004,55500000000099,35000,홍길동,2026-11-25T18:40:00+09:00\r\n\
deposit,T-LOST-1,,004,55500000000098,12000,김철수,2026-11-25T11:00:00+09:00\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_recovers_the_lost_deposit_once() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    record_fixture_deposit(&service).await;
    let (_, s3, bucket) = moto_settlements(&service).await;
    s3.put_object().bucket(&bucket).key("statements/bank/2026/11/25/statement.csv").body(STATEMENT.as_bytes().to_vec().into()).send().await.unwrap();
    let blobs = Arc::new(vaccount::aws::s3::S3Blobs::new(s3.clone(), bucket.clone()));
    let reconciler = Reconciler::new(service.clone(), blobs.clone(), Arc::new(BlobStatements::new(blobs)), std::env::temp_dir().join("vaccount-test-recon"));

    let report = reconciler::handle(&reconciler, fixture("rerun.json")).await.unwrap();
    assert_eq!((report["summary"]["matched"].as_u64(), report["summary"]["recovered"].as_u64()), (Some(1), Some(1)), "{report}");
    let lost = get_by_transaction(service.table().as_ref(), &"bank".parse().unwrap(), &"T-LOST-1".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(lost.amount.won(), 12_000);

    let again = reconciler::handle(&reconciler, fixture("rerun.json")).await.unwrap();
    assert_eq!(again["summary"]["recovered"], report["summary"]["recovered"], "the same row, reported as recovered before");
    let still = get_by_transaction(service.table().as_ref(), &"bank".parse().unwrap(), &"T-LOST-1".parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(still.id, lost.id, "recovered once");
    let listed = s3.list_objects_v2().bucket(&bucket).prefix("reconciliation/bank/2026/11/25/").send().await.unwrap();
    assert_eq!(listed.contents().len(), 1, "one report file for the day");

    let missing = reconciler::handle(&reconciler, serde_json::json!({"provider": "bank", "date": "2026-11-24"})).await;
    assert!(missing.is_err(), "no statement for that day");
}
