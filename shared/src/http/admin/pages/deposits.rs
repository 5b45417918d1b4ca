//! Deposits across merchants (and those to numbers nobody holds): the list with its filters.

use super::Html;
use super::api::Api;
use super::list::{Input, Listing, Show, col, filter};
use crate::app::operators::Acting;
use axum::extract::Extension;
use http::Uri;

pub(super) const LISTING: Listing = Listing {
    page: "/admin/deposits",
    api: "/admin/v1/deposits",
    filters: &[
        filter("merchant_id", "가맹점 ID", Input::Text("mch_… 또는 unmatched")),
        filter("status", "상태", Input::Choice(&["matched", "exception", "reversed"])),
        filter("bank_code", "은행", Input::Bank),
        filter("min_amount", "최소 금액", Input::Won),
        filter("max_amount", "최대 금액", Input::Won),
        filter("from", "입금일 부터", Input::DayFrom),
        filter("to", "입금일 까지", Input::DayTo),
        filter("depositor", "입금자", Input::Text("이름 일부")),
        filter("account_number", "계좌번호", Input::Text("숫자만")),
        filter("order_id", "주문번호", Input::Text("가맹점 ID와 함께")),
    ],
    columns: &[
        col("입금 시각", "deposited_at", Show::Time),
        col("가맹점", "merchant_id", Show::Mono),
        col("가상계좌", "virtual_account_id", Show::Link("/admin/virtual-accounts/", "virtual_account_id")),
        col("은행", "bank_name", Show::Text),
        col("계좌번호", "account_number", Show::Mono),
        col("입금자", "depositor_name", Show::Text),
        col("입금액", "amount", Show::Won),
        col("반영액", "credited_amount", Show::Won),
        col("상태", "status", Show::Label),
        col("예외 사유", "exception.reason", Show::Label),
        col("거래번호", "transaction_id", Show::Mono),
    ],
    key: Some("id"),
    xlsx: true,
};

/// `GET /admin/deposits`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    LISTING.plain_page(&acting, &api, &uri, "입금").await
}
