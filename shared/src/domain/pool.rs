//! The built-in number pool: imported ranges of account numbers per bank, handed out one at a
//! time and taken back only after a cooldown, so a late deposit never reaches the next owner.

use super::{AccountNumber, BankCode, ProviderId, VirtualAccountId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Free numbers are spread over this many index partitions so concurrent issues rarely race
/// for the same candidates.
pub const SHARDS: u32 = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum NumberState {
    Free,
    Assigned {
        account: VirtualAccountId,
    },
    /// Released by its account; reusable from `until` on.
    Cooling {
        until: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolNumber {
    pub bank_code: BankCode,
    pub account_number: AccountNumber,
    pub provider: ProviderId,
    #[serde(flatten)]
    pub state: NumberState,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("number {0} is not free")]
    NotFree(AccountNumber),
    #[error("number {0} is not assigned to that account")]
    NotAssigned(AccountNumber),
    #[error("number {0} is still cooling down")]
    StillCooling(AccountNumber),
}

impl PoolNumber {
    pub fn new(bank_code: BankCode, account_number: AccountNumber, provider: ProviderId) -> PoolNumber {
        PoolNumber { bank_code, account_number, provider, state: NumberState::Free, version: 1 }
    }

    /// Which free-index shard the number lives in: stable, and spread evenly.
    pub fn shard(&self) -> u32 {
        let digest = Sha256::digest(self.account_number.as_str().as_bytes());
        u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % SHARDS
    }

    /// A stable pseudo-random position of the number within its shard (8 hex digits), so
    /// allocators can start reading the shard at a random point.
    pub fn spread(&self) -> String {
        let digest = Sha256::digest(self.account_number.as_str().as_bytes());
        hex::encode(&digest[4..8])
    }

    pub fn assign(&self, account: VirtualAccountId) -> Result<PoolNumber, PoolError> {
        match self.state {
            NumberState::Free => Ok(self.with(NumberState::Assigned { account })),
            _ => Err(PoolError::NotFree(self.account_number.clone())),
        }
    }

    /// The account closed or expired: the number rests for `cooldown` before reuse.
    pub fn release(&self, account: &VirtualAccountId, now: DateTime<Utc>, cooldown: Duration) -> Result<PoolNumber, PoolError> {
        match &self.state {
            NumberState::Assigned { account: held } if held == account => Ok(self.with(NumberState::Cooling { until: now + cooldown })),
            _ => Err(PoolError::NotAssigned(self.account_number.clone())),
        }
    }

    /// A cooled-down number goes back to the free list.
    pub fn thaw(&self, now: DateTime<Utc>) -> Result<PoolNumber, PoolError> {
        match self.state {
            NumberState::Cooling { until } if until <= now => Ok(self.with(NumberState::Free)),
            NumberState::Cooling { .. } => Err(PoolError::StillCooling(self.account_number.clone())),
            _ => Err(PoolError::NotAssigned(self.account_number.clone())),
        }
    }

    fn with(&self, state: NumberState) -> PoolNumber {
        PoolNumber { state, version: self.version + 1, ..self.clone() }
    }
}

/// Consecutive numbers of one width imported into a pool: `first` and the `count - 1` after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberRange {
    pub first: AccountNumber,
    pub count: u64,
}

impl NumberRange {
    /// Width, first and one-past-last value: numbers of different widths are different
    /// numbers (`0012345` is not `12345`), so ranges only meet within a width.
    fn span(&self) -> Option<(usize, u128, u128)> {
        let start: u128 = self.first.as_str().parse().ok()?;
        Some((self.first.as_str().len(), start, start.checked_add(u128::from(self.count))?))
    }
}

/// The union of `ranges` and `added` as the fewest ranges that cover it, ordered by width and
/// first number. Ranges that overlap or touch are joined, so importing a range again (a re-run
/// of `pool add`) changes nothing.
pub fn merge_ranges(ranges: &[NumberRange], added: &NumberRange) -> Vec<NumberRange> {
    let mut spans: Vec<(usize, u128, u128)> = ranges.iter().chain([added]).filter_map(NumberRange::span).filter(|(_, s, e)| s < e).collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, u128, u128)> = Vec::with_capacity(spans.len());
    for (width, start, end) in spans {
        match merged.last_mut() {
            Some((w, _, e)) if *w == width && start <= *e => *e = (*e).max(end),
            _ => merged.push((width, start, end)),
        }
    }
    merged
        .into_iter()
        .filter_map(|(width, start, end)| {
            let first = format!("{start:0>width$}").parse().ok()?;
            Some(NumberRange { first, count: u64::try_from(end - start).ok()? })
        })
        .collect()
}

/// How many numbers `ranges` hold (ranges as [`merge_ranges`] leaves them: disjoint).
pub fn numbers_in(ranges: &[NumberRange]) -> u64 {
    ranges.iter().map(|r| r.count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn number(n: &str) -> PoolNumber {
        PoolNumber::new(BankCode::Kookmin, n.parse().unwrap(), "bank".parse().unwrap())
    }

    #[test]
    fn a_released_number_is_reusable_only_after_the_cooldown() {
        let now = Utc::now();
        let va = VirtualAccountId::generate(now);
        let held = number("1234567890").assign(va.clone()).unwrap();
        assert!(held.assign(VirtualAccountId::generate(now)).is_err());
        let cooling = held.release(&va, now, Duration::days(30)).unwrap();
        assert!(cooling.assign(VirtualAccountId::generate(now)).is_err());
        assert!(cooling.thaw(now + Duration::days(29)).is_err());
        let free = cooling.thaw(now + Duration::days(30)).unwrap();
        assert_eq!(free.state, NumberState::Free);
        assert_eq!(free.version, 4);
    }

    fn range(first: &str, count: u64) -> NumberRange {
        NumberRange { first: first.parse().unwrap(), count }
    }

    #[test]
    fn ranges_imported_again_overlapping_or_touching_are_counted_once() {
        let once = merge_ranges(&[], &range("12345600000000", 20));
        assert_eq!(merge_ranges(&once, &range("12345600000000", 20)), once);
        let overlapping = merge_ranges(&once, &range("12345600000010", 20));
        assert_eq!(overlapping, vec![range("12345600000000", 30)]);
        let touching = merge_ranges(&overlapping, &range("12345600000030", 5));
        assert_eq!(touching, vec![range("12345600000000", 35)]);
        let apart = merge_ranges(&touching, &range("12345600000100", 1));
        assert_eq!(numbers_in(&apart), 36);
        assert_eq!(apart.len(), 2);
    }

    #[test]
    fn ranges_of_other_widths_never_join() {
        let merged = merge_ranges(&[range("00123456", 10)], &range("123456", 10));
        assert_eq!(merged, vec![range("123456", 10), range("00123456", 10)]);
        assert_eq!(numbers_in(&merged), 20);
    }

    #[test]
    fn only_the_holder_can_release() {
        let now = Utc::now();
        let held = number("1234567890").assign(VirtualAccountId::generate(now)).unwrap();
        assert!(held.release(&VirtualAccountId::generate(now), now, Duration::days(1)).is_err());
    }

    proptest! {
        #[test]
        fn shards_are_in_range_and_stable(n in "[0-9]{10,14}") {
            let a = number(&n);
            prop_assert!(a.shard() < SHARDS);
            prop_assert_eq!(a.shard(), number(&n).shard());
        }

        #[test]
        fn pool_number_round_trips_through_json(n in "[0-9]{10,14}", assigned in any::<bool>()) {
            let mut p = number(&n);
            if assigned {
                p = p.assign(VirtualAccountId::generate(Utc::now())).unwrap();
            }
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<PoolNumber>(&json).unwrap(), p);
        }
    }
}
