//! `ops-api`: the operator routes (`Authorization: Bearer`): deposit exceptions and incidents,
//! behind API Gateway (HTTP API, payload 2.0). The router is the library's, the very one
//! `vaccount serve` merges with the others.

pub use vaccount::http::operator_routes as router;
