//! Request parsing: external JSON and query strings become validated domain values here, with
//! every problem reported by field. Unknown fields are refused so typos do not pass silently.

use crate::app::{AppError, FieldError};
use crate::domain::DepositStatus;
use crate::domain::time::parse_rfc3339;
use crate::domain::{AccountRequest, AccountTerms, AccountType, BankCode, Customer, DepositPolicy, Metadata, OrderId, Status};
use crate::fields::{Fields, amount, object, parsed, string};
use crate::ports::Cursor;
use crate::repo::accounts::ListFilter;
use crate::repo::deposits::DepositFilter;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub const MAX_DEPOSITOR_NAME_CHARS: usize = 30;
pub const MAX_CUSTOMER_NAME_CHARS: usize = 50;
pub const MAX_METADATA_ENTRIES: usize = 20;
pub const MAX_METADATA_KEY_CHARS: usize = 40;
pub const MAX_METADATA_VALUE_CHARS: usize = 500;
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

pub(crate) fn bounded_text(fields: &mut Fields, field: &str, s: &str, max: usize) -> Option<String> {
    let chars = s.chars().count();
    if s.trim().is_empty() || chars > max || s.chars().any(char::is_control) {
        fields.fail(field, format!("must be 1-{max} printable characters"));
        None
    } else {
        Some(s.to_owned())
    }
}

/// `policy` is the merchant's: it supplies `allow_partial` when the request leaves it out, and
/// the account carries the rest of it.
pub fn parse_issue_request(body: &[u8], now: DateTime<Utc>, policy: &DepositPolicy) -> Result<AccountRequest, AppError> {
    let map = object(body, &["order_id", "type", "amount", "bank_code", "due_at", "allow_partial", "depositor_name", "customer", "metadata"])?;
    let mut f = Fields::default();

    let order_id = parsed::<OrderId>(&mut f, &map, "order_id");
    let kind = match string(&mut f, &map, "type") {
        None => Some(AccountType::OneTime),
        Some("one_time") => Some(AccountType::OneTime),
        Some("fixed") => Some(AccountType::Fixed),
        Some(_) => {
            f.fail("type", "must be one_time or fixed");
            None
        }
    };
    let amount = amount(&mut f, &map, "amount");
    let amount_invalid = f.errors.iter().any(|e| e.field == "amount");
    let bank_code = parsed::<BankCode>(&mut f, &map, "bank_code");
    let due_at = string(&mut f, &map, "due_at")
        .and_then(|s| parse_rfc3339(s).map_err(|_| f.fail("due_at", "must be an RFC 3339 time with offset, e.g. 2026-11-27T23:59:59+09:00")).ok());
    let due_invalid = f.errors.iter().any(|e| e.field == "due_at");
    let allow_partial = match map.get("allow_partial") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            f.fail("allow_partial", "must be true or false");
            None
        }
    };
    let depositor_name = string(&mut f, &map, "depositor_name").and_then(|s| bounded_text(&mut f, "depositor_name", s, MAX_DEPOSITOR_NAME_CHARS));
    let customer = match map.get("customer") {
        None | Some(Value::Null) => None,
        Some(Value::Object(c)) => parse_customer(&mut f, c),
        Some(_) => {
            f.fail("customer", "must be an object");
            None
        }
    };
    let metadata = match map.get("metadata") {
        None | Some(Value::Null) => Metadata::new(),
        Some(Value::Object(m)) => parse_metadata(&mut f, m),
        Some(_) => {
            f.fail("metadata", "must be an object of strings");
            Metadata::new()
        }
    };

    let terms = kind.and_then(|kind| {
        // Terms are checked only on fields that parsed; a bad amount is reported once.
        let allow_partial = allow_partial.or((kind == AccountType::OneTime && policy.allow_partial_by_default).then_some(true));
        match AccountTerms::new(kind, amount, due_at, allow_partial, now) {
            Ok(t) => Some(t),
            Err(errors) => {
                for e in errors {
                    let already = (e.field() == "amount" && amount_invalid) || (e.field() == "due_at" && due_invalid);
                    if !already {
                        f.fail(e.field(), e);
                    }
                }
                None
            }
        }
    });
    match (order_id, bank_code, terms) {
        (Some(order_id), Some(bank_code), Some(terms)) if f.errors.is_empty() => Ok(f.done(AccountRequest {
            order_id,
            kind: terms.kind,
            amount: terms.amount,
            bank_code,
            due_at: terms.due_at,
            allow_partial: terms.allow_partial,
            depositor_name,
            customer,
            metadata,
            policy: policy.for_account(),
        })?),
        _ => Err(AppError::invalid("one or more fields are invalid", f.errors)),
    }
}

fn parse_customer(f: &mut Fields, c: &Map<String, Value>) -> Option<Customer> {
    for key in c.keys().filter(|k| !["name", "phone", "email"].contains(&k.as_str())) {
        f.fail(&format!("customer.{key}"), "unknown field");
    }
    let mut customer = Customer::default();
    let text = |f: &mut Fields, name: &str| match c.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            f.fail(&format!("customer.{name}"), "must be a string");
            None
        }
    };
    customer.name = text(f, "name").and_then(|s| bounded_text(f, "customer.name", &s, MAX_CUSTOMER_NAME_CHARS));
    customer.phone = text(f, "phone").and_then(|s| {
        let ok = (10..=11).contains(&s.len()) && s.starts_with("01") && s.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            f.fail("customer.phone", "must be a Korean mobile number of 10-11 digits, e.g. 01012345678");
        }
        ok.then_some(s)
    });
    customer.email = text(f, "email").and_then(|s| {
        let ok = s.len() <= 254
            && !s.chars().any(|ch| ch.is_whitespace() || ch.is_control())
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.')
            });
        if !ok {
            f.fail("customer.email", "must be an email address");
        }
        ok.then_some(s)
    });
    Some(customer)
}

fn parse_metadata(f: &mut Fields, m: &Map<String, Value>) -> Metadata {
    if m.len() > MAX_METADATA_ENTRIES {
        f.fail("metadata", format!("must have at most {MAX_METADATA_ENTRIES} entries"));
        return Metadata::new();
    }
    let mut out = Metadata::new();
    for (k, v) in m {
        let field = format!("metadata.{k}");
        if k.is_empty() || k.chars().count() > MAX_METADATA_KEY_CHARS {
            f.fail("metadata", format!("keys must be 1-{MAX_METADATA_KEY_CHARS} characters"));
            continue;
        }
        match v {
            Value::String(s) if s.chars().count() <= MAX_METADATA_VALUE_CHARS => {
                out.insert(k.clone(), s.clone());
            }
            Value::String(_) => f.fail(&field, format!("must be at most {MAX_METADATA_VALUE_CHARS} characters")),
            _ => f.fail(&field, "must be a string"),
        }
    }
    out
}

/// Routes that take no fields (`POST …/close`, approvals) accept an empty body or `{}`.
pub fn parse_empty(body: &[u8]) -> Result<(), AppError> {
    if body.is_empty() {
        return Ok(());
    }
    Ok(object(body, &[]).map(drop)?)
}

/// `GET /v1/virtual-accounts` query parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListParams {
    pub filter: ListFilter,
    pub order_id: Option<OrderId>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

pub fn parse_list_query(query: Option<&str>) -> Result<ListParams, AppError> {
    let mut params = ListParams::default();
    let (mut f, paging) = listing_query(query, |f, name, value| {
        match name {
            "status" => {
                params.filter.status =
                    value.parse::<Status>().map_err(|_| f.fail("status", "must be one of waiting, partially_paid, paid, overpaid, expired, closed")).ok()
            }
            "order_id" => params.order_id = value.parse::<OrderId>().map_err(|e| f.fail("order_id", e)).ok(),
            "created_from" => params.filter.created_from = query_time(f, "created_from", value),
            "created_to" => params.filter.created_to = query_time(f, "created_to", value),
            _ => return false,
        }
        true
    })?;
    if let (Some(from), Some(to)) = (params.filter.created_from, params.filter.created_to)
        && from > to
    {
        f.fail("created_from", "must not be after created_to");
    }
    (params.limit, params.cursor) = (paging.limit, paging.cursor);
    Ok(f.done(params)?)
}

/// `?limit=&cursor=`, common to every listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// Reads a listing's query string: `limit` and `cursor` here, every other parameter through
/// `other`, which answers false for a name it does not know. Each name may appear once.
pub(crate) fn listing_query(query: Option<&str>, mut other: impl FnMut(&mut Fields, &str, &str) -> bool) -> Result<(Fields, Paging), AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|_| AppError::invalid("the query string is malformed", vec![]))?;
    let mut f = Fields::default();
    let mut paging = Paging { limit: DEFAULT_LIMIT, cursor: None };
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in &pairs {
        if !seen.insert(name.as_str()) {
            f.fail(name, "must be given at most once");
            continue;
        }
        match name.as_str() {
            "limit" => match value.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => paging.limit = n,
                _ => f.fail("limit", format!("must be an integer from 1 to {MAX_LIMIT}")),
            },
            "cursor" => paging.cursor = decode_cursor(value).map_err(|e| f.errors.push(e)).ok(),
            other_name => {
                if !other(&mut f, other_name, value) {
                    f.fail(other_name, "unknown query parameter");
                }
            }
        }
    }
    Ok((f, paging))
}

/// `GET /v1/deposits` query parameters.
pub fn parse_deposit_query(query: Option<&str>) -> Result<(DepositFilter, Paging), AppError> {
    let mut filter = DepositFilter::default();
    let (mut f, paging) = listing_query(query, |f, name, value| {
        match name {
            "status" => filter.status = value.parse::<DepositStatus>().map_err(|_| f.fail("status", "must be one of matched, exception, reversed")).ok(),
            "from" => filter.from = query_time(f, "from", value),
            "to" => filter.to = query_time(f, "to", value),
            _ => return false,
        }
        true
    })?;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from > to
    {
        f.fail("from", "must not be after to");
    }
    Ok(f.done((filter, paging))?)
}

/// A query string of `limit` and `cursor` only.
pub fn parse_paging(query: Option<&str>) -> Result<Paging, AppError> {
    let (f, paging) = listing_query(query, |_, _, _| false)?;
    Ok(f.done(paging)?)
}

pub(crate) fn query_time(f: &mut Fields, field: &str, value: &str) -> Option<DateTime<Utc>> {
    parse_rfc3339(value).map_err(|_| f.fail(field, "must be an RFC 3339 time with offset; write + as %2B in a query string")).ok()
}

pub fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

pub fn decode_cursor(text: &str) -> Result<Cursor, FieldError> {
    let bad = || FieldError::new("cursor", "is not a cursor returned by this API");
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// `GET /v1/settlements?from=&to=`: KST days (`2026-11-24`); `to` defaults to `today`, `from`
/// to 30 days before `to`.
pub fn parse_settlement_query(query: Option<&str>, today: chrono::NaiveDate) -> Result<(chrono::NaiveDate, chrono::NaiveDate, Paging), AppError> {
    let (mut from, mut to) = (None, None);
    let (f, paging) = listing_query(query, |f, name, value| {
        let slot = match name {
            "from" => &mut from,
            "to" => &mut to,
            _ => return false,
        };
        *slot = parse_day(value).map_err(|e| f.errors.push(FieldError::new(name, e))).ok();
        true
    })?;
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to - chrono::Duration::days(30));
    Ok(f.done((from, to, paging))?)
}

/// A KST calendar day as the API writes it.
pub fn parse_day(text: &str) -> Result<chrono::NaiveDate, &'static str> {
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(day) if text.len() == 10 => Ok(day),
        _ => Err("must be a date such as 2026-11-24"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
    }

    fn fields_of(body: Value) -> Vec<String> {
        match parse_issue_request(body.to_string().as_bytes(), now(), &DepositPolicy::default()) {
            Err(AppError::Invalid { errors, .. }) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn a_minimal_one_time_request_gets_defaults() {
        let req = parse_issue_request(br#"{"order_id":"A-1","amount":35000,"bank_code":"004"}"#, now(), &DepositPolicy::default()).unwrap();
        assert_eq!(req.kind, AccountType::OneTime);
        assert_eq!(req.due_at, Some(now() + chrono::Duration::hours(72)));
        assert!(!req.allow_partial);
    }

    #[test]
    fn every_bad_field_is_reported_by_name() {
        let fields = fields_of(json!({"order_id": "has space", "amount": 0, "bank_code": "999", "colour": "red"}));
        assert_eq!(fields, vec!["colour"]);
        let fields = fields_of(json!({"order_id": "has space", "amount": 1.5, "bank_code": "999", "due_at": "tomorrow"}));
        assert_eq!(fields, vec!["order_id", "amount", "bank_code", "due_at"]);
    }

    #[test]
    fn amount_strings_and_out_of_range_amounts_are_refused() {
        assert_eq!(fields_of(json!({"order_id": "A", "amount": "35000", "bank_code": "004"})), vec!["amount"]);
        assert_eq!(fields_of(json!({"order_id": "A", "amount": 10_000_000_001i64, "bank_code": "004"})), vec!["amount"]);
        assert_eq!(fields_of(json!({"order_id": "A", "bank_code": "004"})), vec!["amount"]);
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor: Cursor = [("pk".to_owned(), "a".to_owned())].into_iter().collect();
        assert_eq!(decode_cursor(&encode_cursor(&cursor)).unwrap(), cursor);
        assert!(decode_cursor("!!!").is_err());
    }

    #[test]
    fn list_query_rules() {
        assert_eq!(parse_list_query(None).unwrap().limit, 20);
        assert!(parse_list_query(Some("limit=0")).is_err());
        assert!(parse_list_query(Some("limit=101")).is_err());
        assert!(parse_list_query(Some("sort=asc")).is_err());
        assert!(parse_list_query(Some("status=paid&status=waiting")).is_err());
        assert!(parse_list_query(Some("created_from=2026-11-24T10:00:00+09:00")).is_err());
        assert!(parse_list_query(Some("created_from=2026-11-24T10:00:00%2B09:00")).is_ok());
    }
}
