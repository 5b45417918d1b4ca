//! The function's API Gateway fixtures against the real DynamoDB adapter (moto): the session
//! cookie arrives in payload 2.0's `cookies`, the CSRF token in its header, and the allowlists
//! see API Gateway's `sourceIp`.

use admin::router;
use std::sync::Arc;
use vaccount::app::{Service, Settings};
use vaccount::domain::operator::{IpRange, Operator, OperatorStatus, Role, Session};
use vaccount::ports::Condition;
use vaccount::repo::operators::{put_operator, put_session};
use vaccount::testing::fixtures::{fixture_service, fixture_service_with_clock, fixture_time, invoke};

/// The session the `events/admin` fixtures carry (events/generate.py).
const COOKIE: &str = "fixture-admin-session-do-not-use-in-production";
const CSRF: &str = "fixture-admin-csrf-do-not-use-in-production";

/// Operator `kim` (admin) with the fixtures' session, allowed from `allowed_ips` (empty: anywhere).
async fn seed_session(service: &Service, allowed_ips: &[&str]) {
    let mut kim = Operator::new("kim".parse().unwrap(), Role::Admin, false, fixture_time(), None);
    kim.status = OperatorStatus::Active;
    kim.allowed_ips = allowed_ips.iter().map(|ip| ip.parse::<IpRange>().unwrap()).collect();
    let session = Session {
        operator: kim.name.clone(),
        generation: kim.session_generation,
        csrf_token: CSRF.into(),
        created_at: fixture_time(),
        last_seen: fixture_time(),
        ip: None,
        user_agent: None,
    };
    let writes = vec![put_operator(&kim, 1, Condition::Always).unwrap(), put_session(COOKIE, &session, 1, Condition::Always).unwrap()];
    service.table().transact(writes).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_the_cookies_reads_the_exception_queue() {
    let (_t, service) = fixture_service().await;
    seed_session(&service, &[]).await;
    let (status, _, body) = invoke(router(service.clone(), None), "admin/exceptions.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({"data": [], "next_cursor": null}));
    let (status, _, body) = invoke(router(service, None), "admin/exceptions-no-session.json").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_needs_the_csrf_header() {
    let (_t, service) = fixture_service().await;
    seed_session(&service, &[]).await;
    let (status, _, body) = invoke(router(service.clone(), None), "admin/resolve-no-csrf.json").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (403, Some("forbidden")), "{body}");
    // Past the access layer the handler answers: the fixture names no exception.
    let (status, _, body) = invoke(router(service, None), "admin/resolve.json").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("not_found")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_login_gets_the_one_answer_and_no_cookie() {
    let (_t, service) = fixture_service().await;
    seed_session(&service, &[]).await;
    let (status, headers, body) = invoke(router(service, None), "admin/login-wrong.json").await;
    assert_eq!((status.as_u16(), body["detail"].as_str()), (401, Some("wrong name, password or code")));
    assert!(headers.get("set-cookie").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_allowlist_is_checked_against_api_gateways_source_ip() {
    let (_t, service) = fixture_service().await;
    seed_session(&service, &["198.51.100.0/24"]).await;
    let (status, _, body) = invoke(router(service.clone(), None), "admin/exceptions.json").await;
    assert_eq!((status.as_u16(), body["detail"].as_str()), (403, Some("not allowed from this address")));
    // The fixture's requestContext.http.sourceIp.
    seed_session(&service, &["203.0.113.0/24"]).await;
    let (status, _, body) = invoke(router(service, None), "admin/exceptions.json").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_allowlist_is_checked_against_api_gateways_source_ip() {
    let (t, _, clock) = fixture_service_with_clock().await;
    let on = |allowed: &str| {
        let settings = Settings { admin_allowed_ips: vec![allowed.parse().unwrap()], ..Settings::default() };
        Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), clock.clone(), settings))
    };
    seed_session(&on("203.0.113.10"), &[]).await;
    let (status, _, body) = invoke(router(on("198.51.100.7"), None), "admin/exceptions.json").await;
    assert_eq!((status.as_u16(), body["detail"].as_str()), (403, Some("not allowed from this address")));
    let (status, _, body) = invoke(router(on("203.0.113.10"), None), "admin/exceptions.json").await;
    assert_eq!(status, 200, "{body}");
}
