//! The public JSON shape of records: what API responses, events and webhooks show. One shape
//! per record, so a merchant sees the same account whichever way it reaches them.

use super::time::kst_serde;
use super::{AccountType, BankCode, Customer, Krw, Metadata, OrderId, Status, VirtualAccount, VirtualAccountId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: VirtualAccountId,
    pub order_id: OrderId,
    #[serde(rename = "type")]
    pub kind: AccountType,
    pub status: Status,
    pub bank_code: BankCode,
    pub bank_name: String,
    pub account_number: String,
    pub amount: Option<Krw>,
    pub paid_amount: Krw,
    pub allow_partial: bool,
    #[serde(with = "kst_serde::option")]
    pub due_at: Option<DateTime<Utc>>,
    #[serde(with = "kst_serde")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "kst_serde")]
    pub updated_at: DateTime<Utc>,
    pub version: u64,
    pub depositor_name: Option<String>,
    pub customer: Option<Customer>,
    pub metadata: Metadata,
}

impl From<&VirtualAccount> for AccountView {
    fn from(a: &VirtualAccount) -> AccountView {
        AccountView {
            id: a.id.clone(),
            order_id: a.order_id.clone(),
            kind: a.kind,
            status: a.status,
            bank_code: a.bank_code,
            bank_name: a.bank_code.name().to_owned(),
            account_number: a.account_number.to_string(),
            amount: a.amount,
            paid_amount: a.paid_amount,
            allow_partial: a.allow_partial,
            due_at: a.due_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
            version: a.version,
            depositor_name: a.depositor_name.clone(),
            customer: a.customer.clone(),
            metadata: a.metadata.clone(),
        }
    }
}
