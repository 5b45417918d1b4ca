//! The function's API Gateway fixtures against the real DynamoDB adapter (moto).

use get_virtual_account::router;
use vaccount::testing::fixtures::{ACCOUNT_ID, fixture_service, invoke, seed_fixture_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_returns_the_merchants_account() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    let (status, _, body) = invoke(router(service), "get-virtual-account/get.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], ACCOUNT_ID);
    assert_eq!(body["account_number"], "55500000000099");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_filters_by_status() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    let (status, _, body) = invoke(router(service), "get-virtual-account/list.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["id"], ACCOUNT_ID);
    assert_eq!(body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_account_is_404() {
    let (_t, service) = fixture_service().await;
    let (status, _, body) = invoke(router(service), "get-virtual-account/get-unknown.json").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}
