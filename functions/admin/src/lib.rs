//! `admin`: the admin API (`/admin/v1/…`, cookie session + CSRF) and the operators' dashboard
//! (`/admin/`) behind API Gateway (HTTP API, payload 2.0). The router is the library's, the very
//! one `vaccount serve` merges with the others; settlement files are presigned S3 links.

pub use vaccount::http::admin_routes as router;
