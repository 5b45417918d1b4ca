//! `settlements-api`: GET /v1/settlements and GET /v1/settlements/{date}/files/{name} behind API
//! Gateway (HTTP API, payload 2.0); a file is a redirect to a presigned S3 link valid 5 minutes.
//! The router is the library's, the very one `vaccount serve` merges with the others.

pub use vaccount::http::settlements::settlement_routes as router;
