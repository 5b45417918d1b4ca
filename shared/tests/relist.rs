//! Migration: merchants and providers stored before their listings existed are found by a scan
//! of either backend and rewritten with the listing, once, and unchanged otherwise.

use std::sync::Arc;
use vaccount::domain::{Fee, Krw, Merchant, MerchantId, Provider, ProviderKind};
use vaccount::ports::{Attr, Condition, Key, Table, Write};
use vaccount::repo::data_of;
use vaccount::repo::merchants::{LISTED_RECORDS, list_merchants, list_providers, merchant_key, put_unlisted_merchant, put_unlisted_provider, relist};
use vaccount::testing::{dynamo_table, fixtures::fixture_time, sealed};

fn old_merchant(id: &str) -> Merchant {
    Merchant {
        id: id.parse().unwrap(),
        name: "Old Mall".into(),
        fee: Fee::PerDeposit(Krw::new(300)),
        payout_days: 2,
        active_keys: vec![],
        created_at: fixture_time(),
        version: 3,
        policy: Default::default(),
    }
}

fn old_provider() -> Provider {
    Provider { id: "oldbank".parse().unwrap(), kind: ProviderKind::Generic, secret: "s".into(), allowed_ips: vec![], created_at: fixture_time(), version: 1 }
}

/// The items as an older version wrote them: no gsi1 listing attributes.
async fn plant_old_items(table: &dyn Table) -> MerchantId {
    let merchant = old_merchant("mch_01KWFX00000000000000000D01");
    let provider = old_provider();
    table.transact(vec![put_unlisted_merchant(&merchant).unwrap(), put_unlisted_provider(&provider).unwrap()]).await.unwrap();
    merchant.id
}

async fn check(table: &dyn Table, keys: Vec<Key>, merchant: &MerchantId) {
    assert!(list_merchants(table).await.unwrap().is_empty(), "not listed before the migration");
    assert_eq!(keys.len(), 2, "the scan finds the merchant and the provider, nothing else: {keys:?}");
    assert_eq!(relist(table, &keys).await.unwrap(), 2);
    let listed = list_merchants(table).await.unwrap();
    assert_eq!(listed.iter().map(|m| &m.id).collect::<Vec<_>>(), [merchant]);
    assert_eq!(listed[0], old_merchant(merchant.as_str()), "unchanged but for the listing");
    assert_eq!(list_providers(table).await.unwrap().len(), 1);
    let item = table.get(&merchant_key(merchant)).await.unwrap().unwrap();
    assert_eq!(data_of::<Merchant>(&item).unwrap().version, 3);
    assert_eq!(relist(table, &keys).await.unwrap(), 0, "a second run has nothing to do");
}

#[tokio::test]
async fn an_embedded_store_is_relisted() {
    let dir = tempfile::tempdir().unwrap();
    let raw = Arc::new(vaccount::store::EmbeddedTable::open(&dir.path().join("v.redb")).unwrap());
    let table = sealed(raw.clone());
    let merchant = plant_old_items(table.as_ref()).await;
    // A settlement record shares the merchant's partition and must not be taken for it.
    let settlement = [("pk", format!("MCH#{merchant}")), ("sk", "STL#2026-11-24".to_owned()), ("kind", "settlement".to_owned())];
    let item = settlement.into_iter().map(|(name, value)| (name.to_owned(), Attr::S(value))).collect();
    table.transact(vec![Write::Put { item, condition: Condition::NotExists }]).await.unwrap();
    let mut keys = Vec::new();
    for (pk_prefix, sk) in LISTED_RECORDS {
        keys.extend(raw.keys_with_prefix(pk_prefix, sk).await.unwrap());
    }
    check(table.as_ref(), keys, &merchant).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_table_is_relisted() {
    let raw = dynamo_table().await;
    let table = sealed(Arc::new(raw.clone()));
    let merchant = plant_old_items(table.as_ref()).await;
    let mut keys = Vec::new();
    for (pk_prefix, sk) in LISTED_RECORDS {
        keys.extend(raw.keys_with_prefix(pk_prefix, sk).await.unwrap());
    }
    check(table.as_ref(), keys, &merchant).await;
    raw.delete_table().await.unwrap();
}
