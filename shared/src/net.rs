//! Outbound HTTP: the [`HttpSender`] port on `reqwest` (rustls). Two flavours:
//!
//! - [`OutboundHttp::guarded`] for merchant-chosen URLs (webhooks): every address a name
//!   resolves to is checked with [`crate::domain::address::is_public`] by the resolver the
//!   connection itself uses, so a name that resolves to a private address later (DNS
//!   rebinding) still cannot be reached. Redirects are not followed (a redirect could point
//!   anywhere). With `allow_private` (local development only) the check is off.
//! - [`OutboundHttp::trusted`] for URLs from our own configuration (messaging provider, Slack).

use crate::domain::address::is_public;
use crate::ports::{HttpError, HttpRequest, HttpResponse, HttpSender};
use async_trait::async_trait;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// How much of an answer's body is kept (attempt logs show the start of it).
const KEEP_BODY_BYTES: usize = 4096;

#[derive(Clone)]
pub struct OutboundHttp {
    client: reqwest::Client,
    guarded: bool,
}

/// Resolves with the system resolver, then drops every address that is not public.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved.into_iter().filter(|a| is_public(a.ip())).collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

impl OutboundHttp {
    /// For merchant-chosen URLs.
    pub fn guarded(allow_private: bool) -> Result<OutboundHttp, HttpError> {
        let builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy();
        let builder = if allow_private { builder } else { builder.dns_resolver(Arc::new(PublicOnly)).https_only(true) };
        let client = builder.build().map_err(|e| HttpError::Connect(e.to_string()))?;
        Ok(OutboundHttp { client, guarded: !allow_private })
    }

    /// For URLs from our own configuration.
    pub fn trusted() -> Result<OutboundHttp, HttpError> {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().map_err(|e| HttpError::Connect(e.to_string()))?;
        Ok(OutboundHttp { client, guarded: false })
    }

    /// Refuses what the resolver cannot see: a URL whose host is an address literal.
    fn check_literal(&self, url: &reqwest::Url) -> Result<(), HttpError> {
        if !self.guarded {
            return Ok(());
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        match literal {
            Some(ip) if !is_public(ip) => Err(HttpError::Refused(format!("{ip} is not a public address"))),
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
    if text.contains("resolves to no public address") {
        HttpError::Refused(text)
    } else {
        HttpError::Connect(text)
    }
}
