//! Time as the contract wants it: stored as UTC instants, read with any offset, written in KST.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

const KST_SECONDS: i32 = 9 * 3600;

pub fn kst() -> FixedOffset {
    FixedOffset::east_opt(KST_SECONDS).expect("+09:00 is a valid offset")
}

/// `2026-11-24T10:00:00+09:00`; milliseconds only when present.
pub fn to_kst_string(at: DateTime<Utc>) -> String {
    at.with_timezone(&kst()).to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// RFC 3339 with an explicit offset (`Z` counts as one).
pub fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

/// Serde helpers so that every timestamp in a payload is written the same way.
pub mod kst_serde {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_kst_string(*at))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        parse_rfc3339(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
            match at {
                Some(at) => s.serialize_str(&to_kst_string(*at)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
            Option::<String>::deserialize(d)?.map(|s| parse_rfc3339(&s).map_err(serde::de::Error::custom)).transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn output_is_kst() {
        let t = parse_rfc3339("2026-11-24T01:00:00Z").unwrap();
        assert_eq!(to_kst_string(t), "2026-11-24T10:00:00+09:00");
    }

    #[test]
    fn input_without_offset_is_rejected() {
        assert!(parse_rfc3339("2026-11-24T10:00:00").is_err());
    }

    proptest! {
        #[test]
        fn kst_text_round_trips(ms in 0i64..4_000_000_000_000) {
            let t = DateTime::from_timestamp_millis(ms).unwrap();
            prop_assert_eq!(parse_rfc3339(&to_kst_string(t)).unwrap(), t);
        }
    }
}
