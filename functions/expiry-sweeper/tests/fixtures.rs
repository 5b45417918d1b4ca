//! The scheduler's invocation against the real DynamoDB adapter (moto).

use expiry_sweeper::handle;
use vaccount::testing::fixtures::{ACCOUNT_ID, MERCHANT_ID, fixture_service_with_clock, record_fixture_deposit, seed_fixture_account};

fn scheduled() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../events/expiry-sweeper/scheduled.json")).expect("scheduler input")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_account_expires_once_its_due_time_passes() {
    let (_t, service, clock) = fixture_service_with_clock().await;
    seed_fixture_account(&service).await;
    let early = handle(&service, scheduled()).await.expect("sweep");
    assert_eq!(early.expired, 0, "not due yet");

    // The fixture account is due 72 hours after it was issued.
    clock.advance(chrono::Duration::hours(73));
    let report = handle(&service, scheduled()).await.expect("sweep");
    assert_eq!((report.expired, report.released, report.failed), (1, 0, 0));
    let account = service.accounts().get_account(&MERCHANT_ID.parse().unwrap(), &ACCOUNT_ID.parse().unwrap()).await.unwrap();
    assert_eq!(account.status.as_str(), "expired");

    let again = handle(&service, scheduled()).await.expect("sweep");
    assert_eq!(again.expired, 0, "an expired account is settled once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_account_gives_its_number_back_at_its_due_time() {
    let (_t, service, clock) = fixture_service_with_clock().await;
    seed_fixture_account(&service).await;
    record_fixture_deposit(&service).await;
    clock.advance(chrono::Duration::hours(73));
    let report = handle(&service, scheduled()).await.expect("sweep");
    assert_eq!((report.expired, report.released, report.failed), (0, 1, 0));
}
