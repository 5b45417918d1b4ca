//! Reconciliation reports: each provider's statement of a KST day against our deposits — lines
//! matched, deposits recovered through the notice path, and differences by kind.

use super::Html;
use super::api::Api;
use super::list::{Input, Listing, Show, col, filter};
use super::show::at;
use crate::app::operators::Acting;
use axum::extract::Extension;
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

fn differences(row: &Value) -> Markup {
    let n = at(row, "differences").as_u64().unwrap_or(0);
    html! { @if n == 0 { span.tag.good { "0" } } @else { span.tag.bad { (super::show::count(n)) } } }
}

pub(super) const LISTING: Listing = Listing {
    page: "/admin/reconciliation",
    api: "/admin/v1/reconciliation-reports",
    filters: &[
        filter("provider", "제공사", Input::Text("bank")),
        filter("from", "대사일 부터 (기본: 30일 전)", Input::Day),
        filter("to", "대사일 까지 (기본: 오늘)", Input::Day),
    ],
    columns: &[
        col("대사일", "date", Show::Text),
        col("제공사", "provider", Show::Mono),
        col("명세 건수", "statement_rows", Show::Count),
        col("일치", "matched", Show::Count),
        col("복구", "recovered", Show::Count),
        col("차이", "differences", Show::Custom(differences)),
        col("금액 불일치", "by_kind.amount_mismatch", Show::Count),
        col("계좌 불일치", "by_kind.account_mismatch", Show::Count),
        col("제공사 누락", "by_kind.missing_at_provider", Show::Count),
        col("취소 불일치", "by_kind.reversal_mismatch", Show::Count),
        col("보고서 파일", "file.name", Show::Mono),
        col("대사 시각", "reconciled_at", Show::Time),
    ],
    key: None,
    xlsx: true,
};

/// `GET /admin/reconciliation`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    LISTING.plain_page(&acting, &api, &uri, "대사 결과").await
}
