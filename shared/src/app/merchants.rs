//! Merchants as operators manage them (the admin API): one merchant's profile and API keys,
//! and changes to its settings. Creating a merchant and adding or revoking a key are the
//! setup commands' (`setup`), shared with the CLI.
//!
//! A change applies from the moment it is written, never to what was recorded before it:
//! fee terms are read when a movement is recorded and its settlement entry carries them
//! (docs/storage.md), so a day's entries keep the terms they were recorded under; an account
//! carries the late and name-mismatch policies it was issued with, so a policy change reaches
//! accounts issued after it; exception approval is read when an exception is acted on.

use super::setup::{check_fee, merchant_name};
use super::{AppError, Service, Unavailable};
use crate::domain::{ApiKeyId, Fee, Merchant, MerchantId, NameMismatchPolicy};
use crate::ports::Condition;
use crate::repo::{self, Guard, Retry, Transaction};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What an operator changes of a merchant's settings: each field given replaces the current
/// value, each left out stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub name: Option<String>,
    pub fee: Option<Fee>,
    pub payout_days: Option<u8>,
    pub allow_partial_by_default: Option<bool>,
    pub accept_late: Option<bool>,
    pub name_mismatch: Option<NameMismatchPolicy>,
    pub require_exception_approval: Option<bool>,
}

impl SettingsChange {
    /// Whether it would change `merchant`'s fee terms: what needs the operator's step-up code.
    pub fn changes_fee(&self, merchant: &Merchant) -> bool {
        self.fee.is_some_and(|fee| fee != merchant.fee)
    }

    /// `merchant` with the change applied (its version moved on only if something changed).
    fn apply(&self, merchant: &Merchant) -> Result<Merchant, AppError> {
        let mut next = merchant.clone();
        if let Some(name) = &self.name {
            next.name = merchant_name(name)?.to_owned();
        }
        if let Some(fee) = self.fee {
            check_fee(fee)?;
            next.fee = fee;
        }
        next.payout_days = self.payout_days.unwrap_or(next.payout_days);
        let policy = &mut next.policy;
        policy.allow_partial_by_default = self.allow_partial_by_default.unwrap_or(policy.allow_partial_by_default);
        policy.accept_late = self.accept_late.unwrap_or(policy.accept_late);
        policy.name_mismatch = self.name_mismatch.unwrap_or(policy.name_mismatch);
        policy.require_exception_approval = self.require_exception_approval.unwrap_or(policy.require_exception_approval);
        if next != *merchant {
            next.version = merchant.version + 1;
        }
        Ok(next)
    }
}

/// One of a merchant's active API keys, as operators see it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    pub id: ApiKeyId,
    #[serde(with = "crate::domain::time::kst_serde")]
    pub created_at: DateTime<Utc>,
}

/// Merchants, as the admin API reads and changes them.
#[derive(Clone, Copy)]
pub struct Merchants<'a> {
    pub(super) service: &'a Service,
}

impl Merchants<'_> {
    pub async fn get(self, id: &MerchantId) -> Result<Merchant, AppError> {
        repo::merchants::get_merchant(self.service.table.as_ref(), id).await?.ok_or(AppError::NotFound)
    }

    /// The merchant's active keys, oldest first.
    pub async fn keys(self, merchant: &Merchant) -> Result<Vec<KeyInfo>, AppError> {
        let mut keys = Vec::with_capacity(merchant.active_keys.len());
        for id in &merchant.active_keys {
            if let Some(key) = repo::merchants::get_api_key(self.service.table.as_ref(), id).await? {
                keys.push(KeyInfo { id: key.id, created_at: key.created_at });
            }
        }
        keys.sort_by_key(|k| k.created_at);
        Ok(keys)
    }

    /// Revokes one of the merchant's active keys, answering the merchant before and after. The
    /// last active key stays: revoking it would cut the merchant off, which is not a rotation.
    pub async fn revoke_key(self, id: &MerchantId, key: &ApiKeyId) -> Result<(Merchant, Merchant), AppError> {
        let before = self.get(id).await?;
        if !before.active_keys.contains(key) {
            return Err(AppError::NotFound);
        }
        if before.active_keys.len() == 1 {
            return Err(AppError::Conflict("this is the merchant's only active key; add its replacement first".into()));
        }
        self.service.setup().revoke_key_keeping(id, key, true).await?;
        Ok((before, self.get(id).await?))
    }

    /// Applies `change` to the merchant as it is when written, and answers it before and after.
    /// A change of its fee terms is refused unless `fee_confirmed` (the operator's step-up
    /// code was checked): the terms read when deciding to ask for it may have moved since.
    pub async fn change_settings(self, id: &MerchantId, change: &SettingsChange, fee_confirmed: bool) -> Result<(Merchant, Merchant), AppError> {
        let mut retry = Retry::new();
        while retry.next().await {
            let before = self.get(id).await?;
            if change.changes_fee(&before) && !fee_confirmed {
                return Err(AppError::StepUpRequired);
            }
            let after = change.apply(&before)?;
            if after == before {
                return Ok((before, after));
            }
            let write = repo::merchants::put_merchant(&after, Condition::VersionIs(before.version))?;
            match Transaction::of(Guard::Moved, [write]).commit(self.service.table.as_ref()).await {
                Ok(()) => return Ok((before, after)),
                // A key rotation or another change wrote first: apply the change to that.
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("merchant {id} kept changing") }.into())
    }
}
