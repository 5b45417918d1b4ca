//! The audit log (super_admin): every entry newest first, filtered by operator, action and
//! time, with what changed; downloadable as XLSX.

use super::Html;
use super::api::Api;
use super::layout::{Viewer, frame};
use super::list::{Extra, Input, Listing, Show, col, filter};
use super::show::at;
use crate::app::operators::Acting;
use crate::domain::operator::AuditAction;
use axum::extract::Extension;
use http::Uri;
use maud::html;
use serde_json::Value;

fn actions() -> Vec<&'static str> {
    AuditAction::ALL.iter().map(|a| a.as_str()).collect()
}

pub(super) const LISTING: Listing = Listing {
    page: "/admin/audit",
    api: "/admin/v1/audit",
    filters: &[
        filter("operator", "운영자", Input::Text("이름")),
        filter("action", "작업", Input::Codes(actions)),
        filter("from", "부터", Input::DayFrom),
        filter("to", "까지", Input::DayTo),
    ],
    columns: &[
        col("번호", "seq", Show::Text),
        col("시각", "at", Show::Time),
        col("운영자", "actor", Show::Text),
        col("역할", "role", Show::Label),
        col("작업", "action", Show::Label),
        col("대상", "target", Show::Mono),
        col("IP", "ip", Show::Mono),
    ],
    key: Some("seq"),
    xlsx: true,
};

/// `GET /admin/audit`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let change = |row: &Value| {
        let (before, after) = (at(row, "before"), at(row, "after"));
        html! {
            @if !before.is_null() || !after.is_null() {
                details {
                    summary { "보기" }
                    @if !before.is_null() { div.small.muted { "변경 전" } pre.json { (before.to_string()) } }
                    @if !after.is_null() { div.small.muted { "변경 후" } pre.json { (after.to_string()) } }
                }
            }
        }
    };
    let body = html! {
        (LISTING.filter_form(&query))
        (LISTING.region(&viewer, &query, &answer, Some(Extra { below: false, label: "변경 내용", cell: &change })))
    };
    frame(&viewer, LISTING.page, "감사 로그", body)
}
