//! template.yaml against the rules it must hold exactly: the events topic's subscriptions filter
//! as `QueueName::filter_policy` says, the queues redrive and time out as `app::consumer`
//! says, and the admin function takes every admin route. CloudFormation's short tags (`!Ref`,
//! `!GetAtt`, `!Sub`) parse as tagged YAML values.

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

/// Whether an HTTP API route (`ANY /admin/{proxy+}`, `GET /admin`) takes a request for `path`
/// (a route of the router, `{…}` its parameters) with `method`. A greedy variable takes one
/// segment or more; a route path cannot end in `/`, and its route takes the path with the slash.
fn takes(event_method: &str, event_path: &str, method: &str, path: &str) -> bool {
    let method_ok = event_method == "ANY" || event_method == method;
    let path_ok = match event_path.strip_suffix("{proxy+}") {
        Some(prefix) => path.starts_with(prefix) && path.len() > prefix.len(),
        None => event_path == path.strip_suffix('/').unwrap_or(path),
    };
    method_ok && path_ok
}

#[test]
fn the_admin_function_takes_every_admin_route_and_the_dashboard() {
    let resources = resources();
    let functions = of_type(&resources, "AWS::Serverless::Function");
    let admin = &functions["AdminFunction"];
    assert_eq!(tagged(&admin["FunctionName"], "Sub"), Some("vaccount-${Environment}-admin"));
    let events: Vec<(String, String)> = admin["Events"]
        .as_mapping()
        .expect("Events")
        .values()
        .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        .map(|e| (e["Properties"]["Method"].as_str().unwrap().to_owned(), e["Properties"]["Path"].as_str().unwrap().to_owned()))
        .collect();
    let routes = vaccount::http::admin::route_table();
    let wanted = routes.iter().map(|r| (r.method.as_str(), r.path)).chain([("GET", "/admin"), ("GET", "/admin/")]);
    for (method, path) in wanted {
        assert!(events.iter().any(|(m, p)| takes(m, p, method, path)), "no HttpApi event of AdminFunction takes {method} {path}: {events:?}");
    }
    // No other function answers under /admin.
    for (id, function) in functions.iter().filter(|(id, _)| id.as_str() != "AdminFunction") {
        for event in function["Events"].as_mapping().into_iter().flat_map(|m| m.values()) {
            let path = event["Properties"]["Path"].as_str().unwrap_or_default();
            assert!(!path.starts_with("/admin"), "{id} routes {path}");
        }
    }
}
