//! Operator routes for operations incidents, under the operators' bearer token:
//! `GET /v1/operator/incidents?status=`, `POST /v1/operator/incidents/{id}/acknowledge`,
//! `POST /v1/operator/incidents/{id}/resolve`. The acting operator is recorded on the incident.

use super::operator::Operator;
use super::problem::Problem;
use super::{AppState, ListBody, dto, json};
use crate::app::AppError;
use crate::domain::IncidentId;
use crate::domain::incident::IncidentStatus;
use axum::Router;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{StatusCode, Uri};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/operator/incidents", get(list))
        .route("/v1/operator/incidents/{id}/acknowledge", post(acknowledge))
        .route("/v1/operator/incidents/{id}/resolve", post(resolve))
        .layer(axum::extract::DefaultBodyLimit::max(super::auth::MAX_BODY_BYTES))
}

async fn list(State(state): State<AppState>, _operator: Operator, uri: Uri) -> Result<Response, AppError> {
    let mut status = None;
    let (f, paging) = dto::listing_query(uri.query(), |f, name, value| {
        if name != "status" {
            return false;
        }
        status = value.parse::<IncidentStatus>().map_err(|e| f.fail("status", e)).ok();
        true
    })?;
    let paging = f.done(paging)?;
    let page = state.service.incidents().list_incidents(status, paging.limit, paging.cursor).await?;
    let body = ListBody { data: page.items, next_cursor: page.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}

fn incident_id(id: Result<Path<String>, PathRejection>) -> Result<IncidentId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

/// The body must be empty or `{}`: the same 413 and 400 answers as the other operator routes.
fn empty_body(body: Result<Bytes, BytesRejection>) -> Result<(), Problem> {
    let body = body.map_err(|_| super::auth::TOO_LARGE)?;
    Ok(dto::parse_empty(&body)?)
}

async fn acknowledge(
    State(state): State<AppState>,
    operator: Operator,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    empty_body(body)?;
    let incident = state.service.incidents().acknowledge_incident(&operator.0, &incident_id(id)?).await?;
    Ok(json(StatusCode::OK, &incident))
}

async fn resolve(
    State(state): State<AppState>,
    operator: Operator,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    empty_body(body)?;
    let incident = state.service.incidents().resolve_incident(&operator.0, &incident_id(id)?).await?;
    Ok(json(StatusCode::OK, &incident))
}
