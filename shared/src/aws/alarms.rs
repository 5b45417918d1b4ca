//! The `ops-alerts` queue as AWS fills it: outbox events from the events topic, and CloudWatch
//! alarm state changes from the alarms topic. Both subscriptions deliver raw (template.yaml),
//! but a subscription without raw delivery wraps each payload in the SNS envelope, so an
//! envelope is opened first. A CloudWatch alarm is read here into the domain's
//! [`AlarmChange`] and handed to [`AlertConsumer::consume_alarm`]; any other message goes on
//! to the consumer as it is.

use crate::app::AppError;
use crate::app::alerts::AlertConsumer;
use crate::app::consumer::{Consumer, Outcome, Received};
use crate::domain::incident::{AlarmChange, AlarmState};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The ops-alert consumer, fed the queue's messages the way AWS delivers them.
pub struct OpsAlertMessages {
    consumer: AlertConsumer,
}

impl OpsAlertMessages {
    pub fn new(consumer: AlertConsumer) -> OpsAlertMessages {
        OpsAlertMessages { consumer }
    }
}

#[async_trait]
impl Consumer for OpsAlertMessages {
    async fn consume(&self, message: &Received) -> Result<Outcome, AppError> {
        let body = opened(&message.body);
        match read_alarm(&body) {
            Ok(Read::Alarm(change)) => self.consumer.consume_alarm(&change).await,
            Ok(Read::Silent) => Ok(Outcome::Done),
            Ok(Read::NotAnAlarm) => self.consumer.consume(&Received { body, ..message.clone() }).await,
            Err(e) => {
                // Retrying cannot make it readable.
                tracing::error!(message = %message.id, error = %e, "CloudWatch alarm message is unreadable; dropped");
                Ok(Outcome::Done)
            }
        }
    }
}

/// The payload of a message, out of any SNS envelopes around it.
fn opened(body: &str) -> String {
    let mut body = body.to_owned();
    while let Ok(value) = serde_json::from_str::<Value>(&body) {
        match (value.get("Type").and_then(Value::as_str), value.get("Message").and_then(Value::as_str)) {
            (Some("Notification"), Some(inner)) => body = inner.to_owned(),
            _ => break,
        }
    }
    body
}

/// A CloudWatch alarm notification, as SNS delivers it raw to the queue.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AlarmNotification {
    alarm_name: String,
    new_state_value: String,
    #[serde(default)]
    new_state_reason: Option<String>,
    #[serde(default)]
    state_change_time: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Read {
    Alarm(AlarmChange),
    /// An alarm whose new state (`INSUFFICIENT_DATA`) says nothing about the service's health.
    Silent,
    NotAnAlarm,
}

/// CloudWatch writes `2026-11-24T01:00:00.000+0000`, which is not RFC 3339.
fn alarm_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?;
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z").or_else(|_| DateTime::parse_from_rfc3339(text)).ok().map(|t| t.with_timezone(&Utc))
}

fn read_alarm(body: &str) -> Result<Read, String> {
    let Ok(value) = serde_json::from_str::<Value>(body) else { return Ok(Read::NotAnAlarm) };
    if value.get("AlarmName").is_none() {
        return Ok(Read::NotAnAlarm);
    }
    let alarm: AlarmNotification = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let state = match alarm.new_state_value.as_str() {
        "ALARM" => AlarmState::Alarm,
        "OK" => AlarmState::Ok,
        _ => return Ok(Read::Silent),
    };
    Ok(Read::Alarm(AlarmChange {
        monitor: "CloudWatch",
        at: alarm_time(alarm.state_change_time.as_deref()),
        mark: alarm.state_change_time.unwrap_or_default(),
        name: alarm.alarm_name,
        state,
        reason: alarm.new_state_reason.unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALARM: &str = r#"{"AlarmName":"vaccount-prod-api-5xx","NewStateValue":"ALARM","NewStateReason":"Threshold Crossed","StateChangeTime":"2026-11-24T01:00:00.000+0000","OldStateValue":"OK"}"#;

    #[test]
    fn a_cloudwatch_alarm_reads_into_its_change() {
        let Ok(Read::Alarm(change)) = read_alarm(ALARM) else { panic!("an alarm") };
        assert_eq!((change.name.as_str(), change.state, change.reason.as_str()), ("vaccount-prod-api-5xx", AlarmState::Alarm, "Threshold Crossed"));
        assert_eq!(change.at, Some(DateTime::parse_from_rfc3339("2026-11-24T01:00:00Z").unwrap().with_timezone(&Utc)));
        assert_eq!(change.mark, "2026-11-24T01:00:00.000+0000");
        let ok = ALARM.replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"OK\"");
        assert!(matches!(read_alarm(&ok), Ok(Read::Alarm(AlarmChange { state: AlarmState::Ok, .. }))));
        let unknown = ALARM.replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"INSUFFICIENT_DATA\"");
        assert_eq!(read_alarm(&unknown), Ok(Read::Silent));
        assert!(read_alarm(r#"{"AlarmName":7}"#).is_err(), "an alarm that cannot be read is not taken for an event");
    }

    #[test]
    fn an_sns_envelope_is_opened_and_anything_else_is_not_an_alarm() {
        let envelope = serde_json::json!({"Type": "Notification", "MessageId": "m-1", "Message": ALARM}).to_string();
        assert_eq!(opened(&envelope), ALARM);
        let event = r#"{"id":"evt_1","type":"pool.low"}"#;
        assert_eq!(opened(event), event);
        assert_eq!(read_alarm(event), Ok(Read::NotAnAlarm));
        assert_eq!(read_alarm("not json"), Ok(Read::NotAnAlarm));
    }
}
