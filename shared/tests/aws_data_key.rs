//! The data key of a deployed stack comes from Secrets Manager (moto here), and records sealed
//! with it open only with the same secret.

use std::sync::Arc;
use vaccount::ports::{Attr, Condition, Item, Key, Table, Write};
use vaccount::store::{DataKey, EmbeddedTable, SealedTable};
use vaccount::testing::moto_config;

fn record(pk: &str) -> Item {
    [
        ("pk".to_owned(), Attr::S(pk.into())),
        ("sk".to_owned(), Attr::S("S".into())),
        ("data".to_owned(), Attr::M([("secret".to_owned(), Attr::S("hunter2".into()))].into_iter().collect())),
    ]
    .into_iter()
    .collect()
}

#[tokio::test]
async fn the_data_key_comes_from_secrets_manager_and_opens_only_its_own_records() {
    let config = moto_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("vaccount-test-data-key-{}", ulid::Ulid::new());
    secrets.create_secret().name(&name).secret_string("Zx8-generated-password-of-sixty-four-characters-000000000000000").send().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let raw = Arc::new(EmbeddedTable::open(&dir.path().join("t.redb")).unwrap());
    let writer = SealedTable::new(raw.clone(), vaccount::aws::data_key(&config, &name).await.unwrap());
    writer.transact(vec![Write::Put { item: record("P"), condition: Condition::NotExists }]).await.unwrap();

    // A cold start reads the same secret and opens what the last one sealed.
    let reader = SealedTable::new(raw.clone(), vaccount::aws::data_key(&config, &name).await.unwrap());
    assert_eq!(reader.get(&Key::new("P", "S")).await.unwrap(), Some(record("P")));
    // Another key cannot, and the raw store holds no plain text.
    let stranger = SealedTable::new(raw.clone(), DataKey::from_secret("another-secret-of-at-least-thirty-two-chars").unwrap());
    assert!(stranger.get(&Key::new("P", "S")).await.is_err());
    assert!(!format!("{:?}", raw.get(&Key::new("P", "S")).await.unwrap()).contains("hunter2"));

    let missing = vaccount::aws::data_key(&config, "vaccount-no-such-secret").await;
    assert!(missing.is_err());
}
