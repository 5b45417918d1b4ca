//! The audit log: every admin action and login, appended to one hash chain
//! (`domain::operator::AuditEntry`), never updated or deleted; and its verifier.

use super::{AppError, Service};
use crate::domain::operator::{AuditAction, AuditEntry, AuditRecord, BrokenLink, GENESIS_HASH, Role, verify_chain};
use crate::ports::Cursor;
use crate::repo::{self, Listing, Retry, Transaction, TxError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::net::IpAddr;

/// Where a request came from, for the audit log and the allowlists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// What an audit entry says beyond who and where: the action, its target and the change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: AuditAction,
    pub target: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn of(action: AuditAction, target: impl Into<Option<String>>) -> Change {
        Change { action, target: target.into(), before: None, after: None }
    }

    pub fn diff(mut self, before: &impl Serialize, after: &impl Serialize) -> Change {
        self.before = serde_json::to_value(before).ok();
        self.after = serde_json::to_value(after).ok();
        self
    }
}

/// The verifier's answer: `{"entries": N, "ok": true}`, or the first broken link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub entries: u64,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken: Option<BrokenLink>,
}

/// Entries are read this many at a time by the verifier and exports.
const PAGE: usize = 500;

/// Entries one filtered page of [`Audit::list`] reads at most.
pub const FILTER_READ: usize = 5_000;

/// How much older an entry's time may be than one appended before it: each append takes the
/// time before it races for the head (`record`), so times follow the chain only within the
/// few seconds a retried append takes.
pub const AT_SKEW: chrono::Duration = chrono::Duration::minutes(1);

/// Which audit entries to list. Every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// The operator acting (or the name a failed login tried), exactly.
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    /// The entry's time window, inclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditQuery {
    pub fn admits(&self, entry: &AuditEntry) -> bool {
        let r = &entry.record;
        self.actor.as_ref().is_none_or(|a| &r.actor == a)
            && self.action.is_none_or(|a| r.action == a)
            && self.from.is_none_or(|from| r.at >= from)
            && self.to.is_none_or(|to| r.at <= to)
    }

    fn is_empty(&self) -> bool {
        *self == AuditQuery::default()
    }
}

/// The audit log.
#[derive(Clone, Copy)]
pub struct Audit<'a> {
    pub(super) service: &'a Service,
}

impl Audit<'_> {
    /// Appends one entry after the current head. Appends race only with each other (the head's
    /// version), at human rates, so the hot retry rule settles them.
    pub async fn record(self, actor: &str, role: Option<Role>, change: Change, origin: &Origin) -> Result<AuditEntry, AppError> {
        let record = AuditRecord {
            actor: actor.to_owned(),
            role,
            action: change.action,
            target: change.target,
            before: change.before,
            after: change.after,
            ip: origin.ip.map(|ip| ip.to_string()),
            user_agent: origin.user_agent.clone(),
            at: self.service.clock.now(),
        };
        let table = self.service.table.as_ref();
        let mut retry = Retry::hot();
        loop {
            let (seq, prev, version) = match repo::audit::head(table).await? {
                Some((head, version)) => (head.seq + 1, head.hash, version),
                None => (1, GENESIS_HASH.to_owned(), 0),
            };
            let entry = AuditEntry::chain(seq, record.clone(), &prev);
            let tx = Transaction::of(repo::Guard::Moved, repo::audit::append(&entry, version)?);
            match tx.commit(table).await {
                Ok(()) => return Ok(entry),
                Err(e) if e.is_race() && retry.next().await => continue,
                Err(e @ TxError::Refused(_)) | Err(e @ TxError::Conflict) | Err(e @ TxError::Store(_)) => return Err(e.into()),
            }
        }
    }

    /// Records an entry where the action already happened: a failure to append is logged
    /// loudly but does not turn a done action into an error the operator would retry.
    pub async fn note(self, actor: &str, role: Option<Role>, change: Change, origin: &Origin) {
        let action = change.action.as_str();
        if let Err(e) = self.record(actor, role, change, origin).await {
            tracing::error!(action, error = %e, "audit entry not written");
        }
    }

    pub async fn newest_first(self, limit: usize, after: Option<Cursor>) -> Result<Listing<AuditEntry>, AppError> {
        Ok(repo::audit::newest_first(self.service.table.as_ref(), limit, after).await?)
    }

    /// Entries newest first that `query` admits. The filters are applied while reading: a page
    /// answers once it has `limit` entries or has read [`FILTER_READ`], so it may be short,
    /// even empty, and still have a cursor; only a missing cursor ends the listing. With
    /// `from`, the read stops at the first entry older than it by more than [`AT_SKEW`].
    pub async fn list(self, query: &AuditQuery, limit: usize, after: Option<Cursor>) -> Result<Listing<AuditEntry>, AppError> {
        if let (Some(from), Some(to)) = (query.from, query.to)
            && from > to
        {
            return Err(AppError::field("from", "must not be after to"));
        }
        let table = self.service.table.as_ref();
        let limit = limit.max(1);
        let chunk = if query.is_empty() { limit } else { PAGE };
        let (mut cursor, mut items, mut read) = (after, Vec::new(), 0);
        loop {
            let page = repo::audit::newest_first(table, chunk, cursor).await?;
            for entry in page.items {
                if query.from.is_some_and(|from| entry.record.at < from - AT_SKEW) {
                    return Ok(Listing { items, next: None });
                }
                read += 1;
                let seq = entry.seq;
                if query.admits(&entry) {
                    items.push(entry);
                }
                if items.len() >= limit || read >= FILTER_READ {
                    return Ok(Listing { items, next: (seq > 1).then(|| repo::audit::before(seq)) });
                }
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(Listing { items, next: None }),
            }
        }
    }

    /// Walks the chain from the first entry: every entry in sequence, linked to the one before
    /// and matching its own hash, and the head naming the last one.
    pub async fn verify(self) -> Result<ChainReport, AppError> {
        let table = self.service.table.as_ref();
        let head = repo::audit::head(table).await?.map(|(h, _)| h);
        let mut at = (0u64, GENESIS_HASH.to_owned());
        loop {
            let page = repo::audit::from(table, at.0 + 1, PAGE).await?;
            let last = page.len() < PAGE;
            match verify_chain(&page, at.clone()) {
                Ok(next) => at = next,
                Err(broken) => return Ok(ChainReport { entries: broken.seq.saturating_sub(1), ok: false, broken: Some(broken) }),
            }
            if last {
                break;
            }
        }
        let head_ok = match &head {
            Some(head) => head.seq == at.0 && head.hash == at.1,
            None => at.0 == 0,
        };
        if !head_ok {
            let seq = head.map_or(1, |h| h.seq.min(at.0 + 1));
            return Ok(ChainReport { entries: at.0, ok: false, broken: Some(BrokenLink { seq, reason: "the chain's head does not name its last entry" }) });
        }
        Ok(ChainReport { entries: at.0, ok: true, broken: None })
    }
}
