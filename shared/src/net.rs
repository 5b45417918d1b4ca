//! The network: the [`HostResolver`] port on the system resolver ([`SystemResolver`]), and
//! outbound HTTP, the [`HttpSender`] port on `reqwest` (rustls), in two flavours:
//!
//! - [`OutboundHttp::guarded`] for merchant-chosen URLs (webhooks): every address a name
//!   resolves to is checked with [`crate::domain::address::webhook_may_reach`] (the rule the
//!   registration of a webhook URL checks too) by the resolver the connection itself uses, so
//!   a name that resolves to a private address later (DNS rebinding) still cannot be reached.
//!   Redirects are not followed (a redirect could point anywhere). With `allow_private` (local
//!   development only) loopback and private addresses and `http` pass; link-local and
//!   metadata addresses never do.
//! - [`OutboundHttp::trusted`] for URLs from our own configuration (messaging provider, Slack).

use crate::domain::address::webhook_may_reach;
use crate::ports::{HostResolver, HttpError, HttpRequest, HttpResponse, HttpSender, ResolveError};
use async_trait::async_trait;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Names resolved by the operating system's resolver (through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl HostResolver for SystemResolver {
    async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        // The port is the resolver's syntax only: addresses do not depend on it.
        let found = tokio::net::lookup_host((host, 0)).await.map_err(|e| ResolveError { host: host.to_owned(), reason: e.to_string() })?;
        Ok(found.map(|address| address.ip()).collect())
    }
}

/// How much of an answer's body is kept (attempt logs show the start of it).
const KEEP_BODY_BYTES: usize = 4096;

#[derive(Clone)]
pub struct OutboundHttp {
    client: reqwest::Client,
    /// `Some(allow_private)` for merchant-chosen URLs; `None` for our own configuration.
    guard: Option<bool>,
}

/// How the resolver's refusal reads; `classify` recognises it in the connect error.
const UNREACHABLE: &str = "resolves to no address a webhook may reach";

/// Resolves with the system resolver, then drops every address a webhook may not reach.
struct Reachable {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Reachable {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let resolved = SystemResolver.resolve(&host).await?;
            let allowed: Vec<SocketAddr> = resolved.into_iter().filter(|ip| webhook_may_reach(*ip, allow_private)).map(|ip| SocketAddr::new(ip, 0)).collect();
            if allowed.is_empty() {
                return Err(format!("{host} {UNREACHABLE}").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl OutboundHttp {
    /// For merchant-chosen URLs.
    pub fn guarded(allow_private: bool) -> Result<OutboundHttp, HttpError> {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(Reachable { allow_private }))
            .https_only(!allow_private);
        let client = builder.build().map_err(|e| HttpError::Connect(e.to_string()))?;
        Ok(OutboundHttp { client, guard: Some(allow_private) })
    }

    /// For URLs from our own configuration.
    pub fn trusted() -> Result<OutboundHttp, HttpError> {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| HttpError::Connect(e.to_string()))?;
        Ok(OutboundHttp { client, guard: None })
    }

    /// Refuses what the resolver cannot see: a URL whose host is an address literal.
    fn check_literal(&self, url: &reqwest::Url) -> Result<(), HttpError> {
        let Some(allow_private) = self.guard else { return Ok(()) };
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        match literal {
            Some(ip) if !webhook_may_reach(ip, allow_private) => Err(HttpError::Refused(format!("{ip} is not an address a webhook may reach"))),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl HttpSender for OutboundHttp {
    async fn post(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = reqwest::Url::parse(&request.url).map_err(|e| HttpError::Refused(format!("bad URL: {e}")))?;
        self.check_literal(&url)?;
        let mut builder = self.client.post(url).timeout(request.timeout).body(request.body);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        let mut response = builder.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        // Only the start of the answer is kept; the rest is not read (the connection closes).
        while body.len() < KEEP_BODY_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(KEEP_BODY_BYTES - body.len())]),
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(HttpError::Timeout),
                Err(_) => break,
            }
        }
        Ok(HttpResponse { status, body })
    }
}

fn classify(error: reqwest::Error) -> HttpError {
    if error.is_timeout() {
        return HttpError::Timeout;
    }
    // The URL stays out of the text: a Slack webhook's path is its secret, and the text is
    // logged and stored with the attempt. The resolver's refusal arrives as a connect error
    // whose source says why.
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    if text.contains(UNREACHABLE) { HttpError::Refused(text) } else { HttpError::Connect(text) }
}
