//! Korean bank codes (KFTC 3-digit) that vaccount can issue accounts at.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

macro_rules! banks {
    ($($variant:ident = $code:literal, $name:literal;)*) => {
        /// A bank by its KFTC code. Only the banks of the public contract are representable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BankCode { $($variant),* }

        impl BankCode {
            pub const ALL: &'static [BankCode] = &[$(BankCode::$variant),*];

            pub const fn code(self) -> &'static str {
                match self { $(BankCode::$variant => $code),* }
            }

            pub const fn name(self) -> &'static str {
                match self { $(BankCode::$variant => $name),* }
            }
        }

        impl FromStr for BankCode {
            type Err = UnknownBank;
            fn from_str(s: &str) -> Result<Self, UnknownBank> {
                match s {
                    $($code => Ok(BankCode::$variant),)*
                    _ => Err(UnknownBank),
                }
            }
        }
    };
}

banks! {
    Kookmin = "004", "KB국민은행";
    Shinhan = "088", "신한은행";
    Woori = "020", "우리은행";
    Hana = "081", "하나은행";
    Nonghyup = "011", "NH농협은행";
    Ibk = "003", "IBK기업은행";
    KakaoBank = "090", "카카오뱅크";
    TossBank = "092", "토스뱅크";
    KBank = "089", "케이뱅크";
    StandardChartered = "023", "SC제일은행";
    Daegu = "031", "iM뱅크(대구)";
    Busan = "032", "부산은행";
    Gwangju = "034", "광주은행";
    Jeju = "035", "제주은행";
    Jeonbuk = "037", "전북은행";
    Gyeongnam = "039", "경남은행";
    Saemaul = "045", "새마을금고";
    Shinhyup = "048", "신협";
    Post = "071", "우체국";
    Suhyup = "007", "수협은행";
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bank code; expected a 3-digit KFTC code such as 004")]
pub struct UnknownBank;

impl fmt::Display for BankCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for BankCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for BankCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_contract_table_has_twenty_distinct_banks() {
        let mut codes: Vec<_> = BankCode::ALL.iter().map(|b| b.code()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 20);
        assert_eq!("004".parse::<BankCode>(), Ok(BankCode::Kookmin));
        assert_eq!(BankCode::Kookmin.name(), "KB국민은행");
    }

    proptest! {
        #[test]
        fn every_code_round_trips(i in 0..BankCode::ALL.len()) {
            let bank = BankCode::ALL[i];
            prop_assert_eq!(bank.code().parse::<BankCode>(), Ok(bank));
            let json = serde_json::to_string(&bank).unwrap();
            prop_assert_eq!(serde_json::from_str::<BankCode>(&json).unwrap(), bank);
        }

        #[test]
        fn strings_outside_the_table_are_rejected(s in "\\PC{0,5}") {
            let known = BankCode::ALL.iter().any(|b| b.code() == s);
            prop_assert_eq!(s.parse::<BankCode>().is_ok(), known);
        }
    }
}
