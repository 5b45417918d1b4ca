//! The admin API asked in-process: a page builds the request a browser script would send, with
//! the operator's cookie, user agent and address, and gets the API's own answer back. Nothing
//! here checks a role or masks a field; the API did.

use crate::http::problem::PROBLEM_JSON;
use crate::http::{AppState, ClientIp};
use axum::Router;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use std::sync::OnceLock;
use tower::ServiceExt;

/// The largest answer a page reads: a list page of up to 1,000 records.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// The API's routes, built once; each call gives them the state of the request's router.
fn api_routes() -> Router<AppState> {
    static ROUTES: OnceLock<Router<AppState>> = OnceLock::new();
    ROUTES.get_or_init(super::super::api_routes).clone()
}

/// The admin API on behalf of the operator whose page request this is.
pub(in crate::http::admin) struct Api {
    state: AppState,
    cookie: Option<HeaderValue>,
    user_agent: Option<HeaderValue>,
    client: Option<ClientIp>,
}

impl<S: Send + Sync> FromRequestParts<S> for Api {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Api, Response> {
        let Some(state) = parts.extensions.get::<AppState>().cloned() else {
            return Err(crate::app::AppError::from(crate::app::Unavailable::NotConfigured("the admin state")).into_response());
        };
        Ok(Api {
            state,
            cookie: parts.headers.get(header::COOKIE).cloned(),
            user_agent: parts.headers.get(header::USER_AGENT).cloned(),
            client: parts.extensions.get::<ClientIp>().copied(),
        })
    }
}

/// What the API answered.
pub(in crate::http::admin) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The body of a success, or the refusal.
    pub fn into_result(self) -> Result<Value, Refusal> {
        if self.status.is_success() { Ok(self.body) } else { Err(Refusal::of(self.status, &self.body)) }
    }
}

impl Api {
    /// `GET path` (with its query) → the JSON of a success, or the refusal.
    pub async fn get(&self, path_and_query: &str) -> Result<Value, Refusal> {
        self.call(Method::GET, path_and_query, None).await.into_result()
    }

    /// Any request, with a JSON body; the answer whatever its status.
    pub async fn call(&self, method: Method, path_and_query: &str, body: Option<&Value>) -> Answer {
        let mut request = http::Request::builder().method(method).uri(path_and_query);
        for (name, value) in [(header::COOKIE, &self.cookie), (header::USER_AGENT, &self.user_agent)] {
            if let Some(value) = value {
                request = request.header(name, value);
            }
        }
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let mut request = match request.body(body) {
            Ok(r) => r,
            Err(_) => return Answer { status: StatusCode::BAD_REQUEST, headers: HeaderMap::new(), body: Value::Null },
        };
        request.extensions_mut().insert(self.state.clone());
        if let Some(client) = self.client {
            request.extensions_mut().insert(client);
        }
        let response = match api_routes().with_state(self.state.clone()).oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, MAX_ANSWER_BYTES).await.unwrap_or_default();
        Answer { status: parts.status, headers: parts.headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
    }
}

/// One field the API refused, as its problem lists them.
#[derive(Debug, Clone, Deserialize)]
pub(in crate::http::admin) struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// A refusal of the API (or of the access layer), as a page shows it.
#[derive(Debug, Clone)]
pub(in crate::http::admin) struct Refusal {
    pub status: StatusCode,
    pub code: String,
    pub detail: String,
    pub errors: Vec<FieldProblem>,
}

#[derive(Deserialize)]
struct ProblemBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    errors: Vec<FieldProblem>,
}

impl Refusal {
    pub fn of(status: StatusCode, body: &Value) -> Refusal {
        let problem: ProblemBody = serde_json::from_value(body.clone()).unwrap_or(ProblemBody { code: String::new(), detail: String::new(), errors: vec![] });
        Refusal { status, code: problem.code, detail: problem.detail, errors: problem.errors }
    }

    /// The refusal a response carries, or the response itself when it is not one.
    pub async fn read(response: Response) -> Result<Refusal, Response> {
        let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes());
        if !is_problem {
            return Err(response);
        }
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER_BYTES).await.unwrap_or_default();
        Ok(Refusal::of(status, &serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    /// The page for it: no session sends the browser to log in and come back to `wanted`.
    pub fn into_page(self, wanted: &str) -> Response {
        if self.status == StatusCode::UNAUTHORIZED {
            let next: String = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
            return super::see_other(&format!("/admin/login?next={next}"));
        }
        super::layout::refusal_page(&self).into_response()
    }

    /// A field's message, if the API refused that field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == name).map(|e| e.message.as_str())
    }
}

/// A handler returning a refusal hands it back as problem+json, which [`super::as_page`] turns
/// into the page: one path for the access layer's refusals and the API's.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "code": self.code,
            "detail": self.detail,
            "errors": self.errors.iter().map(|e| serde_json::json!({"field": e.field, "message": e.message})).collect::<Vec<_>>(),
        });
        crate::http::problem::raw_response(self.status, body.to_string())
    }
}
