//! Operators of the back office: creation and enrolment (password, then TOTP), login with
//! lockout, password changes with history, server-side sessions, step-up codes, and changes to
//! an operator by a super_admin. The rules are `domain::operator`'s; this module hashes, stores
//! and audits.

use super::audit::{Change, Origin};
use super::{AppError, Service};
use crate::domain::OperatorName;
use crate::domain::event::{EventData, OperatorLockedData, OutboxEvent};
use crate::domain::operator::{
    self, AuditAction, ENROLMENT_VALID, IpRange, LoginRefusal, Operator, OperatorStatus, Role, Session, check_password_shape, totp_step,
};
use crate::ports::{Condition, Cursor, StoreError};
use crate::repo::{self, Guard, Listing, Transaction, TxError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What `vaccount admin create-user` prints: the token is shown once and is good for 24 h.
#[derive(Debug, Clone, Serialize)]
pub struct UserCreated {
    pub operator: OperatorName,
    pub role: Role,
    pub pii: bool,
    pub enrolment_token: String,
}

/// The second step of an enrolment: the secret to put into an authenticator app.
#[derive(Debug, Clone, Serialize)]
pub struct TotpEnrolment {
    pub totp_secret: String,
    pub otpauth_uri: String,
}

/// A session just opened: the cookie value (only the client keeps it) and what it carries.
#[derive(Debug, Clone)]
pub struct Opened {
    pub cookie: String,
    pub session: Session,
    pub operator: Operator,
}

/// The operator behind a request, with their session.
#[derive(Debug, Clone)]
pub struct Acting {
    pub operator: Operator,
    pub session: Session,
    pub cookie: String,
    pub origin: Origin,
}

impl Acting {
    pub fn name(&self) -> &OperatorName {
        &self.operator.name
    }
}

/// What a super_admin may change about another operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorUpdate {
    pub role: Option<Role>,
    pub pii: Option<bool>,
    pub allowed_ips: Option<Vec<IpRange>>,
}

impl OperatorUpdate {
    /// Role and `pii` changes need the acting operator's fresh TOTP code.
    pub fn needs_step_up(&self) -> bool {
        self.role.is_some() || self.pii.is_some()
    }
}

/// An operator as the admin API shows them: no secrets, no hashes.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorView {
    pub name: OperatorName,
    pub role: Role,
    pub pii: bool,
    pub status: OperatorStatus,
    #[serde(with = "crate::domain::time::kst_serde::option")]
    pub locked_until: Option<DateTime<Utc>>,
    pub failures: u32,
    #[serde(with = "crate::domain::time::kst_serde::option")]
    pub password_set_at: Option<DateTime<Utc>>,
    pub allowed_ips: Vec<IpRange>,
    #[serde(with = "crate::domain::time::kst_serde")]
    pub created_at: DateTime<Utc>,
    pub created_by: Option<OperatorName>,
}

impl OperatorView {
    pub fn of(op: &Operator, now: DateTime<Utc>) -> OperatorView {
        OperatorView {
            name: op.name.clone(),
            role: op.role,
            pii: op.pii,
            status: op.status,
            locked_until: op.locked_at(now),
            failures: op.failures,
            password_set_at: op.password_set_at,
            allowed_ips: op.allowed_ips.clone(),
            created_at: op.created_at,
            created_by: op.created_by.clone(),
        }
    }
}

/// The one answer for a wrong name, password or code.
const WRONG: AppError = AppError::Unauthorized("wrong name, password or code");
const NO_SESSION: AppError = AppError::Unauthorized("no session: log in at POST /admin/v1/session");
const NOT_FROM_HERE: AppError = AppError::Forbidden("not allowed from this address");
const STEP_UP: AppError = AppError::StepUpRequired;

fn random_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// argon2id with the crate's defaults (19 MiB, 2 passes): the OWASP minimum. Hashing is CPU
/// work of tens of milliseconds, so it runs off the async threads.
async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| e.to_string())?;
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map_err(|e| AppError::from(super::Unavailable::Encoding(format!("password hashing: {e}"))))
}

/// Whether `password` matches any of `hashes` (the current one first).
async fn matches_any(password: String, hashes: Vec<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        hashes.iter().any(|phc| PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()))
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when the name is unknown, so an unknown name costs the same time
/// as a wrong password and does not tell itself apart.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2wdFC2eCz4Jaw5TOUe0s0W6Hc8qv/zKA6o5V6Hy3zTE";

fn totp_secret_bytes(op: &Operator) -> Option<Vec<u8>> {
    op.totp_secret.as_deref().and_then(|s| totp_rs::Secret::Encoded(s.to_owned()).to_bytes().ok())
}

/// Operators: created, enrolled, logged in, and changed.
#[derive(Clone, Copy)]
pub struct Operators<'a> {
    pub(super) service: &'a Service,
}

impl Operators<'_> {
    fn now(self) -> DateTime<Utc> {
        self.service.clock.now()
    }

    async fn load(self, name: &OperatorName) -> Result<Option<(Operator, u64)>, AppError> {
        Ok(repo::operators::get_operator(self.service.table.as_ref(), name).await?)
    }

    async fn save(self, op: &Operator, version: u64, more: Transaction) -> Result<(), TxError> {
        let mut tx = Transaction::of(Guard::Moved, [repo::operators::put_operator(op, version + 1, Condition::VersionIs(version)).map_err(TxError::Store)?]);
        tx.append(more);
        tx.commit(self.service.table.as_ref()).await
    }

    async fn audit(self, actor: &str, role: Option<Role>, change: Change, origin: &Origin) {
        self.service.audit().note(actor, role, change, origin).await
    }

    /// Whether `name` is an active operator (the command line's `--operator`).
    pub async fn operator_exists(self, name: &OperatorName) -> Result<bool, AppError> {
        Ok(self.load(name).await?.is_some_and(|(op, _)| op.status == OperatorStatus::Active))
    }

    /// Creates an operator waiting for enrolment, and the one-time token that enrols them.
    /// `by` is the super_admin acting (none from the command line).
    pub async fn create_user(self, name: OperatorName, role: Role, pii: bool, by: Option<&Acting>) -> Result<UserCreated, AppError> {
        let now = self.now();
        let op = Operator::new(name.clone(), role, pii, now, by.map(|a| a.name().clone()));
        let token = random_token();
        let enrolment = repo::operators::Enrolment { operator: name.clone(), expires_at: now + ENROLMENT_VALID };
        let (version, condition) = match repo::operators::creation(self.service.table.as_ref(), &name).await? {
            Some(slot) => slot,
            None => return Err(AppError::Conflict(format!("operator {name} already exists"))),
        };
        let writes = vec![repo::operators::put_operator(&op, version, condition)?, repo::operators::put_enrolment(&token, &enrolment)?];
        match self.service.table.transact(writes).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed { .. }) => return Err(AppError::Conflict(format!("operator {name} already exists"))),
            Err(e) => return Err(e.into()),
        }
        let (actor, actor_role, origin) = match by {
            Some(a) => (a.name().to_string(), Some(a.operator.role), a.origin.clone()),
            None => ("cli".to_owned(), None, Origin::default()),
        };
        let after = OperatorView::of(&op, now);
        self.audit(
            &actor,
            actor_role,
            Change { after: serde_json::to_value(after).ok(), ..Change::of(AuditAction::OperatorCreated, name.to_string()) },
            &origin,
        )
        .await;
        Ok(UserCreated { operator: name, role, pii, enrolment_token: token })
    }

    async fn enrolling(self, token: &str) -> Result<(Operator, u64), AppError> {
        let invalid = AppError::Unauthorized("this enrolment token is not valid (used, expired or unknown)");
        let Some(enrolment) = repo::operators::get_enrolment(self.service.table.as_ref(), token).await? else { return Err(invalid) };
        if enrolment.expires_at <= self.now() {
            return Err(invalid);
        }
        match self.load(&enrolment.operator).await? {
            Some((op, version)) if op.status == OperatorStatus::Enrolling => Ok((op, version)),
            _ => Err(invalid),
        }
    }

    /// Sets the password and makes a TOTP secret; the operator is not active until a first
    /// code confirms the authenticator has it. Asking again before confirming starts over.
    pub async fn begin_enrolment(self, token: &str, password: &str) -> Result<TotpEnrolment, AppError> {
        check_password_shape(password).map_err(|m| AppError::field("password", m))?;
        let (mut op, version) = self.enrolling(token).await?;
        let phc = hash_password(password.to_owned()).await?;
        op.passwords.clear();
        op.set_password(phc, self.now());
        let secret = totp_rs::Secret::Raw(rand::random::<[u8; 20]>().to_vec());
        let encoded = secret.to_encoded().to_string();
        op.totp_secret = Some(encoded.clone());
        let uri = totp_rs::TOTP::new_unchecked(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            operator::TOTP_STEP_SECONDS,
            secret.to_bytes().unwrap_or_default(),
            Some("vaccount".into()),
            op.name.to_string(),
        )
        .get_url();
        self.save(&op, version, Transaction::new()).await?;
        Ok(TotpEnrolment { totp_secret: encoded, otpauth_uri: uri })
    }

    /// Confirms the enrolment with a first code: the operator becomes active, the token is spent.
    pub async fn confirm_enrolment(self, token: &str, code: &str, origin: &Origin) -> Result<(), AppError> {
        let (mut op, version) = self.enrolling(token).await?;
        let secret = totp_secret_bytes(&op).ok_or(AppError::Conflict("set a password first: POST /admin/v1/enrolment".into()))?;
        // The first code is not spent: the operator may log in with it at once, as an
        // authenticator shows one code for 30 s.
        if totp_step(&secret, code, self.now(), op.last_totp_step).is_none() {
            return Err(AppError::field("code", "is not the current code of the authenticator"));
        }
        op.status = OperatorStatus::Active;
        self.save(&op, version, Transaction::of(Guard::AlreadyDone, [repo::operators::delete_enrolment(token)])).await?;
        self.audit(op.name.as_str(), Some(op.role), Change::of(AuditAction::OperatorEnrolled, op.name.to_string()), origin).await;
        Ok(())
    }

    /// Checks a name, password and code. Every failure counts towards the lock (and is
    /// audited); the fifth in a row locks the operator and raises `operator.locked`.
    async fn check_credentials(self, name: &str, password: &str, code: &str, origin: &Origin) -> Result<(Operator, u64, u64), AppError> {
        let now = self.now();
        let found = match name.parse::<OperatorName>() {
            Ok(n) => self.load(&n).await?,
            Err(_) => None,
        };
        let Some((op, version)) = found else {
            matches_any(password.to_owned(), vec![DECOY_HASH.to_owned()]).await;
            self.audit(name, None, Change::of(AuditAction::LoginFailed, None), origin).await;
            return Err(WRONG);
        };
        // Outside the operator's own allowlist nothing is judged or counted (so no one there can
        // lock them out), and the answer is the one for a wrong password.
        if !operator::allowed(&op.allowed_ips, origin.ip) {
            self.audit(name, Some(op.role), Change::of(AuditAction::LoginFailed, None), origin).await;
            return Err(WRONG);
        }
        match op.may_try_login(now) {
            Ok(()) => {}
            Err(LoginRefusal::Locked { until }) => {
                self.audit(
                    name,
                    Some(op.role),
                    Change { after: Some(serde_json::json!({"locked_until": until})), ..Change::of(AuditAction::LoginFailed, None) },
                    origin,
                )
                .await;
                return Err(AppError::Locked { until });
            }
            Err(LoginRefusal::NotEnrolled) => {
                self.audit(name, Some(op.role), Change::of(AuditAction::LoginFailed, None), origin).await;
                return Err(WRONG);
            }
        }
        let password_ok = matches_any(password.to_owned(), op.current_password().map(str::to_owned).into_iter().collect()).await;
        let step = totp_secret_bytes(&op).and_then(|secret| totp_step(&secret, code, now, op.last_totp_step));
        match (password_ok, step) {
            (true, Some(step)) => Ok((op, version, step)),
            _ => {
                let (op, locked) = self.count_failure(op, version).await?;
                self.audit(name, Some(op.role), Change::of(AuditAction::LoginFailed, None), origin).await;
                if let Some(until) = locked {
                    let after = serde_json::json!({"locked_until": until, "failures": op.failures});
                    self.audit(name, Some(op.role), Change { after: Some(after), ..Change::of(AuditAction::LoginLocked, op.name.to_string()) }, origin).await;
                    return Err(AppError::Locked { until });
                }
                Err(WRONG)
            }
        }
    }

    /// Counts one failed attempt on the operator as stored, again on a fresh read when another
    /// attempt was counted at the same moment (parallel guesses must not slip past the count).
    /// Answers the operator as saved and, when this failure locked them, until when; the lock
    /// and its `operator.locked` alert are one transaction.
    async fn count_failure(self, mut op: Operator, mut version: u64) -> Result<(Operator, Option<DateTime<Utc>>), AppError> {
        let mut retry = repo::Retry::hot();
        loop {
            let now = self.now();
            let locked = op.fail_login(now);
            let mut more = Transaction::new();
            if locked {
                let data = OperatorLockedData { operator: op.name.clone(), failures: op.failures, until: op.locked_until.unwrap_or(now) };
                more.extend(Guard::NewItem, repo::outbox::put_event(&OutboxEvent::new(None, EventData::OperatorLocked(data), now))?);
            }
            match self.save(&op, version, more).await {
                Ok(()) => return Ok((op.clone(), locked.then(|| op.locked_until.unwrap_or(now)))),
                Err(e) if e.is_race() && retry.next().await => {
                    (op, version) = self.load(&op.name).await?.ok_or(AppError::NotFound)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn check_origin(self, op: &Operator, origin: &Origin) -> Result<(), AppError> {
        if operator::allowed(&self.service.settings.admin_allowed_ips, origin.ip) && operator::allowed(&op.allowed_ips, origin.ip) {
            Ok(())
        } else {
            Err(NOT_FROM_HERE)
        }
    }

    /// Logs in: name, password and TOTP code → a new session.
    pub async fn login(self, name: &str, password: &str, code: &str, origin: &Origin) -> Result<Opened, AppError> {
        if !operator::allowed(&self.service.settings.admin_allowed_ips, origin.ip) {
            return Err(NOT_FROM_HERE);
        }
        let (mut op, version, step) = self.check_credentials(name, password, code, origin).await?;
        self.check_origin(&op, origin)?;
        let now = self.now();
        if op.password_expired(now) {
            return Err(AppError::PasswordExpired);
        }
        op.succeed_login(step);
        let cookie = random_token();
        let session = Session {
            operator: op.name.clone(),
            generation: op.session_generation,
            csrf_token: hex::encode(rand::random::<[u8; 32]>()),
            created_at: now,
            last_seen: now,
            ip: origin.ip.map(|ip| ip.to_string()),
            user_agent: origin.user_agent.clone(),
        };
        let opened = Transaction::of(Guard::NewItem, [repo::operators::put_session(&cookie, &session, 1, Condition::NotExists)?]);
        self.save(&op, version, opened).await?;
        self.audit(op.name.as_str(), Some(op.role), Change::of(AuditAction::LoginSucceeded, None), origin).await;
        Ok(Opened { cookie, session, operator: op })
    }

    /// Changes a password with the old one and a code (also when it has expired). None of the
    /// last five may be chosen again; every session of the operator ends.
    pub async fn change_password(self, name: &str, password: &str, code: &str, new_password: &str, origin: &Origin) -> Result<(), AppError> {
        check_password_shape(new_password).map_err(|m| AppError::field("new_password", m))?;
        let (mut op, version, step) = self.check_credentials(name, password, code, origin).await?;
        self.check_origin(&op, origin)?;
        if matches_any(new_password.to_owned(), op.passwords.clone()).await {
            return Err(AppError::field("new_password", "must differ from the last 5 passwords"));
        }
        let phc = hash_password(new_password.to_owned()).await?;
        op.succeed_login(step);
        op.set_password(phc, self.now());
        self.save(&op, version, Transaction::new()).await?;
        self.audit(op.name.as_str(), Some(op.role), Change::of(AuditAction::PasswordChanged, op.name.to_string()), origin).await;
        Ok(())
    }

    /// The operator behind a session cookie, if the session is live and the address allowed.
    /// Touches the session at most once a minute (idle expiry).
    pub async fn session(self, cookie: &str, origin: Origin) -> Result<Acting, AppError> {
        let table = self.service.table.as_ref();
        let Some((mut session, version)) = repo::operators::get_session(table, cookie).await? else { return Err(NO_SESSION) };
        let Some((op, _)) = self.load(&session.operator).await? else { return Err(NO_SESSION) };
        let now = self.now();
        if !session.live(now, op.session_generation) || op.status != OperatorStatus::Active {
            return Err(NO_SESSION);
        }
        self.check_origin(&op, &origin)?;
        if session.wants_touch(now) {
            session.last_seen = now;
            // Two requests touching at once: one wins, and either time is right.
            if let Err(e) = table.transact(vec![repo::operators::put_session(cookie, &session, version + 1, Condition::VersionIs(version))?]).await {
                tracing::debug!(error = %e, "session not touched");
            }
        }
        Ok(Acting { operator: op, session, cookie: cookie.to_owned(), origin })
    }

    pub async fn logout(self, acting: &Acting) -> Result<(), AppError> {
        self.service.table.transact(vec![repo::operators::delete_session(&acting.cookie)]).await?;
        self.audit(acting.name().as_str(), Some(acting.operator.role), Change::of(AuditAction::Logout, None), &acting.origin).await;
        Ok(())
    }

    /// A fresh TOTP code from the acting operator, for the actions that need one. A wrong
    /// code counts as a failed login: a stolen session cannot guess its way through.
    pub async fn step_up(self, acting: &Acting, code: Option<&str>) -> Result<(), AppError> {
        let Some(code) = code else { return Err(STEP_UP) };
        let Some((mut op, version)) = self.load(acting.name()).await? else { return Err(NO_SESSION) };
        let now = self.now();
        // A lock (or any other end of the session) that came after this request passed the
        // access layer stops it here: parallel guesses get no more than the five.
        if op.session_generation != acting.session.generation {
            return Err(NO_SESSION);
        }
        if let Err(LoginRefusal::Locked { until }) = op.may_try_login(now) {
            return Err(AppError::Locked { until });
        }
        match totp_secret_bytes(&op).and_then(|secret| totp_step(&secret, code, now, op.last_totp_step)) {
            Some(step) => {
                op.last_totp_step = Some(step);
                Ok(self.save(&op, version, Transaction::new()).await?)
            }
            None => {
                let (op, locked) = self.count_failure(op, version).await?;
                self.audit(op.name.as_str(), Some(op.role), Change::of(AuditAction::LoginFailed, Some("step-up".into())), &acting.origin).await;
                if locked.is_some() {
                    self.audit(op.name.as_str(), Some(op.role), Change::of(AuditAction::LoginLocked, op.name.to_string()), &acting.origin).await;
                }
                Err(STEP_UP)
            }
        }
    }

    pub async fn list(self, limit: usize, after: Option<Cursor>) -> Result<Listing<OperatorView>, AppError> {
        let now = self.now();
        let page = repo::operators::list_operators(self.service.table.as_ref(), limit, after).await?;
        Ok(Listing { items: page.items.iter().map(|op| OperatorView::of(op, now)).collect(), next: page.next })
    }

    pub async fn get(self, name: &OperatorName) -> Result<OperatorView, AppError> {
        let (op, _) = self.load(name).await?.ok_or(AppError::NotFound)?;
        Ok(OperatorView::of(&op, self.now()))
    }

    /// Changes another operator's role, `pii` or allowlist (a role or `pii` change ends their
    /// sessions). Not oneself: a super_admin cannot lift or drop their own rights.
    pub async fn update(self, acting: &Acting, name: &OperatorName, update: OperatorUpdate) -> Result<OperatorView, AppError> {
        if name == acting.name() {
            return Err(AppError::Conflict("operators cannot change their own role or allowlist".into()));
        }
        let (mut op, version) = self.load(name).await?.ok_or(AppError::NotFound)?;
        let now = self.now();
        let before = OperatorView::of(&op, now);
        op.set_role(update.role.unwrap_or(op.role), update.pii.unwrap_or(op.pii));
        if let Some(ips) = update.allowed_ips {
            op.allowed_ips = ips;
        }
        self.save(&op, version, Transaction::new()).await?;
        let after = OperatorView::of(&op, now);
        let change = Change::of(AuditAction::OperatorUpdated, name.to_string()).diff(&before, &after);
        self.audit(acting.name().as_str(), Some(acting.operator.role), change, &acting.origin).await;
        Ok(after)
    }

    /// Lifts a lock before it runs out.
    pub async fn unlock(self, acting: &Acting, name: &OperatorName) -> Result<OperatorView, AppError> {
        let (mut op, version) = self.load(name).await?.ok_or(AppError::NotFound)?;
        op.failures = 0;
        op.locked_until = None;
        self.save(&op, version, Transaction::new()).await?;
        self.audit(acting.name().as_str(), Some(acting.operator.role), Change::of(AuditAction::OperatorUnlocked, name.to_string()), &acting.origin).await;
        Ok(OperatorView::of(&op, self.now()))
    }
}
