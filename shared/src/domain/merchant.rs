//! Merchants, their API keys, and the upstream providers that own account numbers.

use super::{ApiKeyId, Krw, MerchantId, ProviderId};
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
