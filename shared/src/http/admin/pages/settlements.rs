//! Settlements: each merchant's KST days with their totals and payout date, and the day's files
//! to download for roles that may export.

use super::Html;
use super::api::Api;
use super::layout::{Viewer, frame};
use super::list::{Extra, Input, Listing, Show, col, filter};
use super::show::{at, text};
use crate::app::operators::Acting;
use crate::domain::operator::Permission;
use axum::extract::Extension;
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

pub(super) const LISTING: Listing = Listing {
    page: "/admin/settlements",
    api: "/admin/v1/settlements",
    filters: &[
        filter("merchant_id", "가맹점 ID", Input::Text("mch_…")),
        filter("from", "정산일 부터 (기본: 30일 전)", Input::Day),
        filter("to", "정산일 까지 (기본: 오늘)", Input::Day),
    ],
    columns: &[
        col("정산일", "date", Show::Text),
        col("가맹점", "merchant_id", Show::Mono),
        col("입금 건수", "deposit_count", Show::Count),
        col("총 입금액", "gross", Show::Won),
        col("수수료", "fee", Show::Won),
        col("부가세", "vat", Show::Won),
        col("정산액", "net", Show::Won),
        col("지급일", "payout_date", Show::Text),
        col("생성 시각", "exported_at", Show::Time),
    ],
    key: Some("id"),
    xlsx: true,
};

/// The day's files: links for roles that may export, names for the others.
fn files(viewer: &Viewer, row: &Value) -> Markup {
    let (merchant, date) = (text(row, "merchant_id"), text(row, "date"));
    let files = at(row, "files").as_array().map(Vec::as_slice).unwrap_or_default();
    html! {
        @for file in files {
            @let name = text(file, "name");
            @if viewer.may(Permission::Export) {
                a.small href=(format!("/admin/v1/settlements/{merchant}/{date}/files/{name}")) download data-testid="settlement-file" { (name) }
            } @else {
                span.small.muted { (name) }
            }
            " "
        }
    }
}

/// `GET /admin/settlements`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let cell = |row: &Value| files(&viewer, row);
    let body = html! {
        (LISTING.filter_form(&query))
        (LISTING.region(&viewer, &query, &answer, Some(Extra { below: false, label: "파일", cell: &cell })))
    };
    frame(&viewer, LISTING.page, "정산", body)
}
