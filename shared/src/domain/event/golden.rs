//! The events' JSON is a contract: webhook bodies, `GET /v1/events` items, SNS messages and
//! stored events all serialise an event the same way. `golden.jsonl` holds that serialisation
//! of one event of every type (and of the optional parts of some), byte for byte; every line
//! must also decode, as events stored by earlier versions do.

use super::*;
use crate::testing::sample_events::{self, t0};
use chrono::Duration;

const GOLDEN: &str = include_str!("golden.jsonl");

/// Fixed ids, so the lines compare byte for byte.
fn numbered(mut event: OutboxEvent, n: usize) -> OutboxEvent {
    event.id = format!("evt_01KWFX0000000000000000GD{n:02}").parse().expect("event id");
    event
}

fn events() -> Vec<OutboxEvent> {
    let at = t0() + Duration::hours(3);
    let mut events: Vec<OutboxEvent> = EventType::ALL.into_iter().map(|kind| sample_events::event(kind, at)).collect();
    // The optional parts: a statement that came but could not be read, a delivery that died
    // without an error text.
    let unreadable = StatementMissingData {
        provider: "bank".parse().expect("provider"),
        date: t0().date_naive(),
        fault: StatementFault::Unreadable { errors: vec!["line 2: amount is not a number".into(), "line 7: unknown bank code 999".into()] },
    };
    events.push(OutboxEvent::new(None, EventData::ReconciliationStatementMissing(unreadable), at));
    let EventData::WebhookDeadLettered(mut silent) = sample_events::data(EventType::WebhookDeadLettered) else { unreachable!("the sample of its type") };
    silent.last_error = None;
    events.push(OutboxEvent::new(Some(sample_events::MERCHANT_ID.parse().expect("merchant")), EventData::WebhookDeadLettered(silent), at));
    events.into_iter().enumerate().map(|(n, e)| numbered(e, n + 1)).collect()
}

#[test]
fn every_event_serialises_as_the_golden_lines() {
    let lines: Vec<String> = events().iter().map(|e| serde_json::to_string(e).expect("serialise")).collect();
    let golden: Vec<&str> = GOLDEN.lines().collect();
    for (n, (line, expected)) in lines.iter().zip(&golden).enumerate() {
        assert_eq!(line, expected, "line {}", n + 1);
    }
    assert_eq!(lines.len(), golden.len(), "one line per event:\n{}", lines.join("\n"));
}

#[test]
fn the_golden_lines_cover_every_type() {
    let kinds: std::collections::BTreeSet<EventType> = GOLDEN.lines().map(|line| serde_json::from_str::<OutboxEvent>(line).expect("decode").kind()).collect();
    assert_eq!(kinds, EventType::ALL.into_iter().collect());
}

#[test]
fn stored_events_decode_and_serialise_unchanged() {
    for line in GOLDEN.lines() {
        // As the wire carries it, and as the store gives it back (keys in another order).
        let from_text: OutboxEvent = serde_json::from_str(line).expect("decode the wire form");
        assert_eq!(serde_json::to_string(&from_text).expect("serialise"), line);
        let stored = crate::repo::to_attr(&from_text).expect("stored form");
        let item = std::collections::BTreeMap::from([("data".to_owned(), stored)]);
        let from_store: OutboxEvent = crate::repo::data_of(&item).expect("decode the stored form");
        assert_eq!(from_store, from_text);
    }
}
