//! A genuine deposit is never refused for its depositor's name, on both backends: whatever the
//! bank printed (nothing, blanks, a long name, control characters), the money is recorded, the
//! merchant sees a clean name, and the name as received is kept on the record for operators.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use vaccount::app::{Service, Settings};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{
    AccountPolicy, AccountRequest, AccountType, BankCode, Deposit, DepositPolicy, DepositStatus, Fee, Krw, MerchantId, Metadata, NameMismatchPolicy,
    ProviderKind, VirtualAccount,
};
use vaccount::testing::{Backend, FixedClock, TestTable, notice_request, sealed, table};

use vaccount::on_both_backends;

on_both_backends!(a_deposit_is_recorded_whatever_its_depositor_name, a_cleaned_name_still_matches_the_expected_one,);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    service: Arc<Service>,
    merchant: MerchantId,
    provider_secret: String,
    /// The merchant's policy, which an issue copies onto the account (as `http::dto` does).
    name_mismatch: NameMismatchPolicy,
}

async fn world(backend: Backend, name_mismatch: NameMismatchPolicy) -> World {
    let t = table(backend).await;
    let service = Arc::new(Service::new(sealed(t.table.clone()), FixedClock::new(t0()), Settings::default()));
    let policy = DepositPolicy { name_mismatch, ..Default::default() };
    let merchant = service.setup().create_merchant("Mall", Fee::PerDeposit(Krw::new(300)), 2, policy).await.unwrap().merchant_id;
    let provider_secret = service.setup().add_provider("bank".parse().unwrap(), ProviderKind::Generic, vec![]).await.unwrap().secret;
    service.setup().add_pool_range(&"bank".parse().unwrap(), BankCode::Kookmin, &"12345600000000".parse().unwrap(), 5).await.unwrap();
    World { _t: t, service, merchant, provider_secret, name_mismatch }
}

async fn account(w: &World, kind: AccountType, expected_name: Option<&str>) -> VirtualAccount {
    let request = AccountRequest {
        order_id: format!("A-{}", ulid::Ulid::new()).parse().unwrap(),
        kind,
        amount: (kind == AccountType::OneTime).then(|| Krw::new(35_000)),
        bank_code: BankCode::Kookmin,
        due_at: (kind == AccountType::OneTime).then(|| t0() + Duration::hours(72)),
        allow_partial: false,
        depositor_name: expected_name.map(str::to_owned),
        customer: None,
        metadata: Metadata::new(),
        policy: AccountPolicy { name_mismatch: w.name_mismatch, ..Default::default() },
    };
    w.service.accounts().issue_account(&w.merchant, None, request).await.unwrap()
}

/// Sends a signed `generic` deposit notice of 35,000 won naming `name`, and reads the deposit.
async fn deposit_named(w: &World, account: &VirtualAccount, tx: &str, name: &str) -> Deposit {
    let body = serde_json::json!({
        "type": "deposit", "transaction_id": tx, "bank_code": "004", "account_number": account.account_number.as_str(),
        "amount": 35000, "depositor_name": name, "occurred_at": "2026-11-24T10:00:00+09:00",
    })
    .to_string();
    let signature = vaccount::providers::generic::sign(&w.provider_secret, body.as_bytes());
    let answer = w.service.deposits().receive_notice("bank", &notice_request(None, Some(&signature), body.as_bytes())).await;
    let answer = answer.unwrap_or_else(|e| panic!("the notice naming {name:?} must be recorded, got {e:?}"));
    w.service.deposits().get_deposit(&w.merchant, &answer.deposit_id.expect("a deposit")).await.unwrap()
}

fn raw_of(deposit: &Deposit) -> serde_json::Value {
    serde_json::to_value(deposit).unwrap()["depositor_name_raw"].clone()
}

async fn a_deposit_is_recorded_whatever_its_depositor_name(backend: Backend) {
    let w = world(backend, NameMismatchPolicy::Warn).await;
    let fixed = account(&w, AccountType::Fixed, None).await;
    let long = format!("주식회사 {}", "가나다라마바사아자차".repeat(5));
    let overlong = "김".repeat(150);
    let cases: [(&str, Option<&str>); 6] = [
        ("", None),
        ("   ", None),
        (&long, Some(&long)),
        ("홍길동\u{7}", Some("홍길동")),
        ("  Kim\tJr\r\n ", Some("Kim Jr")),
        (&overlong, Some(&overlong[..100 * '김'.len_utf8()])),
    ];
    for (i, (sent, cleaned)) in cases.into_iter().enumerate() {
        let deposit = deposit_named(&w, &fixed, &format!("T-{i}"), sent).await;
        assert_eq!((deposit.status, deposit.amount), (DepositStatus::Matched, Krw::new(35_000)), "{sent:?}");
        assert_eq!(deposit.depositor_name.as_deref(), cleaned, "the merchant's view of {sent:?}");
        let raw = raw_of(&deposit);
        if cleaned == Some(sent) {
            assert_eq!(raw, serde_json::Value::Null, "a clean name is not kept twice");
        } else {
            assert_eq!(raw, sent, "operators keep what the bank sent");
        }
        let view = serde_json::to_value(vaccount::domain::view::DepositView::from(&deposit)).unwrap();
        assert!(view.get("depositor_name_raw").is_none(), "merchants see the cleaned name only: {view}");
    }
}

async fn a_cleaned_name_still_matches_the_expected_one(backend: Backend) {
    let w = world(backend, NameMismatchPolicy::Hold).await;
    let expecting = account(&w, AccountType::OneTime, Some("홍길동")).await;
    let deposit = deposit_named(&w, &expecting, "T-1", " 홍길동\u{0} ").await;
    assert_eq!((deposit.status, deposit.name_mismatch), (DepositStatus::Matched, false));

    let other = account(&w, AccountType::OneTime, Some("홍길동")).await;
    let deposit = deposit_named(&w, &other, "T-2", "\u{1b}김철수").await;
    assert_eq!((deposit.status, deposit.name_mismatch), (DepositStatus::Exception, true), "another name is still another name");
}

#[test]
fn cleaning_folds_blanks_and_control_characters_and_keeps_a_generous_length() {
    use vaccount::domain::deposit::{MAX_DEPOSITOR_NAME_CHARS, clean_depositor_name};
    assert_eq!(clean_depositor_name(""), None);
    assert_eq!(clean_depositor_name(" \t\u{0}\r\n "), None);
    assert_eq!(clean_depositor_name("  홍 \u{7} 길동\n"), Some("홍 길동".to_owned()));
    assert_eq!(clean_depositor_name("(주)가나다라마바사 주식회사 영업부 결제계좌").as_deref(), Some("(주)가나다라마바사 주식회사 영업부 결제계좌"));
    let long = format!("{} {}", "가".repeat(MAX_DEPOSITOR_NAME_CHARS - 1), "나".repeat(10));
    assert_eq!(clean_depositor_name(&long), Some("가".repeat(MAX_DEPOSITOR_NAME_CHARS - 1)), "cut at the limit, no trailing space");
}
