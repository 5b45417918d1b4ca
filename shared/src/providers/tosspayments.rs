//! Toss Payments' virtual-account deposit callback (`DEPOSIT_CALLBACK`), as Toss documents it:
//! a flat JSON body `{"createdAt", "secret", "status", "transactionKey", "orderId"}` with no
//! signature header. It is genuine when `secret` equals the secret of the payment (here: of
//! the virtual account, whose id is the `orderId` we gave Toss). The callback carries no amount,
//! bank or number: those are the account's. Mapping in docs/providers.md.
//!
//! Toss may add fields to its payloads, so unknown fields are ignored here (unlike our own API).

use super::{NoticeReader, NoticeRequest, ProviderError, ProviderNotice};
use crate::domain::deposit::{DepositNotice, ReversalNotice};
use crate::domain::signing::constant_time_eq;
use crate::domain::time::kst;
use crate::domain::{Krw, Provider, TransactionId, VirtualAccountId};
use crate::fields::{Fields, Invalid, amount, object_lenient, string};
use crate::ports::NoticeLookup;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};

/// A payment status of Toss, as far as a virtual account's deposit goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TossStatus {
    /// The money arrived.
    Done,
    /// Cancelled (after or before the deposit).
    Canceled,
    /// Part of the paid amount cancelled: [`TossCallback::cancel_amount`] says how much.
    PartialCanceled,
    /// Waiting: at issue, or again after a deposit failed (the bank took it back).
    WaitingForDeposit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TossCallback {
    pub created_at: DateTime<Utc>,
    pub secret: String,
    pub status: TossStatus,
    pub transaction_key: TransactionId,
    pub order_id: String,
    /// The amount a `PARTIAL_CANCELED` took back: the `cancelAmount` of the entry of `cancels`
    /// under this callback's `transactionKey` (else the last entry), or a top-level
    /// `cancelAmount`, as Toss's Payment object carries them. Required for that status.
    pub cancel_amount: Option<Krw>,
}

/// The cancelled amount of a partial cancellation, where the body carries one.
fn cancel_amount(f: &mut Fields, map: &serde_json::Map<String, serde_json::Value>, key: Option<&str>) -> Option<Krw> {
    let cancels = match map.get("cancels") {
        Some(serde_json::Value::Array(cancels)) => cancels.iter().filter_map(|c| c.as_object()).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let ours = cancels.iter().rev().find(|c| key.is_some() && c.get("transactionKey").and_then(|k| k.as_str()) == key).or(cancels.last());
    match ours {
        Some(cancel) => amount(f, cancel, "cancelAmount"),
        None => amount(f, map, "cancelAmount"),
    }
}

/// `createdAt` is a local (KST) time without offset, with up to 6 fractional digits.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    naive.and_local_timezone(kst()).single().map(|t| t.with_timezone(&Utc))
}

pub fn parse(body: &[u8]) -> Result<TossCallback, Invalid> {
    let map = object_lenient(body)?;
    let mut f = Fields::default();
    let required = |f: &mut Fields, name: &str| {
        let value = string(f, &map, name).map(str::to_owned);
        if value.is_none() && !f.errors.iter().any(|e| e.field == name) {
            f.fail(name, "is required");
        }
        value
    };
    let created_at = required(&mut f, "createdAt").and_then(|t| {
        parse_time(&t).or_else(|| {
            f.fail("createdAt", "must be yyyy-MM-ddTHH:mm:ss.SSSSSS");
            None
        })
    });
    let secret = required(&mut f, "secret");
    let status = required(&mut f, "status").and_then(|s| match s.as_str() {
        "DONE" => Some(TossStatus::Done),
        "CANCELED" => Some(TossStatus::Canceled),
        "PARTIAL_CANCELED" => Some(TossStatus::PartialCanceled),
        "WAITING_FOR_DEPOSIT" => Some(TossStatus::WaitingForDeposit),
        _ => {
            f.fail("status", "must be DONE, CANCELED, PARTIAL_CANCELED or WAITING_FOR_DEPOSIT");
            None
        }
    });
    let transaction_key = required(&mut f, "transactionKey").and_then(|k| k.parse::<TransactionId>().map_err(|e| f.fail("transactionKey", e)).ok());
    let order_id = required(&mut f, "orderId");
    // Read for a partial cancellation only: nothing else may be refused over a field it does not use.
    let cancel_amount = if status == Some(TossStatus::PartialCanceled) {
        let amount = cancel_amount(&mut f, &map, transaction_key.as_ref().map(TransactionId::as_str));
        if amount.is_none() && !f.errors.iter().any(|e| e.field == "cancelAmount") {
            f.fail("cancelAmount", "a PARTIAL_CANCELED callback needs the cancelled amount (`cancels[].cancelAmount`)");
        }
        amount
    } else {
        None
    };
    match (created_at, secret, status, transaction_key, order_id) {
        (Some(created_at), Some(secret), Some(status), Some(transaction_key), Some(order_id)) if f.errors.is_empty() => {
            Ok(TossCallback { created_at, secret, status, transaction_key, order_id, cancel_amount })
        }
        _ => Err(f.refused()),
    }
}

/// Reads Toss callbacks (docs/providers.md): `orderId` names our account, whose own secret
/// authenticates the callback; `DONE` is the account's remaining amount paid in full (Toss
/// takes no other amount), a cancellation or a failed deposit reverses the latest credited
/// deposit from Toss.
pub struct TossReader;

#[async_trait]
impl NoticeReader for TossReader {
    async fn read(&self, provider: &Provider, request: &NoticeRequest, lookup: &dyn NoticeLookup) -> Result<ProviderNotice, ProviderError> {
        let callback = parse(&request.body)?;
        let account = match callback.order_id.parse::<VirtualAccountId>() {
            Ok(id) => lookup.account(&id).await?,
            Err(_) => None,
        };
        let Some(account) = account.filter(|a| a.provider == provider.id) else { return Err(ProviderError::Unrecognised) };
        let expected = account.provider_secret.as_deref().unwrap_or_default();
        if expected.is_empty() || !constant_time_eq(expected.as_bytes(), callback.secret.as_bytes()) {
            return Err(ProviderError::Unrecognised);
        }
        match callback.status {
            TossStatus::Done => {
                let amount = account
                    .remaining()
                    .filter(|r| r.is_positive())
                    .or(account.amount)
                    .ok_or_else(|| Invalid::field("orderId", "Toss Payments callbacks apply to one-time accounts only"))?;
                Ok(ProviderNotice::Deposit(DepositNotice {
                    provider: provider.id.clone(),
                    transaction_id: callback.transaction_key,
                    bank_code: account.bank_code,
                    account_number: account.account_number.clone(),
                    amount,
                    depositor_name: None,
                    deposited_at: callback.created_at,
                }))
            }
            TossStatus::Canceled | TossStatus::WaitingForDeposit | TossStatus::PartialCanceled => {
                // A callback recorded before names the deposit it took back: redelivered, it is
                // answered from its record even when no deposit is left to cancel.
                let original = match lookup.reversed_by(&provider.id, &callback.transaction_key).await? {
                    Some(original) => original,
                    None => match lookup.latest_credited(&account).await? {
                        Some(credited) => credited,
                        None => return Ok(ProviderNotice::Ignored),
                    },
                };
                let notice = ReversalNotice {
                    provider: provider.id.clone(),
                    transaction_id: callback.transaction_key,
                    original_transaction_id: original,
                    occurred_at: callback.created_at,
                };
                Ok(match (callback.status, callback.cancel_amount) {
                    (TossStatus::PartialCanceled, Some(amount)) => ProviderNotice::PartialReversal(notice, amount),
                    _ => ProviderNotice::Reversal(notice),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::VirtualAccount;

    #[test]
    fn the_documented_example_parses_as_kst() {
        let body = br#"{"createdAt":"2022-01-01T00:00:00.000000","secret":"ps_x","status":"DONE","transactionKey":"9FF15E1A29D0E77C218F57262BFA4986","orderId":"va_1","extra":1}"#;
        let cb = parse(body).unwrap();
        assert_eq!(cb.status, TossStatus::Done);
        assert_eq!(cb.created_at.to_rfc3339(), "2021-12-31T15:00:00+00:00");
        assert!(parse(br#"{"createdAt":"2026-01-02T14:46:59.65327","secret":"s","status":"CANCELED","transactionKey":"k","orderId":"o"}"#).is_ok());
    }

    #[test]
    fn a_partial_cancellation_carries_its_amount() {
        let body = br#"{"createdAt":"2026-01-02T14:46:59.65327","secret":"s","status":"PARTIAL_CANCELED","transactionKey":"k2","orderId":"o",
            "cancels":[{"transactionKey":"k1","cancelAmount":1000},{"transactionKey":"k2","cancelAmount":2500},{"transactionKey":"k3","cancelAmount":7}]}"#;
        let cb = parse(body).unwrap();
        assert_eq!((cb.status, cb.cancel_amount), (TossStatus::PartialCanceled, Some(Krw::new(2500))), "the entry of this callback's key");
        let top = br#"{"createdAt":"2026-01-02T14:46:59","secret":"s","status":"PARTIAL_CANCELED","transactionKey":"k","orderId":"o","cancelAmount":300}"#;
        assert_eq!(parse(top).unwrap().cancel_amount, Some(Krw::new(300)));
        let Err(Invalid { errors, .. }) =
            parse(br#"{"createdAt":"2026-01-02T14:46:59","secret":"s","status":"PARTIAL_CANCELED","transactionKey":"k","orderId":"o"}"#)
        else {
            panic!("a partial cancellation without an amount is refused")
        };
        assert_eq!(errors[0].field, "cancelAmount");
        let cancelled =
            br#"{"createdAt":"2026-01-02T14:46:59","secret":"s","status":"CANCELED","transactionKey":"k","orderId":"o","cancels":[{"cancelAmount":-1}]}"#;
        assert_eq!(parse(cancelled).unwrap().cancel_amount, None, "a whole cancellation is never refused over `cancels`");
    }

    /// The records a reader may look up, held in memory.
    struct Records {
        account: VirtualAccount,
        reversed: Option<TransactionId>,
        credited: Option<TransactionId>,
    }

    #[async_trait]
    impl NoticeLookup for Records {
        async fn account(&self, id: &VirtualAccountId) -> Result<Option<VirtualAccount>, crate::ports::StoreError> {
            Ok(Some(self.account.clone()).filter(|a| &a.id == id))
        }

        async fn reversed_by(&self, _: &crate::domain::ProviderId, _: &TransactionId) -> Result<Option<TransactionId>, crate::ports::StoreError> {
            Ok(self.reversed.clone())
        }

        async fn latest_credited(&self, _: &VirtualAccount) -> Result<Option<TransactionId>, crate::ports::StoreError> {
            Ok(self.credited.clone())
        }
    }

    fn at() -> DateTime<Utc> {
        crate::domain::time::parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
    }

    fn toss() -> Provider {
        Provider {
            id: "toss".parse().unwrap(),
            kind: crate::domain::ProviderKind::Tosspayments,
            secret: String::new(),
            allowed_ips: Vec::new(),
            created_at: at(),
            version: 1,
        }
    }

    /// A one-time account of 35,000 won issued through Toss, with 10,000 paid in.
    fn records(credited: Option<&str>, reversed: Option<&str>) -> Records {
        let request = crate::domain::AccountRequest {
            order_id: "ORD-1".parse().unwrap(),
            kind: crate::domain::AccountType::OneTime,
            amount: Some(Krw::new(35_000)),
            bank_code: crate::domain::BankCode::Kookmin,
            due_at: None,
            allow_partial: true,
            depositor_name: None,
            customer: None,
            metadata: crate::domain::Metadata::new(),
            policy: crate::domain::AccountPolicy::default(),
        };
        let mut account = VirtualAccount::issue(
            VirtualAccountId::generate(at()),
            crate::domain::MerchantId::generate(at()),
            toss().id,
            "12345678901234".parse().unwrap(),
            request,
            at(),
        );
        account.provider_secret = Some("ps_secret".into());
        account.paid_amount = Krw::new(10_000);
        Records { account, reversed: reversed.map(|t| t.parse().unwrap()), credited: credited.map(|t| t.parse().unwrap()) }
    }

    async fn read_callback(records: &Records, status: &str, secret: &str, extra: &str) -> Result<ProviderNotice, ProviderError> {
        let body = format!(
            r#"{{"createdAt":"2026-11-24T10:00:00.000000","secret":"{secret}","status":"{status}","transactionKey":"TK-2","orderId":"{}"{extra}}}"#,
            records.account.id
        );
        TossReader.read(&toss(), &NoticeRequest::new(None, body.into_bytes()), records).await
    }

    #[tokio::test]
    async fn done_is_the_accounts_remaining_amount_on_its_number() {
        let records = records(None, None);
        let Ok(ProviderNotice::Deposit(deposit)) = read_callback(&records, "DONE", "ps_secret", "").await else { panic!("a deposit") };
        assert_eq!((deposit.amount, deposit.account_number, deposit.transaction_id.as_str()), (Krw::new(25_000), records.account.account_number, "TK-2"));
    }

    #[tokio::test]
    async fn a_wrong_secret_or_another_providers_account_is_unrecognised() {
        let mut records = records(None, None);
        assert_eq!(read_callback(&records, "DONE", "ps_guess", "").await, Err(ProviderError::Unrecognised));
        records.account.provider = "bank".parse().unwrap();
        assert_eq!(read_callback(&records, "DONE", "ps_secret", "").await, Err(ProviderError::Unrecognised));
    }

    #[tokio::test]
    async fn a_cancellation_reverses_the_latest_credited_deposit_or_what_it_reversed_before() {
        let Ok(ProviderNotice::Reversal(latest)) = read_callback(&records(Some("TK-1"), None), "CANCELED", "ps_secret", "").await else { panic!() };
        assert_eq!((latest.transaction_id.as_str(), latest.original_transaction_id.as_str()), ("TK-2", "TK-1"));
        let Ok(ProviderNotice::Reversal(again)) = read_callback(&records(None, Some("TK-0")), "CANCELED", "ps_secret", "").await else { panic!() };
        assert_eq!(again.original_transaction_id.as_str(), "TK-0", "redelivered: the deposit its record names");
        assert_eq!(read_callback(&records(None, None), "WAITING_FOR_DEPOSIT", "ps_secret", "").await, Ok(ProviderNotice::Ignored));
        let partial = read_callback(&records(Some("TK-1"), None), "PARTIAL_CANCELED", "ps_secret", r#","cancelAmount":300"#).await;
        assert!(matches!(partial, Ok(ProviderNotice::PartialReversal(_, amount)) if amount == Krw::new(300)), "{partial:?}");
    }

    #[test]
    fn missing_and_bad_fields_are_named() {
        let Err(Invalid { errors, .. }) = parse(br#"{"createdAt":"yesterday","status":"PAID"}"#) else { panic!("invalid") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["createdAt", "secret", "status", "transactionKey", "orderId"]);
    }
}
