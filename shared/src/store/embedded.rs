//! The embedded store: a `redb` file on local disk with ACID transactions, for `vaccount serve`
//! and the setup commands.
//!
//! Items live in one B-tree keyed `pk \0 sk`; each secondary index is a B-tree of
//! `ipk \0 isk \0 pk \0 sk` entries, and items with `expires_at` have an entry in an expiry
//! B-tree (DynamoDB's TTL), all maintained in the same write transaction as the item.
//!
//! Writes go through one writer thread that commits in groups: it takes every transaction
//! queued so far, checks and applies them one by one inside a single durable commit (a
//! transaction whose condition fails is rejected alone; the others still apply), then answers
//! them all. One fsync per write would cap the service at a few thousand writes a second; no
//! caller hears "done" before its commit is on disk.

use crate::ports::{
    Attr, Condition, Cursor, EXPIRES_AT, Index, Item, Key, PK, Page, Query, SK, SortRange, StoreError, Table, VERSION, Write,
    cursor_after, validate_cursor, validate_transaction,
};
use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::oneshot;

const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
const GSI: [TableDefinition<&[u8], ()>; 3] =
    [TableDefinition::new("gsi1"), TableDefinition::new("gsi2"), TableDefinition::new("gsi3")];
/// Items carrying `expires_at`, by that instant: DynamoDB's TTL, done by [`EmbeddedTable::purge_expired`].
const EXPIRY: TableDefinition<&[u8], ()> = TableDefinition::new("expiry");

/// Transactions applied per durable commit at most; bounds the latency a batch adds.
const MAX_GROUP: usize = 256;

struct Job {
    writes: Vec<Write>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

pub struct EmbeddedTable {
    db: Arc<Database>,
    writer: mpsc::Sender<Job>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl EmbeddedTable {
    /// Opens (or creates) the store file. Fails if another process holds it open.
    pub fn open(path: &Path) -> Result<EmbeddedTable, StoreError> {
        let db = Database::create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Unavailable(format!(
                "{} is in use by another process (is `vaccount serve` running on this data dir?)",
                path.display()
            )),
            other => unavailable(other),
        })?;
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(ITEMS).map_err(unavailable)?;
        for def in GSI.into_iter().chain([EXPIRY]) {
            txn.open_table(def).map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        let db = Arc::new(db);
        let (writer, jobs) = mpsc::channel();
        let writer_db = db.clone();
        std::thread::Builder::new()
            .name("embedded-writer".into())
            .spawn(move || write_loop(&writer_db, &jobs))
            .map_err(unavailable)?;
        Ok(EmbeddedTable { db, writer })
    }

    /// Deletes up to `limit` items whose `expires_at` is before `now` (Unix seconds), as
    /// DynamoDB's TTL does in AWS; returns how many it deleted. Readers never rely on it:
    /// an expired item still present is treated as absent by the code that reads it.
    pub async fn purge_expired(&self, now: i64, limit: usize) -> Result<usize, StoreError> {
        let db = self.db.clone();
        let purge = move || -> Result<usize, StoreError> {
            // redb admits one write transaction at a time, so this simply queues behind the
            // group writer's current commit.
            let txn = db.begin_write().map_err(unavailable)?;
            let purged = {
                let mut tables = Tables::open(&txn)?;
                let due: Vec<Vec<u8>> = {
                    let upper = expiry_prefix(now);
                    let range = tables.expiry.range::<&[u8]>(..upper.as_slice()).map_err(unavailable)?;
                    range.take(limit).map(|e| e.map(|(k, _)| k.value().to_vec())).collect::<Result<_, _>>().map_err(unavailable)?
                };
                for entry in &due {
                    let (pk, sk) = base_key_of_expiry_entry(entry)?;
                    let key = Key::new(pk, sk);
                    let old = tables.items.remove(item_key(&key.pk, &key.sk).as_slice()).map_err(unavailable)?.map(|v| decode(v.value())).transpose()?;
                    match old {
                        Some(old) => tables.unindex(&key, &old)?,
                        None => {
                            tables.expiry.remove(entry.as_slice()).map_err(unavailable)?;
                        }
                    }
                }
                due.len()
            };
            txn.commit().map_err(unavailable)?;
            Ok(purged)
        };
        tokio::task::spawn_blocking(purge).await.map_err(unavailable)?
    }
}

/// The item table and every secondary structure kept in step with it.
struct Tables<'t> {
    items: redb::Table<'t, &'static [u8], &'static [u8]>,
    gsi: [redb::Table<'t, &'static [u8], ()>; 3],
    expiry: redb::Table<'t, &'static [u8], ()>,
}

impl<'t> Tables<'t> {
    fn open(txn: &'t redb::WriteTransaction) -> Result<Tables<'t>, StoreError> {
        Ok(Tables {
            items: txn.open_table(ITEMS).map_err(unavailable)?,
            gsi: [
                txn.open_table(GSI[0]).map_err(unavailable)?,
                txn.open_table(GSI[1]).map_err(unavailable)?,
                txn.open_table(GSI[2]).map_err(unavailable)?,
            ],
            expiry: txn.open_table(EXPIRY).map_err(unavailable)?,
        })
    }

    fn index(&mut self, key: &Key, item: &Item) -> Result<(), StoreError> {
        for index in Index::ALL {
            if let Some(entry) = index_entry(index, key, item) {
                self.gsi[index_slot(index)].insert(entry.as_slice(), ()).map_err(unavailable)?;
            }
        }
        if let Some(entry) = expiry_entry(key, item) {
            self.expiry.insert(entry.as_slice(), ()).map_err(unavailable)?;
        }
        Ok(())
    }

    fn unindex(&mut self, key: &Key, old: &Item) -> Result<(), StoreError> {
        for index in Index::ALL {
            if let Some(entry) = index_entry(index, key, old) {
                self.gsi[index_slot(index)].remove(entry.as_slice()).map_err(unavailable)?;
            }
        }
        if let Some(entry) = expiry_entry(key, old) {
            self.expiry.remove(entry.as_slice()).map_err(unavailable)?;
        }
        Ok(())
    }
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let items = txn.open_table(ITEMS).map_err(unavailable)?;
        let found = items.get(item_key(&key.pk, &key.sk).as_slice()).map_err(unavailable)?;
        found.map(|v| decode(v.value())).transpose()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        validate_cursor(query)?;
        let txn = self.db.begin_read().map_err(unavailable)?;
        let items = txn.open_table(ITEMS).map_err(unavailable)?;
        let partition = [query.pk.as_bytes(), b"\0"].concat();
        let (lo, hi) = range_bounds(&partition, &query.range);
        let after = query.after.as_ref().map(|c| cursor_key(query, c));
        let lower = match (&after, query.descending) {
            (Some(a), false) if a.as_slice() >= lo.as_slice() => Bound::Excluded(a.as_slice()),
            _ => Bound::Included(lo.as_slice()),
        };
        let upper = match (&after, query.descending) {
            (Some(a), true) if a.as_slice() < hi.as_slice() => Bound::Excluded(a.as_slice()),
            _ => Bound::Excluded(hi.as_slice()),
        };
        let mut found = Vec::new();
        match query.index {
            None => {
                let range = items.range::<&[u8]>((lower, upper)).map_err(unavailable)?;
                let iter: Box<dyn Iterator<Item = _>> = if query.descending { Box::new(range.rev()) } else { Box::new(range) };
                for entry in iter.take(query.limit) {
                    let (_, v) = entry.map_err(unavailable)?;
                    found.push(decode(v.value())?);
                }
            }
            Some(index) => {
                let table = txn.open_table(GSI[index_slot(index)]).map_err(unavailable)?;
                let range = table.range::<&[u8]>((lower, upper)).map_err(unavailable)?;
                let iter: Box<dyn Iterator<Item = _>> = if query.descending { Box::new(range.rev()) } else { Box::new(range) };
                for entry in iter.take(query.limit) {
                    let (k, _) = entry.map_err(unavailable)?;
                    let (pk, sk) = base_key_of_index_entry(k.value())?;
                    let item = items.get(item_key(pk, sk).as_slice()).map_err(unavailable)?;
                    let item = item.ok_or_else(|| StoreError::Unavailable("index entry without item".into()))?;
                    found.push(decode(item.value())?);
                }
            }
        }
        let next = (found.len() == query.limit && query.limit > 0)
            .then(|| found.last().map(|last| cursor_after(query, last)))
            .flatten();
        Ok(Page { items: found, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        let (reply, answer) = oneshot::channel();
        self.writer.send(Job { writes, reply }).map_err(|_| unavailable("embedded writer stopped"))?;
        answer.await.map_err(|_| unavailable("embedded writer stopped"))?
    }
}

fn write_loop(db: &Database, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match commit_group(db, &group) {
            Ok(outcomes) => {
                for (job, outcome) in group.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(e) => {
                for job in group {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Applies each transaction of the group that passes its conditions, then commits once.
/// The outer error means nothing of the group reached the disk.
fn commit_group(db: &Database, group: &[Job]) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let mut outcomes = Vec::with_capacity(group.len());
    {
        let mut tables = Tables::open(&txn)?;
        for job in group {
            let failed = first_failed_condition(&tables.items, &job.writes)?;
            if let Some(index) = failed {
                outcomes.push(Err(StoreError::ConditionFailed { index }));
                continue;
            }
            for write in &job.writes {
                match write {
                    Write::Put { item, .. } => {
                        let key = Key::of(item).ok_or_else(|| StoreError::Invalid("item without key".into()))?;
                        let k = item_key(&key.pk, &key.sk);
                        let old = tables.items.get(k.as_slice()).map_err(unavailable)?.map(|v| decode(v.value())).transpose()?;
                        if let Some(old) = old {
                            tables.unindex(&key, &old)?;
                        }
                        let bytes = serde_json::to_vec(item).map_err(unavailable)?;
                        tables.items.insert(k.as_slice(), bytes.as_slice()).map_err(unavailable)?;
                        tables.index(&key, item)?;
                    }
                    Write::Delete { key, .. } => {
                        let k = item_key(&key.pk, &key.sk);
                        let old = tables.items.remove(k.as_slice()).map_err(unavailable)?.map(|v| decode(v.value())).transpose()?;
                        if let Some(old) = old {
                            tables.unindex(key, &old)?;
                        }
                    }
                    Write::Check { .. } => {}
                }
            }
            outcomes.push(Ok(()));
        }
    }
    txn.commit().map_err(unavailable)?;
    Ok(outcomes)
}

fn first_failed_condition(
    items: &redb::Table<&'static [u8], &'static [u8]>,
    writes: &[Write],
) -> Result<Option<usize>, StoreError> {
    for (i, write) in writes.iter().enumerate() {
        let (key, condition) = match write {
            Write::Put { item, condition } => (Key::of(item).ok_or_else(|| StoreError::Invalid("item without key".into()))?, *condition),
            Write::Delete { key, condition } | Write::Check { key, condition } => (key.clone(), *condition),
        };
        if condition == Condition::Always {
            continue;
        }
        let current = items.get(item_key(&key.pk, &key.sk).as_slice()).map_err(unavailable)?;
        let holds = match (condition, current) {
            (Condition::Always, _) => true,
            (Condition::NotExists, found) => found.is_none(),
            (Condition::Exists, found) => found.is_some(),
            (Condition::VersionIs(v), Some(found)) => {
                let item = decode(found.value())?;
                matches!(item.get(VERSION), Some(Attr::N(n)) if u64::try_from(*n).ok() == Some(v))
            }
            (Condition::VersionIs(_), None) => false,
        };
        if !holds {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

fn index_slot(index: Index) -> usize {
    match index {
        Index::Gsi1 => 0,
        Index::Gsi2 => 1,
        Index::Gsi3 => 2,
    }
}

fn item_key(pk: &str, sk: &str) -> Vec<u8> {
    [pk.as_bytes(), b"\0", sk.as_bytes()].concat()
}

/// The index entry of an item, if it carries both index attributes (sparse indexes).
fn index_entry(index: Index, key: &Key, item: &Item) -> Option<Vec<u8>> {
    match (item.get(index.pk()), item.get(index.sk())) {
        (Some(Attr::S(ipk)), Some(Attr::S(isk))) => Some(
            [ipk.as_bytes(), b"\0", isk.as_bytes(), b"\0", key.pk.as_bytes(), b"\0", key.sk.as_bytes()].concat(),
        ),
        _ => None,
    }
}

/// `expires_at` as 8 big-endian bytes that sort like the number (sign bit flipped), then the
/// item key: the expiry B-tree iterates oldest deadline first.
fn expiry_prefix(unix_seconds: i64) -> Vec<u8> {
    ((unix_seconds as u64) ^ (1 << 63)).to_be_bytes().to_vec()
}

fn expiry_entry(key: &Key, item: &Item) -> Option<Vec<u8>> {
    match item.get(EXPIRES_AT) {
        Some(Attr::N(at)) => Some([expiry_prefix(*at).as_slice(), item_key(&key.pk, &key.sk).as_slice()].concat()),
        _ => None,
    }
}

fn base_key_of_expiry_entry(entry: &[u8]) -> Result<(&str, &str), StoreError> {
    let corrupt = || StoreError::Unavailable("corrupt expiry entry".into());
    let rest = entry.get(8..).ok_or_else(corrupt)?;
    let mut parts = rest.splitn(2, |b| *b == 0);
    let pk = std::str::from_utf8(parts.next().ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    let sk = std::str::from_utf8(parts.next().ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    Ok((pk, sk))
}

fn base_key_of_index_entry(entry: &[u8]) -> Result<(&str, &str), StoreError> {
    let corrupt = || StoreError::Unavailable("corrupt index entry".into());
    let mut parts = entry.splitn(4, |b| *b == 0).skip(2);
    let pk = std::str::from_utf8(parts.next().ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    let sk = std::str::from_utf8(parts.next().ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    Ok((pk, sk))
}

/// The stored key that a cursor names, in the same byte layout as the B-tree it resumes.
fn cursor_key(query: &Query, cursor: &Cursor) -> Vec<u8> {
    let get = |name: &str| cursor.get(name).map(String::as_str).unwrap_or_default();
    match query.index {
        None => item_key(get(PK), get(SK)),
        Some(i) => [get(i.pk()), "\0", get(i.sk()), "\0", get(PK), "\0", get(SK)].concat().into_bytes(),
    }
}

/// `[lo, hi)` covering the sort keys of `range` within a partition whose keys start `partition`
/// (which ends in NUL). No key text contains NUL, and UTF-8 never contains 0xFF, which is what
/// makes these byte bounds exact.
fn range_bounds(partition: &[u8], range: &SortRange) -> (Vec<u8>, Vec<u8>) {
    match range {
        SortRange::All => {
            let mut hi = partition.to_vec();
            if let Some(last) = hi.last_mut() {
                *last = 1;
            }
            (partition.to_vec(), hi)
        }
        SortRange::BeginsWith(p) => ([partition, p.as_bytes()].concat(), [partition, p.as_bytes(), &[0xFF]].concat()),
        SortRange::Between(lo, hi) => ([partition, lo.as_bytes()].concat(), [partition, hi.as_bytes(), &[1]].concat()),
    }
}

fn decode(bytes: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Unavailable(format!("corrupt item: {e}")))
}
