//! Merchants: the list, one merchant in detail (settings, keys, links to its records), and for
//! a super_admin a new merchant and the settings form (each with a fresh code) and key rotation
//! (a new key's secret is shown once).

use super::Html;
use super::api::{Api, Refusal};
use super::layout::{Viewer, frame};
use super::list::{Input, Listing, Show, col, filter};
use super::operators::step_up_field;
use super::show::{self, at, text};
use crate::app::operators::Acting;
use crate::domain::operator::Permission;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path};
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

/// A merchant's fee terms in words: `건당 300원` or `1.50%`.
pub(super) fn fee(merchant: &Value) -> Markup {
    let per = at(merchant, "fee_per_deposit");
    let bps = at(merchant, "fee_rate_bps").as_u64();
    html! {
        @if !per.is_null() { "건당 " (show::won(per)) }
        @else if let Some(bps) = bps { (format!("{}.{:02}%", bps / 100, bps % 100)) }
    }
}

fn payout(merchant: &Value) -> Markup {
    html! { "D+" (show::plain(at(merchant, "payout_days"))) }
}

pub(super) const LISTING: Listing = Listing {
    page: "/admin/merchants",
    api: "/admin/v1/merchants",
    filters: &[filter("name", "가맹점명", Input::Text("이름 일부"))],
    columns: &[
        col("가맹점명", "name", Show::Link("/admin/merchants/", "id")),
        col("가맹점 ID", "id", Show::Mono),
        col("수수료", "fee_per_deposit", Show::Custom(fee)),
        col("정산 주기", "payout_days", Show::Custom(payout)),
        col("예외 승인 필요", "require_exception_approval", Show::Bool),
        col("등록일", "created_at", Show::Time),
    ],
    key: Some("id"),
    xlsx: true,
};

fn create_form() -> Markup {
    html! {
        div.card {
            h2 { "가맹점 추가" }
            form.filters data-api="/admin/v1/merchants" data-region="#list" data-done="가맹점을 만들었습니다. API 키 비밀값은 지금 한 번만 보입니다." {
                label { "가맹점명" input type="text" name="name" required; }
                label { "건당 수수료(원)" input type="number" name="fee_per_deposit" data-json="number" min="0" value="300"; }
                label { "정산 주기(D+)" input type="number" name="payout_days" data-json="number" min="0" max="30" value="2"; }
                label { "예외 승인 필요" input type="checkbox" name="require_exception_approval"; }
                label { "내 OTP 코드" (step_up_field(true)) }
                button type="submit" { "가맹점 만들기" }
                div.flash {}
                output.result data-show="merchant.id" {}
                output.result data-show="key_id" {}
                output.result data-show="secret" data-testid="new-secret" {}
            }
        }
    }
}

/// `GET /admin/merchants`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let body = html! {
        @if viewer.may(Permission::Manage) { (create_form()) }
        (LISTING.filter_form(&query))
        (LISTING.region(&viewer, &query, &answer, None))
    };
    frame(&viewer, LISTING.page, "가맹점", body)
}

fn checkbox(name: &str, label: &str, merchant: &Value) -> Markup {
    html! { label.field { input type="checkbox" name=(name) checked[at(merchant, name).as_bool().unwrap_or(false)]; " " (label) } }
}

fn settings_form(id: &str, m: &Value) -> Markup {
    let per = at(m, "fee_per_deposit").as_i64().map(|n| n.to_string());
    let bps = at(m, "fee_rate_bps").as_u64().map(|n| n.to_string());
    let mismatch = text(m, "name_mismatch");
    html! {
        form #settings data-api=(format!("/admin/v1/merchants/{id}")) data-method="PATCH" data-region="#merchant" data-done="설정을 바꿨습니다. 지금부터 적용됩니다."
            data-confirm="가맹점 설정을 바꿉니다. 수수료 변경은 지금 이후의 입금부터 적용됩니다. 계속할까요?" {
            label.field { "가맹점명" input type="text" name="name" value=(text(m, "name")) required; }
            label.field { "건당 수수료(원) — 정률이면 비우세요" input type="number" name="fee_per_deposit" data-json="number" min="0" value=[per]; }
            label.field { "정률 수수료(bp, 150 = 1.5%) — 건당이면 비우세요" input type="number" name="fee_rate_bps" data-json="number" min="0" max="10000" value=[bps]; }
            label.field { "정산 주기(영업일 D+)" input type="number" name="payout_days" data-json="number" min="0" max="30" value=(show::plain(at(m, "payout_days"))); }
            (checkbox("allow_partial_by_default", "부분 입금 기본 허용", m))
            (checkbox("accept_late", "기한 후 입금 받기", m))
            label.field { "입금자명 불일치" select name="name_mismatch" {
                option value="warn" selected[mismatch == "warn"] { "경고만 (입금 처리)" }
                option value="hold" selected[mismatch == "hold"] { "보류 (예외로)" }
            } }
            (checkbox("require_exception_approval", "예외 처리에 다른 운영자 승인 필요", m))
            label.field { "내 OTP 코드 (설정을 바꿀 때마다 필요)" (step_up_field(true)) }
            button type="submit" { "설정 저장" }
            div.flash {}
        }
    }
}

fn keys(viewer: &Viewer, id: &str, m: &Value) -> Markup {
    let keys = at(m, "keys").as_array().map(Vec::as_slice).unwrap_or_default();
    let manage = viewer.may(Permission::Manage);
    html! {
        table.list {
            thead { tr { th { "API 키" } th { "발급일" } @if manage { th {} } } }
            tbody {
                @for key in keys {
                    tr {
                        td.mono { (text(key, "id")) }
                        td { (show::kst_time(at(key, "created_at"))) }
                        @if manage {
                            td {
                                form data-api=(format!("/admin/v1/merchants/{id}/keys/{}", text(key, "id"))) data-method="DELETE" data-region="#merchant" data-done="키를 폐기했습니다."
                                    data-confirm=(format!("키 {}를 폐기합니다. 이 키로 서명한 요청은 바로 거절됩니다. 계속할까요?", text(key, "id"))) {
                                    button.danger type="submit" { "폐기" }
                                    div.flash {}
                                }
                            }
                        }
                    }
                }
            }
        }
        @if manage {
            form data-api=(format!("/admin/v1/merchants/{id}/keys")) data-done="새 키를 발급했습니다. 비밀값은 지금 한 번만 보입니다. 가맹점이 옮긴 뒤 이전 키를 폐기하세요." {
                p { button type="submit" data-testid="add-key" { "새 API 키 발급 (교체용)" } }
                div.flash {}
                output.result data-show="key_id" {}
                output.result data-show="secret" data-testid="new-secret" {}
            }
        }
    }
}

/// `GET /admin/merchants/{id}`.
pub(super) async fn detail(Extension(acting): Extension<Acting>, api: Api, id: Result<Path<String>, PathRejection>) -> Result<Html, Refusal> {
    let viewer = Viewer::of(&acting);
    let id: String = id.map(|Path(id)| id).unwrap_or_default();
    let m = api.get(&format!("/admin/v1/merchants/{}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())).await?;
    let id = text(&m, "id").to_owned();
    let lead_hours = at(&m, "due_soon_lead_seconds").as_i64().unwrap_or(0) / 3600;
    let body = html! {
        p { a href=(LISTING.page) { "← 가맹점 목록" } }
        div #merchant {
            div.card {
                dl.props {
                    dt { "가맹점 ID" } dd.mono { (id) }
                    dt { "수수료" } dd { (fee(&m)) }
                    dt { "정산 주기" } dd { (payout(&m)) }
                    dt { "부분 입금 기본 허용" } dd { (show::plain(at(&m, "allow_partial_by_default"))) }
                    dt { "기한 후 입금 받기" } dd { (show::plain(at(&m, "accept_late"))) }
                    dt { "입금자명 불일치" } dd { (if text(&m, "name_mismatch") == "hold" { "보류 (예외로)" } else { "경고만" }) }
                    dt { "예외 승인 필요" } dd { (show::plain(at(&m, "require_exception_approval"))) }
                    dt { "입금 기한 알림" } dd { "기한 " (lead_hours) "시간 전 (전체 설정)" }
                    dt { "등록일" } dd { (show::kst_time(at(&m, "created_at"))) }
                }
                p.actions {
                    a href=(format!("/admin/virtual-accounts?merchant_id={id}")) { "가상계좌" }
                    a href=(format!("/admin/deposits?merchant_id={id}")) { "입금" }
                    a href=(format!("/admin/exceptions?merchant_id={id}")) { "입금 예외" }
                    a href=(format!("/admin/webhooks?merchant_id={id}")) { "웹훅" }
                    a href=(format!("/admin/notices?merchant_id={id}")) { "고객 알림" }
                    a href=(format!("/admin/settlements?merchant_id={id}")) { "정산" }
                }
            }
            @if viewer.may(Permission::Manage) {
                div.card { h2 { "설정" } (settings_form(&id, &m)) }
            }
            div.card { h2 { "API 키" } (keys(&viewer, &id, &m)) }
        }
    };
    Ok(frame(&viewer, LISTING.page, text(&m, "name"), body))
}
