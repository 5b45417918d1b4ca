//! Listings read record by record over many partitions and many owners, resumable after any
//! record: what operators page through across merchants ([`super::oversight`]).
//!
//! - A [`Part`] is one partition of the table or of an index, with a sort-key range.
//! - [`Merged`] reads several parts newest first (descending sort key) and yields one record
//!   at a time. Sort keys are unique within a listing (they end in the record's id), so
//!   "strictly below the last key read" resumes the merge exactly, as [`super::merged_page`]
//!   does; a record met in two parts (same sort key) is yielded once.
//! - A [`Walk`] goes through owners (merchants in id order, then `unmatched`; or a fixed few)
//!   and merges each owner's parts. Its cursor says where it stands: inside an owner after the
//!   last key read there, or past an owner it finished. A page ends at its limit, or once it
//!   has spent its budget of store calls *and* read at least one record or finished one owner,
//!   so a filter that matches little costs bounded work per page and every page moves on.
//!   The cursor marks exactly what was read, so pages never skip or repeat a record.

use crate::ports::{Attr, Cursor, Index, Item, Query, SK, SortRange, StoreError, Table};
use async_trait::async_trait;
use std::collections::VecDeque;

/// One partition of a listing and the sort keys of it that belong to the listing (inclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    index: Option<Index>,
    pk: String,
    lo: String,
    hi: String,
}

impl Part {
    pub(crate) fn table(pk: impl Into<String>, lo: impl Into<String>, hi: impl Into<String>) -> Part {
        Part { index: None, pk: pk.into(), lo: lo.into(), hi: hi.into() }
    }

    pub(crate) fn index(index: Index, pk: impl Into<String>, lo: impl Into<String>, hi: impl Into<String>) -> Part {
        Part { index: Some(index), pk: pk.into(), lo: lo.into(), hi: hi.into() }
    }

    fn sort_key_name(&self) -> &'static str {
        self.index.map_or(SK, Index::sk)
    }
}

struct Head {
    part: Part,
    /// The part's upper bound, lowered to where the listing resumes.
    hi: String,
    buffered: VecDeque<(String, Item)>,
    after: Option<Cursor>,
    exhausted: bool,
}

/// Several parts merged newest first, read a store page at a time per part.
pub(crate) struct Merged<'a> {
    table: &'a dyn Table,
    heads: Vec<Head>,
    /// The key the listing resumes after: the parts' ranges are inclusive, so it is dropped.
    skip: Option<String>,
    page: usize,
    last: Option<String>,
}

impl<'a> Merged<'a> {
    /// The records of `parts` with sort keys below `resume` (all of them without it), read
    /// `page` items per store call.
    pub(crate) fn new(table: &'a dyn Table, parts: Vec<Part>, resume: Option<&str>, page: usize) -> Merged<'a> {
        let heads = parts
            .into_iter()
            .map(|part| {
                let hi = match resume {
                    Some(r) if r < part.hi.as_str() => r.to_owned(),
                    _ => part.hi.clone(),
                };
                // An empty range is never asked for: DynamoDB refuses a BETWEEN whose bounds are reversed.
                let exhausted = part.lo > hi;
                Head { part, hi, buffered: VecDeque::new(), after: None, exhausted }
            })
            .collect();
        Merged { table, heads, skip: resume.map(str::to_owned), page: page.max(1), last: None }
    }

    /// Reads on until every part has a head or is done: the merge needs every part's head. A
    /// page may come back short or empty with more to read (DynamoDB stops at 1 MB).
    async fn fill(&mut self, calls: &mut usize) -> Result<(), StoreError> {
        for head in &mut self.heads {
            while head.buffered.is_empty() && !head.exhausted {
                let query = Query {
                    index: head.part.index,
                    pk: head.part.pk.clone(),
                    range: SortRange::Between(head.part.lo.clone(), head.hi.clone()),
                    descending: true,
                    limit: self.page,
                    after: head.after.take(),
                };
                let page = self.table.query(&query).await?;
                *calls += 1;
                let name = head.part.sort_key_name();
                for item in page.items {
                    let Some(Attr::S(sk)) = item.get(name) else { continue };
                    if self.skip.as_deref() != Some(sk.as_str()) {
                        head.buffered.push_back((sk.clone(), item));
                    }
                }
                head.exhausted = page.next.is_none();
                head.after = page.next;
            }
        }
        Ok(())
    }

    /// The next record (its sort key and item), newest first; `None` once every part is read.
    pub(crate) async fn next(&mut self, calls: &mut usize) -> Result<Option<(String, Item)>, StoreError> {
        loop {
            self.fill(calls).await?;
            let newest = self.heads.iter_mut().filter(|h| !h.buffered.is_empty()).max_by(|a, b| a.buffered[0].0.cmp(&b.buffered[0].0));
            let Some((sk, item)) = newest.and_then(|head| head.buffered.pop_front()) else { return Ok(None) };
            if self.last.as_deref() == Some(sk.as_str()) {
                continue;
            }
            self.last = Some(sk.clone());
            return Ok(Some((sk, item)));
        }
    }

    /// Whether every record has been read (at most one store call per part to tell).
    pub(crate) async fn finished(&mut self, calls: &mut usize) -> Result<bool, StoreError> {
        self.fill(calls).await?;
        Ok(self.heads.iter().all(|h| h.buffered.is_empty() && h.exhausted))
    }
}

/// Whose records a walk goes through, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Owners {
    /// These owners, in ascending order.
    Listed(Vec<String>),
    /// Every merchant in id order (`repo::merchants::next_merchant`), then `then` in
    /// ascending order: names that sort after every merchant id (`unmatched`).
    Merchants { then: Vec<String> },
}

impl Owners {
    pub(crate) fn one(owner: impl Into<String>) -> Owners {
        Owners::Listed(vec![owner.into()])
    }

    pub(crate) fn listed(mut owners: Vec<String>) -> Owners {
        owners.sort();
        owners.dedup();
        Owners::Listed(owners)
    }

    /// The first owner after `after` (the first of all without it).
    async fn after(&self, table: &dyn Table, after: Option<&str>, calls: &mut usize) -> Result<Option<String>, StoreError> {
        let later = |o: &&String| after.is_none_or(|a| o.as_str() > a);
        match self {
            Owners::Listed(owners) => Ok(owners.iter().find(later).cloned()),
            Owners::Merchants { then } => {
                *calls += 1;
                if let Some(merchant) = super::merchants::next_merchant(table, after).await? {
                    return Ok(Some(merchant.to_string()));
                }
                Ok(then.iter().find(later).cloned())
            }
        }
    }

    /// Whether a cursor may name `owner`.
    fn admits(&self, owner: &str) -> bool {
        match self {
            Owners::Listed(owners) => owners.iter().any(|o| o == owner),
            Owners::Merchants { then } => then.iter().any(|o| o == owner) || owner.parse::<crate::domain::MerchantId>().is_ok(),
        }
    }
}

/// Where an owner's records are, and which of them a listing keeps.
#[async_trait]
pub(crate) trait Source: Send + Sync {
    type Record: Send;

    /// The parts holding `owner`'s records; every store call made to find them adds one to `calls`.
    async fn parts(&self, table: &dyn Table, owner: &str, calls: &mut usize) -> Result<Vec<Part>, StoreError>;

    /// The record `item` stands for, when the listing's filter keeps it.
    fn keep(&self, owner: &str, item: &Item) -> Result<Option<Self::Record>, StoreError>;
}

/// Where a walk stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    Start,
    /// Inside `owner`, after the record with sort key `after`.
    Within {
        owner: String,
        after: String,
    },
    /// Done with `owner`; the next owner is next.
    Past {
        owner: String,
    },
}

const WALK: &str = "walk";
const OWNER: &str = "owner";
const AFTER: &str = "after";
const PAST: &str = "past";

/// What a fold could not read: owners cut short at their share, and whether owners were left
/// unread once the total was spent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub cut: Vec<String>,
    pub unread: bool,
}

impl Coverage {
    pub fn complete(&self) -> bool {
        self.cut.is_empty() && !self.unread
    }
}

/// A listing over owners: its name (which cursors carry, so one listing's cursor is refused
/// by another), whose records, where they are, and how many items a store call reads.
pub(crate) struct Walk<'a, S> {
    pub table: &'a dyn Table,
    pub name: &'static str,
    pub owners: Owners,
    pub source: S,
    pub page: usize,
}

impl<S: Source> Walk<'_, S> {
    fn decode(&self, cursor: Option<Cursor>) -> Result<Position, StoreError> {
        let Some(cursor) = cursor else { return Ok(Position::Start) };
        if cursor.get(WALK).map(String::as_str) != Some(self.name) {
            return Err(StoreError::InvalidCursor);
        }
        let position = match (cursor.len(), cursor.get(OWNER), cursor.get(AFTER), cursor.get(PAST)) {
            (3, Some(owner), Some(after), None) if !after.is_empty() => Position::Within { owner: owner.clone(), after: after.clone() },
            (2, None, None, Some(owner)) => Position::Past { owner: owner.clone() },
            _ => return Err(StoreError::InvalidCursor),
        };
        match &position {
            Position::Within { owner, .. } | Position::Past { owner } if !self.owners.admits(owner) => Err(StoreError::InvalidCursor),
            _ => Ok(position),
        }
    }

    fn encode(&self, position: &Position) -> Option<Cursor> {
        let pairs: Vec<(&str, &str)> = match position {
            Position::Start => return None,
            Position::Within { owner, after } => vec![(OWNER, owner), (AFTER, after)],
            Position::Past { owner } => vec![(PAST, owner)],
        };
        Some(pairs.into_iter().chain([(WALK, self.name)]).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    /// Up to `limit` kept records, newest first within each owner, from where `cursor` stands.
    /// Stops early once `budget` store calls are spent and something was read; the page may
    /// then be short or empty, and only a missing `next` means the walk is over.
    pub(crate) async fn page(&self, limit: usize, cursor: Option<Cursor>, budget: usize) -> Result<super::Listing<S::Record>, StoreError> {
        let limit = limit.max(1);
        let mut mark = self.decode(cursor)?;
        let mut calls = 0;
        let mut progress = false;
        let mut items = Vec::new();
        loop {
            if progress && calls >= budget {
                return Ok(super::Listing { items, next: self.encode(&mark) });
            }
            let (owner, resume) = match &mark {
                Position::Within { owner, after } => (owner.clone(), Some(after.clone())),
                Position::Past { owner } => match self.owners.after(self.table, Some(owner), &mut calls).await? {
                    Some(next) => (next, None),
                    None => return Ok(super::Listing { items, next: None }),
                },
                Position::Start => match self.owners.after(self.table, None, &mut calls).await? {
                    Some(first) => (first, None),
                    None => return Ok(super::Listing { items, next: None }),
                },
            };
            let parts = self.source.parts(self.table, &owner, &mut calls).await?;
            let mut merged = Merged::new(self.table, parts, resume.as_deref(), self.page);
            loop {
                if progress && calls >= budget {
                    return Ok(super::Listing { items, next: self.encode(&mark) });
                }
                let Some((sk, item)) = merged.next(&mut calls).await? else {
                    mark = Position::Past { owner: owner.clone() };
                    progress = true;
                    break;
                };
                mark = Position::Within { owner: owner.clone(), after: sk };
                progress = true;
                if let Some(record) = self.source.keep(&owner, &item)? {
                    items.push(record);
                }
                if items.len() >= limit {
                    // Say "the end" when it is: this owner read to the end and no owner after it.
                    if merged.finished(&mut calls).await? {
                        mark = Position::Past { owner: owner.clone() };
                        if self.owners.after(self.table, Some(&owner), &mut calls).await?.is_none() {
                            return Ok(super::Listing { items, next: None });
                        }
                    }
                    return Ok(super::Listing { items, next: self.encode(&mark) });
                }
            }
        }
    }

    /// Visits every kept record of every owner, newest first within each owner, reading at
    /// most `per_owner` records of one owner and `total` in all.
    pub(crate) async fn fold(&self, per_owner: usize, total: usize, mut visit: impl FnMut(&str, S::Record) + Send) -> Result<Coverage, StoreError> {
        let mut calls = 0;
        let mut read = 0;
        let mut coverage = Coverage::default();
        let mut next = self.owners.after(self.table, None, &mut calls).await?;
        while let Some(owner) = next {
            if read >= total {
                coverage.unread = true;
                break;
            }
            let parts = self.source.parts(self.table, &owner, &mut calls).await?;
            let mut merged = Merged::new(self.table, parts, None, self.page);
            let mut of_owner = 0;
            loop {
                if of_owner >= per_owner || read >= total {
                    if !merged.finished(&mut calls).await? {
                        coverage.cut.push(owner.clone());
                    }
                    break;
                }
                let Some((_, item)) = merged.next(&mut calls).await? else { break };
                of_owner += 1;
                read += 1;
                if let Some(record) = self.source.keep(&owner, &item)? {
                    visit(&owner, record);
                }
            }
            next = self.owners.after(self.table, Some(&owner), &mut calls).await?;
        }
        Ok(coverage)
    }
}
