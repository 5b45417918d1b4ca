//! HTTP: the routers of each endpoint group, shared by the Lambda functions (through
//! `lambda_http`) and by `vaccount serve` (which merges them). Request parsing, signature
//! checks and the problem+json mapping live here; business rules do not.

pub mod admin;
pub mod auth;
pub mod download;
pub mod dto;
pub mod problem;
pub mod settlements;
pub mod webhooks;

use crate::app::Unavailable;
use crate::app::idempotency::Receipt;
use crate::app::{AppError, Service};
use crate::domain::view::AccountView;
use crate::domain::{VirtualAccount, VirtualAccountId};
use crate::ports::HostResolver;
use crate::providers::NoticeRequest;
use auth::{Signed, idempotent};
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{StatusCode, Uri};
use problem::{Problem, raw_response};
use serde::Serialize;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    /// The settlement files, where this router serves them (`serve`, `settlements-api`).
    pub settlements: Option<Arc<crate::app::settlements::Settlements>>,
    /// What webhook URLs' host names are resolved with, where this router registers webhooks
    /// (`serve`, `webhooks-api`).
    pub resolver: Option<Arc<dyn HostResolver>>,
}

/// `POST /v1/virtual-accounts` (function `issue-virtual-account`).
pub fn issue_routes(service: Arc<Service>) -> Router {
    finish(issue_group(), service)
}

/// `GET /v1/virtual-accounts[/{id}]` and `GET /healthz` (function `get-virtual-account`).
pub fn read_routes(service: Arc<Service>) -> Router {
    finish(read_group(), service)
}

/// `POST /v1/virtual-accounts/{id}/close` (function `close-virtual-account`).
pub fn close_routes(service: Arc<Service>) -> Router {
    finish(close_group(), service)
}

/// `POST /v1/providers/{provider_id}/notifications` (function `deposit-callback`).
pub fn notice_routes(service: Arc<Service>) -> Router {
    finish(notice_group(), service)
}

/// `GET /v1/deposits[/{id}]` and `GET /v1/virtual-accounts/{id}/deposits` (function `get-deposits`).
pub fn deposit_routes(service: Arc<Service>) -> Router {
    finish(deposit_group(), service)
}

/// The admin API (`/admin/v1/...`, cookie session + CSRF) and the dashboard (`/admin/`)
/// (function `admin`).
pub fn admin_routes(service: Arc<Service>, settlements: Option<Arc<crate::app::settlements::Settlements>>) -> Router {
    finish_with(admin::routes(), AppState { service, settlements, resolver: None })
}

/// Every route of the service: what `serve` hosts. Without `settlements`, the settlement
/// routes answer 503.
pub fn all_routes(service: Arc<Service>, settlements: Option<Arc<crate::app::settlements::Settlements>>, resolver: Arc<dyn HostResolver>) -> Router {
    let all = issue_group()
        .merge(read_group())
        .merge(close_group())
        .merge(notice_group())
        .merge(deposit_group())
        .merge(admin::routes())
        .merge(webhooks::group())
        .merge(settlements::group());
    finish_with(all, AppState { service, settlements, resolver: Some(resolver) })
}

fn notice_group() -> Router<AppState> {
    Router::new().route("/v1/providers/{provider_id}/notifications", post(provider_notice))
}

fn deposit_group() -> Router<AppState> {
    Router::new()
        .route("/v1/deposits", get(list_deposits))
        .route("/v1/deposits/{id}", get(get_deposit))
        .route("/v1/virtual-accounts/{id}/deposits", get(account_deposits))
}

fn issue_group() -> Router<AppState> {
    Router::new().route("/v1/virtual-accounts", post(issue_account))
}

fn read_group() -> Router<AppState> {
    Router::new().route("/v1/virtual-accounts", get(list_accounts)).route("/v1/virtual-accounts/{id}", get(get_account)).route("/healthz", get(health))
}

fn close_group() -> Router<AppState> {
    Router::new().route("/v1/virtual-accounts/{id}/close", post(close_account))
}

/// Fallbacks go on last: axum cannot merge routers that already have them.
fn finish(router: Router<AppState>, service: Arc<Service>) -> Router {
    finish_with(router, AppState { service, settlements: None, resolver: None })
}

fn finish_with(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        // The admin routes' access layer reads the state from here (it is routed per route,
        // before the state is known).
        .layer(axum::Extension(state))
        .layer(axum::middleware::from_fn(request_log))
        .layer(axum::middleware::from_fn(client_ip_from_socket))
}

/// The address a request came from, for providers' allowlists: the socket peer in `serve`, the
/// API Gateway `sourceIp` in Lambda (set by the function before the router runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

async fn client_ip_from_socket(mut request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    if let (Some(ip), None) = (peer, request.extensions().get::<ClientIp>()) {
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

/// One structured log line per request, with no bodies (they hold personal data).
async fn request_log(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    response
}

async fn not_found() -> Problem {
    Problem::not_found()
}

async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}

async fn health() -> Response {
    json(StatusCode::OK, &serde_json::json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => raw_response(status, body),
        Err(e) => AppError::from(Unavailable::Encoding(e.to_string())).into_response(),
    }
}

fn body_of(value: &impl Serialize) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| Unavailable::Encoding(e.to_string()).into())
}

/// A path id that does not decode or parse cannot name any account: "not found", like any
/// other unknown id (and as problem+json, not axum's plain-text rejection).
fn parse_account_id(id: Result<Path<String>, PathRejection>) -> Result<VirtualAccountId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

/// The answer to an issue or a close: the account as the merchant sees it.
fn account_answer(status: StatusCode) -> impl Fn(&VirtualAccount) -> Result<(u16, String), AppError> + Send + Sync {
    move |account| Ok((status.as_u16(), body_of(&AccountView::from(account))?))
}

async fn issue_account(State(state): State<AppState>, signed: Signed) -> Response {
    let (service, signed) = (&state.service, &signed);
    idempotent(service, signed, move |hold| async move {
        let request = dto::parse_issue_request(&signed.body, service.clock().now(), &signed.merchant.policy)?;
        let answer = account_answer(StatusCode::CREATED);
        let receipt = Receipt::new(hold.as_deref(), &answer);
        let account = service.accounts().issue_account_with(&signed.merchant.id, signed.idempotency_key.as_deref(), request, &receipt).await?;
        answer(&account)
    })
    .await
}

async fn get_account(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, signed: Signed) -> Result<Response, AppError> {
    let account = state.service.accounts().get_account(&signed.merchant.id, &parse_account_id(id)?).await?;
    Ok(json(StatusCode::OK, &AccountView::from(&account)))
}

#[derive(Serialize)]
pub(crate) struct ListBody<T> {
    pub(crate) data: Vec<T>,
    pub(crate) next_cursor: Option<String>,
}

async fn list_accounts(State(state): State<AppState>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let params = dto::parse_list_query(uri.query())?;
    let listing = state.service.accounts().list_accounts(&signed.merchant.id, params.order_id.as_ref(), &params.filter, params.limit, params.cursor).await?;
    let body = ListBody { data: listing.items.iter().map(AccountView::from).collect(), next_cursor: listing.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}

async fn close_account(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, signed: Signed) -> Response {
    let (service, signed) = (&state.service, &signed);
    idempotent(service, signed, move |hold| async move {
        dto::parse_empty(&signed.body)?;
        let answer = account_answer(StatusCode::OK);
        let receipt = Receipt::new(hold.as_deref(), &answer);
        let account = service.accounts().close_account_with(&signed.merchant.id, &parse_account_id(id)?, &receipt).await?;
        answer(&account)
    })
    .await
}

async fn provider_notice(
    State(state): State<AppState>,
    provider: Result<Path<String>, PathRejection>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let Path(provider) = provider.map_err(|_| AppError::NotFound)?;
    let source = request.extensions().get::<ClientIp>().map(|c| c.0);
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, auth::MAX_BODY_BYTES).await.map_err(|_| auth::TOO_LARGE)?;
    // Every header goes along: which one carries a signature is the provider kind's business.
    let notice = parts
        .headers
        .iter()
        .fold(NoticeRequest::new(source, body.to_vec()), |notice, (name, value)| notice.with_header(name.as_str(), value.to_str().unwrap_or("")));
    let answer = state.service.deposits().receive_notice(&provider, &notice).await?;
    Ok(json(StatusCode::OK, &answer))
}

fn parse_deposit_id(id: Result<Path<String>, PathRejection>) -> Result<crate::domain::DepositId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

fn deposit_page(listing: crate::repo::Listing<crate::domain::Deposit>) -> Response {
    let body = ListBody {
        data: listing.items.iter().map(crate::domain::view::DepositView::from).collect(),
        next_cursor: listing.next.as_ref().map(dto::encode_cursor),
    };
    json(StatusCode::OK, &body)
}

async fn get_deposit(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, signed: Signed) -> Result<Response, AppError> {
    let deposit = state.service.deposits().get_deposit(&signed.merchant.id, &parse_deposit_id(id)?).await?;
    Ok(json(StatusCode::OK, &crate::domain::view::DepositView::from(&deposit)))
}

async fn list_deposits(State(state): State<AppState>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let (filter, paging) = dto::parse_deposit_query(uri.query())?;
    let listing = state.service.deposits().list_deposits(&signed.merchant.id, &filter, paging.limit, paging.cursor).await?;
    Ok(deposit_page(listing))
}

async fn account_deposits(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let paging = dto::parse_paging(uri.query())?;
    let listing = state.service.deposits().account_deposits(&signed.merchant.id, &parse_account_id(id)?, paging.limit, paging.cursor).await?;
    Ok(deposit_page(listing))
}
