//! Role-based access to the admin API: every route of the route table, with every role, no
//! session and no CSRF token, against the exact table below. The table is written here, apart
//! from the code, so a route added without its row fails, and a permission changed by mistake
//! in `http::admin` fails too.

use axum::http::{Request, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;
use vaccount::domain::operator::Role;
use vaccount::http::admin::{Access, route_table};
use vaccount::testing::{Backend, FixedClock, TestOperator, operator_session};

/// Who may call each route: `open` (no session), or the least role that may.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("POST", "/admin/v1/enrolment", "open"),
    ("POST", "/admin/v1/enrolment/confirm", "open"),
    ("POST", "/admin/v1/session", "open"),
    ("POST", "/admin/v1/password", "open"),
    ("GET", "/admin/v1/session", "viewer"),
    ("DELETE", "/admin/v1/session", "viewer"),
    ("GET", "/admin/v1/operators", "super_admin"),
    ("POST", "/admin/v1/operators", "super_admin"),
    ("GET", "/admin/v1/operators/{name}", "super_admin"),
    ("PATCH", "/admin/v1/operators/{name}", "super_admin"),
    ("POST", "/admin/v1/operators/{name}/unlock", "super_admin"),
    ("GET", "/admin/v1/audit", "super_admin"),
    ("GET", "/admin/v1/exceptions", "viewer"),
    ("POST", "/admin/v1/exceptions/{id}/resolve", "admin"),
    ("POST", "/admin/v1/exceptions/{id}/approve", "admin"),
    ("POST", "/admin/v1/exceptions/{id}/reject", "admin"),
    ("GET", "/admin/v1/incidents", "viewer"),
    ("GET", "/admin/v1/incidents/{id}", "viewer"),
    ("POST", "/admin/v1/incidents/{id}/acknowledge", "admin"),
    ("POST", "/admin/v1/incidents/{id}/resolve", "admin"),
    ("POST", "/admin/v1/events/{id}/resend", "admin"),
    ("GET", "/admin/v1/overview", "viewer"),
    ("GET", "/admin/v1/pool", "viewer"),
    ("GET", "/admin/v1/merchants", "viewer"),
    ("POST", "/admin/v1/merchants", "super_admin"),
    ("GET", "/admin/v1/merchants/{id}", "viewer"),
    ("PATCH", "/admin/v1/merchants/{id}", "super_admin"),
    ("POST", "/admin/v1/merchants/{id}/keys", "super_admin"),
    ("DELETE", "/admin/v1/merchants/{id}/keys/{key_id}", "super_admin"),
    ("GET", "/admin/v1/virtual-accounts", "viewer"),
    ("GET", "/admin/v1/virtual-accounts/{id}", "viewer"),
    ("GET", "/admin/v1/deposits", "viewer"),
    ("GET", "/admin/v1/deposits/{id}", "viewer"),
    ("GET", "/admin/v1/webhook-attempts", "viewer"),
    ("GET", "/admin/v1/webhook-endpoints", "viewer"),
    ("POST", "/admin/v1/webhook-endpoints/{id}/resend-dead-letters", "admin"),
    ("GET", "/admin/v1/notices", "viewer"),
    ("GET", "/admin/v1/settlements", "viewer"),
    ("GET", "/admin/v1/settlements/{merchant_id}/{date}/files/{name}", "admin"),
    ("GET", "/admin/v1/reconciliation-reports", "viewer"),
];

fn rank(role: &str) -> u8 {
    match role {
        "viewer" => 1,
        "admin" => 2,
        "super_admin" => 3,
        other => panic!("no role {other}"),
    }
}

/// A concrete path for a route: parameters filled with well-formed ids nobody has.
fn concrete(path: &str) -> String {
    path.replace("{name}", "nobody")
        .replace("{id}", "x_01KWFX0000000000000000ZZ99")
        .replace("{merchant_id}", "mch_01KWFX0000000000000000ZZ99")
        .replace("{date}", "2026-11-24")
        .replace("{file}", "none.csv")
        .replace("{key_id}", "key_01KWFX0000000000000000ZZ99")
}

async fn call(router: &axum::Router, method: &str, path: &str, who: Option<&TestOperator>, csrf: bool) -> (StatusCode, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(op) = who {
        request = request.header("cookie", op.cookie_header());
        if csrf {
            request = request.header("x-csrf-token", &op.csrf);
        }
    }
    let body = if method == "GET" || method == "DELETE" { axum::body::Body::empty() } else { axum::body::Body::from("{}") };
    let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn every_admin_route_allows_exactly_the_roles_of_the_table() {
    let table = vaccount::testing::table(Backend::Embedded).await;
    let clock = FixedClock::new(chrono::Utc::now());
    let service = vaccount::testing::service(table.table.clone(), clock);
    let router = vaccount::http::all_routes(service.clone(), None, Arc::new(vaccount::net::SystemResolver));

    let routes = route_table();
    let listed: Vec<(String, String)> = routes.iter().map(|r| (r.method.to_string(), r.path.to_owned())).collect();
    let expected: Vec<(String, String)> = EXPECTED.iter().map(|(m, p, _)| (m.to_string(), p.to_string())).collect();
    for route in &listed {
        assert!(expected.contains(route), "route {route:?} has no row in EXPECTED");
    }
    for row in &expected {
        assert!(listed.contains(row), "EXPECTED names {row:?}, which is not routed");
    }

    let mut operators = Vec::new();
    for role in Role::ALL {
        operators.push((role, operator_session(&service, role.as_str().replace('_', "-").as_str(), role, false).await));
    }
    for route in &routes {
        let (_, _, least) = EXPECTED.iter().find(|(m, p, _)| *m == route.method.as_str() && *p == route.path).unwrap();
        let path = concrete(route.path);
        let method = route.method.as_str();
        if *least == "open" {
            assert_eq!(route.access, Access::Open);
            let (status, _) = call(&router, method, &path, None, false).await;
            assert!(status != StatusCode::FORBIDDEN, "{method} {path} is open, got {status}");
            continue;
        }
        let (status, body) = call(&router, method, &path, None, false).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{method} {path} without a session");
        for (role, op) in &operators {
            // Logging out ends the session the later calls need: that route is checked last.
            if method == "DELETE" && route.path == "/admin/v1/session" {
                continue;
            }
            let (status, body) = call(&router, method, &path, Some(op), true).await;
            let denied = status == StatusCode::FORBIDDEN && body["code"] == "forbidden";
            let allowed = rank(role.as_str()) >= rank(least);
            assert_eq!(!denied, allowed, "{method} {path} as {role}: {status} {body}");
            if method != "GET" {
                let (status, body) = call(&router, method, &path, Some(op), false).await;
                assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{method} {path} as {role} without CSRF");
            }
        }
    }
    for (role, op) in &operators {
        let (status, _) = call(&router, "DELETE", "/admin/v1/session", Some(op), false).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "logout as {role} without CSRF");
        let (status, _) = call(&router, "DELETE", "/admin/v1/session", Some(op), true).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "logout as {role}");
        let (status, _) = call(&router, "GET", "/admin/v1/session", Some(op), true).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the session of {role} is gone after logout");
    }
}

#[tokio::test]
async fn a_list_download_needs_the_export_permission() {
    let table = vaccount::testing::table(Backend::Embedded).await;
    let service = vaccount::testing::service(table.table.clone(), FixedClock::new(chrono::Utc::now()));
    let router = vaccount::http::all_routes(service.clone(), None, Arc::new(vaccount::net::SystemResolver));
    let viewer = operator_session(&service, "view", Role::Viewer, false).await;
    for route in route_table().iter().filter(|r| r.method == "GET" && r.path != "/admin/v1/session" && !r.path.contains('{')) {
        let (status, body) = call(&router, "GET", &format!("{}?format=xlsx", route.path), Some(&viewer), false).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{} as viewer", route.path);
    }
}

#[tokio::test]
async fn outside_the_global_allowlist_even_the_open_routes_answer_403_and_count_nothing() {
    let table = vaccount::testing::table(Backend::Embedded).await;
    let clock = FixedClock::new(chrono::Utc::now());
    let settings = vaccount::app::Settings { admin_allowed_ips: vec!["10.0.0.0/8".parse().unwrap()], ..vaccount::app::Settings::default() };
    let service = Arc::new(vaccount::app::Service::new(table.table.clone(), clock, settings));
    // Made through the app directly (the command line's way), which no allowlist concerns.
    let created = service.operators().create_user("kim".parse().unwrap(), Role::Admin, false, None).await.unwrap();
    service.operators().begin_enrolment(&created.enrolment_token, vaccount::testing::OPERATOR_PASSWORD).await.unwrap();
    let router = vaccount::http::all_routes(service.clone(), None, Arc::new(vaccount::net::SystemResolver));
    // The in-process router has no client address: outside any allowlist.
    for path in ["/admin/v1/session", "/admin/v1/password", "/admin/v1/enrolment", "/admin/v1/enrolment/confirm"] {
        let (status, body) = call(&router, "POST", path, None, false).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{path}");
    }
    assert_eq!(service.operators().get(&"kim".parse().unwrap()).await.unwrap().failures, 0);
}
