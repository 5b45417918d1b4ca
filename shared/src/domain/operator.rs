//! Operators of the back office and the rules of their identity: roles and what each may do,
//! the password policy, lockout, TOTP codes, sessions' lifetimes, IP allowlists, and the audit
//! chain's hashing. Pure: the caller passes `now`, random values and hashes in.

use super::OperatorName;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// Failures in a row that lock an operator.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts.
pub const LOCK_FOR: Duration = Duration::minutes(15);
/// A password older than this must be changed before the next login.
pub const PASSWORD_MAX_AGE: Duration = Duration::days(90);
/// Passwords shorter than this are refused.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// None of this many previous passwords (the current one included) may be chosen again.
pub const PASSWORD_HISTORY: usize = 5;
/// A session unused this long is over.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
/// A session is over this long after login, however busy.
pub const SESSION_ABSOLUTE: Duration = Duration::hours(12);
/// An enrolment token is good this long after the operator was created.
pub const ENROLMENT_VALID: Duration = Duration::hours(24);
/// TOTP: 6 digits, 30 s steps, one step of clock drift either way.
pub const TOTP_STEP_SECONDS: u64 = 30;

/// What an operator may do. A role is a set of these; the admin routes each name one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See every list and record (masked unless the operator has `pii`).
    Read,
    /// Resolve, approve and reject exceptions, resend webhooks, acknowledge and resolve incidents.
    Act,
    /// Download a list as a file.
    Export,
    /// Manage operators and merchants' settings.
    Manage,
    /// Read and export the audit log.
    Audit,
}

impl Permission {
    pub const ALL: [Permission; 5] = [Permission::Read, Permission::Act, Permission::Export, Permission::Manage, Permission::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Act => "act",
            Permission::Export => "export",
            Permission::Manage => "manage",
            Permission::Audit => "audit",
        }
    }
}

/// `viewer` reads; `admin` also acts and exports; `super_admin` also manages and audits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    Admin,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::SuperAdmin, Role::Admin, Role::Viewer];

    /// The one place roles meet permissions.
    pub fn grants(self, permission: Permission) -> bool {
        match self {
            Role::SuperAdmin => true,
            Role::Admin => matches!(permission, Permission::Read | Permission::Act | Permission::Export),
            Role::Viewer => matches!(permission, Permission::Read),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    /// The Korean label the dashboard shows.
    pub fn label(self) -> &'static str {
        match self {
            Role::SuperAdmin => "최고 관리자",
            Role::Admin => "관리자",
            Role::Viewer => "조회자",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| "must be one of super_admin, admin, viewer".to_owned())
    }
}

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`, `203.0.113.7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client may arrive as an IPv4-mapped IPv6 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => prefix_eq(&base.octets(), &ip.octets(), self.prefix),
            (IpAddr::V6(base), IpAddr::V6(ip)) => prefix_eq(&base.octets(), &ip.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let (whole, rest) = ((prefix / 8) as usize, prefix % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

impl std::str::FromStr for IpRange {
    type Err = String;

    fn from_str(s: &str) -> Result<IpRange, String> {
        let (addr, prefix) = s.trim().split_once('/').map_or((s.trim(), None), |(a, p)| (a, Some(p)));
        let base: IpAddr = addr.parse().map_err(|_| format!("`{s}` is not an IP address or CIDR block"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("`{s}` has an invalid prefix length"))?,
        };
        Ok(IpRange { base, prefix })
    }
}

impl TryFrom<String> for IpRange {
    type Error = String;

    fn try_from(s: String) -> Result<IpRange, String> {
        s.parse()
    }
}

impl From<IpRange> for String {
    fn from(r: IpRange) -> String {
        r.to_string()
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// An allowlist: empty allows every address; otherwise the address must be in one range.
pub fn allowed(list: &[IpRange], ip: Option<IpAddr>) -> bool {
    list.is_empty() || ip.is_some_and(|ip| list.iter().any(|r| r.contains(ip)))
}

/// Whether an operator can log in yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorStatus {
    /// Created; waiting for the enrolment (password, then a first TOTP code).
    Enrolling,
    Active,
}

/// An operator as kept: credentials, lock state and the generation its sessions must match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub name: OperatorName,
    pub role: Role,
    /// May see names, phone numbers, emails and refund accounts unmasked.
    pub pii: bool,
    pub status: OperatorStatus,
    /// argon2id PHC strings: the current password first, then up to four before it.
    #[serde(default)]
    pub passwords: Vec<String>,
    pub password_set_at: Option<DateTime<Utc>>,
    /// Base32 TOTP secret; set at enrolment.
    pub totp_secret: Option<String>,
    /// The last TOTP step accepted: a code is good once.
    pub last_totp_step: Option<u64>,
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// Addresses this operator may work from, on top of the global allowlist.
    #[serde(default)]
    pub allowed_ips: Vec<IpRange>,
    /// Every session carries the generation it was made in; bumping it ends them all.
    pub session_generation: u64,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<OperatorName>,
}

/// Why a login is refused before its password is even looked at, or after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    Locked { until: DateTime<Utc> },
    NotEnrolled,
}

impl Operator {
    pub fn new(name: OperatorName, role: Role, pii: bool, now: DateTime<Utc>, created_by: Option<OperatorName>) -> Operator {
        Operator {
            name,
            role,
            pii,
            status: OperatorStatus::Enrolling,
            passwords: Vec::new(),
            password_set_at: None,
            totp_secret: None,
            last_totp_step: None,
            failures: 0,
            locked_until: None,
            allowed_ips: Vec::new(),
            session_generation: 1,
            created_at: now,
            created_by,
        }
    }

    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    pub fn may_try_login(&self, now: DateTime<Utc>) -> Result<(), LoginRefusal> {
        if let Some(until) = self.locked_at(now) {
            return Err(LoginRefusal::Locked { until });
        }
        match self.status {
            OperatorStatus::Active => Ok(()),
            OperatorStatus::Enrolling => Err(LoginRefusal::NotEnrolled),
        }
    }

    /// Counts a failed login; the fifth in a row locks the operator and ends their sessions.
    /// Answers whether this failure locked them.
    pub fn fail_login(&mut self, now: DateTime<Utc>) -> bool {
        if self.locked_until.is_some_and(|until| until <= now) {
            // A lock that ran out starts a fresh count.
            self.locked_until = None;
            self.failures = 0;
        }
        self.failures += 1;
        if self.failures >= MAX_FAILURES && self.locked_at(now).is_none() {
            self.locked_until = Some(now + LOCK_FOR);
            self.session_generation += 1;
            return true;
        }
        false
    }

    pub fn succeed_login(&mut self, step: u64) {
        self.failures = 0;
        self.locked_until = None;
        self.last_totp_step = Some(step);
    }

    pub fn password_expired(&self, now: DateTime<Utc>) -> bool {
        self.password_set_at.is_none_or(|at| now - at >= PASSWORD_MAX_AGE)
    }

    /// Takes a new password (already checked against `passwords` by the caller, which holds
    /// the hasher): it becomes current, the oldest falls out of the history, and every session
    /// ends.
    pub fn set_password(&mut self, phc: String, now: DateTime<Utc>) {
        self.passwords.insert(0, phc);
        self.passwords.truncate(PASSWORD_HISTORY);
        self.password_set_at = Some(now);
        self.session_generation += 1;
    }

    pub fn current_password(&self) -> Option<&str> {
        self.passwords.first().map(String::as_str)
    }

    pub fn set_role(&mut self, role: Role, pii: bool) {
        if (role, pii) != (self.role, self.pii) {
            self.role = role;
            self.pii = pii;
            self.session_generation += 1;
        }
    }
}

/// The password rules that need no hashing: length (in characters, Korean counts as one each).
pub fn check_password_shape(password: &str) -> Result<(), &'static str> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err("must be at least 12 characters");
    }
    if password.chars().count() > 256 {
        return Err("must be at most 256 characters");
    }
    Ok(())
}

/// The TOTP step a code matches at `now` (drift of one step either way), if any, and only if it
/// is later than the last step accepted, so a code seen once cannot be replayed.
pub fn totp_step(secret: &[u8], code: &str, now: DateTime<Utc>, last: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now.timestamp()).ok()?;
    let current = now / TOTP_STEP_SECONDS;
    (current.saturating_sub(1)..=current + 1)
        .filter(|step| last.is_none_or(|last| *step > last))
        .find(|step| super::signing::constant_time_eq(totp_code(secret, *step).as_bytes(), code.as_bytes()))
}

/// RFC 6238 with SHA-1, 6 digits.
pub fn totp_code(secret: &[u8], step: u64) -> String {
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, TOTP_STEP_SECONDS, secret.to_vec(), None, String::new());
    totp.generate(step * TOTP_STEP_SECONDS)
}

/// A session as kept (keyed by the SHA-256 of its cookie value; the value itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub operator: OperatorName,
    pub generation: u64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Session {
    /// When the session ends unless used again.
    pub fn expires_at(&self) -> DateTime<Utc> {
        (self.last_seen + SESSION_IDLE).min(self.created_at + SESSION_ABSOLUTE)
    }

    pub fn live(&self, now: DateTime<Utc>, generation: u64) -> bool {
        now < self.expires_at() && self.generation == generation
    }

    /// Whether `last_seen` is worth rewriting: at most once a minute, so reading pages does not
    /// write on every request.
    pub fn wants_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen >= Duration::minutes(1)
    }
}

/// What an audit entry records. Names are stable: they are the `action` column operators filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    #[serde(rename = "login.succeeded")]
    LoginSucceeded,
    #[serde(rename = "login.failed")]
    LoginFailed,
    #[serde(rename = "login.locked")]
    LoginLocked,
    #[serde(rename = "logout")]
    Logout,
    #[serde(rename = "operator.created")]
    OperatorCreated,
    #[serde(rename = "operator.enrolled")]
    OperatorEnrolled,
    #[serde(rename = "operator.updated")]
    OperatorUpdated,
    #[serde(rename = "operator.unlocked")]
    OperatorUnlocked,
    #[serde(rename = "password.changed")]
    PasswordChanged,
    #[serde(rename = "merchant.created")]
    MerchantCreated,
    #[serde(rename = "merchant.settings_changed")]
    MerchantSettingsChanged,
    #[serde(rename = "merchant.key_rotated")]
    MerchantKeyRotated,
    #[serde(rename = "exception.resolved")]
    ExceptionResolved,
    #[serde(rename = "exception.approved")]
    ExceptionApproved,
    #[serde(rename = "exception.rejected")]
    ExceptionRejected,
    #[serde(rename = "event.resent")]
    EventResent,
    #[serde(rename = "webhook.dead_letters_resent")]
    DeadLettersResent,
    #[serde(rename = "incident.acknowledged")]
    IncidentAcknowledged,
    #[serde(rename = "incident.resolved")]
    IncidentResolved,
    #[serde(rename = "pii.unmasked")]
    PiiUnmasked,
    #[serde(rename = "list.exported")]
    ListExported,
}

impl AuditAction {
    pub const ALL: [AuditAction; 21] = [
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::LoginLocked,
        AuditAction::Logout,
        AuditAction::OperatorCreated,
        AuditAction::OperatorEnrolled,
        AuditAction::OperatorUpdated,
        AuditAction::OperatorUnlocked,
        AuditAction::PasswordChanged,
        AuditAction::MerchantCreated,
        AuditAction::MerchantSettingsChanged,
        AuditAction::MerchantKeyRotated,
        AuditAction::ExceptionResolved,
        AuditAction::ExceptionApproved,
        AuditAction::ExceptionRejected,
        AuditAction::EventResent,
        AuditAction::DeadLettersResent,
        AuditAction::IncidentAcknowledged,
        AuditAction::IncidentResolved,
        AuditAction::PiiUnmasked,
        AuditAction::ListExported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::LoginSucceeded => "login.succeeded",
            AuditAction::LoginFailed => "login.failed",
            AuditAction::LoginLocked => "login.locked",
            AuditAction::Logout => "logout",
            AuditAction::OperatorCreated => "operator.created",
            AuditAction::OperatorEnrolled => "operator.enrolled",
            AuditAction::OperatorUpdated => "operator.updated",
            AuditAction::OperatorUnlocked => "operator.unlocked",
            AuditAction::PasswordChanged => "password.changed",
            AuditAction::MerchantCreated => "merchant.created",
            AuditAction::MerchantSettingsChanged => "merchant.settings_changed",
            AuditAction::MerchantKeyRotated => "merchant.key_rotated",
            AuditAction::ExceptionResolved => "exception.resolved",
            AuditAction::ExceptionApproved => "exception.approved",
            AuditAction::ExceptionRejected => "exception.rejected",
            AuditAction::EventResent => "event.resent",
            AuditAction::DeadLettersResent => "webhook.dead_letters_resent",
            AuditAction::IncidentAcknowledged => "incident.acknowledged",
            AuditAction::IncidentResolved => "incident.resolved",
            AuditAction::PiiUnmasked => "pii.unmasked",
            AuditAction::ListExported => "list.exported",
        }
    }
}

impl std::str::FromStr for AuditAction {
    type Err = String;

    fn from_str(s: &str) -> Result<AuditAction, String> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| format!("`{s}` is not an audit action"))
    }
}

/// What happened, before it is chained: the caller fills this in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The operator acting, or the name a failed login tried (which may not exist).
    pub actor: String,
    pub role: Option<Role>,
    pub action: AuditAction,
    pub target: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// In KST like every time the service writes; the hash covers this text.
    #[serde(with = "super::time::kst_serde")]
    pub at: DateTime<Utc>,
}

/// An entry of the audit chain: the record, its place, the previous entry's hash and its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    #[serde(flatten)]
    pub record: AuditRecord,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEntry {
    pub fn chain(seq: u64, record: AuditRecord, prev_hash: &str) -> AuditEntry {
        let hash = entry_hash(seq, &record, prev_hash);
        AuditEntry { seq, record, prev_hash: prev_hash.to_owned(), hash }
    }

    /// Whether the entry's own fields still give its stored hash.
    pub fn intact(&self) -> bool {
        entry_hash(self.seq, &self.record, &self.prev_hash) == self.hash
    }
}

/// SHA-256 over the previous hash, the sequence number and the record's JSON (its fields in
/// declaration order, maps sorted: the same record always gives the same bytes).
fn entry_hash(seq: u64, record: &AuditRecord, prev_hash: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(serde_json::to_vec(record).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// The first link of a chain that does not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub seq: u64,
    pub reason: &'static str,
}

/// Checks entries in order against their predecessors; answers the first broken link.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>, mut prev: (u64, String)) -> Result<(u64, String), BrokenLink> {
    for entry in entries {
        if entry.seq != prev.0 + 1 {
            return Err(BrokenLink { seq: prev.0 + 1, reason: "entry missing" });
        }
        if entry.prev_hash != prev.1 {
            return Err(BrokenLink { seq: entry.seq, reason: "does not link to the entry before it" });
        }
        if !entry.intact() {
            return Err(BrokenLink { seq: entry.seq, reason: "altered: its hash does not match its content" });
        }
        prev = (entry.seq, entry.hash.clone());
    }
    Ok(prev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap()
    }

    fn operator() -> Operator {
        let mut op = Operator::new("kim".parse().unwrap(), Role::Admin, false, at(0), None);
        op.status = OperatorStatus::Active;
        op
    }

    #[test]
    fn roles_grant_exactly_their_permissions() {
        let granted = |role: Role| Permission::ALL.into_iter().filter(|p| role.grants(*p)).collect::<Vec<_>>();
        assert_eq!(granted(Role::Viewer), [Permission::Read]);
        assert_eq!(granted(Role::Admin), [Permission::Read, Permission::Act, Permission::Export]);
        assert_eq!(granted(Role::SuperAdmin), Permission::ALL);
    }

    #[test]
    fn the_fifth_failure_in_a_row_locks_for_fifteen_minutes_and_ends_sessions() {
        let mut op = operator();
        for i in 0..4 {
            assert!(!op.fail_login(at(i)));
        }
        assert!(op.fail_login(at(5)));
        assert_eq!(op.session_generation, 2);
        assert_eq!(op.may_try_login(at(6)), Err(LoginRefusal::Locked { until: at(5) + LOCK_FOR }));
        assert_eq!(op.may_try_login(at(5) + LOCK_FOR), Ok(()));
        // After the lock runs out, one more failure does not lock again at once.
        assert!(!op.fail_login(at(5) + LOCK_FOR));
        assert_eq!(op.failures, 1);
    }

    #[test]
    fn a_success_clears_the_count() {
        let mut op = operator();
        for i in 0..4 {
            op.fail_login(at(i));
        }
        op.succeed_login(7);
        assert!(!op.fail_login(at(10)));
        assert_eq!(op.failures, 1);
    }

    #[test]
    fn passwords_expire_after_ninety_days_and_history_keeps_five() {
        let mut op = operator();
        assert!(op.password_expired(at(0)), "no password yet");
        for i in 0..7 {
            op.set_password(format!("phc{i}"), at(0));
        }
        assert_eq!(op.passwords, ["phc6", "phc5", "phc4", "phc3", "phc2"]);
        assert!(!op.password_expired(at(0) + PASSWORD_MAX_AGE - Duration::seconds(1)));
        assert!(op.password_expired(at(0) + PASSWORD_MAX_AGE));
    }

    #[test]
    fn a_totp_code_is_good_once_within_one_step_of_drift() {
        let secret = b"12345678901234567890";
        // RFC 6238 appendix B, SHA-1, truncated to 6 digits.
        assert_eq!(totp_code(secret, 59 / 30), "287082");
        assert_eq!(totp_code(secret, 1_111_111_109 / 30), "081804");
        let now = at(0);
        let step = now.timestamp() as u64 / 30;
        let code = totp_code(secret, step);
        assert_eq!(totp_step(secret, &code, now, None), Some(step));
        assert_eq!(totp_step(secret, &code, now, Some(step)), None, "replayed");
        assert_eq!(totp_step(secret, &totp_code(secret, step - 1), now, None), Some(step - 1));
        assert_eq!(totp_step(secret, &totp_code(secret, step - 2), now, None), None);
        assert_eq!(totp_step(secret, "12345", now, None), None);
    }

    #[test]
    fn sessions_end_after_idle_or_absolute_time_or_a_new_generation() {
        let s = Session {
            operator: "kim".parse().unwrap(),
            generation: 1,
            csrf_token: "t".into(),
            created_at: at(0),
            last_seen: at(0),
            ip: None,
            user_agent: None,
        };
        assert!(s.live(at(0) + SESSION_IDLE - Duration::seconds(1), 1));
        assert!(!s.live(at(0) + SESSION_IDLE, 1));
        assert!(!s.live(at(1), 2));
        let busy = Session { last_seen: at(0) + SESSION_ABSOLUTE - Duration::minutes(1), ..s };
        assert!(!busy.live(at(0) + SESSION_ABSOLUTE, 1));
    }

    #[test]
    fn ip_ranges_match_by_prefix() {
        let r: IpRange = "10.1.0.0/16".parse().unwrap();
        assert!(r.contains("10.1.200.3".parse().unwrap()));
        assert!(!r.contains("10.2.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one: IpRange = "203.0.113.7".parse().unwrap();
        assert!(one.contains("203.0.113.7".parse().unwrap()) && !one.contains("203.0.113.8".parse().unwrap()));
        let odd: IpRange = "192.168.0.0/23".parse().unwrap();
        assert!(odd.contains("192.168.1.255".parse().unwrap()) && !odd.contains("192.168.2.0".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!(allowed(&[], None));
        assert!(!allowed(&[r], None));
    }

    #[test]
    fn a_changed_entry_breaks_the_chain_where_it_was_changed() {
        let record = |action| AuditRecord {
            actor: "kim".into(),
            role: Some(Role::Admin),
            action,
            target: None,
            before: None,
            after: None,
            ip: None,
            user_agent: None,
            at: at(0),
        };
        let first = AuditEntry::chain(1, record(AuditAction::LoginSucceeded), GENESIS_HASH);
        let second = AuditEntry::chain(2, record(AuditAction::Logout), &first.hash);
        let chain = [first.clone(), second.clone()];
        assert_eq!(verify_chain(&chain, (0, GENESIS_HASH.into())).map(|p| p.0), Ok(2));
        let mut altered = chain.clone();
        altered[0].record.action = AuditAction::LoginFailed;
        assert_eq!(verify_chain(&altered, (0, GENESIS_HASH.into())).unwrap_err().seq, 1);
        let mut rehashed = altered.clone();
        rehashed[0] = AuditEntry::chain(1, altered[0].record.clone(), GENESIS_HASH);
        assert_eq!(verify_chain(&rehashed, (0, GENESIS_HASH.into())).unwrap_err().seq, 2);
        assert_eq!(verify_chain(&chain[1..], (0, GENESIS_HASH.into())).unwrap_err().seq, 1);
    }
}
