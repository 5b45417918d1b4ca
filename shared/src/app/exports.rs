//! Spreadsheet downloads: every admin list's rows written to an XLSX file row by row, page by
//! page, so an export of any size needs memory for a page and a row, not for the file.
//!
//! The writing itself ([`StreamedBook`]: constant-memory sheets, a header row on each, a new
//! sheet when one is full) and the defence against formulas in outside text ([`inert`]) are
//! shared with the settlement files (`settlement_files`).

use crate::domain::Krw;
use crate::domain::time::kst;
use crate::ports::Cursor;
use crate::repo::Listing;
use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Color, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};
use std::borrow::Cow;
use std::future::Future;
use std::io::{BufWriter, Seek as _, Write as _};
use std::path::Path;

/// Excel's 1,048,576 rows less the header.
pub const ROWS_PER_SHEET: u32 = 1_048_575;

/// The longest text an Excel cell holds, in characters.
const MAX_CELL_CHARS: usize = 32_767;

/// Excel's limit on a sheet's name, in characters.
const MAX_SHEET_NAME_CHARS: usize = 31;

/// `2026-11-24 10:00:00`: how wide a time is shown.
const TIME_WIDTH: usize = 19;

/// Pages read ahead of the writer: the driver's memory is this many pages of cells.
const PAGES_IN_FLIGHT: usize = 2;

/// Text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a control
/// character first) is prefixed with `'`: an order id or a depositor's name comes from
/// outside and must stay text (CSV injection).
pub fn inert(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

/// A workbook written row by row in constant memory: each row goes to a temporary file as soon
/// as the next one starts. Every sheet opens with the header row (bold, shaded, frozen); after
/// `rows_per_sheet` data rows the rows continue on a new sheet, `name (2)`, `name (3)`, …
pub(crate) struct StreamedBook {
    workbook: Workbook,
    name: String,
    columns: Vec<(&'static str, f64)>,
    header: Format,
    rows_per_sheet: u32,
    /// The index of the sheet being written.
    sheet: usize,
    /// Data rows on the current sheet.
    on_sheet: u32,
}

impl StreamedBook {
    /// Adds the first sheet to `workbook` (its temporary directory and properties already set
    /// by the caller). `columns` are the headers with their widths.
    pub(crate) fn new(workbook: Workbook, name: &str, columns: Vec<(&'static str, f64)>, rows_per_sheet: u32) -> Result<StreamedBook, XlsxError> {
        let header = Format::new().set_bold().set_background_color(Color::RGB(0xDDEBF7)).set_align(FormatAlign::Center);
        let mut book = StreamedBook { workbook, name: name.to_owned(), columns, header, rows_per_sheet: rows_per_sheet.max(1), sheet: 0, on_sheet: 0 };
        book.add_sheet()?;
        Ok(book)
    }

    fn add_sheet(&mut self) -> Result<(), XlsxError> {
        let name = sheet_name(&self.name, self.sheet);
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        sheet.set_freeze_panes(1, 0)?;
        for (col, (title, width)) in self.columns.iter().enumerate() {
            let col = col as u16;
            sheet.set_column_width(col, *width)?;
            sheet.write_string_with_format(0, col, *title, &self.header)?;
        }
        self.on_sheet = 0;
        Ok(())
    }

    /// The sheet and line the next data row goes to, on a new sheet when this one is full.
    pub(crate) fn next_row(&mut self) -> Result<(&mut Worksheet, u32), XlsxError> {
        if self.on_sheet == self.rows_per_sheet {
            self.sheet += 1;
            self.add_sheet()?;
        }
        self.on_sheet += 1;
        Ok((self.workbook.worksheet_from_index(self.sheet)?, self.on_sheet))
    }

    /// Widens column `col` to at least `width` on every sheet, written or to come: a sheet's
    /// column widths are only written out when the workbook is saved.
    pub(crate) fn widen(&mut self, col: usize, width: f64) -> Result<(), XlsxError> {
        if width <= self.columns[col].1 {
            return Ok(());
        }
        self.columns[col].1 = width;
        for sheet in 0..=self.sheet {
            self.workbook.worksheet_from_index(sheet)?.set_column_width(col as u16, width)?;
        }
        Ok(())
    }

    /// The workbook, ready to save.
    pub(crate) fn into_workbook(self) -> Workbook {
        self.workbook
    }
}

/// `name` for the first sheet, `name (2)` for the second, …: the base name is cut short where
/// the suffix would take the name past Excel's limit.
fn sheet_name(base: &str, index: usize) -> String {
    if index == 0 {
        return base.to_owned();
    }
    let suffix = format!(" ({})", index + 1);
    let kept: String = base.chars().take(MAX_SHEET_NAME_CHARS.saturating_sub(suffix.chars().count())).collect();
    format!("{kept}{suffix}")
}

/// What a column holds; a row's cell must be of its column's kind (or empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Won, a number cell shown as `35,000원`.
    Krw,
    /// A whole number shown with thousands separators (`1,234`).
    Integer,
    /// An instant, a date-time cell shown in KST as `2026-11-24 10:00:00`.
    Time,
}

/// One column of an export: its Korean header (`입금액`) and what its cells hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub kind: Kind,
}

impl Column {
    pub const fn text(header: &'static str) -> Column {
        Column { header, kind: Kind::Text }
    }

    pub const fn krw(header: &'static str) -> Column {
        Column { header, kind: Kind::Krw }
    }

    pub const fn integer(header: &'static str) -> Column {
        Column { header, kind: Kind::Integer }
    }

    pub const fn time(header: &'static str) -> Column {
        Column { header, kind: Kind::Time }
    }
}

/// One cell of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Written as text, made [`inert`], cut at Excel's 32,767 characters.
    Text(String),
    Krw(Krw),
    Integer(i64),
    Time(DateTime<Utc>),
    Empty,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }

    fn kind(&self) -> Option<Kind> {
        match self {
            Cell::Text(_) => Some(Kind::Text),
            Cell::Krw(_) => Some(Kind::Krw),
            Cell::Integer(_) => Some(Kind::Integer),
            Cell::Time(_) => Some(Kind::Time),
            Cell::Empty => None,
        }
    }
}

/// Why an export could not be written. The writer's and the file system's errors are kept as
/// their text (they are neither `Clone` nor `Eq`), like `Unavailable`'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("writing the XLSX failed: {0}")]
    Xlsx(String),
    #[error("the export's temporary file failed: {0}")]
    Io(String),
    /// A row function gave a row of the wrong width.
    #[error("export row {row} has {cells} cells for {columns} columns")]
    RowWidth { row: u64, cells: usize, columns: usize },
    /// A row function put a cell in the wrong column.
    #[error("export row {row}, column {column}: a {found:?} cell in a {expected:?} column")]
    CellKind { row: u64, column: &'static str, expected: Kind, found: Kind },
    /// The listing answered the cursor it was asked with: following it would never end.
    #[error("the listing returned the cursor it was given")]
    CursorStuck,
}

impl From<XlsxError> for ExportError {
    fn from(e: XlsxError) -> ExportError {
        ExportError::Xlsx(e.to_string())
    }
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> ExportError {
        ExportError::Io(e.to_string())
    }
}

/// An XLSX export being written. Blocking code: [`export_all`] runs it on a blocking thread.
pub struct XlsxExport {
    book: StreamedBook,
    columns: Vec<Column>,
    krw: Format,
    integer: Format,
    time: Format,
    rows: u64,
}

impl XlsxExport {
    /// An export of `columns` on sheets named `sheet_name` (Korean is fine; at most 31
    /// characters, none of `[]:*?/\`).
    pub fn create(sheet_name: &str, columns: &[Column]) -> Result<XlsxExport, ExportError> {
        XlsxExport::with_sheet_size(sheet_name, columns, ROWS_PER_SHEET)
    }

    /// `rows_per_sheet` below Excel's limit lets a test see the continuation sheets.
    pub fn with_sheet_size(sheet_name: &str, columns: &[Column], rows_per_sheet: u32) -> Result<XlsxExport, ExportError> {
        // Each column starts as wide as its header; `push` widens it to its widest cell.
        let widths = columns.iter().map(|c| (c.header, width_of(display_width(c.header)))).collect();
        let book = StreamedBook::new(Workbook::new(), sheet_name, widths, rows_per_sheet)?;
        Ok(XlsxExport {
            book,
            columns: columns.to_vec(),
            krw: Format::new().set_num_format("#,##0\"원\""),
            integer: Format::new().set_num_format("#,##0"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            rows: 0,
        })
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes one row: a cell per column, each of its column's kind or empty.
    pub fn push(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        let row = self.rows + 1;
        if cells.len() != self.columns.len() {
            return Err(ExportError::RowWidth { row, cells: cells.len(), columns: self.columns.len() });
        }
        for (column, cell) in self.columns.iter().zip(cells) {
            match cell.kind() {
                Some(found) if found != column.kind => return Err(ExportError::CellKind { row, column: column.header, expected: column.kind, found }),
                _ => {}
            }
        }
        let (sheet, line) = self.book.next_row()?;
        let mut widths = Vec::with_capacity(cells.len());
        for (col, cell) in cells.iter().enumerate() {
            let c = col as u16;
            let shown = match cell {
                Cell::Text(text) => {
                    let text = inert(text);
                    let text = match text.char_indices().nth(MAX_CELL_CHARS) {
                        Some((end, _)) => &text[..end],
                        None => &text[..],
                    };
                    sheet.write_string(line, c, text)?;
                    display_width(text)
                }
                // Whole won and counts below 2^53 are exact in a double.
                Cell::Krw(won) => {
                    sheet.write_number_with_format(line, c, won.won() as f64, &self.krw)?;
                    grouped_width(won.won()) + 2
                }
                Cell::Integer(n) => {
                    sheet.write_number_with_format(line, c, *n as f64, &self.integer)?;
                    grouped_width(*n)
                }
                Cell::Time(at) => {
                    // The KST wall clock, to the second, as Excel's zone-less date-time.
                    let local = at.with_timezone(&kst()).naive_local().and_utc().timestamp();
                    sheet.write_datetime_with_format(line, c, ExcelDateTime::from_timestamp(local)?, &self.time)?;
                    TIME_WIDTH
                }
                Cell::Empty => 0,
            };
            widths.push(shown);
        }
        for (col, shown) in widths.into_iter().enumerate() {
            self.book.widen(col, width_of(shown))?;
        }
        self.rows = row;
        Ok(())
    }

    /// Saves the workbook to a temporary file, removed when the [`ExportFile`] is dropped.
    pub fn finish(self) -> Result<ExportFile, ExportError> {
        let mut workbook = self.book.into_workbook();
        let mut file = tempfile::Builder::new().prefix("vaccount-export-").suffix(".xlsx").tempfile()?;
        let mut out = BufWriter::with_capacity(1 << 16, file.as_file_mut());
        workbook.save_to_writer(&mut out)?;
        out.flush()?;
        drop(out);
        let bytes = file.as_file().metadata()?.len();
        file.as_file_mut().rewind()?;
        Ok(ExportFile { file, rows: self.rows, bytes })
    }
}

/// Excel's column width for text `shown` characters wide: a margin either side, within reason
/// (a long message must not make a column wider than the screen).
fn width_of(shown: usize) -> f64 {
    (shown + 2).clamp(8, 60) as f64
}

/// How many columns `text` takes: Hangul and other East Asian wide characters take two.
fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// The width of `n` written with thousands separators (`-1,234,567`).
fn grouped_width(n: i64) -> usize {
    let digits = n.unsigned_abs().checked_ilog10().map_or(1, |d| d as usize + 1);
    digits + (digits - 1) / 3 + usize::from(n < 0)
}

/// A finished export: a temporary XLSX file, read from its start, removed when dropped.
#[derive(Debug)]
pub struct ExportFile {
    file: tempfile::NamedTempFile,
    rows: u64,
    bytes: u64,
}

impl ExportFile {
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Data rows, headers not counted.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The file's size.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The open file and the path that removes it when dropped.
    pub(crate) fn into_parts(self) -> (std::fs::File, tempfile::TempPath) {
        self.file.into_parts()
    }
}

/// Every row of a listing, page after page from `first` until a page has no next cursor,
/// written to `export` as `row` makes each item's cells. The rows are written on a blocking
/// thread while the next page is read; memory holds a few pages, however long the listing.
///
/// `fetch` reads one page: `|cursor| service.deposits().list(&filter, PAGE, cursor)`.
pub async fn export_all<T, F, Fut>(
    mut export: XlsxExport,
    first: Option<Cursor>,
    mut fetch: F,
    mut row: impl FnMut(&T) -> Vec<Cell>,
) -> Result<ExportFile, super::AppError>
where
    F: FnMut(Option<Cursor>) -> Fut,
    Fut: Future<Output = Result<Listing<T>, super::AppError>>,
{
    let (pages, mut incoming) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(PAGES_IN_FLIGHT);
    let writer = tokio::task::spawn_blocking(move || -> Result<ExportFile, ExportError> {
        while let Some(page) = incoming.blocking_recv() {
            for cells in &page {
                export.push(cells)?;
            }
        }
        export.finish()
    });
    let read = async {
        let mut cursor = first;
        loop {
            let page = fetch(cursor.clone()).await?;
            if page.next.is_some() && page.next == cursor {
                return Err(ExportError::CursorStuck.into());
            }
            if pages.send(page.items.iter().map(&mut row).collect()).await.is_err() {
                // The writer stopped; its own error says why.
                break;
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok::<(), super::AppError>(())
    }
    .await;
    drop(pages);
    let written = writer.await.map_err(|e| super::Unavailable::Aborted { task: "xlsx export", detail: e.to_string() })?;
    // A failed read leaves a partial file, removed here as `written` is dropped.
    read?;
    Ok(written?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_sheets_are_numbered_within_excel_s_name_limit() {
        assert_eq!(sheet_name("입금내역", 0), "입금내역");
        assert_eq!(sheet_name("입금내역", 1), "입금내역 (2)");
        let long = "가".repeat(31);
        assert_eq!(sheet_name(&long, 11), format!("{} (12)", "가".repeat(26)));
    }

    #[test]
    fn widths_count_hangul_twice_and_numbers_with_their_separators() {
        assert_eq!(display_width("입금액"), 6);
        assert_eq!(display_width("A-1"), 3);
        assert_eq!(grouped_width(0), 1);
        assert_eq!(grouped_width(999), 3);
        assert_eq!(grouped_width(1_000), 5);
        assert_eq!(grouped_width(-35_000), 7);
        assert_eq!(grouped_width(i64::MIN), "-9,223,372,036,854,775,808".len());
    }

    #[test]
    fn formula_like_text_is_made_inert() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("-1"), "'-1");
        assert_eq!(inert("홍길동"), "홍길동");
    }

    #[test]
    fn a_row_that_does_not_fit_the_columns_is_refused() {
        let mut export = XlsxExport::create("목록", &[Column::text("주문번호"), Column::krw("입금액")]).unwrap();
        assert_eq!(export.push(&[Cell::text("A-1")]), Err(ExportError::RowWidth { row: 1, cells: 1, columns: 2 }));
        assert_eq!(
            export.push(&[Cell::text("A-1"), Cell::Integer(5)]),
            Err(ExportError::CellKind { row: 1, column: "입금액", expected: Kind::Krw, found: Kind::Integer })
        );
        export.push(&[Cell::text("A-1"), Cell::Empty]).unwrap();
        assert_eq!(export.rows(), 1);
    }
}
