//! Enrolment from the one-time link (`/admin/enrol?token=…`): a password, then the TOTP secret
//! as a QR code (and as text, for typing in), then a first code from the authenticator; only
//! then may the operator log in. Each step is a plain form posted to the page, which asks the
//! API (`POST /admin/v1/enrolment`, `…/confirm`).

use super::Html;
use super::api::Api;
use super::layout::bare;
use super::login::{form_of, query_of};
use crate::domain::operator::PASSWORD_MIN_CHARS;
use bytes::Bytes;
use http::{Method, StatusCode, Uri};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize, Default)]
pub(super) struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize, Default)]
struct PasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
}

#[derive(Deserialize, Default)]
struct CodeForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    otpauth_uri: String,
    #[serde(default)]
    totp_secret: String,
}

fn error(text: &str) -> Markup {
    html! { div.flash.error role="alert" { (text) } }
}

const INVALID_LINK: &str = "등록 링크가 유효하지 않습니다. 이미 사용했거나 24시간이 지났을 수 있습니다. 최고 관리자에게 새 링크를 요청하세요.";

fn password_step(status: StatusCode, token: &str, message: Option<Markup>) -> Html {
    bare(
        status,
        "운영자 등록",
        html! {
            ol.small.muted { li { b { "비밀번호 정하기" } } li { "인증 앱 등록 (QR 코드)" } li { "첫 인증 코드 확인" } }
            @if let Some(m) = message { (m) }
            form method="post" action="/admin/enrol" {
                input type="hidden" name="token" value=(token);
                label.field { "비밀번호 (" (PASSWORD_MIN_CHARS) "자 이상)" input type="password" name="password" minlength=(PASSWORD_MIN_CHARS) autocomplete="new-password" required autofocus; }
                label.field { "비밀번호 확인" input type="password" name="password_again" minlength=(PASSWORD_MIN_CHARS) autocomplete="new-password" required; }
                button type="submit" { "다음" }
            }
        },
    )
}

/// `GET /admin/enrol?token=…`.
pub(super) async fn start(uri: Uri) -> Html {
    let query: TokenQuery = query_of(&uri);
    match query.token.filter(|t| !t.is_empty()) {
        Some(token) => password_step(StatusCode::OK, &token, None),
        None => bare(StatusCode::BAD_REQUEST, "운영자 등록", error(INVALID_LINK)),
    }
}

/// The secret's QR code as inline SVG (the renderer's XML declaration dropped: it is inside HTML).
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build();
    Some(svg.split_once("?>").map(|(_, rest)| rest.to_owned()).unwrap_or(svg))
}

/// The secret in groups of four, as an authenticator app asks for it to be typed.
fn grouped(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn code_step(status: StatusCode, token: &str, secret: &str, uri: &str, message: Option<Markup>) -> Html {
    bare(
        status,
        "인증 앱 등록",
        html! {
            ol.small.muted { li { "비밀번호 정하기" } li { b { "인증 앱 등록 (QR 코드)" } } li { b { "첫 인증 코드 확인" } } }
            @if let Some(m) = message { (m) }
            p { "Google Authenticator 등 인증 앱으로 QR 코드를 찍으세요." }
            @if let Some(svg) = qr_svg(uri) { div.qr data-testid="qr" { (PreEscaped(svg)) } }
            p.small.muted { "찍을 수 없으면 이 키를 직접 입력하세요 (30초, 6자리):" }
            p.secret data-testid="totp-secret" data-secret=(secret) { (grouped(secret)) }
            form method="post" action="/admin/enrol/confirm" {
                input type="hidden" name="token" value=(token);
                input type="hidden" name="totp_secret" value=(secret);
                input type="hidden" name="otpauth_uri" value=(uri);
                label.field { "인증 앱에 보이는 코드" input type="text" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus; }
                button type="submit" { "등록 완료" }
            }
        },
    )
}

/// `POST /admin/enrol`: the password → the secret to scan.
pub(super) async fn set_password(api: Api, body: Bytes) -> Html {
    let form: PasswordForm = form_of(&body);
    if form.password != form.password_again {
        return password_step(StatusCode::BAD_REQUEST, &form.token, Some(error("비밀번호와 확인이 다릅니다.")));
    }
    let answer = api.call(Method::POST, "/admin/v1/enrolment", Some(&json!({"token": form.token, "password": form.password}))).await;
    match answer.into_result() {
        Ok(body) => {
            let (secret, uri) = (body["totp_secret"].as_str().unwrap_or(""), body["otpauth_uri"].as_str().unwrap_or(""));
            code_step(StatusCode::OK, &form.token, secret, uri, None)
        }
        Err(r) if r.field("password").is_some() => {
            password_step(r.status, &form.token, Some(error(&format!("비밀번호는 {PASSWORD_MIN_CHARS}자 이상이어야 합니다."))))
        }
        Err(r) if r.status == StatusCode::UNAUTHORIZED => bare(r.status, "운영자 등록", error(INVALID_LINK)),
        Err(r) => password_step(r.status, &form.token, Some(error("등록하지 못했습니다. 잠시 후 다시 시도하세요."))),
    }
}

/// The operator's name, from the `otpauth://totp/vaccount:NAME?…` label.
fn name_in(uri: &str) -> Option<String> {
    let label = url::Url::parse(uri).ok()?.path().trim_start_matches('/').to_owned();
    let decoded: String = url::form_urlencoded::parse(format!("l={label}").as_bytes()).next()?.1.into_owned();
    decoded.split_once(':').map(|(_, name)| name.to_owned())
}

/// `POST /admin/enrol/confirm`: the first code → the operator is active.
pub(super) async fn confirm(api: Api, body: Bytes) -> Html {
    let form: CodeForm = form_of(&body);
    let answer = api.call(Method::POST, "/admin/v1/enrolment/confirm", Some(&json!({"token": form.token, "code": form.code}))).await;
    match answer.into_result() {
        Ok(_) => {
            let login = match name_in(&form.otpauth_uri) {
                Some(name) => format!("/admin/login?name={}", url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()),
                None => "/admin/login".to_owned(),
            };
            bare(
                StatusCode::OK,
                "등록을 마쳤습니다",
                html! {
                    p { "이제 이름, 비밀번호, 인증 앱의 코드로 로그인할 수 있습니다." }
                    p { a href=(login) data-testid="to-login" { "로그인하러 가기" } }
                },
            )
        }
        Err(r) if r.field("code").is_some() || r.status == StatusCode::BAD_REQUEST => code_step(
            r.status,
            &form.token,
            &form.totp_secret,
            &form.otpauth_uri,
            Some(error("인증 코드가 맞지 않습니다. 인증 앱에 지금 보이는 코드를 입력하세요.")),
        ),
        Err(r) if r.status == StatusCode::UNAUTHORIZED => bare(r.status, "운영자 등록", error(INVALID_LINK)),
        Err(r) => code_step(r.status, &form.token, &form.totp_secret, &form.otpauth_uri, Some(error("등록하지 못했습니다. 잠시 후 다시 시도하세요."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_inline_svg_without_an_xml_declaration() {
        let svg = qr_svg("otpauth://totp/vaccount:kim?secret=JBSWY3DPEHPK3PXP&issuer=vaccount").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{}", &svg[..60]);
        assert!(!svg.contains("style="));
    }

    #[test]
    fn the_secret_reads_in_groups_and_the_name_comes_from_the_label() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(name_in("otpauth://totp/vaccount:kim?secret=X&issuer=vaccount").as_deref(), Some("kim"));
        assert_eq!(name_in("otpauth://totp/vaccount%3Akim?secret=X").as_deref(), Some("kim"));
    }
}
