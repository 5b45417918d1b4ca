//! The embedded store: a `redb` file on local disk with ACID transactions, for `vaccount serve`
//! and the setup commands.
//!
//! Items live in one B-tree keyed `pk \0 sk`; each secondary index is a B-tree of
//! `ipk \0 isk \0 pk \0 sk` entries, and items with `expires_at` have an entry in an expiry
//! B-tree (DynamoDB's TTL), all maintained in the same write transaction as the item.
//!
//! Optionally (`open_with_stream`), the store keeps a change stream like DynamoDB Streams: the
//! key of every *inserted* item with a chosen sort key (the outbox's `EVENT`) is appended, in
//! the same commit, under a sequence number that never repeats. `serve`'s dispatcher reads it
//! from a checkpoint, as the publisher Lambda reads the table's stream in AWS.
//!
//! Writes go through one writer thread that commits in groups: it takes every transaction
//! queued so far, checks and applies them one by one inside a single durable commit (a
//! transaction whose condition fails is rejected alone; the others still apply), then answers
//! them all. One fsync per write would cap the service at a few thousand writes a second; no
//! caller hears "done" before its commit is on disk.

use crate::ports::{
    Attr, Condition, Cursor, EXPIRES_AT, Index, Item, Key, PK, Page, Query, SK, SortRange, StoreError, Table, VERSION, Write, cursor_after, validate_cursor,
    validate_transaction,
};
use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use tokio::sync::oneshot;

const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
const GSI: [TableDefinition<&[u8], ()>; 3] = [TableDefinition::new("gsi1"), TableDefinition::new("gsi2"), TableDefinition::new("gsi3")];
/// Items carrying `expires_at`, by that instant: DynamoDB's TTL, done by [`EmbeddedTable::purge_expired`].
const EXPIRY: TableDefinition<&[u8], ()> = TableDefinition::new("expiry");
/// The change stream: sequence number → `pk \0 sk` of the inserted item.
/// redb's page cache. Its default (1 GiB) lets a long scan (a settlement day, a purge) grow
/// the process by as much; 128 MiB holds the hot pages of the accounts, pool and indexes, and
/// keeps `serve` within a small machine (docs/performance.md).
const CACHE_BYTES: usize = 128 * 1024 * 1024;

const STREAM: TableDefinition<u64, &[u8]> = TableDefinition::new("stream");
/// Store metadata; `stream_next` is the next sequence number, kept even when the stream is
/// trimmed empty, so a number is never handed out twice.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const STREAM_NEXT: &str = "stream_next";

/// Transactions applied per durable commit at most; bounds the latency a batch adds.
const MAX_GROUP: usize = 256;

struct Job {
    writes: Vec<Write>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

pub struct EmbeddedTable {
    db: Arc<Database>,
    writer: mpsc::Sender<Job>,
    /// The writer thread, joined on drop: it holds the database (and so the file's lock) until
    /// it has seen the channel close, and the next process to open the file must not race it.
    writer_thread: Option<std::thread::JoinHandle<()>>,
    /// Woken after every commit that appended to the stream.
    stream_grew: Arc<tokio::sync::Notify>,
    /// Tests only ([`EmbeddedTable::with_page_bytes`]): a query stops once its items reach this
    /// many bytes, as a DynamoDB Query stops at 1 MB.
    page_bytes: Option<usize>,
}

/// One entry of the change stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamRecord {
    pub sequence: u64,
    pub key: Key,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl EmbeddedTable {
    /// Opens (or creates) the store file. Fails if another process holds it open.
    pub fn open(path: &Path) -> Result<EmbeddedTable, StoreError> {
        EmbeddedTable::open_inner(path, None)
    }

    /// Opens the store with a change stream of the items inserted with sort key `stream_sk`.
    pub fn open_with_stream(path: &Path, stream_sk: &str) -> Result<EmbeddedTable, StoreError> {
        EmbeddedTable::open_inner(path, Some(stream_sk.to_owned()))
    }

    #[cfg(any(test, feature = "testing"))]
    /// The same store held in memory, for property tests that run many thousands of short
    /// histories: the same transactions, conditions and indexes, without a file.
    pub fn in_memory() -> Result<EmbeddedTable, StoreError> {
        let db = Database::builder().create_with_backend(redb::backends::InMemoryBackend::new()).map_err(unavailable)?;
        EmbeddedTable::start(db, None)
    }

    fn open_inner(path: &Path, stream_sk: Option<String>) -> Result<EmbeddedTable, StoreError> {
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                StoreError::Unavailable(format!("{} is in use by another process (is `vaccount serve` running on this data dir?)", path.display()))
            }
            other => unavailable(other),
        })?;
        EmbeddedTable::start(db, stream_sk)
    }

    /// Creates the tables and starts the writer thread.
    fn start(db: Database, stream_sk: Option<String>) -> Result<EmbeddedTable, StoreError> {
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(ITEMS).map_err(unavailable)?;
        for def in GSI.into_iter().chain([EXPIRY]) {
            txn.open_table(def).map_err(unavailable)?;
        }
        txn.open_table(STREAM).map_err(unavailable)?;
        txn.open_table(META).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        let db = Arc::new(db);
        let (writer, jobs) = mpsc::channel();
        let writer_db = db.clone();
        let stream_grew = Arc::new(tokio::sync::Notify::new());
        let notify = stream_grew.clone();
        let writer_thread = std::thread::Builder::new()
            .name("embedded-writer".into())
            .spawn(move || write_loop(&writer_db, &jobs, stream_sk.as_deref(), &notify))
            .map_err(unavailable)?;
        Ok(EmbeddedTable { db, writer, writer_thread: Some(writer_thread), stream_grew, page_bytes: None })
    }

    #[cfg(any(test, feature = "testing"))]
    /// Makes every query stop once the items it read reach `bytes` (the item that crosses the
    /// limit is not returned) and answer a cursor, as a DynamoDB Query does at 1 MB. For tests:
    /// code that reads pages must behave the same on both backends, and only this makes the
    /// embedded store return short pages.
    pub fn with_page_bytes(mut self, bytes: usize) -> EmbeddedTable {
        self.page_bytes = Some(bytes);
        self
    }

    /// Resolves when the stream may have grown since the last call (a permit is kept if nobody
    /// was waiting, so a wake-up is never lost).
    pub async fn stream_grew(&self) {
        self.stream_grew.notified().await
    }

    /// Up to `limit` stream records after sequence `after` (from the start when `None`), oldest first.
    pub async fn read_stream(&self, after: Option<u64>, limit: usize) -> Result<Vec<StreamRecord>, StoreError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let stream = txn.open_table(STREAM).map_err(unavailable)?;
        let lower = match after {
            Some(seq) => Bound::Excluded(seq),
            None => Bound::Unbounded,
        };
        let mut records = Vec::new();
        for entry in stream.range::<u64>((lower, Bound::Unbounded)).map_err(unavailable)?.take(limit) {
            let (sequence, key) = entry.map_err(unavailable)?;
            let (pk, sk) = split_item_key(key.value())?;
            records.push(StreamRecord { sequence: sequence.value(), key: Key::new(pk, sk) });
        }
        Ok(records)
    }

    /// The keys of the items whose partition key starts with `pk_prefix` and whose sort key is
    /// `sk`: a scan, for migrations only (`vaccount migrate`, `serve` at start).
    pub async fn keys_with_prefix(&self, pk_prefix: &str, sk: &str) -> Result<Vec<Key>, StoreError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let items = txn.open_table(ITEMS).map_err(unavailable)?;
        let mut found = Vec::new();
        for entry in items.range::<&[u8]>(pk_prefix.as_bytes()..).map_err(unavailable)? {
            let (key, _) = entry.map_err(unavailable)?;
            let (pk, item_sk) = split_item_key(key.value())?;
            if !pk.starts_with(pk_prefix) {
                break;
            }
            if item_sk == sk {
                found.push(Key::new(pk, item_sk));
            }
        }
        Ok(found)
    }

    /// Forgets the stream records up to and including `through` (they have been dispatched).
    pub async fn trim_stream(&self, through: u64) -> Result<(), StoreError> {
        let db = self.db.clone();
        let trim = move || -> Result<(), StoreError> {
            let txn = db.begin_write().map_err(unavailable)?;
            {
                let mut stream = txn.open_table(STREAM).map_err(unavailable)?;
                stream.retain_in::<u64, _>(..=through, |_, _| false).map_err(unavailable)?;
            }
            txn.commit().map_err(unavailable)
        };
        tokio::task::spawn_blocking(trim).await.map_err(unavailable)?
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
            gsi: [txn.open_table(GSI[0]).map_err(unavailable)?, txn.open_table(GSI[1]).map_err(unavailable)?, txn.open_table(GSI[2]).map_err(unavailable)?],
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
        let mut budget = PageBudget { left: self.page_bytes, first: true };
        let mut cut = false;
        match query.index {
            None => {
                let range = items.range::<&[u8]>((lower, upper)).map_err(unavailable)?;
                let iter: Box<dyn Iterator<Item = _>> = if query.descending { Box::new(range.rev()) } else { Box::new(range) };
                for entry in iter.take(query.limit) {
                    let (_, v) = entry.map_err(unavailable)?;
                    if !budget.admits(v.value().len()) {
                        cut = true;
                        break;
                    }
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
                    if !budget.admits(item.value().len()) {
                        cut = true;
                        break;
                    }
                    found.push(decode(item.value())?);
                }
            }
        }
        let next = ((found.len() == query.limit || cut) && query.limit > 0).then(|| found.last().map(|last| cursor_after(query, last))).flatten();
        Ok(Page { items: found, next })
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        validate_transaction(&writes)?;
        let (reply, answer) = oneshot::channel();
        self.writer.send(Job { writes, reply }).map_err(|_| unavailable("embedded writer stopped"))?;
        answer.await.map_err(|_| unavailable("embedded writer stopped"))?
    }
}

/// What is left of a query's byte limit. Like DynamoDB, the item that would cross the limit
/// is left for the next page, but a page always holds at least one item.
struct PageBudget {
    left: Option<usize>,
    first: bool,
}

impl PageBudget {
    fn admits(&mut self, bytes: usize) -> bool {
        let first = std::mem::replace(&mut self.first, false);
        match &mut self.left {
            None => true,
            Some(left) if first || bytes <= *left => {
                *left = left.saturating_sub(bytes);
                true
            }
            Some(_) => false,
        }
    }
}

impl Drop for EmbeddedTable {
    /// Closes the job channel and waits for the writer to finish the group it holds, so the
    /// file is released (once read transactions end) when the drop returns.
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.writer, mpsc::channel().0));
        if let Some(thread) = self.writer_thread.take() {
            let _ = thread.join();
        }
    }
}

fn write_loop(db: &Database, jobs: &mpsc::Receiver<Job>, stream_sk: Option<&str>, stream_grew: &tokio::sync::Notify) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        match commit_group(db, &group, stream_sk) {
            Ok((outcomes, streamed)) => {
                if streamed {
                    stream_grew.notify_one();
                }
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
fn commit_group(db: &Database, group: &[Job], stream_sk: Option<&str>) -> Result<(Vec<Result<(), StoreError>>, bool), StoreError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let mut outcomes = Vec::with_capacity(group.len());
    let mut inserted: Vec<Vec<u8>> = Vec::new();
    {
        let mut tables = Tables::open(&txn)?;
        for job in group {
            // Checked as the job is applied, in commit order: a deadline that passed while the
            // job waited in the queue refuses it, so no late event slips in behind a reader.
            if crate::ports::commit_deadline(&job.writes).is_some_and(|by| chrono::Utc::now().timestamp_millis() > by) {
                outcomes.push(Err(StoreError::DeadlinePassed));
                continue;
            }
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
                        match old {
                            Some(old) => tables.unindex(&key, &old)?,
                            None if stream_sk == Some(key.sk.as_str()) => inserted.push(k.clone()),
                            None => {}
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
    let streamed = !inserted.is_empty();
    if streamed {
        let mut meta = txn.open_table(META).map_err(unavailable)?;
        let mut stream = txn.open_table(STREAM).map_err(unavailable)?;
        let mut next = meta.get(STREAM_NEXT).map_err(unavailable)?.map_or(0, |v| v.value());
        for key in &inserted {
            stream.insert(next, key.as_slice()).map_err(unavailable)?;
            next += 1;
        }
        meta.insert(STREAM_NEXT, next).map_err(unavailable)?;
    }
    txn.commit().map_err(unavailable)?;
    Ok((outcomes, streamed))
}

fn split_item_key(key: &[u8]) -> Result<(&str, &str), StoreError> {
    let corrupt = || StoreError::Unavailable("corrupt stream entry".into());
    let mut parts = key.splitn(2, |b| *b == 0);
    let pk = std::str::from_utf8(parts.next().ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    let sk = std::str::from_utf8(parts.next().ok_or_else(corrupt)?).map_err(|_| corrupt())?;
    Ok((pk, sk))
}

fn first_failed_condition(items: &redb::Table<&'static [u8], &'static [u8]>, writes: &[Write]) -> Result<Option<usize>, StoreError> {
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
        (Some(Attr::S(ipk)), Some(Attr::S(isk))) => Some([ipk.as_bytes(), b"\0", isk.as_bytes(), b"\0", key.pk.as_bytes(), b"\0", key.sk.as_bytes()].concat()),
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
