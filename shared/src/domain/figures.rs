//! The operations dashboard's figures: counts read up to a bound, and deposits per hour and
//! per KST day. No counter is kept anywhere (a counter every deposit touched would be a hot
//! item); the reads that feed these are `repo::oversight`'s, each bounded, so a figure says
//! whether it saw everything.

use super::Krw;
use super::calendar::{kst_day, kst_day_bounds};
use super::money::MoneyOverflow;
use super::time::kst_serde;
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use serde::Serialize;

/// How many records matched. `complete` is false when the read stopped at its bound: the count
/// is then a lower bound (show it as `10,000+`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub count: u64,
    pub complete: bool,
}

impl Tally {
    pub const ZERO: Tally = Tally { count: 0, complete: true };
}

/// How many deposits and how much money; a lower bound when not `complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Volume {
    pub count: u64,
    pub amount: Krw,
    pub complete: bool,
}

impl Volume {
    pub const ZERO: Volume = Volume { count: 0, amount: Krw::ZERO, complete: true };

    pub fn add(&mut self, amount: Krw) -> Result<(), MoneyOverflow> {
        self.amount = self.amount.plus(amount)?;
        self.count += 1;
        Ok(())
    }
}

/// Deposits whose time lies in `[start, end)`. `complete` is false when some of them may not
/// have been read (the read stopped at its bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bucket {
    #[serde(with = "kst_serde")]
    pub start: DateTime<Utc>,
    #[serde(with = "kst_serde")]
    pub end: DateTime<Utc>,
    pub count: u64,
    pub amount: Krw,
    pub complete: bool,
}

impl Bucket {
    fn empty(start: DateTime<Utc>, end: DateTime<Utc>) -> Bucket {
        Bucket { start, end, count: 0, amount: Krw::ZERO, complete: true }
    }
}

/// How many hourly buckets the dashboard's chart of the last day shows.
pub const HOURS: i64 = 24;
/// How many daily buckets its chart of the last month shows.
pub const DAYS: i64 = 30;

/// The 24 hours up to and including the hour `now` is in, oldest first. KST is UTC + 9 h
/// exactly, so its hours begin when UTC hours do.
pub fn hourly_buckets(now: DateTime<Utc>) -> Vec<Bucket> {
    let hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    (0..HOURS).rev().map(|back| hour - Duration::hours(back)).map(|start| Bucket::empty(start, start + Duration::hours(1))).collect()
}

/// The 30 KST days up to and including `now`'s, oldest first.
pub fn daily_buckets(now: DateTime<Utc>) -> Vec<Bucket> {
    let today = kst_day(now);
    (0..DAYS)
        .rev()
        .map(|back| today - Duration::days(back))
        .map(|day: NaiveDate| {
            let (start, end) = kst_day_bounds(day);
            Bucket::empty(start, end)
        })
        .collect()
}

/// Counts one deposit of `amount` at `at` in the bucket it falls in (none when outside all).
pub fn add_to(buckets: &mut [Bucket], at: DateTime<Utc>, amount: Krw) -> Result<(), MoneyOverflow> {
    if let Some(bucket) = buckets.iter_mut().find(|b| b.start <= at && at < b.end) {
        bucket.amount = bucket.amount.plus(amount)?;
        bucket.count += 1;
    }
    Ok(())
}

/// Records at or before `cut` may be missing (a read stopped there): every bucket that
/// begins at or before it is incomplete.
pub fn mark_cut(buckets: &mut [Bucket], cut: DateTime<Utc>) {
    for bucket in buckets.iter_mut().filter(|b| b.start <= cut) {
        bucket.complete = false;
    }
}

/// `failed` of `attempts` in basis points (1 % = 100), rounded down; `None` without attempts.
pub fn rate_bps(failed: u64, attempts: u64) -> Option<u32> {
    if attempts == 0 {
        return None;
    }
    u32::try_from(u128::from(failed) * 10_000 / u128::from(attempts)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::parse_rfc3339;

    fn at(text: &str) -> DateTime<Utc> {
        parse_rfc3339(text).unwrap()
    }

    #[test]
    fn the_hourly_series_is_the_last_24_hours_ending_with_the_current_one() {
        let buckets = hourly_buckets(at("2026-11-24T10:35:12+09:00"));
        assert_eq!(buckets.len(), 24);
        assert_eq!(buckets[0].start, at("2026-11-23T11:00:00+09:00"));
        assert_eq!(buckets[23].start, at("2026-11-24T10:00:00+09:00"));
        assert_eq!(buckets[23].end, at("2026-11-24T11:00:00+09:00"));
        assert!(buckets.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn the_daily_series_is_30_kst_days_ending_today() {
        // 00:30 KST is still the previous day in UTC: the days are KST's.
        let buckets = daily_buckets(at("2026-11-24T00:30:00+09:00"));
        assert_eq!(buckets.len(), 30);
        assert_eq!(buckets[29].start, at("2026-11-24T00:00:00+09:00"));
        assert_eq!(buckets[0].start, at("2026-10-26T00:00:00+09:00"));
        assert!(buckets.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn a_deposit_lands_in_its_bucket_and_a_cut_marks_the_buckets_it_reaches() {
        let mut buckets = hourly_buckets(at("2026-11-24T10:35:00+09:00"));
        add_to(&mut buckets, at("2026-11-24T10:00:00+09:00"), Krw::new(35_000)).unwrap();
        add_to(&mut buckets, at("2026-11-24T09:59:59.999+09:00"), Krw::new(1_000)).unwrap();
        add_to(&mut buckets, at("2026-11-22T09:00:00+09:00"), Krw::new(7)).unwrap();
        assert_eq!((buckets[23].count, buckets[23].amount), (1, Krw::new(35_000)));
        assert_eq!((buckets[22].count, buckets[22].amount), (1, Krw::new(1_000)));
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 2);
        mark_cut(&mut buckets, at("2026-11-24T09:10:00+09:00"));
        assert!(buckets[23].complete);
        assert!(!buckets[22].complete && !buckets[0].complete);
    }

    #[test]
    fn a_rate_is_in_basis_points_and_absent_without_attempts() {
        assert_eq!(rate_bps(1, 3), Some(3_333));
        assert_eq!(rate_bps(0, 5), Some(0));
        assert_eq!(rate_bps(0, 0), None);
    }
}
