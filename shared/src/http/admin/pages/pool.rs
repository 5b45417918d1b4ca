//! The number pool's stock: each provider's numbers at each bank, free, cooling down after
//! release, and held by accounts; a bank below the low-water mark stands out.

use super::Html;
use super::api::{Api, Refusal};
use super::layout::{Viewer, frame};
use super::show::{self, at, text};
use crate::app::operators::Acting;
use axum::extract::Extension;
use maud::html;
use serde_json::Value;

/// `GET /admin/pool`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api) -> Result<Html, Refusal> {
    let viewer = Viewer::of(&acting);
    let stock = api.get("/admin/v1/pool").await?;
    let rows = at(&stock, "data").as_array().map(Vec::as_slice).unwrap_or_default();
    let low = at(&stock, "low_threshold").as_u64().unwrap_or(0);
    let optional = |v: &Value| if v.is_null() { "-".to_owned() } else { show::plain(v) };
    // The low-water mark is per bank, all providers together (as the pool.low alert counts).
    let bank_free = |bank: &str| rows.iter().filter(|r| text(r, "bank_code") == bank).filter_map(|r| at(r, "free.count").as_u64()).sum::<u64>();
    let body = html! {
        p.muted { "은행별 빈 번호가 " (show::count(low)) "개보다 적으면 부족으로 표시하고 알림을 보냅니다." }
        div #list {
            table.list {
                thead { tr { th { "은행" } th { "제공사" } th.num { "등록" } th.num { "빈 번호" } th.num { "재사용 대기" } th.num { "사용 중" } th {} } }
                tbody {
                    @for row in rows {
                        @let free = bank_free(text(row, "bank_code"));
                        tr.row data-row=(format!("{}/{}", text(row, "provider"), text(row, "bank_code"))) {
                            td { (text(row, "bank_name")) " (" (text(row, "bank_code")) ")" }
                            td.mono { (text(row, "provider")) }
                            td.num { (optional(at(row, "imported"))) }
                            td.num { (show::tally(at(row, "free"))) }
                            td.num { (show::tally(at(row, "cooling"))) }
                            td.num { (optional(at(row, "assigned"))) }
                            td { @if free < low { span.tag.bad { "부족" } } }
                        }
                    }
                    @if rows.is_empty() { tr { td.muted colspan="7" { "번호 풀이 없습니다. `vaccount pool add`로 등록하세요." } } }
                }
            }
        }
    };
    Ok(frame(&viewer, "/admin/pool", "번호 풀", body))
}
