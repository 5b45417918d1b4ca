//! The one checkpoint type (`repo::checkpoints`), on both backends: each job's checkpoint is
//! stored under the key and in the shape docs/storage.md lists (the items written before this
//! type existed must still read), and a move from a stale read changes nothing.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use vaccount::ports::{Attr, Item, Key, StoreError, Table};
use vaccount::repo::checkpoints::{Checkpoint, DueSoonSweep, DueSweep, LocalStream, Position, ReconciliationRun, SettlementRun};
use vaccount::repo::{data_of, version_of};
use vaccount::testing::{Backend, table};

use vaccount::on_both_backends;

on_both_backends!(each_checkpoint_is_stored_where_and_as_documented, a_move_from_a_stale_read_changes_nothing);

fn at() -> DateTime<Utc> {
    "2026-11-24T01:00:00Z".parse().unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
}

/// Saves `position` on a fresh checkpoint and reads the raw item back.
async fn stored<P: Position>(table: &dyn Table, position: P, pk: &str) -> Item {
    Checkpoint::<P>::read(table).await.unwrap().save(table, position).await.unwrap();
    table.get(&Key::new(pk, "CHECKPOINT")).await.unwrap().unwrap_or_else(|| panic!("nothing stored under {pk}"))
}

async fn each_checkpoint_is_stored_where_and_as_documented(backend: Backend) {
    let t = table(backend).await;
    let table = t.table.as_ref();
    let items = [
        (stored(table, DueSweep { hour: at() }, "SWEEP#due").await, "sweep_checkpoint", json!({"hour": "2026-11-24T01:00:00Z"})),
        (stored(table, DueSoonSweep { covered_until: at() }, "SWEEP#due_soon").await, "sweep_checkpoint", json!({"covered_until": "2026-11-24T01:00:00Z"})),
        (stored(table, SettlementRun { last_day: day() }, "SETTLE#run").await, "settlement_run", json!({"last_day": "2026-11-24"})),
        (stored(table, ReconciliationRun { last_day: day() }, "RECON#run").await, "reconciliation_run", json!({"last_day": "2026-11-24"})),
        (stored(table, LocalStream { sequence: 42 }, "STREAM#local").await, "stream_checkpoint", json!({"sequence": 42})),
    ];
    for (item, kind, data) in items {
        assert_eq!(item.get("kind"), Some(&Attr::S(kind.into())), "{item:?}");
        assert_eq!(data_of::<serde_json::Value>(&item).unwrap(), data);
        assert_eq!(version_of(&item), Some(1));
    }
    assert_eq!(Checkpoint::<DueSweep>::read(table).await.unwrap().position, Some(DueSweep { hour: at() }));
}

async fn a_move_from_a_stale_read_changes_nothing(backend: Backend) {
    let t = table(backend).await;
    let table = t.table.as_ref();
    let first = Checkpoint::<SettlementRun>::read(table).await.unwrap();
    assert_eq!(first.position, None, "never moved");
    let stale = first.clone();
    let moved = first.save(table, SettlementRun { last_day: day() }).await.unwrap();
    let earlier = SettlementRun { last_day: day().pred_opt().unwrap() };
    assert!(matches!(stale.save(table, earlier).await, Err(StoreError::ConditionFailed { .. })), "a second run cannot move it back");
    let next = SettlementRun { last_day: day().succ_opt().unwrap() };
    let moved = moved.save(table, next).await.unwrap();
    assert_eq!(Checkpoint::<SettlementRun>::read(table).await.unwrap(), moved);
    assert_eq!(moved.position, Some(next));
}
