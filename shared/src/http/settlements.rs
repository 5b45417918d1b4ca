//! A merchant's settlements and their files (function `settlements-api`, and `serve`).

use super::auth::Signed;
use super::{AppState, ListBody, dto, finish_with, json};
use crate::app::Unavailable;
use crate::app::settlements::{SettlementView, Settlements};
use crate::app::{AppError, Service};
use crate::domain::calendar::kst_day;
use crate::ports::BlobDownload;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use http::{StatusCode, Uri, header};
use std::sync::Arc;
use std::time::Duration;

/// How long a presigned download link works.
const LINK_VALID_FOR: Duration = Duration::from_secs(300);

/// `GET /v1/settlements` and `GET /v1/settlements/{date}/files/{name}`.
pub fn settlement_routes(service: Arc<Service>, settlements: Arc<Settlements>) -> Router {
    finish_with(group(), AppState { service, settlements: Some(settlements), resolver: None })
}

pub(super) fn group() -> Router<AppState> {
    Router::new().route("/v1/settlements", get(list_settlements)).route("/v1/settlements/{date}/files/{name}", get(settlement_file))
}

fn settlements_of(state: &AppState) -> Result<&Settlements, AppError> {
    state.settlements.as_deref().ok_or(AppError::Unavailable(Unavailable::NotConfigured("settlement files")))
}

async fn list_settlements(State(state): State<AppState>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let settlements = settlements_of(&state)?;
    let (from, to, paging) = dto::parse_settlement_query(uri.query(), kst_day(state.service.clock().now()))?;
    let found = settlements.list(&signed.merchant.id, from, to, paging.limit, paging.cursor).await?;
    let body = ListBody { data: found.items.iter().map(SettlementView::of).collect(), next_cursor: found.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}

async fn settlement_file(State(state): State<AppState>, path: Result<Path<(String, String)>, PathRejection>, signed: Signed) -> Result<Response, AppError> {
    // A path that names no day cannot name a settlement: not found, as any unknown file.
    let Ok(Path((date, name))) = path else { return Err(AppError::NotFound) };
    file_response(&state, &signed.merchant.id, &date, &name).await
}

/// One of a merchant's settlement files (`date` as the path gives it): streamed from the data
/// dir in `serve`, a redirect to a short-lived presigned link in AWS. Shared with the admin API.
pub(crate) async fn file_response(state: &AppState, merchant: &crate::domain::MerchantId, date: &str, name: &str) -> Result<Response, AppError> {
    let settlements = settlements_of(state)?;
    let day = dto::parse_day(date).map_err(|_| AppError::NotFound)?;
    let (download, content_type) = settlements.file(merchant, day, name, LINK_VALID_FOR).await?;
    let response = match download {
        BlobDownload::Redirect(url) => Response::builder().status(StatusCode::FOUND).header(header::LOCATION, url).body(Body::empty()),
        BlobDownload::Local(path) => {
            let file = tokio::fs::File::open(&path).await.map_err(|e| Unavailable::Files { what: "settlement file", detail: e.to_string() })?;
            let length = file.metadata().await.map_err(|e| Unavailable::Files { what: "settlement file", detail: e.to_string() })?.len();
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, content_type)
                .header(header::CONTENT_LENGTH, length)
                .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
                .body(Body::from_stream(tokio_util::io::ReaderStream::new(file)))
        }
    };
    response.map_err(|e| Unavailable::Encoding(e.to_string()).into())
}
