//! `get-deposits`: GET /v1/deposits[/{id}] and GET /v1/virtual-accounts/{id}/deposits behind API Gateway (HTTP API, payload 2.0).
//! The router is the library's, the very one `vaccount serve` merges with the others.

pub use vaccount::http::deposit_routes as router;
