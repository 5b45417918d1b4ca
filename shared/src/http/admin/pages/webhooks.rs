//! Webhooks: every delivery attempt across merchants with its filters, a merchant's endpoints,
//! and for roles that may act a resend of one event or of every dead-lettered delivery of an
//! endpoint.

use super::Html;
use super::api::Api;
use super::layout::{Viewer, frame, refusal_box};
use super::list::{Extra, Input, Listing, Show, col, filter};
use super::show::{self, at, text};
use crate::app::operators::Acting;
use crate::domain::operator::Permission;
use axum::extract::Extension;
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

fn outcome(row: &Value) -> Markup {
    html! {
        @if at(row, "succeeded").as_bool().unwrap_or(false) { span.tag.good { "성공" } } @else { span.tag.bad { "실패" } }
    }
}

pub(super) const LISTING: Listing = Listing {
    page: "/admin/webhooks",
    api: "/admin/v1/webhook-attempts",
    filters: &[
        filter("merchant_id", "가맹점 ID", Input::Text("mch_…")),
        filter("endpoint_id", "엔드포인트 ID", Input::Text("whe_… (가맹점 ID와 함께)")),
        filter("outcome", "결과", Input::Choice(&["succeeded", "failed"])),
        filter("from", "부터", Input::DayFrom),
        filter("to", "까지", Input::DayTo),
    ],
    columns: &[
        col("시도 시각", "at", Show::Time),
        col("가맹점", "merchant_id", Show::Mono),
        col("엔드포인트", "endpoint_id", Show::Mono),
        col("이벤트", "event_id", Show::Mono),
        col("회차", "attempt", Show::Count),
        col("결과", "succeeded", Show::Custom(outcome)),
        col("응답 코드", "status_code", Show::Text),
        col("응답 시간(ms)", "latency_ms", Show::Count),
        col("오류", "error", Show::Text),
    ],
    key: None,
    xlsx: true,
};

/// A fresh delivery of one event, to every endpoint of its merchant.
fn resend(viewer: &Viewer, row: &Value) -> Markup {
    let event = text(row, "event_id");
    html! {
        @if viewer.may(Permission::Act) {
            form data-api=(format!("/admin/v1/events/{event}/resend")) data-region="#list" data-done=(format!("이벤트 {event}를 다시 보냈습니다. 결과는 잠시 후 이 목록에 나타납니다."))
                data-confirm=(format!("이벤트 {event}를 가맹점의 웹훅 주소로 다시 보냅니다. 계속할까요?")) {
                button.secondary type="submit" data-testid="resend" data-event=(event) { "재전송" }
                div.flash {}
            }
        }
    }
}

/// A merchant's endpoints, each with the resend of its dead letters.
async fn endpoints(viewer: &Viewer, api: &Api, merchant: &str) -> Markup {
    let query = serde_urlencoded::to_string([("merchant_id", merchant), ("limit", "100")]).unwrap_or_default();
    let answer = api.get(&format!("/admin/v1/webhook-endpoints?{query}")).await;
    let rows = answer.as_ref().ok().and_then(|v| v.get("data")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    html! {
        div.card #endpoints {
            h2 { "웹훅 주소 (" span.mono { (merchant) } ")" }
            @if let Err(refusal) = &answer { (refusal_box(refusal)) }
            table.list {
                thead { tr { th { "엔드포인트" } th { "URL" } th { "이벤트" } th { "등록일" } @if viewer.may(Permission::Act) { th {} } } }
                tbody {
                    @for e in rows {
                        tr data-row=(text(e, "id")) {
                            td.mono { (text(e, "id")) }
                            td.mono { (text(e, "url")) }
                            td.small { @match at(e, "event_types").as_array() { Some(types) => { (types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")) }, None => "전체" } }
                            td { (show::kst_time(at(e, "created_at"))) }
                            @if viewer.may(Permission::Act) {
                                td {
                                    form data-api=(format!("/admin/v1/webhook-endpoints/{}/resend-dead-letters", text(e, "id"))) data-done="전송에 실패했던 이벤트를 이 주소로 다시 보냈습니다."
                                        data-confirm="이 주소로 최종 실패한 이벤트를 모두 다시 보냅니다 (한 번에 최대 500건). 계속할까요?" {
                                        button.secondary type="submit" data-testid="resend-dead-letters" { "실패 건 모두 재전송" }
                                        div.flash {}
                                        output.result data-show="resent" {}
                                    }
                                }
                            }
                        }
                    }
                    @if rows.is_empty() && answer.is_ok() { tr { td.muted colspan="5" { "등록된 웹훅 주소가 없습니다." } } }
                }
            }
        }
    }
}

/// `GET /admin/webhooks`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let act = |row: &Value| resend(&viewer, row);
    let endpoint_card = match query.get("merchant_id") {
        Some(merchant) => endpoints(&viewer, &api, merchant).await,
        None => html! { p.muted.small { "가맹점 ID로 찾으면 그 가맹점의 웹훅 주소와 실패 건 일괄 재전송이 보입니다." } },
    };
    let body = html! {
        (LISTING.filter_form(&query))
        (endpoint_card)
        (LISTING.region(&viewer, &query, &answer, Some(Extra { below: false, label: "", cell: &act })))
    };
    frame(&viewer, LISTING.page, "웹훅", body)
}
