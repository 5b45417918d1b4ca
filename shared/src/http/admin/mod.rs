//! The admin API (`/admin/v1/…`, JSON, cookie session + CSRF) and the dashboard's pages.
//!
//! Access control has one home: [`table`] names every admin route with the [`Access`] it needs,
//! and [`enforce`] — the only layer that looks at sessions, CSRF tokens, roles and allowlists —
//! is put on each route from that entry. Handlers receive the [`Acting`] operator the layer
//! found; none of them checks a role itself. `shared/tests/admin_rbac.rs` walks every route of
//! the table with every role.

mod identity;
pub mod lists;
pub mod mask;
mod merchants;
mod operations;
pub mod pages;
mod queue;

use super::AppState;
use super::problem::Problem;
use crate::app::AppError;
use crate::app::audit::Origin;
use crate::app::operators::Acting;
use crate::domain::operator::Permission;
use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use bytes::Bytes;
use http::{HeaderMap, Method};

/// The session cookie: `Path=/admin` covers the API and the dashboard, nothing else.
pub const COOKIE: &str = "vaccount_admin";
/// The header every state-changing request carries with the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header a step-up action carries with a fresh TOTP code.
pub const STEP_UP_HEADER: &str = "x-totp-code";

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No session: enrolment, login, password change.
    Open,
    /// A live session whose role grants this permission.
    Needs(Permission),
}

/// One admin route: method, path (axum syntax) and what it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRoute {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

const fn route(method: Method, path: &'static str, access: Access) -> AdminRoute {
    AdminRoute { method, path, access }
}

use Access::{Needs, Open};
use Permission::{Act, Audit, Export, Manage, Read};

/// Every admin route, with its handler. The single source of the router and of the RBAC test.
fn table() -> Vec<(AdminRoute, MethodRouter<AppState>)> {
    use axum::routing::{delete, get, patch, post};
    vec![
        (route(Method::POST, "/admin/v1/enrolment", Open), post(identity::enrol)),
        (route(Method::POST, "/admin/v1/enrolment/confirm", Open), post(identity::confirm)),
        (route(Method::POST, "/admin/v1/session", Open), post(identity::login)),
        (route(Method::POST, "/admin/v1/password", Open), post(identity::change_password)),
        (route(Method::GET, "/admin/v1/session", Needs(Read)), get(identity::whoami)),
        (route(Method::DELETE, "/admin/v1/session", Needs(Read)), delete(identity::logout)),
        (route(Method::GET, "/admin/v1/operators", Needs(Manage)), get(identity::list_operators)),
        (route(Method::POST, "/admin/v1/operators", Needs(Manage)), post(identity::create_operator)),
        (route(Method::GET, "/admin/v1/operators/{name}", Needs(Manage)), get(identity::get_operator)),
        (route(Method::PATCH, "/admin/v1/operators/{name}", Needs(Manage)), patch(identity::update_operator)),
        (route(Method::POST, "/admin/v1/operators/{name}/unlock", Needs(Manage)), post(identity::unlock_operator)),
        (route(Method::GET, "/admin/v1/audit", Needs(Audit)), get(lists::audit)),
        (route(Method::GET, "/admin/v1/exceptions", Needs(Read)), get(lists::exceptions)),
        (route(Method::POST, "/admin/v1/exceptions/{id}/resolve", Needs(Act)), post(queue::resolve)),
        (route(Method::POST, "/admin/v1/exceptions/{id}/approve", Needs(Act)), post(queue::approve)),
        (route(Method::POST, "/admin/v1/exceptions/{id}/reject", Needs(Act)), post(queue::reject)),
        (route(Method::GET, "/admin/v1/incidents", Needs(Read)), get(lists::incidents)),
        (route(Method::GET, "/admin/v1/incidents/{id}", Needs(Read)), get(queue::incident)),
        (route(Method::POST, "/admin/v1/incidents/{id}/acknowledge", Needs(Act)), post(queue::acknowledge)),
        (route(Method::POST, "/admin/v1/incidents/{id}/resolve", Needs(Act)), post(queue::resolve_incident)),
        (route(Method::POST, "/admin/v1/events/{id}/resend", Needs(Act)), post(queue::resend)),
        (route(Method::GET, "/admin/v1/overview", Needs(Read)), get(operations::overview)),
        (route(Method::GET, "/admin/v1/pool", Needs(Read)), get(operations::pool)),
        (route(Method::GET, "/admin/v1/merchants", Needs(Read)), get(lists::merchants)),
        (route(Method::POST, "/admin/v1/merchants", Needs(Manage)), post(merchants::create)),
        (route(Method::GET, "/admin/v1/merchants/{id}", Needs(Read)), get(merchants::detail)),
        (route(Method::PATCH, "/admin/v1/merchants/{id}", Needs(Manage)), patch(merchants::change_settings)),
        (route(Method::POST, "/admin/v1/merchants/{id}/keys", Needs(Manage)), post(merchants::add_key)),
        (route(Method::DELETE, "/admin/v1/merchants/{id}/keys/{key_id}", Needs(Manage)), delete(merchants::revoke_key)),
        (route(Method::GET, "/admin/v1/virtual-accounts", Needs(Read)), get(lists::accounts)),
        (route(Method::GET, "/admin/v1/virtual-accounts/{id}", Needs(Read)), get(lists::account)),
        (route(Method::GET, "/admin/v1/deposits", Needs(Read)), get(lists::deposits)),
        (route(Method::GET, "/admin/v1/deposits/{id}", Needs(Read)), get(lists::deposit)),
        (route(Method::GET, "/admin/v1/webhook-attempts", Needs(Read)), get(lists::webhook_attempts)),
        (route(Method::GET, "/admin/v1/webhook-endpoints", Needs(Read)), get(lists::webhook_endpoints)),
        (route(Method::POST, "/admin/v1/webhook-endpoints/{id}/resend-dead-letters", Needs(Act)), post(operations::resend_dead_letters)),
        (route(Method::GET, "/admin/v1/notices", Needs(Read)), get(lists::notices)),
        (route(Method::GET, "/admin/v1/settlements", Needs(Read)), get(lists::settlements)),
        (route(Method::GET, "/admin/v1/settlements/{merchant_id}/{date}/files/{name}", Needs(Export)), get(operations::settlement_file)),
        (route(Method::GET, "/admin/v1/reconciliation-reports", Needs(Read)), get(lists::reconciliation_reports)),
    ]
}

/// Every admin route and what it needs (for tests and docs).
pub fn route_table() -> Vec<AdminRoute> {
    table().into_iter().map(|(r, _)| r).collect()
}

/// The admin API and the dashboard: each route behind [`enforce`] with its own [`Access`]; a
/// page's refusals shown as pages ([`pages::as_page`]).
pub(super) fn routes() -> Router<AppState> {
    let pages = pages::table().into_iter().fold(Router::new(), |router, (route, handler)| {
        router.route(route.path, guarded(route.access, handler).route_layer(axum::middleware::from_fn(pages::as_page)))
    });
    api_routes().merge(pages.layer(axum::extract::DefaultBodyLimit::max(super::auth::MAX_BODY_BYTES)))
}

/// The admin API alone (`/admin/v1`): what the dashboard's pages ask in-process.
fn api_routes() -> Router<AppState> {
    table()
        .into_iter()
        .fold(Router::new(), |router, (route, handler)| router.route(route.path, guarded(route.access, handler)))
        .layer(axum::extract::DefaultBodyLimit::max(super::auth::MAX_BODY_BYTES))
}

fn guarded(access: Access, handler: MethodRouter<AppState>) -> MethodRouter<AppState> {
    handler.route_layer(axum::middleware::from_fn(move |request: Request, next: Next| enforce(access, request, next)))
}

/// Where the request came from: the client address (`ClientIp`) and its user agent.
pub(crate) fn origin_of(request_extensions: &http::Extensions, headers: &HeaderMap) -> Origin {
    Origin {
        ip: request_extensions.get::<super::ClientIp>().map(|c| c.0),
        user_agent: headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(256).collect()),
    }
}

/// The session cookie's value, if the request carries one.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// The one access check of the admin API: a live session (401 otherwise), its CSRF token on
/// every state-changing request (403), a role that grants the route's permission (403), and
/// `Export` as well for `format=xlsx` (403). The operator found rides on to the handler.
pub async fn enforce(access: Access, mut request: Request, next: Next) -> Response {
    let Some(state) = request.extensions().get::<AppState>().cloned() else {
        return Problem::from(AppError::from(crate::app::Unavailable::NotConfigured("the admin state"))).into_response();
    };
    let origin = origin_of(request.extensions(), request.headers());
    // The global allowlist holds for the open routes too: from outside it, nobody can make a
    // login or password change count against an operator.
    if !crate::domain::operator::allowed(&state.service.settings().admin_allowed_ips, origin.ip) {
        return Problem::from(AppError::Forbidden("not allowed from this address")).into_response();
    }
    let Access::Needs(permission) = access else { return next.run(request).await };
    let Some(cookie) = session_cookie(request.headers()).map(str::to_owned) else {
        return Problem::from(AppError::Unauthorized("no session: log in at POST /admin/v1/session")).into_response();
    };
    let acting = match state.service.operators().session(&cookie, origin).await {
        Ok(acting) => acting,
        Err(e) => return Problem::from(e).into_response(),
    };
    if !is_safe(request.method()) {
        let offered = request.headers().get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        if !crate::domain::signing::constant_time_eq(offered, acting.session.csrf_token.as_bytes()) {
            return Problem::from(AppError::Forbidden("missing or wrong X-CSRF-Token")).into_response();
        }
    }
    let role = acting.operator.role;
    if !role.grants(permission) {
        return Problem::from(AppError::Forbidden("your role does not allow this")).into_response();
    }
    if wants_xlsx(request.uri().query()) && !role.grants(Permission::Export) {
        return Problem::from(AppError::Forbidden("your role does not allow downloads")).into_response();
    }
    request.extensions_mut().insert(acting);
    next.run(request).await
}

fn wants_xlsx(query: Option<&str>) -> bool {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or("")).is_ok_and(|pairs| pairs.iter().any(|(k, v)| k == "format" && v == "xlsx"))
}

/// A request body, or the same 413 the other routes give for an oversized one.
fn body_of(body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|_| super::auth::TOO_LARGE)
}

/// The step-up code a request carries, if any.
fn step_up_code(headers: &HeaderMap) -> Option<&str> {
    headers.get(STEP_UP_HEADER).and_then(|v| v.to_str().ok())
}

/// The acting operator the layer put on the request.
type Operator = axum::Extension<Acting>;
