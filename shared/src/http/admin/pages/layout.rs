//! The frame every page shares: the head (stylesheet, htmx, our script, the CSRF token), the
//! top bar with the operator and logout, the side menu of the areas their role may open.

use super::api::Refusal;
use super::assets::href;
use super::{Html, Permission};
use crate::app::operators::Acting;
use crate::domain::operator::Role;
use http::StatusCode;
use maud::{DOCTYPE, Markup, html};

/// The operator a page is rendered for.
pub(super) struct Viewer {
    pub name: String,
    pub role: Role,
    pub pii: bool,
    csrf: String,
}

impl Viewer {
    pub fn of(acting: &Acting) -> Viewer {
        Viewer { name: acting.name().to_string(), role: acting.operator.role, pii: acting.operator.pii, csrf: acting.session.csrf_token.clone() }
    }

    /// Whether the operator's role grants `permission`: which buttons and links a page shows.
    /// Showing is all it decides; the API refuses what the role does not allow.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.grants(permission)
    }
}

/// The menu: path, label, and the permission the area's page needs.
pub(super) const AREAS: &[(&str, &str, Permission)] = &[
    ("/admin/", "홈", Permission::Read),
    ("/admin/exceptions", "입금 예외", Permission::Read),
    ("/admin/incidents", "장애", Permission::Read),
    ("/admin/webhooks", "웹훅", Permission::Read),
    ("/admin/notices", "고객 알림", Permission::Read),
    ("/admin/merchants", "가맹점", Permission::Read),
    ("/admin/virtual-accounts", "가상계좌", Permission::Read),
    ("/admin/deposits", "입금", Permission::Read),
    ("/admin/settlements", "정산", Permission::Read),
    ("/admin/reconciliation", "대사 결과", Permission::Read),
    ("/admin/pool", "번호 풀", Permission::Read),
    ("/admin/operators", "운영자", Permission::Manage),
    ("/admin/audit", "감사 로그", Permission::Audit),
];

fn head(title: &str, csrf: Option<&str>) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="robots" content="noindex";
            // No favicon request: the dashboard has none.
            link rel="icon" href="data:,";
            @if let Some(token) = csrf {
                meta name="csrf-token" content=(token);
            }
            // Our CSP allows no inline style: htmx must not add its indicator style element.
            meta name="htmx-config" content=r#"{"includeIndicatorStyles":false,"allowEval":false,"selfRequestsOnly":true}"#;
            title { (title) " · vaccount 관리자" }
            link rel="stylesheet" href=(href("admin.css"));
            script src=(href("htmx.min.js")) defer {}
            script src=(href("admin.js")) defer {}
        }
    }
}

/// A page of the dashboard for a logged-in operator; `here` is the menu entry it belongs to.
pub(super) fn frame(viewer: &Viewer, here: &str, title: &str, body: Markup) -> Html {
    Html::ok(html! {
        (DOCTYPE)
        html lang="ko" {
            (head(title, Some(&viewer.csrf)))
            body {
                header.top {
                    a.brand href="/admin/" { "vaccount 관리자" }
                    div.who {
                        span data-testid="operator" { (viewer.name) }
                        span.tag { (viewer.role.label()) }
                        @if viewer.pii { span.tag.warn title="개인정보를 마스킹 없이 봅니다" { "개인정보 열람" } }
                        form data-api="/admin/v1/session" data-method="DELETE" data-then="/admin/login" {
                            button type="submit" { "로그아웃" }
                        }
                    }
                }
                div.shell {
                    nav.side {
                        @for (path, label, permission) in AREAS {
                            @if viewer.may(*permission) {
                                a href=(path) class=[(*path == here).then_some("here")] { (label) }
                            }
                        }
                    }
                    main {
                        h1 { (title) }
                        div id="notice" class="flash" role="status" {}
                        (body)
                    }
                }
            }
        }
    })
}

/// A page without the frame: login, enrolment, password change, refusals.
pub(super) fn bare(status: StatusCode, title: &str, body: Markup) -> Html {
    Html::with_status(
        status,
        html! {
            (DOCTYPE)
            html lang="ko" {
                (head(title, None))
                body {
                    div.narrow {
                        div.card {
                            h1 { (title) }
                            (body)
                        }
                    }
                }
            }
        },
    )
}

/// What a refusal tells the operator, in Korean.
pub(super) fn refusal_text(refusal: &Refusal) -> &'static str {
    match (refusal.status.as_u16(), refusal.code.as_str()) {
        (403, "step_up_required") => "인증 코드(OTP)가 없거나 올바르지 않습니다.",
        (403, _) => "권한이 없습니다",
        (404, _) => "찾을 수 없습니다",
        (400, _) => "요청이 올바르지 않습니다",
        (409, _) => "지금 상태에서는 할 수 없는 작업입니다",
        (423, _) => "계정이 잠겼습니다",
        (503, _) => "일시적으로 처리할 수 없습니다",
        _ => "요청을 처리하지 못했습니다",
    }
}

/// The page for a refused page request.
pub(super) fn refusal_page(refusal: &Refusal) -> Html {
    let title = refusal_text(refusal);
    bare(
        refusal.status,
        title,
        html! {
            @if refusal.status == StatusCode::FORBIDDEN && refusal.code == "forbidden" {
                p { "이 화면을 볼 수 있는 역할이 아닙니다. 필요하면 최고 관리자에게 요청하세요." }
            }
            @if !refusal.detail.is_empty() { p.muted.small { (refusal.detail) } }
            @for e in &refusal.errors { p.muted.small { (e.field) ": " (e.message) } }
            p { a href="/admin/" { "홈으로" } }
        },
    )
}

/// A refusal shown inside a page, above what it concerns.
pub(super) fn refusal_box(refusal: &Refusal) -> Markup {
    html! {
        div.flash.error role="alert" {
            (refusal_text(refusal))
            @if !refusal.detail.is_empty() { " (" (refusal.detail) ")" }
            @for e in &refusal.errors { br; span.small { (e.field) ": " (e.message) } }
        }
    }
}
