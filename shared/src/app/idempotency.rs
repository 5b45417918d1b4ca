//! `Idempotency-Key` semantics (docs/openapi.yaml): replay a finished request, refuse one in
//! flight, refuse the same key with a different body.
//!
//! A request that changes something finishes its key in the transaction of the change: the
//! use case takes a [`Receipt`] and commits the answer a retry will get beside its own writes
//! (docs/decisions.md, decision 20). So a committed effect always has its answer stored, even
//! when the process dies or the client hangs up right after the commit; and a holder whose
//! lease ran out while it worked cannot commit at all, because its record moved on.

use super::{AppError, Service};
use crate::domain::MerchantId;
use crate::ports::{Condition, StoreError};
use crate::repo::idempotency::{self, IdempotencyRecord, Progress};
use crate::repo::{Guard, Retry, Transaction, TxError};
use sha2::{Digest, Sha256};
use std::sync::Mutex;

pub const MAX_KEY_LEN: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Run the request: hand a [`Receipt`] over the record to the use case, then, if it
    /// committed nothing, call [`Idempotency::finish_idempotent`].
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

/// A request's hold on its key while it runs, and the answer it committed, if it did.
#[derive(Debug)]
pub struct Hold {
    record: IdempotencyRecord,
    committed: Mutex<Option<(u16, String)>>,
}

impl Hold {
    pub fn new(record: IdempotencyRecord) -> Hold {
        Hold { record, committed: Mutex::new(None) }
    }

    pub fn record(&self) -> &IdempotencyRecord {
        &self.record
    }

    /// The answer stored with the request's effect: the one to send, byte for byte what a
    /// retry will be replayed.
    pub fn committed_answer(&self) -> Option<(u16, String)> {
        self.committed.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// How a use case's result reads as an HTTP answer (status, body). The mapping lives in `http`;
/// the use case only runs it to store the answer with its effect.
pub type Answer<'a, T> = dyn Fn(&T) -> Result<(u16, String), AppError> + Send + Sync + 'a;

/// What a use case that changes something needs to finish its request's key in the same
/// transaction: the hold (none for a request without a key) and how its result is answered.
pub struct Receipt<'a, T> {
    held: Option<(&'a Hold, &'a Answer<'a, T>)>,
}

impl<'a, T> Receipt<'a, T> {
    /// For callers without an `Idempotency-Key` (setup commands, tests, requests without one).
    pub fn none() -> Receipt<'a, T> {
        Receipt { held: None }
    }

    pub fn new(hold: Option<&'a Hold>, answer: &'a Answer<'a, T>) -> Receipt<'a, T> {
        Receipt { held: hold.map(|h| (h, answer)) }
    }
}

impl Service {
    /// Commits a use case's `writes` together with the receipt's finished record for `value`.
    ///
    /// The outer error is the key lost: its lease ran out and another request holds it now, so
    /// nothing was written and that request's answer is the one that counts. The inner result
    /// is the store's verdict on the use case's own writes, by their guards.
    pub(crate) async fn commit_with_receipt<T>(&self, mut tx: Transaction, receipt: &Receipt<'_, T>, value: &T) -> Result<Result<(), TxError>, AppError> {
        let Some((hold, answer)) = receipt.held else { return Ok(tx.commit(self.table.as_ref()).await) };
        let (status, body) = answer(value)?;
        let held = &hold.record;
        let done = IdempotencyRecord { progress: Progress::Done { status, body: body.clone() }, version: held.version + 1, ..held.clone() };
        tx.push(Guard::KeyLost, idempotency::put(&done, Condition::VersionIs(held.version))?);
        match tx.commit(self.table.as_ref()).await {
            Ok(()) => {
                *hold.committed.lock().unwrap_or_else(|e| e.into_inner()) = Some((status, body));
                Ok(Ok(()))
            }
            Err(TxError::Refused(Guard::KeyLost)) => {
                tracing::warn!(key = %held.key, "idempotency lease lost before the request committed; nothing written");
                Err(AppError::IdempotencyInFlight)
            }
            Err(e) => Ok(Err(e)),
        }
    }
}

/// Idempotency-Key claims and the answers they replay.
#[derive(Clone, Copy)]
pub struct Idempotency<'a> {
    pub(super) service: &'a Service,
}

impl Idempotency<'_> {
    pub async fn claim_idempotent(self, merchant: &MerchantId, key: &str, fingerprint: String) -> Result<Claim, AppError> {
        validate_key(key)?;
        // A lost race for a fresh key means the winner's record is there now: the next read
        // answers from it.
        let mut retry = Retry::new();
        while retry.next().await {
            let now = self.service.clock.now();
            let existing = idempotency::get(self.service.table.as_ref(), merchant, key).await?;
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
                expires_at: now + self.service.settings.idempotency_ttl,
                progress: Progress::InFlight { lease_until: now + self.service.settings.idempotency_lease },
                version,
            };
            match self.service.table.transact(vec![idempotency::put(&record, condition)?]).await {
                Ok(()) => return Ok(Claim::Proceed(record)),
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::IdempotencyInFlight)
    }

    /// Stores the answer of a request that committed no effect (a refusal, a validation error),
    /// after it was decided: losing this write costs a retry only a second, equally harmless
    /// run. A 5xx is not stored: the key is freed so a retry runs again.
    pub async fn finish_idempotent(self, held: IdempotencyRecord, status: u16, body: String) -> Result<(), AppError> {
        let write = if status >= 500 {
            idempotency::delete(&held)
        } else {
            let done = IdempotencyRecord { progress: Progress::Done { status, body }, version: held.version + 1, ..held.clone() };
            idempotency::put(&done, Condition::VersionIs(held.version))?
        };
        match self.service.table.transact(vec![write]).await {
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
