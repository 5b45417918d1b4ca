//! The store of a standby region: reads pass through, every transaction is refused.
//!
//! Writes have one home region (docs/decisions.md); a deployment outside it must never write,
//! not even through a path nobody remembered to guard (a manual settlement re-run, a sweep).
//! So the rule is not a call each use case makes: the store is wrapped here when it is chosen
//! (`aws::table_from_env`, the CLI's `--store`), and nothing above can write through it.

use crate::ports::{Key, Page, Query, StoreError, Table, Write};
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
