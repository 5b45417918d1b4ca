//! The `generic` notice format (docs/openapi.yaml, "Provider notifications"): our own JSON, signed with
//! the provider's shared secret as lowercase hex HMAC-SHA256 of the raw body in
//! `X-Provider-Signature`. Banks, test benches and `vaccount simulate` speak it.

use super::{NoticeReader, NoticeRequest, ProviderError, ProviderNotice};
use crate::domain::deposit::{DepositNotice, ReversalNotice, bounded_raw_name};
use crate::domain::signing::{sign_hex, verify_hex};
use crate::domain::{AccountNumber, BankCode, Provider, ProviderId, TransactionId};
use crate::fields::{Fields, Invalid, amount, object_lenient, only, parsed, required_time};
use crate::ports::NoticeLookup;
use async_trait::async_trait;
use serde_json::Value;

pub const SIGNATURE_HEADER: &str = "x-provider-signature";

/// Reads `generic` notices: signed by the provider's own secret, complete in themselves.
pub struct GenericReader;

#[async_trait]
impl NoticeReader for GenericReader {
    async fn read(&self, provider: &Provider, request: &NoticeRequest, _lookup: &dyn NoticeLookup) -> Result<ProviderNotice, ProviderError> {
        read(&provider.id, &provider.secret, request.header(SIGNATURE_HEADER), &request.body)
    }
}

/// The signature a provider sends with `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    sign_hex(secret, body)
}

/// Checks the signature, then parses the body. A bad signature is `unauthorized` whatever the
/// body says, so nothing about the body leaks to a forger.
pub fn read(provider: &ProviderId, secret: &str, signature: Option<&str>, body: &[u8]) -> Result<ProviderNotice, ProviderError> {
    let signature = signature.ok_or(ProviderError::Denied("missing X-Provider-Signature header"))?;
    if !verify_hex(secret, body, signature) {
        return Err(ProviderError::Denied("invalid provider signature"));
    }
    Ok(parse(provider, body)?)
}

pub fn parse(provider: &ProviderId, body: &[u8]) -> Result<ProviderNotice, Invalid> {
    let map = object_lenient(body)?;
    only(&map, &["type", "transaction_id", "original_transaction_id", "bank_code", "account_number", "amount", "depositor_name", "occurred_at"])?;
    let mut f = Fields::default();
    match map.get("type").and_then(|t| t.as_str()) {
        Some("deposit") => {
            only(&map, &["type", "transaction_id", "bank_code", "account_number", "amount", "depositor_name", "occurred_at"])?;
            let transaction_id = parsed::<TransactionId>(&mut f, &map, "transaction_id");
            let bank_code = parsed::<BankCode>(&mut f, &map, "bank_code");
            let account_number = parsed::<AccountNumber>(&mut f, &map, "account_number");
            let amount = amount(&mut f, &map, "amount");
            if amount.is_none() && !f.errors.iter().any(|e| e.field == "amount") {
                f.fail("amount", "is required");
            }
            // Whatever the bank printed, the money is the money: the name is kept as sent and
            // cleaned by the deposit, never refused (docs/providers.md).
            let depositor_name = match map.get("depositor_name") {
                None | Some(Value::Null) => None,
                Some(Value::String(name)) => Some(bounded_raw_name(name)),
                Some(other) => Some(bounded_raw_name(&other.to_string())),
            };
            let deposited_at = required_time(&mut f, &map, "occurred_at");
            match (transaction_id, bank_code, account_number, amount, deposited_at) {
                (Some(transaction_id), Some(bank_code), Some(account_number), Some(amount), Some(deposited_at)) if f.errors.is_empty() => {
                    Ok(ProviderNotice::Deposit(DepositNotice {
                        provider: provider.clone(),
                        transaction_id,
                        bank_code,
                        account_number,
                        amount,
                        depositor_name,
                        deposited_at,
                    }))
                }
                _ => Err(f.refused()),
            }
        }
        Some("reversal") => {
            only(&map, &["type", "transaction_id", "original_transaction_id", "occurred_at"])?;
            let transaction_id = parsed::<TransactionId>(&mut f, &map, "transaction_id");
            let original = parsed::<TransactionId>(&mut f, &map, "original_transaction_id");
            let occurred_at = required_time(&mut f, &map, "occurred_at");
            match (transaction_id, original, occurred_at) {
                (Some(transaction_id), Some(original_transaction_id), Some(occurred_at)) if f.errors.is_empty() => {
                    Ok(ProviderNotice::Reversal(ReversalNotice { provider: provider.clone(), transaction_id, original_transaction_id, occurred_at }))
                }
                _ => Err(f.refused()),
            }
        }
        _ => Err(Invalid::field("type", "must be deposit or reversal")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> ProviderId {
        "bank".parse().unwrap()
    }

    const DEPOSIT: &str = r#"{"type":"deposit","transaction_id":"T-1","bank_code":"004","account_number":"12345678901234","amount":35000,"depositor_name":"홍길동","occurred_at":"2026-11-24T10:00:00+09:00"}"#;

    #[test]
    fn a_signed_deposit_parses() {
        let notice = read(&provider(), "s3cret", Some(&sign("s3cret", DEPOSIT.as_bytes())), DEPOSIT.as_bytes()).unwrap();
        let ProviderNotice::Deposit(d) = notice else { panic!("a deposit") };
        assert_eq!((d.amount.won(), d.transaction_id.as_str(), d.depositor_name.as_deref()), (35_000, "T-1", Some("홍길동")));
    }

    #[test]
    fn a_bad_or_missing_signature_is_denied() {
        assert!(matches!(read(&provider(), "s3cret", Some(&sign("other", DEPOSIT.as_bytes())), DEPOSIT.as_bytes()), Err(ProviderError::Denied(_))));
        assert!(matches!(read(&provider(), "s3cret", None, DEPOSIT.as_bytes()), Err(ProviderError::Denied(_))));
    }

    #[test]
    fn a_deposit_is_read_whatever_its_depositor_name() {
        for name in ["", "   ", &"가".repeat(31), "홍길동\u{7}", "Kim\tJr\n", &"김".repeat(300)] {
            let body = DEPOSIT.replace("\"홍길동\"", &serde_json::to_string(name).unwrap());
            let Ok(ProviderNotice::Deposit(d)) = parse(&provider(), body.as_bytes()) else { panic!("{name:?} must be read") };
            assert_eq!(d.depositor_name.as_deref(), Some(name), "the name as sent; the deposit cleans it");
        }
        let huge = DEPOSIT.replace("\"홍길동\"", &serde_json::to_string(&"김".repeat(2000)).unwrap());
        let Ok(ProviderNotice::Deposit(d)) = parse(&provider(), huge.as_bytes()) else { panic!("a huge name is read too") };
        assert_eq!(d.depositor_name.unwrap(), "김".repeat(341), "kept up to 1 KiB, cut at a character");
        let number = DEPOSIT.replace("\"홍길동\"", "12345");
        let Ok(ProviderNotice::Deposit(d)) = parse(&provider(), number.as_bytes()) else { panic!("a name that is not a string is read too") };
        assert_eq!(d.depositor_name.as_deref(), Some("12345"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let body = r#"{"type":"deposit","transaction_id":"T 1","bank_code":"999","account_number":"12","amount":-5,"occurred_at":"yesterday"}"#;
        let Err(Invalid { errors, .. }) = parse(&provider(), body.as_bytes()) else { panic!("invalid") };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["transaction_id", "bank_code", "account_number", "amount", "occurred_at"]);
        let Err(Invalid { errors, .. }) = parse(&provider(), br#"{"type":"reversal","transaction_id":"T-1R","amount":1}"#) else { panic!() };
        assert_eq!(errors[0].field, "amount", "a reversal carries no amount");
        assert!(parse(&provider(), br#"{"type":"refund"}"#).is_err());
        assert!(parse(&provider(), b"[1]").is_err());
    }
}
