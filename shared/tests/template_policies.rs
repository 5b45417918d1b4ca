//! template.yaml against the rules it must hold exactly: the events topic's subscriptions filter
//! as `QueueName::filter_policy` says, and the queues redrive and time out as `app::consumer`
//! says. CloudFormation's short tags (`!Ref`, `!GetAtt`, `!Sub`) parse as tagged YAML values.

use serde_yaml::Value;
use std::collections::BTreeMap;
use vaccount::app::consumer::{ERROR_RETRY, MAX_RECEIVES};
use vaccount::domain::QueueName;

fn resources() -> serde_yaml::Mapping {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    let template: Value = serde_yaml::from_str(&std::fs::read_to_string(path).expect("template.yaml")).expect("YAML");
    template["Resources"].as_mapping().expect("Resources").clone()
}

/// The text under a short-form tag: `!Ref X` → `X`, `!GetAtt X.Arn` → `X.Arn`.
fn tagged<'a>(value: &'a Value, tag: &str) -> Option<&'a str> {
    match value {
        Value::Tagged(t) if t.tag == tag => t.value.as_str(),
        _ => None,
    }
}

fn of_type(resources: &serde_yaml::Mapping, kind: &str) -> BTreeMap<String, Value> {
    resources.iter().filter(|(_, r)| r["Type"].as_str() == Some(kind)).map(|(id, r)| (id.as_str().unwrap().to_owned(), r["Properties"].clone())).collect()
}

/// The consumer queue a queue resource is, by its name (`vaccount-${Environment}-<queue>`).
fn queue_name(queue: &Value) -> Option<QueueName> {
    let name = tagged(&queue["QueueName"], "Sub")?;
    QueueName::ALL.into_iter().find(|q| name == format!("vaccount-${{Environment}}-{}", q.as_str()))
}

/// The consumer queue each subscription to the events topic delivers to, with its properties.
fn event_subscriptions() -> BTreeMap<QueueName, Value> {
    let resources = resources();
    let queues = of_type(&resources, "AWS::SQS::Queue");
    of_type(&resources, "AWS::SNS::Subscription")
        .into_values()
        .filter(|s| tagged(&s["TopicArn"], "Ref") == Some("EventsTopic"))
        .map(|s| {
            let endpoint = tagged(&s["Endpoint"], "GetAtt").and_then(|e| e.strip_suffix(".Arn")).expect("Endpoint: !GetAtt <queue>.Arn");
            (queue_name(&queues[endpoint]).expect("a consumer queue"), s)
        })
        .collect()
}

#[test]
fn each_queue_subscribes_to_the_events_topic_with_exactly_its_filter_policy() {
    let subscriptions = event_subscriptions();
    assert_eq!(subscriptions.keys().copied().collect::<Vec<_>>(), QueueName::ALL, "one subscription per queue");
    for (queue, subscription) in subscriptions {
        let in_template = serde_json::to_value(&subscription["FilterPolicy"]).unwrap();
        assert_eq!(in_template, queue.filter_policy(), "{queue}");
        assert_eq!(subscription["FilterPolicyScope"].as_str(), Some("MessageAttributes"), "{queue}");
    }
}

#[test]
fn queues_get_the_event_json_itself() {
    for (queue, subscription) in event_subscriptions() {
        assert_eq!(subscription["RawMessageDelivery"].as_bool(), Some(true), "{queue}");
    }
}

#[test]
fn consumer_queues_redrive_and_time_out_as_the_consumer_contract_says() {
    let resources = resources();
    let queues: BTreeMap<QueueName, Value> = of_type(&resources, "AWS::SQS::Queue").into_values().filter_map(|q| Some((queue_name(&q)?, q))).collect();
    assert_eq!(queues.len(), QueueName::ALL.len());
    for (queue, properties) in queues {
        assert_eq!(properties["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(u64::from(MAX_RECEIVES)), "{queue}");
        assert!(tagged(&properties["RedrivePolicy"]["deadLetterTargetArn"], "GetAtt").is_some(), "{queue} has a DLQ");
        assert_eq!(properties["VisibilityTimeout"].as_i64(), Some(ERROR_RETRY.num_seconds()), "{queue}");
    }
}

#[test]
fn the_publisher_reads_only_inserted_event_items() {
    let resources = resources();
    let publisher = &of_type(&resources, "AWS::Serverless::Function")["EventPublisherFunction"];
    let source = &publisher["Events"]["Outbox"]["Properties"];
    let pattern: serde_json::Value = serde_json::from_str(source["FilterCriteria"]["Filters"][0]["Pattern"].as_str().unwrap()).unwrap();
    let expected = serde_json::json!({
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"sk": {"S": [vaccount::repo::outbox::EVENT_SORT_KEY]}}},
    });
    assert_eq!(pattern, expected);
    assert_eq!(source["FunctionResponseTypes"][0].as_str(), Some("ReportBatchItemFailures"));
}
