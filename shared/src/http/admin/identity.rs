//! Enrolment, login and logout, password changes, and operators managed by a super_admin.

use super::{COOKIE, Operator, body_of, origin_of, step_up_code};
use crate::app::AppError;
use crate::app::operators::{Opened, OperatorUpdate};
use crate::domain::OperatorName;
use crate::domain::operator::{IpRange, Role, SESSION_ABSOLUTE, Session};
use crate::fields::{Fields, flag, object, parsed, string};
use crate::http::problem::Problem;
use crate::http::{AppState, ListBody, dto, json};
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, Uri};
use serde::Serialize;
use serde_json::{Map, Value};

type Body = Result<Bytes, BytesRejection>;

fn fields_of(body: Body, allowed: &[&str]) -> Result<Map<String, Value>, AppError> {
    Ok(object(&body_of(body)?, allowed)?)
}

/// A required string field (as given: passwords are not trimmed).
fn text(f: &mut Fields, map: &Map<String, Value>, name: &str) -> String {
    match string(f, map, name) {
        Some(s) => s.to_owned(),
        None => {
            if !map.contains_key(name) || map.get(name) == Some(&Value::Null) {
                f.fail(name, "is required");
            }
            String::new()
        }
    }
}

/// Splits a request into what the handlers here need: where it came from and its body.
async fn origin_and_body(request: Request) -> Result<(crate::app::audit::Origin, Bytes), AppError> {
    let origin = origin_of(request.extensions(), request.headers());
    let body = axum::body::to_bytes(request.into_body(), crate::http::auth::MAX_BODY_BYTES).await.map_err(|_| crate::http::auth::TOO_LARGE)?;
    Ok((origin, body))
}

pub(super) async fn enrol(State(state): State<AppState>, body: Body) -> Result<Response, Problem> {
    let map = fields_of(body, &["token", "password"])?;
    let mut f = Fields::default();
    let (token, password) = (text(&mut f, &map, "token"), text(&mut f, &map, "password"));
    f.done(())?;
    let enrolment = state.service.operators().begin_enrolment(&token, &password).await?;
    // The answer carries the TOTP secret: no cache may keep it.
    let mut response = json(StatusCode::OK, &enrolment);
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(super) async fn confirm(State(state): State<AppState>, request: Request) -> Result<Response, Problem> {
    let (origin, body) = origin_and_body(request).await?;
    let map = object(&body, &["token", "code"]).map_err(AppError::from)?;
    let mut f = Fields::default();
    let (token, code) = (text(&mut f, &map, "token"), text(&mut f, &map, "code"));
    f.done(())?;
    state.service.operators().confirm_enrolment(&token, &code, &origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What a login (and `GET /admin/v1/session`) answers.
#[derive(Serialize)]
struct SessionBody<'a> {
    csrf_token: &'a str,
    operator: OperatorBody<'a>,
    #[serde(with = "crate::domain::time::kst_serde")]
    expires_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize)]
struct OperatorBody<'a> {
    name: &'a OperatorName,
    role: Role,
    pii: bool,
}

fn session_body<'a>(session: &'a Session, op: &'a crate::domain::operator::Operator) -> SessionBody<'a> {
    SessionBody { csrf_token: &session.csrf_token, operator: OperatorBody { name: &op.name, role: op.role, pii: op.pii }, expires_at: session.expires_at() }
}

fn set_cookie(value: &str, max_age: i64) -> HeaderValue {
    let cookie = format!("{COOKIE}={value}; HttpOnly; Secure; SameSite=Strict; Path=/admin; Max-Age={max_age}");
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("vaccount_admin=; Path=/admin; Max-Age=0"))
}

pub(super) async fn login(State(state): State<AppState>, request: Request) -> Result<Response, Problem> {
    let (origin, body) = origin_and_body(request).await?;
    let map = object(&body, &["name", "password", "code"]).map_err(AppError::from)?;
    let mut f = Fields::default();
    let (name, password, code) = (text(&mut f, &map, "name"), text(&mut f, &map, "password"), text(&mut f, &map, "code"));
    f.done(())?;
    let Opened { cookie, session, operator } = state.service.operators().login(&name, &password, &code, &origin).await?;
    let mut response = json(StatusCode::OK, &session_body(&session, &operator));
    response.headers_mut().insert(http::header::SET_COOKIE, set_cookie(&cookie, SESSION_ABSOLUTE.num_seconds()));
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub(super) async fn change_password(State(state): State<AppState>, request: Request) -> Result<Response, Problem> {
    let (origin, body) = origin_and_body(request).await?;
    let map = object(&body, &["name", "password", "code", "new_password"]).map_err(AppError::from)?;
    let mut f = Fields::default();
    let (name, password, code, new_password) =
        (text(&mut f, &map, "name"), text(&mut f, &map, "password"), text(&mut f, &map, "code"), text(&mut f, &map, "new_password"));
    f.done(())?;
    state.service.operators().change_password(&name, &password, &code, &new_password, &origin).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn whoami(acting: Operator) -> Response {
    let mut response = json(StatusCode::OK, &session_body(&acting.session, &acting.operator));
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) async fn logout(State(state): State<AppState>, acting: Operator) -> Result<Response, Problem> {
    state.service.operators().logout(&acting).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(http::header::SET_COOKIE, set_cookie("", 0));
    Ok(response)
}

pub(super) async fn list_operators(State(state): State<AppState>, uri: Uri) -> Result<Response, Problem> {
    let paging = dto::parse_paging(uri.query())?;
    let page = state.service.operators().list(paging.limit, paging.cursor).await?;
    Ok(json(StatusCode::OK, &ListBody { data: page.items, next_cursor: page.next.as_ref().map(dto::encode_cursor) }))
}

fn operator_name(name: Result<Path<String>, PathRejection>) -> Result<OperatorName, AppError> {
    name.ok().and_then(|Path(n)| n.parse().ok()).ok_or(AppError::NotFound)
}

pub(super) async fn get_operator(State(state): State<AppState>, name: Result<Path<String>, PathRejection>) -> Result<Response, Problem> {
    Ok(json(StatusCode::OK, &state.service.operators().get(&operator_name(name)?).await?))
}

/// `POST /admin/v1/operators {"name", "role", "pii"?}` with a step-up code → the enrolment token.
pub(super) async fn create_operator(State(state): State<AppState>, acting: Operator, headers: http::HeaderMap, body: Body) -> Result<Response, Problem> {
    let map = fields_of(body, &["name", "role", "pii"])?;
    let mut f = Fields::default();
    let name = parsed::<OperatorName>(&mut f, &map, "name");
    let role = parsed::<Role>(&mut f, &map, "role");
    let pii = flag(&mut f, &map, "pii").unwrap_or(false);
    let (Some(name), Some(role)) = f.done((name, role))? else { return Err(AppError::invalid("one or more fields are invalid", vec![]).into()) };
    state.service.operators().step_up(&acting, step_up_code(&headers)).await?;
    let created = state.service.operators().create_user(name, role, pii, Some(&acting)).await?;
    let mut response = json(StatusCode::CREATED, &created);
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `PATCH /admin/v1/operators/{name} {"role"?, "pii"?, "allowed_ips"?}`; a role or `pii` change
/// needs a step-up code.
pub(super) async fn update_operator(
    State(state): State<AppState>,
    acting: Operator,
    name: Result<Path<String>, PathRejection>,
    headers: http::HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let name = operator_name(name)?;
    let map = fields_of(body, &["role", "pii", "allowed_ips"])?;
    let mut f = Fields::default();
    let role = map.contains_key("role").then(|| parsed::<Role>(&mut f, &map, "role")).flatten();
    let pii = flag(&mut f, &map, "pii");
    let allowed_ips = match map.get("allowed_ips") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|v| match v.as_str().map(str::parse::<IpRange>) {
                    Some(Ok(range)) => Some(range),
                    Some(Err(e)) => {
                        f.fail("allowed_ips", e);
                        None
                    }
                    None => {
                        f.fail("allowed_ips", "must be a list of addresses or CIDR blocks");
                        None
                    }
                })
                .collect(),
        ),
        Some(_) => {
            f.fail("allowed_ips", "must be a list of addresses or CIDR blocks");
            None
        }
    };
    let update = f.done(OperatorUpdate { role, pii, allowed_ips })?;
    if update.needs_step_up() {
        state.service.operators().step_up(&acting, step_up_code(&headers)).await?;
    }
    Ok(json(StatusCode::OK, &state.service.operators().update(&acting, &name, update).await?))
}

pub(super) async fn unlock_operator(
    State(state): State<AppState>,
    acting: Operator,
    name: Result<Path<String>, PathRejection>,
    body: Body,
) -> Result<Response, Problem> {
    dto::parse_empty(&body_of(body)?)?;
    Ok(json(StatusCode::OK, &state.service.operators().unlock(&acting, &operator_name(name)?).await?))
}
