//! Customer messaging adapters of [`CustomerMessenger`]:
//!
//! - [`NhnMessenger`]: an NHN Cloud-style HTTP API (알림톡 v2.3, SMS v3.0, email v2.0). A send
//!   succeeds when the answer is 2xx *and* its `header.isSuccessful` is `true` (the provider
//!   answers 200 with `isSuccessful: false` when it declines) and no recipient was refused.
//! - [`FileMessenger`]: appends each message as one JSON line to a file. `serve` uses it when
//!   no provider is configured, so a developer sees what the customer would get. The file holds
//!   the recipients (it stands in for the provider's outbox); it is not a log.

use crate::config::SettingsError;
use crate::domain::notice::{AlimtalkMessage, EmailMessage, SmsMessage, redact_contacts};
use crate::ports::{CustomerMessenger, HttpRequest, HttpSender, MessagingError, ProviderMessageId};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The provider gets this long to answer; the queue retries a slower one.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The notices file `serve` writes in its data dir when no provider is configured.
pub const NOTICES_FILE: &str = "notices.jsonl";

/// Where and as whom to send through the provider. A channel whose sender is not configured
/// answers [`MessagingError::NotConfigured`], and the consumer falls back to the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NhnConfig {
    /// `https://api-alimtalk.cloud.toast.com`-style base, without a trailing slash.
    pub base_url: String,
    pub app_key: String,
    pub secret_key: String,
    /// The KakaoTalk channel's sender key (알림톡).
    pub alimtalk_sender_key: Option<String>,
    /// The registered calling number (SMS/LMS).
    pub sms_sender: Option<String>,
    /// The sender address (email).
    pub email_sender: Option<String>,
}

pub struct NhnMessenger {
    http: Arc<dyn HttpSender>,
    config: NhnConfig,
}

impl NhnMessenger {
    pub fn new(http: Arc<dyn HttpSender>, mut config: NhnConfig) -> NhnMessenger {
        config.base_url = config.base_url.trim_end_matches('/').to_owned();
        NhnMessenger { http, config }
    }

    async fn post(&self, path: String, body: Value) -> Result<ProviderMessageId, MessagingError> {
        let request = HttpRequest {
            url: format!("{}{path}", self.config.base_url),
            headers: vec![("Content-Type".into(), "application/json;charset=UTF-8".into()), ("X-Secret-Key".into(), self.config.secret_key.clone())],
            body: serde_json::to_vec(&body).map_err(|e| MessagingError::Unreadable(e.to_string()))?,
            timeout: TIMEOUT,
        };
        let response = self.http.post(request).await?;
        if !(200..300).contains(&response.status) {
            return Err(MessagingError::Status { status: response.status });
        }
        read_answer(&response.body)
    }
}

/// The provider's answer: `{"header": {"isSuccessful", "resultCode", "resultMessage"}, ...}`,
/// with the request id and per-recipient results under `message` (알림톡) or `body.data`
/// (SMS, email).
fn read_answer(body: &[u8]) -> Result<ProviderMessageId, MessagingError> {
    let answer: Value = serde_json::from_slice(body).map_err(|e| MessagingError::Unreadable(e.to_string()))?;
    let header = answer.get("header").ok_or_else(|| MessagingError::Unreadable("no header".into()))?;
    let declined = |result: &Value| MessagingError::Declined {
        code: result.get("resultCode").and_then(Value::as_i64).unwrap_or(-1),
        message: redact_contacts(result.get("resultMessage").and_then(Value::as_str).unwrap_or("")),
    };
    match header.get("isSuccessful").and_then(Value::as_bool) {
        Some(true) => {}
        Some(false) => return Err(declined(header)),
        None => return Err(MessagingError::Unreadable("header.isSuccessful missing".into())),
    }
    let payload = answer.get("message").or_else(|| answer.pointer("/body/data")).unwrap_or(&Value::Null);
    // One recipient per request: its own result decides (an unknown number is refused here).
    for list in ["sendResults", "sendResultList", "results"] {
        if let Some(failed) =
            payload.get(list).and_then(Value::as_array).and_then(|rs| rs.iter().find(|r| r.get("resultCode").and_then(Value::as_i64).is_some_and(|c| c != 0)))
        {
            return Err(declined(failed));
        }
    }
    payload.get("requestId").and_then(Value::as_str).map(|id| ProviderMessageId(id.to_owned())).ok_or_else(|| MessagingError::Unreadable("no requestId".into()))
}

#[async_trait]
impl CustomerMessenger for NhnMessenger {
    async fn send_alimtalk(&self, phone: &str, message: &AlimtalkMessage) -> Result<ProviderMessageId, MessagingError> {
        let sender_key = self.config.alimtalk_sender_key.as_deref().ok_or(MessagingError::NotConfigured("alimtalk sender key"))?;
        let body = json!({
            "senderKey": sender_key,
            "templateCode": message.template_code,
            "recipientList": [{"recipientNo": phone, "templateParameter": message.parameters}],
        });
        self.post(format!("/alimtalk/v2.3/appkeys/{}/messages", self.config.app_key), body).await
    }

    async fn send_sms(&self, phone: &str, message: &SmsMessage) -> Result<ProviderMessageId, MessagingError> {
        let sender = self.config.sms_sender.as_deref().ok_or(MessagingError::NotConfigured("sms sender number"))?;
        let recipients = json!([{"recipientNo": phone}]);
        if message.is_long() {
            let body = json!({"title": "가상계좌 안내", "body": message.text, "sendNo": sender, "recipientList": recipients});
            return self.post(format!("/sms/v3.0/appKeys/{}/sender/mms", self.config.app_key), body).await;
        }
        let body = json!({"body": message.text, "sendNo": sender, "recipientList": recipients});
        self.post(format!("/sms/v3.0/appKeys/{}/sender/sms", self.config.app_key), body).await
    }

    async fn send_email(&self, address: &str, message: &EmailMessage) -> Result<ProviderMessageId, MessagingError> {
        let sender = self.config.email_sender.as_deref().ok_or(MessagingError::NotConfigured("email sender address"))?;
        let body = json!({
            "senderAddress": sender,
            "title": message.subject,
            "body": message.body,
            "receiverList": [{"receiveMailAddr": address, "receiveType": "MRT0"}],
        });
        self.post(format!("/email/v2.0/appKeys/{}/sender/mail", self.config.app_key), body).await
    }
}

/// Appends one JSON line per message: `{"channel", "to", "message", "message_id", "at"}`, the
/// recipient masked (`010-****-5678`, `k***@example.com`): the file is a developer's stand-in
/// for the provider, and a copy of customers' contacts on disk would be a leak waiting to
/// happen.
pub struct FileMessenger {
    path: PathBuf,
    // Lines from concurrent sends must not interleave.
    lock: Arc<std::sync::Mutex<()>>,
}

impl FileMessenger {
    pub fn new(path: PathBuf) -> FileMessenger {
        FileMessenger { path, lock: Arc::new(std::sync::Mutex::new(())) }
    }

    async fn append(&self, channel: &str, to: &str, message: Value) -> Result<ProviderMessageId, MessagingError> {
        let now = chrono::Utc::now();
        let id = format!("file_{}", ulid::Ulid::new());
        let to = if channel == "email" { crate::domain::notice::mask_email(to) } else { crate::domain::notice::mask_phone(to) };
        let line = json!({
            "channel": channel, "to": to, "message": message, "message_id": id,
            "at": crate::domain::time::to_kst_string(now),
        });
        append_line(&self.lock, &self.path, &line).await.map_err(MessagingError::Sink)?;
        Ok(ProviderMessageId(id))
    }
}

/// Appends `value` and a newline to `path` in one write, creating the file owner-only (0600)
/// if needed and narrowing an existing one. The file work runs on the blocking pool: a slow
/// disk must not stall the runtime's workers.
pub(crate) async fn append_line(lock: &Arc<std::sync::Mutex<()>>, path: &Path, value: &Value) -> Result<(), String> {
    use std::io::Write;
    let mut text = serde_json::to_string(value).map_err(|e| e.to_string())?;
    text.push('\n');
    let (lock, path) = (lock.clone(), path.to_owned());
    tokio::task::spawn_blocking(move || {
        let _guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let failed = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(0o600);
            let file = options.open(&path).map_err(failed)?;
            let permissions = file.metadata().map_err(failed)?.permissions();
            if permissions.mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(failed)?;
            }
        }
        let mut file = options.open(&path).map_err(failed)?;
        file.write_all(text.as_bytes()).map_err(failed)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[async_trait]
impl CustomerMessenger for FileMessenger {
    async fn send_alimtalk(&self, phone: &str, message: &AlimtalkMessage) -> Result<ProviderMessageId, MessagingError> {
        self.append("alimtalk", phone, json!(message)).await
    }

    async fn send_sms(&self, phone: &str, message: &SmsMessage) -> Result<ProviderMessageId, MessagingError> {
        self.append(if message.is_long() { "lms" } else { "sms" }, phone, json!(message)).await
    }

    async fn send_email(&self, address: &str, message: &EmailMessage) -> Result<ProviderMessageId, MessagingError> {
        self.append("email", address, json!(message)).await
    }
}

/// The messenger a deployment's settings ask for:
///
/// - `VACCOUNT_MESSAGING_URL` set: the provider's API, with `VACCOUNT_MESSAGING_APP_KEY` and
///   `VACCOUNT_MESSAGING_SECRET_KEY` (required) and the senders `VACCOUNT_ALIMTALK_SENDER_KEY`,
///   `VACCOUNT_SMS_SENDER`, `VACCOUNT_EMAIL_SENDER` (each optional: a channel without its
///   sender is skipped in favour of the next);
/// - otherwise the file sink: `VACCOUNT_NOTICE_SINK` (a file path) or `<data_dir>/notices.jsonl`;
/// - neither (a Lambda without a provider): an error, so a misconfigured function fails at start.
pub fn messenger_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    http: Arc<dyn HttpSender>,
    data_dir: Option<&Path>,
) -> Result<Arc<dyn CustomerMessenger>, SettingsError> {
    let present = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(base_url) = present("VACCOUNT_MESSAGING_URL") {
        if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
            return Err(SettingsError { name: "VACCOUNT_MESSAGING_URL".into(), message: "must be an http(s) URL".into() });
        }
        let required = |name: &str| present(name).ok_or_else(|| SettingsError { name: name.into(), message: "is required with VACCOUNT_MESSAGING_URL".into() });
        let config = NhnConfig {
            base_url,
            app_key: required("VACCOUNT_MESSAGING_APP_KEY")?,
            secret_key: required("VACCOUNT_MESSAGING_SECRET_KEY")?,
            alimtalk_sender_key: present("VACCOUNT_ALIMTALK_SENDER_KEY"),
            sms_sender: present("VACCOUNT_SMS_SENDER"),
            email_sender: present("VACCOUNT_EMAIL_SENDER"),
        };
        return Ok(Arc::new(NhnMessenger::new(http, config)));
    }
    let path = match (present("VACCOUNT_NOTICE_SINK"), data_dir) {
        (Some(path), _) => PathBuf::from(path),
        (None, Some(dir)) => dir.join(NOTICES_FILE),
        (None, None) => {
            return Err(SettingsError { name: "VACCOUNT_MESSAGING_URL".into(), message: "is required where there is no data dir for the notices file".into() });
        }
    };
    Ok(Arc::new(FileMessenger::new(path)))
}
