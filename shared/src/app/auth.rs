//! Merchant request authentication (docs/openapi.yaml, "Merchant authentication").

use super::{AppError, Service};
use crate::domain::signing::{MAX_CLOCK_SKEW_SECS, merchant_canonical, sign_hex, verify_hex};
use crate::domain::{ApiKeyId, Merchant};
use crate::repo;

/// The parts of a request that its signature covers, as received.
pub struct SignedRequest<'a> {
    pub key_id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
}

/// Merchants' signed requests, checked against their API keys.
#[derive(Clone, Copy)]
pub struct Access<'a> {
    pub(super) service: &'a Service,
}

impl Access<'_> {
    /// The merchant whose active key signed this request.
    pub async fn authenticate(self, request: &SignedRequest<'_>) -> Result<Merchant, AppError> {
        let key_id = request.key_id.ok_or(AppError::Unauthorized("missing X-VA-Key-Id header"))?;
        let timestamp = request.timestamp.ok_or(AppError::Unauthorized("missing X-VA-Timestamp header"))?;
        let signature = request.signature.ok_or(AppError::Unauthorized("missing X-VA-Signature header"))?;
        let seconds: i64 = timestamp.parse().map_err(|_| AppError::Unauthorized("X-VA-Timestamp must be Unix seconds"))?;
        if self.service.clock.now().timestamp().abs_diff(seconds) > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
            return Err(AppError::Unauthorized("X-VA-Timestamp is more than 300 seconds from server time"));
        }
        let canonical = merchant_canonical(timestamp, request.method, request.path_and_query, request.body);
        let key = match key_id.parse::<ApiKeyId>() {
            Ok(id) => repo::merchants::get_api_key(self.service.table.as_ref(), &id).await?,
            Err(_) => None,
        };
        let Some(key) = key.filter(|k| k.active) else {
            // Spend the same work as a real check, so timing does not tell which key ids exist.
            let _ = sign_hex("no-such-key", canonical.as_bytes());
            return Err(AppError::Unauthorized("invalid key id or signature"));
        };
        if !verify_hex(&key.secret, canonical.as_bytes(), signature) {
            return Err(AppError::Unauthorized("invalid key id or signature"));
        }
        let merchant = repo::merchants::get_merchant(self.service.table.as_ref(), &key.merchant_id)
            .await?
            .filter(|m| m.active_keys.contains(&key.id))
            .ok_or(AppError::Unauthorized("invalid key id or signature"))?;
        Ok(merchant)
    }
}
