//! Alert markers: an alert raised at most once per subject and period. The marker is created
//! (not exists) in the transaction of the alert's event, so of two raisers only one commits.
//!
//! - `pool.low`: `ALERT#pool.low#{bank}` / `{YYYY-MM-DDTHH}`, once per bank and UTC hour;
//!   kept two days.

use super::ItemBuilder;
use crate::domain::BankCode;
use crate::ports::{Condition, Key, Write};
use chrono::{DateTime, Duration, Utc};

/// How long a marker is kept: well past the period it guards.
const KEPT: Duration = Duration::days(2);

fn pool_low_key(bank: BankCode, at: DateTime<Utc>) -> Key {
    Key::new(format!("ALERT#pool.low#{bank}"), at.format("%Y-%m-%dT%H").to_string())
}

/// The marker of the `pool.low` alert of `bank` in the hour of `at`; fails its condition if
/// that hour's alert was raised already.
pub fn put_pool_low_marker(bank: BankCode, at: DateTime<Utc>) -> Write {
    ItemBuilder::new(&pool_low_key(bank, at), "alert_marker").expires_at((at + KEPT).timestamp()).put(Condition::NotExists)
}
