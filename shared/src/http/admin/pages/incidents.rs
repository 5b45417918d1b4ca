//! Incidents raised by ops alerts: the list with its filters, one incident's history, and
//! acknowledge / resolve for roles that may act.

use super::Html;
use super::api::{Api, Refusal};
use super::layout::{Viewer, frame};
use super::list::{Extra, Input, Listing, Show, col, filter};
use super::show::{self, at, text};
use crate::app::operators::Acting;
use crate::domain::operator::Permission;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path};
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

pub(super) const LISTING: Listing = Listing {
    page: "/admin/incidents",
    api: "/admin/v1/incidents",
    filters: &[filter("status", "상태", Input::Choice(&["open", "acknowledged", "resolved"]))],
    columns: &[
        col("종류", "kind", Show::Mono),
        col("대상", "subject", Show::Text),
        col("등급", "severity", Show::Label),
        col("상태", "status", Show::Label),
        col("알림 수", "count", Show::Text),
        col("처음", "first_at", Show::Time),
        col("마지막", "last_at", Show::Time),
        col("확인자", "acknowledged_by", Show::Text),
        col("해결자", "resolved_by", Show::Text),
    ],
    key: Some("id"),
    xlsx: true,
};

/// Acknowledge and resolve, for an incident in a state that allows them.
fn buttons(viewer: &Viewer, incident: &Value, region: &str) -> Markup {
    let id = text(incident, "id");
    let status = text(incident, "status");
    html! {
        @if viewer.may(Permission::Act) {
            div.actions {
                @if status == "open" {
                    form data-api=(format!("/admin/v1/incidents/{id}/acknowledge")) data-region=(region) data-done="장애를 확인 처리했습니다." {
                        button.secondary type="submit" data-testid="acknowledge" { "확인 (담당자로 표시)" }
                        div.flash {}
                    }
                }
                @if status != "resolved" {
                    form data-api=(format!("/admin/v1/incidents/{id}/resolve")) data-region=(region) data-done="장애를 해결 처리했습니다."
                        data-confirm="이 장애를 해결됨으로 닫습니다. 같은 알림이 다시 오면 새 장애가 열립니다. 계속할까요?" {
                        button type="submit" data-testid="resolve-incident" { "해결 처리" }
                        div.flash {}
                    }
                }
            }
        }
    }
}

/// `GET /admin/incidents`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let act = |row: &Value| {
        html! {
            a href=(format!("/admin/incidents/{}", text(row, "id"))) { "이력" }
            (buttons(&viewer, row, "#list"))
        }
    };
    let body = html! {
        (LISTING.filter_form(&query))
        (LISTING.region(&viewer, &query, &answer, Some(Extra { below: false, label: "", cell: &act })))
    };
    frame(&viewer, LISTING.page, "장애", body)
}

/// `GET /admin/incidents/{id}`: what happened when, and who took it on.
pub(super) async fn detail(Extension(acting): Extension<Acting>, api: Api, id: Result<Path<String>, PathRejection>) -> Result<Html, Refusal> {
    let viewer = Viewer::of(&acting);
    let id: String = id.map(|Path(id)| id).unwrap_or_default();
    let path = format!("/admin/v1/incidents/{}", url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>());
    let incident = api.get(&path).await?;
    let body = html! {
            div #incident.card {
                dl.props {
                    dt { "ID" } dd.mono { (text(&incident, "id")) }
                    dt { "종류" } dd.mono { (text(&incident, "kind")) }
                    dt { "대상" } dd { (text(&incident, "subject")) }
                    dt { "등급" } dd { (show::label(text(&incident, "severity"))) }
                    dt { "상태" } dd { span.tag { (show::label(text(&incident, "status"))) } }
                    dt { "알림 수" } dd { (show::plain(at(&incident, "count"))) }
                }
                h2 { "이력" }
                table.list {
                    thead { tr { th { "시각" } th { "내용" } } }
                    tbody {
                        tr { td { (show::kst_time(at(&incident, "first_at"))) } td { "처음 알림 (장애 열림)" } }
                        @for at_time in at(&incident, "recent_at").as_array().map(Vec::as_slice).unwrap_or_default() {
                            tr { td { (show::kst_time(at_time)) } td { "알림" } }
                        }
                        @if !at(&incident, "acknowledged_at").is_null() {
                            tr { td { (show::kst_time(at(&incident, "acknowledged_at"))) } td { "확인: " (text(&incident, "acknowledged_by")) } }
                        }
                        @if !at(&incident, "resolved_at").is_null() {
                            tr { td { (show::kst_time(at(&incident, "resolved_at"))) } td {
                                @if at(&incident, "resolved_by").is_null() { "해결: 알람이 스스로 정상으로 돌아옴" } @else { "해결: " (text(&incident, "resolved_by")) }
                            } }
                        }
                    }
                }
                (buttons(&viewer, &incident, "#incident"))
            }
    };
    Ok(frame(&viewer, LISTING.page, "장애 이력", html! { p { a href=(LISTING.page) { "← 장애 목록" } } (body) }))
}
