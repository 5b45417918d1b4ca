//! Records sealed at rest. `SealedTable` wraps any `Table` and encrypts every item's `data`
//! (the record: secrets, customer names, phone numbers) with AES-256-GCM under one data key,
//! leaving in the clear only what storage needs to find and guard an item: keys, index
//! attributes, `version`, `expires_at`, `kind`. Nothing above the port knows.
//!
//! The item's own key is the additional authenticated data, so a sealed record copied onto
//! another item does not open. The data key comes from Secrets Manager in AWS and from a
//! key file in the data dir for `serve` (`aws`, `cli`).

use crate::ports::{Attr, Item, Key, Page, Query, StoreError, Table, Write};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

const DATA: &str = "data";
const PREFIX: &str = "v1.";
const NONCE_LEN: usize = 12;

/// The key that seals records.
#[derive(Clone)]
pub struct DataKey(Aes256Gcm);

impl DataKey {
    /// The key derived from a secret string (SHA-256 of it): any high-entropy text will do,
    /// such as a Secrets Manager generated password or the local key file.
    pub fn from_secret(secret: &str) -> Result<DataKey, StoreError> {
        if secret.trim().len() < 32 {
            return Err(StoreError::Invalid("the data key secret must have at least 32 characters".into()));
        }
        let key = Sha256::digest(secret.trim().as_bytes());
        Aes256Gcm::new_from_slice(&key).map(DataKey).map_err(|_| StoreError::Invalid("bad data key".into()))
    }

    fn seal(&self, key: &Key, plaintext: &[u8]) -> Result<String, StoreError> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = aad(key);
        let sealed =
            self.0.encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad }).map_err(|_| StoreError::Invalid("sealing failed".into()))?;
        Ok(format!("{PREFIX}{}", STANDARD.encode([nonce.as_slice(), &sealed].concat())))
    }

    /// Opens the sealed `data` of an item that did not come through a `SealedTable`: the
    /// table's stream carries items exactly as stored, sealed.
    pub fn open_item(&self, mut item: Item) -> Result<Item, StoreError> {
        let Some(key) = Key::of(&item) else { return Ok(item) };
        if let Some(Attr::S(text)) = item.get(DATA) {
            let plaintext = self.open(&key, text)?;
            let data: Attr = serde_json::from_slice(&plaintext).map_err(|e| StoreError::Unavailable(format!("corrupt sealed record: {e}")))?;
            item.insert(DATA.into(), data);
        }
        Ok(item)
    }

    fn open(&self, key: &Key, text: &str) -> Result<Vec<u8>, StoreError> {
        let corrupt = || StoreError::Unavailable(format!("sealed record of {}/{} does not open (wrong data key?)", key.pk, key.sk));
        let raw = text.strip_prefix(PREFIX).and_then(|b64| STANDARD.decode(b64).ok()).ok_or_else(corrupt)?;
        if raw.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        self.0.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: &aad(key) }).map_err(|_| corrupt())
    }
}

fn aad(key: &Key) -> Vec<u8> {
    [key.pk.as_bytes(), b"\0", key.sk.as_bytes()].concat()
}

pub struct SealedTable<T> {
    inner: T,
    key: DataKey,
}

impl<T: Table> SealedTable<T> {
    pub fn new(inner: T, key: DataKey) -> SealedTable<T> {
        SealedTable { inner, key }
    }

    fn seal_item(&self, mut item: Item) -> Result<Item, StoreError> {
        let Some(key) = Key::of(&item) else { return Ok(item) };
        if let Some(data) = item.remove(DATA) {
            let plaintext = serde_json::to_vec(&data).map_err(|e| StoreError::Invalid(e.to_string()))?;
            item.insert(DATA.into(), Attr::S(self.key.seal(&key, &plaintext)?));
        }
        Ok(item)
    }

    /// Opens the sealed `data` of an item read from storage.
    pub fn open_item(&self, item: Item) -> Result<Item, StoreError> {
        self.key.open_item(item)
    }
}

#[async_trait]
impl<T: Table> Table for SealedTable<T> {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await?.map(|item| self.open_item(item)).transpose()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let page = self.inner.query(query).await?;
        let items = page.items.into_iter().map(|item| self.open_item(item)).collect::<Result<_, _>>()?;
        Ok(Page { items, next: page.next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let sealed = writes
            .into_iter()
            .map(|write| match write {
                Write::Put { item, condition } => Ok(Write::Put { item: self.seal_item(item)?, condition }),
                other => Ok(other),
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.inner.transact(sealed).await
    }
}
