//! Ops alerts and incidents, on both backends. Alerts go to the file channel `serve` uses.

use chrono::{DateTime, Duration, Utc};
use http::{Request, StatusCode};
use std::sync::Arc;
use tower::ServiceExt;
use vaccount::app::alerts::AlertConsumer;
use vaccount::app::consumer::{Consumer, Outcome, Received};
use vaccount::app::{AppError, Service, Settings};
use vaccount::aws::alarms::OpsAlertMessages;
use vaccount::domain::event::DeadLetteredData;
use vaccount::domain::incident::{Incident, IncidentStatus, Severity};
use vaccount::domain::time::parse_rfc3339;
use vaccount::domain::{EventData, EventType, MerchantId, OutboxEvent};
use vaccount::on_both_backends;
use vaccount::providers::alerting::FileAlertChannel;
use vaccount::testing::{Backend, FixedClock, TestTable, table};

on_both_backends!(
    three_dead_letters_for_one_merchant_within_ten_minutes_page,
    three_dead_letters_spread_over_thirty_minutes_do_not_page,
    another_merchants_alerts_are_a_separate_incident,
    a_redelivered_alert_counts_once_and_posts_once,
    a_cloudwatch_alarm_pages_and_its_ok_resolves_the_incident,
    operators_acknowledge_and_resolve_and_a_new_alert_opens_a_new_incident,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    _dir: tempfile::TempDir,
    alerts_file: std::path::PathBuf,
    service: Arc<Service>,
    /// As the ops-alert function consumes: alarms are read by the AWS adapter.
    consumer: OpsAlertMessages,
}

async fn world(backend: Backend) -> World {
    let t = table(backend).await;
    let service = Arc::new(Service::new(vaccount::testing::sealed(t.table.clone()), FixedClock::new(t0()), Settings::default()));
    let dir = tempfile::tempdir().unwrap();
    let alerts_file = dir.path().join("alerts.jsonl");
    let consumer = OpsAlertMessages::new(AlertConsumer::new(service.clone(), Arc::new(FileAlertChannel::new(alerts_file.clone()))));
    World { _t: t, _dir: dir, alerts_file, service, consumer }
}

fn merchant(n: u8) -> MerchantId {
    format!("mch_01KWFX0000000000000000MCH{n}").parse().unwrap()
}

fn dead_letter(merchant: &MerchantId, minutes: i64) -> String {
    let data = DeadLetteredData {
        endpoint_id: "whe_01KWFX0000000000000000WHE1".parse().unwrap(),
        event_id: "evt_01KWFX0000000000000000EVT1".parse().unwrap(),
        event_type: EventType::AccountPaid,
        attempts: 8,
        last_error: Some("HTTP 500".into()),
        url_host: "hooks.example.com".into(),
    };
    let event = OutboxEvent::new(Some(merchant.clone()), EventData::WebhookDeadLettered(data), t0() + Duration::minutes(minutes));
    serde_json::to_string(&event).unwrap()
}

async fn consume(w: &World, body: &str) -> Outcome {
    w.consumer.consume(&Received { id: "m".into(), body: body.to_owned(), receive_count: 1 }).await.unwrap()
}

/// The severities of the alerts posted so far, in order.
fn posted(w: &World) -> Vec<String> {
    let text = std::fs::read_to_string(&w.alerts_file).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["severity"].as_str().unwrap().to_owned()).collect()
}

async fn incidents(w: &World, status: Option<IncidentStatus>) -> Vec<Incident> {
    w.service.incidents().list_incidents(status, 100, None).await.unwrap().items
}

async fn three_dead_letters_for_one_merchant_within_ten_minutes_page(backend: Backend) {
    let w = world(backend).await;
    for minutes in [0, 4, 9] {
        assert_eq!(consume(&w, &dead_letter(&merchant(1), minutes)).await, Outcome::Done);
    }
    assert_eq!(posted(&w), vec!["warning", "warning", "page"]);
    let all = incidents(&w, None).await;
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].severity, all[0].count, all[0].subject.as_str()), (Severity::Page, 3, merchant(1).as_str()));
}

async fn three_dead_letters_spread_over_thirty_minutes_do_not_page(backend: Backend) {
    let w = world(backend).await;
    for minutes in [0, 15, 30] {
        consume(&w, &dead_letter(&merchant(1), minutes)).await;
    }
    assert_eq!(posted(&w), vec!["warning"; 3]);
    assert_eq!(incidents(&w, None).await[0].severity, Severity::Warning);
}

async fn another_merchants_alerts_are_a_separate_incident(backend: Backend) {
    let w = world(backend).await;
    consume(&w, &dead_letter(&merchant(1), 0)).await;
    consume(&w, &dead_letter(&merchant(2), 1)).await;
    consume(&w, &dead_letter(&merchant(1), 2)).await;
    let all = incidents(&w, Some(IncidentStatus::Open)).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|i| i.severity == Severity::Warning));
    let counts: Vec<(String, u32)> = all.iter().map(|i| (i.subject.clone(), i.count)).collect();
    assert!(counts.contains(&(merchant(1).to_string(), 2)) && counts.contains(&(merchant(2).to_string(), 1)), "{counts:?}");
}

async fn a_redelivered_alert_counts_once_and_posts_once(backend: Backend) {
    let w = world(backend).await;
    let body = dead_letter(&merchant(1), 0);
    consume(&w, &body).await;
    consume(&w, &body).await;
    consume(&w, &body).await;
    assert_eq!(posted(&w).len(), 1);
    assert_eq!(incidents(&w, None).await[0].count, 1);
}

fn alarm(state: &str, at: &str) -> String {
    serde_json::json!({
        "AlarmName": "vaccount-prod-webhook-dlq-depth", "AlarmDescription": "DLQ not empty",
        "AWSAccountId": "123456789012", "NewStateValue": state, "NewStateReason": "Threshold Crossed: 1 datapoint",
        "StateChangeTime": at, "Region": "Asia Pacific (Seoul)", "OldStateValue": "OK",
    })
    .to_string()
}

async fn a_cloudwatch_alarm_pages_and_its_ok_resolves_the_incident(backend: Backend) {
    let w = world(backend).await;
    consume(&w, &alarm("ALARM", "2026-11-24T01:00:00.000+0000")).await;
    let open = incidents(&w, Some(IncidentStatus::Open)).await;
    assert_eq!((open.len(), open[0].severity, open[0].kind.as_str()), (1, Severity::Page, "alarm"));
    consume(&w, &alarm("OK", "2026-11-24T01:20:00.000+0000")).await;
    assert!(incidents(&w, Some(IncidentStatus::Open)).await.is_empty());
    let resolved = incidents(&w, Some(IncidentStatus::Resolved)).await;
    assert_eq!((resolved.len(), resolved[0].resolved_by.clone()), (1, None));
    assert_eq!(posted(&w), vec!["page", "warning"]);
    // An OK with nothing open posts nothing.
    consume(&w, &alarm("OK", "2026-11-24T02:00:00.000+0000")).await;
    assert_eq!(posted(&w).len(), 2);
}

async fn operators_acknowledge_and_resolve_and_a_new_alert_opens_a_new_incident(backend: Backend) {
    let w = world(backend).await;
    consume(&w, &dead_letter(&merchant(1), 0)).await;
    let incident = incidents(&w, None).await.remove(0);
    let kim = vaccount::testing::operator_session(&w.service, "kim", vaccount::domain::operator::Role::Admin, false).await;
    let router = vaccount::http::all_routes(w.service.clone(), None, Arc::new(vaccount::net::SystemResolver));
    let call = |method: &str, uri: String, operator: Option<&vaccount::testing::TestOperator>| {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(operator) = operator {
            request = request.header("cookie", operator.cookie_header()).header("x-csrf-token", &operator.csrf);
        }
        let router = router.clone();
        let request = request.body(axum::body::Body::empty()).unwrap();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            (status, serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_default())
        }
    };
    assert_eq!(call("GET", "/admin/v1/incidents".into(), None).await.0, StatusCode::UNAUTHORIZED);
    let (status, page) = call("GET", "/admin/v1/incidents?status=open".into(), Some(&kim)).await;
    assert_eq!((status, page["data"][0]["id"].as_str()), (StatusCode::OK, Some(incident.id.as_str())));
    let (status, acked) = call("POST", format!("/admin/v1/incidents/{}/acknowledge", incident.id), Some(&kim)).await;
    assert_eq!((status, acked["status"].as_str(), acked["acknowledged_by"].as_str()), (StatusCode::OK, Some("acknowledged"), Some("kim")));
    let (status, _) = call("POST", format!("/admin/v1/incidents/{}/acknowledge", incident.id), Some(&kim)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, resolved) = call("POST", format!("/admin/v1/incidents/{}/resolve", incident.id), Some(&kim)).await;
    assert_eq!((status, resolved["status"].as_str(), resolved["resolved_by"].as_str()), (StatusCode::OK, Some("resolved"), Some("kim")));
    assert_eq!(call("GET", "/admin/v1/incidents?status=nope".into(), Some(&kim)).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(call("POST", "/admin/v1/incidents/inc_bad/resolve".into(), Some(&kim)).await.0, StatusCode::NOT_FOUND);
    // The next alert about the same merchant is a new incident.
    consume(&w, &dead_letter(&merchant(1), 5)).await;
    let open = incidents(&w, Some(IncidentStatus::Open)).await;
    assert_eq!(open.len(), 1);
    assert_ne!(open[0].id, incident.id);
    assert!(matches!(w.service.incidents().resolve_incident(&"kim".parse().unwrap(), &incident.id).await, Err(AppError::Conflict(_))));
}
