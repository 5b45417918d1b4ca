//! `issue-virtual-account`: POST /v1/virtual-accounts behind API Gateway (HTTP API, payload 2.0).
//! The router is the library's, the very one `vaccount serve` merges with the others.

pub use vaccount::http::issue_routes as router;
