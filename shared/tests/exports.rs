//! XLSX exports: what an operator's spreadsheet reads in them (openpyxl), the continuation
//! sheets, memory that stays flat for 100,000 rows, and the download's headers and body.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use vaccount::app::AppError;
use vaccount::app::exports::{Cell, Column, ExportError, ExportFile, XlsxExport, export_all};
use vaccount::domain::Krw;
use vaccount::domain::time::parse_rfc3339;
use vaccount::http::download;
use vaccount::ports::Cursor;
use vaccount::repo::Listing;

const COLUMNS: [Column; 5] = [Column::text("주문번호"), Column::text("입금자명"), Column::krw("입금액"), Column::integer("건수"), Column::time("입금일시")];

fn at(text: &str) -> DateTime<Utc> {
    parse_rfc3339(text).unwrap()
}

fn read_with_python(file: &ExportFile) -> Value {
    vaccount::testing::python_json([vaccount::testing::repo_root().join("scripts/xlsx_export.py").as_path(), file.path()])
}

/// A listing of `0..total` served `size` at a time, its cursor the next index.
fn page(total: u64, size: u64, cursor: Option<Cursor>) -> Result<Listing<u64>, AppError> {
    let from = match cursor {
        None => 0,
        Some(c) => c.get("from").and_then(|n| n.parse().ok()).ok_or_else(|| AppError::field("cursor", "is not a cursor of this listing"))?,
    };
    let to = (from + size).min(total);
    let next = (to < total).then(|| Cursor::from([("from".to_owned(), to.to_string())]));
    Ok(Listing { items: (from..to).collect(), next })
}

fn numbered(n: &u64) -> Vec<Cell> {
    vec![Cell::text(format!("A-{n}")), Cell::text("홍*동"), Cell::Krw(Krw::new(1_000 * *n as i64)), Cell::Integer(*n as i64), Cell::Empty]
}

#[test]
fn an_export_opens_with_its_header_rows_won_amounts_kst_times_and_inert_text() {
    let mut export = XlsxExport::create("입금내역", &COLUMNS).unwrap();
    export.push(&[Cell::text("A-1"), Cell::text("홍*동"), Cell::Krw(Krw::new(35_000)), Cell::Integer(1), Cell::Time(at("2026-11-24T01:00:00Z"))]).unwrap();
    export
        .push(&[
            Cell::text("=HYPERLINK(\"http://x\")"),
            Cell::text("@SUM(A1)"),
            Cell::Krw(Krw::new(-1_234_567)),
            Cell::Integer(12_345),
            Cell::Time(at("2026-11-24T23:59:59.999+09:00")),
        ])
        .unwrap();
    export.push(&[Cell::text("A-3"), Cell::Empty, Cell::Krw(Krw::ZERO), Cell::Empty, Cell::Empty]).unwrap();
    let file = export.finish().unwrap();
    assert_eq!(file.rows(), 3);

    let read = read_with_python(&file);
    let sheets = read["sheets"].as_array().unwrap();
    assert_eq!(sheets.len(), 1);
    let sheet = &sheets[0];
    assert_eq!(sheet["title"], "입금내역");
    assert_eq!(sheet["frozen"], "A2");
    assert_eq!(sheet["header_bold"], true);
    assert_eq!(
        sheet["rows"],
        json!([
            ["주문번호", "입금자명", "입금액", "건수", "입금일시"],
            ["A-1", "홍*동", 35000, 1, "2026-11-24 10:00:00"],
            ["'=HYPERLINK(\"http://x\")", "'@SUM(A1)", -1234567, 12345, "2026-11-24 23:59:59"],
            ["A-3", null, 0, null, null],
        ])
    );
    assert_eq!(sheet["formats"][1], json!(["General", "General", "#,##0\"원\"", "#,##0", "yyyy-mm-dd hh:mm:ss"]));
    // Wide enough for the widest cell: `=HYPERLINK("http://x")` made inert, `-1,234,567원`, a time.
    let widths: Vec<f64> = sheet["widths"].as_array().unwrap().iter().map(|w| w.as_f64().unwrap()).collect();
    assert!(widths[0] >= 23.0 && widths[2] >= 12.0 && widths[4] >= 19.0, "{widths:?}");
}

#[tokio::test]
async fn rows_spill_onto_numbered_sheets_and_every_row_is_written_once_in_order() {
    let export = XlsxExport::with_sheet_size("목록", &COLUMNS, 10).unwrap();
    // Spawned as a route's handler would be: the export is a `Send` future.
    let file = tokio::spawn(export_all(export, None, |cursor| async move { page(25, 7, cursor) }, numbered)).await.unwrap().unwrap();
    assert_eq!(file.rows(), 25);

    let read = read_with_python(&file);
    let sheets = read["sheets"].as_array().unwrap();
    let titles: Vec<&str> = sheets.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["목록", "목록 (2)", "목록 (3)"]);
    let mut data = Vec::new();
    for sheet in sheets {
        let rows = sheet["rows"].as_array().unwrap();
        assert_eq!(rows[0], json!(["주문번호", "입금자명", "입금액", "건수", "입금일시"]), "{}", sheet["title"]);
        assert_eq!(sheet["frozen"], "A2");
        data.extend(rows[1..].iter().map(|r| r[0].as_str().unwrap().to_owned()));
    }
    let expected: Vec<String> = (0..25).map(|n| format!("A-{n}")).collect();
    assert_eq!(data, expected);
    assert_eq!(sheets.iter().map(|s| s["rows"].as_array().unwrap().len() - 1).collect::<Vec<_>>(), [10, 10, 5]);
}

#[tokio::test]
async fn the_export_starts_at_the_given_cursor_and_an_empty_listing_gives_the_header_alone() {
    let from = Some(Cursor::from([("from".to_owned(), "20".to_owned())]));
    let file = export_all(XlsxExport::create("목록", &COLUMNS).unwrap(), from, |cursor| async move { page(25, 7, cursor) }, numbered).await.unwrap();
    let read = read_with_python(&file);
    let orders: Vec<&str> = read["sheets"][0]["rows"].as_array().unwrap()[1..].iter().map(|r| r[0].as_str().unwrap()).collect();
    assert_eq!(orders, ["A-20", "A-21", "A-22", "A-23", "A-24"]);

    let empty = export_all(XlsxExport::create("목록", &COLUMNS).unwrap(), None, |cursor| async move { page(0, 7, cursor) }, numbered).await.unwrap();
    assert_eq!(empty.rows(), 0);
    assert_eq!(read_with_python(&empty)["sheets"][0]["rows"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_page_that_fails_fails_the_export_with_its_own_error() {
    let fetch = |cursor: Option<Cursor>| async move {
        match cursor {
            None => page(25, 7, None),
            Some(_) => Err(AppError::NotFound),
        }
    };
    assert_eq!(export_all(XlsxExport::create("목록", &COLUMNS).unwrap(), None, fetch, numbered).await.unwrap_err(), AppError::NotFound);
}

#[tokio::test]
async fn a_listing_that_answers_the_cursor_it_was_given_is_refused_instead_of_looping() {
    let same = Cursor::from([("from".to_owned(), "7".to_owned())]);
    let fetch = |_cursor: Option<Cursor>| {
        let same = same.clone();
        async move { Ok(Listing { items: vec![1u64], next: Some(same) }) }
    };
    let e = export_all(XlsxExport::create("목록", &COLUMNS).unwrap(), None, fetch, numbered).await.unwrap_err();
    assert_eq!(e, AppError::from(ExportError::CursorStuck));
}

#[tokio::test]
async fn a_row_of_the_wrong_shape_fails_the_export() {
    let e = export_all(XlsxExport::create("목록", &COLUMNS).unwrap(), None, |cursor| async move { page(3, 2, cursor) }, |_: &u64| vec![Cell::text("A-1")])
        .await
        .unwrap_err();
    assert_eq!(e, AppError::from(ExportError::RowWidth { row: 1, cells: 1, columns: 5 }));
}

#[tokio::test]
async fn the_download_streams_the_file_with_its_headers_and_removes_it_once_sent() {
    let mut export = XlsxExport::create("입금내역", &COLUMNS).unwrap();
    for n in 0..2_000 {
        export.push(&numbered(&n)).unwrap();
    }
    let file = export.finish().unwrap();
    let (path, on_disk) = (file.path().to_owned(), std::fs::read(file.path()).unwrap());
    assert_eq!(on_disk.len() as u64, file.bytes());

    let response = download::xlsx(file, "입금내역 2026-11-24.xlsx").unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(header("content-length"), on_disk.len().to_string());
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"____ 2026-11-24.xlsx\"; filename*=UTF-8''%EC%9E%85%EA%B8%88%EB%82%B4%EC%97%AD%202026-11-24.xlsx"
    );
    assert_eq!(header("cache-control"), "no-store");
    assert!(path.exists(), "the file stays until the body is done");

    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_eq!(&body[..], &on_disk[..]);
    assert!(!path.exists(), "the file is removed once the body is dropped");
}

#[tokio::test]
async fn an_abandoned_download_removes_its_file() {
    let file = XlsxExport::create("입금내역", &COLUMNS).unwrap().finish().unwrap();
    let path = file.path().to_owned();
    drop(download::xlsx(file, "a.xlsx").unwrap());
    assert!(!path.exists());
}

/// Set in the child process of the memory test: how many rows it exports.
const CHILD_ROWS: &str = "VACCOUNT_TEST_EXPORT_ROWS";

/// One export of `CHILD_ROWS` rows through `export_all`, generated page by page, then the
/// process's peak resident memory. Run by `exporting_100_000_rows_keeps_memory_flat` in a
/// process of its own; a no-op in the ordinary run.
#[tokio::test]
async fn child_process_of_the_memory_test() {
    let Some(total) = std::env::var(CHILD_ROWS).ok().map(|n| n.parse::<u64>().unwrap()) else { return };
    const WIDE: [Column; 8] = [
        Column::text("입금ID"),
        Column::text("주문번호"),
        Column::text("입금자명"),
        Column::text("은행"),
        Column::krw("입금액"),
        Column::krw("수수료"),
        Column::integer("건수"),
        Column::time("입금일시"),
    ];
    let start = at("2026-11-24T00:00:00+09:00");
    let row = |n: &u64| {
        vec![
            Cell::text(format!("dep_01JD{n:022}")),
            Cell::text(format!("ORDER-{n:010}")),
            Cell::text(format!("홍*동{}", n % 97)),
            Cell::text("국민은행"),
            Cell::Krw(Krw::new(10_000 + *n as i64)),
            Cell::Krw(Krw::new(300)),
            Cell::Integer(1),
            Cell::Time(start + Duration::seconds(*n as i64)),
        ]
    };
    let file = export_all(XlsxExport::create("입금내역", &WIDE).unwrap(), None, |cursor| async move { page(total, 500, cursor) }, row).await.unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kb = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches("kB").trim().to_owned();
    println!("EXPORT rows={} bytes={} peak_kb={peak_kb}", file.rows(), file.bytes());
}

/// Peak resident memory (kB) and file size of exporting `rows` rows, in a fresh process.
fn export_in_child(rows: u64) -> (u64, u64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["child_process_of_the_memory_test", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ROWS, rows.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find_map(|l| l.split_once("EXPORT ").map(|(_, figures)| figures)).unwrap_or_else(|| panic!("no figures in {stdout}"));
    let figures: BTreeMap<&str, u64> = line.split(' ').map(|kv| kv.split_once('=').unwrap()).map(|(k, v)| (k, v.parse().unwrap())).collect();
    assert_eq!(figures["rows"], rows);
    (figures["peak_kb"], figures["bytes"])
}

#[test]
fn exporting_100_000_rows_keeps_memory_flat() {
    let (small_kb, small_bytes) = export_in_child(10_000);
    let (large_kb, large_bytes) = export_in_child(100_000);
    println!("10,000 rows: {small_bytes} bytes, peak {small_kb} kB; 100,000 rows: {large_bytes} bytes, peak {large_kb} kB");
    assert!(large_bytes > 5 * small_bytes, "the large export holds its rows");
    // Ten times the rows, a few pages of memory more at most. A workbook held in memory grows
    // by over 100 MB between the two.
    assert!(large_kb < small_kb + 16 * 1024, "peak memory grew from {small_kb} kB to {large_kb} kB");
}
