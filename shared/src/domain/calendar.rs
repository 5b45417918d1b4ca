//! The Korean business-day calendar that settlement payout dates are counted in.
//!
//! Banks settle between each other only on business days: not Saturday, not Sunday, not a
//! public holiday (공휴일). Holidays follow the lunar calendar, elections and substitute-holiday
//! rules, so they cannot be computed; they are kept in `HOLIDAYS` by hand, one year at a time,
//! and every question about a year outside [`COVERED_YEARS`] is an error rather than a guess,
//! because a guessed payout date is a promise to a merchant we might break.
//!
//! 제헌절 (07-17) is a public holiday again from 2026 (공휴일에 관한 법률 as amended on
//! 2026-01-29, which made every 국경일 a public holiday); as a 국경일 it takes a substitute when it
//! falls on a weekend, as in 2027.
//!
//! 근로자의 날/노동절 (05-01) is deliberately absent: it is a paid day off for workers, not a
//! public holiday, and interbank settlement runs on it.
//!
//! Adding a year: take the government's 월력요항 for it (published by 우주항공청 the year
//! before), append its 공휴일 to `HOLIDAYS` in date order — including 대체공휴일 and any election
//! day — and widen [`COVERED_YEARS`]. Temporary holidays (임시공휴일) and election days are
//! designated later, sometimes weeks ahead; add them when announced. The tests check ordering and
//! coverage; add the year's weekend holidays and substitutes to their lists in the tests too, so
//! each substitute is checked against the weekend holiday it replaces.
//!
//! Calendar days are KST days (UTC+9, no daylight saving): [`kst_day`] and [`kst_day_bounds`]
//! map between them and the UTC instants everything is stored in.

use super::time::kst;
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use std::ops::RangeInclusive;

/// The years [`HOLIDAYS`] lists completely.
pub const COVERED_YEARS: RangeInclusive<i32> = 2026..=2027;

/// Korean public holidays as (year, month, day, name), in date order.
const HOLIDAYS: &[(i32, u32, u32, &str)] = &[
    (2026, 1, 1, "신정"),
    (2026, 2, 16, "설날 연휴"),
    (2026, 2, 17, "설날"),
    (2026, 2, 18, "설날 연휴"),
    (2026, 3, 1, "삼일절"),
    (2026, 3, 2, "대체공휴일"),
    (2026, 5, 5, "어린이날"),
    (2026, 5, 24, "부처님오신날"),
    (2026, 5, 25, "대체공휴일"),
    (2026, 6, 3, "전국동시지방선거"),
    (2026, 6, 6, "현충일"),
    (2026, 7, 17, "제헌절"),
    (2026, 8, 15, "광복절"),
    (2026, 8, 17, "대체공휴일"),
    (2026, 9, 24, "추석 연휴"),
    (2026, 9, 25, "추석"),
    (2026, 9, 26, "추석 연휴"),
    (2026, 10, 3, "개천절"),
    (2026, 10, 5, "대체공휴일"),
    (2026, 10, 9, "한글날"),
    (2026, 12, 25, "성탄절"),
    (2027, 1, 1, "신정"),
    (2027, 2, 6, "설날 연휴"),
    (2027, 2, 7, "설날"),
    (2027, 2, 8, "설날 연휴"),
    (2027, 2, 9, "대체공휴일"),
    (2027, 3, 1, "삼일절"),
    (2027, 5, 5, "어린이날"),
    (2027, 5, 13, "부처님오신날"),
    (2027, 6, 6, "현충일"),
    (2027, 7, 17, "제헌절"),
    (2027, 7, 19, "대체공휴일"),
    (2027, 8, 15, "광복절"),
    (2027, 8, 16, "대체공휴일"),
    (2027, 9, 14, "추석 연휴"),
    (2027, 9, 15, "추석"),
    (2027, 9, 16, "추석 연휴"),
    (2027, 10, 3, "개천절"),
    (2027, 10, 4, "대체공휴일"),
    (2027, 10, 9, "한글날"),
    (2027, 10, 11, "대체공휴일"),
    (2027, 12, 25, "성탄절"),
    (2027, 12, 27, "대체공휴일"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the holiday table does not cover {0}; add that year to domain/calendar.rs")]
    NotCovered(i32),
}

/// The name of the public holiday on `day`, if it is one.
pub fn holiday(day: NaiveDate) -> Result<Option<&'static str>, CalendarError> {
    if !COVERED_YEARS.contains(&day.year()) {
        return Err(CalendarError::NotCovered(day.year()));
    }
    let key = (day.year(), day.month(), day.day());
    Ok(HOLIDAYS.binary_search_by_key(&key, |&(y, m, d, _)| (y, m, d)).ok().map(|i| HOLIDAYS[i].3))
}

/// Whether banks settle on `day`.
pub fn is_business_day(day: NaiveDate) -> Result<bool, CalendarError> {
    let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
    // Asked even on weekends, so that an uncovered year is an error on every day of it.
    let holiday = holiday(day)?.is_some();
    Ok(!weekend && !holiday)
}

/// The date of a D+`business_days` payout for `day`.
///
/// D+0 is the first business day on or after `day`; D+N steps forward from `day` and stops on
/// the N-th business day after it. `day` itself must be covered too, even when its own status
/// does not matter, so that a date from an unmaintained year is never silently accepted.
pub fn payout_date(day: NaiveDate, business_days: u8) -> Result<NaiveDate, CalendarError> {
    let starts_on_business_day = is_business_day(day)?;
    if business_days == 0 && starts_on_business_day {
        return Ok(day);
    }
    // D+0 from a non-business day behaves like D+1: the first business day after it.
    let mut remaining = business_days.max(1);
    let mut current = day;
    loop {
        current = next_day(current)?;
        if is_business_day(current)? {
            remaining -= 1;
            if remaining == 0 {
                return Ok(current);
            }
        }
    }
}

/// The KST calendar day `at` falls on.
pub fn kst_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&kst()).date_naive()
}

/// The day a nightly job works on: the KST day before `now`'s.
pub fn kst_yesterday(now: DateTime<Utc>) -> NaiveDate {
    kst_day(now).pred_opt().unwrap_or(NaiveDate::MIN)
}

/// The first day a daily job still owes, up to `yesterday`: the one after the `last` it
/// finished, but never more than `catch_up` days back (after a long outage the oldest days
/// are an operator's to run), and `yesterday` itself the first time.
pub fn first_due_day(last: Option<NaiveDate>, yesterday: NaiveDate, catch_up: i64) -> NaiveDate {
    let oldest = yesterday - TimeDelta::days(catch_up - 1);
    last.map_or(yesterday, |d| d.succ_opt().unwrap_or(d)).max(oldest)
}

/// The UTC instants [start, end) of the KST calendar day `day`.
pub fn kst_day_bounds(day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    // Midnight in KST is that wall-clock time less KST's offset in UTC.
    let start = (day.and_time(NaiveTime::MIN) - TimeDelta::seconds(i64::from(kst().local_minus_utc()))).and_utc();
    // KST has no daylight saving, so every day is exactly 24 hours long.
    (start, start + TimeDelta::days(1))
}

fn next_day(day: NaiveDate) -> Result<NaiveDate, CalendarError> {
    // Only the last representable date has no successor; it is far outside any covered year.
    day.succ_opt().ok_or(CalendarError::NotCovered(day.year()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn dates() -> impl Iterator<Item = (NaiveDate, &'static str)> {
        HOLIDAYS.iter().map(|&(y, m, d, name)| (date(y, m, d), name))
    }

    #[test]
    fn table_is_sorted_without_duplicates_and_only_real_dates() {
        let days: Vec<NaiveDate> = dates().map(|(day, _)| day).collect();
        assert!(days.windows(2).all(|w| w[0] < w[1]), "HOLIDAYS must be strictly increasing for binary search");
    }

    #[test]
    fn table_lists_only_covered_years_and_each_covered_year() {
        assert!(dates().all(|(day, _)| COVERED_YEARS.contains(&day.year())));
        // Widening COVERED_YEARS without adding the holidays would report business days wrongly.
        for year in COVERED_YEARS {
            assert!(dates().filter(|(day, _)| day.year() == year).count() >= 15, "{year} looks incomplete");
        }
    }

    #[test]
    fn weekend_holidays_fall_where_the_table_says() {
        let weekend = [
            (date(2026, 3, 1), Weekday::Sun),
            (date(2026, 5, 24), Weekday::Sun),
            (date(2026, 6, 6), Weekday::Sat),
            (date(2026, 8, 15), Weekday::Sat),
            (date(2026, 9, 26), Weekday::Sat),
            (date(2026, 10, 3), Weekday::Sat),
            (date(2027, 2, 6), Weekday::Sat),
            (date(2027, 2, 7), Weekday::Sun),
            (date(2027, 6, 6), Weekday::Sun),
            (date(2027, 7, 17), Weekday::Sat),
            (date(2027, 8, 15), Weekday::Sun),
            (date(2027, 10, 3), Weekday::Sun),
            (date(2027, 10, 9), Weekday::Sat),
            (date(2027, 12, 25), Weekday::Sat),
        ];
        for (day, weekday) in weekend {
            assert_eq!(day.weekday(), weekday, "{day}");
            assert!(holiday(day).unwrap().is_some(), "{day}");
        }
        // Every other holiday is on a weekday, so the list above is complete.
        for (day, name) in dates() {
            let listed = weekend.iter().any(|&(d, _)| d == day);
            let on_weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            assert_eq!(listed, on_weekend, "{day} {name}");
        }
    }

    #[test]
    fn each_substitute_is_the_first_free_weekday_after_its_holiday() {
        // (holiday that fell on a weekend, its substitute)
        let pairs = [
            (date(2026, 3, 1), date(2026, 3, 2)),
            (date(2026, 5, 24), date(2026, 5, 25)),
            (date(2026, 8, 15), date(2026, 8, 17)),
            (date(2026, 10, 3), date(2026, 10, 5)),
            (date(2027, 2, 7), date(2027, 2, 9)),
            (date(2027, 7, 17), date(2027, 7, 19)),
            (date(2027, 8, 15), date(2027, 8, 16)),
            (date(2027, 10, 3), date(2027, 10, 4)),
            (date(2027, 10, 9), date(2027, 10, 11)),
            (date(2027, 12, 25), date(2027, 12, 27)),
        ];
        for (original, substitute) in pairs {
            let first_free = original.iter_days().skip(1).find(|&d| is_business_day(d).unwrap() || d == substitute).unwrap();
            assert_eq!(first_free, substitute, "substitute for {original}");
        }
        let substitutes: Vec<NaiveDate> = dates().filter(|(_, name)| *name == "대체공휴일").map(|(day, _)| day).collect();
        assert_eq!(substitutes, pairs.map(|(_, s)| s).to_vec(), "every substitute in the table is accounted for");
        for day in substitutes {
            assert!(!matches!(day.weekday(), Weekday::Sat | Weekday::Sun), "{day}");
        }
    }

    #[test]
    fn holidays_are_named() {
        assert_eq!(holiday(date(2026, 9, 25)), Ok(Some("추석")));
        assert_eq!(holiday(date(2026, 6, 3)), Ok(Some("전국동시지방선거")));
        assert_eq!(holiday(date(2026, 9, 23)), Ok(None));
        // 노동절 is not a settlement holiday.
        assert_eq!(holiday(date(2026, 5, 1)), Ok(None));
        assert_eq!(is_business_day(date(2026, 5, 1)), Ok(true));
    }

    #[test]
    fn weekends_and_holidays_are_not_business_days() {
        assert_eq!(is_business_day(date(2026, 3, 7)), Ok(false)); // Saturday
        assert_eq!(is_business_day(date(2026, 3, 8)), Ok(false)); // Sunday
        assert_eq!(is_business_day(date(2026, 3, 2)), Ok(false)); // 대체공휴일, a Monday
        assert_eq!(is_business_day(date(2026, 3, 3)), Ok(true));
    }

    #[test]
    fn payout_over_chuseok() {
        // 09-24 Thu, 09-25 Fri, 09-26 Sat are 추석; 09-27 is Sunday.
        assert_eq!(date(2026, 9, 23).weekday(), Weekday::Wed);
        assert_eq!(payout_date(date(2026, 9, 23), 1), Ok(date(2026, 9, 28)));
        assert_eq!(date(2026, 9, 28).weekday(), Weekday::Mon);
    }

    #[test]
    fn payout_over_christmas() {
        // 2026-12-24 is a Thursday; 12-25 Fri is 성탄절, then the weekend.
        assert_eq!(date(2026, 12, 24).weekday(), Weekday::Thu);
        assert_eq!(payout_date(date(2026, 12, 24), 1), Ok(date(2026, 12, 28)));
        let day = |d: &str| d.parse::<NaiveDate>().unwrap();
        assert_eq!(first_due_day(None, day("2026-11-24"), 31), day("2026-11-24"), "the first run: yesterday");
        assert_eq!(first_due_day(Some(day("2026-11-22")), day("2026-11-24"), 31), day("2026-11-23"), "the day after the last");
        assert_eq!(first_due_day(Some(day("2026-11-24")), day("2026-11-24"), 31), day("2026-11-25"), "nothing owed: after yesterday");
        assert_eq!(first_due_day(Some(day("2026-01-01")), day("2026-11-24"), 7), day("2026-11-18"), "at most 7 days back");
        // Thursday before 제헌절 (Friday 2026-07-17): the next business day is Monday.
        assert_eq!(payout_date(date(2026, 7, 16), 1), Ok(date(2026, 7, 20)));
    }

    #[test]
    fn payout_over_seollal_with_substitute() {
        // 02-06 Sat .. 02-08 Mon are 설날, 02-09 Tue its substitute.
        assert_eq!(date(2027, 2, 5).weekday(), Weekday::Fri);
        assert_eq!(payout_date(date(2027, 2, 5), 1), Ok(date(2027, 2, 10)));
        assert_eq!(payout_date(date(2027, 2, 5), 2), Ok(date(2027, 2, 11)));
    }

    #[test]
    fn d_plus_zero() {
        assert_eq!(payout_date(date(2026, 3, 3), 0), Ok(date(2026, 3, 3)));
        // Saturday → the next Monday.
        assert_eq!(payout_date(date(2026, 3, 7), 0), Ok(date(2026, 3, 9)));
        // Saturday before a substitute Monday → Tuesday.
        assert_eq!(payout_date(date(2026, 2, 28), 0), Ok(date(2026, 3, 3)));
    }

    #[test]
    fn uncovered_years_are_errors() {
        assert_eq!(holiday(date(2025, 12, 31)), Err(CalendarError::NotCovered(2025)));
        assert_eq!(is_business_day(date(2028, 1, 3)), Err(CalendarError::NotCovered(2028)));
        assert_eq!(payout_date(date(2025, 12, 31), 1), Err(CalendarError::NotCovered(2025)));
        // 12-30 Thu → 12-31 Fri is one; the second would be in 2028.
        assert_eq!(payout_date(date(2027, 12, 30), 1), Ok(date(2027, 12, 31)));
        assert_eq!(payout_date(date(2027, 12, 30), 2), Err(CalendarError::NotCovered(2028)));
        assert_eq!(CalendarError::NotCovered(2028).to_string(), "the holiday table does not cover 2028; add that year to domain/calendar.rs");
    }

    #[test]
    fn kst_day_turns_at_15_utc() {
        let before = "2026-03-01T14:59:59.999Z".parse::<DateTime<Utc>>().unwrap();
        let after = "2026-03-01T15:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(kst_day(before), date(2026, 3, 1));
        assert_eq!(kst_day(after), date(2026, 3, 2));
    }

    #[test]
    fn kst_day_bounds_are_midnight_kst() {
        let (start, end) = kst_day_bounds(date(2026, 3, 2));
        assert_eq!(start, "2026-03-01T15:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(end, "2026-03-02T15:00:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(kst_day(start), date(2026, 3, 2));
        assert_eq!(kst_day(end - TimeDelta::milliseconds(1)), date(2026, 3, 2));
        assert_eq!(kst_day(end), date(2026, 3, 3));
    }

    /// Days whose D+5 payout still lies inside the table.
    fn covered_day() -> impl Strategy<Value = NaiveDate> {
        let first = date(2026, 1, 1);
        let span = (date(2027, 12, 20) - first).num_days();
        (0..=span).prop_map(move |offset| first + TimeDelta::days(offset))
    }

    proptest! {
        #[test]
        fn payout_is_the_nth_business_day(day in covered_day(), n in 0u8..=5) {
            let payout = payout_date(day, n).unwrap();
            prop_assert!(is_business_day(payout).unwrap());
            prop_assert!(payout >= day);
            if n == 0 {
                // Nothing before the payout qualified.
                prop_assert!(day.iter_days().take_while(|&d| d < payout).all(|d| !is_business_day(d).unwrap()));
            } else {
                let counted = day.iter_days().skip(1).take_while(|&d| d <= payout).filter(|&d| is_business_day(d).unwrap()).count();
                prop_assert_eq!(counted, usize::from(n));
            }
        }

        #[test]
        fn kst_day_lies_within_its_bounds(secs in 1_767_225_600i64..1_830_297_600) {
            let at = DateTime::from_timestamp(secs, 0).unwrap();
            let (start, end) = kst_day_bounds(kst_day(at));
            prop_assert!(start <= at && at < end);
        }
    }
}
