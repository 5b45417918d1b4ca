//! The `Publisher` port on SNS: one topic, subscribed by the queues of `domain::QueueName`.
//!
//! The message is the event's JSON exactly as `OutboxEvent` serializes, so a queue with raw
//! delivery hands consumers the same bytes the local dispatcher does. Routing happens in SNS,
//! on message attributes: the subscriptions' filter policies (template.yaml, equal to
//! `QueueName::filter_policy`) match `type`; `merchant_id` is there for filters and logs that
//! want it, and absent for events that belong to no merchant.

use crate::domain::OutboxEvent;
use crate::ports::{PublishError, Publisher};
use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

/// The environment variable holding the events topic's ARN.
pub const TOPIC_ARN_VAR: &str = "EVENTS_TOPIC_ARN";

/// The message attribute the subscriptions' filter policies match on.
pub const TYPE_ATTRIBUTE: &str = "type";
pub const MERCHANT_ATTRIBUTE: &str = "merchant_id";

#[derive(Clone)]
pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: impl Into<String>) -> SnsPublisher {
        SnsPublisher { client, topic_arn: topic_arn.into() }
    }

    /// The publisher for the topic named by `EVENTS_TOPIC_ARN`.
    pub fn from_env(config: &aws_config::SdkConfig) -> Result<SnsPublisher, super::ConfigError> {
        let topic_arn = std::env::var(TOPIC_ARN_VAR).map_err(|_| super::ConfigError::Missing(TOPIC_ARN_VAR))?;
        Ok(SnsPublisher::new(Client::new(config), topic_arn))
    }
}

#[async_trait]
impl Publisher for SnsPublisher {
    async fn publish(&self, event: &OutboxEvent) -> Result<(), PublishError> {
        let message = serde_json::to_string(event).map_err(|e| PublishError(format!("event {}: {e}", event.id)))?;
        let mut request =
            self.client.publish().topic_arn(&self.topic_arn).message(message).message_attributes(TYPE_ATTRIBUTE, string_attribute(event.kind().as_str())?);
        if let Some(merchant) = &event.merchant_id {
            request = request.message_attributes(MERCHANT_ATTRIBUTE, string_attribute(merchant.as_str())?);
        }
        request.send().await.map_err(|e| PublishError(format!("event {}: {}", event.id, super::sdk_error_detail(&e))))?;
        Ok(())
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, PublishError> {
    MessageAttributeValue::builder().data_type("String").string_value(value).build().map_err(|e| PublishError(e.to_string()))
}
