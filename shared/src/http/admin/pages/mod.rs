//! The operations dashboard (`/admin/…`): server-rendered pages (`maud`) over the admin JSON
//! API, in Korean, with htmx and one small script of our own served from the binary.
//!
//! A page never reads the store: it asks the admin API in-process ([`api::Api`]), forwarding
//! the operator's cookie and address, so masking, role checks and audit happen once, in the
//! API, exactly as for a script calling it. Page routes sit in the same route table and behind
//! the same [`enforce`](super::enforce) layer as the API; [`as_page`] only turns its refusals
//! into pages: no session → the login page, a missing permission → "권한이 없습니다".
//!
//! Actions (resolve, approve, resend, …) are sent by the browser straight to the JSON API with
//! the CSRF token of the page (`assets/admin.js`); the pages only decide which buttons an
//! operator sees.

mod accounts;
mod api;
mod assets;
mod audit;
mod chart;
mod deposits;
mod enrol;
mod exceptions;
mod home;
mod incidents;
mod layout;
mod list;
mod login;
mod merchants;
mod notices;
mod operators;
mod pool;
mod reconciliation;
mod settlements;
mod show;
mod webhooks;

use super::{Access, AdminRoute, route};
use crate::domain::operator::Permission;
use crate::http::AppState;
use api::Refusal;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use http::Method;

use Access::{Needs, Open};
use Permission::{Audit, Manage, Read};

/// Every dashboard route with what it needs, as [`super::table`] lists the API's.
pub(super) fn table() -> Vec<(AdminRoute, MethodRouter<AppState>)> {
    use axum::routing::{get, post};
    vec![
        (route(Method::GET, "/admin", Open), get(home::to_home)),
        (route(Method::GET, "/admin/assets/{file}", Open), get(assets::serve)),
        (route(Method::GET, "/admin/login", Open), get(login::form)),
        (route(Method::POST, "/admin/login", Open), post(login::submit)),
        (route(Method::GET, "/admin/password", Open), get(login::password_form)),
        (route(Method::POST, "/admin/password", Open), post(login::password_submit)),
        (route(Method::GET, "/admin/enrol", Open), get(enrol::start)),
        (route(Method::POST, "/admin/enrol", Open), post(enrol::set_password)),
        (route(Method::POST, "/admin/enrol/confirm", Open), post(enrol::confirm)),
        (route(Method::GET, "/admin/", Needs(Read)), get(home::page)),
        (route(Method::GET, "/admin/exceptions", Needs(Read)), get(exceptions::page)),
        (route(Method::GET, "/admin/incidents", Needs(Read)), get(incidents::page)),
        (route(Method::GET, "/admin/incidents/{id}", Needs(Read)), get(incidents::detail)),
        (route(Method::GET, "/admin/webhooks", Needs(Read)), get(webhooks::page)),
        (route(Method::GET, "/admin/notices", Needs(Read)), get(notices::page)),
        (route(Method::GET, "/admin/merchants", Needs(Read)), get(merchants::page)),
        (route(Method::GET, "/admin/merchants/{id}", Needs(Read)), get(merchants::detail)),
        (route(Method::GET, "/admin/virtual-accounts", Needs(Read)), get(accounts::page)),
        (route(Method::GET, "/admin/virtual-accounts/{id}", Needs(Read)), get(accounts::detail)),
        (route(Method::GET, "/admin/deposits", Needs(Read)), get(deposits::page)),
        (route(Method::GET, "/admin/settlements", Needs(Read)), get(settlements::page)),
        (route(Method::GET, "/admin/reconciliation", Needs(Read)), get(reconciliation::page)),
        (route(Method::GET, "/admin/pool", Needs(Read)), get(pool::page)),
        (route(Method::GET, "/admin/operators", Needs(Manage)), get(operators::page)),
        (route(Method::GET, "/admin/audit", Needs(Audit)), get(audit::page)),
    ]
}

/// The dashboard's routes and what each needs (for tests and docs).
pub fn route_table() -> Vec<AdminRoute> {
    table().into_iter().map(|(r, _)| r).collect()
}

/// Around a page route, outside [`enforce`](super::enforce): a refusal (problem+json, from the
/// layer or from the API a page asked) becomes a page. The only place a page shows an error.
pub(super) async fn as_page(request: Request, next: Next) -> Response {
    let wanted = request.uri().path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_else(|| "/admin/".into());
    let response = next.run(request).await;
    match Refusal::read(response).await {
        Ok(refusal) => refusal.into_page(&wanted),
        Err(response) => response,
    }
}

/// An answer that is a page: HTML, never cached, never framed, scripts and styles only from
/// `/admin/assets`.
pub(super) struct Html {
    status: http::StatusCode,
    markup: maud::Markup,
}

impl Html {
    pub(super) fn ok(markup: maud::Markup) -> Html {
        Html { status: http::StatusCode::OK, markup }
    }

    pub(super) fn with_status(status: http::StatusCode, markup: maud::Markup) -> Html {
        Html { status, markup }
    }
}

/// What a page may load and do: its own scripts and styles, inline SVG and `data:` images, and
/// nothing framed, so an injected string can neither run nor be clicked through.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

impl IntoResponse for Html {
    fn into_response(self) -> Response {
        use http::HeaderValue;
        use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY as CSP, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
        let mut response = (self.status, self.markup.into_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(CSP, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        response
    }
}

/// `303 See Other` to `location`: where a form's POST sends the browser next.
pub(super) fn see_other(location: &str) -> Response {
    let mut response = http::StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = http::HeaderValue::from_str(location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response
}

/// A `next` page to return to after login: only a dashboard path, never another site.
pub(super) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/admin/") && !n.starts_with("//") && !n.contains('\\') && !n.starts_with("/admin/login") => n,
        _ => "/admin/",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_login_only_a_dashboard_path_is_followed() {
        assert_eq!(safe_next(Some("/admin/exceptions?state=open")), "/admin/exceptions?state=open");
        for elsewhere in ["https://evil.example/", "//evil.example/admin/", "/v1/deposits", "/admin/login?next=/admin/", "/admin/\\evil"] {
            assert_eq!(safe_next(Some(elsewhere)), "/admin/", "{elsewhere}");
        }
        assert_eq!(safe_next(None), "/admin/");
    }
}
