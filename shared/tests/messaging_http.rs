//! The messaging and Slack adapters against a real local HTTP server playing the provider.

mod fake_provider;

use fake_provider::{Answer, FakeProvider, provider_settings};
use std::sync::Arc;
use vaccount::domain::incident::{AlertMessage, Severity};
use vaccount::domain::notice::{AlimtalkMessage, EmailMessage, SmsMessage};
use vaccount::net::OutboundHttp;
use vaccount::ports::{AlertChannel, AlertError, CustomerMessenger, HttpSender, MessagingError};
use vaccount::providers::alerting::{SlackChannel, alert_channel_from_lookup};
use vaccount::providers::messaging::messenger_from_lookup;

fn http() -> Arc<dyn HttpSender> {
    Arc::new(OutboundHttp::trusted().unwrap())
}

fn messenger(fake: &FakeProvider) -> Arc<dyn CustomerMessenger> {
    messenger_from_lookup(provider_settings(fake), http(), None).unwrap()
}

fn talk() -> AlimtalkMessage {
    AlimtalkMessage { template_code: "VA_PAID".into(), parameters: [("orderId".to_owned(), "ORD-1".to_owned())].into_iter().collect() }
}

#[tokio::test]
async fn alimtalk_goes_to_the_app_key_path_with_the_secret_header_sender_key_and_template() {
    let fake = FakeProvider::start().await;
    let id = messenger(&fake).send_alimtalk("01012345678", &talk()).await.unwrap();
    assert_eq!(id.0, "req-alimtalk-1");
    let request = &fake.received()[0];
    assert_eq!(request.path, "/alimtalk/v2.3/appkeys/app-key-1/messages");
    assert_eq!(request.headers["x-secret-key"], "secret-key-1");
    assert!(request.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    assert_eq!(
        request.body,
        serde_json::json!({"senderKey": "sender-key-1", "templateCode": "VA_PAID",
                           "recipientList": [{"recipientNo": "01012345678", "templateParameter": {"orderId": "ORD-1"}}]})
    );
}

#[tokio::test]
async fn sms_and_email_follow_the_provider_api() {
    let fake = FakeProvider::start().await;
    let messenger = messenger(&fake);
    messenger.send_sms("01012345678", &SmsMessage { text: "[입금완료] 35,000원".into() }).await.unwrap();
    messenger.send_email("a@example.com", &EmailMessage { subject: "제목".into(), body: "본문".into() }).await.unwrap();
    let received = fake.received();
    assert_eq!(received[0].path, "/sms/v3.0/appKeys/app-key-1/sender/sms");
    assert_eq!(received[0].body, serde_json::json!({"body": "[입금완료] 35,000원", "sendNo": "15880000", "recipientList": [{"recipientNo": "01012345678"}]}));
    assert_eq!(received[1].path, "/email/v2.0/appKeys/app-key-1/sender/mail");
    assert_eq!(received[1].body["receiverList"][0]["receiveMailAddr"], "a@example.com");
    assert_eq!(received[1].body["senderAddress"], "no-reply@vaccount.example");
    assert_eq!(received[1].headers["x-secret-key"], "secret-key-1");
}

#[tokio::test]
async fn a_long_text_goes_as_an_lms() {
    let fake = FakeProvider::start().await;
    messenger(&fake).send_sms("01012345678", &SmsMessage { text: "가".repeat(46) }).await.unwrap();
    assert_eq!(fake.channels(), vec!["lms"]);
    assert!(fake.received()[0].body["title"].is_string());
}

#[tokio::test]
async fn a_declined_send_and_a_server_error_are_errors_without_the_recipient() {
    let fake = FakeProvider::start().await;
    fake.set("alimtalk", Answer::Decline);
    fake.set("sms", Answer::Status(500));
    let messenger = messenger(&fake);
    let declined = messenger.send_alimtalk("01012345678", &talk()).await.unwrap_err();
    assert!(matches!(&declined, MessagingError::Declined { code: -1006, .. }), "{declined:?}");
    assert!(!declined.to_string().contains("01012345678"), "{declined}");
    let failed = messenger.send_sms("01012345678", &SmsMessage { text: "x".into() }).await.unwrap_err();
    assert_eq!(failed, MessagingError::Status { status: 500 });
}

#[tokio::test]
async fn slack_gets_the_text_and_a_page_mentions_the_channel() {
    let fake = FakeProvider::start().await;
    let slack = SlackChannel::new(http(), format!("{}/services/T000/B000/XXXX", fake.url));
    let warning = AlertMessage { severity: Severity::Warning, title: "pool.low — 004".into(), text: "free=3".into() };
    slack.post(&warning).await.unwrap();
    slack.post(&AlertMessage { severity: Severity::Page, ..warning.clone() }).await.unwrap();
    let received = fake.received();
    assert_eq!(received[0].path, "/services/T000/B000/XXXX");
    assert_eq!(received[0].body, serde_json::json!({"text": "*pool.low — 004*\nfree=3"}));
    assert!(received[1].body["text"].as_str().unwrap().starts_with("<!channel> "));
    fake.set("slack", Answer::Status(500));
    assert_eq!(slack.post(&warning).await, Err(AlertError::Status { status: 500 }));
}

#[tokio::test]
async fn settings_choose_the_provider_the_file_sink_or_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let none = |_: &str| None;
    let file = messenger_from_lookup(none, http(), Some(dir.path())).unwrap();
    file.send_sms("01012345678", &SmsMessage { text: "hello".into() }).await.unwrap();
    let written = std::fs::read_to_string(dir.path().join("notices.jsonl")).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(written.trim()).unwrap()["channel"], "sms");
    assert!(messenger_from_lookup(none, http(), None).is_err());
    let no_secret = |name: &str| (name == "VACCOUNT_MESSAGING_URL").then(|| "https://api.example".to_owned());
    assert_eq!(messenger_from_lookup(no_secret, http(), Some(dir.path())).err().unwrap().name, "VACCOUNT_MESSAGING_APP_KEY");
    assert!(alert_channel_from_lookup(none, http(), Some(file.clone()), None).is_err());
    let alerts = alert_channel_from_lookup(none, http(), Some(file), Some(dir.path())).unwrap();
    alerts.post(&AlertMessage { severity: Severity::Page, title: "t".into(), text: "x".into() }).await.unwrap();
    assert!(std::fs::read_to_string(dir.path().join("alerts.jsonl")).unwrap().contains("\"page\""));
}

#[tokio::test]
async fn file_sinks_are_owner_only_and_carry_no_clear_contacts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let none = |_: &str| None;
    let file = messenger_from_lookup(none, http(), Some(dir.path())).unwrap();
    file.send_sms("01012345678", &SmsMessage { text: "hello".into() }).await.unwrap();
    file.send_email("kim@example.com", &vaccount::domain::notice::EmailMessage { subject: "s".into(), body: "b".into() }).await.unwrap();
    let alerts = alert_channel_from_lookup(none, http(), Some(file), Some(dir.path())).unwrap();
    let text = "messaging failed for 010-1234-5678 and kim@example.com";
    alerts.post(&AlertMessage { severity: Severity::Page, title: "notice.failed".into(), text: text.into() }).await.unwrap();

    for name in ["notices.jsonl", "alerts.jsonl"] {
        let path = dir.path().join(name);
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "{name} is the owner's only");
        let written = std::fs::read_to_string(&path).unwrap();
        for clear in ["01012345678", "1234-5678", "kim@example.com"] {
            assert!(!written.contains(clear), "{name} holds {clear}: {written}");
        }
    }
    let notices: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("notices.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((notices[0]["to"].as_str(), notices[1]["to"].as_str()), (Some("010-****-5678"), Some("k***@example.com")));
}
