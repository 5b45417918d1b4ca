//! Operators (super_admin): who they are and how they stand; create one (with the acting
//! operator's fresh code: the page shows the one-time enrolment link), change a role or the
//! `pii` permission (fresh code too), set an address allowlist, lift a lock.

use super::Html;
use super::api::Api;
use super::layout::{Viewer, frame};
use super::list::{Extra, Listing, Show, col};
use super::show::{at, text};
use crate::app::operators::Acting;
use crate::domain::operator::{ENROLMENT_VALID, Role};
use axum::extract::Extension;
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

pub(super) const LISTING: Listing = Listing {
    page: "/admin/operators",
    api: "/admin/v1/operators",
    filters: &[],
    columns: &[
        col("이름", "name", Show::Text),
        col("역할", "role", Show::Label),
        col("개인정보 열람", "pii", Show::Bool),
        col("상태", "status", Show::Label),
        col("잠김 해제 시각", "locked_until", Show::Time),
        col("연속 실패", "failures", Show::Text),
        col("비밀번호 변경일", "password_set_at", Show::Time),
        col("만든 시각", "created_at", Show::Time),
        col("만든 사람", "created_by", Show::Text),
    ],
    key: Some("name"),
    xlsx: false,
};

/// The fresh TOTP code a step-up action sends (`X-TOTP-Code`), never part of the body.
pub(super) fn step_up_field(required: bool) -> Markup {
    html! {
        input type="text" name="step_up" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" placeholder="내 OTP 코드" required[required] title="이 작업은 지금 인증 앱의 새 코드가 필요합니다";
    }
}

fn role_options(selected: Option<&str>) -> Markup {
    html! { @for role in Role::ALL { option value=(role.as_str()) selected[selected == Some(role.as_str())] { (role.label()) } } }
}

fn create_form() -> Markup {
    html! {
        div.card {
            h2 { "운영자 추가" }
            form.filters data-api="/admin/v1/operators" data-region="#list" data-done="운영자를 만들었습니다. 아래 등록 링크를 본인에게 안전하게 전달하세요." {
                label { "이름" input type="text" name="name" required pattern="[a-z0-9._-]+" placeholder="영문 소문자, 숫자"; }
                label { "역할" select name="role" { (role_options(Some("viewer"))) } }
                label { "개인정보 열람" input type="checkbox" name="pii"; }
                label { "내 OTP 코드" (step_up_field(true)) }
                button type="submit" data-testid="create-operator" { "운영자 만들기" }
                div.flash {}
                output.result data-show="enrolment_token" data-prefix="/admin/enrol?token=" data-testid="enrolment-link" {}
            }
            p.small.muted { "등록 링크는 " (ENROLMENT_VALID.num_hours()) "시간 동안 한 번만 쓸 수 있습니다." }
        }
    }
}

/// Changes to one operator; none for the operator's own row (the API refuses those).
fn actions(viewer: &Viewer, row: &Value) -> Markup {
    let name = text(row, "name");
    let base = format!("/admin/v1/operators/{name}");
    let ips: Vec<&str> = at(row, "allowed_ips").as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(Value::as_str).collect();
    html! {
        @if name != viewer.name {
            details.act {
                summary { "변경" }
                form data-api=(base.clone()) data-method="PATCH" data-region="#list" data-done=(format!("{name}의 역할을 바꿨습니다. 그 운영자의 세션은 모두 종료됩니다."))
                    data-confirm=(format!("{name}의 역할과 개인정보 열람 권한을 바꿉니다. 그 운영자는 다시 로그인해야 합니다. 계속할까요?")) {
                    select name="role" { (role_options(Some(text(row, "role")))) }
                    label.small { input type="checkbox" name="pii" checked[at(row, "pii").as_bool().unwrap_or(false)]; " 개인정보 열람" }
                    (step_up_field(true))
                    button type="submit" { "역할 변경" }
                    div.flash {}
                }
                form data-api=(base.clone()) data-method="PATCH" data-region="#list" data-done="접속 허용 주소를 바꿨습니다." {
                    input type="text" name="allowed_ips" data-json="lines" value=(ips.join(", ")) placeholder="접속 허용 주소 (예: 10.0.0.0/8, 비우면 제한 없음)";
                    button.secondary type="submit" { "허용 주소 저장" }
                    div.flash {}
                }
            }
            @if !at(row, "locked_until").is_null() {
                form data-api=(format!("{base}/unlock")) data-region="#list" data-done=(format!("{name}의 잠금을 풀었습니다.")) {
                    button type="submit" data-testid="unlock" { "잠금 해제" }
                    div.flash {}
                }
            }
        }
    }
}

/// `GET /admin/operators`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let act = |row: &Value| actions(&viewer, row);
    let body = html! {
        (create_form())
        (LISTING.region(&viewer, &query, &answer, Some(Extra { below: false, label: "", cell: &act })))
    };
    frame(&viewer, LISTING.page, "운영자", body)
}
