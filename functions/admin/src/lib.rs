//! `admin`: the admin API (`/admin/v1/…`, cookie session + CSRF) and the operators' dashboard
//! (`/admin/`) behind API Gateway (HTTP API, payload 2.0). The router is the library's, the very
//! one `vaccount serve` merges with the others; settlement files are presigned S3 links. A Lambda
//! has no socket, so the caller's address for the allowlists (`VACCOUNT_ADMIN_ALLOWED_IPS`, each
//! operator's own) and the audit log comes from API Gateway.

use axum::Router;
use axum::extract::Request;
use lambda_http::request::RequestContext;
use std::sync::Arc;
use vaccount::app::Service;
use vaccount::app::settlements::Settlements;
use vaccount::http::{ClientIp, admin_routes};

pub fn router(service: Arc<Service>, settlements: Option<Arc<Settlements>>) -> Router {
    admin_routes(service, settlements).layer(axum::middleware::map_request(client_ip_from_api_gateway))
}

/// `sourceIp` is the peer of API Gateway's own connection, not a header the caller could set,
/// so it is as good as the socket address `serve` uses.
async fn client_ip_from_api_gateway(mut request: Request) -> Request {
    let ip = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.as_deref().and_then(|ip| ip.parse().ok()),
        _ => None,
    };
    if let Some(ip) = ip {
        request.extensions_mut().insert(ClientIp(ip));
    }
    request
}
