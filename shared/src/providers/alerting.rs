//! Operations alert channels ([`AlertChannel`]): a Slack incoming webhook, the ops mailbox
//! (through the customer messenger's email), a local file (`serve` without Slack), and a
//! fan-out to several of them.

use super::messaging::append_line;
use crate::config::SettingsError;
use crate::domain::incident::{AlertMessage, Severity};
use crate::domain::notice::EmailMessage;
use crate::ports::{AlertChannel, AlertError, CustomerMessenger, HttpRequest, HttpSender};
use async_trait::async_trait;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The alerts file `serve` writes in its data dir when no channel is configured.
pub const ALERTS_FILE: &str = "alerts.jsonl";

/// The text posted for an alert; a page mentions the whole channel so it notifies everyone.
fn text_of(alert: &AlertMessage) -> String {
    let mention = if alert.severity == Severity::Page { "<!channel> " } else { "" };
    format!("{mention}*{}*\n{}", alert.title, alert.text)
}

/// Posts `{"text": ...}` to a Slack incoming-webhook URL.
pub struct SlackChannel {
    http: Arc<dyn HttpSender>,
    url: String,
}

impl SlackChannel {
    pub fn new(http: Arc<dyn HttpSender>, url: String) -> SlackChannel {
        SlackChannel { http, url }
    }
}

#[async_trait]
impl AlertChannel for SlackChannel {
    async fn post(&self, alert: &AlertMessage) -> Result<(), AlertError> {
        let body = json!({ "text": text_of(alert) });
        let request = HttpRequest {
            url: self.url.clone(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(&body).map_err(|e| AlertError::Sink(e.to_string()))?,
            timeout: TIMEOUT,
        };
        let response = self.http.post(request).await?;
        if (200..300).contains(&response.status) { Ok(()) } else { Err(AlertError::Status { status: response.status }) }
    }
}

/// Mails alerts to the ops address through the customer messenger's email.
pub struct EmailAlertChannel {
    messenger: Arc<dyn CustomerMessenger>,
    to: String,
}

impl EmailAlertChannel {
    pub fn new(messenger: Arc<dyn CustomerMessenger>, to: String) -> EmailAlertChannel {
        EmailAlertChannel { messenger, to }
    }
}

#[async_trait]
impl AlertChannel for EmailAlertChannel {
    async fn post(&self, alert: &AlertMessage) -> Result<(), AlertError> {
        let message = EmailMessage { subject: alert.title.clone(), body: alert.text.clone() };
        self.messenger.send_email(&self.to, &message).await.map(|_| ()).map_err(AlertError::Email)
    }
}

/// Appends each alert as one JSON line: `{"severity", "title", "text", "at"}`, phone numbers
/// and email addresses in the title and text masked (an alert may quote a provider's error).
pub struct FileAlertChannel {
    path: PathBuf,
    lock: Arc<std::sync::Mutex<()>>,
}

impl FileAlertChannel {
    pub fn new(path: PathBuf) -> FileAlertChannel {
        FileAlertChannel { path, lock: Arc::new(std::sync::Mutex::new(())) }
    }
}

#[async_trait]
impl AlertChannel for FileAlertChannel {
    async fn post(&self, alert: &AlertMessage) -> Result<(), AlertError> {
        use crate::domain::notice::redact_contacts;
        let line = json!({
            "severity": alert.severity, "title": redact_contacts(&alert.title), "text": redact_contacts(&alert.text),
            "at": crate::domain::time::to_kst_string(chrono::Utc::now()),
        });
        append_line(&self.lock, &self.path, &line).await.map_err(AlertError::Sink)
    }
}

/// Posts to every channel. It succeeds when at least one channel took the alert: retrying
/// because Slack is down would mail the ops address the same alert again and again.
pub struct FanOut(pub Vec<Arc<dyn AlertChannel>>);

#[async_trait]
impl AlertChannel for FanOut {
    async fn post(&self, alert: &AlertMessage) -> Result<(), AlertError> {
        let mut failures = Vec::new();
        for channel in &self.0 {
            if let Err(e) = channel.post(alert).await {
                tracing::warn!(error = %e, "alert channel failed");
                failures.push(e.to_string());
            }
        }
        if failures.len() < self.0.len() { Ok(()) } else { Err(AlertError::AllFailed(failures)) }
    }
}

/// The alert channels a deployment's settings ask for: Slack (`VACCOUNT_SLACK_WEBHOOK_URL`)
/// and the ops mailbox (`VACCOUNT_OPS_EMAIL`, sent with `messenger`, which it then requires),
/// either or both; with neither, the file `<data_dir>/alerts.jsonl`; with no data dir either,
/// an error.
pub fn alert_channel_from_lookup(
    lookup: impl Fn(&str) -> Option<String>,
    http: Arc<dyn HttpSender>,
    messenger: Option<Arc<dyn CustomerMessenger>>,
    data_dir: Option<&Path>,
) -> Result<Arc<dyn AlertChannel>, SettingsError> {
    let present = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut channels: Vec<Arc<dyn AlertChannel>> = Vec::new();
    if let Some(url) = present("VACCOUNT_SLACK_WEBHOOK_URL") {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(SettingsError { name: "VACCOUNT_SLACK_WEBHOOK_URL".into(), message: "must be an http(s) URL".into() });
        }
        channels.push(Arc::new(SlackChannel::new(http, url)));
    }
    if let Some(to) = present("VACCOUNT_OPS_EMAIL") {
        if !to.contains('@') {
            return Err(SettingsError { name: "VACCOUNT_OPS_EMAIL".into(), message: "must be an email address".into() });
        }
        let messenger = messenger.ok_or_else(|| SettingsError {
            name: "VACCOUNT_OPS_EMAIL".into(),
            message: "needs a messaging provider (VACCOUNT_MESSAGING_URL) to send with".into(),
        })?;
        channels.push(Arc::new(EmailAlertChannel::new(messenger, to)));
    }
    match (channels.len(), data_dir) {
        (1, _) => Ok(channels.remove(0)),
        (0, Some(dir)) => Ok(Arc::new(FileAlertChannel::new(dir.join(ALERTS_FILE)))),
        (0, None) => Err(SettingsError {
            name: "VACCOUNT_SLACK_WEBHOOK_URL".into(),
            message: "or VACCOUNT_OPS_EMAIL is required where there is no data dir for the alerts file".into(),
        }),
        _ => Ok(Arc::new(FanOut(channels))),
    }
}
