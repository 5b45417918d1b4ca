//! The public JSON shape of records: what API responses, events and webhooks show. One shape
//! per record, so a merchant sees the same account whichever way it reaches them.

use super::deposit::{Deposit, DepositStatus, ExceptionReason, ExceptionState, Resolution};
use super::settlement::{Settlement, SettlementFile};
use super::time::kst_serde;
use super::{
    AccountType, BankCode, Customer, DepositId, ExceptionId, Krw, Metadata, OrderId, ProviderId, SettlementId, Status, TransactionId, VirtualAccount,
    VirtualAccountId,
};
use chrono::{DateTime, NaiveDate, Utc};
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

/// A deposit as merchants see it (docs/openapi.yaml, "Deposits").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositView {
    pub id: DepositId,
    pub provider: ProviderId,
    pub transaction_id: TransactionId,
    pub virtual_account_id: Option<VirtualAccountId>,
    pub bank_code: BankCode,
    pub bank_name: String,
    pub account_number: String,
    pub amount: Krw,
    /// What was added to the account's `paid_amount` (less than `amount` when part of it is
    /// held in the exception).
    pub credited_amount: Krw,
    pub depositor_name: Option<String>,
    /// The depositor's name differs from the account's expected one.
    pub name_mismatch: bool,
    #[serde(with = "kst_serde")]
    pub deposited_at: DateTime<Utc>,
    #[serde(with = "kst_serde")]
    pub received_at: DateTime<Utc>,
    pub status: DepositStatus,
    pub exception: Option<ExceptionView>,
    #[serde(with = "kst_serde::option")]
    pub reversed_at: Option<DateTime<Utc>>,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionView {
    pub id: ExceptionId,
    pub reason: ExceptionReason,
    pub amount: Krw,
    pub state: ExceptionState,
    /// How it was resolved, once it is: `assign`, `refund`, `write_off` or `reversed`.
    pub resolution: Option<String>,
}

impl From<&Deposit> for DepositView {
    fn from(d: &Deposit) -> DepositView {
        DepositView {
            id: d.id.clone(),
            provider: d.provider.clone(),
            transaction_id: d.transaction_id.clone(),
            virtual_account_id: d.virtual_account_id.clone(),
            bank_code: d.bank_code,
            bank_name: d.bank_code.name().to_owned(),
            account_number: d.account_number.to_string(),
            amount: d.amount,
            credited_amount: d.credited,
            depositor_name: d.depositor_name.clone(),
            name_mismatch: d.name_mismatch,
            deposited_at: d.deposited_at,
            received_at: d.received_at,
            status: d.status,
            exception: d.exception.as_ref().map(|e| ExceptionView {
                id: e.id.clone(),
                reason: e.reason,
                amount: e.amount,
                state: e.state,
                resolution: e.resolution.as_ref().map(|r| {
                    match r {
                        Resolution::Assign { .. } => "assign",
                        Resolution::Refund { .. } => "refund",
                        Resolution::WriteOff { .. } => "write_off",
                        Resolution::Reversed => "reversed",
                    }
                    .to_owned()
                }),
            }),
            reversed_at: d.reversal.as_ref().map(|r| r.reversed_at),
            version: d.version,
        }
    }
}

/// The API's settlement object (docs/openapi.yaml, "Settlements"), and what `settlement.exported` carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementView {
    pub id: SettlementId,
    pub date: NaiveDate,
    pub deposit_count: i64,
    pub gross: Krw,
    pub fee: Krw,
    pub vat: Krw,
    pub net: Krw,
    pub payout_date: NaiveDate,
    pub files: Vec<SettlementFile>,
    pub version: u64,
}

impl SettlementView {
    pub fn of(s: &Settlement) -> SettlementView {
        SettlementView {
            id: s.id.clone(),
            date: s.date,
            deposit_count: s.totals.deposit_count,
            gross: s.totals.gross,
            fee: s.totals.fee,
            vat: s.totals.vat,
            net: s.totals.net,
            payout_date: s.payout_date,
            files: s.files.clone(),
            version: s.version,
        }
    }
}
