//! `vaccount admin create-user` and `vaccount audit verify` on a data dir, as an operator runs
//! them: the verifier passes an intact chain and fails, naming the entry, on a tampered one.

mod support;

use std::process::Command;
use vaccount::domain::operator::AuditAction;
use vaccount::ports::Table;
use vaccount::repo;
use vaccount::store::{DataKey, EmbeddedTable, SealedTable};

fn verify(dir: &std::path::Path) -> (bool, serde_json::Value) {
    let out = Command::new(support::vaccount_bin()).arg("--data-dir").arg(dir).args(["audit", "verify"]).output().unwrap();
    (out.status.success(), serde_json::from_slice(&out.stdout).expect("the report is JSON on stdout"))
}

#[tokio::test]
async fn audit_verify_passes_an_intact_chain_and_names_the_first_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let created = support::setup(dir.path(), &["admin", "create-user", "--name", "kim", "--role", "super_admin", "--pii"]);
    assert_eq!((created["operator"].as_str(), created["role"].as_str()), (Some("kim"), Some("super_admin")));
    assert!(created["enrolment_token"].as_str().is_some_and(|t| t.len() >= 40), "{created}");
    support::setup(dir.path(), &["admin", "create-user", "--name", "lee", "--role", "viewer"]);
    let refused = Command::new(support::vaccount_bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["admin", "create-user", "--name", "lee", "--role", "viewer"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a name is created once");
    let bad_role = Command::new(support::vaccount_bin())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["admin", "create-user", "--name", "x", "--role", "root"])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());

    let (ok, report) = verify(dir.path());
    assert!(ok, "{report}");
    assert_eq!(report, serde_json::json!({"entries": 2, "ok": true}));

    // Someone with the data dir rewrites the first entry's target.
    {
        let key = DataKey::from_secret(std::fs::read_to_string(dir.path().join("data.key")).unwrap().trim()).unwrap();
        let table = SealedTable::new(EmbeddedTable::open(&dir.path().join("vaccount.redb")).unwrap(), key);
        let mut entries = repo::audit::from(&table, 1, 10).await.unwrap();
        assert_eq!(entries[0].record.action, AuditAction::OperatorCreated);
        entries[0].record.target = Some("mallory".into());
        table.transact(vec![repo::audit::overwrite(&entries[0]).unwrap()]).await.unwrap();
    }
    let (ok, report) = verify(dir.path());
    assert!(!ok, "a broken chain exits non-zero");
    assert_eq!((report["ok"].as_bool(), report["broken"]["seq"].as_u64(), report["entries"].as_u64()), (Some(false), Some(1), Some(0)), "{report}");
}
