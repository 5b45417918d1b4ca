//! A fake messaging provider and Slack: a real HTTP server on 127.0.0.1 that records every
//! request and answers the way the NHN Cloud-style API (or Slack) does, as a test tells it to.

#![allow(dead_code)]

use axum::body::Bytes;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How the fake answers a channel's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// HTTP 200 with `header.isSuccessful: false`.
    Decline,
    Status(u16),
}

#[derive(Debug, Clone)]
pub struct Captured {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Default)]
pub struct FakeProvider {
    pub url: String,
    received: Arc<Mutex<Vec<Captured>>>,
    answers: Arc<Mutex<HashMap<&'static str, Answer>>>,
}

/// `alimtalk`, `sms`, `lms`, `email` or `slack`, from the request path.
pub fn channel_of(path: &str) -> &'static str {
    if path.contains("/alimtalk/") {
        "alimtalk"
    } else if path.ends_with("/sender/sms") {
        "sms"
    } else if path.ends_with("/sender/mms") {
        "lms"
    } else if path.contains("/email/") {
        "email"
    } else {
        "slack"
    }
}

impl FakeProvider {
    pub async fn start() -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut fake = FakeProvider { url: format!("http://{}", listener.local_addr().unwrap()), ..FakeProvider::default() };
        fake.url = fake.url.trim_end_matches('/').to_owned();
        let state = fake.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { state.answer(uri, headers, body) }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn set(&self, channel: &'static str, answer: Answer) {
        self.answers.lock().unwrap().insert(channel, answer);
    }

    pub fn received(&self) -> Vec<Captured> {
        self.received.lock().unwrap().clone()
    }

    /// The channels of the requests received, in order.
    pub fn channels(&self) -> Vec<&'static str> {
        self.received().iter().map(|c| channel_of(&c.path)).collect()
    }

    fn answer(&self, uri: Uri, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
        let path = uri.path().to_owned();
        let channel = channel_of(&path);
        let body_json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        self.received.lock().unwrap().push(Captured { path, headers, body: body_json });
        let answer = self.answers.lock().unwrap().get(channel).copied().unwrap_or(Answer::Accept);
        let request_id = format!("req-{}-{}", channel, self.received.lock().unwrap().len());
        match (answer, channel) {
            (Answer::Status(code), _) => (StatusCode::from_u16(code).unwrap(), "server error".into()),
            (_, "slack") => (StatusCode::OK, "ok".into()),
            (Answer::Decline, _) => {
                (StatusCode::OK, json!({"header": {"isSuccessful": false, "resultCode": -1006, "resultMessage": "invalid recipient 01012345678"}}).to_string())
            }
            (Answer::Accept, "alimtalk") => (
                StatusCode::OK,
                json!({"header": {"isSuccessful": true, "resultCode": 0, "resultMessage": "SUCCESS"},
                       "message": {"requestId": request_id, "senderGroupingKey": null,
                                   "sendResults": [{"recipientSeq": 1, "resultCode": 0, "resultMessage": "SUCCESS"}]}})
                .to_string(),
            ),
            (Answer::Accept, _) => (
                StatusCode::OK,
                json!({"header": {"isSuccessful": true, "resultCode": 0, "resultMessage": "SUCCESS"},
                       "body": {"data": {"requestId": request_id, "statusCode": "2",
                                         "sendResultList": [{"recipientNo": "x", "resultCode": 0, "resultMessage": "SUCCESS"}]}}})
                .to_string(),
            ),
        }
    }
}

/// The settings lookup of a deployment with every messaging setting pointing at `fake`.
pub fn provider_settings(fake: &FakeProvider) -> impl Fn(&str) -> Option<String> + use<> {
    let url = fake.url.clone();
    move |name: &str| {
        let value = match name {
            "VACCOUNT_MESSAGING_URL" => url.as_str(),
            "VACCOUNT_MESSAGING_APP_KEY" => "app-key-1",
            "VACCOUNT_MESSAGING_SECRET_KEY" => "secret-key-1",
            "VACCOUNT_ALIMTALK_SENDER_KEY" => "sender-key-1",
            "VACCOUNT_SMS_SENDER" => "15880000",
            "VACCOUNT_EMAIL_SENDER" => "no-reply@vaccount.example",
            _ => return None,
        };
        Some(value.to_owned())
    }
}
