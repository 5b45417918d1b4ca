//! The function's API Gateway fixtures against the real DynamoDB adapter (moto).

use deposit_callback::router;
use vaccount::app::Service;
use vaccount::domain::VirtualAccount;
use vaccount::testing::fixtures::{ACCOUNT_ID, MERCHANT_ID, fixture_service, invoke, seed_fixture_account, seed_fixture_provider};

async fn fixture_account(service: &Service) -> VirtualAccount {
    service.accounts().get_account(&MERCHANT_ID.parse().unwrap(), &ACCOUNT_ID.parse().unwrap()).await.expect("fixture account")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_deposit_pays_the_account_and_its_redelivery_changes_nothing() {
    let (_t, service) = fixture_service().await;
    seed_fixture_provider(&service, vec![]).await;
    seed_fixture_account(&service).await;
    let (status, _, body) = invoke(router(service.clone()), "deposit-callback/deposit.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["result"].as_str(), body["status"].as_str()), (Some("ok"), Some("matched")));
    assert!(body["deposit_id"].as_str().unwrap().starts_with("dep_"));
    let paid = fixture_account(&service).await;
    assert_eq!(paid.status.as_str(), "paid");
    assert_eq!(paid.paid_amount.won(), 35_000);

    let (again, _, replay) = invoke(router(service.clone()), "deposit-callback/deposit.json").await;
    assert_eq!(again, 200, "{replay}");
    assert_eq!(replay, body, "the same deposit_id and status");
    assert_eq!(fixture_account(&service).await.version, paid.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_401_problem_json_and_records_nothing() {
    let (_t, service) = fixture_service().await;
    seed_fixture_provider(&service, vec![]).await;
    let before = seed_fixture_account(&service).await;
    let (status, headers, body) = invoke(router(service.clone()), "deposit-callback/bad-signature.json").await;
    assert_eq!(status, 401);
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(body["code"], "unauthorized");
    assert_eq!(fixture_account(&service).await.version, before.version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_undoes_the_deposit() {
    let (_t, service) = fixture_service().await;
    seed_fixture_provider(&service, vec![]).await;
    seed_fixture_account(&service).await;
    let (_, _, deposit) = invoke(router(service.clone()), "deposit-callback/deposit.json").await;
    let (status, _, body) = invoke(router(service.clone()), "deposit-callback/reversal.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "reversed");
    assert_eq!(body["deposit_id"], deposit["deposit_id"]);
    let account = fixture_account(&service).await;
    assert_eq!(account.status.as_str(), "waiting");
    assert_eq!(account.paid_amount.won(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_allowlist_is_checked_against_api_gateways_source_ip() {
    let (_t, service) = fixture_service().await;
    seed_fixture_account(&service).await;
    seed_fixture_provider(&service, vec!["198.51.100.7".parse().unwrap()]).await;
    let (status, _, body) = invoke(router(service.clone()), "deposit-callback/deposit.json").await;
    // The answer of an unknown provider: an allowlist does not tell a prober the id exists.
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized");
    // The fixture's requestContext.http.sourceIp.
    seed_fixture_provider(&service, vec!["203.0.113.10".parse().unwrap()]).await;
    let (status, _, body) = invoke(router(service), "deposit-callback/deposit.json").await;
    assert_eq!(status, 200, "{body}");
}
