//! The function's API Gateway fixtures against the real DynamoDB and S3 adapters (moto).

use settlements_api::router;
use std::sync::Arc;
use vaccount::testing::fixtures::{fixture_service_with_clock, invoke, moto_settlements, record_fixture_deposit, seed_fixture_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_day_is_listed_and_its_file_is_a_presigned_link() {
    let (_t, service, clock) = fixture_service_with_clock().await;
    seed_fixture_account(&service).await;
    record_fixture_deposit(&service).await;
    let (settlements, _, bucket) = moto_settlements(&service).await;
    let settlements = Arc::new(settlements);
    // The fixture day is settled once it is over; the signed requests below are read at the
    // fixtures' own instant again.
    clock.set(vaccount::domain::time::parse_rfc3339("2026-11-26T00:30:00+09:00").unwrap());
    let settled = settlements.export_day(&vaccount::testing::fixtures::MERCHANT_ID.parse().unwrap(), "2026-11-25".parse().unwrap()).await.unwrap();
    clock.set(vaccount::testing::fixtures::fixture_time());

    let (status, _, body) = invoke(router(service.clone(), settlements.clone()), "settlements-api/list.json").await;
    assert_eq!(status, 200, "{body}");
    let listed = &body["data"][0];
    assert_eq!((listed["date"].as_str(), listed["gross"].as_i64(), listed["net"].as_i64()), (Some("2026-11-25"), Some(35_000), Some(34_670)));
    assert_eq!(listed["payout_date"], "2026-11-27");
    assert_eq!(listed["id"], settled.id.as_str());
    assert_eq!(listed["files"][0]["sha256"], settled.files[0].sha256.as_str());

    let (status, headers, _) = invoke(router(service.clone(), settlements.clone()), "settlements-api/file.json").await;
    assert_eq!(status, 302);
    let location = headers["location"].to_str().unwrap();
    assert!(location.contains(&bucket) && location.contains("settlement-20261125.csv") && location.contains("X-Amz-Signature"), "{location}");
    let fetched = reqwest_get(location).await;
    assert_eq!(fetched.len() as u64, settled.files[0].bytes);

    let (status, _, body) = invoke(router(service, settlements), "settlements-api/file-unknown.json").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("not_found")));
}

async fn reqwest_get(url: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.unwrap();
    assert!(response.status().is_success());
    response.bytes().await.unwrap().to_vec()
}
