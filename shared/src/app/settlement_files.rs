//! The files of a day's settlement: CSV and XLSX written row by row to a directory, and the
//! manifest that describes them. Blocking code: the exporter runs it on a blocking thread and
//! feeds it rows through a bounded channel, so a day of any size needs memory for a few pages.
//!
//! Both files carry the same rows with the same columns. Nothing in them depends on when or
//! where they were written (no timestamps, fixed XLSX document dates, fixed zip entry times),
//! so the same entries give the same bytes.

use super::exports::{ROWS_PER_SHEET, StreamedBook, inert};
use crate::domain::notice::mask_name;
use crate::domain::settlement::{Row, SettlementFile, Totals};
use crate::domain::time::kst;
use crate::domain::{Fee, Krw};
use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write as _};
use std::path::{Path, PathBuf};

const SHEET_NAME: &str = "정산내역";

/// The columns, with their XLSX widths. Amount columns are the last five. A row settles on the
/// day it was recorded (기록일시); 입금일시 is when the money moved at the bank.
const COLUMNS: [(&str, f64); 18] = [
    ("정산일", 11.0),
    ("입금일시", 20.0),
    ("기록일시", 20.0),
    ("구분", 14.0),
    ("입금ID", 32.0),
    ("제공사", 10.0),
    ("거래번호", 24.0),
    ("가상계좌ID", 31.0),
    ("주문번호", 20.0),
    ("은행코드", 9.0),
    ("계좌번호", 17.0),
    ("입금자명", 10.0),
    ("수수료 기준", 14.0),
    ("건수", 6.0),
    ("금액", 15.0),
    ("수수료", 12.0),
    ("부가세", 11.0),
    ("정산금액", 15.0),
];

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("writing the settlement files failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("writing the XLSX failed: {0}")]
    Xlsx(#[from] XlsxError),
    #[error(transparent)]
    Money(#[from] crate::domain::MoneyOverflow),
}

/// A row's cells as text (CSV) — the XLSX writes the same values, numbers as numbers.
struct Cells {
    text: [String; 13],
    numbers: [i64; 5],
}

fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&kst()).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// How a file names fee terms: `건당 300원`, `1.50%`.
pub fn terms_label(terms: Fee) -> String {
    match terms {
        Fee::PerDeposit(won) => format!("건당 {}원", won.won()),
        Fee::RateBps(bps) => format!("{}.{:02}%", bps / 100, bps % 100),
    }
}

fn cells(row: &Row) -> Cells {
    let e = &row.entry;
    Cells {
        text: [
            e.day.to_string(),
            // Entries from before `deposited_at` was kept recorded their movement time only.
            local_time(e.deposited_at.unwrap_or(e.recorded_at)),
            local_time(e.recorded_at),
            e.kind.label().to_owned(),
            e.deposit_id.to_string(),
            e.provider.to_string(),
            e.transaction_id.to_string(),
            e.virtual_account_id.to_string(),
            e.order_id.to_string(),
            e.bank_code.to_string(),
            e.account_number.to_string(),
            e.depositor_name.as_deref().map(mask_name).unwrap_or_default(),
            terms_label(row.terms),
        ],
        numbers: [i64::from(e.deposits), e.amount.won(), row.fee.won(), row.vat.won(), row.net.won()],
    }
}

/// One CSV field, quoted (RFC 4180) when it holds a separator, a quote or a line break.
pub fn csv_field(out: &mut impl std::io::Write, text: &str) -> std::io::Result<()> {
    if text.contains([',', '"', '\r', '\n']) { write!(out, "\"{}\"", text.replace('"', "\"\"")) } else { out.write_all(text.as_bytes()) }
}

/// Writes one day's CSV and XLSX.
pub struct DayWriter {
    csv_path: PathBuf,
    xlsx_path: PathBuf,
    csv: BufWriter<File>,
    book: StreamedBook,
    amount: Format,
    totals: Totals,
}

impl DayWriter {
    pub fn create(dir: &Path, csv_name: &str, xlsx_name: &str, day: NaiveDate) -> Result<DayWriter, FileError> {
        DayWriter::with_sheet_size(dir, csv_name, xlsx_name, day, ROWS_PER_SHEET)
    }

    /// `rows_per_sheet` below Excel's limit lets a test see the continuation sheets.
    pub fn with_sheet_size(dir: &Path, csv_name: &str, xlsx_name: &str, day: NaiveDate, rows_per_sheet: u32) -> Result<DayWriter, FileError> {
        let csv_path = dir.join(csv_name);
        let mut csv = BufWriter::with_capacity(1 << 16, File::create(&csv_path)?);
        // The BOM makes Excel read UTF-8 (Korean headers and names) instead of the ANSI code page.
        csv.write_all("\u{feff}".as_bytes())?;
        for (i, (name, _)) in COLUMNS.iter().enumerate() {
            if i > 0 {
                csv.write_all(b",")?;
            }
            csv_field(&mut csv, name)?;
        }
        csv.write_all(b"\r\n")?;

        let mut workbook = Workbook::new();
        workbook.set_tempdir(dir)?;
        // The document's creation date is the day itself, not the moment of writing.
        let created = ExcelDateTime::from_ymd(day.year() as u16, day.month() as u8, day.day() as u8)?;
        workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
        let book = StreamedBook::new(workbook, SHEET_NAME, COLUMNS.to_vec(), rows_per_sheet)?;
        let amount = Format::new().set_num_format("#,##0");
        Ok(DayWriter { csv_path, xlsx_path: dir.join(xlsx_name), csv, book, amount, totals: Totals::default() })
    }

    pub fn write(&mut self, row: &Row) -> Result<(), FileError> {
        let cells = cells(row);
        for (i, text) in cells.text.iter().enumerate() {
            if i > 0 {
                self.csv.write_all(b",")?;
            }
            csv_field(&mut self.csv, &inert(text))?;
        }
        for n in cells.numbers {
            write!(self.csv, ",{n}")?;
        }
        self.csv.write_all(b"\r\n")?;

        let (sheet, line) = self.book.next_row()?;
        for (col, text) in cells.text.iter().enumerate() {
            sheet.write_string(line, col as u16, inert(text).as_ref())?;
        }
        for (i, n) in cells.numbers.iter().enumerate() {
            // Whole won below 2^53 are exact in a double.
            sheet.write_number_with_format(line, (cells.text.len() + i) as u16, *n as f64, &self.amount)?;
        }
        self.totals.add(row)?;
        Ok(())
    }

    /// Closes both files; their paths and the day's totals.
    pub fn finish(mut self) -> Result<(PathBuf, PathBuf, Totals), FileError> {
        self.csv.flush()?;
        self.csv.get_ref().sync_all()?;
        self.book.into_workbook().save(&self.xlsx_path)?;
        Ok((self.csv_path, self.xlsx_path, self.totals))
    }
}

/// SHA-256 (hex) and size of a file, read in blocks.
pub fn describe(path: &Path, name: &str) -> Result<SettlementFile, FileError> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(SettlementFile { name: name.to_owned(), sha256: hex::encode(hasher.finalize()), bytes })
}

/// `manifest.json`: what the day's files hold and how to check them.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest<'a> {
    pub merchant_id: &'a str,
    pub date: NaiveDate,
    pub payout_date: NaiveDate,
    /// The distinct terms of the day's rows, in the order they first appear: each row is
    /// charged at the merchant's terms in force when it was recorded.
    pub fee_terms: &'a [Fee],
    pub rounding: &'static str,
    pub row_count: u64,
    pub deposit_count: i64,
    pub gross: Krw,
    pub fee: Krw,
    pub vat: Krw,
    pub net: Krw,
    pub files: &'a [SettlementFile],
}

pub const ROUNDING: &str = "fee and VAT (10% of the fee) are computed per row and truncated to the won; totals are the sums of the rows";

/// Writes the manifest with a trailing newline, keys in a fixed order.
pub fn write_manifest(path: &Path, manifest: &Manifest<'_>) -> Result<(), FileError> {
    let mut json = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
    json.push(b'\n');
    let mut file = File::create(path)?;
    file.write_all(&json)?;
    file.sync_all()?;
    Ok(())
}
