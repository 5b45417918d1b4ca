//! Virtual accounts across merchants: the list with its filters, and one account with its
//! newest deposits.

use super::Html;
use super::api::{Api, Refusal};
use super::layout::{Viewer, frame};
use super::list::{Input, Listing, Show, col, filter};
use super::show::{self, at, text};
use crate::app::operators::Acting;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path};
use http::Uri;
use maud::html;

const STATUSES: &[&str] = &["waiting", "partially_paid", "paid", "overpaid", "expired", "closed"];

pub(super) const LISTING: Listing = Listing {
    page: "/admin/virtual-accounts",
    api: "/admin/v1/virtual-accounts",
    filters: &[
        filter("merchant_id", "가맹점 ID", Input::Text("mch_…")),
        filter("status", "상태", Input::Choice(STATUSES)),
        filter("bank_code", "은행", Input::Bank),
        filter("min_amount", "최소 금액", Input::Won),
        filter("max_amount", "최대 금액", Input::Won),
        filter("created_from", "발급일 부터", Input::DayFrom),
        filter("created_to", "발급일 까지", Input::DayTo),
        filter("order_id", "주문번호", Input::Text("주문번호")),
        filter("account_number", "계좌번호", Input::Text("숫자만")),
    ],
    columns: &[
        col("발급 시각", "created_at", Show::Time),
        col("가상계좌", "id", Show::Link("/admin/virtual-accounts/", "id")),
        col("가맹점", "merchant_id", Show::Mono),
        col("주문번호", "order_id", Show::Text),
        col("은행", "bank_name", Show::Text),
        col("계좌번호", "account_number", Show::Mono),
        col("청구 금액", "amount", Show::Won),
        col("입금액", "paid_amount", Show::Won),
        col("상태", "status", Show::Label),
        col("입금 기한", "due_at", Show::Time),
        col("고객", "customer.name", Show::Text),
    ],
    key: Some("id"),
    xlsx: true,
};

/// `GET /admin/virtual-accounts`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    LISTING.plain_page(&acting, &api, &uri, "가상계좌").await
}

/// `GET /admin/virtual-accounts/{id}`.
pub(super) async fn detail(Extension(acting): Extension<Acting>, api: Api, id: Result<Path<String>, PathRejection>) -> Result<Html, Refusal> {
    let viewer = Viewer::of(&acting);
    let id: String = id.map(|Path(id)| id).unwrap_or_default();
    let a = api.get(&format!("/admin/v1/virtual-accounts/{}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())).await?;
    let deposits = at(&a, "deposits").as_array().map(Vec::as_slice).unwrap_or_default();
    let body = html! {
        p { a href=(LISTING.page) { "← 가상계좌 목록" } }
        div.card {
            dl.props {
                dt { "가상계좌 ID" } dd.mono { (text(&a, "id")) }
                dt { "가맹점" } dd { a.mono href=(format!("/admin/merchants/{}", text(&a, "merchant_id"))) { (text(&a, "merchant_id")) } }
                dt { "주문번호" } dd { (text(&a, "order_id")) }
                dt { "유형" } dd { (if text(&a, "type") == "fixed" { "고정형" } else { "1회용" }) }
                dt { "은행 / 계좌번호" } dd { (text(&a, "bank_name")) " " span.mono { (text(&a, "account_number")) } }
                dt { "청구 금액" } dd { (show::won(at(&a, "amount"))) }
                dt { "입금액" } dd { (show::won(at(&a, "paid_amount"))) }
                dt { "상태" } dd { span.tag { (show::label(text(&a, "status"))) } }
                dt { "입금 기한" } dd { (show::kst_time(at(&a, "due_at"))) }
                dt { "지정 입금자명" } dd { (show::plain(at(&a, "depositor_name"))) }
                dt { "고객" } dd { (show::plain(at(&a, "customer.name"))) " " (show::plain(at(&a, "customer.phone"))) " " (show::plain(at(&a, "customer.email"))) }
                dt { "발급 시각" } dd { (show::kst_time(at(&a, "created_at"))) }
            }
        }
        h2 { "최근 입금" }
        table.list {
            thead { tr { th { "입금 시각" } th { "입금자" } th.num { "입금액" } th.num { "반영액" } th { "상태" } th { "예외" } } }
            tbody {
                @for d in deposits {
                    tr {
                        td { (show::kst_time(at(d, "deposited_at"))) }
                        td { (show::plain(at(d, "depositor_name"))) }
                        td.num { (show::won(at(d, "amount"))) }
                        td.num { (show::won(at(d, "credited_amount"))) }
                        td { span.tag { (show::label(text(d, "status"))) } }
                        td { @if at(d, "exception").is_object() { (show::label(text(d, "exception.reason"))) " · " (show::label(text(d, "exception.state"))) } }
                    }
                }
                @if deposits.is_empty() { tr { td.muted colspan="6" { "입금이 없습니다." } } }
            }
        }
        p { a href=(format!("/admin/deposits?account_number={}", text(&a, "account_number"))) { "이 번호의 입금 전체 보기" } }
    };
    Ok(frame(&viewer, LISTING.page, "가상계좌 상세", body))
}
