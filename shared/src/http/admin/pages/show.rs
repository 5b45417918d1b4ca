//! How values of the API's JSON read on a page: won as `35,000원`, times in KST as
//! `2026-11-24 10:00`, codes as Korean labels, counts read up to a bound as `10,000+`.

use crate::domain::Krw;
use crate::domain::operator::Role;
use crate::domain::time::{kst, parse_rfc3339};
use serde_json::Value;

/// The value at a dotted path (`exception.amount`).
pub(super) fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |v, key| v.get(key).unwrap_or(&Value::Null))
}

/// A string field, or "".
pub(super) fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    at(value, path).as_str().unwrap_or("")
}

/// An amount of won: `35,000원`.
pub(super) fn won(value: &Value) -> String {
    value.as_i64().map(|w| Krw::new(w).to_string()).unwrap_or_default()
}

/// An instant in KST to the minute: `2026-11-24 10:00`.
pub(super) fn kst_time(value: &Value) -> String {
    value.as_str().and_then(|s| parse_rfc3339(s).ok()).map(|t| t.with_timezone(&kst()).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}

/// A count: `1,234`.
pub(super) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A `Tally` or `Volume` count: `1,234`, or `10,000+` when the read stopped at its bound.
pub(super) fn tally(value: &Value) -> String {
    let n = at(value, "count").as_u64().unwrap_or(0);
    let complete = at(value, "complete").as_bool().unwrap_or(true);
    if complete { count(n) } else { format!("{}+", count(n)) }
}

/// A value as plain text (numbers, booleans and strings; nothing for null).
pub(super) fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "예".into(),
        Value::Bool(false) => "아니오".into(),
        Value::Number(n) => n.as_u64().map(count).unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

/// The Korean label of a code the API answers; an unknown code shows as itself.
pub(super) fn label(code: &str) -> &str {
    match LABELS.iter().find(|(c, _)| *c == code) {
        Some((_, l)) => l,
        None => code.parse::<Role>().map(Role::label).unwrap_or(code),
    }
}

/// Codes of the API's enumerations (statuses, reasons, outcomes) and their labels. One table:
/// the same code means the same thing wherever it appears.
const LABELS: &[(&str, &str)] = &[
    // virtual accounts
    ("waiting", "입금 대기"),
    ("partially_paid", "부분 입금"),
    ("paid", "입금 완료"),
    ("overpaid", "초과 입금"),
    ("expired", "기한 만료"),
    ("closed", "해지"),
    // deposits and exceptions
    ("matched", "정상"),
    ("exception", "예외"),
    ("reversed", "취소됨"),
    ("underpaid", "부족 입금"),
    ("late", "기한 후 입금"),
    ("unknown_account", "없는 계좌"),
    ("closed_account", "해지된 계좌"),
    ("name_mismatch", "입금자명 불일치"),
    ("pending_approval", "승인 대기"),
    ("assign", "계좌 배정"),
    ("refund", "환불"),
    ("write_off", "손실 처리"),
    // incidents
    ("open", "미처리"),
    ("acknowledged", "확인함"),
    ("resolved", "해결됨"),
    ("warning", "경고"),
    ("page", "호출"),
    // operators
    ("active", "사용 중"),
    ("enrolling", "등록 대기"),
    // webhooks and customer notices
    ("succeeded", "성공"),
    ("failed", "실패"),
    ("sent", "발송"),
    ("skipped", "생략"),
    ("gave_up", "최종 실패"),
    ("alimtalk", "알림톡"),
    ("sms", "SMS"),
    ("email", "이메일"),
    ("virtual_account.issued", "계좌 발급"),
    ("virtual_account.closed", "계좌 해지"),
    ("virtual_account.expired", "기한 만료"),
    ("virtual_account.partially_paid", "부분 입금"),
    ("virtual_account.paid", "입금 완료"),
    ("virtual_account.overpaid", "초과 입금"),
    ("virtual_account.due_soon", "기한 임박 안내"),
    ("deposit.matched", "입금 확인"),
    ("deposit.exception", "입금 예외"),
    ("deposit.reversed", "입금 취소"),
    ("settlement.exported", "정산 완료"),
    // audit actions
    ("login.succeeded", "로그인"),
    ("login.failed", "로그인 실패"),
    ("login.locked", "로그인 잠김"),
    ("logout", "로그아웃"),
    ("operator.created", "운영자 생성"),
    ("operator.enrolled", "운영자 등록 완료"),
    ("operator.updated", "운영자 변경"),
    ("operator.unlocked", "운영자 잠금 해제"),
    ("password.changed", "비밀번호 변경"),
    ("merchant.created", "가맹점 생성"),
    ("merchant.settings_changed", "가맹점 설정 변경"),
    ("merchant.key_rotated", "가맹점 키 교체"),
    ("exception.resolved", "예외 처리"),
    ("exception.approved", "예외 승인"),
    ("exception.rejected", "예외 반려"),
    ("event.resent", "웹훅 재전송"),
    ("webhook.dead_letters_resent", "실패 웹훅 일괄 재전송"),
    ("incident.acknowledged", "장애 확인"),
    ("incident.resolved", "장애 해결"),
    ("pii.unmasked", "개인정보 열람"),
    ("list.exported", "목록 다운로드"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_read_in_won_and_times_in_kst() {
        assert_eq!(won(&json!(35000)), "35,000원");
        assert_eq!(kst_time(&json!("2026-11-24T10:00:00+09:00")), "2026-11-24 10:00");
        assert_eq!(kst_time(&json!("2026-11-24T01:00:30Z")), "2026-11-24 10:00");
        assert_eq!(kst_time(&Value::Null), "");
    }

    #[test]
    fn counts_are_grouped_and_a_bounded_read_says_so() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(tally(&json!({"count": 20000, "complete": false})), "20,000+");
        assert_eq!(tally(&json!({"count": 12, "complete": true})), "12");
    }

    #[test]
    fn codes_read_as_korean_labels_and_unknown_ones_as_themselves() {
        assert_eq!(label("pending_approval"), "승인 대기");
        assert_eq!(label("something_new"), "something_new");
        assert_eq!(label("super_admin"), "최고 관리자");
        for action in crate::domain::operator::AuditAction::ALL {
            assert_ne!(label(action.as_str()), action.as_str(), "{} has no label", action.as_str());
        }
        assert_eq!(text(&json!({"exception": {"reason": "late"}}), "exception.reason"), "late");
    }
}
