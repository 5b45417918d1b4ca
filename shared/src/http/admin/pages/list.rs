//! A list page, described once per area: the API listing it shows, its filters and its
//! columns. The page's query string is the filter form's (GET, so a filtered list has a URL);
//! it becomes the API's query (a day becomes that KST day's first or last instant), the API
//! answers a page of rows and a cursor, and the page shows them with "다음" and, for roles
//! that may export, the XLSX download of exactly the filtered rows.

use super::api::{Api, Refusal};
use super::layout::{Viewer, refusal_box};
use super::show;
use crate::domain::BankCode;
use crate::domain::operator::Permission;
use maud::{Markup, html};
use serde_json::Value;

/// Rows a page shows.
const PAGE_SIZE: &str = "50";

/// What an area lists and how.
pub(super) struct Listing {
    /// The page's own path (`/admin/deposits`).
    pub page: &'static str,
    /// The API listing (`/admin/v1/deposits`).
    pub api: &'static str,
    pub filters: &'static [Filter],
    pub columns: &'static [Column],
    /// The field naming a row (`data-row` of its table rows), if any.
    pub key: Option<&'static str>,
    /// Whether the API offers the listing as XLSX (`format=xlsx`).
    pub xlsx: bool,
}

pub(super) struct Filter {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
}

pub(super) enum Input {
    Text(&'static str),
    /// One of these codes (labelled by [`show::label`]), or any.
    Choice(&'static [&'static str]),
    Bank,
    /// One of the codes this gives (labelled by [`show::label`]), or any.
    Codes(fn() -> Vec<&'static str>),
    /// A KST day, as the API takes it (`2026-11-24`).
    Day,
    /// A KST day; the API gets its first instant.
    DayFrom,
    /// A KST day; the API gets its last instant.
    DayTo,
    Won,
}

pub(super) struct Column {
    pub label: &'static str,
    pub field: &'static str,
    pub show: Show,
}

pub(super) enum Show {
    Text,
    Mono,
    Won,
    /// A count, right-aligned.
    Count,
    Time,
    Label,
    Bool,
    /// The value, linking to this path followed by the row's field of that name (its id).
    Link(&'static str, &'static str),
    /// Whatever this makes of the row.
    Custom(fn(&Value) -> Markup),
}

/// What a list shows of each row besides its columns (its actions): in a last column under
/// `label`, or, when `below`, in a full-width row under it.
pub(super) struct Extra<'a> {
    pub label: &'a str,
    pub below: bool,
    pub cell: &'a dyn Fn(&Value) -> Markup,
}

pub(super) const fn col(label: &'static str, field: &'static str, show: Show) -> Column {
    Column { label, field, show }
}

pub(super) const fn filter(name: &'static str, label: &'static str, input: Input) -> Filter {
    Filter { name, label, input }
}

/// The filter values of a page request: every known filter given a non-empty value, and the
/// cursor.
pub(super) struct Query {
    pub values: Vec<(&'static str, String)>,
    pub cursor: Option<String>,
    /// Rows a page shows, when the page's URL names it (the API bounds it).
    pub limit: Option<String>,
}

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

impl Listing {
    pub fn query(&self, raw: Option<&str>) -> Query {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
        let mut query = Query { values: Vec::new(), cursor: None, limit: None };
        for (name, value) in pairs {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            if name == "cursor" {
                query.cursor = Some(value);
            } else if name == "limit" {
                query.limit = Some(value);
            } else if let Some(f) = self.filters.iter().find(|f| f.name == name)
                && query.get(f.name).is_none()
            {
                query.values.push((f.name, value));
            }
        }
        query
    }

    /// The API's query for these filters (no paging).
    fn api_filters(&self, query: &Query) -> Vec<(&'static str, String)> {
        query
            .values
            .iter()
            .map(|(name, value)| {
                let input = self.filters.iter().find(|f| f.name == *name).map(|f| &f.input);
                let value = match input {
                    Some(Input::DayFrom) => format!("{value}T00:00:00+09:00"),
                    Some(Input::DayTo) => format!("{value}T23:59:59.999+09:00"),
                    _ => value.clone(),
                };
                (*name, value)
            })
            .collect()
    }

    /// Asks the API for the page the query names.
    pub async fn fetch(&self, api: &Api, query: &Query) -> Result<Value, Refusal> {
        let mut pairs = self.api_filters(query);
        pairs.push(("limit", query.limit.clone().unwrap_or_else(|| PAGE_SIZE.into())));
        if let Some(cursor) = &query.cursor {
            pairs.push(("cursor", cursor.clone()));
        }
        api.get(&format!("{}?{}", self.api, encode(&pairs))).await
    }

    /// The XLSX download of every row the filters select.
    pub fn xlsx_href(&self, query: &Query) -> String {
        let mut pairs = self.api_filters(query);
        pairs.push(("format", "xlsx".into()));
        format!("{}?{}", self.api, encode(&pairs))
    }

    fn page_href(&self, query: &Query, cursor: Option<&str>) -> String {
        let mut pairs = query.values.clone();
        if let Some(limit) = &query.limit {
            pairs.push(("limit", limit.clone()));
        }
        if let Some(c) = cursor {
            pairs.push(("cursor", c.to_owned()));
        }
        if pairs.is_empty() { self.page.to_owned() } else { format!("{}?{}", self.page, encode(&pairs)) }
    }

    /// The filter form: a GET form that works without script; htmx swaps only the list.
    /// The page of a list with nothing beside it: its filter form and its rows, for `acting`.
    pub async fn plain_page(&self, acting: &crate::app::operators::Acting, api: &Api, uri: &http::Uri, title: &str) -> super::Html {
        let viewer = Viewer::of(acting);
        let query = self.query(uri.query());
        let answer = self.fetch(api, &query).await;
        let body = html! {
            (self.filter_form(&query))
            (self.region(&viewer, &query, &answer, None))
        };
        super::layout::frame(&viewer, self.page, title, body)
    }

    pub fn filter_form(&self, query: &Query) -> Markup {
        html! {
            form.filters.card method="get" action=(self.page) hx-get=(self.page) hx-target="#list" hx-select="#list" hx-swap="outerHTML" hx-push-url="true" {
                @for f in self.filters {
                    label {
                        (f.label)
                        (input(f, query.get(f.name)))
                    }
                }
                button type="submit" { "검색" }
                a href=(self.page) { "초기화" }
            }
        }
    }

    /// The list region (`#list`): download link, table, paging; `extra`, a last column.
    pub fn region(&self, viewer: &Viewer, query: &Query, answer: &Result<Value, Refusal>, extra: Option<Extra<'_>>) -> Markup {
        let rows = answer.as_ref().ok().and_then(|v| v.get("data")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let next = answer.as_ref().ok().and_then(|v| v.get("next_cursor")).and_then(Value::as_str);
        html! {
            div #list {
                div.toolbar {
                    span.muted { "이 페이지 " (rows.len()) "건" @if next.is_some() { " · 다음 페이지 있음" } }
                    @if self.xlsx && viewer.may(Permission::Export) {
                        a.xlsx href=(self.xlsx_href(query)) download data-testid="xlsx" { "엑셀(XLSX) 다운로드" }
                    }
                }
                @if let Err(refusal) = answer { (refusal_box(refusal)) }
                div.scroll { table.list {
                    thead { tr {
                        @for c in self.columns { th class=[numeric(&c.show).then_some("num")] { (c.label) } }
                        @if let Some(e) = extra.as_ref().filter(|e| !e.below) { th { (e.label) } }
                    } }
                    tbody {
                        @for row in rows {
                            @let key = self.key.map(|k| show::plain(show::at(row, k)));
                            tr.row data-row=[key.as_deref()] {
                                @for c in self.columns { (cell(row, c)) }
                                @if let Some(e) = extra.as_ref().filter(|e| !e.below) { td.wrap { ((e.cell)(row)) } }
                            }
                            @if let Some(e) = extra.as_ref().filter(|e| e.below) {
                                tr.detail data-row=[key.as_deref()] { td colspan=(self.columns.len()) { ((e.cell)(row)) } }
                            }
                        }
                        @if rows.is_empty() && answer.is_ok() {
                            tr { td.muted colspan=(self.columns.len() + usize::from(extra.as_ref().is_some_and(|e| !e.below))) {
                                @if next.is_some() { "이 페이지에는 조건에 맞는 항목이 없습니다. 다음 페이지에서 계속 찾습니다." } @else { "조건에 맞는 항목이 없습니다." }
                            } }
                        }
                    }
                } }
                div.toolbar {
                    @if query.cursor.is_some() { a href=(self.page_href(query, None)) { "처음으로" } } @else { span {} }
                    @if let Some(cursor) = next {
                        a.next href=(self.page_href(query, Some(cursor))) hx-get=(self.page_href(query, Some(cursor))) hx-target="#list" hx-select="#list" hx-swap="outerHTML" hx-push-url="true" { "다음" }
                    }
                }
            }
        }
    }
}

fn encode(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn numeric(show: &Show) -> bool {
    matches!(show, Show::Won | Show::Count)
}

fn input(f: &Filter, value: Option<&str>) -> Markup {
    html! {
        @match &f.input {
            Input::Text(placeholder) => input type="text" name=(f.name) value=[value] placeholder=(placeholder);
            Input::Won => input type="number" name=(f.name) value=[value] min="0" step="1" placeholder="원";
            Input::Day | Input::DayFrom | Input::DayTo => input type="date" name=(f.name) value=[value];
            Input::Choice(codes) => select name=(f.name) {
                option value="" { "전체" }
                @for code in *codes { option value=(code) selected[value == Some(*code)] { (show::label(code)) } }
            },
            Input::Codes(codes) => select name=(f.name) {
                option value="" { "전체" }
                @for code in codes() { option value=(code) selected[value == Some(code)] { (show::label(code)) } }
            },
            Input::Bank => select name=(f.name) {
                option value="" { "전체" }
                @for bank in BankCode::ALL { option value=(bank.code()) selected[value == Some(bank.code())] { (bank.name()) " (" (bank.code()) ")" } }
            },
        }
    }
}

fn cell(row: &Value, column: &Column) -> Markup {
    let value = show::at(row, column.field);
    html! {
        @match column.show {
            Show::Text => td { (show::plain(value)) },
            Show::Mono => td.mono { (show::plain(value)) },
            Show::Won => td.num { (show::won(value)) },
            Show::Time => td { (show::kst_time(value)) },
            Show::Label => td { @if let Some(code) = value.as_str() { span.tag { (show::label(code)) } } },
            Show::Count => td.num { (show::plain(value)) },
            Show::Bool => td { (show::plain(value)) },
            Show::Link(prefix, id) => td { a href=(format!("{prefix}{}", show::text(row, id))) { (show::plain(value)) } },
            Show::Custom(make) => td { (make(row)) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTING: Listing = Listing {
        page: "/admin/deposits",
        api: "/admin/v1/deposits",
        filters: &[filter("status", "상태", Input::Choice(&["matched"])), filter("from", "부터", Input::DayFrom), filter("to", "까지", Input::DayTo)],
        columns: &[],
        key: None,
        xlsx: true,
    };

    #[test]
    fn the_pages_days_become_the_apis_kst_instants_and_unknown_or_empty_parameters_are_dropped() {
        let query = LISTING.query(Some("status=matched&from=2026-11-24&to=2026-11-25&bogus=1&status=reversed&cursor=abc&merchant_id="));
        assert_eq!(query.cursor.as_deref(), Some("abc"));
        assert_eq!(
            LISTING.xlsx_href(&query),
            "/admin/v1/deposits?status=matched&from=2026-11-24T00%3A00%3A00%2B09%3A00&to=2026-11-25T23%3A59%3A59.999%2B09%3A00&format=xlsx"
        );
        assert_eq!(LISTING.page_href(&query, Some("next")), "/admin/deposits?status=matched&from=2026-11-24&to=2026-11-25&cursor=next");
    }
}
