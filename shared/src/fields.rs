//! Reading outside JSON field by field, for every parser of it: `http::dto` (the merchant and
//! operator API) and `providers` (upstream notices). Each problem is reported under its
//! field's name and all of them at once, so a sender learns about every mistake in one answer.
//! The error is [`Invalid`], which the use cases map to their own error once.

use crate::domain::Krw;
use crate::domain::time::parse_rfc3339;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// What is wrong with one field, in words a sender can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl std::fmt::Display) -> FieldError {
        FieldError { field: field.into(), message: message.to_string() }
    }
}

/// Input that cannot be read: what is wrong overall, and every field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Invalid {
    pub detail: String,
    pub errors: Vec<FieldError>,
}

impl Invalid {
    pub fn new(detail: impl Into<String>, errors: Vec<FieldError>) -> Invalid {
        Invalid { detail: detail.into(), errors }
    }

    /// One field is wrong.
    pub fn field(field: &str, message: impl std::fmt::Display) -> Invalid {
        Invalid::new("a field is invalid", vec![FieldError::new(field, message)])
    }
}

/// Collects field errors so a sender learns about all of them at once.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) errors: Vec<FieldError>,
}

impl Fields {
    pub(crate) fn fail(&mut self, field: &str, message: impl std::fmt::Display) {
        self.errors.push(FieldError::new(field, message));
    }

    pub(crate) fn done<T>(self, value: T) -> Result<T, Invalid> {
        if self.errors.is_empty() { Ok(value) } else { Err(self.refused()) }
    }

    /// The input is refused: by the errors collected, or, where a value was merely absent,
    /// without any.
    pub(crate) fn refused(self) -> Invalid {
        Invalid::new("one or more fields are invalid", self.errors)
    }
}

/// The body as a JSON object holding only `allowed` keys.
pub(crate) fn object(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, Invalid> {
    let map = object_lenient(body)?;
    only(&map, allowed)?;
    Ok(map)
}

/// Refuses keys of `map` outside `allowed`, naming each.
pub(crate) fn only(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), Invalid> {
    let unknown: Vec<FieldError> = map.keys().filter(|k| !allowed.contains(&k.as_str())).map(|k| FieldError::new(k.as_str(), "unknown field")).collect();
    if unknown.is_empty() { Ok(()) } else { Err(Invalid::new("the body has unknown fields", unknown)) }
}

/// The body as a JSON object, any keys: for providers' formats, which may grow fields.
pub(crate) fn object_lenient(body: &[u8]) -> Result<Map<String, Value>, Invalid> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Invalid::new("the body must be a JSON object", vec![])),
        Err(e) => Err(Invalid::new(format!("the body is not valid JSON: {e}"), vec![])),
    }
}

/// A present, non-null string field.
pub(crate) fn string<'a>(fields: &mut Fields, map: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    match map.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            fields.fail(name, "must be a string");
            None
        }
    }
}

/// An optional boolean field.
pub(crate) fn flag(f: &mut Fields, map: &Map<String, Value>, name: &str) -> Option<bool> {
    match map.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            f.fail(name, "must be true or false");
            None
        }
    }
}

/// A required string field, parsed into its domain type.
pub(crate) fn parsed<T: std::str::FromStr>(fields: &mut Fields, map: &Map<String, Value>, name: &str) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    match map.get(name) {
        None | Some(Value::Null) => {
            fields.fail(name, "is required");
            None
        }
        Some(_) => string(fields, map, name)?.parse().map_err(|e| fields.fail(name, e)).ok(),
    }
}

/// An optional amount of won: a JSON integer within the payment bounds.
pub(crate) fn amount(fields: &mut Fields, map: &Map<String, Value>, name: &str) -> Option<Krw> {
    match map.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => match n.as_i64().map(Krw::payment) {
            Some(Ok(krw)) => Some(krw),
            _ => {
                fields.fail(name, "must be between 1 and 10000000000 won");
                None
            }
        },
        Some(_) => {
            fields.fail(name, "must be an integer number of won");
            None
        }
    }
}

/// A required RFC 3339 time with offset.
pub(crate) fn required_time(fields: &mut Fields, map: &Map<String, Value>, name: &str) -> Option<DateTime<Utc>> {
    match map.get(name) {
        None | Some(Value::Null) => {
            fields.fail(name, "is required");
            None
        }
        Some(_) => {
            let text = string(fields, map, name)?;
            parse_rfc3339(text).map_err(|_| fields.fail(name, "must be an RFC 3339 time with offset, e.g. 2026-11-24T10:00:00+09:00")).ok()
        }
    }
}
