//! File downloads: an export answered from its temporary file as the client reads it.

use crate::app::AppError;
use crate::app::Unavailable;
use crate::app::exports::ExportFile;
use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;
use http::{StatusCode, header};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio_util::io::ReaderStream;

pub const XLSX_CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `200` with `export` as an attachment named `filename` (Korean is fine), read from disk as
/// the client takes it. The file is removed once the body is dropped, sent or abandoned.
pub fn xlsx(export: ExportFile, filename: &str) -> Result<Response, AppError> {
    let length = export.bytes();
    let (file, path) = export.into_parts();
    let body = Download { body: ReaderStream::new(tokio::fs::File::from_std(file)), _file: path };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, XLSX_CONTENT_TYPE)
        .header(header::CONTENT_LENGTH, length)
        .header(header::CONTENT_DISPOSITION, attachment(filename))
        // Exports hold merchants' and customers' records: no cache keeps a copy.
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(body))
        .map_err(|e| Unavailable::Encoding(e.to_string()).into())
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): the exact name percent-encoded
/// as UTF-8 (RFC 5987), and for clients that read only `filename` the name with every
/// character outside printable ASCII, and `"`, `\` and `%`, as `_`.
pub fn attachment(filename: &str) -> String {
    let fallback: String = filename.chars().map(|c| if matches!(c, ' '..='~') && !matches!(c, '"' | '\\' | '%') { c } else { '_' }).collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The file's bytes, holding the path that removes the file when the body is dropped.
struct Download {
    body: ReaderStream<tokio::fs::File>,
    _file: tempfile::TempPath,
}

impl Stream for Download {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_korean_name_is_percent_encoded_with_an_ascii_fallback() {
        assert_eq!(
            attachment("입금내역 2026-11-24.xlsx"),
            "attachment; filename=\"____ 2026-11-24.xlsx\"; filename*=UTF-8''%EC%9E%85%EA%B8%88%EB%82%B4%EC%97%AD%202026-11-24.xlsx"
        );
    }

    #[test]
    fn quotes_backslashes_percents_and_line_breaks_never_reach_the_header_raw() {
        let header = attachment("a\"b\\c%d\r\ne.xlsx");
        assert_eq!(header, "attachment; filename=\"a_b_c_d__e.xlsx\"; filename*=UTF-8''a%22b%5Cc%25d%0D%0Ae.xlsx");
        assert!(http::HeaderValue::from_str(&header).is_ok());
    }
}
