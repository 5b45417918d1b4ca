//! Daily reconciliation (docs/providers.md, "Daily statements"): a provider's statement of a KST day against our deposits.
//!
//! For one provider and day: the statement is read whole (`providers::read_statement`: one bad row
//! refuses it); our side is gathered — the provider's deposits of the day from every owner's
//! listing, and every deposit and reversal the statement names, read by its notice key (an
//! index may lag; the notice item is the truth); `domain::reconciliation::compare` judges each
//! row. A row we lack is recorded through [`Deposits::record_deposit`](super::deposits::Deposits::record_deposit) or
//! [`Deposits::reverse_deposit`](super::deposits::Deposits::reverse_deposit), the only ways money enters, so a recovered deposit is matched,
//! evented and settled like any other and is recorded once however often the day is
//! reconciled. Then the report file is stored, the differences written, and the report item
//! with its `reconciliation.mismatch` event written in one transaction. A re-run that reaches
//! the same outcome rewrites the same file and records and announces nothing.
//!
//! Entry points: [`Reconciler::reconcile_day`] (a statement in hand: `vaccount reconcile`, a
//! manual re-run), [`Reconciler::reconcile_from_source`] (one provider and day from the
//! [`StatementSource`]) and [`Reconciler::run_due`] (the schedule).

use super::error::Unavailable;
use super::exports::inert;
use super::settlement_files::csv_field;
use super::{AppError, Service};
use crate::domain::calendar::{self, kst_day_bounds};
use crate::domain::event::{MismatchData, StatementFault, StatementMissingData};
use crate::domain::reconciliation::{self, Difference, EntryKind, Holdings, KindCounts, Line, RecordedReversal, ReportSummary, StatementEntry, Verdict};
use crate::domain::settlement::SettlementFile;
use crate::domain::time::kst;
use crate::domain::{Deposit, DepositId, EventData, OutboxEvent, Provider, ProviderId, TransactionId};
use crate::ports::{BlobKey, BlobStore, Condition, Key, MAX_TRANSACTION_WRITES, StatementSource, StoreError, Write};
use crate::providers::read_statement;
use crate::repo::checkpoints::{Checkpoint, ReconciliationRun};
use crate::repo::deposits::{DepositFilter, UNMATCHED};
use crate::repo::reconciliation::{RecoveryMarker, StatementProblem};
use crate::repo::{self, Guard, Transaction, TxError};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

/// When the scheduled run reconciles yesterday (KST): providers deliver their statements in
/// the early morning.
pub const RUN_AT: NaiveTime = match NaiveTime::from_hms_opt(6, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// A statement not there by this time (KST) of the next day is reported missing.
pub const MISSING_AFTER: NaiveTime = match NaiveTime::from_hms_opt(12, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// How far back the scheduled run keeps looking for a statement that has not arrived.
pub const CATCH_UP_DAYS: i64 = 7;

/// Deposits read per listing page while gathering a day.
const PAGE: usize = 500;

/// Row errors quoted in an unreadable-statement alert.
const QUOTED_ERRORS: usize = 5;

const CSV_TYPE: &str = "text/csv; charset=utf-8";

/// The report file's columns.
const COLUMNS: [&str; 15] = [
    "대사일",
    "제공사",
    "구분",
    "거래번호",
    "원거래번호",
    "대사결과",
    "제공사 은행코드",
    "제공사 계좌번호",
    "제공사 금액",
    "입금ID",
    "가맹점ID",
    "당사 은행코드",
    "당사 계좌번호",
    "당사 금액",
    "비고",
];

pub struct Reconciler {
    pub service: Arc<Service>,
    pub blobs: Arc<dyn BlobStore>,
    pub source: Arc<dyn StatementSource>,
    /// Where report files are written before they are stored (a Lambda's `/tmp`, the data dir).
    pub work_dir: PathBuf,
    /// KST time after which the scheduled run reconciles yesterday ([`RUN_AT`]).
    pub run_at: NaiveTime,
    /// KST time of the next day after which a statement that has not arrived is reported
    /// ([`MISSING_AFTER`]).
    pub missing_after: NaiveTime,
}

/// A row that reconciliation recorded through the notice path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveredRow {
    pub entry: EntryKind,
    pub transaction_id: TransactionId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_transaction_id: Option<TransactionId>,
    /// The deposit recorded (for a reversal: the deposit it took back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposit_id: Option<DepositId>,
}

/// The outcome of reconciling one provider's day: the stored summary, and the rows behind its
/// `recovered` and `differences` counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub summary: ReportSummary,
    pub recovered: Vec<RecoveredRow>,
    pub differences: Vec<Difference>,
}

/// What the scheduled run did about one provider's day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum DayOutcome {
    Reconciled {
        report: Box<ReportSummary>,
    },
    /// The statement has not arrived; it is looked for again at the next check.
    Waiting,
    /// The statement had not arrived by its deadline; ops were told (once). Still looked for.
    Missing,
    /// The statement could not be read; ops were told (once per file). Looked at again at the
    /// next check, in case the provider replaces it.
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRun {
    pub provider: ProviderId,
    pub date: NaiveDate,
    #[serde(flatten)]
    pub outcome: DayOutcome,
}

/// `reconciliation-{provider}-{YYYYMMDD}.csv`.
pub fn report_file_name(provider: &ProviderId, day: NaiveDate) -> String {
    format!("reconciliation-{provider}-{}.csv", day.format("%Y%m%d"))
}

/// `reconciliation/{provider}/{YYYY}/{MM}/{DD}/{file name}`.
pub fn report_key(provider: &ProviderId, day: NaiveDate) -> Result<BlobKey, AppError> {
    BlobKey::new(format!("reconciliation/{provider}/{:04}/{:02}/{:02}/{}", day.year(), day.month(), day.day(), report_file_name(provider, day)))
        .map_err(AppError::from)
}

fn io_error(e: impl std::fmt::Display) -> AppError {
    Unavailable::Files { what: "reconciliation report", detail: e.to_string() }.into()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn verdict_label(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Matched => "일치".to_owned(),
        Verdict::Recovered => "복구".to_owned(),
        Verdict::Recover => "미복구".to_owned(),
        Verdict::Differs { kinds, .. } => kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join(" / "),
    }
}

/// The report file: UTF-8 with a BOM (Korean Excel reads it as UTF-8), CRLF, one row per line of
/// the comparison. Nothing in it depends on when it was written, so the same comparison gives
/// the same bytes.
pub fn report_csv(provider: &ProviderId, day: NaiveDate, lines: &[Line]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    out.write_all("\u{feff}".as_bytes())?;
    for (i, name) in COLUMNS.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        csv_field(&mut out, name)?;
    }
    out.write_all(b"\r\n")?;
    let text = |v: Option<String>| v.unwrap_or_default();
    for line in lines {
        let theirs = line.theirs.as_ref();
        let ours = line.ours.as_ref();
        let note = match &line.verdict {
            Verdict::Differs { note, .. } => note.clone(),
            _ => String::new(),
        };
        let cells = [
            day.to_string(),
            provider.to_string(),
            line.kind.label().to_owned(),
            line.transaction_id.to_string(),
            text(line.original_transaction_id.as_ref().map(ToString::to_string)),
            verdict_label(&line.verdict),
            text(theirs.map(|f| f.bank_code.to_string())),
            text(theirs.map(|f| f.account_number.to_string())),
            text(theirs.map(|f| f.amount.won().to_string())),
            text(ours.map(|h| h.deposit_id.to_string())),
            text(ours.and_then(|h| h.merchant_id.as_ref()).map(ToString::to_string)),
            text(ours.map(|h| h.facts.bank_code.to_string())),
            text(ours.map(|h| h.facts.account_number.to_string())),
            text(ours.map(|h| h.facts.amount.won().to_string())),
            note,
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            csv_field(&mut out, &inert(cell))?;
        }
        out.write_all(b"\r\n")?;
    }
    Ok(out)
}

impl Reconciler {
    pub fn new(service: Arc<Service>, blobs: Arc<dyn BlobStore>, source: Arc<dyn StatementSource>, work_dir: PathBuf) -> Reconciler {
        Reconciler { service, blobs, source, work_dir, run_at: RUN_AT, missing_after: MISSING_AFTER }
    }

    /// Reconciles `provider`'s `day` against `statement` (the generic statement CSV). Lost
    /// notices are recorded, the report is stored, and differences are announced once.
    pub async fn reconcile_day(&self, provider: &ProviderId, day: NaiveDate, statement: &[u8]) -> Result<Report, AppError> {
        if repo::merchants::get_provider(self.service.table.as_ref(), provider).await?.is_none() {
            return Err(AppError::field("provider", format!("provider {provider} does not exist")));
        }
        let entries = read_statement(provider, statement)?;
        self.reconcile_entries(provider, day, sha256_hex(statement), &entries).await
    }

    /// Reconciles `provider`'s `day` with the statement its source holds; `None` while there is
    /// none.
    pub async fn reconcile_from_source(&self, provider: &ProviderId, day: NaiveDate) -> Result<Option<Report>, AppError> {
        match self.source.statement(provider, day).await.map_err(Unavailable::Statement)? {
            Some(bytes) => Ok(Some(self.reconcile_day(provider, day, &bytes).await?)),
            None => Ok(None),
        }
    }

    async fn reconcile_entries(&self, provider: &ProviderId, day: NaiveDate, statement_sha256: String, entries: &[StatementEntry]) -> Result<Report, AppError> {
        let table = self.service.table.as_ref();
        let mut recovered = repo::reconciliation::recovered(table, provider, day).await?;
        let mut lines = reconciliation::compare(day, entries, &self.holdings(provider, day, entries).await?, &recovered);
        let pending = reconciliation::to_recover(entries, &lines);
        if !pending.is_empty() {
            self.recover(provider, day, &pending).await?;
            // Judged again on what is now stored, so this run reports what any later run will.
            recovered = repo::reconciliation::recovered(table, provider, day).await?;
            lines = reconciliation::compare(day, entries, &self.holdings(provider, day, entries).await?, &recovered);
            if !reconciliation::to_recover(entries, &lines).is_empty() {
                return Err(Unavailable::NotYetStored { what: format!("recovered notices of {provider} on {day}") }.into());
            }
        }
        let differences = reconciliation::differences(&lines);
        let file = self.store_file(provider, day, &lines).await?;
        let (rows, matched, recovered_rows) = reconciliation::tally(&lines);
        let summary = ReportSummary {
            provider: provider.clone(),
            date: day,
            statement_sha256,
            statement_rows: rows,
            matched,
            recovered: recovered_rows,
            differences: differences.len() as u64,
            by_kind: KindCounts::of(&differences),
            differences_sha256: sha256_hex(&serde_json::to_vec(&differences).map_err(io_error)?),
            file,
            reconciled_at: self.service.clock.now(),
            version: 1,
        };
        let summary = self.record(summary, &differences).await?;
        let recovered = lines
            .iter()
            .filter(|l| l.verdict == Verdict::Recovered)
            .map(|l| RecoveredRow {
                entry: l.kind,
                transaction_id: l.transaction_id.clone(),
                original_transaction_id: l.original_transaction_id.clone(),
                deposit_id: l.ours.as_ref().map(|h| h.deposit_id.clone()),
            })
            .collect();
        Ok(Report { summary, recovered, differences })
    }

    /// The provider's deposits whose deposit time falls in the KST `day`, from every owner's
    /// listing (each merchant's, and the unmatched ones').
    async fn day_deposits(&self, provider: &ProviderId, day: NaiveDate) -> Result<Vec<Deposit>, AppError> {
        let table = self.service.table.as_ref();
        let (start, end) = kst_day_bounds(day);
        let filter = DepositFilter { status: None, from: Some(start), to: Some(end - chrono::Duration::milliseconds(1)) };
        let mut owners: Vec<String> = repo::merchants::list_merchants(table).await?.into_iter().map(|m| m.id.to_string()).collect();
        owners.push(UNMATCHED.to_owned());
        let mut found: BTreeMap<TransactionId, Deposit> = BTreeMap::new();
        for owner in owners {
            let mut after = None;
            loop {
                let page = repo::deposits::list(table, &owner, &filter, PAGE, after).await?;
                for deposit in page.items.into_iter().filter(|d| &d.provider == provider) {
                    found.insert(deposit.transaction_id.clone(), deposit);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(found.into_values().collect())
    }

    /// What we hold that the comparison needs: the day's deposits, and the notice behind every
    /// transaction the statement names that the listing did not show.
    async fn holdings(&self, provider: &ProviderId, day: NaiveDate, entries: &[StatementEntry]) -> Result<Holdings, AppError> {
        let table = self.service.table.as_ref();
        let mut held = Holdings { deposits: self.day_deposits(provider, day).await?, reversals: Vec::new() };
        // Deposits and reversals are recorded under separate keys (a reversal may reuse an id).
        let mut known_deposits: BTreeSet<TransactionId> = held.deposits.iter().map(|d| d.transaction_id.clone()).collect();
        let mut known_reversals: BTreeSet<TransactionId> = held.deposits.iter().filter_map(|d| d.reversal.as_ref().map(|r| r.transaction_id.clone())).collect();
        for entry in entries {
            let (deposit, reversal) = match entry {
                StatementEntry::Deposit(d) => (&d.transaction_id, None),
                StatementEntry::Reversal(r) => (&r.original_transaction_id, Some(&r.transaction_id)),
            };
            if known_deposits.insert(deposit.clone())
                && let Some(d) = repo::deposits::get_by_transaction(table, provider, deposit).await?
            {
                held.deposits.push(d);
            }
            if let Some(reversal) = reversal
                && known_reversals.insert(reversal.clone())
                && let Some(claim) = repo::deposits::get_reversal_claim(table, provider, reversal).await?
            {
                held.reversals.push(RecordedReversal { transaction_id: claim.transaction_id, original_transaction_id: claim.original_transaction_id });
            }
        }
        Ok(held)
    }

    /// Records the rows we lack through the notice path, deposits first. Each row's marker is
    /// written before its notice, so a run cut short between the two still reports the row as
    /// recovered when the day is reconciled again.
    async fn recover(&self, provider: &ProviderId, day: NaiveDate, pending: &[&StatementEntry]) -> Result<(), AppError> {
        for entry in pending {
            let marker = RecoveryMarker { entry: entry.kind(), transaction_id: entry.transaction_id().clone(), at: self.service.clock.now() };
            match self.service.table.transact(vec![repo::reconciliation::put_recovery_marker(provider, day, &marker)?]).await {
                Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                Err(e) => return Err(e.into()),
            }
            let answer = match entry {
                StatementEntry::Deposit(notice) => self.service.deposits().record_deposit(notice.clone()).await?,
                StatementEntry::Reversal(notice) => self.service.deposits().reverse_deposit(notice.clone()).await?,
            };
            tracing::warn!(
                %provider,
                %day,
                transaction = %marker.transaction_id,
                kind = marker.entry.as_str(),
                status = ?answer.status,
                "reconciliation recorded a notice we had not received"
            );
        }
        Ok(())
    }

    /// Writes the report file and stores it under [`report_key`].
    async fn store_file(&self, provider: &ProviderId, day: NaiveDate, lines: &[Line]) -> Result<SettlementFile, AppError> {
        let name = report_file_name(provider, day);
        let bytes = report_csv(provider, day, lines).map_err(io_error)?;
        tokio::fs::create_dir_all(&self.work_dir).await.map_err(io_error)?;
        let dir = tempfile::Builder::new().prefix("recon-").tempdir_in(&self.work_dir).map_err(io_error)?;
        let path = dir.path().join(&name);
        tokio::fs::write(&path, &bytes).await.map_err(io_error)?;
        self.blobs.put_file(&report_key(provider, day)?, &path, CSV_TYPE).await?;
        Ok(SettlementFile { name, sha256: sha256_hex(&bytes), bytes: bytes.len() as u64 })
    }

    /// Stores the differences, then the report with, when the differences are new, its
    /// `reconciliation.mismatch` event in the same transaction. The same outcome as stored
    /// writes nothing.
    async fn record(&self, mut summary: ReportSummary, differences: &[Difference]) -> Result<ReportSummary, AppError> {
        let table = self.service.table.as_ref();
        let (provider, day) = (summary.provider.clone(), summary.date);
        let previous = repo::reconciliation::get_report(table, &provider, day).await?;
        if let Some(previous) = &previous
            && previous.same_outcome(&summary)
        {
            return Ok(previous.clone());
        }
        summary.version = previous.as_ref().map_or(1, |p| p.version + 1);

        // The differences go first: the report that counts them is written last, so a stored
        // report always has its differences beside it.
        let mut writes: BTreeMap<Key, Write> = BTreeMap::new();
        for difference in differences {
            writes.insert(repo::reconciliation::difference_key(&provider, day, difference), repo::reconciliation::put_difference(&provider, day, difference)?);
        }
        for stale in repo::reconciliation::difference_keys(table, &provider, day).await? {
            if !writes.contains_key(&stale) {
                writes.insert(stale.clone(), repo::reconciliation::delete(stale));
            }
        }
        let writes: Vec<Write> = writes.into_values().collect();
        for chunk in writes.chunks(MAX_TRANSACTION_WRITES) {
            table.transact(chunk.to_vec()).await?;
        }

        let announce = !differences.is_empty() && previous.as_ref().is_none_or(|p| p.differences_sha256 != summary.differences_sha256);
        let condition = previous.as_ref().map_or(Condition::NotExists, |p| Condition::VersionIs(p.version));
        let mut writes = vec![repo::reconciliation::put_report(&summary, condition)?];
        if announce {
            let mismatch = MismatchData {
                provider: provider.clone(),
                date: day,
                differences: summary.differences,
                by_kind: summary.by_kind.clone(),
                recovered: summary.recovered,
                report: report_key(&provider, day)?.to_string(),
            };
            writes.extend(repo::outbox::put_event(&OutboxEvent::new(None, EventData::ReconciliationMismatch(mismatch), summary.reconciled_at))?);
        }
        match table.transact(writes).await {
            Ok(()) => Ok(summary),
            // Another run of the same day got there first; fine if it reached the same outcome.
            Err(StoreError::ConditionFailed { .. }) => match repo::reconciliation::get_report(table, &provider, day).await? {
                Some(theirs) if theirs.same_outcome(&summary) => Ok(theirs),
                _ => Err(AppError::Conflict(format!("the reconciliation of {provider} on {day} changed while it ran; run it again"))),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The scheduled run (the reconciler function on its schedule; `serve` may check every few
    /// minutes): once it is past [`Reconciler::run_at`] KST, reconciles every provider's days
    /// from the checkpoint through yesterday, at most [`CATCH_UP_DAYS`] back, with the
    /// statement each provider has delivered. A day already reported is not redone (a
    /// corrected statement is reconciled with [`Reconciler::reconcile_day`]); a statement not
    /// there yet is looked for again at the next check, and reported missing once after
    /// [`Reconciler::missing_after`] KST of the following day. The checkpoint moves past a
    /// day when every provider's report of it is stored. One provider's failure does not stop
    /// the others; the run fails afterwards, naming them.
    pub async fn run_due(&self) -> Result<Vec<DayRun>, AppError> {
        let now = self.service.clock.now();
        if now.with_timezone(&kst()).time() < self.run_at {
            return Ok(Vec::new());
        }
        let table = self.service.table.as_ref();
        let yesterday = calendar::kst_yesterday(now);
        let checkpoint = Checkpoint::<ReconciliationRun>::read(table).await?;
        let first = calendar::first_due_day(checkpoint.position.map(|p| p.last_day), yesterday, CATCH_UP_DAYS);
        let providers = repo::merchants::list_providers(table).await?;
        let mut runs = Vec::new();
        let mut failed = Vec::new();
        let mut complete_through = None;
        let mut gapless = true;
        let mut day = first;
        while day <= yesterday {
            let mut day_complete = true;
            // A provider has no statement for the days before it was registered.
            // Collected first: an iterator adapter held across an await makes the future not Send.
            let registered: Vec<&Provider> = providers.iter().filter(|p| calendar::kst_day(p.created_at) <= day).collect();
            for provider in registered {
                match self.run_provider_day(&provider.id, day, now).await {
                    Ok(None) => {}
                    Ok(Some(outcome)) => {
                        day_complete &= matches!(outcome, DayOutcome::Reconciled { .. });
                        runs.push(DayRun { provider: provider.id.clone(), date: day, outcome });
                    }
                    Err(e) => {
                        tracing::error!(provider = %provider.id, %day, error = %e, "reconciliation failed");
                        failed.push(format!("{} {day}: {e}", provider.id));
                        day_complete = false;
                    }
                }
            }
            gapless &= day_complete;
            if gapless {
                complete_through = Some(day);
            }
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        if let Some(day) = complete_through {
            checkpoint.save(table, ReconciliationRun { last_day: day }).await?;
        }
        if failed.is_empty() { Ok(runs) } else { Err(Unavailable::PartlyFailed { job: "reconciliation".into(), failed }.into()) }
    }

    /// One provider's day in the scheduled run; `None` when it was reconciled before.
    async fn run_provider_day(&self, provider: &ProviderId, day: NaiveDate, now: DateTime<Utc>) -> Result<Option<DayOutcome>, AppError> {
        let table = self.service.table.as_ref();
        if repo::reconciliation::get_report(table, provider, day).await?.is_some() {
            return Ok(None);
        }
        let Some(bytes) = self.source.statement(provider, day).await.map_err(Unavailable::Statement)? else {
            let deadline = kst_day_bounds(day).1 + self.missing_after.signed_duration_since(NaiveTime::MIN);
            if now < deadline {
                return Ok(Some(DayOutcome::Waiting));
            }
            self.alert_statement(provider, day, StatementProblem::Missing, StatementFault::Missing).await?;
            return Ok(Some(DayOutcome::Missing));
        };
        match read_statement(provider, &bytes) {
            Ok(entries) => {
                let report = self.reconcile_entries(provider, day, sha256_hex(&bytes), &entries).await?;
                Ok(Some(DayOutcome::Reconciled { report: Box::new(report.summary) }))
            }
            Err(e) => {
                let sha256 = sha256_hex(&bytes);
                tracing::error!(%provider, %day, error = %e, "the provider's statement is unreadable");
                let errors: Vec<String> = e.errors.iter().take(QUOTED_ERRORS).map(ToString::to_string).collect();
                self.alert_statement(provider, day, StatementProblem::Unreadable { sha256: &sha256 }, StatementFault::Unreadable { errors }).await?;
                Ok(Some(DayOutcome::Unreadable))
            }
        }
    }

    /// Raises `reconciliation.statement_missing` once per provider, day and problem.
    async fn alert_statement(&self, provider: &ProviderId, day: NaiveDate, problem: StatementProblem<'_>, fault: StatementFault) -> Result<(), AppError> {
        let table = self.service.table.as_ref();
        if repo::reconciliation::problem_alerted(table, provider, day, problem).await? {
            return Ok(());
        }
        let now = self.service.clock.now();
        let missing = StatementMissingData { provider: provider.clone(), date: day, fault };
        let event = OutboxEvent::new(None, EventData::ReconciliationStatementMissing(missing), now);
        let mut tx = Transaction::new();
        tx.push(Guard::AlreadyDone, repo::reconciliation::put_problem_marker(provider, day, problem, now)?);
        tx.extend(Guard::NewItem, repo::outbox::put_event(&event)?);
        match tx.commit(table).await {
            Ok(()) | Err(TxError::Refused(Guard::AlreadyDone)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
