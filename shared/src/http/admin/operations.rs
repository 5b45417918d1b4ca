//! What the operations team watches and acts on beside the lists: the dashboard home's figures
//! and charts, the number pool's stock, a resend of an endpoint's dead letters, and a
//! merchant's settlement file.

use super::queue::{answer, note};
use super::{Operator, body_of};
use crate::app::AppError;
use crate::app::audit::Change;
use crate::app::oversight::{DepositSeries, PoolStock, TodayFigures};
use crate::domain::operator::AuditAction;
use crate::domain::{BankCode, MerchantId, WebhookEndpointId};
use crate::http::problem::Problem;
use crate::http::{AppState, dto, json};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::{StatusCode, Uri};
use serde::Serialize;
use serde_json::json;

/// Routes without parameters refuse any, as every list refuses one it does not know.
fn no_query(uri: &Uri) -> Result<(), AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).map_err(|_| AppError::invalid("the query string is malformed", vec![]))?;
    match pairs.first() {
        Some((name, _)) => Err(AppError::field(name, "unknown query parameter")),
        None => Ok(()),
    }
}

/// A bank as the dashboard names it: code and Korean name.
#[derive(Serialize)]
struct BankLow {
    bank_code: BankCode,
    bank_name: &'static str,
    free: u64,
}

/// Today's figures (KST day), with the webhook failure rate worked out.
#[derive(Serialize)]
struct Today {
    #[serde(flatten)]
    figures: TodayFigures,
    /// Failed attempts of all attempts today, in basis points (1 % = 100); `null` without attempts.
    webhook_failure_rate_bps: Option<u32>,
    /// The banks below the low-water mark, named.
    pool_low_banks: Vec<BankLow>,
    /// The low-water mark: fewer free numbers than this at a bank is low.
    pool_low_threshold: usize,
}

#[derive(Serialize)]
struct Overview {
    today: Today,
    series: DepositSeries,
}

/// `GET /admin/v1/overview`: the home page's figures for today and its deposit charts (per
/// hour over 24 hours, per KST day over 30 days). Each figure says whether it counted to the
/// end (`complete`).
pub(super) async fn overview(State(state): State<AppState>, uri: Uri) -> Result<Response, Problem> {
    no_query(&uri)?;
    let now = state.service.clock().now();
    let oversight = state.service.oversight();
    let figures = oversight.today(now).await?;
    let series = oversight.deposit_series(now).await?;
    let pool_low_banks = figures.pool_low.iter().map(|p| BankLow { bank_code: p.bank, bank_name: p.bank.name(), free: p.free }).collect();
    let today = Today {
        webhook_failure_rate_bps: figures.webhook_failure_rate_bps(),
        figures,
        pool_low_banks,
        pool_low_threshold: state.service.settings().pool_low_threshold,
    };
    Ok(json(StatusCode::OK, &Overview { today, series }))
}

/// One pool's stock, its bank named.
#[derive(Serialize)]
struct PoolRow {
    bank_code: BankCode,
    bank_name: &'static str,
    #[serde(flatten)]
    stock: PoolStock,
}

/// `GET /admin/v1/pool`: every pool's stock (a provider's numbers at one bank), by bank code
/// then provider: `{"data": [...], "low_threshold"}`.
pub(super) async fn pool(State(state): State<AppState>, uri: Uri) -> Result<Response, Problem> {
    no_query(&uri)?;
    let stock = state.service.oversight().pool_stock().await?;
    let data: Vec<PoolRow> = stock.into_iter().map(|stock| PoolRow { bank_code: stock.bank, bank_name: stock.bank.name(), stock }).collect();
    Ok(json(StatusCode::OK, &json!({"data": data, "low_threshold": state.service.settings().pool_low_threshold})))
}

/// `POST /admin/v1/webhook-endpoints/{id}/resend-dead-letters`: a fresh round, to this endpoint
/// alone, of every event whose delivery to it died (at most 500 a call; `more` asks for
/// another). A second call at once resends nothing twice.
pub(super) async fn resend_dead_letters(
    State(state): State<AppState>,
    acting: Operator,
    uri: Uri,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    let id: WebhookEndpointId = id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)?;
    let resent = state.service.webhooks().resend_dead_letters(&id).await?;
    let events: Vec<_> = resent.resent.iter().map(|r| &r.event_id).collect();
    let after = json!({"resent": events, "already": resent.already, "more": resent.more});
    note(&state, &acting, Change { after: Some(after), ..Change::of(AuditAction::DeadLettersResent, id.to_string()) }).await;
    Ok(answer(&state, StatusCode::ACCEPTED, &resent, &acting, &uri).await)
}

/// `GET /admin/v1/settlements/{merchant_id}/{date}/files/{name}`: the file as its merchant
/// gets it (streamed in `serve`, a presigned redirect in AWS); the download is audited.
pub(super) async fn settlement_file(
    State(state): State<AppState>,
    acting: Operator,
    uri: Uri,
    path: Result<Path<(String, String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let Ok(Path((merchant, date, name))) = path else { return Err(AppError::NotFound.into()) };
    let merchant: MerchantId = merchant.parse().map_err(|_| AppError::NotFound)?;
    let response = crate::http::settlements::file_response(&state, &merchant, &date, &name).await?;
    note(&state, &acting, Change::of(AuditAction::ListExported, uri.path().to_owned())).await;
    Ok(response)
}
