//! Merchant webhooks: which URLs may receive them, how they are signed (Standard Webhooks), the
//! endpoint record with its rotating secrets, and the delivery rules (when to try again, when
//! to give up). Pure: the sending, the storage and the clock live in `app::webhooks`.

use super::address::webhook_may_reach;
use super::time::kst_serde;
use super::{EventId, EventType, MerchantId, WebhookEndpointId};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use std::net::IpAddr;

/// Longer URLs are refused: nobody needs them, and they end up in every attempt log.
pub const MAX_URL_LEN: usize = 2048;
/// A merchant's endpoints, at most: each is one more POST per event.
pub const MAX_ENDPOINTS_PER_MERCHANT: usize = 10;
/// How long a rotated-out secret keeps signing, so a receiver can switch without losing a delivery.
pub const SECRET_OVERLAP: Duration = Duration::hours(24);
/// A receiver that has not answered within this has failed the attempt (docs/openapi.yaml).
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    #[error("must be at most {MAX_URL_LEN} characters")]
    TooLong,
    #[error("is not a URL: {0}")]
    Malformed(String),
    #[error("must use https")]
    NotHttps,
    #[error("must use https or http")]
    NotHttp,
    #[error("must not carry a user name or password")]
    Userinfo,
    #[error("must not carry a fragment (#…)")]
    Fragment,
    #[error("must not point at {0}, which is not a public address")]
    NotPublic(IpAddr),
}

/// A URL we may POST a merchant's events to. `https` only, and an address literal must be
/// public; with private webhooks allowed (local development) `http` and loopback or private
/// addresses pass too, link-local and metadata addresses never.
/// Names are checked when resolved (`app::webhooks` on registration, `net` on every connect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub fn parse(text: &str, allow_private: bool) -> Result<WebhookUrl, WebhookUrlError> {
        if text.len() > MAX_URL_LEN {
            return Err(WebhookUrlError::TooLong);
        }
        let url = url::Url::parse(text).map_err(|e| WebhookUrlError::Malformed(e.to_string()))?;
        match (url.scheme(), allow_private) {
            ("https", _) | ("http", true) => {}
            (_, false) => return Err(WebhookUrlError::NotHttps),
            (_, true) => return Err(WebhookUrlError::NotHttp),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::Userinfo);
        }
        if url.fragment().is_some() {
            return Err(WebhookUrlError::Fragment);
        }
        let literal = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(WebhookUrlError::Malformed("no host".into())),
        };
        if let Some(ip) = literal.filter(|ip| !webhook_may_reach(*ip, allow_private)) {
            return Err(WebhookUrlError::NotPublic(ip));
        }
        Ok(WebhookUrl(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host as written in the URL (a name or an address literal): what alerts name.
    pub fn host(&self) -> String {
        self.0.host_str().unwrap_or_default().to_owned()
    }

    /// The name to resolve, when the host is a name rather than an address.
    pub fn domain(&self) -> Option<&str> {
        self.0.domain()
    }
}

impl Serialize for WebhookUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A stored URL passed the rules of its deployment when it was registered; reading it back
/// keeps only the rules that hold everywhere (the connect-time guard still applies).
impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WebhookUrl, D::Error> {
        WebhookUrl::parse(&String::deserialize(d)?, true).map_err(serde::de::Error::custom)
    }
}

const SECRET_PREFIX: &str = "whsec_";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be `whsec_` followed by the base64 of 24-64 bytes")]
pub struct SecretError;

/// A webhook signing secret: `whsec_` + base64 of the key bytes, as Standard Webhooks writes it.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    /// A fresh secret of 32 random bytes.
    pub fn generate() -> WebhookSecret {
        WebhookSecret(rand::random::<[u8; 32]>().to_vec())
    }

    /// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body).finalize().into_bytes()))
    }

    #[cfg(any(test, feature = "testing"))]
    /// True when one of the space-separated `v1,…` signatures of `header` is ours for this
    /// message; compared in constant time.
    pub fn verifies(&self, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
        header
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .any(|sig| self.mac(id, timestamp, body).verify_slice(&sig).is_ok())
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac
    }
}

impl std::str::FromStr for WebhookSecret {
    type Err = SecretError;
    fn from_str(s: &str) -> Result<WebhookSecret, SecretError> {
        let key = s.strip_prefix(SECRET_PREFIX).and_then(|b64| STANDARD.decode(b64).ok()).ok_or(SecretError)?;
        if (24..=64).contains(&key.len()) { Ok(WebhookSecret(key)) } else { Err(SecretError) }
    }
}

impl std::fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }
}

/// Never prints the key: records holding secrets get logged in debug output.
impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl Serialize for WebhookSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for WebhookSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WebhookSecret, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// The `webhook-signature` header: one `v1,…` signature per secret, space-separated, so a
/// receiver holding either secret during a rotation accepts the message.
pub fn signature_header(secrets: &[WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| s.sign(id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

/// One of an endpoint's secrets; a rotated-out one carries the instant it stops signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningSecret {
    pub secret: WebhookSecret,
    #[serde(with = "kst_serde::option")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("`{0}` is not an event merchants receive")]
    NotMerchantEvent(EventType),
    #[error("must list at least one event type, or be left out for all")]
    NoEventTypes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub id: WebhookEndpointId,
    pub merchant_id: MerchantId,
    pub url: WebhookUrl,
    /// `None`: every merchant event, including types added later.
    pub event_types: Option<Vec<EventType>>,
    /// The current secret (no expiry) first, then at most one rotated-out secret.
    pub secrets: Vec<SigningSecret>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl WebhookEndpoint {
    pub fn new(
        id: WebhookEndpointId,
        merchant_id: MerchantId,
        url: WebhookUrl,
        event_types: Option<Vec<EventType>>,
        secret: WebhookSecret,
        now: DateTime<Utc>,
    ) -> Result<WebhookEndpoint, EndpointError> {
        let event_types = match event_types {
            None => None,
            Some(types) if types.is_empty() => return Err(EndpointError::NoEventTypes),
            Some(mut types) => {
                if let Some(internal) = types.iter().find(|t| !t.is_merchant_event()) {
                    return Err(EndpointError::NotMerchantEvent(*internal));
                }
                types.sort();
                types.dedup();
                Some(types)
            }
        };
        Ok(WebhookEndpoint { id, merchant_id, url, event_types, secrets: vec![SigningSecret { secret, expires_at: None }], created_at: now, version: 1 })
    }

    pub fn subscribes_to(&self, kind: EventType) -> bool {
        kind.is_merchant_event() && self.event_types.as_ref().is_none_or(|types| types.contains(&kind))
    }

    /// The secrets that sign a message sent at `now`.
    pub fn active_secrets(&self, now: DateTime<Utc>) -> Vec<WebhookSecret> {
        self.secrets.iter().filter(|s| s.expires_at.is_none_or(|at| now < at)).map(|s| s.secret.clone()).collect()
    }

    /// The secret that signs from now on.
    pub fn current_secret(&self) -> Option<&WebhookSecret> {
        self.secrets.iter().find(|s| s.expires_at.is_none()).map(|s| &s.secret)
    }

    /// `next` becomes the current secret; the current one signs for [`SECRET_OVERLAP`] more.
    /// Only that one is kept beside it: two active secrets at most, so a second rotation within
    /// the overlap retires the secret the first one replaced.
    pub fn rotate(&self, next: WebhookSecret, now: DateTime<Utc>) -> (WebhookEndpoint, DateTime<Utc>) {
        let expires_at = now + SECRET_OVERLAP;
        let mut secrets = vec![SigningSecret { secret: next, expires_at: None }];
        if let Some(previous) = self.current_secret() {
            secrets.push(SigningSecret { secret: previous.clone(), expires_at: Some(expires_at) });
        }
        (WebhookEndpoint { secrets, version: self.version + 1, ..self.clone() }, expires_at)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    DeadLettered,
    /// The endpoint was deleted before the delivery finished.
    Cancelled,
}

/// What one POST came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
}

impl AttemptResult {
    pub fn answered(status: u16) -> AttemptResult {
        let error = (!(200..300).contains(&status)).then(|| format!("HTTP {status}"));
        AttemptResult { status: Some(status), error }
    }

    pub fn failed(error: impl Into<String>) -> AttemptResult {
        AttemptResult { status: None, error: Some(error.into()) }
    }

    /// Any 2xx answer is a delivery.
    pub fn succeeded(&self) -> bool {
        delivered(self.status)
    }
}

/// The delivery of one event to one endpoint in one round. A round is the queue message that
/// asked for deliveries: the event itself, or a merchant's resend request (a fresh round).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub round: EventId,
    pub event_id: EventId,
    pub endpoint_id: WebhookEndpointId,
    pub merchant_id: MerchantId,
    pub state: DeliveryState,
    pub attempts: u32,
    /// When the next attempt is due; `Some` exactly while pending.
    pub next_at: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub version: u64,
    /// A dead letter an operator resent: the resend request (a fresh round) it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resent_in: Option<EventId>,
}

impl Delivery {
    pub fn new(round: EventId, event_id: EventId, endpoint_id: WebhookEndpointId, merchant_id: MerchantId, now: DateTime<Utc>) -> Delivery {
        Delivery {
            round,
            event_id,
            endpoint_id,
            merchant_id,
            state: DeliveryState::Pending,
            attempts: 0,
            next_at: Some(now),
            last_status: None,
            last_error: None,
            version: 1,
            resent_in: None,
        }
    }

    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.state == DeliveryState::Pending && self.next_at.is_some_and(|at| at <= now)
    }

    /// The delivery after one more attempt: delivered, scheduled again by `schedule`, or
    /// dead-lettered once the last retry has failed.
    pub fn after_attempt(&self, result: &AttemptResult, schedule: &[Duration], now: DateTime<Utc>) -> Delivery {
        let attempts = self.attempts + 1;
        let (state, next_at) = if result.succeeded() {
            (DeliveryState::Delivered, None)
        } else {
            match next_attempt_at(schedule, attempts, now) {
                Some(at) => (DeliveryState::Pending, Some(at)),
                None => (DeliveryState::DeadLettered, None),
            }
        };
        Delivery { state, attempts, next_at, last_status: result.status, last_error: result.error.clone(), version: self.version + 1, ..self.clone() }
    }

    pub fn cancelled(&self) -> Delivery {
        Delivery { state: DeliveryState::Cancelled, next_at: None, version: self.version + 1, ..self.clone() }
    }

    /// A dead letter no operator has resent yet: what an endpoint's dead-letter listing holds.
    pub fn awaits_resend(&self) -> bool {
        self.state == DeliveryState::DeadLettered && self.resent_in.is_none()
    }

    /// The dead letter once `request` (a fresh round of its event) has been asked for it.
    pub fn resent(&self, request: EventId) -> Delivery {
        Delivery { resent_in: Some(request), version: self.version + 1, ..self.clone() }
    }
}

/// After `attempts` failed attempts, when the next one is due: the first retry waits
/// `schedule[0]`, and so on. `None` once all `1 + schedule.len()` attempts are spent.
pub fn next_attempt_at(schedule: &[Duration], attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    schedule.get(index).map(|wait| now + *wait)
}

#[cfg(test)]
/// True once a delivery has made all the attempts it gets.
pub fn is_exhausted(schedule: &[Duration], attempts: u32) -> bool {
    usize::try_from(attempts).is_ok_and(|n| n > schedule.len())
}

/// One logged attempt, as `GET /v1/webhook-endpoints/{id}/attempts` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub endpoint_id: WebhookEndpointId,
    pub event_id: EventId,
    pub round: EventId,
    /// 1 for the first attempt of a round.
    pub attempt: u32,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

impl WebhookAttempt {
    /// The receiver answered 2xx: the attempt delivered the event.
    pub fn succeeded(&self) -> bool {
        delivered(self.status_code)
    }
}

/// Any 2xx answer is a delivery.
fn delivered(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_600_000, 0).unwrap()
    }

    fn schedule() -> Vec<Duration> {
        [5, 300, 1800].into_iter().map(Duration::seconds).collect()
    }

    #[test]
    fn standard_webhooks_test_vector() {
        let secret: WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let header = signature_header(std::slice::from_ref(&secret), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(secret.verifies(&header, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#));
        assert!(!secret.verifies(&header, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_331, br#"{"test": 2432232314}"#));
    }

    #[test]
    fn urls_follow_the_rules() {
        assert!(WebhookUrl::parse("https://hooks.example.com/vaccount?x=1", false).is_ok());
        assert!(WebhookUrl::parse("https://8.8.8.8/hook", false).is_ok());
        assert_eq!(WebhookUrl::parse("http://hooks.example.com/", false), Err(WebhookUrlError::NotHttps));
        assert_eq!(WebhookUrl::parse("ftp://hooks.example.com/", true), Err(WebhookUrlError::NotHttp));
        assert_eq!(WebhookUrl::parse("https://u:p@hooks.example.com/", false), Err(WebhookUrlError::Userinfo));
        assert_eq!(WebhookUrl::parse("https://hooks.example.com/#top", false), Err(WebhookUrlError::Fragment));
        for private in ["https://127.0.0.1/", "https://10.0.0.8/", "https://[::1]/", "https://[fd12::1]/"] {
            assert!(matches!(WebhookUrl::parse(private, false), Err(WebhookUrlError::NotPublic(_))), "{private}");
            assert!(WebhookUrl::parse(private, true).is_ok(), "{private} with private allowed");
        }
        for metadata in ["https://169.254.169.254/", "https://[fd00:ec2::254]/"] {
            assert!(matches!(WebhookUrl::parse(metadata, false), Err(WebhookUrlError::NotPublic(_))), "{metadata}");
        }
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/hook", true).is_ok());
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(WebhookUrl::parse(&long, false), Err(WebhookUrlError::TooLong));
        assert!(matches!(WebhookUrl::parse("not a url", true), Err(WebhookUrlError::Malformed(_))));
    }

    #[test]
    fn metadata_and_link_local_are_refused_even_with_private_webhooks_allowed() {
        for never in [
            "http://169.254.169.254/latest/meta-data",
            "https://169.254.1.1/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            assert!(matches!(WebhookUrl::parse(never, true), Err(WebhookUrlError::NotPublic(_))), "{never}");
        }
        assert!(WebhookUrl::parse("http://10.0.0.8:8080/hook", true).is_ok(), "private test receivers stay allowed");
    }

    #[test]
    fn only_merchant_event_types_may_be_subscribed() {
        let url = WebhookUrl::parse("https://example.com/", false).unwrap();
        let new =
            |types| WebhookEndpoint::new(WebhookEndpointId::generate(t0()), MerchantId::generate(t0()), url.clone(), types, WebhookSecret::generate(), t0());
        assert_eq!(new(Some(vec![EventType::PoolLow])).unwrap_err(), EndpointError::NotMerchantEvent(EventType::PoolLow));
        assert_eq!(new(Some(vec![])).unwrap_err(), EndpointError::NoEventTypes);
        let paid = new(Some(vec![EventType::AccountPaid, EventType::AccountPaid])).unwrap();
        assert_eq!(paid.event_types, Some(vec![EventType::AccountPaid]));
        assert!(paid.subscribes_to(EventType::AccountPaid) && !paid.subscribes_to(EventType::DepositMatched));
        let all = new(None).unwrap();
        assert!(all.subscribes_to(EventType::DepositMatched) && !all.subscribes_to(EventType::WebhookResendRequested));
    }

    #[test]
    fn a_rotated_out_secret_signs_for_24_hours_then_stops() {
        let url = WebhookUrl::parse("https://example.com/", false).unwrap();
        let first = WebhookSecret::generate();
        let endpoint = WebhookEndpoint::new(WebhookEndpointId::generate(t0()), MerchantId::generate(t0()), url, None, first.clone(), t0()).unwrap();
        let second = WebhookSecret::generate();
        let (rotated, expires_at) = endpoint.rotate(second.clone(), t0());
        assert_eq!(expires_at, t0() + Duration::hours(24));
        assert_eq!(rotated.active_secrets(t0() + Duration::hours(23)), vec![second.clone(), first]);
        assert_eq!(rotated.active_secrets(expires_at), vec![second.clone()]);
        let third = WebhookSecret::generate();
        let (again, _) = rotated.rotate(third.clone(), t0() + Duration::hours(1));
        assert_eq!(again.active_secrets(t0() + Duration::hours(2)), vec![third, second]);
        assert_eq!(again.version, 3);
    }

    #[test]
    fn secrets_round_trip_and_do_not_print() {
        let secret = WebhookSecret::generate();
        assert!(secret.to_string().starts_with("whsec_"));
        assert_eq!(secret.to_string().parse::<WebhookSecret>().unwrap(), secret);
        assert_eq!(format!("{secret:?}"), "WebhookSecret(…)");
        assert!("whsec_short".parse::<WebhookSecret>().is_err());
        assert!("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse::<WebhookSecret>().is_err());
    }

    #[test]
    fn retries_follow_the_schedule_then_dead_letter() {
        let mut delivery = Delivery::new(EventId::generate(t0()), EventId::generate(t0()), WebhookEndpointId::generate(t0()), MerchantId::generate(t0()), t0());
        let failure = AttemptResult::answered(500);
        let mut now = t0();
        for wait in schedule() {
            assert!(delivery.is_due(now));
            delivery = delivery.after_attempt(&failure, &schedule(), now);
            assert_eq!((delivery.state, delivery.next_at), (DeliveryState::Pending, Some(now + wait)));
            now += wait;
        }
        delivery = delivery.after_attempt(&failure, &schedule(), now);
        assert_eq!((delivery.state, delivery.attempts, delivery.next_at), (DeliveryState::DeadLettered, 4, None));
        assert_eq!(delivery.last_error.as_deref(), Some("HTTP 500"));
        assert!(!delivery.is_due(now));
    }

    proptest! {
        #[test]
        fn a_signature_verifies_only_its_own_message(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            timestamp in 0i64..4_000_000_000,
            flip in 0usize..200,
        ) {
            let secret = WebhookSecret::generate();
            let other = WebhookSecret::generate();
            let header = signature_header(&[other.clone(), secret.clone()], "evt_1", timestamp, &body);
            prop_assert!(secret.verifies(&header, "evt_1", timestamp, &body));
            prop_assert!(other.verifies(&header, "evt_1", timestamp, &body));
            prop_assert!(!secret.verifies(&header, "evt_2", timestamp, &body));
            if !body.is_empty() {
                let mut changed = body.clone();
                changed[flip % body.len()] ^= 1;
                prop_assert!(!secret.verifies(&header, "evt_1", timestamp, &changed));
            }
        }

        #[test]
        fn a_delivery_gets_exactly_one_more_attempt_than_retries(retries in 0usize..20, failures in 1u32..30) {
            let schedule: Vec<Duration> = (0..retries).map(|i| Duration::seconds(i as i64 + 1)).collect();
            let mut delivery = Delivery::new(EventId::generate(t0()), EventId::generate(t0()), WebhookEndpointId::generate(t0()), MerchantId::generate(t0()), t0());
            let mut made = 0;
            while made < failures && delivery.state == DeliveryState::Pending {
                delivery = delivery.after_attempt(&AttemptResult::failed("refused"), &schedule, t0());
                made += 1;
            }
            let expected_dead = failures as usize > retries;
            prop_assert_eq!(delivery.state == DeliveryState::DeadLettered, expected_dead);
            prop_assert_eq!(is_exhausted(&schedule, delivery.attempts), expected_dead);
            prop_assert_eq!(delivery.attempts, failures.min(retries as u32 + 1));
        }

        #[test]
        fn any_2xx_delivers(status in 100u16..600) {
            let delivery = Delivery::new(EventId::generate(t0()), EventId::generate(t0()), WebhookEndpointId::generate(t0()), MerchantId::generate(t0()), t0());
            let after = delivery.after_attempt(&AttemptResult::answered(status), &[Duration::seconds(5)], t0());
            prop_assert_eq!(after.state == DeliveryState::Delivered, (200..300).contains(&status));
        }
    }
}
