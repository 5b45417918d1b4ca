//! The generic daily statement (docs/providers.md, "Daily statements"): a provider's list of
//! one KST day's deposits and reversals as CSV, read into [`StatementEntry`] rows for
//! reconciliation; and the [`StatementSource`] that finds a provider's file in the file store.
//!
//! The reader follows RFC 4180 (quoted fields, doubled quotes, line breaks inside quotes) and
//! accepts CRLF or LF line ends and a leading UTF-8 BOM. A statement is taken whole or not at
//! all: every bad row is reported with its line and field, and one bad row refuses the file,
//! so a statement is never half imported.

use crate::domain::deposit::{DepositNotice, ReversalNotice};
use crate::domain::reconciliation::StatementEntry;
use crate::domain::time::parse_rfc3339;
use crate::domain::{AccountNumber, BankCode, Krw, ProviderId, TransactionId};
use crate::ports::{BlobError, BlobKey, BlobStore, StatementSource, StatementSourceError};
use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The header row's column names. Columns may come in any order; each must be present once.
pub const COLUMNS: [&str; 8] = ["type", "transaction_id", "original_transaction_id", "bank_code", "account_number", "amount", "depositor_name", "occurred_at"];

/// At most this many row errors are listed; the count says how many there were.
const LISTED_ERRORS: usize = 50;

/// What is wrong with one line (and field) of a statement. Messages never quote the value: a
/// depositor's name is personal data and error texts end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {field}: {message}")]
pub struct RowError {
    /// 1-based, counting the header; a record whose quoted field spans lines is named by the
    /// line it starts on.
    pub line: usize,
    /// A column name, or `record` for the row as a whole.
    pub field: String,
    pub message: String,
}

impl RowError {
    fn new(line: usize, field: &str, message: impl Into<String>) -> RowError {
        RowError { line, field: field.to_owned(), message: message.into() }
    }
}

/// Why a statement was refused: its bad rows (the first [`LISTED_ERRORS`]) and their number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the statement is refused: {total} error(s), first: {}", .errors.first().map(ToString::to_string).unwrap_or_default())]
pub struct StatementError {
    pub errors: Vec<RowError>,
    pub total: usize,
}

impl StatementError {
    fn of(mut errors: Vec<RowError>) -> StatementError {
        let total = errors.len();
        errors.truncate(LISTED_ERRORS);
        StatementError { errors, total }
    }

    fn one(error: RowError) -> StatementError {
        StatementError::of(vec![error])
    }
}

/// One CSV record and the line it starts on.
#[derive(Debug, PartialEq, Eq)]
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// Splits RFC 4180 text into records. A syntax error stops the reading: after an unbalanced
/// quote nothing that follows can be trusted to be where it seems.
fn records(text: &str) -> Result<Vec<Record>, RowError> {
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut start = 1;
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    // The current field has not had a character yet (so a quote opens it).
    let mut fresh = true;
    // Some field of this record was quoted: it is not a blank line even if it is empty.
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if fresh => {
                quoted = true;
                fresh = false;
                let opened = line;
                loop {
                    match chars.next() {
                        None => return Err(RowError::new(opened, "record", "a quoted field is never closed")),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                if !matches!(chars.peek(), None | Some(',' | '\n' | '\r')) {
                    return Err(RowError::new(line, "record", "text after a closing quote; double a quote inside a quoted field"));
                }
            }
            '"' => return Err(RowError::new(line, "record", "a quote inside an unquoted field; quote the whole field and double the quote")),
            ',' => {
                fields.push(std::mem::take(&mut field));
                fresh = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => return Err(RowError::new(line, "record", "a carriage return that does not end a line")),
            '\n' => {
                fields.push(std::mem::take(&mut field));
                let blank = fields.len() == 1 && fields[0].is_empty() && !quoted;
                if !blank {
                    records.push(Record { line: start, fields: std::mem::take(&mut fields) });
                }
                fields.clear();
                line += 1;
                start = line;
                fresh = true;
                quoted = false;
            }
            c => {
                field.push(c);
                fresh = false;
            }
        }
    }
    if !fields.is_empty() || !field.is_empty() || quoted {
        fields.push(field);
        records.push(Record { line: start, fields });
    }
    Ok(records)
}

/// Where each column is in a record, from the header row.
fn column_positions(header: &Record) -> Result<[usize; 8], StatementError> {
    let mut errors = Vec::new();
    let mut positions: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in header.fields.iter().enumerate() {
        match COLUMNS.into_iter().find(|c| *c == name.as_str()) {
            Some(column) if positions.insert(column, i).is_some() => errors.push(RowError::new(header.line, column, "appears twice in the header")),
            Some(_) => {}
            None => errors.push(RowError::new(header.line, "header", format!("unknown column #{}; the columns are {}", i + 1, COLUMNS.join(",")))),
        }
    }
    for column in COLUMNS {
        if !positions.contains_key(column) {
            errors.push(RowError::new(header.line, column, "is missing from the header"));
        }
    }
    if !errors.is_empty() {
        return Err(StatementError::of(errors));
    }
    Ok(COLUMNS.map(|c| positions[c]))
}

/// Reads one data record, collecting every problem in it.
fn entry(provider: &ProviderId, record: &Record, at: &[usize; 8], errors: &mut Vec<RowError>) -> Option<StatementEntry> {
    let before = errors.len();
    let value = |column: usize| record.fields[at[column]].as_str();
    let mut fail = |field: &str, message: String| errors.push(RowError::new(record.line, field, message));
    let [kind, transaction, original, bank, number, amount, name, occurred] = [0, 1, 2, 3, 4, 5, 6, 7].map(value);

    let transaction_id = match transaction {
        "" => {
            fail("transaction_id", "is required".into());
            None
        }
        text => text.parse::<TransactionId>().map_err(|e| fail("transaction_id", e.to_string())).ok(),
    };
    let occurred_at = match occurred {
        "" => {
            fail("occurred_at", "is required".into());
            None
        }
        text => parse_rfc3339(text).map_err(|_| fail("occurred_at", "must be RFC 3339 with an offset, e.g. 2026-11-24T10:00:00+09:00".into())).ok(),
    };
    let entry = match kind {
        "deposit" => {
            if !original.is_empty() {
                fail("original_transaction_id", "must be empty for a deposit".into());
            }
            let bank_code = match bank {
                "" => {
                    fail("bank_code", "is required for a deposit".into());
                    None
                }
                text => text.parse::<BankCode>().map_err(|e| fail("bank_code", e.to_string())).ok(),
            };
            let account_number = match number {
                "" => {
                    fail("account_number", "is required for a deposit".into());
                    None
                }
                text => text.parse::<AccountNumber>().map_err(|e| fail("account_number", e.to_string())).ok(),
            };
            let won = match amount {
                "" => {
                    fail("amount", "is required for a deposit".into());
                    None
                }
                // Whole won in plain digits: no sign, no separators, no decimals.
                text if text.bytes().all(|b| b.is_ascii_digit()) => text.parse::<i64>().ok().and_then(|n| Krw::payment(n).ok()).or_else(|| {
                    fail("amount", "must be a whole number of won from 1 to 10000000000".into());
                    None
                }),
                _ => {
                    fail("amount", "must be a whole number of won from 1 to 10000000000, digits only".into());
                    None
                }
            };
            // Never a reason to refuse the row (and with it the whole day): kept as printed,
            // cleaned by the deposit.
            let depositor_name = (!name.is_empty()).then(|| crate::domain::deposit::bounded_raw_name(name));
            match (transaction_id, bank_code, account_number, won, occurred_at) {
                (Some(transaction_id), Some(bank_code), Some(account_number), Some(amount), Some(deposited_at)) => {
                    Some(StatementEntry::Deposit(DepositNotice {
                        provider: provider.clone(),
                        transaction_id,
                        bank_code,
                        account_number,
                        amount,
                        depositor_name,
                        deposited_at,
                    }))
                }
                _ => None,
            }
        }
        "reversal" => {
            for (field, text) in [("bank_code", bank), ("account_number", number), ("amount", amount), ("depositor_name", name)] {
                if !text.is_empty() {
                    fail(field, "must be empty for a reversal (its deposit carries it)".into());
                }
            }
            let original_transaction_id = match original {
                "" => {
                    fail("original_transaction_id", "is required for a reversal".into());
                    None
                }
                text => text.parse::<TransactionId>().map_err(|e| fail("original_transaction_id", e.to_string())).ok(),
            };
            if original_transaction_id.is_some() && original_transaction_id == transaction_id {
                fail("original_transaction_id", "must differ from transaction_id".into());
            }
            match (transaction_id, original_transaction_id, occurred_at) {
                (Some(transaction_id), Some(original_transaction_id), Some(occurred_at)) => {
                    Some(StatementEntry::Reversal(ReversalNotice { provider: provider.clone(), transaction_id, original_transaction_id, occurred_at }))
                }
                _ => None,
            }
        }
        _ => {
            fail("type", "must be deposit or reversal".into());
            None
        }
    };
    // In column order, whichever check found them first.
    errors[before..].sort_by_key(|e| COLUMNS.iter().position(|c| *c == e.field).unwrap_or(0));
    if errors.len() > before { None } else { entry }
}

/// Reads a statement of `provider`. Every row is checked; any error refuses the whole file.
/// A header with no rows is a valid statement of a day without transactions.
pub fn parse(provider: &ProviderId, bytes: &[u8]) -> Result<Vec<StatementEntry>, StatementError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count();
            return Err(StatementError::one(RowError::new(line, "record", "is not UTF-8 text")));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = records(text).map_err(StatementError::one)?;
    let Some((header, rows)) = records.split_first() else {
        return Err(StatementError::one(RowError::new(1, "header", format!("the header row is required: {}", COLUMNS.join(",")))));
    };
    let positions = column_positions(header)?;
    let mut errors = Vec::new();
    let mut entries = Vec::with_capacity(rows.len());
    let mut first_line: BTreeMap<TransactionId, usize> = BTreeMap::new();
    for record in rows {
        if record.fields.len() != header.fields.len() {
            errors.push(RowError::new(record.line, "record", format!("has {} fields, the header {}", record.fields.len(), header.fields.len())));
            continue;
        }
        let Some(entry) = entry(provider, record, &positions, &mut errors) else { continue };
        // Deposits and reversals share one key space (a notice's transaction id is used once).
        match first_line.get(entry.transaction_id()) {
            Some(first) => errors.push(RowError::new(record.line, "transaction_id", format!("repeats the transaction of line {first}"))),
            None => {
                first_line.insert(entry.transaction_id().clone(), record.line);
                entries.push(entry);
            }
        }
    }
    if errors.is_empty() { Ok(entries) } else { Err(StatementError::of(errors)) }
}

/// `statements/{provider}/{YYYY}/{MM}/{DD}/statement.csv`: where a provider's file of a day is
/// dropped (the bucket in AWS, below the data dir in `serve`).
pub fn statement_key(provider: &ProviderId, day: NaiveDate) -> Result<BlobKey, BlobError> {
    BlobKey::new(format!("statements/{provider}/{:04}/{:02}/{:02}/statement.csv", day.year(), day.month(), day.day()))
}

/// Statements that providers drop into the file store.
pub struct BlobStatements {
    blobs: Arc<dyn BlobStore>,
}

impl BlobStatements {
    pub fn new(blobs: Arc<dyn BlobStore>) -> BlobStatements {
        BlobStatements { blobs }
    }
}

#[async_trait]
impl StatementSource for BlobStatements {
    async fn statement(&self, provider: &ProviderId, day: NaiveDate) -> Result<Option<Vec<u8>>, StatementSourceError> {
        Ok(self.blobs.read(&statement_key(provider, day)?).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "type,transaction_id,original_transaction_id,bank_code,account_number,amount,depositor_name,occurred_at";

    fn bank() -> ProviderId {
        "bank".parse().unwrap()
    }

    fn statement(rows: &[&str], end: &str) -> Vec<u8> {
        let mut text = String::from(HEADER);
        for row in rows {
            text.push_str(end);
            text.push_str(row);
        }
        text.push_str(end);
        text.into_bytes()
    }

    fn refused(bytes: &[u8]) -> Vec<(usize, String)> {
        parse(&bank(), bytes).unwrap_err().errors.into_iter().map(|e| (e.line, e.field)).collect()
    }

    const DEPOSIT: &str = "deposit,T-1,,004,12345678901234,35000,홍길동,2026-11-24T10:00:00+09:00";
    const REVERSAL: &str = "reversal,R-1,T-1,,,,,2026-11-24T11:00:00+09:00";

    #[test]
    fn deposits_and_reversals_read_into_notices() {
        let entries = parse(&bank(), &statement(&[DEPOSIT, REVERSAL], "\r\n")).unwrap();
        let StatementEntry::Deposit(d) = &entries[0] else { panic!("a deposit") };
        assert_eq!(
            (d.transaction_id.as_str(), d.bank_code, d.account_number.as_str(), d.amount),
            ("T-1", BankCode::Kookmin, "12345678901234", Krw::new(35_000))
        );
        assert_eq!((d.depositor_name.as_deref(), d.deposited_at), (Some("홍길동"), parse_rfc3339("2026-11-24T01:00:00Z").unwrap()));
        assert_eq!(d.provider, bank());
        let StatementEntry::Reversal(r) = &entries[1] else { panic!("a reversal") };
        assert_eq!((r.transaction_id.as_str(), r.original_transaction_id.as_str()), ("R-1", "T-1"));
    }

    #[test]
    fn bom_crlf_lf_and_column_order_do_not_matter() {
        let plain = parse(&bank(), &statement(&[DEPOSIT, REVERSAL], "\n")).unwrap();
        let mut bom = "\u{feff}".as_bytes().to_vec();
        bom.extend(statement(&[DEPOSIT, REVERSAL], "\r\n"));
        assert_eq!(parse(&bank(), &bom).unwrap(), plain);
        let reordered = "occurred_at,amount,type,transaction_id,original_transaction_id,bank_code,account_number,depositor_name\n\
                         2026-11-24T10:00:00+09:00,35000,deposit,T-1,,004,12345678901234,홍길동\n\
                         2026-11-24T11:00:00+09:00,,reversal,R-1,T-1,,,";
        assert_eq!(parse(&bank(), reordered.as_bytes()).unwrap(), plain, "no final line break is needed either");
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_nothing_else_changes() {
        let row = r#""deposit","T-1","","004","12345678901234","35000","Kim, ""Jr""","2026-11-24T10:00:00+09:00""#;
        let entries = parse(&bank(), &statement(&[row], "\r\n")).unwrap();
        let StatementEntry::Deposit(d) = &entries[0] else { panic!("a deposit") };
        assert_eq!(d.depositor_name.as_deref(), Some(r#"Kim, "Jr""#));
        assert_eq!(d.amount, Krw::new(35_000));
    }

    #[test]
    fn a_header_alone_is_a_day_without_transactions_and_blank_lines_are_skipped() {
        assert_eq!(parse(&bank(), HEADER.as_bytes()).unwrap(), vec![]);
        assert_eq!(parse(&bank(), format!("{HEADER}\r\n\r\n{DEPOSIT}\r\n\r\n").as_bytes()).unwrap().len(), 1);
    }

    #[test]
    fn every_bad_field_is_named_with_its_line_and_nothing_is_imported() {
        let rows = [
            DEPOSIT,
            "deposit,T-2,,999,12345678901234,35000,,2026-11-24T10:00:00+09:00",
            "deposit,T-3,,004,1234-5678,0,,2026-11-24T10:00:00",
            "deposit,T 4,X,004,12345678901234,\"35,000\",,2026-11-24T10:00:00+09:00",
            "refund,T-5,,,,,,2026-11-24T10:00:00+09:00",
            "reversal,R-6,,004,,,,2026-11-24T10:00:00+09:00",
            "deposit,T-7,,004,12345678901234,10000000001,,2026-11-24T10:00:00+09:00",
            "deposit,T-8,,004,12345678901234,-5,,2026-11-24T10:00:00+09:00",
            "deposit,T-9,,004,12345678901234,5,",
            "reversal,R-10,R-10,,,,,2026-11-24T10:00:00+09:00",
        ];
        let errors = refused(&statement(&rows, "\n"));
        let expected = [
            (3, "bank_code"),
            (4, "account_number"),
            (4, "amount"),
            (4, "occurred_at"),
            (5, "transaction_id"),
            (5, "original_transaction_id"),
            (5, "amount"),
            (6, "type"),
            (7, "original_transaction_id"),
            (7, "bank_code"),
            (8, "amount"),
            (9, "amount"),
            (10, "record"),
            (11, "original_transaction_id"),
        ];
        let got: Vec<(usize, &str)> = errors.iter().map(|(l, f)| (*l, f.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn messages_never_quote_a_depositors_name() {
        let row = "deposit,T-1,,004,12345678901234,1000원,홍길동,2026-11-24T10:00:00+09:00";
        let error = parse(&bank(), &statement(&[row], "\n")).unwrap_err();
        assert_eq!((error.errors[0].line, error.errors[0].field.as_str()), (2, "amount"));
        assert!(!error.to_string().contains("홍길동"), "{error}");
    }

    #[test]
    fn a_transaction_twice_refuses_the_statement() {
        let errors = refused(&statement(&[DEPOSIT, REVERSAL, "reversal,T-1,R-1,,,,,2026-11-24T12:00:00+09:00"], "\r\n"));
        assert_eq!(errors, [(4, "transaction_id".to_owned())]);
    }

    #[test]
    fn header_problems_are_reported_before_any_row() {
        assert_eq!(refused(b""), [(1, "header".to_owned())]);
        let missing = "type,transaction_id,bank_code,account_number,amount,depositor_name,occurred_at,note\n";
        assert_eq!(refused(missing.as_bytes()), [(1, "header".to_owned()), (1, "original_transaction_id".to_owned())]);
        let twice = format!("{HEADER},amount\n");
        assert_eq!(refused(twice.as_bytes()), [(1, "amount".to_owned())]);
    }

    #[test]
    fn malformed_csv_names_the_line_where_it_goes_wrong() {
        let spanning = "deposit,T-1,,004,12345678901234,1000,\"two\nlines\",2026-11-24T10:00:00+09:00";
        let unclosed = "deposit,T-2,,004,12345678901234,1000,\"open,2026-11-24T10:00:00+09:00";
        assert_eq!(refused(&statement(&[spanning, unclosed], "\n")), [(4, "record".to_owned())], "the second record starts on line 4");
        assert_eq!(refused(&statement(&["deposit,T-1,,004,12345678901234,1000,Kim \"J\",2026-11-24T10:00:00+09:00"], "\n")), [(2, "record".to_owned())]);
        assert_eq!(refused(&statement(&["deposit,T-1,,004,12345678901234,1000,\"Kim\"x,2026-11-24T10:00:00+09:00"], "\n")), [(2, "record".to_owned())]);
        assert_eq!(refused(format!("{HEADER}\n{DEPOSIT}\rdeposit").as_bytes()), [(2, "record".to_owned())]);
        let mut latin1 = statement(&[DEPOSIT], "\n");
        latin1.extend(b"deposit,T-2,,004,12345678901234,1000,\xc7\xd1,2026-11-24T10:00:00+09:00\n");
        assert_eq!(refused(&latin1), [(3, "record".to_owned())]);
    }

    #[test]
    fn a_line_break_inside_quotes_is_data() {
        let row = "deposit,T-1,,004,12345678901234,1000,\"Kim\r\nLee\",2026-11-24T10:00:00+09:00";
        let entries = parse(&bank(), &statement(&[row, "deposit,T-2,,004,12345678901234,1000,,2026-11-24T10:00:00+09:00"], "\r\n")).unwrap();
        let StatementEntry::Deposit(first) = &entries[0] else { panic!("a deposit") };
        assert_eq!((entries.len(), first.depositor_name.as_deref()), (2, Some("Kim\r\nLee")));
    }
}
