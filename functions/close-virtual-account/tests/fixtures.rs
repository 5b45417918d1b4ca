//! The function's API Gateway fixtures against the real DynamoDB adapter (moto).

use close_virtual_account::router;
use vaccount::testing::fixtures::{fixture_service, invoke, seed_fixture_account};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_closes_a_waiting_account_once() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    let (status, _, body) = invoke(router(service.clone()), "close-virtual-account/close.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "closed");
    assert_eq!(body["version"], 2);
    let (again, _, body) = invoke(router(service), "close-virtual-account/close.json").await;
    assert_eq!(again, 409);
    assert_eq!(body["code"], "conflict");
}
