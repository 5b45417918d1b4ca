//! Operators' identity and the audit chain, on both backends: lockout and its alert, password
//! expiry and history, sessions that end (idle, absolute, revoked), step-up codes, and a
//! tampered audit entry found by the verifier.

use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use vaccount::app::audit::Origin;
use vaccount::app::operators::OperatorUpdate;
use vaccount::app::{AppError, Service};
use vaccount::domain::EventType;
use vaccount::domain::operator::{AuditAction, Role};
use vaccount::domain::time::parse_rfc3339;
use vaccount::on_both_backends;
use vaccount::repo;
use vaccount::testing::{Backend, FixedClock, OPERATOR_PASSWORD, TestOperator, TestTable, operator_session};

on_both_backends!(
    five_failures_in_a_row_lock_for_fifteen_minutes_raise_an_alert_and_are_audited,
    an_expired_password_must_be_changed_and_none_of_the_last_five_may_return,
    sessions_end_when_idle_after_twelve_hours_and_on_role_change,
    a_step_up_needs_a_fresh_code_and_a_wrong_one_counts_as_a_failure,
    enrolment_needs_a_long_password_and_a_first_code_and_the_token_is_single_use,
    the_verifier_finds_a_tampered_audit_entry,
    parallel_wrong_guesses_are_all_counted_and_lock_once,
    outside_an_operators_allowlist_nothing_is_judged_or_counted,
);

fn t0() -> DateTime<Utc> {
    parse_rfc3339("2026-11-24T10:00:00+09:00").unwrap()
}

struct World {
    _t: TestTable,
    clock: Arc<FixedClock>,
    service: Arc<Service>,
}

async fn world(backend: Backend) -> World {
    let t = vaccount::testing::table(backend).await;
    let clock = FixedClock::new(t0());
    let service = vaccount::testing::service(t.table.clone(), clock.clone());
    World { _t: t, clock, service }
}

fn here() -> Origin {
    Origin { ip: Some("203.0.113.9".parse().unwrap()), user_agent: Some("test".into()) }
}

async fn audit_actions(w: &World) -> Vec<AuditAction> {
    let mut page = w.service.audit().newest_first(100, None).await.unwrap().items;
    page.reverse();
    page.into_iter().map(|e| e.record.action).collect()
}

async fn five_failures_in_a_row_lock_for_fifteen_minutes_raise_an_alert_and_are_audited(backend: Backend) {
    let w = world(backend).await;
    let kim = operator_session(&w.service, "kim", Role::Admin, false).await;
    let ops = w.service.operators();
    w.clock.advance(Duration::seconds(30));
    for _ in 0..4 {
        assert_eq!(
            ops.login("kim", "wrong password!!", &kim.code(w.clock_now(), 0), &here()).await.unwrap_err(),
            AppError::Unauthorized("wrong name, password or code")
        );
    }
    let until = w.clock_now() + Duration::minutes(15);
    assert_eq!(ops.login("kim", OPERATOR_PASSWORD, "000000", &here()).await.unwrap_err(), AppError::Locked { until });
    // Locked: even the right password and code are refused, and the old session is over.
    assert_eq!(ops.login("kim", OPERATOR_PASSWORD, &kim.code(w.clock_now(), 0), &here()).await.unwrap_err(), AppError::Locked { until });
    assert!(ops.session(&kim.cookie, here()).await.is_err(), "a lock ends every session");
    let alerts = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    let locked: Vec<_> = alerts.iter().filter(|e| e.kind() == EventType::OperatorLocked).collect();
    assert_eq!(locked.len(), 1, "one operator.locked alert");
    let actions = audit_actions(&w).await;
    assert_eq!(actions.iter().filter(|a| **a == AuditAction::LoginFailed).count(), 6, "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == AuditAction::LoginLocked).count(), 1, "{actions:?}");
    // Fifteen minutes later the right credentials work again.
    w.clock.set(until + Duration::seconds(31));
    ops.login("kim", OPERATOR_PASSWORD, &kim.code(w.clock_now(), 0), &here()).await.expect("the lock ran out");
    // An unknown name gets the same answer as a wrong password, and is audited under the name tried.
    assert_eq!(ops.login("nobody", OPERATOR_PASSWORD, "123456", &here()).await.unwrap_err(), AppError::Unauthorized("wrong name, password or code"));
}

impl World {
    fn clock_now(&self) -> DateTime<Utc> {
        self.service.clock().now()
    }

    /// The next code after the last one used: a step later on the clock.
    fn next_step(&self) {
        self.clock.advance(Duration::seconds(30));
    }
}

async fn an_expired_password_must_be_changed_and_none_of_the_last_five_may_return(backend: Backend) {
    let w = world(backend).await;
    let kim = operator_session(&w.service, "kim", Role::Viewer, false).await;
    let ops = w.service.operators();
    w.clock.advance(Duration::days(90));
    let code = kim.code(w.clock_now(), 0);
    assert_eq!(ops.login("kim", OPERATOR_PASSWORD, &code, &here()).await.unwrap_err(), AppError::PasswordExpired);
    assert!(ops.change_password("kim", OPERATOR_PASSWORD, &code, "short", &here()).await.is_err(), "too short");
    let mut passwords = vec![OPERATOR_PASSWORD.to_owned()];
    for n in 1..=4 {
        w.next_step();
        let new = format!("a new passphrase {n}");
        ops.change_password("kim", passwords.last().unwrap(), &kim.code(w.clock_now(), 0), &new, &here()).await.expect("change");
        passwords.push(new);
    }
    // The original is one of the last five (four changes ago): refused.
    w.next_step();
    let refused = ops.change_password("kim", passwords.last().unwrap(), &kim.code(w.clock_now(), 0), OPERATOR_PASSWORD, &here()).await.unwrap_err();
    assert!(matches!(refused, AppError::Invalid { .. }), "{refused:?}");
    w.next_step();
    ops.change_password("kim", passwords.last().unwrap(), &kim.code(w.clock_now(), 0), "a new passphrase 5", &here()).await.unwrap();
    w.next_step();
    // Now it is six back: allowed again.
    ops.change_password("kim", "a new passphrase 5", &kim.code(w.clock_now(), 0), OPERATOR_PASSWORD, &here()).await.expect("six changes ago may return");
    w.next_step();
    ops.login("kim", OPERATOR_PASSWORD, &kim.code(w.clock_now(), 0), &here()).await.expect("a fresh password logs in");
    assert!(ops.session(&kim.cookie, here()).await.is_err(), "a password change ended the old session");
}

async fn sessions_end_when_idle_after_twelve_hours_and_on_role_change(backend: Backend) {
    let w = world(backend).await;
    let boss = operator_session(&w.service, "boss", Role::SuperAdmin, false).await;
    let kim = operator_session(&w.service, "kim", Role::Admin, false).await;
    let ops = w.service.operators();
    // Used every 20 minutes, it lives until its twelfth hour, not past it.
    for _ in 0..35 {
        w.clock.advance(Duration::minutes(20));
        ops.session(&kim.cookie, here()).await.expect("in use");
    }
    w.clock.advance(Duration::minutes(20));
    assert!(ops.session(&kim.cookie, here()).await.is_err(), "past the absolute 12 h");
    // Idle for 30 minutes: over.
    w.next_step();
    let lee = log_in_again(&w, &kim).await;
    w.clock.advance(Duration::minutes(30));
    assert!(ops.session(&lee, here()).await.is_err(), "idle 30 minutes");
    // A role change ends the operator's sessions.
    w.next_step();
    let fresh = log_in_again(&w, &kim).await;
    let boss_now = ops.login("boss", OPERATOR_PASSWORD, &boss.code(w.clock_now(), 0), &here()).await.unwrap();
    let acting = ops.session(&boss_now.cookie, here()).await.unwrap();
    w.next_step();
    ops.step_up(&acting, Some(&boss.code(w.clock_now(), 0))).await.unwrap();
    ops.update(&acting, &"kim".parse().unwrap(), OperatorUpdate { role: Some(Role::Viewer), ..OperatorUpdate::default() }).await.unwrap();
    assert!(ops.session(&fresh, here()).await.is_err(), "a role change ends every session of the operator");
    assert!(ops.session(&boss_now.cookie, here()).await.is_ok(), "and no one else's");
}

async fn log_in_again(w: &World, op: &TestOperator) -> String {
    w.service.operators().login(&op.name, OPERATOR_PASSWORD, &op.code(w.clock_now(), 0), &here()).await.unwrap().cookie
}

async fn a_step_up_needs_a_fresh_code_and_a_wrong_one_counts_as_a_failure(backend: Backend) {
    let w = world(backend).await;
    let boss = operator_session(&w.service, "boss", Role::SuperAdmin, false).await;
    let ops = w.service.operators();
    let acting = ops.session(&boss.cookie, here()).await.unwrap();
    assert_eq!(ops.step_up(&acting, None).await.unwrap_err(), AppError::StepUpRequired);
    // The code the login spent cannot be used again.
    assert_eq!(ops.step_up(&acting, Some(&boss.code(w.clock_now(), 0))).await.unwrap_err(), AppError::StepUpRequired);
    ops.step_up(&acting, Some(&boss.code(w.clock_now(), 1))).await.expect("the next code");
    for _ in 0..3 {
        assert_eq!(ops.step_up(&acting, Some("000000")).await.unwrap_err(), AppError::StepUpRequired);
    }
    // No code is no attempt; the replayed code and the three wrong ones count.
    assert_eq!(ops.get(&"boss".parse().unwrap()).await.unwrap().failures, 4);
}

async fn enrolment_needs_a_long_password_and_a_first_code_and_the_token_is_single_use(backend: Backend) {
    let w = world(backend).await;
    let ops = w.service.operators();
    let created = ops.create_user("new".parse().unwrap(), Role::Viewer, false, None).await.unwrap();
    assert!(matches!(ops.create_user("new".parse().unwrap(), Role::Viewer, false, None).await, Err(AppError::Conflict(_))));
    assert!(matches!(ops.begin_enrolment(&created.enrolment_token, "short").await, Err(AppError::Invalid { .. })));
    let enrolment = ops.begin_enrolment(&created.enrolment_token, OPERATOR_PASSWORD).await.unwrap();
    assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/vaccount:new?"), "{}", enrolment.otpauth_uri);
    assert!(ops.login("new", OPERATOR_PASSWORD, "000000", &here()).await.is_err(), "not active before the first code");
    assert!(ops.confirm_enrolment(&created.enrolment_token, "000000", &here()).await.is_err());
    let secret = totp_rs::Secret::Encoded(enrolment.totp_secret).to_bytes().unwrap();
    let code = vaccount::domain::operator::totp_code(&secret, w.clock_now().timestamp() as u64 / 30);
    ops.confirm_enrolment(&created.enrolment_token, &code, &here()).await.unwrap();
    assert!(ops.confirm_enrolment(&created.enrolment_token, &code, &here()).await.is_err(), "single use");
    assert!(ops.begin_enrolment(&created.enrolment_token, OPERATOR_PASSWORD).await.is_err(), "single use");
    ops.login("new", OPERATOR_PASSWORD, &code, &here()).await.expect("active");
    // A token unused for 24 hours is worthless.
    let late = ops.create_user("late".parse().unwrap(), Role::Viewer, false, None).await.unwrap();
    w.clock.advance(Duration::hours(24));
    assert!(ops.begin_enrolment(&late.enrolment_token, OPERATOR_PASSWORD).await.is_err());
}

async fn the_verifier_finds_a_tampered_audit_entry(backend: Backend) {
    let w = world(backend).await;
    operator_session(&w.service, "kim", Role::Admin, false).await;
    operator_session(&w.service, "lee", Role::Viewer, false).await;
    let report = w.service.audit().verify().await.unwrap();
    assert!(report.ok && report.entries >= 6, "{report:?}");
    // Someone with write access to the table turns a failed login into a success.
    let mut entries = repo::audit::from(w.service.table().as_ref(), 1, 100).await.unwrap();
    let victim = entries.iter_mut().find(|e| e.record.action == AuditAction::LoginSucceeded).unwrap();
    victim.record.actor = "mallory".into();
    w.service.table().transact(vec![repo::audit::overwrite(victim).unwrap()]).await.unwrap();
    let report = w.service.audit().verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.broken.unwrap().seq, victim.seq, "the first broken link is the edited entry");
    assert_eq!(report.entries, victim.seq - 1, "entries verified before it");
}

async fn parallel_wrong_guesses_are_all_counted_and_lock_once(backend: Backend) {
    let w = world(backend).await;
    operator_session(&w.service, "kim", Role::Admin, false).await;
    let guesses = (0..10).map(|n| {
        let service = w.service.clone();
        async move { service.operators().login("kim", &format!("guess number {n:04}"), "123456", &here()).await }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let wrong = answers.iter().filter(|a| matches!(a, Err(AppError::Unauthorized(_)))).count() as u32;
    assert_eq!(wrong + answers.iter().filter(|a| matches!(a, Err(AppError::Locked { .. }))).count() as u32, 10);
    let kim = w.service.operators().get(&"kim".parse().unwrap()).await.unwrap();
    // Every guess that was judged was counted: the wrong ones and the one that locked (guesses
    // that arrived after the lock were refused unjudged).
    assert_eq!(kim.failures, wrong + 1, "no judged guess slipped past the count");
    assert!(kim.locked_until.is_some());
    let alerts = repo::outbox::all_for(w.service.table().as_ref(), "ops").await.unwrap();
    assert_eq!(alerts.iter().filter(|e| e.kind() == EventType::OperatorLocked).count(), 1, "one lock, one alert");
}

async fn outside_an_operators_allowlist_nothing_is_judged_or_counted(backend: Backend) {
    let w = world(backend).await;
    let boss = operator_session(&w.service, "boss", Role::SuperAdmin, false).await;
    let kim = operator_session(&w.service, "kim", Role::Admin, false).await;
    let ops = w.service.operators();
    let acting = ops.session(&boss.cookie, here()).await.unwrap();
    let fence = OperatorUpdate { allowed_ips: Some(vec!["10.0.0.0/8".parse().unwrap()]), ..OperatorUpdate::default() };
    ops.update(&acting, &"kim".parse().unwrap(), fence).await.unwrap();
    assert!(ops.session(&kim.cookie, here()).await.is_err(), "a session from outside the allowlist is refused");
    w.next_step();
    // From outside: even the right credentials are "wrong", and nothing counts towards a lock.
    for _ in 0..6 {
        let refused = ops.login("kim", OPERATOR_PASSWORD, &kim.code(w.clock_now(), 0), &here()).await.unwrap_err();
        assert_eq!(refused, AppError::Unauthorized("wrong name, password or code"));
    }
    assert_eq!(ops.get(&"kim".parse().unwrap()).await.unwrap().failures, 0);
    let inside = Origin { ip: Some("10.1.2.3".parse().unwrap()), user_agent: None };
    ops.login("kim", OPERATOR_PASSWORD, &kim.code(w.clock_now(), 0), &inside).await.expect("from inside");
}
