//! Webhook endpoints, their attempt logs, event resends and the events feed (function
//! `webhooks-api`).

use super::auth::{Signed, idempotent};
use super::dto;
use super::{AppState, ListBody, body_of, finish_with, json};
use crate::app::Unavailable;
use crate::app::idempotency::Receipt;
use crate::app::webhooks::RotatedSecret;
use crate::app::{AppError, Service};
use crate::domain::time::kst_serde;
use crate::domain::webhook::{WebhookAttempt, WebhookEndpoint};
use crate::domain::{EventId, EventType, OutboxEvent, WebhookEndpointId};
use crate::fields::{self, Fields};
use crate::ports::HostResolver;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Utc};
use http::{StatusCode, Uri};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// Every webhook and events route (function `webhooks-api`); URLs' host names are checked
/// through `resolver`.
pub fn webhook_routes(service: Arc<Service>, resolver: Arc<dyn HostResolver>) -> Router {
    finish_with(group(), AppState { service, settlements: None, resolver: Some(resolver) })
}

pub(super) fn group() -> Router<AppState> {
    Router::new()
        .route("/v1/webhook-endpoints", post(create_endpoint).get(list_endpoints))
        .route("/v1/webhook-endpoints/{id}", delete(delete_endpoint))
        .route("/v1/webhook-endpoints/{id}/rotate-secret", post(rotate_secret))
        .route("/v1/webhook-endpoints/{id}/attempts", get(list_attempts))
        .route("/v1/events", get(list_events))
        .route("/v1/events/{id}/resend", post(resend_event))
}

/// An endpoint as the merchant sees it; the secret only in the answer that created it.
#[derive(Serialize)]
struct EndpointView {
    id: WebhookEndpointId,
    url: String,
    /// `null`: every merchant event.
    event_types: Option<Vec<EventType>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(with = "kst_serde")]
    created_at: DateTime<Utc>,
}

impl EndpointView {
    fn of(endpoint: &WebhookEndpoint, with_secret: bool) -> EndpointView {
        EndpointView {
            id: endpoint.id.clone(),
            url: endpoint.url.as_str().to_owned(),
            event_types: endpoint.event_types.clone(),
            secret: with_secret.then(|| endpoint.current_secret().map(ToString::to_string)).flatten(),
            created_at: endpoint.created_at,
        }
    }
}

#[derive(Serialize)]
struct AttemptView {
    event_id: EventId,
    attempt: u32,
    status_code: Option<u16>,
    latency_ms: u64,
    error: Option<String>,
    #[serde(with = "kst_serde")]
    at: DateTime<Utc>,
}

impl From<&WebhookAttempt> for AttemptView {
    fn from(a: &WebhookAttempt) -> AttemptView {
        AttemptView { event_id: a.event_id.clone(), attempt: a.attempt, status_code: a.status_code, latency_ms: a.latency_ms, error: a.error.clone(), at: a.at }
    }
}

fn parse_endpoint_id(id: Result<Path<String>, PathRejection>) -> Result<WebhookEndpointId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

fn parse_event_id(id: Result<Path<String>, PathRejection>) -> Result<EventId, AppError> {
    id.ok().and_then(|Path(id)| id.parse().ok()).ok_or(AppError::NotFound)
}

/// `{"url": "https://…", "event_types": [...]}`; `event_types` left out (or null) means all.
fn parse_create(body: &[u8]) -> Result<(String, Option<Vec<EventType>>), AppError> {
    let map = fields::object(body, &["url", "event_types"])?;
    let mut f = Fields::default();
    let url = fields::parsed::<String>(&mut f, &map, "url");
    let event_types = match map.get("event_types") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut types = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str().and_then(|s| s.parse::<EventType>().ok()).filter(|k| k.is_merchant_event()) {
                    Some(kind) => types.push(kind),
                    None => f.fail(&format!("event_types[{i}]"), "is not an event type merchants receive"),
                }
            }
            Some(types)
        }
        Some(_) => {
            f.fail("event_types", "must be an array of event types");
            None
        }
    };
    match url {
        Some(url) if f.errors.is_empty() => Ok((url, event_types)),
        _ => Err(AppError::invalid("one or more fields are invalid", f.errors)),
    }
}

async fn create_endpoint(State(state): State<AppState>, signed: Signed) -> Response {
    let Some(resolver) = state.resolver.as_deref() else {
        return AppError::from(Unavailable::NotConfigured("webhook registration")).into_response();
    };
    let (service, signed) = (&state.service, &signed);
    idempotent(service, signed, move |hold| async move {
        let (url, event_types) = parse_create(&signed.body)?;
        let answer = |endpoint: &WebhookEndpoint| Ok((StatusCode::CREATED.as_u16(), body_of(&EndpointView::of(endpoint, true))?));
        let receipt = Receipt::new(hold.as_deref(), &answer);
        let endpoint = service.webhooks().create_webhook_endpoint_with(&signed.merchant.id, &url, event_types, resolver, &receipt).await?;
        answer(&endpoint)
    })
    .await
}

async fn list_endpoints(State(state): State<AppState>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let paging = dto::parse_paging(uri.query())?;
    let listing = state.service.webhooks().list_webhook_endpoints(&signed.merchant.id, paging.limit, paging.cursor).await?;
    let body =
        ListBody { data: listing.items.iter().map(|e| EndpointView::of(e, false)).collect(), next_cursor: listing.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}

async fn delete_endpoint(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, signed: Signed) -> Result<Response, AppError> {
    dto::parse_empty(&signed.body)?;
    state.service.webhooks().delete_webhook_endpoint(&signed.merchant.id, &parse_endpoint_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
struct RotatedView {
    id: WebhookEndpointId,
    secret: String,
    #[serde(with = "kst_serde")]
    previous_secret_expires_at: DateTime<Utc>,
}

async fn rotate_secret(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, signed: Signed) -> Response {
    let (service, signed) = (&state.service, &signed);
    idempotent(service, signed, move |hold| async move {
        dto::parse_empty(&signed.body)?;
        let answer = |rotated: &RotatedSecret| {
            let view = RotatedView {
                id: rotated.endpoint_id.clone(),
                secret: rotated.secret.to_string(),
                previous_secret_expires_at: rotated.previous_secret_expires_at,
            };
            Ok((StatusCode::OK.as_u16(), body_of(&view)?))
        };
        let receipt = Receipt::new(hold.as_deref(), &answer);
        let rotated = service.webhooks().rotate_webhook_secret_with(&signed.merchant.id, &parse_endpoint_id(id)?, &receipt).await?;
        answer(&rotated)
    })
    .await
}

async fn list_attempts(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let paging = dto::parse_paging(uri.query())?;
    let listing = state.service.webhooks().list_webhook_attempts(&signed.merchant.id, &parse_endpoint_id(id)?, paging.limit, paging.cursor).await?;
    let body = ListBody { data: listing.items.iter().map(AttemptView::from).collect(), next_cursor: listing.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}

#[derive(Serialize)]
struct ResendView {
    event_id: EventId,
    /// The id of the resend request: the new delivery round.
    resend_id: EventId,
}

async fn resend_event(State(state): State<AppState>, id: Result<Path<String>, PathRejection>, signed: Signed) -> Response {
    let (service, signed) = (&state.service, &signed);
    idempotent(service, signed, move |hold| async move {
        dto::parse_empty(&signed.body)?;
        let event_id = parse_event_id(id)?;
        let answer =
            |request: &OutboxEvent| Ok((StatusCode::ACCEPTED.as_u16(), body_of(&ResendView { event_id: event_id.clone(), resend_id: request.id.clone() })?));
        let receipt = Receipt::new(hold.as_deref(), &answer);
        let request = service.webhooks().resend_event_with(&signed.merchant.id, &event_id, &receipt).await?;
        answer(&request)
    })
    .await
}

async fn list_events(State(state): State<AppState>, uri: Uri, signed: Signed) -> Result<Response, AppError> {
    let mut after = None;
    let mut kind = None;
    let (f, paging) = dto::listing_query(uri.query(), |f, name, value| {
        match name {
            "after" => after = value.parse::<EventId>().map_err(|e| f.fail("after", e)).ok(),
            "type" => {
                kind = value.parse::<EventType>().ok().filter(|k| k.is_merchant_event()).or_else(|| {
                    f.fail("type", "is not an event type merchants receive");
                    None
                })
            }
            _ => return false,
        }
        true
    })?;
    let paging = f.done(paging)?;
    let listing = state.service.webhooks().list_events(&signed.merchant.id, after, kind, paging.limit, paging.cursor).await?;
    let body = ListBody { data: listing.items, next_cursor: listing.next.as_ref().map(dto::encode_cursor) };
    Ok(json(StatusCode::OK, &body))
}
