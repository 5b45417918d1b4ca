//! Reconciliation records, per provider and KST day in the partition `RECON#{provider}#{day}`:
//! the report (`REPORT`), one item per difference (`DIFF#{kind}#{transaction}`), a marker per
//! row reconciliation recovered (`RECOVERED#{transaction}`) and the statement alerts
//! (`MISSING`, `UNREADABLE#{sha256}`). The scheduled run's checkpoint is a
//! [`super::checkpoints::ReconciliationRun`].

use super::{ItemBuilder, data_of, version_of};
use crate::domain::reconciliation::{Difference, EntryKind, ReportSummary};
use crate::domain::{ProviderId, TransactionId};
use crate::ports::{Condition, Key, Query, SortRange, StoreError, Table, Write};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

const DIFF: &str = "DIFF#";
const RECOVERED: &str = "RECOVERED#";

fn partition(provider: &ProviderId, day: NaiveDate) -> String {
    format!("RECON#{provider}#{day}")
}

fn report_key(provider: &ProviderId, day: NaiveDate) -> Key {
    Key::new(partition(provider, day), "REPORT")
}

pub fn difference_key(provider: &ProviderId, day: NaiveDate, difference: &Difference) -> Key {
    Key::new(partition(provider, day), format!("{DIFF}{}#{}", difference.kind, difference.transaction_id))
}

pub fn put_report(report: &ReportSummary, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&report_key(&report.provider, report.date), "reconciliation_report").version(report.version).data(report)?.put(condition))
}

pub async fn get_report(table: &dyn Table, provider: &ProviderId, day: NaiveDate) -> Result<Option<ReportSummary>, StoreError> {
    let Some(item) = table.get(&report_key(provider, day)).await? else { return Ok(None) };
    let mut report: ReportSummary = data_of(&item)?;
    report.version = version_of(&item).unwrap_or(report.version);
    Ok(Some(report))
}

/// Rewritten whole by every run that changes the report, so unconditional.
pub fn put_difference(provider: &ProviderId, day: NaiveDate, difference: &Difference) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&difference_key(provider, day, difference), "reconciliation_difference").data(difference)?.put(Condition::Always))
}

pub fn delete(key: Key) -> Write {
    Write::Delete { key, condition: Condition::Always }
}

/// Every item of the day's partition whose sort key starts with `prefix`.
async fn items_with(table: &dyn Table, provider: &ProviderId, day: NaiveDate, prefix: &str) -> Result<Vec<crate::ports::Item>, StoreError> {
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let query = Query::table(partition(provider, day)).range(SortRange::BeginsWith(prefix.to_owned())).limit(500).after(after);
        let page = table.query(&query).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(items),
        }
    }
}

/// The keys of the day's stored differences.
pub async fn difference_keys(table: &dyn Table, provider: &ProviderId, day: NaiveDate) -> Result<Vec<Key>, StoreError> {
    Ok(items_with(table, provider, day, DIFF).await?.iter().filter_map(Key::of).collect())
}

/// The day's stored differences, in key order (kind, then transaction).
pub async fn differences(table: &dyn Table, provider: &ProviderId, day: NaiveDate) -> Result<Vec<Difference>, StoreError> {
    items_with(table, provider, day, DIFF).await?.iter().map(data_of).collect()
}

/// A statement row that reconciliation recorded through the notice path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryMarker {
    pub entry: EntryKind,
    pub transaction_id: TransactionId,
    #[serde(with = "crate::domain::time::kst_serde")]
    pub at: DateTime<Utc>,
}

/// Written before the notice is recorded, so that a run that stops between the two still
/// reports the row as recovered when it is run again.
pub fn put_recovery_marker(provider: &ProviderId, day: NaiveDate, marker: &RecoveryMarker) -> Result<Write, StoreError> {
    let key = Key::new(partition(provider, day), format!("{RECOVERED}{}", marker.transaction_id));
    Ok(ItemBuilder::new(&key, "reconciliation_recovery").data(marker)?.put(Condition::NotExists))
}

pub async fn recovered(table: &dyn Table, provider: &ProviderId, day: NaiveDate) -> Result<BTreeSet<TransactionId>, StoreError> {
    items_with(table, provider, day, RECOVERED).await?.iter().map(|item| data_of::<RecoveryMarker>(item).map(|m| m.transaction_id)).collect()
}

/// What was wrong with the day's statement when ops were told: it had not arrived, or the file
/// of this SHA-256 could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementProblem<'a> {
    Missing,
    Unreadable { sha256: &'a str },
}

fn problem_key(provider: &ProviderId, day: NaiveDate, problem: StatementProblem<'_>) -> Key {
    let sk = match problem {
        StatementProblem::Missing => "MISSING".to_owned(),
        StatementProblem::Unreadable { sha256 } => format!("UNREADABLE#{sha256}"),
    };
    Key::new(partition(provider, day), sk)
}

#[derive(Serialize, Deserialize)]
struct ProblemMarker {
    #[serde(with = "crate::domain::time::kst_serde")]
    alerted_at: DateTime<Utc>,
}

/// Ops are told of a statement problem once: this marker is created with the alert's event.
pub fn put_problem_marker(provider: &ProviderId, day: NaiveDate, problem: StatementProblem<'_>, at: DateTime<Utc>) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&problem_key(provider, day, problem), "reconciliation_alert").data(&ProblemMarker { alerted_at: at })?.put(Condition::NotExists))
}

pub async fn problem_alerted(table: &dyn Table, provider: &ProviderId, day: NaiveDate, problem: StatementProblem<'_>) -> Result<bool, StoreError> {
    Ok(table.get(&problem_key(provider, day, problem)).await?.is_some())
}
