//! Operator setup: merchants, keys, providers, pool ranges (the `vaccount` setup commands).

use super::{AppError, Service, Unavailable};
use crate::domain::merchant::new_secret;
use crate::domain::pool::{NumberRange, merge_ranges};
use crate::domain::{AccountNumber, ApiKey, ApiKeyId, BankCode, DepositPolicy, Fee, Krw, Merchant, MerchantId, PoolNumber, Provider, ProviderId, ProviderKind};
use crate::ports::{Condition, MAX_TRANSACTION_WRITES, StoreError};
use crate::repo::{self, Guard, Retry, Transaction};
use serde::Serialize;

/// The most numbers one `pool add` imports.
pub const MAX_POOL_RANGE: u64 = 1_000_000;

#[derive(Debug, Clone, Serialize)]
pub struct MerchantCreated {
    pub merchant_id: MerchantId,
    pub key_id: ApiKeyId,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderCreated {
    pub provider_id: ProviderId,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PoolAdded {
    pub added: u64,
    /// Numbers of the range that were already in the pool and were left as they are.
    #[serde(skip_serializing_if = "is_zero")]
    pub skipped: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A merchant's name as kept: trimmed, 1-100 characters.
pub(crate) fn merchant_name(name: &str) -> Result<&str, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > Merchant::MAX_NAME_CHARS {
        return Err(AppError::field("name", "must be 1-100 characters"));
    }
    Ok(name)
}

/// Fee terms the service can charge: a rate of at most 100 %, a flat fee not negative.
pub(crate) fn check_fee(fee: Fee) -> Result<(), AppError> {
    match fee {
        Fee::RateBps(bps) if bps > 10_000 => Err(AppError::field("fee_rate_bps", "must be at most 10000 (100 %)")),
        Fee::PerDeposit(won) if won < Krw::ZERO => Err(AppError::field("fee_per_deposit", "must not be negative")),
        _ => Ok(()),
    }
}

/// Setup commands: merchants, API keys, providers, pool ranges.
#[derive(Clone, Copy)]
pub struct Setup<'a> {
    pub(super) service: &'a Service,
}

impl Setup<'_> {
    pub async fn create_merchant(self, name: &str, fee: Fee, payout_days: u8, policy: DepositPolicy) -> Result<MerchantCreated, AppError> {
        let name = merchant_name(name)?;
        check_fee(fee)?;
        let now = self.service.clock.now();
        let key =
            ApiKey { id: ApiKeyId::generate(now), merchant_id: MerchantId::generate(now), secret: new_secret(), active: true, created_at: now, version: 1 };
        let merchant = Merchant {
            id: key.merchant_id.clone(),
            name: name.to_owned(),
            fee,
            payout_days,
            active_keys: vec![key.id.clone()],
            created_at: now,
            version: 1,
            policy,
        };
        self.service
            .table
            .transact(vec![repo::merchants::put_merchant(&merchant, Condition::NotExists)?, repo::merchants::put_api_key(&key, Condition::NotExists)?])
            .await?;
        Ok(MerchantCreated { merchant_id: merchant.id, key_id: key.id, secret: key.secret })
    }

    /// A second (or replacement) key for rotation. A merchant holds at most two active keys:
    /// revoke the old one once clients use the new one.
    pub async fn add_api_key(self, merchant_id: &MerchantId) -> Result<MerchantCreated, AppError> {
        let merchant = repo::merchants::get_merchant(self.service.table.as_ref(), merchant_id).await?.ok_or(AppError::NotFound)?;
        if merchant.active_keys.len() >= Merchant::MAX_ACTIVE_KEYS {
            return Err(AppError::Conflict("the merchant already has two active keys; revoke one first".into()));
        }
        let now = self.service.clock.now();
        let key = ApiKey { id: ApiKeyId::generate(now), merchant_id: merchant.id.clone(), secret: new_secret(), active: true, created_at: now, version: 1 };
        let mut updated = merchant.clone();
        updated.active_keys.push(key.id.clone());
        updated.version += 1;
        self.service
            .table
            .transact(vec![
                repo::merchants::put_merchant(&updated, Condition::VersionIs(merchant.version))?,
                repo::merchants::put_api_key(&key, Condition::NotExists)?,
            ])
            .await
            .map_err(|e| match e {
                StoreError::ConditionFailed { .. } => AppError::Conflict("the merchant changed meanwhile; try again".into()),
                other => other.into(),
            })?;
        Ok(MerchantCreated { merchant_id: merchant.id, key_id: key.id, secret: key.secret })
    }

    pub async fn revoke_api_key(self, merchant_id: &MerchantId, key_id: &ApiKeyId) -> Result<(), AppError> {
        self.revoke_key_keeping(merchant_id, key_id, false).await
    }

    /// Revokes a key; with `keep_one`, never the last active one. The check is made on the read
    /// the versioned write depends on, so two revocations at once cannot leave none.
    pub async fn revoke_key_keeping(self, merchant_id: &MerchantId, key_id: &ApiKeyId, keep_one: bool) -> Result<(), AppError> {
        let merchant = repo::merchants::get_merchant(self.service.table.as_ref(), merchant_id).await?.ok_or(AppError::NotFound)?;
        let key = repo::merchants::get_api_key(self.service.table.as_ref(), key_id)
            .await?
            .filter(|k| &k.merchant_id == merchant_id && k.active)
            .ok_or(AppError::NotFound)?;
        let mut updated = merchant.clone();
        updated.active_keys.retain(|k| k != key_id);
        if keep_one && updated.active_keys.is_empty() {
            return Err(AppError::Conflict("this is the merchant's only active key; add its replacement first".into()));
        }
        updated.version += 1;
        let revoked = ApiKey { active: false, version: key.version + 1, ..key.clone() };
        self.service
            .table
            .transact(vec![
                repo::merchants::put_merchant(&updated, Condition::VersionIs(merchant.version))?,
                repo::merchants::put_api_key(&revoked, Condition::VersionIs(key.version))?,
            ])
            .await
            .map_err(|e| match e {
                StoreError::ConditionFailed { .. } => AppError::Conflict("the merchant changed meanwhile; try again".into()),
                other => other.into(),
            })
    }

    pub async fn add_provider(self, id: ProviderId, kind: ProviderKind, allowed_ips: Vec<std::net::IpAddr>) -> Result<ProviderCreated, AppError> {
        let now = self.service.clock.now();
        let provider = Provider { id, kind, secret: new_secret(), allowed_ips, created_at: now, version: 1 };
        match self.service.table.transact(vec![repo::merchants::put_provider(&provider, Condition::NotExists)?]).await {
            Ok(()) => Ok(ProviderCreated { provider_id: provider.id, secret: provider.secret }),
            Err(StoreError::ConditionFailed { .. }) => Err(AppError::Conflict(format!("provider {} already exists", provider.id))),
            Err(e) => Err(e.into()),
        }
    }

    /// Imports `count` consecutive numbers from `first` into the pool of `bank`. Numbers
    /// already present (from an earlier import) are skipped, so a re-run is harmless.
    pub async fn add_pool_range(self, provider: &ProviderId, bank: BankCode, first: &AccountNumber, count: u64) -> Result<PoolAdded, AppError> {
        if count == 0 || count > MAX_POOL_RANGE {
            return Err(AppError::field("count", format!("must be 1-{MAX_POOL_RANGE}")));
        }
        if repo::merchants::get_provider(self.service.table.as_ref(), provider).await?.is_none() {
            return Err(AppError::field("provider", format!("provider {provider} does not exist; add it first")));
        }
        let last = count - 1;
        if first.offset(last).is_none() {
            return Err(AppError::field("count", "the range runs past the width of the first number"));
        }
        let numbers: Vec<PoolNumber> = (0..count).filter_map(|i| first.offset(i)).map(|n| PoolNumber::new(bank, n, provider.clone())).collect();
        let mut result = PoolAdded { added: 0, skipped: 0 };
        for chunk in numbers.chunks(MAX_TRANSACTION_WRITES) {
            let writes = chunk.iter().map(|n| repo::pool::put_number(n, Condition::NotExists)).collect::<Result<Vec<_>, _>>()?;
            match self.service.table.transact(writes).await {
                Ok(()) => result.added += chunk.len() as u64,
                // Part of this chunk was imported before: go number by number.
                Err(StoreError::ConditionFailed { .. }) => {
                    for number in chunk {
                        match self.service.table.transact(vec![repo::pool::put_number(number, Condition::NotExists)?]).await {
                            Ok(()) => result.added += 1,
                            Err(StoreError::ConditionFailed { .. }) => result.skipped += 1,
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.record_range(provider, bank, first, count).await?;
        Ok(result)
    }

    /// Adds an imported range to its pool's record (what the stock page counts a pool's
    /// numbers by). After the numbers, so a failed import records nothing and its re-run
    /// records the range; a range recorded before changes nothing.
    async fn record_range(self, provider: &ProviderId, bank: BankCode, first: &AccountNumber, count: u64) -> Result<(), AppError> {
        let added = NumberRange { first: first.clone(), count };
        let mut retry = Retry::new();
        while retry.next().await {
            let read = repo::pool::ranges(self.service.table.as_ref(), bank, provider).await?;
            let previous = read.as_ref().map(|(_, version)| *version);
            let known = read.map_or_else(Vec::new, |(pool, _)| pool.ranges);
            let ranges = merge_ranges(&known, &added);
            if previous.is_some() && ranges == known {
                return Ok(());
            }
            let pool = repo::pool::PoolRanges { provider: provider.clone(), bank_code: bank, ranges };
            match Transaction::of(Guard::Moved, [repo::pool::put_ranges(&pool, previous)?]).commit(self.service.table.as_ref()).await {
                Ok(()) => return Ok(()),
                // Another import into the same pool wrote first: merge into what it wrote.
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("the ranges of pool {provider} at bank {bank} kept changing") }.into())
    }
}
