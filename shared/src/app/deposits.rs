//! Provider notices (deposits and reversals), recorded exactly once, and the merchant's views
//! of deposits.
//!
//! A deposit costs one consistent read of the account its number belongs to and one
//! transaction: the notice item (its idempotency record, `attribute_not_exists`), the deposit
//! reference, the account (conditional on the version read) and the outbox events. A
//! redelivered notice fails at the notice item and is answered from it; a deposit that raced
//! another one to the same account fails at the account and is judged again on a fresh read.

use super::error::Unavailable;
use super::settlements::book;
use super::{AppError, Service};
use crate::domain::deposit::{self, Deposit, DepositNotice, DepositStatus, Judgement, Reversal, ReversalError, ReversalNotice};
use crate::domain::event::DepositData;
use crate::domain::settlement;
use crate::domain::{DepositId, EventData, Fee, Krw, MerchantId, OutboxEvent, ProviderId, TransactionId, VirtualAccount, VirtualAccountId};
use crate::ports::{Condition, Cursor, NoticeLookup, StoreError, Table};
use crate::providers::{NoticeRequest, ProviderError, ProviderNotice, reader_for};
use crate::repo::deposits::{DepositFilter, NoticeRecord, ReversalClaim};
use crate::repo::{self, Guard, Listing, Retry, Transaction, TxError};
use async_trait::async_trait;
use serde::Serialize;

/// What a provider hears once its notice is durably recorded (docs/openapi.yaml): `ok` with the deposit,
/// or `ignored` for a genuine notice that records nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeAnswer {
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deposit_id: Option<DepositId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DepositStatus>,
}

impl NoticeAnswer {
    fn of(deposit: &Deposit) -> NoticeAnswer {
        NoticeAnswer { result: "ok", deposit_id: Some(deposit.id.clone()), status: Some(deposit.status) }
    }

    fn of_reversal(claim: &ReversalClaim) -> NoticeAnswer {
        NoticeAnswer { result: "ok", deposit_id: Some(claim.deposit_id.clone()), status: Some(claim.answered.unwrap_or(DepositStatus::Reversed)) }
    }

    fn ignored() -> NoticeAnswer {
        NoticeAnswer { result: "ignored", deposit_id: None, status: None }
    }
}

/// Provider notices (deposits and reversals) and the merchant's views of deposits.
#[derive(Clone, Copy)]
pub struct Deposits<'a> {
    pub(super) service: &'a Service,
}

impl Deposits<'_> {
    /// A provider's callback, as received: the provider is looked up, its source address
    /// checked against its allowlist, the notice verified and read by the reader of the
    /// provider's kind, then recorded. An unknown provider, an address the provider does not
    /// send from and a bad signature all get the same answer, so provider ids cannot be found
    /// by probing.
    pub async fn receive_notice(self, provider: &str, request: &NoticeRequest) -> Result<NoticeAnswer, AppError> {
        let denied = || AppError::from(ProviderError::Unrecognised);
        let Ok(id) = provider.parse::<ProviderId>() else { return Err(denied()) };
        let Some(provider) = repo::merchants::get_provider(self.service.table.as_ref(), &id).await? else { return Err(denied()) };
        let source = request.source;
        if !provider.allowed_ips.is_empty() && !source.is_some_and(|ip| provider.allowed_ips.contains(&ip)) {
            tracing::warn!(provider = %provider.id, source = ?source, "notice from an address outside the provider's allowlist");
            return Err(denied());
        }
        let lookup = StoredNotices { table: self.service.table.as_ref() };
        match reader_for(provider.kind).read(&provider, request, &lookup).await? {
            ProviderNotice::Deposit(deposit) => self.record_deposit(deposit).await,
            ProviderNotice::Reversal(reversal) => self.reverse_deposit(reversal).await,
            ProviderNotice::PartialReversal(reversal, amount) => self.reverse(reversal, Some(amount)).await,
            ProviderNotice::Ignored => Ok(NoticeAnswer::ignored()),
        }
    }

    /// Records a deposit notice and its effect, exactly once per (provider, transaction id).
    ///
    /// A notice that lost the race for its account to another deposit is judged again on a
    /// fresh read ([`Retry::hot`]: many deposits may be in flight to one fixed account).
    pub async fn record_deposit(self, notice: DepositNotice) -> Result<NoticeAnswer, AppError> {
        let mut not_before = None;
        let mut terms = None;
        let mut retry = Retry::hot();
        while retry.next().await {
            let now = self.service.clock.now();
            // A number is ours through the provider that handed it out: another provider's
            // notice about it is a deposit to a number that provider does not know us for.
            let account = repo::accounts::latest_on_number(self.service.table.as_ref(), notice.bank_code, &notice.account_number)
                .await?
                .filter(|a| a.provider == notice.provider);
            let mut judgement = deposit::match_deposit(DepositId::generate(now), account.as_ref(), notice.clone(), now)?;
            if let Some(after) = judgement.account.as_ref().filter(|_| judgement.deposit.credited.is_positive()) {
                let fee = self.fee_terms(&mut terms, &after.merchant_id).await?;
                judgement.deposit.fee_terms = Some(fee);
            }
            let tx = self.deposit_writes(account.as_ref(), &judgement, now, not_before)?;
            match tx.commit(self.service.table.as_ref()).await {
                Ok(()) => return Ok(NoticeAnswer::of(&judgement.deposit)),
                Err(TxError::Refused(Guard::AlreadyRecorded)) => {
                    match repo::deposits::get_notice(self.service.table.as_ref(), &notice.provider, &notice.transaction_id).await? {
                        Some(NoticeRecord::Deposit(d)) => return Ok(NoticeAnswer::of(&d)),
                        // A reversal recorded, before reversals had a key of their own, under the id
                        // this deposit now uses: it moves to its own key, and the deposit is recorded.
                        Some(NoticeRecord::Reversal(claim)) => self.move_legacy_reversal(&claim).await?,
                        None => return Err(Unavailable::Inconsistent("a notice failed its condition but is not stored".into()).into()),
                    }
                }
                Err(TxError::Refused(Guard::DaySealed(day))) => not_before = day.succ_opt(),
                Err(e) if e.is_race() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: "the account kept changing while recording a deposit".into() }.into())
    }

    async fn move_legacy_reversal(self, claim: &ReversalClaim) -> Result<(), AppError> {
        let mut tx = Transaction::new();
        tx.extend(Guard::AlreadyDone, repo::deposits::move_legacy_reversal(claim)?);
        match tx.commit(self.service.table.as_ref()).await {
            // Moved, or moved by a concurrent notice: either way the deposit's key is free now.
            Ok(()) => Ok(()),
            Err(e) if e.is_race() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The merchant's fee terms now, read once per notice (`cached`): a movement settles at
    /// the terms in force when it is recorded.
    pub(crate) async fn fee_terms(self, cached: &mut Option<(MerchantId, Fee)>, merchant: &MerchantId) -> Result<Fee, AppError> {
        if let Some((id, fee)) = cached.as_ref()
            && id == merchant
        {
            return Ok(*fee);
        }
        let fee = repo::merchants::get_merchant(self.service.table.as_ref(), merchant).await?.ok_or(AppError::NotFound)?.fee;
        *cached = Some((merchant.clone(), fee));
        Ok(fee)
    }

    fn deposit_writes(
        self,
        before: Option<&VirtualAccount>,
        judgement: &Judgement,
        now: chrono::DateTime<chrono::Utc>,
        not_before: Option<chrono::NaiveDate>,
    ) -> Result<Transaction, AppError> {
        let deposit = &judgement.deposit;
        let mut tx = repo::deposits::create_deposit(deposit)?;
        let mut entries = Vec::new();
        if let (Some(before), Some(after)) = (before, &judgement.account) {
            tx.push(Guard::AccountMoved, repo::accounts::put_account(after, Condition::VersionIs(before.version))?);
            entries.extend(deposit.fee_terms.and_then(|terms| settlement::entry_of_match(deposit, after, terms, now)));
        }
        let shown = judgement.account.as_ref().or(before);
        tx.extend(Guard::NewItem, repo::outbox::put_event(&OutboxEvent::new(deposit.merchant_id.clone(), EventData::recorded_deposit(deposit, shown), now))?);
        if let Some(balance) = judgement.account.as_ref().and_then(|after| EventData::balance(deposit, after)) {
            tx.extend(Guard::NewItem, repo::outbox::put_event(&OutboxEvent::new(deposit.merchant_id.clone(), balance, now))?);
        }
        book(&mut tx, entries, now, not_before)?;
        Ok(tx)
    }

    /// A reversal notice seen before: answered from its record.
    async fn answer_reversal_again(self, provider: &ProviderId, transaction: &TransactionId) -> Result<NoticeAnswer, AppError> {
        match repo::deposits::get_reversal_claim(self.service.table.as_ref(), provider, transaction).await? {
            Some(claim) => Ok(NoticeAnswer::of_reversal(&claim)),
            None => Err(Unavailable::Inconsistent("a reversal failed its condition but is not stored".into()).into()),
        }
    }

    /// Records a reversal (입금취소): the original deposit's effect is undone, exactly once per
    /// reversal transaction id. A reversal of a deposit we never heard of is refused (409), so
    /// the provider delivers it again after the deposit.
    pub async fn reverse_deposit(self, notice: ReversalNotice) -> Result<NoticeAnswer, AppError> {
        self.reverse(notice, None).await
    }

    /// A reversal of the whole deposit, or of `part` of its credit.
    async fn reverse(self, notice: ReversalNotice, part: Option<Krw>) -> Result<NoticeAnswer, AppError> {
        let table = self.service.table.as_ref();
        let mut not_before = None;
        let mut retry = Retry::hot();
        while retry.next().await {
            let now = self.service.clock.now();
            let Some(original) = repo::deposits::get_by_transaction(table, &notice.provider, &notice.original_transaction_id).await? else {
                if repo::deposits::get_reversal_claim(table, &notice.provider, &notice.transaction_id).await?.is_some() {
                    return self.answer_reversal_again(&notice.provider, &notice.transaction_id).await;
                }
                return Err(AppError::Conflict(format!(
                    "no deposit {} from provider {}; send the reversal after its deposit",
                    notice.original_transaction_id, notice.provider
                )));
            };
            // The notice's record, with the status it was answered, so a redelivery hears the same.
            let claim = |answered: DepositStatus| ReversalClaim {
                provider: notice.provider.clone(),
                transaction_id: notice.transaction_id.clone(),
                original_transaction_id: notice.original_transaction_id.clone(),
                deposit_id: original.id.clone(),
                received_at: now,
                answered: Some(answered),
            };
            let own = match &original.virtual_account_id {
                Some(id) => repo::accounts::get_on_number(table, original.bank_code, &original.account_number, id).await?,
                None => None,
            };
            let reversal = Reversal { transaction_id: notice.transaction_id.clone(), reversed_at: notice.occurred_at };
            let reversed = match part {
                Some(amount) => deposit::reverse_part(&original, own.as_ref(), amount, reversal, now),
                None => deposit::reverse(&original, own.as_ref(), reversal, now),
            };
            let effect = match reversed {
                Ok(effect) => effect,
                // Reversed before, by another reversal notice: this one is recorded, and changes nothing.
                Err(ReversalError::AlreadyReversed(_)) => {
                    let mut tx = Transaction::new();
                    tx.push(Guard::AlreadyRecorded, repo::deposits::put_reversal_claim(&claim(DepositStatus::Reversed))?);
                    return match tx.commit(table).await {
                        Ok(()) | Err(TxError::Refused(Guard::AlreadyRecorded)) => self.answer_reversal_again(&notice.provider, &notice.transaction_id).await,
                        Err(e) => Err(e.into()),
                    };
                }
                Err(e @ (ReversalError::AccountNeeded(_) | ReversalError::Overflow(_))) => return Err(Unavailable::Reversal(e).into()),
            };
            let mut tx = Transaction::new();
            tx.push(Guard::AlreadyRecorded, repo::deposits::put_reversal_claim(&claim(effect.deposit.status))?);
            tx.push(Guard::DepositMoved, repo::deposits::put_deposit(&effect.deposit, Condition::VersionIs(original.version))?);
            if let (Some(before), Some(after)) = (&own, &effect.account) {
                tx.push(Guard::AccountMoved, repo::accounts::put_account(after, Condition::VersionIs(before.version))?);
            }
            // The account an assignment had credited: the deposit's own (taken back above, in
            // the same change of it), or another one, debited here.
            let mut assigned = own.clone().filter(|a| original.assigned_to() == Some(&a.id));
            if let Some((target, amount)) = &effect.assigned_debit {
                let account =
                    repo::accounts::get(table, target).await?.ok_or_else(|| Unavailable::Inconsistent(format!("assigned account {target} is missing")))?;
                let debited = deposit::debit_assigned(&account, *amount, now)?;
                tx.push(Guard::AccountMoved, repo::accounts::put_account(&debited, Condition::VersionIs(account.version))?);
                assigned = Some(account);
            }
            let reversed = DepositData::of(&effect.deposit, effect.account.as_ref().or(own.as_ref()));
            tx.extend(
                Guard::NewItem,
                repo::outbox::put_event(&OutboxEvent::new(effect.deposit.merchant_id.clone(), EventData::DepositReversed(reversed), now))?,
            );
            let entries = if effect.deposit.status == DepositStatus::Reversed {
                settlement::entries_of_reversal(&original, own.as_ref(), assigned.as_ref(), now)?
            } else {
                // Part of the deposit taken back: it still stands, with what is left.
                if let Some(balance) = effect.account.as_ref().and_then(|after| EventData::balance(&effect.deposit, after)) {
                    tx.extend(Guard::NewItem, repo::outbox::put_event(&OutboxEvent::new(effect.deposit.merchant_id.clone(), balance, now))?);
                }
                // Money that was only held (an excess, a held deposit) was never settled.
                let taken = original.credited.minus(effect.deposit.credited)?;
                match own.as_ref().filter(|_| taken.is_positive()) {
                    Some(own) => vec![settlement::entry_of_partial_reversal(&original, own, taken, now)?],
                    None => Vec::new(),
                }
            };
            book(&mut tx, entries, now, not_before)?;
            match tx.commit(table).await {
                Ok(()) => return Ok(NoticeAnswer::of(&effect.deposit)),
                Err(TxError::Refused(Guard::AlreadyRecorded)) => return self.answer_reversal_again(&notice.provider, &notice.transaction_id).await,
                Err(TxError::Refused(Guard::DaySealed(day))) => not_before = day.succ_opt(),
                Err(e) if e.is_race() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(Unavailable::Contention { what: "the deposit kept changing while reversing it".into() }.into())
    }

    /// One of the merchant's deposits; another merchant's is "not found".
    pub async fn get_deposit(self, merchant: &MerchantId, id: &DepositId) -> Result<Deposit, AppError> {
        match repo::deposits::get(self.service.table.as_ref(), id).await? {
            Some(d) if d.merchant_id.as_ref() == Some(merchant) => Ok(d),
            _ => Err(AppError::NotFound),
        }
    }

    /// Any deposit, whoever's it is: for operators.
    pub async fn deposit_by_id(self, id: &DepositId) -> Result<Deposit, AppError> {
        repo::deposits::get(self.service.table.as_ref(), id).await?.ok_or(AppError::NotFound)
    }

    pub async fn list_deposits(self, merchant: &MerchantId, filter: &DepositFilter, limit: usize, after: Option<Cursor>) -> Result<Listing<Deposit>, AppError> {
        Ok(repo::deposits::list(self.service.table.as_ref(), merchant.as_str(), filter, limit, after).await?)
    }

    pub async fn account_deposits(
        self,
        merchant: &MerchantId,
        account: &VirtualAccountId,
        limit: usize,
        after: Option<Cursor>,
    ) -> Result<Listing<Deposit>, AppError> {
        self.service.accounts().get_account(merchant, account).await?;
        Ok(repo::deposits::for_account(self.service.table.as_ref(), account, limit, after).await?)
    }
}

/// What notice readers may look up, read from the table.
struct StoredNotices<'a> {
    table: &'a dyn Table,
}

#[async_trait]
impl NoticeLookup for StoredNotices<'_> {
    async fn account(&self, id: &VirtualAccountId) -> Result<Option<VirtualAccount>, StoreError> {
        repo::accounts::get(self.table, id).await
    }

    async fn reversed_by(&self, provider: &ProviderId, reversal: &TransactionId) -> Result<Option<TransactionId>, StoreError> {
        Ok(repo::deposits::get_reversal_claim(self.table, provider, reversal).await?.map(|claim| claim.original_transaction_id))
    }

    /// Found by consistent reads of the deposits the account remembers (a cancellation must
    /// not be missed because an index has not caught up). Accounts from before that memory,
    /// or a deposit that was held without moving the balance, are looked up in the account's
    /// deposit listing.
    async fn latest_credited(&self, account: &VirtualAccount) -> Result<Option<TransactionId>, StoreError> {
        for transaction in account.recent_deposits.iter().rev() {
            if let Some(d) = repo::deposits::get_by_transaction(self.table, &account.provider, transaction).await?
                && d.status != DepositStatus::Reversed
            {
                return Ok(Some(d.transaction_id));
            }
        }
        let listed = repo::deposits::for_account(self.table, &account.id, 20, None).await?.items;
        Ok(listed.into_iter().find(|d| d.provider == account.provider && d.status != DepositStatus::Reversed).map(|d| d.transaction_id))
    }
}
