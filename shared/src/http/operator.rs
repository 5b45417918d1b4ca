//! Operator routes of `serve`, under `Authorization: Bearer <operator token>`
//! (`vaccount operator add`): the deposit exceptions queue and its resolution. The full admin
//! API and dashboard come later; these are what an operator needs to clear exceptions now.

use super::problem::Problem;
use super::{AppState, ListBody, dto, json};
use crate::app::AppError;
use crate::app::exceptions::{ExceptionAction, ExceptionOwner};
use crate::domain::deposit::{Deposit, ExceptionState};
use crate::domain::view::DepositView;
use crate::domain::{ExceptionId, MerchantId, OperatorName};
use axum::Router;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequestParts, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::request::Parts;
use http::{StatusCode, Uri};
use serde::Serialize;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/operator/exceptions", get(list))
        .route("/v1/operator/exceptions/{id}/resolve", post(resolve))
        .route("/v1/operator/exceptions/{id}/approve", post(approve))
        .route("/v1/operator/exceptions/{id}/reject", post(reject))
        .layer(axum::extract::DefaultBodyLimit::max(super::auth::MAX_BODY_BYTES))
}

/// The body, or the same 413 problem the merchant routes give for an oversized one.
fn body_of(body: Result<Bytes, BytesRejection>) -> Result<Bytes, AppError> {
    body.map_err(|_| super::auth::TOO_LARGE)
}

/// The operator a bearer token names.
pub struct Operator(pub OperatorName);

impl FromRequestParts<AppState> for Operator {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Operator, AppError> {
        let token = parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized("missing Authorization: Bearer <operator token>"))?;
        state.service.operators().authenticate_operator(token.trim()).await.map(Operator)
    }
}

/// A deposit with an exception, as operators see it: whose it is, and how it stands.
#[derive(Serialize)]
struct ExceptionCase<'a> {
    merchant_id: Option<&'a MerchantId>,
    #[serde(flatten)]
    deposit: DepositView,
    /// The depositor's name as the provider sent it, when it was cleaned for `depositor_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    depositor_name_raw: Option<&'a str>,
    proposal: Option<&'a crate::domain::deposit::Proposal>,
    resolution_detail: Option<&'a crate::domain::deposit::Resolution>,
}

fn case(d: &Deposit) -> ExceptionCase<'_> {
    let e = d.exception.as_ref();
    ExceptionCase {
        merchant_id: d.merchant_id.as_ref(),
        deposit: DepositView::from(d),
        depositor_name_raw: d.depositor_name_raw.as_deref(),
        proposal: e.and_then(|e| e.proposal.as_ref()),
        resolution_detail: e.and_then(|e| e.resolution.as_ref()),
    }
}

async fn list(State(state): State<AppState>, _operator: Operator, uri: Uri) -> Result<Response, AppError> {
    let mut owner = None;
    let mut wanted = None;
    let (f, paging) = dto::listing_query(uri.query(), |f, name, value| {
        match name {
            "merchant_id" if value == "unmatched" => owner = Some(ExceptionOwner::Unmatched),
            "merchant_id" => owner = value.parse::<MerchantId>().map_err(|e| f.fail("merchant_id", e)).ok().map(ExceptionOwner::Merchant),
            "state" => wanted = value.parse::<ExceptionState>().map_err(|e| f.fail("state", e)).ok(),
            _ => return false,
        }
        true
    })?;
    let paging = f.done(paging)?;
    let owner = owner.ok_or_else(|| AppError::field("merchant_id", "is required: a merchant id, or `unmatched`"))?;
    let page = state.service.exceptions().list_exceptions(&owner, wanted, paging.limit, paging.cursor).await?;
    let body = ListBody { data: page.items.iter().map(case).collect(), next_cursor: page.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}

fn exception_id(id: Result<Path<String>, PathRejection>) -> Result<ExceptionId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

async fn act(state: &AppState, operator: Operator, id: Result<Path<String>, PathRejection>, action: ExceptionAction) -> Result<Response, AppError> {
    let deposit = state.service.exceptions().act_on_exception(&operator.0, &exception_id(id)?, action).await?;
    Ok(json(StatusCode::OK, &case(&deposit)))
}

type Body = Result<Bytes, BytesRejection>;

async fn resolve(State(state): State<AppState>, operator: Operator, id: Result<Path<String>, PathRejection>, body: Body) -> Result<Response, Problem> {
    let resolution = dto::parse_resolution(&body_of(body)?)?;
    Ok(act(&state, operator, id, ExceptionAction::Resolve(resolution)).await?)
}

async fn approve(State(state): State<AppState>, operator: Operator, id: Result<Path<String>, PathRejection>, body: Body) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    Ok(act(&state, operator, id, ExceptionAction::Approve).await?)
}

async fn reject(State(state): State<AppState>, operator: Operator, id: Result<Path<String>, PathRejection>, body: Body) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    Ok(act(&state, operator, id, ExceptionAction::Reject).await?)
}
