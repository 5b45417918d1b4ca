//! The function's API Gateway fixtures against the real DynamoDB adapter (moto).

use issue_virtual_account::router;
use vaccount::testing::fixtures::{fixture_service, invoke};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_issue_event_creates_an_account_and_its_retry_is_replayed() {
    let (_t, service) = fixture_service().await;
    let (status, headers, body) = invoke(router(service.clone()), "issue-virtual-account/issue.json").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "waiting");
    assert_eq!(body["amount"], 35000);
    assert_eq!(body["bank_name"], "KB국민은행");
    assert!(body["account_number"].as_str().unwrap().starts_with("555"));
    assert!(headers.get("idempotent-replayed").is_none());

    let (again, headers, replay) = invoke(router(service), "issue-virtual-account/issue.json").await;
    assert_eq!(again, 201);
    assert_eq!(headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(replay, body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_401_problem_json() {
    let (_t, service) = fixture_service().await;
    let (status, headers, body) = invoke(router(service), "issue-virtual-account/bad-signature.json").await;
    assert_eq!(status, 401);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["code"], "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_body_names_every_bad_field() {
    let (_t, service) = fixture_service().await;
    let (status, _, body) = invoke(router(service), "issue-virtual-account/invalid-body.json").await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "invalid_request");
    assert_eq!(body["errors"][0]["field"], "colour");
}
