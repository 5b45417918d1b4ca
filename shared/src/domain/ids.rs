//! Identifiers. Our own ids are a type prefix plus a ULID, so they sort by creation time
//! and a misplaced id (an `evt_` where a `va_` belongs) is caught at the edge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must start with `{0}` followed by 26 characters")]
    Malformed(&'static str),
    #[error("must be 1-{max} characters of {allowed}")]
    Invalid { max: usize, allowed: &'static str },
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh id whose order follows `at`.
            pub fn generate(at: DateTime<Utc>) -> Self {
                let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
                let ulid = ulid::Ulid::from_parts(ms, rand::random());
                Self(format!("{}{}", $prefix, ulid))
            }

            /// The smallest and largest id that could have been generated at `at`:
            /// bounds for a creation-time range over a sorted index.
            pub fn bounds_at(at: DateTime<Utc>) -> (String, String) {
                let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
                (
                    format!("{}{}", $prefix, ulid::Ulid::from_parts(ms, 0)),
                    format!("{}{}", $prefix, ulid::Ulid::from_parts(ms, u128::MAX)),
                )
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let rest = s.strip_prefix($prefix).ok_or(IdError::Malformed($prefix))?;
                // Only the canonical (upper-case) spelling is accepted, so one id has one key.
                match ulid::Ulid::from_string(rest) {
                    Ok(u) if u.to_string() == rest => Ok(Self(s.to_owned())),
                    _ => Err(IdError::Malformed($prefix)),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(/** A merchant (가맹점). */ MerchantId, "mch_");
prefixed_id!(/** A merchant API key; its secret signs requests. */ ApiKeyId, "key_");
prefixed_id!(/** A virtual account. */ VirtualAccountId, "va_");
prefixed_id!(/** A deposit reported by a provider. */ DepositId, "dep_");
prefixed_id!(/** An outbox event. */ EventId, "evt_");
prefixed_id!(/** A deposit exception; shares its ULID with the deposit it belongs to. */ ExceptionId, "exc_");
prefixed_id!(/** A merchant's webhook endpoint. */ WebhookEndpointId, "whe_");
prefixed_id!(/** An operations incident: one or more alerts of one kind about one subject. */ IncidentId, "inc_");
prefixed_id!(/** A merchant's settlement of one KST day. */ SettlementId, "stl_");

impl ExceptionId {
    /// A deposit has at most one exception, so the exception's id is the deposit's, re-prefixed:
    /// an operator's `exc_` id leads straight to its deposit without another record.
    pub fn of_deposit(deposit: &DepositId) -> ExceptionId {
        ExceptionId(format!("{}{}", Self::PREFIX, &deposit.as_str()[DepositId::PREFIX.len()..]))
    }

    pub fn deposit(&self) -> DepositId {
        DepositId(format!("{}{}", DepositId::PREFIX, &self.0[Self::PREFIX.len()..]))
    }
}

macro_rules! constrained_string {
    ($(#[$doc:meta])* $name:ident, max = $max:literal, allowed = $allowed:literal, $ok:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = $max;
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let ok: fn(char) -> bool = $ok;
                if !s.is_empty() && s.len() <= $max && s.chars().all(ok) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(IdError::Invalid { max: $max, allowed: $allowed })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

constrained_string!(
    /// The merchant's own order reference, unique per merchant.
    OrderId, max = 64, allowed = "A-Z a-z 0-9 _ . : -",
    |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
);

constrained_string!(
    /// An upstream provider chosen by the operator (`bank`, `toss`).
    ProviderId, max = 32, allowed = "a-z 0-9 _ -",
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-')
);

constrained_string!(
    /// A provider's own reference of one notice (deposit or reversal): with the provider, the
    /// idempotency key of that notice.
    TransactionId, max = 100, allowed = "A-Z a-z 0-9 _ . : -",
    |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
);

constrained_string!(
    /// An operator of the service, by login name.
    OperatorName, max = 32, allowed = "a-z 0-9 _ . -",
    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_of_one_kind_do_not_parse_as_another() {
        let va = VirtualAccountId::generate(Utc::now());
        assert!(va.as_str().parse::<VirtualAccountId>().is_ok());
        assert!(va.as_str().parse::<MerchantId>().is_err());
        assert!("va_not-a-ulid".parse::<VirtualAccountId>().is_err());
        assert!(va.as_str().to_lowercase().parse::<VirtualAccountId>().is_err());
    }

    #[test]
    fn generated_ids_fall_inside_their_time_bounds() {
        let at = Utc::now();
        let id = VirtualAccountId::generate(at);
        let (lo, hi) = VirtualAccountId::bounds_at(at);
        assert!(lo.as_str() <= id.as_str() && id.as_str() <= hi.as_str());
    }

    #[test]
    fn an_exception_id_leads_back_to_its_deposit() {
        let dep = DepositId::generate(Utc::now());
        let exc = ExceptionId::of_deposit(&dep);
        assert!(exc.as_str().starts_with("exc_"));
        assert_eq!(exc.as_str().parse::<ExceptionId>().unwrap(), exc);
        assert_eq!(exc.deposit(), dep);
    }

    #[test]
    fn order_id_rules() {
        assert!("ORD-20261124-0001".parse::<OrderId>().is_ok());
        assert!("a.b:c_d-e".parse::<OrderId>().is_ok());
        assert!("".parse::<OrderId>().is_err());
        assert!("has space".parse::<OrderId>().is_err());
        assert!("주문1".parse::<OrderId>().is_err());
        assert!("x".repeat(64).parse::<OrderId>().is_ok());
        assert!("x".repeat(65).parse::<OrderId>().is_err());
    }

    proptest! {
        #[test]
        fn ids_sort_by_creation_time(a in 0i64..4_000_000_000_000, b in 0i64..4_000_000_000_000) {
            prop_assume!(a != b);
            let ta = DateTime::from_timestamp_millis(a).unwrap();
            let tb = DateTime::from_timestamp_millis(b).unwrap();
            let (ia, ib) = (VirtualAccountId::generate(ta), VirtualAccountId::generate(tb));
            prop_assert_eq!(a < b, ia < ib);
        }

        #[test]
        fn id_text_round_trips(ms in 0i64..4_000_000_000_000) {
            let id = DepositId::generate(DateTime::from_timestamp_millis(ms).unwrap());
            prop_assert_eq!(id.to_string().parse::<DepositId>().unwrap(), id.clone());
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<DepositId>(&json).unwrap(), id);
        }

        #[test]
        fn order_id_accepts_exactly_its_alphabet(s in "[A-Za-z0-9_.:-]{1,64}") {
            let parsed: OrderId = s.parse().unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
        }

        #[test]
        fn order_id_rejects_other_characters(prefix in "[a-z]{0,5}", bad in "[^A-Za-z0-9_.:-]", suffix in "[a-z]{0,5}") {
            let s = format!("{prefix}{bad}{suffix}");
            prop_assert!(s.parse::<OrderId>().is_err());
        }
    }
}
