//! Operators of the service: one item each (`OPR#{name}` / `OPERATOR`), holding the SHA-256 of
//! the bearer token, never the token.

use super::{ItemBuilder, data_of};
use crate::domain::OperatorName;
use crate::ports::{Condition, Key, StoreError, Table, Write};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An operator as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: OperatorName,
    pub token_sha256: String,
    pub created_at: DateTime<Utc>,
}

fn operator_key(name: &OperatorName) -> Key {
    Key::new(format!("OPR#{name}"), "OPERATOR")
}

/// The write that adds an operator; it fails its condition if the name is taken.
pub fn create_operator(operator: &Operator) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&operator_key(&operator.name), "operator").version(1).data(operator)?.put(Condition::NotExists))
}

pub async fn get_operator(table: &dyn Table, name: &OperatorName) -> Result<Option<Operator>, StoreError> {
    table.get(&operator_key(name)).await?.as_ref().map(data_of).transpose()
}
