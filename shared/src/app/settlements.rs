//! Daily settlement: export a merchant's KST day to files, record it, tell the merchant.
//!
//! The day's entries are read in row order (`repo::settlements::DayEntries`, a page per shard)
//! and handed over a bounded channel to a blocking thread that writes the CSV and the XLSX
//! (`settlement_files`), so memory stays flat however many deposits the day had. The files go
//! to the [`BlobStore`] (S3 in AWS, the data dir in `serve`); then the settlement record and its
//! `settlement.exported` event are written in one transaction.
//!
//! An exported day is final (docs/decisions.md, the settlement-day rule): before reading a day
//! the exporter seals it (`repo::settlements::seal_day`), and every movement's transaction
//! checks that the day it books into is not sealed ([`book`]), moving to the next day if it is.
//! So the entries read are all the day will ever have, a payout is never made on a file that
//! later changes, and a re-run of a day already recorded returns that record untouched.

use super::AppError;
use super::error::Unavailable;
use super::exports;
use super::settlement_files::{self, DayWriter, Manifest};
use crate::domain::calendar::{self, CalendarError};
use crate::domain::event::SettlementData;
use crate::domain::settlement::{self, Row, Settlement, SettlementEntry, SettlementFile, Totals};
use crate::domain::{EventData, Krw, MerchantId, OutboxEvent, SettlementId};
use crate::ports::{BlobDownload, BlobKey, BlobStore, Clock, Condition, Cursor, StoreError, Table};
use crate::repo::checkpoints::{Checkpoint, SettlementRun};
use crate::repo::settlements::DayEntries;
use crate::repo::{self, Guard, Listing, Transaction};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// When the nightly run settles yesterday (KST).
pub const RUN_AT: chrono::NaiveTime = match chrono::NaiveTime::from_hms_opt(0, 30, 0) {
    Some(t) => t,
    None => chrono::NaiveTime::MIN,
};

/// How far back a scheduled run catches up after downtime.
pub const CATCH_UP_DAYS: i64 = 31;

/// Rows in flight between the reader and the file writer.
const ROW_BUFFER: usize = 2048;

/// Longest range `GET /v1/settlements` answers at once.
pub const MAX_LIST_DAYS: i64 = 366;

/// Settlement runs and their files: the service's store and clock, where files go, and where
/// they are written first.
pub struct Settlements {
    table: Arc<dyn Table>,
    clock: Arc<dyn Clock>,
    blobs: Arc<dyn BlobStore>,
    /// Where files are written before they are stored (a Lambda's `/tmp`, the data dir).
    work_dir: PathBuf,
    /// Data rows per XLSX sheet; [`exports::ROWS_PER_SHEET`] but in tests.
    pub rows_per_sheet: u32,
}

/// The API's settlement object: a view (`domain::view`), as events carry it too.
pub use crate::domain::view::SettlementView;

/// Books a movement recorded `now` into the settlement: its entries go into the KST day of
/// `now`, or `not_before` if later (a day found sealed on an earlier attempt), with the check
/// that the day's partitions are not sealed. If the exporter sealed the day first, the
/// transaction is refused as [`Guard::DaySealed`] and the caller books into the day after
/// (`not_before`); so no entry ever joins a day already exported.
pub(crate) fn book(tx: &mut Transaction, entries: Vec<SettlementEntry>, now: DateTime<Utc>, not_before: Option<NaiveDate>) -> Result<(), StoreError> {
    let day = calendar::kst_day(now).max(not_before.unwrap_or(NaiveDate::MIN));
    let mut checks = Vec::new();
    for mut entry in entries {
        entry.day = day;
        tx.push(Guard::NewItem, repo::settlements::put_entry(&entry)?);
        let check = repo::settlements::check_open(&entry);
        // Two entries of one movement may share a partition; a transaction names an item once.
        if !checks.contains(&check) {
            checks.push(check);
        }
    }
    tx.extend(Guard::DaySealed(day), checks);
    Ok(())
}

/// An exported day whose entries no longer add up to its record: movements the earlier
/// version booked into it after it was exported (`rows` more, `gross` won more, or less).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnsettledDay {
    pub merchant_id: MerchantId,
    pub date: NaiveDate,
    pub rows: u64,
    pub gross: Krw,
}

/// Brings days exported before seals existed under the rule that an exported day is final:
/// each is sealed, so no movement can join it any more. Entries that the earlier version
/// booked into a day after its export (it revised such days the next nights) are reported,
/// never moved: the operator squares them with the merchant. Done once; the days found
/// changed, with what their record lacks.
pub async fn seal_exported_days(table: &dyn Table, now: DateTime<Utc>) -> Result<Vec<UnsettledDay>, AppError> {
    if repo::settlements::seals_migrated(table).await? {
        return Ok(Vec::new());
    }
    let (first, last) = (NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN), NaiveDate::from_ymd_opt(2199, 12, 31).unwrap_or(NaiveDate::MAX));
    let mut changed = Vec::new();
    for merchant in repo::merchants::list_merchants(table).await? {
        let mut after = None;
        loop {
            let page = repo::settlements::list_settlements(table, &merchant.id, first, last, 100, after).await?;
            for settled in &page.items {
                repo::settlements::seal_day(table, &merchant.id, settled.date).await?;
                let mut now_in_day = Totals::default();
                let mut entries = DayEntries::new(table, &merchant.id, settled.date);
                while let Some(entry) = entries.next().await? {
                    now_in_day.add(&Row::of(entry, merchant.fee)?)?;
                }
                if (now_in_day.rows, now_in_day.gross) != (settled.totals.rows, settled.totals.gross) {
                    changed.push(UnsettledDay {
                        merchant_id: merchant.id.clone(),
                        date: settled.date,
                        rows: now_in_day.rows.saturating_sub(settled.totals.rows),
                        gross: now_in_day.gross.minus(settled.totals.gross)?,
                    });
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    match table.transact(vec![repo::settlements::put_seals_migrated(now)?]).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(changed),
        Err(e) => Err(e.into()),
    }
}

/// `settlements/{merchant}/{YYYY}/{MM}/{DD}/{name}`.
pub fn file_key(merchant: &MerchantId, day: NaiveDate, name: &str) -> Result<BlobKey, AppError> {
    BlobKey::new(format!("settlements/{merchant}/{:04}/{:02}/{:02}/{name}", day.year(), day.month(), day.day())).map_err(AppError::from)
}

fn calendar_error(e: CalendarError) -> AppError {
    Unavailable::Calendar(e).into()
}

fn io_error(e: impl std::fmt::Display) -> AppError {
    Unavailable::Files { what: "settlement files", detail: e.to_string() }.into()
}

impl Settlements {
    pub fn new(service: &super::Service, blobs: Arc<dyn BlobStore>, work_dir: PathBuf) -> Settlements {
        Settlements { table: service.table.clone(), clock: service.clock.clone(), blobs, work_dir, rows_per_sheet: exports::ROWS_PER_SHEET }
    }

    /// The scheduled run (`serve` checks every minute; the exporter function runs at 00:30
    /// KST): once it is past 00:30 KST, settles every day after the last one settled through
    /// yesterday, oldest first, at most [`CATCH_UP_DAYS`] back, and remembers each day done. A
    /// day that fails stops the run there, to be retried at the next check.
    pub async fn run_due(&self) -> Result<Vec<NaiveDate>, AppError> {
        let now = self.clock.now();
        let local = now.with_timezone(&crate::domain::time::kst());
        if local.time() < RUN_AT {
            return Ok(Vec::new());
        }
        let yesterday = calendar::kst_yesterday(now);
        let mut checkpoint = Checkpoint::<SettlementRun>::read(self.table.as_ref()).await?;
        let mut done = Vec::new();
        let mut day = calendar::first_due_day(checkpoint.position.map(|p| p.last_day), yesterday, CATCH_UP_DAYS);
        while day <= yesterday {
            self.export_all(day).await?;
            checkpoint = checkpoint.save(self.table.as_ref(), SettlementRun { last_day: day }).await?;
            done.push(day);
            day = day.succ_opt().unwrap_or(day);
        }
        Ok(done)
    }

    /// Settles every merchant's `day`. One merchant's failure does not stop the others; the
    /// run fails afterwards, naming them, so the scheduler's retry redoes only what is missing
    /// (a re-run of a settled merchant changes nothing).
    pub async fn export_all(&self, day: NaiveDate) -> Result<Vec<Settlement>, AppError> {
        self.ensure_over(day)?;
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for merchant in repo::merchants::list_merchants(self.table.as_ref()).await? {
            match self.export_day(&merchant.id, day).await {
                Ok(s) => done.push(s),
                Err(e) => {
                    tracing::error!(merchant = %merchant.id, %day, error = %e, "settlement export failed");
                    failed.push(format!("{}: {e}", merchant.id));
                }
            }
        }
        if failed.is_empty() { Ok(done) } else { Err(Unavailable::PartlyFailed { job: format!("settlement of {day}"), failed }.into()) }
    }

    /// Settles one merchant's `day`: seals it, writes and stores the files, records the
    /// settlement. A day already recorded is final and returned as it is; a day not yet over
    /// cannot be settled (sealing it would push the rest of its movements to the next day).
    pub async fn export_day(&self, merchant_id: &MerchantId, day: NaiveDate) -> Result<Settlement, AppError> {
        if let Some(done) = repo::settlements::get_settlement(self.table.as_ref(), merchant_id, day).await? {
            return Ok(done);
        }
        self.ensure_over(day)?;
        let merchant = repo::merchants::get_merchant(self.table.as_ref(), merchant_id).await?.ok_or(AppError::NotFound)?;
        let payout_date = calendar::payout_date(day, merchant.payout_days).map_err(calendar_error)?;
        // From here on no movement can join the day: what is read below is all it will hold.
        repo::settlements::seal_day(self.table.as_ref(), merchant_id, day).await?;
        std::fs::create_dir_all(&self.work_dir).map_err(io_error)?;
        let dir = tempfile::Builder::new().prefix("settle-").tempdir_in(&self.work_dir).map_err(io_error)?;
        let [csv_name, xlsx_name, manifest_name] = settlement::file_names(day);

        let (totals, fee_terms, mut files) = self.write_files(merchant_id, merchant.fee, day, dir.path(), &csv_name, &xlsx_name).await?;
        let manifest_path = dir.path().join(&manifest_name);
        let manifest = Manifest {
            merchant_id: merchant_id.as_str(),
            date: day,
            payout_date,
            fee_terms: &fee_terms,
            rounding: settlement_files::ROUNDING,
            row_count: totals.rows,
            deposit_count: totals.deposit_count,
            gross: totals.gross,
            fee: totals.fee,
            vat: totals.vat,
            net: totals.net,
            files: &files,
        };
        settlement_files::write_manifest(&manifest_path, &manifest).map_err(io_error)?;
        files.push(settlement_files::describe(&manifest_path, &manifest_name).map_err(io_error)?);
        for name in [&csv_name, &xlsx_name, &manifest_name] {
            let key = file_key(merchant_id, day, name)?;
            self.blobs.put_file(&key, &dir.path().join(name), content_type_of(name)).await?;
        }
        let now = self.clock.now();
        let settlement = Settlement {
            id: SettlementId::generate(now),
            merchant_id: merchant_id.clone(),
            date: day,
            totals,
            payout_date,
            files,
            exported_at: now,
            version: 1,
        };
        self.record(settlement).await
    }

    /// Only a day that has ended can be settled: sealing one early would push the rest of its
    /// movements to the next day.
    fn ensure_over(&self, day: NaiveDate) -> Result<(), AppError> {
        if day >= calendar::kst_day(self.clock.now()) {
            return Err(AppError::field("date", format!("{day} is not over yet; a day is settled once it has ended (KST)")));
        }
        Ok(())
    }

    /// Streams the day's rows into the CSV and XLSX; the totals and the two files' descriptions.
    async fn write_files(
        &self,
        merchant: &MerchantId,
        terms: crate::domain::Fee,
        day: NaiveDate,
        dir: &Path,
        csv_name: &str,
        xlsx_name: &str,
    ) -> Result<(Totals, Vec<crate::domain::Fee>, Vec<SettlementFile>), AppError> {
        let (rows, mut incoming) = tokio::sync::mpsc::channel::<Row>(ROW_BUFFER);
        let (dir_owned, csv_owned, xlsx_owned, per_sheet) = (dir.to_owned(), csv_name.to_owned(), xlsx_name.to_owned(), self.rows_per_sheet);
        let writer = tokio::task::spawn_blocking(move || -> Result<(Totals, Vec<SettlementFile>), settlement_files::FileError> {
            let mut out = DayWriter::with_sheet_size(&dir_owned, &csv_owned, &xlsx_owned, day, per_sheet)?;
            while let Some(row) = incoming.blocking_recv() {
                out.write(&row)?;
            }
            let (csv, xlsx, totals) = out.finish()?;
            Ok((totals, vec![settlement_files::describe(&csv, &csv_owned)?, settlement_files::describe(&xlsx, &xlsx_owned)?]))
        });
        let mut entries = DayEntries::new(self.table.as_ref(), merchant, day);
        // The distinct terms of the day's rows, for the manifest: a handful at most.
        let mut fee_terms = Vec::new();
        let read = async {
            while let Some(entry) = entries.next().await? {
                let row = Row::of(entry, terms).map_err(AppError::from)?;
                let row_terms = row.entry.fee_terms.unwrap_or(terms);
                if !fee_terms.contains(&row_terms) {
                    fee_terms.push(row_terms);
                }
                if rows.send(row).await.is_err() {
                    // The writer stopped; its own error says why.
                    break;
                }
            }
            Ok::<(), AppError>(())
        }
        .await;
        drop(rows);
        let (totals, files) = writer.await.map_err(io_error)?.map_err(io_error)?;
        read?;
        Ok((totals, fee_terms, files))
    }

    /// Writes the settlement and its `settlement.exported` in one transaction, once per day.
    async fn record(&self, settlement: Settlement) -> Result<Settlement, AppError> {
        let (merchant, day) = (&settlement.merchant_id, settlement.date);
        let exported = EventData::SettlementExported(SettlementData { settlement: SettlementView::of(&settlement) });
        let event = OutboxEvent::new(Some(merchant.clone()), exported, settlement.exported_at);
        let mut writes = vec![repo::settlements::put_settlement(&settlement, Condition::NotExists)?];
        writes.extend(repo::outbox::put_event(&event)?);
        match self.table.transact(writes).await {
            Ok(()) => Ok(settlement),
            // Another run of the same day got there first. The day was sealed before either
            // read it, so both wrote the same files; theirs is the record.
            Err(StoreError::ConditionFailed { .. }) => match repo::settlements::get_settlement(self.table.as_ref(), merchant, day).await? {
                Some(theirs) if theirs.same_files(&settlement) => Ok(theirs),
                _ => Err(AppError::Conflict(format!("the settlement of {day} was recorded with other files; check the ledger"))),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// A page of a merchant's settlements from `from` to `to`, oldest first.
    pub async fn list(
        &self,
        merchant: &MerchantId,
        from: NaiveDate,
        to: NaiveDate,
        limit: usize,
        after: Option<Cursor>,
    ) -> Result<Listing<Settlement>, AppError> {
        if to < from {
            return Err(AppError::field("to", "must not be before `from`"));
        }
        if (to - from).num_days() >= MAX_LIST_DAYS {
            return Err(AppError::field("to", format!("at most {MAX_LIST_DAYS} days from `from`")));
        }
        Ok(repo::settlements::list_settlements(self.table.as_ref(), merchant, from, to, limit, after).await?)
    }

    /// One of a settlement's files, for download. Only names the settlement lists are served.
    pub async fn file(
        &self,
        merchant: &MerchantId,
        day: NaiveDate,
        name: &str,
        valid_for: std::time::Duration,
    ) -> Result<(BlobDownload, &'static str), AppError> {
        let settlement = repo::settlements::get_settlement(self.table.as_ref(), merchant, day).await?.ok_or(AppError::NotFound)?;
        if !settlement.files.iter().any(|f| f.name == name) {
            return Err(AppError::NotFound);
        }
        let key = file_key(merchant, day, name)?;
        let download = self.blobs.download(&key, valid_for).await?.ok_or(AppError::NotFound)?;
        Ok((download, content_type_of(name)))
    }
}

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

pub fn content_type_of(name: &str) -> &'static str {
    if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else if name.ends_with(".xlsx") {
        XLSX_TYPE
    } else {
        "application/json"
    }
}
