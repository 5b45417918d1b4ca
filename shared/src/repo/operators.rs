//! Operators of the back office, their enrolment tokens and their sessions.
//!
//! - The operator (`OPR#{name}` / `OPERATOR`, listed in gsi1 `OPERATORS` / `{name}`) holds the
//!   password hashes, the TOTP secret, the lock state and the session generation, sealed in
//!   `data` like every record; every change is conditional on its version.
//! - An enrolment (`ENROL#{sha256(token)}` / `ENROL`) names the operator a one-time token
//!   enrols; deleted when the enrolment is confirmed, expired by TTL after 24 h.
//! - A session (`SES#{sha256(cookie)}` / `SESSION`) is keyed by the hash of its cookie value, so
//!   a leaked table does not leak live sessions; TTL at its absolute expiry.

use super::{ItemBuilder, Listing, data_of, version_of};
use crate::domain::OperatorName;
use crate::domain::operator::{Operator, Session};
use crate::ports::{Condition, Cursor, Index, Key, Query, StoreError, Table, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

fn operator_key(name: &OperatorName) -> Key {
    Key::new(format!("OPR#{name}"), "OPERATOR")
}

const ALL_OPERATORS: &str = "OPERATORS";

/// The write that stores an operator: `NotExists` to create, `VersionIs` to change.
pub fn put_operator(operator: &Operator, version: u64, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&operator_key(&operator.name), "operator")
        .version(version)
        .data(operator)?
        .index(Index::Gsi1, ALL_OPERATORS, operator.name.as_str())
        .put(condition))
}

/// An operator and the version its next write must name. An item of the bearer-token
/// operators that came before (it has no role) is no operator: such a name logs in only once
/// `vaccount admin create-user` has made it again (docs/admin.md).
pub async fn get_operator(table: &dyn Table, name: &OperatorName) -> Result<Option<(Operator, u64)>, StoreError> {
    match table.get(&operator_key(name)).await? {
        Some(item) if is_legacy(&item) => Ok(None),
        Some(item) => Ok(Some((data_of(&item)?, version_of(&item).unwrap_or(0)))),
        None => Ok(None),
    }
}

fn is_legacy(item: &crate::ports::Item) -> bool {
    data_of::<serde_json::Value>(item).is_ok_and(|data| data.get("token_sha256").is_some())
}

/// The version and condition that create operator `name`: `None` when one exists; a legacy
/// bearer-token item is replaced on condition of its version.
pub async fn creation(table: &dyn Table, name: &OperatorName) -> Result<Option<(u64, Condition)>, StoreError> {
    match table.get(&operator_key(name)).await? {
        None => Ok(Some((1, Condition::NotExists))),
        Some(item) if is_legacy(&item) => {
            let version = version_of(&item).unwrap_or(0);
            Ok(Some((version + 1, Condition::VersionIs(version))))
        }
        Some(_) => Ok(None),
    }
}

/// Operators by name.
pub async fn list_operators(table: &dyn Table, limit: usize, after: Option<Cursor>) -> Result<Listing<Operator>, StoreError> {
    let page = table.query(&Query::index(Index::Gsi1, ALL_OPERATORS).limit(limit).after(after)).await?;
    Ok(Listing { items: page.items.iter().map(data_of).collect::<Result<_, _>>()?, next: page.next })
}

fn hashed(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Who an enrolment token enrols, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub operator: OperatorName,
    pub expires_at: DateTime<Utc>,
}

fn enrolment_key(token: &str) -> Key {
    Key::new(format!("ENROL#{}", hashed(token)), "ENROL")
}

pub fn put_enrolment(token: &str, enrolment: &Enrolment) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&enrolment_key(token), "enrolment").data(enrolment)?.expires_at(enrolment.expires_at.timestamp()).put(Condition::NotExists))
}

pub async fn get_enrolment(table: &dyn Table, token: &str) -> Result<Option<Enrolment>, StoreError> {
    table.get(&enrolment_key(token)).await?.as_ref().map(data_of).transpose()
}

/// Spends the token: the write fails if it was spent already.
pub fn delete_enrolment(token: &str) -> Write {
    Write::Delete { key: enrolment_key(token), condition: Condition::Exists }
}

fn session_key(cookie: &str) -> Key {
    Key::new(format!("SES#{}", hashed(cookie)), "SESSION")
}

/// The write that stores a session; `NotExists` for a new one, `VersionIs` to touch it.
pub fn put_session(cookie: &str, session: &Session, version: u64, condition: Condition) -> Result<Write, StoreError> {
    let absolute = session.created_at + crate::domain::operator::SESSION_ABSOLUTE;
    Ok(ItemBuilder::new(&session_key(cookie), "session").version(version).data(session)?.expires_at(absolute.timestamp()).put(condition))
}

pub async fn get_session(table: &dyn Table, cookie: &str) -> Result<Option<(Session, u64)>, StoreError> {
    match table.get(&session_key(cookie)).await? {
        Some(item) => Ok(Some((data_of(&item)?, version_of(&item).unwrap_or(0)))),
        None => Ok(None),
    }
}

pub fn delete_session(cookie: &str) -> Write {
    Write::Delete { key: session_key(cookie), condition: Condition::Always }
}
