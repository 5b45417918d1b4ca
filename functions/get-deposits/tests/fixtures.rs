//! The function's API Gateway fixtures against the real DynamoDB adapter (moto).

use get_deposits::router;
use vaccount::testing::fixtures::{ACCOUNT_ID, fixture_service, invoke, record_fixture_deposit, seed_fixture_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_returns_the_merchants_deposit() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    let deposit = record_fixture_deposit(&service).await;
    let (status, _, body) = invoke(router(service), "get-deposits/list.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["id"], deposit.as_str());
    assert_eq!(body["data"][0]["status"], "matched");
    assert_eq!(body["data"][0]["virtual_account_id"], ACCOUNT_ID);
    assert_eq!(body["data"][0]["amount"], 35000);
    assert_eq!(body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accounts_deposits_are_listed_under_it() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    let deposit = record_fixture_deposit(&service).await;
    let (status, _, body) = invoke(router(service), "get-deposits/account-deposits.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["id"], deposit.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_deposit_is_404() {
    let (_t, service) = fixture_service().await;
    let (status, _, body) = invoke(router(service), "get-deposits/get-unknown.json").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}
