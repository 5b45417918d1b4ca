//! The dashboard's pages over plain HTTP (the browser suite, tests/browser, drives them in
//! Chromium): who may open which page, login and enrolment through the pages' forms, the
//! buttons a role sees, and personal data masked as the API masks it.

use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tower::ServiceExt;
use vaccount::app::Service;
use vaccount::domain::operator::{Role, TOTP_STEP_SECONDS, totp_code};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{BankCode, DepositNotice, Krw};
use vaccount::http::admin::{Access, pages};
use vaccount::ports::Clock;
use vaccount::testing::{Backend, FixedClock, OPERATOR_PASSWORD, TestOperator, TestTable, operator_session};

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    router: axum::Router,
}

async fn world() -> World {
    let t = vaccount::testing::table(Backend::Embedded).await;
    let clock = FixedClock::new(t0());
    let service = vaccount::testing::service(t.table.clone(), clock.clone());
    let router = vaccount::http::all_routes(service.clone(), None, Arc::new(vaccount::net::SystemResolver));
    World { _t: t, clock, service, router }
}

struct Page {
    status: StatusCode,
    headers: http::HeaderMap,
    html: String,
}

async fn send(router: &axum::Router, request: Request<axum::body::Body>) -> Page {
    let response = router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    Page { status: parts.status, headers: parts.headers, html: String::from_utf8_lossy(&bytes).into_owned() }
}

async fn get(w: &World, path: &str, who: Option<&TestOperator>) -> Page {
    let mut request = Request::builder().uri(path);
    if let Some(op) = who {
        request = request.header("cookie", op.cookie_header());
    }
    send(&w.router, request.body(axum::body::Body::empty()).unwrap()).await
}

async fn post_form(w: &World, path: &str, fields: &[(&str, &str)]) -> Page {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let request = Request::builder().method("POST").uri(path).header("content-type", "application/x-www-form-urlencoded").body(axum::body::Body::from(body));
    send(&w.router, request.unwrap()).await
}

fn location(page: &Page) -> &str {
    page.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn code_now(w: &World, secret: &[u8], steps_ahead: u64) -> String {
    totp_code(secret, u64::try_from(w.clock.now().timestamp()).unwrap() / TOTP_STEP_SECONDS + steps_ahead)
}

/// A deposit to a number nobody holds: an `unknown_account` exception of the unmatched queue.
async fn unmatched_deposit(w: &World, depositor: &str) {
    let notice = DepositNotice {
        provider: "bank".parse().unwrap(),
        transaction_id: "T-PAGE-1".parse().unwrap(),
        bank_code: BankCode::Kookmin,
        account_number: "99900000000001".parse().unwrap(),
        amount: Krw::new(35_000),
        depositor_name: Some(depositor.into()),
        deposited_at: w.clock.now(),
    };
    w.service.deposits().record_deposit(notice).await.expect("recorded");
}

#[tokio::test]
async fn a_page_without_a_session_sends_to_the_login_and_back_afterwards() {
    let w = world().await;
    let page = get(&w, "/admin/exceptions?state=open", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&page), "/admin/login?next=%2Fadmin%2Fexceptions%3Fstate%3Dopen");
    let login = get(&w, location(&page), None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.html.contains(r#"name="next" value="/admin/exceptions?state=open""#), "{}", login.html);
    assert!(login.html.contains(r#"<html lang="ko">"#) && login.html.contains("인증 코드"));
    assert_eq!(location(&get(&w, "/admin", None).await), "/admin/");
}

#[tokio::test]
async fn the_login_form_opens_the_apis_session_and_refuses_in_korean() {
    let w = world().await;
    let kim = operator_session(&w.service, "kim", Role::Admin, false).await;
    w.clock.advance(chrono::Duration::seconds(30));

    let wrong = post_form(&w, "/admin/login", &[("name", "kim"), ("password", "not the password"), ("code", &code_now(&w, &kim.secret, 0))]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("이름, 비밀번호 또는 인증 코드가 올바르지 않습니다."), "{}", wrong.html);

    let fields = [("name", "kim"), ("password", OPERATOR_PASSWORD), ("code", &code_now(&w, &kim.secret, 0)), ("next", "/admin/exceptions")];
    let ok = post_form(&w, "/admin/login", &fields).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.html);
    assert_eq!(location(&ok), "/admin/exceptions");
    let cookie = ok.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("");
    for part in ["vaccount_admin=", "HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let value = cookie.split(';').next().unwrap().trim_start_matches("vaccount_admin=").to_owned();
    let session = TestOperator { cookie: value, ..kim };
    let page = get(&w, "/admin/exceptions?merchant_id=unmatched", Some(&session)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains(r#"data-testid="operator">kim<"#), "{}", page.html);
}

#[tokio::test]
async fn five_wrong_logins_lock_the_operator_and_the_page_says_until_when() {
    let w = world().await;
    let kim = operator_session(&w.service, "kim", Role::Admin, false).await;
    w.clock.advance(chrono::Duration::seconds(30));
    for _ in 0..4 {
        let page = post_form(&w, "/admin/login", &[("name", "kim"), ("password", "not the password"), ("code", "000000")]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    let page = post_form(&w, "/admin/login", &[("name", "kim"), ("password", OPERATOR_PASSWORD), ("code", "000000")]).await;
    assert_eq!(page.status, StatusCode::LOCKED);
    assert!(page.html.contains("5번 연속 실패하여 계정이 15분 동안 잠겼습니다. 2026-11-24 10:15 이후에 다시 시도하세요."), "{}", page.html);
    let right = post_form(&w, "/admin/login", &[("name", "kim"), ("password", OPERATOR_PASSWORD), ("code", &code_now(&w, &kim.secret, 0))]).await;
    assert_eq!(right.status, StatusCode::LOCKED, "the right password is refused while locked");
}

#[tokio::test]
async fn enrolment_sets_a_password_shows_the_secret_as_a_qr_code_and_activates_with_a_first_code() {
    let w = world().await;
    let created = w.service.operators().create_user("lee".parse().unwrap(), Role::Viewer, false, None).await.unwrap();
    let start = get(&w, &format!("/admin/enrol?token={}", created.enrolment_token), None).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(start.html.contains(&format!(r#"name="token" value="{}""#, created.enrolment_token)));

    let token = created.enrolment_token.as_str();
    let short = post_form(&w, "/admin/enrol", &[("token", token), ("password", "short"), ("password_again", "short")]).await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(short.html.contains("12자 이상"), "{}", short.html);

    let qr = post_form(&w, "/admin/enrol", &[("token", token), ("password", OPERATOR_PASSWORD), ("password_again", OPERATOR_PASSWORD)]).await;
    assert_eq!(qr.status, StatusCode::OK, "{}", qr.html);
    assert!(qr.html.contains(r#"<div class="qr" data-testid="qr"><svg"#), "an inline SVG QR code");
    let secret = qr.html.split(r#"data-secret=""#).nth(1).and_then(|s| s.split('"').next()).expect("the secret as text");
    let uri = qr.html.split(r#"name="otpauth_uri" value=""#).nth(1).and_then(|s| s.split('"').next()).unwrap().replace("&amp;", "&");
    assert!(uri.starts_with("otpauth://totp/vaccount:lee?"), "{uri}");
    let secret_bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().unwrap();

    let wrong = post_form(&w, "/admin/enrol/confirm", &[("token", token), ("code", "000000"), ("otpauth_uri", &uri), ("totp_secret", secret)]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.html.contains("인증 코드가 맞지 않습니다") && wrong.html.contains("<svg"), "the QR code again, with the error");

    let code = code_now(&w, &secret_bytes, 0);
    let done = post_form(&w, "/admin/enrol/confirm", &[("token", token), ("code", &code), ("otpauth_uri", &uri), ("totp_secret", secret)]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(done.html.contains(r#"href="/admin/login?name=lee""#), "{}", done.html);
    let login = post_form(&w, "/admin/login", &[("name", "lee"), ("password", OPERATOR_PASSWORD), ("code", &code)]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "the first code logs in: {}", login.html);

    let again = get(&w, &format!("/admin/enrol?token={token}"), None).await;
    let spent = post_form(&w, "/admin/enrol", &[("token", token), ("password", OPERATOR_PASSWORD), ("password_again", OPERATOR_PASSWORD)]).await;
    assert_eq!((again.status, spent.status), (StatusCode::OK, StatusCode::UNAUTHORIZED));
    assert!(spent.html.contains("등록 링크가 유효하지 않습니다"), "{}", spent.html);
}

/// A concrete path for a page route.
fn concrete(path: &str) -> String {
    path.replace("{id}", "inc_01KWFX0000000000000000ZZ99").replace("{file}", "none.css").replace("{merchant_id}", "mch_01KWFX0000000000000000ZZ99")
}

#[tokio::test]
async fn every_page_opens_for_exactly_the_roles_its_access_names_and_refuses_the_others_in_korean() {
    let w = world().await;
    let mut operators = Vec::new();
    for role in Role::ALL {
        operators.push((role, operator_session(&w.service, role.as_str().replace('_', "-").as_str(), role, false).await));
    }
    for route in pages::route_table() {
        let path = concrete(route.path);
        let Access::Needs(permission) = route.access else {
            if route.method == "GET" {
                let page = get(&w, &path, None).await;
                assert!(page.status != StatusCode::FORBIDDEN && page.status != StatusCode::UNAUTHORIZED, "{path} is open, got {}", page.status);
            }
            continue;
        };
        assert_eq!(route.method, "GET", "a page route that needs a session is a GET: actions go to the API with a CSRF token");
        let page = get(&w, &path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path} without a session");
        for (role, op) in &operators {
            let page = get(&w, &path, Some(op)).await;
            let content_type = page.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
            assert_eq!(content_type, "text/html; charset=utf-8", "{path} as {role}");
            if role.grants(permission) {
                assert_ne!(page.status, StatusCode::FORBIDDEN, "{path} as {role}: {}", page.html);
                if !route.path.contains('{') {
                    assert_eq!(page.status, StatusCode::OK, "{path} as {role}");
                    assert!(!page.html.contains(r#"class="flash error""#), "{path} as {role}: the API refused the page's request: {}", page.html);
                }
            } else {
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{path} as {role}");
                assert!(page.html.contains("권한이 없습니다"), "{path} as {role}: {}", page.html);
            }
        }
    }
}

#[tokio::test]
async fn the_menu_shows_only_the_areas_a_role_may_open() {
    let w = world().await;
    let viewer = operator_session(&w.service, "view", Role::Viewer, false).await;
    let boss = operator_session(&w.service, "boss", Role::SuperAdmin, false).await;
    let as_viewer = get(&w, "/admin/incidents", Some(&viewer)).await.html;
    let as_boss = get(&w, "/admin/incidents", Some(&boss)).await.html;
    assert!(!as_viewer.contains(r#"href="/admin/operators""#) && !as_viewer.contains(r#"href="/admin/audit""#));
    assert!(as_boss.contains(r#"href="/admin/operators""#) && as_boss.contains(r#"href="/admin/audit""#));
    assert!(as_boss.contains(r#"<meta name="csrf-token" content=""#), "actions read the CSRF token from the page");
}

#[tokio::test]
async fn resolve_buttons_show_for_roles_that_may_act_and_personal_data_is_masked_without_pii() {
    let w = world().await;
    unmatched_deposit(&w, "홍길동").await;
    let viewer = operator_session(&w.service, "view", Role::Viewer, false).await;
    let admin = operator_session(&w.service, "kim", Role::Admin, false).await;
    let pii = operator_session(&w.service, "lee", Role::Admin, true).await;

    let seen_by_viewer = get(&w, "/admin/exceptions?merchant_id=unmatched", Some(&viewer)).await;
    assert_eq!(seen_by_viewer.status, StatusCode::OK);
    assert!(seen_by_viewer.html.contains("35,000원") && seen_by_viewer.html.contains("없는 계좌"), "{}", seen_by_viewer.html);
    assert!(!seen_by_viewer.html.contains("/resolve"), "no resolve button for a viewer");
    assert!(!seen_by_viewer.html.contains("XLSX"), "no download for a viewer");
    assert!(seen_by_viewer.html.contains("홍*동") && !seen_by_viewer.html.contains("홍길동"));

    let seen_by_admin = get(&w, "/admin/exceptions?merchant_id=unmatched", Some(&admin)).await.html;
    assert!(seen_by_admin.contains(r#"/resolve""#) && seen_by_admin.contains("35,000원 환불"), "{seen_by_admin}");
    assert!(seen_by_admin.contains("data-confirm="), "money moves only after a confirmation");
    assert!(seen_by_admin.contains("format=xlsx"));
    assert!(seen_by_admin.contains("홍*동"));

    let unmasked = get(&w, "/admin/exceptions?merchant_id=unmatched", Some(&pii)).await.html;
    assert!(unmasked.contains("홍길동"));
    let audit = w.service.audit().newest_first(10, None).await.unwrap().items;
    assert!(
        audit.iter().any(|e| e.record.action == vaccount::domain::operator::AuditAction::PiiUnmasked && e.record.actor == "lee"),
        "the page's unmasked read is audited once, by the API"
    );
}

#[tokio::test]
async fn the_assets_are_served_from_the_binary_and_kept_for_a_year() {
    let w = world().await;
    let login = get(&w, "/admin/login", None).await.html;
    let htmx = login.split(r#"<script src=""#).nth(1).and_then(|s| s.split('"').next()).expect("a script link");
    assert!(htmx.starts_with("/admin/assets/htmx.min.") && htmx.ends_with(".js"), "{htmx}");
    let asset = get(&w, htmx, None).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert_eq!(asset.headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(asset.headers["content-type"], "text/javascript; charset=utf-8");
    assert!(asset.html.starts_with("var htmx="));
    assert_eq!(get(&w, "/admin/assets/htmx.min.js", None).await.status, StatusCode::NOT_FOUND, "only the hashed name");
    let page = get(&w, "/admin/login", None).await;
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(page.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn a_list_pages_with_its_cursor_and_keeps_its_filters() {
    let w = world().await;
    let boss = operator_session(&w.service, "boss", Role::SuperAdmin, false).await;
    for name in ["kim", "lee"] {
        w.service.operators().create_user(name.parse().unwrap(), Role::Viewer, false, None).await.unwrap();
    }
    let first = get(&w, "/admin/operators?limit=2", Some(&boss)).await.html;
    assert_eq!(first.matches(r#"<tr class="row""#).count(), 2, "{first}");
    let next = first.split(r#"<a class="next" href=""#).nth(1).and_then(|s| s.split('"').next()).expect("a 다음 link").replace("&amp;", "&");
    assert!(next.starts_with("/admin/operators?limit=2&cursor="), "{next}");
    let second = get(&w, &next, Some(&boss)).await.html;
    assert_eq!(second.matches(r#"<tr class="row""#).count(), 1, "{second}");
    assert!(!second.contains(r#"class="next""#), "the last page has no 다음");
    assert!(second.contains(r#"href="/admin/operators?limit=2">처음으로"#), "{second}");
}

#[tokio::test]
async fn an_expired_password_leads_from_the_login_to_the_password_change() {
    let w = world().await;
    let kim = operator_session(&w.service, "kim", Role::Admin, false).await;
    w.clock.advance(chrono::Duration::days(91));
    let login = post_form(&w, "/admin/login", &[("name", "kim"), ("password", OPERATOR_PASSWORD), ("code", &code_now(&w, &kim.secret, 0))]).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER, "{}", login.html);
    assert_eq!(location(&login), "/admin/password?expired=1&name=kim");
    let page = get(&w, location(&login), None).await;
    assert!(page.html.contains("90일이 지났습니다") && page.html.contains(r#"name="name" value="kim""#), "{}", page.html);

    w.clock.advance(chrono::Duration::seconds(30));
    let fields = [
        ("name", "kim"),
        ("password", OPERATOR_PASSWORD),
        ("code", &code_now(&w, &kim.secret, 0)),
        ("new_password", OPERATOR_PASSWORD),
        ("new_password_again", OPERATOR_PASSWORD),
    ];
    let reused = post_form(&w, "/admin/password", &fields).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert!(reused.html.contains("최근 5개 비밀번호와 달라야 합니다"), "{}", reused.html);
    w.clock.advance(chrono::Duration::seconds(30));
    let fresh = "a completely new passphrase";
    let code = code_now(&w, &kim.secret, 0);
    let fields = [("name", "kim"), ("password", OPERATOR_PASSWORD), ("code", &code), ("new_password", fresh), ("new_password_again", fresh)];
    let changed = post_form(&w, "/admin/password", &fields).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.html);
    assert!(changed.html.contains("비밀번호를 변경했습니다"));
}
