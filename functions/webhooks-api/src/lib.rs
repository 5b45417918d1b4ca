//! `webhooks-api`: the merchant's webhook endpoints (create, list, delete, rotate the secret,
//! attempts), `POST /v1/events/{id}/resend` and `GET /v1/events`, behind API Gateway (HTTP API,
//! payload 2.0). The router is the library's, the very one `vaccount serve` merges with the others.

pub use vaccount::http::webhooks::webhook_routes as router;
