//! Conservation of money across the whole path, as a property: random histories of deposits
//! (to known and unknown numbers), reversals under colliding transaction ids, operator
//! assignments (back to the same account too), refunds, fee-term changes, clock steps in both
//! directions and exports of any day at any point, run through the real use cases on the
//! embedded store (in memory). After each history every day is exported, and:
//!
//! - Σ of all exported gross = Σ of what the merchant's accounts hold credited, and Σ of all
//!   exported nets = Σ of the nets of every movement ever booked;
//! - every exported day still holds exactly what its file says (no entry joined it later);
//! - no movement is booked twice, none into a day before the one it was recorded on;
//! - no notice or operator action is answered `unavailable` for a condition that cannot change.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;
use std::sync::Arc;
use vaccount::app::exceptions::ExceptionAction;
use vaccount::app::settlements::Settlements;
use vaccount::app::{AppError, Service, Settings};
use vaccount::domain::calendar::kst_day;
use vaccount::domain::deposit::{DepositNotice, DepositStatus, Resolution, ReversalNotice};
use vaccount::domain::settlement::{EntryKind, Row, Totals, fee_of, vat_of};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{AccountRequest, AccountType, BankCode, Fee, Krw, Merchant, MerchantId, Metadata, OperatorName, ProviderKind, VirtualAccount};
use vaccount::ports::{Clock, Condition, Table};
use vaccount::repo;
use vaccount::repo::settlements::DayEntries;
use vaccount::store::{EmbeddedTable, LocalBlobs};
use vaccount::testing::FixedClock;

/// Tuesday 2026-11-24, 10:00 KST.
fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    /// A deposit notice under `T-{tx}` to one of the accounts, or to a number nobody has.
    Deposit {
        to: Option<usize>,
        amount: i64,
        tx: u8,
    },
    /// A reversal notice under `T-{tx}` of the deposit `T-{original}`: the ids share one pool,
    /// so a reversal may carry its own deposit's id or another deposit's.
    Reverse {
        tx: u8,
        original: u8,
    },
    Assign {
        original: u8,
        to: usize,
    },
    Refund {
        original: u8,
    },
    /// The merchant's terms change: a flat fee, or a rate.
    Terms {
        fee: Fee,
    },
    /// The clock moves, backwards too (a clock step, or a transaction begun before midnight).
    Clock {
        minutes: i64,
    },
    /// One of the last three days is exported, whatever was recorded into it.
    Export {
        days_back: i64,
    },
}

fn fee() -> impl Strategy<Value = Fee> {
    prop_oneof![(0i64..1_000).prop_map(|w| Fee::PerDeposit(Krw::new(w))), (0u32..500).prop_map(Fee::RateBps)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (proptest::option::weighted(0.85, 0usize..3), prop_oneof![1i64..=60_000, Just(35_000), Just(20_000)], 0u8..10)
            .prop_map(|(to, amount, tx)| Op::Deposit { to, amount, tx }),
        3 => (0u8..10, 0u8..10).prop_map(|(tx, original)| Op::Reverse { tx, original }),
        2 => (0u8..10, 0usize..3).prop_map(|(original, to)| Op::Assign { original, to }),
        1 => (0u8..10).prop_map(|original| Op::Refund { original }),
        1 => fee().prop_map(|fee| Op::Terms { fee }),
        3 => prop_oneof![-180i64..0, 0i64..720].prop_map(|minutes| Op::Clock { minutes }),
        2 => (1i64..=3).prop_map(|days_back| Op::Export { days_back }),
    ]
}

struct World {
    clock: Arc<FixedClock>,
    service: Arc<Service>,
    settlements: Settlements,
    merchant: MerchantId,
    accounts: Vec<VirtualAccount>,
    kim: OperatorName,
    /// The earliest and latest instants the clock has shown: the final exports cover them.
    earliest: DateTime<Utc>,
    latest: DateTime<Utc>,
    _files: tempfile::TempDir,
}

async fn world() -> World {
    let table: Arc<dyn Table> = Arc::new(EmbeddedTable::in_memory().unwrap());
    let clock = FixedClock::new(t0());
    let service = Arc::new(Service::new(table.clone(), clock.clone(), Settings::default()));
    let merchant = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, Default::default()).await.unwrap().merchant_id;
    let bank = "bank".parse().unwrap();
    service.setup().add_provider(bank, ProviderKind::Generic, vec![]).await.unwrap();
    service.setup().add_pool_range(&"bank".parse().unwrap(), BankCode::Kookmin, &"12345600000000".parse().unwrap(), 5).await.unwrap();
    let kim: OperatorName = "kim".parse().unwrap();
    vaccount::testing::active_operator(&service, kim.as_str(), vaccount::domain::operator::Role::Admin).await;
    let mut accounts = Vec::new();
    for (order, kind, amount, allow_partial) in [
        ("STRICT", AccountType::OneTime, Some(35_000), false),
        ("PARTIAL", AccountType::OneTime, Some(35_000), true),
        ("FIXED", AccountType::Fixed, None, false),
    ] {
        let request = AccountRequest {
            order_id: order.parse().unwrap(),
            kind,
            amount: amount.map(Krw::new),
            bank_code: BankCode::Kookmin,
            due_at: (kind == AccountType::OneTime).then(|| t0() + Duration::days(20)),
            allow_partial,
            depositor_name: None,
            customer: None,
            metadata: Metadata::new(),
            policy: Default::default(),
        };
        accounts.push(service.accounts().issue_account(&merchant, None, request).await.unwrap());
    }
    let files = tempfile::tempdir().unwrap();
    let blobs = Arc::new(LocalBlobs::new(files.path().join("blobs")));
    let settlements = Settlements::new(&service, blobs, files.path().join("work"));
    World { clock, service, settlements, merchant, accounts, kim, earliest: t0(), latest: t0(), _files: files }
}

/// Anything but `unavailable` is a definite answer: done, or a 4xx that tells the sender why.
fn definite<T: std::fmt::Debug>(what: &Op, result: Result<T, AppError>) -> Result<(), TestCaseError> {
    if let Err(AppError::Unavailable(why)) = &result {
        return Err(TestCaseError::fail(format!("{what:?} answered unavailable: {why}")));
    }
    Ok(())
}

impl World {
    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let provider: vaccount::domain::ProviderId = "bank".parse().unwrap();
        match *op {
            Op::Deposit { to, amount, tx } => {
                let number = match to {
                    Some(i) => self.accounts[i].account_number.clone(),
                    None => "99999999999999".parse().unwrap(),
                };
                let notice = DepositNotice {
                    provider,
                    transaction_id: format!("T-{tx}").parse().unwrap(),
                    bank_code: BankCode::Kookmin,
                    account_number: number,
                    amount: Krw::new(amount),
                    depositor_name: Some("홍길동".into()),
                    // A bank's time that may lie days before the notice reaches us.
                    deposited_at: t0() - Duration::hours(i64::from(tx)),
                };
                definite(op, self.service.deposits().record_deposit(notice).await)
            }
            Op::Reverse { tx, original } => {
                let notice = ReversalNotice {
                    provider,
                    transaction_id: format!("T-{tx}").parse().unwrap(),
                    original_transaction_id: format!("T-{original}").parse().unwrap(),
                    occurred_at: self.clock.now(),
                };
                definite(op, self.service.deposits().reverse_deposit(notice).await)
            }
            Op::Assign { original, to } => {
                let account = self.accounts[to].id.clone();
                self.resolve(op, original, Resolution::Assign { account }).await
            }
            Op::Refund { original } => {
                let refund = Resolution::Refund { bank_code: BankCode::Hana, account_number: "81012345678".parse().unwrap(), holder: "홍길동".into() };
                self.resolve(op, original, refund).await
            }
            Op::Terms { fee } => {
                let table = self.service.table().as_ref();
                let mut merchant: Merchant = repo::merchants::get_merchant(table, &self.merchant).await.unwrap().unwrap();
                let version = merchant.version;
                merchant.fee = fee;
                merchant.version += 1;
                table.transact(vec![repo::merchants::put_merchant(&merchant, Condition::VersionIs(version)).unwrap()]).await.unwrap();
                Ok(())
            }
            Op::Clock { minutes } => {
                self.clock.advance(Duration::minutes(minutes));
                self.earliest = self.earliest.min(self.clock.now());
                self.latest = self.latest.max(self.clock.now());
                Ok(())
            }
            Op::Export { days_back } => {
                let day = kst_day(self.clock.now()) - Duration::days(days_back);
                definite(op, self.settlements.export_day(&self.merchant, day).await)
            }
        }
    }

    /// An operator resolves the exception of deposit `T-{original}`, if it has one.
    async fn resolve(&self, op: &Op, original: u8, resolution: Resolution) -> Result<(), TestCaseError> {
        let provider = "bank".parse().unwrap();
        let found = repo::deposits::get_by_transaction(self.service.table().as_ref(), &provider, &format!("T-{original}").parse().unwrap()).await.unwrap();
        let Some(exception) = found.and_then(|d| d.exception) else { return Ok(()) };
        definite(op, self.service.exceptions().act_on_exception(&self.kim, &exception.id, ExceptionAction::Resolve(resolution)).await)
    }

    /// Every day the clock showed, and the one after, exported now.
    async fn export_everything(&self) -> Vec<(NaiveDate, Totals)> {
        self.clock.set(self.latest + Duration::days(2));
        let mut exported = Vec::new();
        let mut day = kst_day(self.earliest);
        while day < kst_day(self.clock.now()) {
            exported.push((day, self.settlements.export_day(&self.merchant, day).await.unwrap().totals));
            day = day.succ_opt().unwrap();
        }
        exported
    }
}

/// What a movement leaves the merchant after fee and VAT.
fn net_of(amount: Krw, deposits: i8, terms: Option<Fee>) -> i64 {
    let fee = fee_of(terms.expect("terms kept"), amount, deposits).unwrap();
    amount.won() - fee.won() - vat_of(fee).unwrap().won()
}

/// Σ gross and Σ net the merchant is owed, from the deposits themselves: each live deposit's
/// credit and its exception assigned to an account, each at the terms it was booked at. A
/// reversed deposit is owed nothing.
async fn owed_by_the_deposits(w: &World) -> (i64, i64) {
    let table = w.service.table().as_ref();
    let (mut gross, mut net) = (0i64, 0i64);
    let mut after = None;
    loop {
        let page = repo::deposits::list(table, w.merchant.as_str(), &Default::default(), 100, after).await.unwrap();
        for d in page.items.iter().filter(|d| d.status != DepositStatus::Reversed) {
            if d.credited.is_positive() {
                gross += d.credited.won();
                net += net_of(d.credited, 1, d.fee_terms);
            }
            if let (Some(_), Some(e)) = (d.assigned_to(), &d.exception) {
                gross += e.amount.won();
                net += net_of(e.amount, if d.credited.is_positive() { 0 } else { 1 }, e.fee_terms);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return (gross, net),
        }
    }
}

async fn check(w: &World) -> Result<(), TestCaseError> {
    let exported = w.export_everything().await;
    let table = w.service.table().as_ref();
    let merchant = repo::merchants::get_merchant(table, &w.merchant).await.unwrap().unwrap();
    let mut held = 0i64;
    for account in &w.accounts {
        held += w.service.accounts().get_account(&w.merchant, &account.id).await.unwrap().paid_amount.won();
    }
    let mut booked: Vec<(String, EntryKind)> = Vec::new();
    let (mut gross, mut net) = (0i64, 0i64);
    for (day, totals) in &exported {
        // What the day holds now is what its file said when it was exported.
        let mut now_in_day = Totals::default();
        let mut entries = DayEntries::new(table, &w.merchant, *day);
        while let Some(entry) = entries.next().await.unwrap() {
            prop_assert!(entry.day >= kst_day(entry.recorded_at), "booked before it was recorded: {entry:?}");
            prop_assert!(entry.fee_terms.is_some(), "every new entry carries its terms");
            booked.push((entry.deposit_id.to_string(), entry.kind));
            now_in_day.add(&Row::of(entry, merchant.fee).unwrap()).unwrap();
        }
        prop_assert_eq!(&now_in_day, totals, "day {} changed after it was exported", day);
        gross += totals.gross.won();
        net += totals.net.won();
    }
    let movements = booked.len();
    booked.sort();
    booked.dedup();
    prop_assert_eq!(booked.len(), movements, "a movement booked twice");
    prop_assert_eq!(gross, held, "Σ exported gross = Σ credited to the merchant's accounts");
    prop_assert_eq!((gross, net), owed_by_the_deposits(w).await, "Σ exported = Σ of the movements, gross and net");
    Ok(())
}

fn cases() -> u32 {
    std::env::var("MONEY_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(10_000)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

proptest! {
    // 10,000 histories; `MONEY_CASES` runs fewer or more by hand.
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_credited_won_lands_in_exactly_one_final_settlement(ops in proptest::collection::vec(op(), 1..30)) {
        runtime().block_on(async {
            let mut w = world().await;
            for op in &ops {
                w.apply(op).await?;
            }
            check(&w).await
        })?;
    }
}
