//! A DynamoDB Query stops at 1 MB of items and answers a cursor, however many items were asked
//! for. Readers that merge shards or walk a work index must follow that cursor instead of
//! taking a short page for the end. Large items (big metadata, sealed) make pages short; the
//! embedded store is told to stop at the same size, so one suite proves it on both backends.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;
use std::sync::Arc;
use vaccount::app::{Service, Settings};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{AccountRequest, AccountType, BankCode, Fee, Krw, MerchantId, Metadata, OrderId, Status, VirtualAccount, VirtualAccountId};
use vaccount::repo::accounts::ListFilter;
use vaccount::testing::{Backend, FixedClock, TestTable, seed_pool, table_with_short_pages};

use vaccount::on_both_backends;

on_both_backends!(a_merged_listing_of_large_accounts_shows_each_exactly_once, the_sweep_expires_every_overdue_large_account,);

/// Enough accounts that each of the 4 listing shards holds more than one short page.
const ACCOUNTS: usize = 40;

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    merchant: MerchantId,
}

async fn world(backend: Backend) -> World {
    let t = table_with_short_pages(backend).await;
    let clock = FixedClock::new(t0());
    let settings = Settings { pool_low_threshold: 0, ..Settings::default() };
    let service = Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), clock.clone(), settings));
    let merchant = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    seed_pool(&service, BankCode::Kookmin, "12345600000000", ACCOUNTS as u64).await;
    World { _t: t, clock, service, merchant }
}

/// About 100 KB of metadata: a 1 MB page holds only a handful of such accounts.
fn large_metadata() -> Metadata {
    (0..20).map(|i| (format!("k{i:02}"), "가".repeat(1_700))).collect()
}

/// Issues `ACCOUNTS` large one-time accounts, each a millisecond after the last, all due an hour
/// after `t0`; returns them in issue order.
async fn issue_large_accounts(w: &World) -> Vec<VirtualAccount> {
    let mut issued = Vec::new();
    for i in 0..ACCOUNTS {
        w.clock.advance(Duration::milliseconds(1));
        let request = AccountRequest {
            order_id: format!("BIG-{i:03}").parse::<OrderId>().unwrap(),
            kind: AccountType::OneTime,
            amount: Some(Krw::new(35_000)),
            bank_code: BankCode::Kookmin,
            due_at: Some(t0() + Duration::hours(1)),
            allow_partial: false,
            depositor_name: None,
            customer: None,
            metadata: large_metadata(),
            policy: Default::default(),
        };
        issued.push(w.service.accounts().issue_account(&w.merchant, None, request).await.unwrap());
    }
    issued
}

async fn a_merged_listing_of_large_accounts_shows_each_exactly_once(backend: Backend) {
    let w = world(backend).await;
    let issued = issue_large_accounts(&w).await;
    let mut listed: Vec<VirtualAccountId> = Vec::new();
    let mut cursor = None;
    for _ in 0..100 {
        let page = w.service.accounts().list_accounts(&w.merchant, None, &ListFilter::default(), 20, cursor).await.unwrap();
        listed.extend(page.items.into_iter().map(|a| a.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<VirtualAccountId> = issued.iter().rev().map(|a| a.id.clone()).collect();
    assert_eq!(listed.len(), ACCOUNTS, "every account once across pages");
    assert_eq!(listed, newest_first, "newest first, none skipped, none repeated");
}

async fn the_sweep_expires_every_overdue_large_account(backend: Backend) {
    let w = world(backend).await;
    let issued = issue_large_accounts(&w).await;
    w.clock.set(t0() + Duration::hours(3));
    let report = w.service.expiry().sweep_due().await.unwrap();
    assert_eq!(report.failed, 0);
    let mut still_open = BTreeSet::new();
    for account in &issued {
        if w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap().status != Status::Expired {
            still_open.insert(account.id.clone());
        }
    }
    assert!(still_open.is_empty(), "{} of {ACCOUNTS} overdue accounts were never expired: {still_open:?}", still_open.len());
    assert_eq!(report.expired, ACCOUNTS);
}
