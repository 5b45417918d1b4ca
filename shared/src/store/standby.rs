//! The stores of a standby region: reads pass through, every transaction and every file
//! written is refused.
//!
//! Writes have one home region (docs/decisions.md); a deployment outside it must never write,
//! not even through a path nobody remembered to guard (a manual settlement re-run, a sweep).
//! So the rule is not a call each use case makes: the store is wrapped here when it is chosen
//! (`aws::table_from_env`, the CLI's `--store`), and nothing above can write through it.

use crate::ports::{BlobDownload, BlobError, BlobKey, BlobStore, Key, Page, Query, StoreError, Table, Write};
use async_trait::async_trait;

pub struct StandbyTable<T> {
    inner: T,
    home: String,
}

impl<T: Table> StandbyTable<T> {
    /// `inner` as seen from a standby of the region `home`.
    pub fn new(inner: T, home: impl Into<String>) -> StandbyTable<T> {
        StandbyTable { inner, home: home.into() }
    }
}

#[async_trait]
impl<T: Table> Table for StandbyTable<T> {
    async fn get(&self, key: &Key) -> Result<Option<crate::ports::Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn transact(&self, _writes: Vec<Write>) -> Result<(), StoreError> {
        Err(StoreError::Standby { home: self.home.clone() })
    }
}

/// The file store (the settlement bucket, replicated to the standby) as a standby may use it:
/// files are read, never written, so a settlement or reconciliation run by hand there leaves
/// no report or file behind.
pub struct StandbyBlobs<B> {
    inner: B,
    home: String,
}

impl<B: BlobStore> StandbyBlobs<B> {
    pub fn new(inner: B, home: impl Into<String>) -> StandbyBlobs<B> {
        StandbyBlobs { inner, home: home.into() }
    }
}

#[async_trait]
impl<B: BlobStore> BlobStore for StandbyBlobs<B> {
    async fn put_file(&self, _key: &BlobKey, _file: &std::path::Path, _content_type: &str) -> Result<(), BlobError> {
        Err(BlobError::Unavailable(format!("standby region: changes go to {}", self.home)))
    }

    async fn download(&self, key: &BlobKey, valid_for: std::time::Duration) -> Result<Option<BlobDownload>, BlobError> {
        self.inner.download(key, valid_for).await
    }

    async fn read(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        self.inner.read(key).await
    }
}
