//! Personal data in admin answers and exports, masked for operators without `pii`: one walk
//! over the JSON an answer is made of, by field name, so no view can forget a field.

use crate::domain::notice::{mask_bank_account, mask_email, mask_name, mask_phone};
use serde_json::Value;

/// Fields holding a person's name (the customer, the depositor, a refund's holder).
const NAMES: &[&str] = &["customer_name", "depositor_name", "depositor_name_raw", "expected_depositor_name", "holder"];
const PHONES: &[&str] = &["phone", "customer_phone"];
const EMAILS: &[&str] = &["email", "customer_email"];

/// Masks `value` in place. `customer.name` is a name; `account_number` is a customer's own
/// account (masked) where it sits beside a `holder` (a refund), and our virtual account's
/// number (kept) everywhere else.
pub fn mask(value: &mut Value) {
    mask_in(value, false);
}

fn mask_in(value: &mut Value, in_customer: bool) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| mask_in(v, false)),
        Value::Object(map) => {
            let refund = map.contains_key("holder");
            for (key, v) in map.iter_mut() {
                let key = key.as_str();
                let rule: Option<fn(&str) -> String> = if NAMES.contains(&key) || (in_customer && key == "name") {
                    Some(mask_name)
                } else if PHONES.contains(&key) {
                    Some(mask_phone)
                } else if EMAILS.contains(&key) {
                    Some(mask_email)
                } else if refund && key == "account_number" {
                    Some(mask_bank_account)
                } else {
                    None
                };
                match (rule, &*v) {
                    (Some(rule), Value::String(s)) => *v = Value::String(rule(s)),
                    (None, _) => mask_in(v, key == "customer"),
                    (Some(_), _) => {}
                }
            }
        }
        _ => {}
    }
}

/// Query parameters that carry personal data (a list filtered by a depositor's name).
const PERSONAL_PARAMETERS: &[&str] = &["depositor"];

/// A query string as the audit log keeps it: every parameter, personal values masked, so the
/// append-only log never holds a name a filter was typed with.
pub fn query_for_audit(query: Option<&str>) -> Value {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| {
                let v = if PERSONAL_PARAMETERS.contains(&k.as_str()) { mask_name(&v) } else { v };
                (k, Value::String(v))
            })
            .collect(),
    )
}

/// Masks unless the operator may see personal data.
pub fn for_operator(mut value: Value, pii: bool) -> Value {
    if !pii {
        mask(&mut value);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_phones_emails_and_refund_accounts_are_masked_and_our_numbers_kept() {
        let mut v = json!({
            "account_number": "12345600000001",
            "depositor_name": "홍길동",
            "customer": {"name": "김철수", "phone": "010-1234-5678", "email": "kim@example.com"},
            "exception": {"resolution": {"action": "refund", "bank_code": "088", "account_number": "110123456789", "holder": "홍길동"}},
            "items": [{"customer_name": "이영희"}],
            "merchant": {"name": "상점"}
        });
        mask(&mut v);
        assert_eq!(v["account_number"], "12345600000001");
        assert_eq!(v["depositor_name"], "홍*동");
        assert_eq!(v["customer"], json!({"name": "김*수", "phone": "010-****-5678", "email": "k***@example.com"}));
        assert_eq!(v["exception"]["resolution"]["account_number"], "110-***-***789");
        assert_eq!(v["exception"]["resolution"]["holder"], "홍*동");
        assert_eq!(v["items"][0]["customer_name"], "이*희");
        assert_eq!(v["merchant"]["name"], "상점", "a merchant's name is not personal data");
    }
}
