//! `application/problem+json` (RFC 9457): the one place where an error becomes a response.

use crate::app::{AppError, FieldError};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem { kind: format!("urn:vaccount:problem:{code}"), title, status: status.as_u16(), detail: detail.into(), code, errors: Vec::new() }
    }

    pub fn not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not_found", "Not found", "no such resource")
    }

    pub fn method_not_allowed() -> Problem {
        Problem::new(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "Method not allowed", "this route does not accept that method")
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

impl From<crate::fields::Invalid> for Problem {
    fn from(e: crate::fields::Invalid) -> Problem {
        AppError::from(e).into()
    }
}

impl From<AppError> for Problem {
    fn from(e: AppError) -> Problem {
        match e {
            AppError::Invalid { detail, errors } => Problem { errors, ..Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "Invalid request", detail) },
            AppError::Unauthorized(detail) => Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized", detail),
            AppError::Forbidden(detail) => Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail),
            AppError::NotFound => Problem::not_found(),
            AppError::Locked { until } => Problem::new(
                StatusCode::LOCKED,
                "locked",
                "Locked",
                format!("too many failed logins; locked until {}", crate::domain::time::to_kst_string(until)),
            ),
            AppError::StepUpRequired => {
                Problem::new(StatusCode::FORBIDDEN, "step_up_required", "Step-up required", "this action needs a fresh TOTP code in the X-TOTP-Code header")
            }
            AppError::PasswordExpired => Problem::new(
                StatusCode::FORBIDDEN,
                "password_expired",
                "Password expired",
                "the password is older than 90 days; change it with POST /admin/v1/password",
            ),
            AppError::Conflict(detail) => Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", detail),
            AppError::IdempotencyInFlight => Problem::new(
                StatusCode::CONFLICT,
                "idempotency_in_flight",
                "Request in progress",
                "a request with this Idempotency-Key is still running; retry later",
            ),
            AppError::IdempotencyMismatch => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_mismatch",
                "Idempotency-Key reused",
                "this Idempotency-Key was used with a different request",
            ),
            AppError::PoolExhausted { bank } => {
                Problem::new(StatusCode::CONFLICT, "pool_exhausted", "No account numbers left", format!("no virtual account numbers are free for bank {bank}"))
            }
            AppError::BodyTooLarge { limit } => {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "Body too large", format!("request bodies are limited to {} KiB", limit / 1024))
            }
            AppError::Unavailable(cause) => {
                // The cause names storage internals: logs only, never the response.
                tracing::error!(error = %cause, "request failed: unavailable");
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable", "the service is temporarily unavailable; retry later")
            }
        }
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const JSON: &str = "application/json; charset=utf-8";

/// A response with a pre-rendered body; problems get their own media type.
pub fn raw_response(status: StatusCode, body: String) -> Response {
    let content_type = if status.is_client_error() || status.is_server_error() { PROBLEM_JSON } else { JSON };
    let mut response = (status, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        raw_response(self.status(), self.body())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Unavailable;
    use crate::ports::StoreError;

    #[test]
    fn an_unavailable_answer_names_no_cause() {
        let problem = Problem::from(AppError::from(StoreError::Unavailable("table vaccount-prod throttled".into())));
        assert_eq!((problem.status, problem.code, problem.detail.as_str()), (503, "unavailable", "the service is temporarily unavailable; retry later"));
        assert!(!problem.body().contains("throttled"), "{}", problem.body());
        let other = Problem::from(AppError::Unavailable(Unavailable::Contention { what: "account va_1 kept changing".into() }));
        assert_eq!(other, problem);
    }

    #[test]
    fn a_body_too_large_is_the_documented_413() {
        let problem = Problem::from(crate::http::auth::TOO_LARGE);
        assert_eq!(
            (problem.status, problem.code, problem.title, problem.detail.as_str()),
            (413, "invalid_request", "Body too large", "request bodies are limited to 64 KiB")
        );
    }
}
