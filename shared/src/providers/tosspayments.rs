//! Toss Payments' virtual-account deposit callback (`DEPOSIT_CALLBACK`), as Toss documents it:
//! a flat JSON body `{"createdAt", "secret", "status", "transactionKey", "orderId"}` with no
//! signature header. It is genuine when `secret` equals the secret of the payment (here: of
//! the virtual account, whose id is the `orderId` we gave Toss). The callback carries no amount,
//! bank or number: those are the account's. Mapping in docs/providers.md.
//!
//! Toss may add fields to its payloads, so unknown fields are ignored here (unlike our own API).

use crate::app::AppError;
use crate::domain::Krw;
use crate::domain::TransactionId;
use crate::domain::time::kst;
use crate::http::dto::{Fields, amount, object_lenient, string};
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

pub fn parse(body: &[u8]) -> Result<TossCallback, AppError> {
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
        _ => f.done(()).and(Err(AppError::invalid("one or more fields are invalid", vec![]))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let Err(AppError::Invalid { errors, .. }) =
            parse(br#"{"createdAt":"2026-01-02T14:46:59","secret":"s","status":"PARTIAL_CANCELED","transactionKey":"k","orderId":"o"}"#)
        else {
            panic!("a partial cancellation without an amount is refused")
        };
        assert_eq!(errors[0].field, "cancelAmount");
        let cancelled =
            br#"{"createdAt":"2026-01-02T14:46:59","secret":"s","status":"CANCELED","transactionKey":"k","orderId":"o","cancels":[{"cancelAmount":-1}]}"#;
        assert_eq!(parse(cancelled).unwrap().cancel_amount, None, "a whole cancellation is never refused over `cancels`");
    }

    #[test]
    fn missing_and_bad_fields_are_named() {
        let Err(AppError::Invalid { errors, .. }) = parse(br#"{"createdAt":"yesterday","status":"PAID"}"#) else { panic!("invalid") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["createdAt", "secret", "status", "transactionKey", "orderId"]);
    }
}
