//! The deposit exceptions queue: filters, and per exception what can be done with it — resolve
//! (assign to an account, refund, write off), approve or reject another operator's proposal.
//! Every button names the amount it moves and asks first; operators whose role cannot act see
//! the exception without buttons.

use super::Html;
use super::api::Api;
use super::layout::{Viewer, frame};
use super::list::{Extra, Input, Listing, Show, col, filter};
use super::show::{self, at, text};
use crate::app::operators::Acting;
use crate::domain::BankCode;
use crate::domain::operator::Permission;
use axum::extract::Extension;
use http::Uri;
use maud::{Markup, html};
use serde_json::Value;

const REASONS: &[&str] = &["underpaid", "overpaid", "late", "unknown_account", "closed_account", "name_mismatch"];

pub(super) const LISTING: Listing = Listing {
    page: "/admin/exceptions",
    api: "/admin/v1/exceptions",
    filters: &[
        filter("merchant_id", "가맹점 ID", Input::Text("mch_… 또는 unmatched")),
        filter("state", "상태", Input::Choice(&["open", "pending_approval", "resolved"])),
        filter("reason", "사유", Input::Choice(REASONS)),
        filter("bank_code", "은행", Input::Bank),
        filter("min_amount", "최소 금액", Input::Won),
        filter("max_amount", "최대 금액", Input::Won),
        filter("from", "입금일 부터", Input::DayFrom),
        filter("to", "입금일 까지", Input::DayTo),
    ],
    columns: &[
        col("입금 시각", "deposited_at", Show::Time),
        col("가맹점", "merchant_id", Show::Mono),
        col("은행", "bank_name", Show::Text),
        col("계좌번호", "account_number", Show::Mono),
        col("입금자", "depositor_name", Show::Text),
        col("입금액", "amount", Show::Won),
        col("사유", "exception.reason", Show::Label),
        col("예외 금액", "exception.amount", Show::Won),
        col("상태", "exception.state", Show::Label),
    ],
    key: Some("exception.id"),
    xlsx: true,
};

/// A resolution (`{"action": …}`) in words.
pub(super) fn resolution_text(r: &Value) -> String {
    match text(r, "action") {
        "assign" => format!("계좌 배정 → {}", text(r, "account")),
        "refund" => {
            let bank = text(r, "bank_code").parse::<BankCode>().map(|b| b.name()).unwrap_or("");
            format!("환불 → {bank} {} ({})", text(r, "account_number"), text(r, "holder"))
        }
        "write_off" => format!("손실 처리 (사유: {})", text(r, "note")),
        "reversed" => "입금 취소됨".to_owned(),
        other => other.to_owned(),
    }
}

fn bank_options() -> Markup {
    html! { @for bank in BankCode::ALL { option value=(bank.code()) { (bank.name()) } } }
}

/// What the operator can do with one exception.
fn actions(viewer: &Viewer, row: &Value) -> Markup {
    let id = text(row, "exception.id");
    let amount = show::won(at(row, "exception.amount"));
    let may_act = viewer.may(Permission::Act);
    let base = format!("/admin/v1/exceptions/{id}");
    html! {
        span.mono.small { (id) }
        @match text(row, "exception.state") {
            "open" => {
                @if may_act {
                    details.act data-testid="resolve" {
                        summary { "처리하기" }
                        form data-api=(format!("{base}/resolve")) data-region="#list" data-done="처리를 등록했습니다."
                            data-confirm=(format!("예외 금액 {amount}을(를) 입력한 가상계좌에 배정합니다. 계속할까요?")) {
                            input type="text" name="assign" placeholder="va_… (배정할 가상계좌 ID)" required;
                            button type="submit" { (amount) " 계좌에 배정" }
                            div.flash {}
                        }
                        form data-api=(format!("{base}/resolve")) data-region="#list" data-done="환불을 등록했습니다."
                            data-confirm=(format!("예외 금액 {amount}을(를) 입력한 고객 계좌로 환불합니다. 계속할까요?")) {
                            select name="refund.bank_code" required { (bank_options()) }
                            input type="text" name="refund.account_number" placeholder="환불 계좌번호" inputmode="numeric" required;
                            input type="text" name="refund.holder" placeholder="예금주" required;
                            button type="submit" { (amount) " 환불" }
                            div.flash {}
                        }
                        form data-api=(format!("{base}/resolve")) data-region="#list" data-done="손실 처리를 등록했습니다."
                            data-confirm=(format!("예외 금액 {amount}을(를) 손실 처리합니다(어느 계좌에도 넣지 않음). 계속할까요?")) {
                            input type="text" name="write_off" placeholder="사유 (예: 은행 수수료)" maxlength="500" required;
                            button.danger type="submit" { (amount) " 손실 처리" }
                            div.flash {}
                        }
                    }
                }
            }
            "pending_approval" => {
                div.small {
                    "제안: " (resolution_text(at(row, "proposal.resolution")))
                    br;
                    span.muted { (text(row, "proposal.by")) " · " (show::kst_time(at(row, "proposal.at"))) }
                }
                @if may_act {
                    div.actions {
                        form data-api=(format!("{base}/approve")) data-region="#list" data-done="승인했습니다. 제안대로 처리되었습니다."
                            data-confirm=(format!("제안을 승인합니다: {} ({amount}). 돈이 움직입니다. 계속할까요?", resolution_text(at(row, "proposal.resolution")))) {
                            button type="submit" data-testid="approve" { "승인 (" (amount) " " (show::label(text(row, "proposal.resolution.action"))) ")" }
                            div.flash {}
                        }
                        form data-api=(format!("{base}/reject")) data-region="#list" data-done="반려했습니다. 예외가 다시 미처리 상태입니다."
                            data-confirm="제안을 반려합니다. 예외는 다시 미처리 상태가 됩니다. 계속할까요?" {
                            button.secondary type="submit" data-testid="reject" { "반려" }
                            div.flash {}
                        }
                    }
                }
            }
            _ => {
                @if at(row, "resolution_detail").is_object() {
                    div.small { (resolution_text(at(row, "resolution_detail"))) }
                }
            }
        }
    }
}

/// `GET /admin/exceptions`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    let viewer = Viewer::of(&acting);
    let query = LISTING.query(uri.query());
    let answer = LISTING.fetch(&api, &query).await;
    let act = |row: &Value| actions(&viewer, row);
    let body = html! {
        (LISTING.filter_form(&query))
        (LISTING.region(&viewer, &query, &answer, Some(Extra { below: true, label: "처리", cell: &act })))
    };
    frame(&viewer, LISTING.page, "입금 예외", body)
}
