//! Korean won as an integer newtype. Money never passes through a float.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of Korean won. KRW has no minor unit, so one unit is one won.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Krw(i64);

/// A sum, difference or share of amounts left the range of `i64` won. Real money never gets
/// there (a payment is at most 10^10 won); arithmetic on `Krw` is checked and reports this
/// rather than wrapping or clamping, so a wrong figure can never be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an amount of won left the representable range")]
pub struct MoneyOverflow;

/// Why a number is not an acceptable amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be between {min} and {max} won", min = Krw::MIN_AMOUNT.0, max = Krw::MAX_AMOUNT.0)]
    OutOfRange,
}

impl Krw {
    pub const ZERO: Krw = Krw(0);
    /// Bounds of one payment amount (docs/openapi.yaml): 1 ≤ amount ≤ 10,000,000,000.
    pub const MIN_AMOUNT: Krw = Krw(1);
    pub const MAX_AMOUNT: Krw = Krw(10_000_000_000);

    /// Any won value, including zero and negatives (balances, differences).
    pub const fn new(won: i64) -> Krw {
        Krw(won)
    }

    /// A payment amount: what a merchant may ask for or a customer may send.
    pub fn payment(won: i64) -> Result<Krw, AmountError> {
        if (Self::MIN_AMOUNT.0..=Self::MAX_AMOUNT.0).contains(&won) { Ok(Krw(won)) } else { Err(AmountError::OutOfRange) }
    }

    pub const fn won(self) -> i64 {
        self.0
    }

    pub fn plus(self, other: Krw) -> Result<Krw, MoneyOverflow> {
        self.0.checked_add(other.0).map(Krw).ok_or(MoneyOverflow)
    }

    pub fn minus(self, other: Krw) -> Result<Krw, MoneyOverflow> {
        self.0.checked_sub(other.0).map(Krw).ok_or(MoneyOverflow)
    }

    /// `self` taken `n` times (a per-deposit fee over a count of deposits, which may be negative).
    pub fn times(self, n: i64) -> Result<Krw, MoneyOverflow> {
        self.0.checked_mul(n).map(Krw).ok_or(MoneyOverflow)
    }

    pub fn negated(self) -> Result<Krw, MoneyOverflow> {
        self.0.checked_neg().map(Krw).ok_or(MoneyOverflow)
    }

    /// `numerator / denominator` of this amount, truncated toward zero, so the share of a
    /// negative amount is the exact mirror of the positive one (fees and VAT of reversals).
    pub fn share(self, numerator: i64, denominator: i64) -> Result<Krw, MoneyOverflow> {
        let share = i128::from(self.0.unsigned_abs()).checked_mul(i128::from(numerator)).ok_or(MoneyOverflow)? / i128::from(denominator);
        let share = i64::try_from(share).map_err(|_| MoneyOverflow)?;
        Ok(Krw(if self.0 < 0 { -share } else { share }))
    }

    /// The sum of `amounts`.
    pub fn sum(amounts: impl IntoIterator<Item = Krw>) -> Result<Krw, MoneyOverflow> {
        amounts.into_iter().try_fold(Krw::ZERO, Krw::plus)
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Krw {
    /// `35,000원`: thousands separators as Korean receipts print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{grouped}원")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn payment_bounds_are_inclusive() {
        assert!(Krw::payment(0).is_err());
        assert_eq!(Krw::payment(1).map(Krw::won), Ok(1));
        assert_eq!(Krw::payment(10_000_000_000).map(Krw::won), Ok(10_000_000_000));
        assert!(Krw::payment(10_000_000_001).is_err());
        assert!(Krw::payment(-5).is_err());
    }

    #[test]
    fn display_groups_thousands() {
        assert_eq!(Krw::new(35_000).to_string(), "35,000원");
        assert_eq!(Krw::new(-1_234_567).to_string(), "-1,234,567원");
        assert_eq!(Krw::new(999).to_string(), "999원");
    }

    #[test]
    fn arithmetic_overflow_is_reported_not_wrapped() {
        assert_eq!(Krw::new(i64::MAX).plus(Krw::new(1)), Err(MoneyOverflow));
        assert_eq!(Krw::new(i64::MIN).minus(Krw::new(1)), Err(MoneyOverflow));
        assert_eq!(Krw::new(i64::MIN).negated(), Err(MoneyOverflow));
        assert_eq!(Krw::new(i64::MAX / 2 + 1).times(2), Err(MoneyOverflow));
        assert_eq!(Krw::sum([Krw::new(i64::MAX), Krw::new(1)]), Err(MoneyOverflow));
        assert_eq!(Krw::new(i64::MAX).share(3, 2), Err(MoneyOverflow));
    }

    #[test]
    fn shares_truncate_toward_zero_symmetrically() {
        assert_eq!(Krw::new(12_345).share(150, 10_000), Ok(Krw::new(185)));
        assert_eq!(Krw::new(-12_345).share(150, 10_000), Ok(Krw::new(-185)));
        assert_eq!(Krw::new(i64::MIN).share(1, 10), Ok(Krw::new(i64::MIN / 10)));
    }

    proptest! {
        #[test]
        fn payment_accepts_exactly_the_documented_range(won in any::<i64>()) {
            prop_assert_eq!(Krw::payment(won).is_ok(), (1..=10_000_000_000).contains(&won));
        }

        #[test]
        fn json_round_trip_is_a_plain_integer(won in any::<i64>()) {
            let json = serde_json::to_string(&Krw::new(won)).unwrap();
            prop_assert_eq!(&json, &won.to_string());
            prop_assert_eq!(serde_json::from_str::<Krw>(&json).unwrap(), Krw::new(won));
        }

        #[test]
        fn add_then_sub_is_identity(a in -1_000_000_000_000i64..1_000_000_000_000, b in -1_000_000_000_000i64..1_000_000_000_000) {
            let sum = Krw::new(a).plus(Krw::new(b)).unwrap();
            prop_assert_eq!(sum.minus(Krw::new(b)), Ok(Krw::new(a)));
        }
    }
}
