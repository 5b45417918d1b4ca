//! The home page: today's figures (KST day) and the deposits of the last 24 hours and 30 days,
//! from `GET /admin/v1/overview`.

use super::api::Api;
use super::chart::{Bar, bars};
use super::layout::{Viewer, frame, refusal_box};
use super::show::{self, at, tally};
use super::{Html, see_other};
use crate::domain::time::{kst, parse_rfc3339};
use axum::extract::Extension;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use crate::app::operators::Acting;

/// `GET /admin` → `/admin/` (the cookie's path covers both; the pages' links are relative to
/// the latter).
pub(super) async fn to_home() -> Response {
    see_other("/admin/")
}

fn figure(label: &str, value: String, sub: Option<String>, alert: bool, link: Option<&str>) -> Markup {
    html! {
        div.figure.alert[alert] data-figure=(label) {
            div.label { (label) }
            div.value { @if let Some(href) = link { a href=(href) { (value) } } @else { (value) } }
            @if let Some(sub) = sub { div.sub { (sub) } }
        }
    }
}

fn count_of(v: &Value) -> u64 {
    at(v, "count").as_u64().unwrap_or(0)
}

/// Today's figures, as the cards at the top of the home page.
fn figures(today: &Value) -> Markup {
    let failures = count_of(at(today, "webhook_failures"));
    let attempts = count_of(at(today, "webhook_attempts"));
    let rate = match at(today, "webhook_failure_rate_bps").as_u64() {
        Some(bps) => format!("{}.{:02}%", bps / 100, bps % 100),
        None => "-".to_owned(),
    };
    let low_banks: Vec<String> = at(today, "pool_low_banks")
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|p| format!("{} {}개", show::text(p, "bank_name"), show::plain(at(p, "free"))))
        .collect();
    let exceptions_open = count_of(at(today, "exceptions_open"));
    let pending = at(today, "exceptions_pending_approval");
    let incidents_open = count_of(at(today, "incidents_open"));
    html! {
        div.figures {
            (figure("오늘 발급 계좌", tally(at(today, "accounts_issued")), None, false, Some("/admin/virtual-accounts")))
            (figure("오늘 입금 건수", tally(at(today, "deposits")), None, false, Some("/admin/deposits")))
            (figure("오늘 입금액", show::won(at(today, "deposits.amount")), (!at(today, "deposits.complete").as_bool().unwrap_or(true)).then(|| "일부만 집계됨".to_owned()), false, None))
            (figure("미처리 예외", tally(at(today, "exceptions_open")), Some(format!("승인 대기 {}", tally(pending))), exceptions_open > 0, Some("/admin/exceptions?state=open")))
            (figure("웹훅 실패율", rate, Some(format!("{} / {}건 실패", show::count(failures), show::count(attempts))), failures > 0, Some("/admin/webhooks?outcome=failed")))
            (figure("번호 부족 은행", format!("{}곳", low_banks.len()), (!low_banks.is_empty()).then(|| low_banks.join(", ")), !low_banks.is_empty(), Some("/admin/pool")))
            (figure("미처리 장애", tally(at(today, "incidents_open")), Some(format!("확인 중 {}", tally(at(today, "incidents_acknowledged")))), incidents_open > 0, Some("/admin/incidents?status=open")))
        }
    }
}

/// The bars of a series of buckets (`{start, end, count, amount, complete}`), labelled by
/// `label` of the bucket's KST start.
fn series(buckets: &Value, label: &str, title: &str) -> Vec<Bar> {
    buckets
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|b| {
            let start = at(b, "start").as_str().and_then(|s| parse_rfc3339(s).ok()).map(|t| t.with_timezone(&kst()));
            let axis = start.map(|t| t.format(label).to_string()).unwrap_or_default();
            let when = start.map(|t| t.format(title).to_string()).unwrap_or_default();
            let complete = at(b, "complete").as_bool().unwrap_or(true);
            Bar {
                label: axis,
                title: format!("{when} · {}건 · {}{}", show::plain(at(b, "count")), show::won(at(b, "amount")), if complete { "" } else { " (일부)" }),
                value: count_of(b),
                complete,
            }
        })
        .collect()
}

/// `GET /admin/`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api) -> Html {
    let viewer = Viewer::of(&acting);
    let overview = api.get("/admin/v1/overview").await;
    let body = match &overview {
        Ok(o) => html! {
            p.muted { (show::text(o, "today.day")) " (KST) 기준" }
            (figures(at(o, "today")))
            div.charts {
                div.card {
                    h2 { "최근 24시간 시간별 입금 건수" }
                    (bars("최근 24시간 시간별 입금 건수", &series(at(o, "series.hourly"), "%H시", "%m-%d %H:00"), 3))
                }
                div.card {
                    h2 { "최근 30일 일별 입금 건수" }
                    (bars("최근 30일 일별 입금 건수", &series(at(o, "series.daily"), "%m-%d", "%Y-%m-%d"), 5))
                }
            }
        },
        Err(refusal) => refusal_box(refusal),
    };
    frame(&viewer, "/admin/", "오늘의 현황", body)
}
