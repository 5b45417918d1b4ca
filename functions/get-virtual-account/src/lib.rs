//! `get-virtual-account`: GET /v1/virtual-accounts and GET /v1/virtual-accounts/{id} behind API Gateway (HTTP API, payload 2.0).
//! The router is the library's, the very one `vaccount serve` merges with the others.

pub use vaccount::http::read_routes as router;
