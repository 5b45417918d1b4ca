//! The customer notice log (알림톡, SMS, email): what was sent, skipped or failed, per channel.
//! It holds no recipient: nothing personal to mask.

use super::Html;
use super::api::Api;
use super::list::{Input, Listing, Show, col, filter};
use crate::app::operators::Acting;
use crate::domain::EventType;
use axum::extract::Extension;
use http::Uri;

fn event_types() -> Vec<&'static str> {
    EventType::ALL.iter().map(|t| t.as_str()).collect()
}

pub(super) const LISTING: Listing = Listing {
    page: "/admin/notices",
    api: "/admin/v1/notices",
    filters: &[
        filter("merchant_id", "가맹점 ID", Input::Text("mch_…")),
        filter("channel", "채널", Input::Choice(&["alimtalk", "sms", "email"])),
        filter("outcome", "결과", Input::Choice(&["sent", "failed", "skipped", "gave_up"])),
        filter("event_type", "이벤트", Input::Codes(event_types)),
        filter("from", "부터", Input::DayFrom),
        filter("to", "까지", Input::DayTo),
    ],
    columns: &[
        col("기록 시각", "at", Show::Time),
        col("가맹점", "merchant_id", Show::Mono),
        col("가상계좌", "virtual_account_id", Show::Link("/admin/virtual-accounts/", "virtual_account_id")),
        col("이벤트", "event_type", Show::Label),
        col("채널", "channel", Show::Label),
        col("결과", "outcome", Show::Label),
        col("시도", "attempts", Show::Count),
        col("메시지 ID", "message_id", Show::Mono),
        col("오류", "error", Show::Text),
    ],
    key: None,
    xlsx: true,
};

/// `GET /admin/notices`.
pub(super) async fn page(Extension(acting): Extension<Acting>, api: Api, uri: Uri) -> Html {
    LISTING.plain_page(&acting, &api, &uri, "고객 알림").await
}
