//! Merchants, their API keys, and providers.

use super::{ItemBuilder, data_of};
use crate::domain::{ApiKey, ApiKeyId, Merchant, MerchantId, Provider, ProviderId};
use crate::ports::{Condition, Index, Key, Query, SortRange, StoreError, Table, Write};

/// Every merchant profile is in this gsi1 partition (few items, rarely written): the nightly
/// jobs walk it.
const ALL_MERCHANTS: &str = "MERCHANTS";

/// Every provider is in this gsi1 partition (a handful of items): the daily reconciliation
/// walks it.
const ALL_PROVIDERS: &str = "PROVIDERS";

/// The records a migration lists (merchants, providers) as a store scans for them: the `pk`
/// prefix and the `sk` of their items.
pub const LISTED_RECORDS: [(&str, &str); 2] = [("MCH#", "PROFILE"), ("PRV#", "PROVIDER")];

pub fn merchant_key(id: &MerchantId) -> Key {
    Key::new(format!("MCH#{id}"), "PROFILE")
}

pub fn api_key_key(id: &ApiKeyId) -> Key {
    Key::new(format!("KEY#{id}"), "KEY")
}

pub fn provider_key(id: &ProviderId) -> Key {
    Key::new(format!("PRV#{id}"), "PROVIDER")
}

pub fn put_merchant(merchant: &Merchant, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&merchant_key(&merchant.id), "merchant")
        .version(merchant.version)
        .data(merchant)?
        .index(Index::Gsi1, ALL_MERCHANTS, merchant.id.as_str())
        .put(condition))
}

pub fn put_api_key(key: &ApiKey, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&api_key_key(&key.id), "api_key").version(key.version).data(key)?.put(condition))
}

/// A merchant's item as versions before the listings wrote it: without its gsi1 listing. For
/// the migration's tests.
#[cfg(any(test, feature = "testing"))]
pub fn put_unlisted_merchant(merchant: &Merchant) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&merchant_key(&merchant.id), "merchant").version(merchant.version).data(merchant)?.put(Condition::NotExists))
}

/// A provider's item as versions before the listings wrote it. For the migration's tests.
#[cfg(any(test, feature = "testing"))]
pub fn put_unlisted_provider(provider: &Provider) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&provider_key(&provider.id), "provider").version(provider.version).data(provider)?.put(Condition::NotExists))
}

pub fn put_provider(provider: &Provider, condition: Condition) -> Result<Write, StoreError> {
    Ok(ItemBuilder::new(&provider_key(&provider.id), "provider")
        .version(provider.version)
        .data(provider)?
        .index(Index::Gsi1, ALL_PROVIDERS, provider.id.as_str())
        .put(condition))
}

pub async fn get_merchant(table: &dyn Table, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
    table.get(&merchant_key(id)).await?.as_ref().map(data_of).transpose()
}

pub async fn get_api_key(table: &dyn Table, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
    table.get(&api_key_key(id)).await?.as_ref().map(data_of).transpose()
}

pub async fn get_provider(table: &dyn Table, id: &ProviderId) -> Result<Option<Provider>, StoreError> {
    table.get(&provider_key(id)).await?.as_ref().map(data_of).transpose()
}

/// Every merchant, in id order (creation order: ids are ULIDs).
pub async fn list_merchants(table: &dyn Table) -> Result<Vec<Merchant>, StoreError> {
    all_of(table, ALL_MERCHANTS).await
}

/// The merchant whose id follows `after` (the first merchant without it): one Query of two
/// items, so a walk over merchants reads them one at a time wherever it resumes.
pub async fn next_merchant(table: &dyn Table, after: Option<&str>) -> Result<Option<MerchantId>, StoreError> {
    let range = after.map_or(SortRange::All, |a| SortRange::Between(a.to_owned(), "~".into()));
    let query = Query::index(Index::Gsi1, ALL_MERCHANTS).range(range).limit(2);
    for item in super::query_up_to_limit(table, &query).await?.items {
        let merchant: Merchant = data_of(&item)?;
        if after != Some(merchant.id.as_str()) {
            return Ok(Some(merchant.id));
        }
    }
    Ok(None)
}

/// The merchants listing (gsi1 `MERCHANTS`) as a part of a walk: every merchant, by id.
pub(crate) fn all_merchants_part() -> super::scan::Part {
    super::scan::Part::index(Index::Gsi1, ALL_MERCHANTS, "0", "~")
}

/// Every provider, in id order. Providers registered before the index existed are not listed
/// until their item is written again (docs/storage.md).
pub async fn list_providers(table: &dyn Table) -> Result<Vec<Provider>, StoreError> {
    all_of(table, ALL_PROVIDERS).await
}

async fn all_of<T: serde::de::DeserializeOwned>(table: &dyn Table, partition: &str) -> Result<Vec<T>, StoreError> {
    let mut records = Vec::new();
    let mut after = None;
    loop {
        let page = table.query(&Query::index(Index::Gsi1, partition).limit(100).after(after)).await?;
        for item in &page.items {
            records.push(data_of(item)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(records),
        }
    }
}

/// Puts the merchant and provider items among `keys` that lack their listing (`MERCHANTS`,
/// `PROVIDERS` in gsi1; written since those listings exist) back with it, unchanged otherwise
/// and conditional on their version. Returns how many were rewritten. For migrations: the keys
/// come from a scan of the store.
pub async fn relist(table: &dyn Table, keys: &[Key]) -> Result<usize, StoreError> {
    let mut rewritten = 0;
    for key in keys {
        let Some(item) = table.get(key).await? else { continue };
        if item.contains_key(Index::Gsi1.pk()) {
            continue;
        }
        let version = super::version_of(&item).unwrap_or(0);
        let write = if key.sk == "PROFILE" {
            put_merchant(&data_of::<Merchant>(&item)?, Condition::VersionIs(version))?
        } else {
            put_provider(&data_of::<Provider>(&item)?, Condition::VersionIs(version))?
        };
        match table.transact(vec![write]).await {
            Ok(()) => rewritten += 1,
            // Changed meanwhile: whoever changed it wrote the listing too.
            Err(StoreError::ConditionFailed { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(rewritten)
}
