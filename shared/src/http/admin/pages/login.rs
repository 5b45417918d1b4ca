//! Login (name, password, TOTP code) and the password change an expired password leads to.
//! Plain HTML forms posted to the page, which asks the API (`POST /admin/v1/session`,
//! `POST /admin/v1/password`) and passes its session cookie on: no script needed to log in.

use super::api::{Answer, Api};
use super::layout::bare;
use super::{Html, safe_next, see_other};
use crate::domain::operator::{LOCK_FOR, MAX_FAILURES, PASSWORD_MAX_AGE, PASSWORD_MIN_CHARS};
use crate::domain::time::{kst, parse_rfc3339};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Method, StatusCode, Uri, header};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    next: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct LoginForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// A posted form's fields (`application/x-www-form-urlencoded`); missing ones are empty.
pub(super) fn form_of<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> T {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// A page's query parameters; a malformed query reads as none.
pub(super) fn query_of<T: for<'de> Deserialize<'de> + Default>(uri: &Uri) -> T {
    serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default()
}

fn login_page(status: StatusCode, name: &str, next: &str, message: Option<Markup>) -> Html {
    bare(
        status,
        "로그인",
        html! {
            @if let Some(m) = message { (m) }
            form method="post" action="/admin/login" {
                input type="hidden" name="next" value=(next);
                label.field { "이름" input type="text" name="name" value=(name) autocomplete="username" required autofocus[name.is_empty()]; }
                label.field { "비밀번호" input type="password" name="password" autocomplete="current-password" required; }
                label.field { "인증 코드 (OTP 6자리)" input type="text" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus[!name.is_empty()]; }
                button type="submit" { "로그인" }
            }
            p.muted.small { "처음 사용하시나요? 받은 등록 링크를 여세요. 비밀번호는 " (PASSWORD_MAX_AGE.num_days()) "일마다 바꿔야 합니다." }
        },
    )
}

fn error(text: impl Into<String>) -> Markup {
    let text = text.into();
    html! { div.flash.error role="alert" { (text) } }
}

/// `GET /admin/login`.
pub(super) async fn form(uri: Uri) -> Html {
    let query: LoginQuery = query_of(&uri);
    login_page(StatusCode::OK, query.name.as_deref().unwrap_or(""), safe_next(query.next.as_deref()), None)
}

/// The lock's end, from the API's `locked until …` detail, in KST to the minute.
fn lock_end(detail: &str) -> Option<String> {
    let at = detail.rsplit("until ").next().and_then(|s| parse_rfc3339(s.trim()).ok())?;
    Some(at.with_timezone(&kst()).format("%Y-%m-%d %H:%M").to_string())
}

/// `POST /admin/login`: the API's answer, as a page; a session goes on as the API's cookie.
pub(super) async fn submit(api: Api, body: Bytes) -> Response {
    let form: LoginForm = form_of(&body);
    let next = safe_next(form.next.as_deref()).to_owned();
    let answer = api.call(Method::POST, "/admin/v1/session", Some(&json!({"name": form.name, "password": form.password, "code": form.code}))).await;
    let Answer { status, headers, body } = answer;
    if status.is_success() {
        let mut response = see_other(&next);
        if let Some(cookie) = headers.get(header::SET_COOKIE) {
            response.headers_mut().insert(header::SET_COOKIE, cookie.clone());
        }
        return response;
    }
    let code = body["code"].as_str().unwrap_or("");
    let detail = body["detail"].as_str().unwrap_or("");
    if code == "password_expired" {
        let name: String = url::form_urlencoded::byte_serialize(form.name.as_bytes()).collect();
        return see_other(&format!("/admin/password?expired=1&name={name}"));
    }
    let message = match (status.as_u16(), code) {
        (401, _) => error("이름, 비밀번호 또는 인증 코드가 올바르지 않습니다."),
        (423, _) => error(format!(
            "로그인에 {MAX_FAILURES}번 연속 실패하여 계정이 {}분 동안 잠겼습니다.{}",
            LOCK_FOR.num_minutes(),
            lock_end(detail).map(|t| format!(" {t} 이후에 다시 시도하세요.")).unwrap_or_default()
        )),
        (403, _) => error("이 주소에서는 로그인할 수 없습니다."),
        (400, _) => error("이름, 비밀번호, 인증 코드를 모두 입력하세요."),
        _ => error("로그인하지 못했습니다. 잠시 후 다시 시도하세요."),
    };
    login_page(status, &form.name, &next, Some(message)).into_response()
}

#[derive(Deserialize, Default)]
pub(super) struct PasswordQuery {
    name: Option<String>,
    expired: Option<String>,
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password_again: String,
}

fn password_page(status: StatusCode, name: &str, message: Option<Markup>) -> Html {
    bare(
        status,
        "비밀번호 변경",
        html! {
            @if let Some(m) = message { (m) }
            form method="post" action="/admin/password" {
                label.field { "이름" input type="text" name="name" value=(name) autocomplete="username" required; }
                label.field { "현재 비밀번호" input type="password" name="password" autocomplete="current-password" required; }
                label.field { "인증 코드 (OTP 6자리)" input type="text" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required; }
                label.field { "새 비밀번호 (" (PASSWORD_MIN_CHARS) "자 이상, 최근 5개와 달라야 함)" input type="password" name="new_password" minlength=(PASSWORD_MIN_CHARS) autocomplete="new-password" required; }
                label.field { "새 비밀번호 확인" input type="password" name="new_password_again" minlength=(PASSWORD_MIN_CHARS) autocomplete="new-password" required; }
                button type="submit" { "비밀번호 변경" }
            }
            p.small { a href="/admin/login" { "로그인으로" } }
        },
    )
}

/// `GET /admin/password`.
pub(super) async fn password_form(uri: Uri) -> Html {
    let query: PasswordQuery = query_of(&uri);
    let message = query.expired.is_some().then(|| {
        html! { div.flash.info role="status" { "비밀번호를 바꾼 지 " (PASSWORD_MAX_AGE.num_days()) "일이 지났습니다. 새 비밀번호를 정한 뒤 로그인하세요." } }
    });
    password_page(StatusCode::OK, query.name.as_deref().unwrap_or(""), message)
}

/// `POST /admin/password`.
pub(super) async fn password_submit(api: Api, body: Bytes) -> Response {
    let form: PasswordForm = form_of(&body);
    if form.new_password != form.new_password_again {
        return password_page(StatusCode::BAD_REQUEST, &form.name, Some(error("새 비밀번호와 확인이 다릅니다."))).into_response();
    }
    let body = json!({"name": form.name, "password": form.password, "code": form.code, "new_password": form.new_password});
    let answer = api.call(Method::POST, "/admin/v1/password", Some(&body)).await;
    if answer.status.is_success() {
        let name: String = url::form_urlencoded::byte_serialize(form.name.as_bytes()).collect();
        return bare(
            StatusCode::OK,
            "비밀번호를 변경했습니다",
            html! {
                p { "새 비밀번호로 로그인하세요. 다른 곳에 열려 있던 세션은 모두 종료되었습니다." }
                p { a href=(format!("/admin/login?name={name}")) { "로그인" } }
            },
        )
        .into_response();
    }
    let refusal = answer.into_result().err();
    let message = match refusal.as_ref().map(|r| (r.status.as_u16(), r)) {
        Some((400, r)) if r.field("new_password").is_some() => {
            error(format!("새 비밀번호를 쓸 수 없습니다: {}자 이상이어야 하고 최근 5개 비밀번호와 달라야 합니다.", PASSWORD_MIN_CHARS))
        }
        Some((400, _)) => error("모든 칸을 입력하세요."),
        Some((401, _)) => error("이름, 현재 비밀번호 또는 인증 코드가 올바르지 않습니다."),
        Some((423, r)) => error(format!("계정이 잠겼습니다.{}", lock_end(&r.detail).map(|t| format!(" {t} 이후에 다시 시도하세요.")).unwrap_or_default())),
        Some((403, _)) => error("이 주소에서는 비밀번호를 바꿀 수 없습니다."),
        _ => error("비밀번호를 바꾸지 못했습니다. 잠시 후 다시 시도하세요."),
    };
    let status = refusal.map(|r| r.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    password_page(status, &form.name, Some(message)).into_response()
}

#[cfg(test)]
mod tests {
    use super::lock_end;

    #[test]
    fn the_lock_end_reads_in_kst() {
        assert_eq!(lock_end("too many failed logins; locked until 2026-11-24T10:15:00.123+09:00").as_deref(), Some("2026-11-24 10:15"));
        assert_eq!(lock_end("something else"), None);
    }
}
