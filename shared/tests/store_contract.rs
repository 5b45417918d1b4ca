//! The `Table` contract: every test runs on the embedded store and on DynamoDB (moto), and
//! both must behave the same.

use std::sync::Arc;
use vaccount::ports::{Attr, Condition, Index, Item, Key, Query, SortRange, StoreError, Table, Write};
use vaccount::testing::{Backend, table};

use vaccount::on_both_backends;

on_both_backends!(
    put_then_get_returns_every_attribute_type,
    a_failed_condition_writes_nothing_and_names_the_write,
    version_conditions_guard_updates,
    delete_and_check_obey_their_conditions,
    one_item_twice_in_a_transaction_is_refused,
    queries_page_through_a_partition_in_order_exactly_once,
    sort_ranges_select_the_right_keys,
    indexes_are_sparse_and_follow_updates_and_deletes,
    a_cursor_from_another_partition_is_refused,
    concurrent_versioned_increments_lose_no_update,
    a_transaction_past_its_commit_deadline_is_refused_whole,
);

fn item(pk: &str, sk: &str, extra: &[(&str, Attr)]) -> Item {
    let mut item = Item::new();
    item.insert("pk".into(), Attr::S(pk.into()));
    item.insert("sk".into(), Attr::S(sk.into()));
    for (k, v) in extra {
        item.insert((*k).into(), v.clone());
    }
    item
}

fn put(item: Item, condition: Condition) -> Write {
    Write::Put { item, condition }
}

fn sk_of(item: &Item) -> String {
    match item.get("sk") {
        Some(Attr::S(s)) => s.clone(),
        other => panic!("no sk: {other:?}"),
    }
}

async fn put_then_get_returns_every_attribute_type(backend: Backend) {
    let t = table(backend).await;
    let nested: std::collections::BTreeMap<String, Attr> = [("n".to_owned(), Attr::N(-7)), ("s".to_owned(), Attr::S("홍길동".into()))].into_iter().collect();
    let original = item(
        "P",
        "S",
        &[
            ("s", Attr::S("text".into())),
            ("n", Attr::N(10_000_000_000)),
            ("b", Attr::Bool(true)),
            ("z", Attr::Null),
            ("l", Attr::L(vec![Attr::N(1), Attr::S("x".into())])),
            ("m", Attr::M(nested)),
        ],
    );
    t.table.transact(vec![put(original.clone(), Condition::NotExists)]).await.unwrap();
    assert_eq!(t.table.get(&Key::new("P", "S")).await.unwrap(), Some(original));
    assert_eq!(t.table.get(&Key::new("P", "missing")).await.unwrap(), None);
}

async fn a_failed_condition_writes_nothing_and_names_the_write(backend: Backend) {
    let t = table(backend).await;
    t.table.transact(vec![put(item("P", "taken", &[]), Condition::NotExists)]).await.unwrap();
    let result = t
        .table
        .transact(vec![
            put(item("P", "new-1", &[]), Condition::NotExists),
            put(item("P", "taken", &[("v", Attr::N(2))]), Condition::NotExists),
            put(item("P", "new-2", &[]), Condition::NotExists),
        ])
        .await;
    assert_eq!(result, Err(StoreError::ConditionFailed { index: 1 }));
    assert_eq!(t.table.get(&Key::new("P", "new-1")).await.unwrap(), None);
    assert_eq!(t.table.get(&Key::new("P", "new-2")).await.unwrap(), None);
    assert_eq!(t.table.get(&Key::new("P", "taken")).await.unwrap(), Some(item("P", "taken", &[])));
}

async fn version_conditions_guard_updates(backend: Backend) {
    let t = table(backend).await;
    let v = |n| item("P", "S", &[("version", Attr::N(n))]);
    t.table.transact(vec![put(v(1), Condition::NotExists)]).await.unwrap();
    assert_eq!(t.table.transact(vec![put(v(2), Condition::VersionIs(2))]).await, Err(StoreError::ConditionFailed { index: 0 }));
    t.table.transact(vec![put(v(2), Condition::VersionIs(1))]).await.unwrap();
    assert_eq!(t.table.transact(vec![put(v(3), Condition::VersionIs(1))]).await, Err(StoreError::ConditionFailed { index: 0 }));
    assert_eq!(t.table.get(&Key::new("P", "S")).await.unwrap(), Some(v(2)));
    let missing = item("P", "other", &[("version", Attr::N(2))]);
    assert_eq!(t.table.transact(vec![put(missing, Condition::VersionIs(1))]).await, Err(StoreError::ConditionFailed { index: 0 }));
}

async fn delete_and_check_obey_their_conditions(backend: Backend) {
    let t = table(backend).await;
    t.table.transact(vec![put(item("P", "S", &[("version", Attr::N(3))]), Condition::NotExists)]).await.unwrap();
    let check_then_put = |cond| vec![Write::Check { key: Key::new("P", "S"), condition: cond }, put(item("P", "T", &[]), Condition::Always)];
    assert_eq!(t.table.transact(check_then_put(Condition::VersionIs(9))).await, Err(StoreError::ConditionFailed { index: 0 }));
    assert_eq!(t.table.get(&Key::new("P", "T")).await.unwrap(), None);
    t.table.transact(check_then_put(Condition::Exists)).await.unwrap();
    assert!(t.table.get(&Key::new("P", "T")).await.unwrap().is_some());
    let delete = |cond| vec![Write::Delete { key: Key::new("P", "S"), condition: cond }];
    assert_eq!(t.table.transact(delete(Condition::VersionIs(2))).await, Err(StoreError::ConditionFailed { index: 0 }));
    t.table.transact(delete(Condition::VersionIs(3))).await.unwrap();
    assert_eq!(t.table.get(&Key::new("P", "S")).await.unwrap(), None);
    assert_eq!(t.table.transact(delete(Condition::Exists)).await, Err(StoreError::ConditionFailed { index: 0 }));
}

async fn one_item_twice_in_a_transaction_is_refused(backend: Backend) {
    let t = table(backend).await;
    let result =
        t.table.transact(vec![put(item("P", "S", &[]), Condition::Always), Write::Check { key: Key::new("P", "S"), condition: Condition::Exists }]).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    assert_eq!(t.table.get(&Key::new("P", "S")).await.unwrap(), None);
}

async fn queries_page_through_a_partition_in_order_exactly_once(backend: Backend) {
    let t = table(backend).await;
    let sks: Vec<String> = (0..23).map(|i| format!("K{i:03}")).collect();
    for chunk in sks.chunks(10) {
        t.table.transact(chunk.iter().map(|sk| put(item("P", sk, &[]), Condition::NotExists)).collect()).await.unwrap();
    }
    t.table.transact(vec![put(item("OTHER", "K000", &[]), Condition::NotExists)]).await.unwrap();
    for descending in [false, true] {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let mut q = Query::table("P").limit(5).after(after);
            if descending {
                q = q.descending();
            }
            let page = t.table.query(&q).await.unwrap();
            assert!(page.items.len() <= 5);
            seen.extend(page.items.iter().map(sk_of));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut expected = sks.clone();
        if descending {
            expected.reverse();
        }
        assert_eq!(seen, expected, "descending={descending}");
    }
}

async fn sort_ranges_select_the_right_keys(backend: Backend) {
    let t = table(backend).await;
    let sks = ["A#1", "A#2", "AB", "B#1", "B#2", "C"];
    t.table.transact(sks.iter().map(|sk| put(item("P", sk, &[]), Condition::NotExists)).collect()).await.unwrap();
    let run = |range: SortRange| {
        let table = t.table.clone();
        async move { table.query(&Query::table("P").range(range)).await.unwrap().items.iter().map(sk_of).collect::<Vec<_>>() }
    };
    assert_eq!(run(SortRange::BeginsWith("A#".into())).await, vec!["A#1", "A#2"]);
    assert_eq!(run(SortRange::BeginsWith("A".into())).await, vec!["A#1", "A#2", "AB"]);
    assert_eq!(run(SortRange::Between("A#2".into(), "B#1".into())).await, vec!["A#2", "AB", "B#1"]);
    assert_eq!(run(SortRange::All).await.len(), sks.len());
    let newest = t.table.query(&Query::table("P").range(SortRange::BeginsWith("B#".into())).descending().limit(1)).await.unwrap();
    assert_eq!(newest.items.iter().map(sk_of).collect::<Vec<_>>(), vec!["B#2"]);
}

async fn indexes_are_sparse_and_follow_updates_and_deletes(backend: Backend) {
    let t = table(backend).await;
    let indexed = |sk: &str, ipk: &str, isk: &str| item("P", sk, &[("gsi3pk", Attr::S(ipk.into())), ("gsi3sk", Attr::S(isk.into()))]);
    t.table
        .transact(vec![
            put(indexed("a", "FREE", "2"), Condition::NotExists),
            put(indexed("b", "FREE", "1"), Condition::NotExists),
            put(item("P", "c", &[]), Condition::NotExists),
        ])
        .await
        .unwrap();
    let free = || {
        let table = t.table.clone();
        async move { table.query(&Query::index(Index::Gsi3, "FREE")).await.unwrap().items.iter().map(sk_of).collect::<Vec<_>>() }
    };
    assert_eq!(free().await, vec!["b", "a"]);
    // Dropping the index attributes takes the item out of the index; moving them moves it.
    t.table.transact(vec![put(item("P", "b", &[]), Condition::Exists), put(indexed("c", "FREE", "3"), Condition::Exists)]).await.unwrap();
    assert_eq!(free().await, vec!["a", "c"]);
    t.table.transact(vec![Write::Delete { key: Key::new("P", "a"), condition: Condition::Always }]).await.unwrap();
    assert_eq!(free().await, vec!["c"]);
    assert!(t.table.query(&Query::index(Index::Gsi1, "FREE")).await.unwrap().items.is_empty());
}

async fn a_cursor_from_another_partition_is_refused(backend: Backend) {
    let t = table(backend).await;
    t.table.transact(vec![put(item("A", "1", &[]), Condition::NotExists), put(item("A", "2", &[]), Condition::NotExists)]).await.unwrap();
    let page = t.table.query(&Query::table("A").limit(1)).await.unwrap();
    let cursor = page.next.expect("a second page");
    assert_eq!(t.table.query(&Query::table("B").after(Some(cursor))).await, Err(StoreError::InvalidCursor));
}

async fn concurrent_versioned_increments_lose_no_update(backend: Backend) {
    let t = table(backend).await;
    let counter = |n: i64| item("C", "C", &[("version", Attr::N(n))]);
    t.table.transact(vec![put(counter(1), Condition::NotExists)]).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let table: Arc<dyn Table> = t.table.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                loop {
                    let current = table.get(&Key::new("C", "C")).await.unwrap().unwrap();
                    let Some(Attr::N(v)) = current.get("version") else { panic!("no version") };
                    match table.transact(vec![put(counter(v + 1), Condition::VersionIs(*v as u64))]).await {
                        Ok(()) => return conflicts,
                        Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => conflicts += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let final_item = t.table.get(&Key::new("C", "C")).await.unwrap().unwrap();
    assert_eq!(final_item.get("version"), Some(&Attr::N(21)));
}

/// DynamoDB deletes expired items by itself (eventually); the embedded store does it when
/// `serve` calls `purge_expired`, keeping its indexes in step.
#[tokio::test]
async fn the_embedded_store_purges_expired_items_and_their_index_entries() {
    let dir = tempfile::tempdir().unwrap();
    let table = vaccount::store::EmbeddedTable::open(&dir.path().join("t.redb")).unwrap();
    let at = |n: i64| ("expires_at", Attr::N(n));
    let indexed = ("gsi3pk", Attr::S("Q".into()));
    let indexed_sk = ("gsi3sk", Attr::S("1".into()));
    table
        .transact(vec![
            put(item("P", "expired", &[at(100), indexed.clone(), indexed_sk.clone()]), Condition::NotExists),
            put(item("P", "later", &[at(10_000)]), Condition::NotExists),
            put(item("P", "forever", &[]), Condition::NotExists),
            put(item("P", "renewed", &[at(100)]), Condition::NotExists),
        ])
        .await
        .unwrap();
    table.transact(vec![put(item("P", "renewed", &[at(10_000)]), Condition::Exists)]).await.unwrap();
    assert_eq!(table.purge_expired(5_000, 100).await.unwrap(), 1);
    assert_eq!(table.get(&Key::new("P", "expired")).await.unwrap(), None);
    for sk in ["later", "forever", "renewed"] {
        assert!(table.get(&Key::new("P", sk)).await.unwrap().is_some(), "{sk} survives");
    }
    assert!(table.query(&Query::index(Index::Gsi3, "Q")).await.unwrap().items.is_empty());
    assert_eq!(table.purge_expired(5_000, 100).await.unwrap(), 0);
    assert_eq!(table.purge_expired(20_000, 1).await.unwrap(), 1, "the limit bounds one pass");
    assert_eq!(table.purge_expired(20_000, 100).await.unwrap(), 1);
    assert!(table.get(&Key::new("P", "forever")).await.unwrap().is_some());
}

async fn a_transaction_past_its_commit_deadline_is_refused_whole(backend: Backend) {
    let t = table(backend).await;
    let now = chrono::Utc::now().timestamp_millis();
    let late = item("P", "late", &[(vaccount::ports::COMMIT_BY, Attr::N(now - 1))]);
    let result = t.table.transact(vec![put(item("P", "other", &[]), Condition::NotExists), put(late, Condition::NotExists)]).await;
    assert_eq!(result, Err(StoreError::DeadlinePassed));
    assert_eq!(t.table.get(&Key::new("P", "other")).await.unwrap(), None, "nothing of it was written");
    let in_time = item("P", "in-time", &[(vaccount::ports::COMMIT_BY, Attr::N(now + 60_000))]);
    t.table.transact(vec![put(in_time.clone(), Condition::NotExists)]).await.unwrap();
    assert_eq!(t.table.get(&Key::new("P", "in-time")).await.unwrap(), Some(in_time));
}

/// Dropping the embedded store releases its file before the drop returns: `vaccount settle`
/// or a restarted `serve` opens the data dir right after a process let go of it, and a writer
/// thread still holding the database would refuse them with "in use by another process".
#[tokio::test]
async fn the_embedded_store_releases_its_file_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.redb");
    for round in 0..50 {
        let table = vaccount::store::EmbeddedTable::open(&path).unwrap_or_else(|e| panic!("round {round}: {e}"));
        table.transact(vec![put(item("P", &format!("{round}"), &[]), Condition::NotExists)]).await.unwrap();
        drop(table);
    }
}
