//! Merchants, their API keys, and the upstream providers that own account numbers.

use super::{AccountPolicy, ApiKeyId, Krw, MerchantId, NameMismatchPolicy, ProviderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// What the service charges a merchant per credited deposit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Fee {
    /// A flat number of won per deposit.
    PerDeposit(Krw),
    /// Basis points of the deposit amount (150 = 1.5 %).
    RateBps(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Merchant {
    pub id: MerchantId,
    pub name: String,
    pub fee: Fee,
    /// Settlement pays out D+N business days after the deposit day.
    pub payout_days: u8,
    /// At most [`Merchant::MAX_ACTIVE_KEYS`]; two let a merchant rotate without downtime.
    pub active_keys: Vec<ApiKeyId>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
    #[serde(default)]
    pub policy: DepositPolicy,
}

/// How a merchant wants deposits judged and exceptions handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DepositPolicy {
    /// `allow_partial` of a new one-time account when the request leaves it out.
    #[serde(default)]
    pub allow_partial_by_default: bool,
    #[serde(default)]
    pub accept_late: bool,
    #[serde(default)]
    pub name_mismatch: NameMismatchPolicy,
    /// Maker-checker: an exception's resolution takes effect only once a second, different
    /// operator approves it.
    #[serde(default)]
    pub require_exception_approval: bool,
}

impl DepositPolicy {
    /// What an account issued now carries of this policy.
    pub fn for_account(&self) -> AccountPolicy {
        AccountPolicy { accept_late: self.accept_late, name_mismatch: self.name_mismatch }
    }
}

impl Merchant {
    pub const MAX_ACTIVE_KEYS: usize = 2;
    pub const MAX_NAME_CHARS: usize = 100;
}

/// A merchant API key. The secret is what both sides feed to HMAC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub merchant_id: MerchantId,
    pub secret: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Our own notice format, signed with a shared secret: banks, test benches, `simulate`.
    Generic,
    /// Toss Payments virtual-account deposit callbacks.
    Tosspayments,
}

impl std::str::FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "generic" => Ok(ProviderKind::Generic),
            "tosspayments" => Ok(ProviderKind::Tosspayments),
            other => Err(format!("unknown provider kind `{other}`; expected generic or tosspayments")),
        }
    }
}

/// An upstream bank or PG that owns account numbers and reports deposits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub id: ProviderId,
    pub kind: ProviderKind,
    pub secret: String,
    /// Empty: notices are accepted from any address.
    pub allowed_ips: Vec<IpAddr>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// A new random secret: 32 bytes, hex, so it survives any shell or config file unquoted.
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}
