//! Issuing, reading, listing and closing virtual accounts.

use super::error::Unavailable;
use super::idempotency::Receipt;
use super::{AppError, Service};
use crate::domain::event::{AccountData, PoolLowData};
use crate::domain::{AccountRequest, BankCode, EventData, MerchantId, OutboxEvent, PoolNumber, VirtualAccount, VirtualAccountId, pool::SHARDS};
use crate::ports::{Condition, Cursor, StoreError};
use crate::repo::{self, Guard, Listing, Retry, Transaction, TxError, accounts::ListFilter};
use rand::Rng;
use rand::seq::SliceRandom;

/// Candidates read per shard: enough that concurrent issues rarely pick the same one.
const CANDIDATES: usize = 8;
/// Most candidates read per shard, however high the low-water mark is set.
const MAX_PROBE: usize = 64;

/// Issuing, reading, listing and closing virtual accounts, and the pool numbers under them.
#[derive(Clone, Copy)]
pub struct Accounts<'a> {
    pub(super) service: &'a Service,
}

impl Accounts<'_> {
    /// Issues an account on a free pool number, atomically with its order claim and its
    /// `virtual_account.issued` event.
    ///
    /// `idempotency_key` is recorded on the order claim: when a retry under the same key meets
    /// its own earlier, committed attempt after the idempotency record is gone (24 h), it gets
    /// that account back instead of a conflict.
    pub async fn issue_account(self, merchant: &MerchantId, idempotency_key: Option<&str>, request: AccountRequest) -> Result<VirtualAccount, AppError> {
        self.issue_account_with(merchant, idempotency_key, request, &Receipt::none()).await
    }

    /// [`Accounts::issue_account`], its answer committed with the account (`receipt`).
    pub async fn issue_account_with(
        self,
        merchant: &MerchantId,
        idempotency_key: Option<&str>,
        request: AccountRequest,
        receipt: &Receipt<'_, VirtualAccount>,
    ) -> Result<VirtualAccount, AppError> {
        let bank = request.bank_code;
        // Numbers this request thawed itself are claimed directly: the free index may not show
        // them yet (DynamoDB indexes lag their table).
        let mut thawed: Vec<PoolNumber> = Vec::new();
        let mut thawed_once = false;
        // Each lost claim means another request won that number: the pool made progress.
        let mut retry = Retry::new();
        while retry.next().await {
            let now = self.service.clock.now();
            let (number, shard_len) = match thawed.pop() {
                Some(number) => (number, 0),
                None => match self.pick_candidate(bank).await? {
                    Some(found) => found,
                    None if !thawed_once => {
                        thawed_once = true;
                        thawed = self.thaw_cooled(bank).await?;
                        continue;
                    }
                    None => {
                        self.raise_pool_low(bank, 0).await;
                        return Err(AppError::PoolExhausted { bank: bank.code().to_owned() });
                    }
                },
            };
            let id = VirtualAccountId::generate(now);
            let claimed = number.assign(id.clone()).map_err(Unavailable::Pool)?;
            let mut account = VirtualAccount::issue(id, merchant.clone(), number.provider.clone(), number.account_number.clone(), request.clone(), now);
            // Every account gets one: whether its provider checks callbacks per payment is the
            // provider's business, and a spare secret costs nothing.
            account.provider_secret = Some(format!("ps_{}", crate::domain::merchant::new_secret()));
            let event = OutboxEvent::new(Some(merchant.clone()), EventData::AccountIssued(AccountData::of(&account)), now);
            let mut tx = Transaction::new();
            tx.push(Guard::NumberTaken, repo::pool::put_number(&claimed, Condition::VersionIs(number.version))?);
            tx.append(repo::accounts::create_account(&account, idempotency_key)?);
            tx.extend(Guard::NewItem, repo::outbox::put_event(&event)?);
            match self.service.commit_with_receipt(tx, receipt, &account).await? {
                Ok(()) => {
                    if shard_len < self.low_probe() {
                        // The account exists now: a failure here must not turn it into an error.
                        self.check_pool_low(bank).await;
                    }
                    return Ok(account);
                }
                Err(TxError::Refused(Guard::OrderTaken)) => return self.earlier_attempt(merchant, &request, idempotency_key).await,
                // Someone else claimed this number between our read and our write.
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: "could not claim a pool number; too much contention".into() }.into())
    }

    /// The order id is taken: by this very request's earlier attempt (same Idempotency-Key),
    /// whose account is the answer, or by another request, which is a conflict.
    async fn earlier_attempt(self, merchant: &MerchantId, request: &AccountRequest, idempotency_key: Option<&str>) -> Result<VirtualAccount, AppError> {
        let conflict = || AppError::Conflict(format!("order_id {} already has a virtual account", request.order_id));
        let Some(key) = idempotency_key else { return Err(conflict()) };
        let claim = repo::accounts::order_claim(self.service.table.as_ref(), merchant, &request.order_id).await?;
        match claim {
            Some(claim) if claim.idempotency_key.as_deref() == Some(key) => {
                repo::accounts::get(self.service.table.as_ref(), &claim.account).await?.ok_or_else(conflict)
            }
            _ => Err(conflict()),
        }
    }

    /// A random free number from a random shard, trying the other shards when it is empty.
    /// Also returns how many candidates the shard showed, a cheap hint that the pool runs low.
    async fn pick_candidate(self, bank: BankCode) -> Result<Option<(PoolNumber, usize)>, AppError> {
        let first_shard = rand::rng().random_range(0..SHARDS);
        let spread_start = hex::encode(rand::random::<[u8; 4]>());
        for step in 0..SHARDS {
            let shard = (first_shard + step) % SHARDS;
            let mut candidates = repo::pool::free_candidates(self.service.table.as_ref(), bank, shard, &spread_start, self.low_probe()).await?;
            let seen = candidates.len();
            candidates.shuffle(&mut rand::rng());
            if let Some(number) = candidates.into_iter().next() {
                return Ok(Some((number, seen)));
            }
        }
        Ok(None)
    }

    /// Candidates read per shard: enough to tell when a shard holds less than its share of
    /// the low-water mark.
    fn low_probe(self) -> usize {
        (self.service.settings.pool_low_threshold / SHARDS as usize + 1).clamp(CANDIDATES, MAX_PROBE)
    }

    /// Puts cooled-down numbers back on the free list and returns them as they now stand.
    async fn thaw_cooled(self, bank: BankCode) -> Result<Vec<PoolNumber>, AppError> {
        let now = self.service.clock.now();
        let mut freed = Vec::new();
        for number in repo::pool::thawable(self.service.table.as_ref(), bank, now, 64).await? {
            let Ok(free) = number.thaw(now) else { continue };
            match self.service.table.transact(vec![repo::pool::put_number(&free, Condition::VersionIs(number.version))?]).await {
                Ok(()) => freed.push(free),
                Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(freed)
    }

    /// Raises `pool.low` when fewer than the threshold are free, counting the cooled-down
    /// numbers it can thaw first. Best effort: it runs after an account was issued, and a
    /// failure is logged, never reported as the issue's failure.
    async fn check_pool_low(self, bank: BankCode) {
        let threshold = self.service.settings.pool_low_threshold;
        let counted = async {
            let free = repo::pool::count_free(self.service.table.as_ref(), bank, threshold).await?;
            if free >= threshold {
                return Ok::<_, AppError>(free);
            }
            Ok(free + self.thaw_cooled(bank).await?.len())
        };
        match counted.await {
            Ok(free) if free < threshold => self.raise_pool_low(bank, free).await,
            Ok(_) => {}
            Err(e) => tracing::error!(bank = bank.code(), error = %e, "pool low check failed"),
        }
    }

    /// At most one `pool.low` event per bank per hour: a marker item guards the event.
    /// Best effort, like the check that calls it.
    async fn raise_pool_low(self, bank: BankCode, free: usize) {
        let now = self.service.clock.now();
        let event = OutboxEvent::new(None, EventData::PoolLow(PoolLowData::of(bank, free, self.service.settings.pool_low_threshold)), now);
        let marker = repo::alerts::put_pool_low_marker(bank, now);
        let written = match repo::outbox::put_event(&event) {
            Ok(event) => self.service.table.transact([vec![marker], event.to_vec()].concat()).await,
            Err(e) => Err(e),
        };
        match written {
            Ok(()) => tracing::warn!(bank = bank.code(), free, "pool.low raised"),
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {}
            Err(e) => tracing::error!(bank = bank.code(), error = %e, "could not raise pool.low"),
        }
    }

    /// One of the merchant's accounts. Another merchant's account is "not found", never
    /// "forbidden": its existence is not ours to reveal.
    pub async fn get_account(self, merchant: &MerchantId, id: &VirtualAccountId) -> Result<VirtualAccount, AppError> {
        match repo::accounts::get(self.service.table.as_ref(), id).await? {
            Some(account) if &account.merchant_id == merchant => Ok(account),
            _ => Err(AppError::NotFound),
        }
    }

    pub async fn list_accounts(
        self,
        merchant: &MerchantId,
        order_id: Option<&crate::domain::OrderId>,
        filter: &ListFilter,
        limit: usize,
        after: Option<Cursor>,
    ) -> Result<Listing<VirtualAccount>, AppError> {
        if let Some(order) = order_id {
            // An order has at most one account: a direct read, then the other filters.
            let found = repo::accounts::find_by_order(self.service.table.as_ref(), merchant, order).await?;
            let items = found
                .filter(|a| filter.status.is_none_or(|s| a.status == s))
                .filter(|a| filter.created_from.is_none_or(|t| a.created_at >= t))
                .filter(|a| filter.created_to.is_none_or(|t| a.created_at <= t))
                .filter(|_| after.is_none())
                .into_iter()
                .collect();
            return Ok(Listing { items, next: None });
        }
        Ok(repo::accounts::list(self.service.table.as_ref(), merchant, filter, limit, after).await?)
    }

    /// The merchant cancels: the account closes, its number starts its cooldown, and
    /// `virtual_account.closed` is recorded, all in one transaction.
    pub async fn close_account(self, merchant: &MerchantId, id: &VirtualAccountId) -> Result<VirtualAccount, AppError> {
        self.close_account_with(merchant, id, &Receipt::none()).await
    }

    /// [`Accounts::close_account`], its answer committed with the close (`receipt`): a retry of
    /// a committed close is replayed, where running it again would meet a closed account.
    pub async fn close_account_with(
        self,
        merchant: &MerchantId,
        id: &VirtualAccountId,
        receipt: &Receipt<'_, VirtualAccount>,
    ) -> Result<VirtualAccount, AppError> {
        let mut retry = Retry::new();
        while retry.next().await {
            let account = self.get_account(merchant, id).await?;
            let now = self.service.clock.now();
            let closed = account.close(now).map_err(|e| AppError::Conflict(e.to_string()))?;
            let number = repo::pool::get(self.service.table.as_ref(), account.bank_code, &account.account_number)
                .await?
                .ok_or_else(|| Unavailable::Inconsistent(format!("pool item missing for {}", account.id)))?;
            let released = number.release(&account.id, now, self.service.settings.pool_cooldown).map_err(Unavailable::Pool)?;
            let event = OutboxEvent::new(Some(merchant.clone()), EventData::AccountClosed(AccountData::of(&closed)), now);
            let mut tx = Transaction::new();
            tx.push(Guard::AccountMoved, repo::accounts::put_account(&closed, Condition::VersionIs(account.version))?);
            tx.push(Guard::NumberTaken, repo::pool::put_number(&released, Condition::VersionIs(number.version))?);
            tx.extend(Guard::NewItem, repo::outbox::put_event(&event)?);
            match self.service.commit_with_receipt(tx, receipt, &closed).await? {
                Ok(()) => return Ok(closed),
                // The account or its number changed since we read them: read again and decide again.
                Err(e) if e.is_race() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: format!("account {id} kept changing while closing") }.into())
    }
}
