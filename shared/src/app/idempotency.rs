//! `Idempotency-Key` semantics (API.md): replay a finished request, refuse one in flight,
//! refuse the same key with a different body. A holder that crashed loses the key when its
//! lease runs out; if it had already done its work, the retry meets that work (an order id
//! already taken), never a second copy of it.

use super::{AppError, Service};
use crate::domain::MerchantId;
use crate::ports::{Condition, StoreError};
use crate::repo::idempotency::{self, IdempotencyRecord, Progress};
use sha2::{Digest, Sha256};

pub const MAX_KEY_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Run the request, then call [`Service::finish_idempotent`] with the held record.
    Proceed(IdempotencyRecord),
    /// Answer with the stored response.
    Replay { status: u16, body: String },
}

/// What makes two requests "the same" for a key: method, target and body.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), b"\n", path_and_query.as_bytes(), b"\n", body] {
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

pub fn validate_key(key: &str) -> Result<(), AppError> {
    let len = key.chars().count();
    if len == 0 || len > MAX_KEY_LEN || key.chars().any(|c| c.is_control()) {
        return Err(AppError::field("Idempotency-Key", "must be 1-255 printable characters"));
    }
    Ok(())
}

impl Service {
    pub async fn claim_idempotent(&self, merchant: &MerchantId, key: &str, fingerprint: String) -> Result<Claim, AppError> {
        validate_key(key)?;
        // Two reads at most: a lost race for a fresh key means the winner's record is there now.
        for _ in 0..3 {
            let now = self.clock.now();
            let existing = idempotency::get(self.table.as_ref(), merchant, key).await?;
            let (condition, version) = match &existing {
                None => (Condition::NotExists, 1),
                Some(r) if r.expires_at <= now => (Condition::VersionIs(r.version), r.version + 1),
                Some(r) if r.fingerprint != fingerprint => return Err(AppError::IdempotencyMismatch),
                Some(IdempotencyRecord { progress: Progress::Done { status, body }, .. }) => {
                    return Ok(Claim::Replay { status: *status, body: body.clone() });
                }
                Some(IdempotencyRecord { progress: Progress::InFlight { lease_until }, .. }) if *lease_until > now => {
                    return Err(AppError::IdempotencyInFlight);
                }
                Some(r) => (Condition::VersionIs(r.version), r.version + 1),
            };
            let record = IdempotencyRecord {
                merchant_id: merchant.clone(),
                key: key.to_owned(),
                fingerprint: fingerprint.clone(),
                created_at: now,
                expires_at: now + self.settings.idempotency_ttl,
                progress: Progress::InFlight { lease_until: now + self.settings.idempotency_lease },
                version,
            };
            match self.table.transact(vec![idempotency::put(&record, condition)?]).await {
                Ok(()) => return Ok(Claim::Proceed(record)),
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::IdempotencyInFlight)
    }

    /// Stores the answer to replay. A 5xx is not stored: the key is freed so a retry runs again.
    pub async fn finish_idempotent(&self, held: IdempotencyRecord, status: u16, body: String) -> Result<(), AppError> {
        let write = if status >= 500 {
            idempotency::delete(&held)
        } else {
            let done = IdempotencyRecord { progress: Progress::Done { status, body }, version: held.version + 1, ..held.clone() };
            idempotency::put(&done, Condition::VersionIs(held.version))?
        };
        match self.table.transact(vec![write]).await {
            Ok(()) => Ok(()),
            // Our lease ran out and another request took the key over; its answer stands.
            Err(StoreError::ConditionFailed { .. }) => {
                tracing::warn!(key = %held.key, "idempotency lease lost before the request finished");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
