//! Black-box tests: the `vaccount` binary, set up with its own commands, served over HTTP,
//! spoken to as a merchant would.

mod support;

use serde_json::{Value, json};
use support::{Client, Credentials, Server, create_merchant, now, pii, setup};

struct World {
    _dir: tempfile::TempDir,
    server: Server,
    alice: Credentials,
    bob: Credentials,
}

/// Two merchants, a `bank` provider and a pool of 004 numbers, set up on a stopped data dir.
fn world(pool: u32) -> World {
    let dir = tempfile::tempdir().unwrap();
    let alice = create_merchant(dir.path(), "Alice Mall");
    let bob = create_merchant(dir.path(), "Bob Mall");
    setup(dir.path(), &["provider", "add", "--id", "bank", "--kind", "generic"]);
    if pool > 0 {
        let count = pool.to_string();
        let added = setup(dir.path(), &["pool", "add", "--provider", "bank", "--bank", "004", "--first", "12345600000000", "--count", &count]);
        assert_eq!(added["added"], pool);
    }
    let server = Server::start(dir.path(), &[]);
    World { _dir: dir, server, alice, bob }
}

fn issue_body(order: &str) -> Value {
    let pii = pii();
    json!({"order_id": order, "amount": 35000, "bank_code": "004", "depositor_name": pii.depositor_name,
           "customer": {"name": pii.customer_name, "phone": pii.customer_phone, "email": pii.customer_email},
           "metadata": {"mall": "cafe24"}})
}

#[tokio::test]
async fn demo_server_issues_replays_and_refuses_a_tampered_signature() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo.json")).unwrap()).unwrap();
    let creds = Credentials {
        merchant_id: demo["merchant_id"].as_str().unwrap().into(),
        key_id: demo["key_id"].as_str().unwrap().into(),
        secret: demo["secret"].as_str().unwrap().into(),
    };
    let client = Client::new(&server, &creds);
    let body = issue_body("DEMO-1").to_string();
    let first = client.send("POST", "/v1/virtual-accounts", &body, &[("Idempotency-Key", "demo-1")]).await;
    assert_eq!(first.status, 201, "{}", first.json);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = client.send("POST", "/v1/virtual-accounts", &body, &[("Idempotency-Key", "demo-1")]).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json, first.json);

    let ts = now().to_string();
    let good = vaccount::testing::sign(&creds.secret, now(), "POST", "/v1/virtual-accounts", body.as_bytes());
    let tampered = format!("{}{}", if good.starts_with('0') { "1" } else { "0" }, &good[1..]);
    let headers = vec![
        ("X-VA-Key-Id".to_owned(), creds.key_id.clone()),
        ("X-VA-Timestamp".to_owned(), ts),
        ("X-VA-Signature".to_owned(), tampered),
        ("Content-Type".to_owned(), "application/json".to_owned()),
    ];
    let refused = client.raw("POST", "/v1/virtual-accounts", &body, &headers).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.headers["content-type"], "application/problem+json");
    assert_eq!(refused.json["code"], "unauthorized");

    // A restart keeps the demo merchant and the account: the store is on disk.
    let id = first.json["id"].as_str().unwrap().to_owned();
    drop(server);
    let server = Server::start(dir.path(), &["--demo"]);
    let client = Client::new(&server, &creds);
    let read = client.get(&format!("/v1/virtual-accounts/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json, first.json);
}

#[tokio::test]
async fn the_demo_prints_its_super_admins_enrolment_link_which_leads_to_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo.json")).unwrap()).unwrap();
    assert_eq!(demo["admin"]["operator"], "admin");
    let token = demo["admin"]["enrolment_token"].as_str().unwrap();
    let link = format!("{}/admin/enrol?token={token}", server.url);
    assert!(server.banner.contains(&link), "{}", server.banner);

    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(token), "the enrolment page carries the token on");
    let admin = support::enrol_and_log_in(&server.url, "admin", token).await;
    let home = admin.request(reqwest::Method::GET, &format!("{}/admin/", server.url)).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("최고 관리자"), "the demo operator is a super_admin");

    // Once enrolled, a restart tells where to log in and keeps the same operator.
    drop(server);
    let server = Server::start(dir.path(), &["--demo"]);
    assert!(!server.banner.contains("enrol?token="), "{}", server.banner);
    assert!(server.banner.contains(&format!("Operations dashboard: {}/admin/ (log in as admin", server.url)), "{}", server.banner);
    let again: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo.json")).unwrap()).unwrap();
    assert_eq!(again, demo);
}

#[tokio::test]
async fn the_demo_makes_no_super_admin_where_the_data_dir_has_one() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &["admin", "create-user", "--name", "kim", "--role", "super_admin"]);
    let server = Server::start(dir.path(), &["--demo"]);
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("demo.json")).unwrap()).unwrap();
    assert!(demo.get("admin").is_none(), "{demo}");
    assert!(server.banner.contains("log in with an operator of this data dir"), "{}", server.banner);
}

#[tokio::test]
async fn an_issued_account_is_shown_exactly_as_the_contract_says() {
    let w = world(10);
    let client = Client::new(&w.server, &w.alice);
    let r = client.post("/v1/virtual-accounts", &issue_body("ORD-1")).await;
    assert_eq!(r.status, 201);
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    let a = &r.json;
    let mut keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "account_number",
            "allow_partial",
            "amount",
            "bank_code",
            "bank_name",
            "created_at",
            "customer",
            "depositor_name",
            "due_at",
            "id",
            "metadata",
            "order_id",
            "paid_amount",
            "status",
            "type",
            "updated_at",
            "version"
        ]
    );
    assert!(a["id"].as_str().unwrap().starts_with("va_"));
    assert_eq!((a["type"].as_str(), a["status"].as_str(), a["version"].as_i64()), (Some("one_time"), Some("waiting"), Some(1)));
    assert_eq!((a["amount"].as_i64(), a["paid_amount"].as_i64()), (Some(35000), Some(0)));
    assert_eq!((a["bank_code"].as_str(), a["bank_name"].as_str()), (Some("004"), Some("KB국민은행")));
    assert!(a["created_at"].as_str().unwrap().ends_with("+09:00"));
    assert!(a["due_at"].as_str().unwrap().ends_with("+09:00"));
    assert_eq!(a["customer"]["phone"], pii().customer_phone);
    assert_eq!(a["metadata"]["mall"], "cafe24");

    let fixed = client.post("/v1/virtual-accounts", &json!({"order_id": "CUST-9", "type": "fixed", "bank_code": "004"})).await;
    assert_eq!(fixed.status, 201, "{}", fixed.json);
    assert_eq!((fixed.json["amount"].clone(), fixed.json["due_at"].clone()), (Value::Null, Value::Null));
}

/// Every bad input of the merchant API (docs/openapi.yaml), with the problem it must produce.
#[tokio::test]
async fn every_bad_input_gets_its_problem() {
    let w = world(3);
    let c = Client::new(&w.server, &w.alice);
    let issued = c.post("/v1/virtual-accounts", &issue_body("EXISTING")).await;
    assert_eq!(issued.status, 201);
    let id = issued.json["id"].as_str().unwrap().to_owned();
    let far = (chrono::Utc::now() + chrono::Duration::days(31)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();

    // (what, body, expected field)
    let bad_bodies: Vec<(&str, Value, &str)> = vec![
        ("unknown field", json!({"order_id": "A", "amount": 1, "bank_code": "004", "colour": "red"}), "colour"),
        ("missing order_id", json!({"amount": 1, "bank_code": "004"}), "order_id"),
        ("order_id with a space", json!({"order_id": "A B", "amount": 1, "bank_code": "004"}), "order_id"),
        ("order_id too long", json!({"order_id": "x".repeat(65), "amount": 1, "bank_code": "004"}), "order_id"),
        ("missing amount", json!({"order_id": "A", "bank_code": "004"}), "amount"),
        ("zero amount", json!({"order_id": "A", "amount": 0, "bank_code": "004"}), "amount"),
        ("amount over 10 billion", json!({"order_id": "A", "amount": 10_000_000_001i64, "bank_code": "004"}), "amount"),
        ("fractional amount", json!({"order_id": "A", "amount": 100.5, "bank_code": "004"}), "amount"),
        ("amount as a string", json!({"order_id": "A", "amount": "100", "bank_code": "004"}), "amount"),
        ("missing bank", json!({"order_id": "A", "amount": 1}), "bank_code"),
        ("unknown bank", json!({"order_id": "A", "amount": 1, "bank_code": "999"}), "bank_code"),
        ("bad type", json!({"order_id": "A", "amount": 1, "bank_code": "004", "type": "weekly"}), "type"),
        ("due_at without offset", json!({"order_id": "A", "amount": 1, "bank_code": "004", "due_at": "2026-12-01T10:00:00"}), "due_at"),
        ("due_at in the past", json!({"order_id": "A", "amount": 1, "bank_code": "004", "due_at": past}), "due_at"),
        ("due_at beyond 30 days", json!({"order_id": "A", "amount": 1, "bank_code": "004", "due_at": far}), "due_at"),
        ("fixed with an amount", json!({"order_id": "A", "amount": 1, "bank_code": "004", "type": "fixed"}), "amount"),
        ("allow_partial not a bool", json!({"order_id": "A", "amount": 1, "bank_code": "004", "allow_partial": "yes"}), "allow_partial"),
        ("empty depositor name", json!({"order_id": "A", "amount": 1, "bank_code": "004", "depositor_name": " "}), "depositor_name"),
        ("bad phone", json!({"order_id": "A", "amount": 1, "bank_code": "004", "customer": {"phone": "12345"}}), "customer.phone"),
        ("bad email", json!({"order_id": "A", "amount": 1, "bank_code": "004", "customer": {"email": "nope"}}), "customer.email"),
        ("unknown customer field", json!({"order_id": "A", "amount": 1, "bank_code": "004", "customer": {"age": 3}}), "customer.age"),
        ("metadata value not a string", json!({"order_id": "A", "amount": 1, "bank_code": "004", "metadata": {"n": 1}}), "metadata.n"),
        (
            "more than 20 metadata keys",
            json!({"order_id": "A", "amount": 1, "bank_code": "004",
                   "metadata": (0..21).map(|i| (format!("k{i}"), json!("v"))).collect::<serde_json::Map<_, _>>()}),
            "metadata",
        ),
    ];
    for (what, body, field) in bad_bodies {
        let r = c.post("/v1/virtual-accounts", &body).await;
        assert_eq!(r.status, 400, "{what}: {}", r.json);
        assert_eq!(r.headers["content-type"], "application/problem+json", "{what}");
        assert_eq!(r.json["code"], "invalid_request", "{what}");
        let fields: Vec<&str> = r.json["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{what}: expected {field} in {fields:?}");
        for key in ["type", "title", "status", "detail"] {
            assert!(r.json.get(key).is_some(), "{what}: problem lacks {key}");
        }
    }

    // Malformed bodies and headers.
    /// What the case is, the raw body, extra headers, the expected status.
    type RawCase<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, u16);
    let raw_cases: Vec<RawCase> = vec![
        ("not JSON", "{oops", vec![], 400),
        ("a JSON array", "[1,2]", vec![], 400),
        ("wrong content type", r#"{"order_id":"A","amount":1,"bank_code":"004"}"#, vec![("Content-Type", "text/plain")], 400),
        ("empty idempotency key", r#"{"order_id":"A","amount":1,"bank_code":"004"}"#, vec![("Idempotency-Key", "")], 400),
    ];
    for (what, body, headers, status) in raw_cases {
        let r = c.send("POST", "/v1/virtual-accounts", body, &headers).await;
        assert_eq!(r.status, status, "{what}: {}", r.json);
        assert_eq!(r.json["code"], "invalid_request", "{what}");
    }
    let long_key = "k".repeat(256);
    let r = c.send("POST", "/v1/virtual-accounts", &issue_body("LONGKEY").to_string(), &[("Idempotency-Key", long_key.as_str())]).await;
    assert_eq!((r.status, r.json["code"].as_str()), (400, Some("invalid_request")));
    let huge = json!({"order_id": "A", "amount": 1, "bank_code": "004", "depositor_name": "x".repeat(70_000)});
    let r = c.post("/v1/virtual-accounts", &huge).await;
    assert_eq!((r.status, r.json["code"].as_str()), (413, Some("invalid_request")));

    // Listing parameters.
    for query in ["limit=0", "limit=101", "limit=x", "status=lost", "sort=asc", "cursor=%%%", "created_from=2026-11-24T10:00:00+09:00", "limit=5&limit=6"] {
        let r = c.get(&format!("/v1/virtual-accounts?{query}")).await;
        assert_eq!((r.status, r.json["code"].as_str()), (400, Some("invalid_request")), "?{query}: {}", r.json);
    }

    // Conflicts.
    let r = c.post("/v1/virtual-accounts", &issue_body("EXISTING")).await;
    assert_eq!((r.status, r.json["code"].as_str()), (409, Some("conflict")));
    let r = c.post(&format!("/v1/virtual-accounts/{id}/close"), &json!({"reason": "changed my mind"})).await;
    assert_eq!((r.status, r.json["errors"][0]["field"].as_str()), (400, Some("reason")), "close takes no fields");
    let closed = c.post(&format!("/v1/virtual-accounts/{id}/close"), &json!({})).await;
    assert_eq!(closed.status, 200);
    assert_eq!(closed.json["status"], "closed");
    let r = c.send("POST", &format!("/v1/virtual-accounts/{id}/close"), "", &[]).await;
    assert_eq!((r.status, r.json["code"].as_str()), (409, Some("conflict")));
    let r = c.post("/v1/virtual-accounts", &json!({"order_id": "NOPOOL", "amount": 1, "bank_code": "088"})).await;
    assert_eq!((r.status, r.json["code"].as_str()), (409, Some("pool_exhausted")));

    // Idempotency: same key, other body.
    let body = issue_body("IDEM-1").to_string();
    assert_eq!(c.send("POST", "/v1/virtual-accounts", &body, &[("Idempotency-Key", "k-1")]).await.status, 201);
    let other = issue_body("IDEM-2").to_string();
    let r = c.send("POST", "/v1/virtual-accounts", &other, &[("Idempotency-Key", "k-1")]).await;
    assert_eq!((r.status, r.json["code"].as_str()), (422, Some("idempotency_mismatch")));

    // Not found, never a stack trace.
    for path in ["/v1/virtual-accounts/va_01KWFX0000000000000000VA99", "/v1/virtual-accounts/not-an-id", "/v1/virtual-accounts/%FF", "/v1/nothing"] {
        let r = c.get(path).await;
        assert_eq!((r.status, r.json["code"].as_str()), (404, Some("not_found")), "{path}");
    }
    let r = c.send("DELETE", &format!("/v1/virtual-accounts/{id}"), "", &[]).await;
    assert_eq!(r.status, 405);
}

/// docs/openapi.yaml, `PayloadTooLarge`: one answer for an oversized body, whoever sends it.
#[tokio::test]
async fn an_oversized_body_gets_the_same_413_problem_on_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let alice = create_merchant(dir.path(), "Alice Mall");
    setup(dir.path(), &["provider", "add", "--id", "bank", "--kind", "generic"]);
    let enrolment = support::create_operator(dir.path(), "ops-kim", "admin");
    let server = Server::start(dir.path(), &[]);
    let kim = support::enrol_and_log_in(&server.url, "ops-kim", &enrolment).await;
    let c = Client::new(&server, &alice);
    let huge = json!({"order_id": "A", "amount": 1, "bank_code": "004", "depositor_name": "x".repeat(70_000)}).to_string();
    let json_type = ("Content-Type".to_owned(), "application/json".to_owned());
    let as_operator = [json_type.clone(), ("Cookie".to_owned(), kim.cookie.clone()), ("X-CSRF-Token".to_owned(), kim.csrf.clone())];
    let answers = [
        ("merchant", c.send("POST", "/v1/virtual-accounts", &huge, &[]).await),
        ("provider notice", c.raw("POST", "/v1/providers/bank/notifications", &huge, std::slice::from_ref(&json_type)).await),
        ("operator exception", c.raw("POST", "/admin/v1/exceptions/exc_01KWFX0000000000000000EX99/resolve", &huge, &as_operator).await),
        ("operator incident", c.raw("POST", "/admin/v1/incidents/inc_01KWFX0000000000000000IN99/acknowledge", &huge, &as_operator).await),
    ];
    let expected = json!({"type": "urn:vaccount:problem:invalid_request", "title": "Body too large", "status": 413,
                          "detail": "request bodies are limited to 64 KiB", "code": "invalid_request"});
    for (route, r) in answers {
        assert_eq!((r.status, &r.json), (413, &expected), "{route}");
        assert_eq!(r.headers["content-type"], "application/problem+json", "{route}");
    }
}

#[tokio::test]
async fn authentication_failures_are_401() {
    let w = world(0);
    let c = Client::new(&w.server, &w.alice);
    let path = "/v1/virtual-accounts?limit=5";
    let ts = now();
    let sig = vaccount::testing::sign(&w.alice.secret, ts, "GET", path, b"");
    let headers = |key: &str, ts: i64, sig: &str| {
        vec![("X-VA-Key-Id".to_owned(), key.to_owned()), ("X-VA-Timestamp".to_owned(), ts.to_string()), ("X-VA-Signature".to_owned(), sig.to_owned())]
    };
    assert_eq!(c.raw("GET", path, "", &headers(&w.alice.key_id, ts, &sig)).await.status, 200, "the well-signed request passes");

    let stale = ts - 301;
    let stale_sig = vaccount::testing::sign(&w.alice.secret, stale, "GET", path, b"");
    let future = ts + 400;
    let future_sig = vaccount::testing::sign(&w.alice.secret, future, "GET", path, b"");
    let bob_signed = vaccount::testing::sign(&w.bob.secret, ts, "GET", path, b"");
    let other_query = vaccount::testing::sign(&w.alice.secret, ts, "GET", "/v1/virtual-accounts?limit=6", b"");
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("no headers", vec![]),
        ("no signature", headers(&w.alice.key_id, ts, &sig)[..2].to_vec()),
        ("no timestamp", vec![headers(&w.alice.key_id, ts, &sig)[0].clone(), headers(&w.alice.key_id, ts, &sig)[2].clone()]),
        ("stale timestamp", headers(&w.alice.key_id, stale, &stale_sig)),
        ("future timestamp", headers(&w.alice.key_id, future, &future_sig)),
        (
            "timestamp not a number",
            headers(&w.alice.key_id, ts, &sig).into_iter().map(|(n, v)| if n == "X-VA-Timestamp" { (n, "soon".into()) } else { (n, v) }).collect(),
        ),
        ("unknown key", headers("key_01KWFX0000000000000000KEY9", ts, &sig)),
        ("another merchant's secret", headers(&w.alice.key_id, ts, &bob_signed)),
        ("signature of another query", headers(&w.alice.key_id, ts, &other_query)),
        ("uppercase hex", headers(&w.alice.key_id, ts, &sig.to_uppercase())),
        ("timestamp at i64::MIN", headers(&w.alice.key_id, i64::MIN, &sig)),
        ("signature with non-ASCII bytes", headers(&w.alice.key_id, ts, "서명")),
    ];
    for (what, hs) in cases {
        let r = c.raw("GET", path, "", &hs).await;
        assert_eq!((r.status, r.json["code"].as_str()), (401, Some("unauthorized")), "{what}");
    }
    // A body other than the signed one.
    let signed_body = r#"{"order_id":"A","amount":1,"bank_code":"004"}"#;
    let body_sig = vaccount::testing::sign(&w.alice.secret, ts, "POST", "/v1/virtual-accounts", signed_body.as_bytes());
    let mut hs = headers(&w.alice.key_id, ts, &body_sig);
    hs.push(("Content-Type".into(), "application/json".into()));
    let r = c.raw("POST", "/v1/virtual-accounts", &signed_body.replace('1', "2"), &hs).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_merchant_never_sees_or_closes_another_merchants_account() {
    let w = world(5);
    let alice = Client::new(&w.server, &w.alice);
    let bob = Client::new(&w.server, &w.bob);
    let id = alice.post("/v1/virtual-accounts", &issue_body("SECRET-1")).await.json["id"].as_str().unwrap().to_owned();
    let r = bob.get(&format!("/v1/virtual-accounts/{id}")).await;
    assert_eq!((r.status, r.json["code"].as_str()), (404, Some("not_found")));
    let r = bob.send("POST", &format!("/v1/virtual-accounts/{id}/close"), "", &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(bob.get("/v1/virtual-accounts").await.json["data"], json!([]));
    assert_eq!(bob.get("/v1/virtual-accounts?order_id=SECRET-1").await.json["data"], json!([]));
    assert_eq!(alice.get(&format!("/v1/virtual-accounts/{id}")).await.json["status"], "waiting");
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_account() {
    let w = world(20);
    let c = std::sync::Arc::new(Client::new(&w.server, &w.alice));
    let body = issue_body("RACE-1").to_string();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (c, body) = (c.clone(), body.clone());
            tokio::spawn(async move { c.send("POST", "/v1/virtual-accounts", &body, &[("Idempotency-Key", "race")]).await })
        })
        .collect();
    let mut originals = 0;
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        let r = task.await.unwrap();
        match (r.status, r.headers.get("idempotent-replayed")) {
            (201, None) => originals += 1,
            (201, Some(_)) => {}
            (409, _) => assert_eq!(r.json["code"], "idempotency_in_flight"),
            other => panic!("unexpected answer {other:?}: {}", r.json),
        }
        if r.status == 201 {
            ids.insert(r.json["id"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(originals, 1);
    assert_eq!(ids.len(), 1);
    let listed = c.get("/v1/virtual-accounts").await;
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn listing_pages_with_cursors_newest_first() {
    let w = world(10);
    let c = Client::new(&w.server, &w.alice);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(c.post("/v1/virtual-accounts", &issue_body(&format!("P-{i}"))).await.json["id"].as_str().unwrap().to_owned());
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/virtual-accounts?limit=2".to_owned();
    loop {
        let page = c.get(&path).await;
        assert_eq!(page.status, 200);
        seen.extend(page.json["data"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()));
        match page.json["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/virtual-accounts?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let waiting = c.get("/v1/virtual-accounts?status=waiting&limit=100").await;
    assert_eq!(waiting.json["data"].as_array().unwrap().len(), 5);
    let none = c.get("/v1/virtual-accounts?status=paid").await;
    assert_eq!(none.json, json!({"data": [], "next_cursor": null}));
}

#[tokio::test]
async fn healthz_answers_without_auth() {
    let w = world(0);
    let r = reqwest::get(format!("{}/healthz", w.server.url)).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert!(body["version"].is_string());
}

#[test]
fn setup_commands_refuse_bad_input_and_a_data_dir_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| std::process::Command::new(support::vaccount_bin()).arg("--data-dir").arg(dir.path()).args(args).output().unwrap();
    assert!(!run(&["pool", "add", "--provider", "bank", "--bank", "004", "--first", "1234567890", "--count", "5"]).status.success(), "unknown provider");
    assert!(run(&["provider", "add", "--id", "bank"]).status.success());
    assert!(!run(&["provider", "add", "--id", "bank"]).status.success(), "duplicate provider");
    assert!(!run(&["provider", "add", "--id", "Bad Id"]).status.success());
    let bad_bank = run(&["pool", "add", "--provider", "bank", "--bank", "999", "--first", "1234567890", "--count", "5"]);
    assert!(!bad_bank.status.success());
    assert!(String::from_utf8_lossy(&bad_bank.stderr).contains("bank"));
    assert!(!run(&["pool", "add", "--provider", "bank", "--bank", "004", "--first", "12ab", "--count", "5"]).status.success());
    assert!(!run(&["pool", "add", "--provider", "bank", "--bank", "004", "--first", "99999999", "--count", "5"]).status.success(), "range overflows the width");
    let added = run(&["pool", "add", "--provider", "bank", "--bank", "004", "--first", "1234567890", "--count", "5"]);
    assert!(added.status.success());
    let again: Value =
        serde_json::from_slice(&run(&["pool", "add", "--provider", "bank", "--bank", "004", "--first", "1234567893", "--count", "5"]).stdout).unwrap();
    assert_eq!((again["added"].as_u64(), again["skipped"].as_u64()), (Some(3), Some(2)));
    assert!(!run(&["merchant", "create", "--name", "X", "--fee-per-deposit", "1", "--fee-rate-bps", "2"]).status.success());
    assert!(!run(&["merchant", "create", "--name", ""]).status.success());

    let _server = Server::start(dir.path(), &[]);
    let busy = run(&["merchant", "create", "--name", "Busy"]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use"), "{}", String::from_utf8_lossy(&busy.stderr));
}
