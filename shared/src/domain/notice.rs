//! Customer notices: what the customer is told about their virtual account, in Korean, for
//! each channel (KakaoTalk 알림톡, SMS, email), and the masking that keeps their contact
//! details out of logs and operations events.
//!
//! Rendering is pure: the consumer in `app::notices` decides whom to send what; the adapters
//! in `providers::messaging` only carry the rendered message.

use super::Krw;
use super::time::kst;
use super::view::AccountView;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which notice an event calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Issued,
    Paid,
    DueSoon,
    Expired,
}

impl NoticeKind {
    /// The 알림톡 template code registered with Kakao for this notice (see [`ALIMTALK_TEMPLATES`]).
    pub fn template_code(self) -> &'static str {
        match self {
            NoticeKind::Issued => "VA_ISSUED",
            NoticeKind::Paid => "VA_PAID",
            NoticeKind::DueSoon => "VA_DUE_SOON",
            NoticeKind::Expired => "VA_EXPIRED",
        }
    }
}

/// The 알림톡 templates as registered with Kakao (template code, content): Kakao only delivers
/// a message that matches its approved template, so the wording lives there and we send the
/// parameters. Kept here so that registering them is copying these.
pub const ALIMTALK_TEMPLATES: [(&str, &str); 4] = [
    (
        "VA_ISSUED",
        "[가상계좌 발급 안내]\n주문번호: #{orderId}\n입금은행: #{bankName}\n계좌번호: #{accountNumber}\n입금금액: #{amount}\n입금기한: #{dueAt}\n기한 내에 입금해 주세요.",
    ),
    ("VA_PAID", "[입금 완료 안내]\n주문번호: #{orderId}\n입금금액: #{paidAmount}\n입금이 확인되었습니다. 감사합니다."),
    (
        "VA_DUE_SOON",
        "[입금기한 임박 안내]\n주문번호: #{orderId}\n입금은행: #{bankName}\n계좌번호: #{accountNumber}\n남은금액: #{amount}\n입금기한: #{dueAt}\n기한이 지나면 계좌가 만료됩니다.",
    ),
    ("VA_EXPIRED", "[입금기한 만료 안내]\n주문번호: #{orderId}\n입금은행: #{bankName}\n계좌번호: #{accountNumber}\n입금기한이 지나 계좌가 만료되었습니다."),
];

/// The channels a notice can go out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Alimtalk,
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Alimtalk => "alimtalk",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An 알림톡 message: the approved template and the values of its `#{...}` variables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlimtalkMessage {
    pub template_code: String,
    pub parameters: BTreeMap<String, String>,
}

/// A text message. Up to [`SMS_MAX_BYTES`] it goes as an SMS, beyond that as an LMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsMessage {
    pub text: String,
}

impl SmsMessage {
    /// Too long for one SMS: the carrier bills and delivers it as an LMS (long message, with
    /// a title), which the messaging adapter sends through the LMS endpoint.
    pub fn is_long(&self) -> bool {
        euc_kr_len(&self.text) > SMS_MAX_BYTES
    }
}

/// An SMS holds 90 bytes of EUC-KR (KS X 1001).
pub const SMS_MAX_BYTES: usize = 90;

/// The EUC-KR length carriers count: one byte for ASCII, two for Hangul and other characters.
pub fn euc_kr_len(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailMessage {
    pub subject: String,
    pub body: String,
}

/// The facts a notice states, taken from the account as the event shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeFacts {
    pub order_id: String,
    pub bank_name: String,
    pub account_number: String,
    /// What is still to pay (the whole amount before any deposit); `None` for fixed accounts.
    pub amount_due: Option<Krw>,
    pub paid_amount: Krw,
    pub due_at: Option<DateTime<Utc>>,
}

impl NoticeFacts {
    pub fn of(account: &AccountView) -> NoticeFacts {
        NoticeFacts {
            order_id: account.order_id.to_string(),
            bank_name: account.bank_name.clone(),
            account_number: account.account_number.clone(),
            amount_due: account.amount.and_then(|a| a.minus(account.paid_amount).ok()),
            paid_amount: account.paid_amount,
            due_at: account.due_at,
        }
    }

    fn amount_text(&self) -> String {
        self.amount_due.map_or_else(|| "금액 제한 없음".to_owned(), |a| a.to_string())
    }

    /// `11/27 23:59` (KST): short enough for an SMS.
    fn due_short(&self) -> String {
        self.due_at.map_or_else(|| "기한 없음".to_owned(), |t| t.with_timezone(&kst()).format("%m/%d %H:%M").to_string())
    }

    /// `2026년 11월 27일 23:59` (KST).
    fn due_long(&self) -> String {
        self.due_at.map_or_else(|| "기한 없음".to_owned(), |t| t.with_timezone(&kst()).format("%Y년 %m월 %d일 %H:%M").to_string())
    }
}

pub fn render_alimtalk(kind: NoticeKind, facts: &NoticeFacts) -> AlimtalkMessage {
    let mut parameters = BTreeMap::new();
    parameters.insert("orderId".to_owned(), facts.order_id.clone());
    match kind {
        NoticeKind::Issued | NoticeKind::DueSoon => {
            parameters.insert("bankName".to_owned(), facts.bank_name.clone());
            parameters.insert("accountNumber".to_owned(), facts.account_number.clone());
            parameters.insert("amount".to_owned(), facts.amount_text());
            parameters.insert("dueAt".to_owned(), facts.due_long());
        }
        NoticeKind::Paid => {
            parameters.insert("paidAmount".to_owned(), facts.paid_amount.to_string());
        }
        NoticeKind::Expired => {
            parameters.insert("bankName".to_owned(), facts.bank_name.clone());
            parameters.insert("accountNumber".to_owned(), facts.account_number.clone());
        }
    }
    AlimtalkMessage { template_code: kind.template_code().to_owned(), parameters }
}

/// The SMS fallback: one line that fits an SMS for every bank and any amount (a test checks),
/// so a customer without KakaoTalk still gets the number in a single message.
pub fn render_sms(kind: NoticeKind, facts: &NoticeFacts) -> SmsMessage {
    let text = match kind {
        NoticeKind::Issued => {
            format!("[입금안내] {} {} {} {}까지 입금", facts.bank_name, facts.account_number, facts.amount_text(), facts.due_short())
        }
        NoticeKind::Paid => format!("[입금완료] {} 입금이 확인되었습니다. 감사합니다.", facts.paid_amount),
        NoticeKind::DueSoon => {
            format!("[입금기한 임박] {} {} {} {}까지", facts.bank_name, facts.account_number, facts.amount_text(), facts.due_short())
        }
        NoticeKind::Expired => format!("[입금기한 만료] {} {} 계좌가 만료되었습니다.", facts.bank_name, facts.account_number),
    };
    SmsMessage { text }
}

pub fn render_email(kind: NoticeKind, facts: &NoticeFacts) -> EmailMessage {
    let account = format!("입금은행: {}\n계좌번호: {}", facts.bank_name, facts.account_number);
    let (subject, body) = match kind {
        NoticeKind::Issued => (
            format!("[가상계좌] 주문 {} 입금 계좌 안내", facts.order_id),
            format!(
                "주문 {}의 입금 계좌를 안내해 드립니다.\n\n{account}\n입금금액: {}\n입금기한: {}\n\n기한 내에 입금해 주세요.",
                facts.order_id,
                facts.amount_text(),
                facts.due_long()
            ),
        ),
        NoticeKind::Paid => (
            format!("[가상계좌] 주문 {} 입금 완료", facts.order_id),
            format!("주문 {}의 입금 {}이(가) 확인되었습니다.\n\n감사합니다.", facts.order_id, facts.paid_amount),
        ),
        NoticeKind::DueSoon => (
            format!("[가상계좌] 주문 {} 입금기한 임박", facts.order_id),
            format!(
                "주문 {}의 입금기한이 다가오고 있습니다.\n\n{account}\n남은금액: {}\n입금기한: {}\n\n기한이 지나면 계좌가 만료됩니다.",
                facts.order_id,
                facts.amount_text(),
                facts.due_long()
            ),
        ),
        NoticeKind::Expired => (
            format!("[가상계좌] 주문 {} 입금기한 만료", facts.order_id),
            format!("주문 {}의 입금기한이 지나 아래 계좌가 만료되었습니다.\n\n{account}\n\n다시 주문해 주세요.", facts.order_id),
        ),
    };
    EmailMessage { subject, body }
}

/// `010-****-5678`. Anything that is not a full mobile or landline number keeps only its last
/// two digits.
pub fn mask_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 10 {
        format!("{}-****-{}", &digits[..3], &digits[digits.len() - 4..])
    } else {
        let keep = digits.len().saturating_sub(2);
        format!("{}{}", "*".repeat(keep), &digits[keep..])
    }
}

/// `홍*동`, `남**동`, `홍*`: the first and (for three or more characters) the last character.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// `110-***-***789`: a customer's own bank account (a refund's destination) keeps its first
/// three and last three digits.
pub fn mask_bank_account(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "*".repeat(digits.len());
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    format!("{head}-***-***{tail}")
}

/// `a***@example.com`: the first character of the local part and the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        _ => "***".to_owned(),
    }
}

/// Masks anything in free text (a provider's error message) that looks like a phone number
/// (8 or more digits, hyphens allowed) or an email address, so the text can go into logs and
/// operations events.
pub fn redact_contacts(text: &str) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@');
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        let digits = word.chars().filter(char::is_ascii_digit).count();
        if word.contains('@') {
            out.push_str(&mask_email(word));
        } else if digits >= 8 && word.chars().all(|c| c.is_ascii_digit() || c == '-') {
            out.push_str(&mask_phone(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if is_word(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BankCode;
    use crate::domain::time::parse_rfc3339;
    use proptest::prelude::*;

    fn facts(bank: BankCode, amount: i64) -> NoticeFacts {
        NoticeFacts {
            order_id: "ORD-20261124-0001".into(),
            bank_name: bank.name().into(),
            account_number: "12345678901234".into(),
            amount_due: Some(Krw::new(amount)),
            paid_amount: Krw::new(amount),
            due_at: Some(parse_rfc3339("2026-11-27T23:59:59+09:00").unwrap()),
        }
    }

    #[test]
    fn every_sms_fits_one_message_for_every_bank_and_the_largest_amount() {
        for bank in BankCode::ALL {
            for kind in [NoticeKind::Issued, NoticeKind::Paid, NoticeKind::DueSoon, NoticeKind::Expired] {
                let sms = render_sms(kind, &facts(*bank, Krw::MAX_AMOUNT.won()));
                assert!(!sms.is_long(), "{kind:?} at {bank:?} is {} bytes: {}", euc_kr_len(&sms.text), sms.text);
            }
        }
    }

    #[test]
    fn issued_notice_states_bank_number_amount_and_due_time_in_kst() {
        let f = facts(BankCode::Kookmin, 35_000);
        assert_eq!(render_sms(NoticeKind::Issued, &f).text, "[입금안내] KB국민은행 12345678901234 35,000원 11/27 23:59까지 입금");
        let email = render_email(NoticeKind::Issued, &f);
        assert!(email.body.contains("2026년 11월 27일 23:59") && email.body.contains("35,000원"), "{}", email.body);
        let talk = render_alimtalk(NoticeKind::Issued, &f);
        assert_eq!(talk.template_code, "VA_ISSUED");
        assert_eq!(talk.parameters["dueAt"], "2026년 11월 27일 23:59");
    }

    #[test]
    fn alimtalk_parameters_are_exactly_the_variables_of_the_registered_template() {
        let f = facts(BankCode::Shinhan, 1000);
        for kind in [NoticeKind::Issued, NoticeKind::Paid, NoticeKind::DueSoon, NoticeKind::Expired] {
            let message = render_alimtalk(kind, &f);
            let (_, template) = ALIMTALK_TEMPLATES.iter().find(|(code, _)| *code == message.template_code).unwrap();
            let variables: Vec<&str> = template.split("#{").skip(1).map(|rest| rest.split('}').next().unwrap()).collect();
            let mut expected: Vec<&str> = message.parameters.keys().map(String::as_str).collect();
            let mut found = variables.clone();
            expected.sort_unstable();
            found.sort_unstable();
            assert_eq!(found, expected, "{kind:?}");
        }
    }

    #[test]
    fn masks_follow_the_contract() {
        assert_eq!(mask_phone("01012345678"), "010-****-5678");
        assert_eq!(mask_phone("010-1234-5678"), "010-****-5678");
        assert_eq!(mask_name("홍길동"), "홍*동");
        assert_eq!(mask_name("남궁길동"), "남**동");
        assert_eq!(mask_name("홍길"), "홍*");
        assert_eq!(mask_email("abc@example.com"), "a***@example.com");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn contact_details_in_free_text_are_masked() {
        let text = "invalid recipient 01012345678 (a@example.com); code 12";
        assert_eq!(redact_contacts(text), "invalid recipient 010-****-5678 (a***@example.com); code 12");
    }

    proptest! {
        #[test]
        fn a_masked_phone_never_shows_its_middle(middle in "[0-9]{4}", last in "[0-9]{4}") {
            let masked = mask_phone(&format!("010{middle}{last}"));
            prop_assert_eq!(masked, format!("010-****-{last}"));
        }

        #[test]
        fn redaction_leaves_no_long_digit_run(prefix in "[a-z ]{0,10}", number in "[0-9]{8,12}", suffix in "[a-z ]{0,10}") {
            let redacted = redact_contacts(&format!("{prefix} {number} {suffix}"));
            prop_assert!(!redacted.contains(&number));
        }
    }
}
