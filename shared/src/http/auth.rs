//! The signed-request extractor. It runs in every function and in `serve`: an API Gateway
//! HTTP API authorizer never sees the body, so it could not check a signature over it
//! (docs/decisions.md).

use super::AppState;
use super::problem::{Problem, raw_response};
use crate::app::idempotency::{Claim, Hold, fingerprint};
use crate::app::{AppError, Service};
use crate::domain::Merchant;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use std::sync::Arc;

/// Request bodies larger than this are refused before any parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The refusal of a body over [`MAX_BODY_BYTES`], on every route.
pub const TOO_LARGE: AppError = AppError::BodyTooLarge { limit: MAX_BODY_BYTES };

/// A request whose signature checked out, with the merchant that signed it.
pub struct Signed {
    pub merchant: Merchant,
    pub method: String,
    pub path_and_query: String,
    pub body: Bytes,
    pub idempotency_key: Option<String>,
}

/// An authentication header as text. Bytes that are not visible ASCII cannot be a valid
/// key id, timestamp or signature, so they fail authentication (401), not parsing (400).
fn auth_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or(""))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, AppError> {
    headers.get(name).map(|v| v.to_str().map_err(|_| AppError::field(name, "must be visible ASCII"))).transpose()
}

impl FromRequest<AppState> for Signed {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &AppState) -> Result<Signed, Problem> {
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| TOO_LARGE)?;
        let path_and_query = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        let headers = &parts.headers;
        let merchant = state
            .service
            .access()
            .authenticate(&crate::app::auth::SignedRequest {
                key_id: auth_header(headers, "x-va-key-id"),
                timestamp: auth_header(headers, "x-va-timestamp"),
                signature: auth_header(headers, "x-va-signature"),
                method: parts.method.as_str(),
                path_and_query: &path_and_query,
                body: &body,
            })
            .await?;
        if !body.is_empty() {
            let content_type = header_str(headers, "content-type")?.unwrap_or_default();
            if !content_type.trim_start().to_ascii_lowercase().starts_with("application/json") {
                return Err(AppError::field("Content-Type", "must be application/json").into());
            }
        }
        Ok(Signed {
            merchant,
            method: parts.method.as_str().to_owned(),
            path_and_query,
            body,
            idempotency_key: header_str(headers, "idempotency-key")?.map(str::to_owned),
        })
    }
}

/// Runs a mutating request under its `Idempotency-Key`, if it has one: a replay answers from
/// the stored response with `Idempotent-Replayed: true`; otherwise `run` gets the hold on the
/// key, hands it to its use case in a [`Receipt`](crate::app::idempotency::Receipt), and decides
/// the answer. An answer committed with the request's effect is already stored; any other is
/// stored here before it is sent.
pub async fn idempotent<F, Fut>(service: &Service, signed: &Signed, run: F) -> Response
where
    F: FnOnce(Option<Arc<Hold>>) -> Fut,
    Fut: Future<Output = Result<(u16, String), AppError>>,
{
    let render = |outcome: Result<(u16, String), AppError>| match outcome {
        Ok(ok) => ok,
        Err(e) => {
            let problem = Problem::from(e);
            (problem.status().as_u16(), problem.body())
        }
    };
    let respond = |status: u16, body: String| raw_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
    let Some(key) = &signed.idempotency_key else {
        let (status, body) = render(run(None).await);
        return respond(status, body);
    };
    let fp = fingerprint(&signed.method, &signed.path_and_query, &signed.body);
    let hold = match service.idempotency().claim_idempotent(&signed.merchant.id, key, fp).await {
        Ok(Claim::Proceed(record)) => Arc::new(Hold::new(record)),
        Ok(Claim::Replay { status, body }) => {
            let mut response = respond(status, body);
            response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Err(e) => return Problem::from(e).into_response(),
    };
    let outcome = render(run(Some(hold.clone())).await);
    if let Some((status, body)) = hold.committed_answer() {
        return respond(status, body);
    }
    let (status, body) = outcome;
    if let Err(e) = service.idempotency().finish_idempotent(hold.record().clone(), status, body.clone()).await {
        // Nothing was changed; failing to record the answer only costs a retry a second run
        // of a request without effect. Answer with the real outcome.
        tracing::error!(error = %e, "could not store the idempotent response");
    }
    respond(status, body)
}
