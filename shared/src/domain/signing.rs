//! Request signatures: merchant API requests and provider notices are HMAC-SHA256 over a
//! canonical string, compared in constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// How far a request timestamp may be from server time, either way.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// `timestamp \n METHOD \n path_and_query \n hex(sha256(body))`, exactly as docs/openapi.yaml fixes it.
pub fn merchant_canonical(timestamp: &str, method: &str, path_and_query: &str, body: &[u8]) -> String {
    format!("{timestamp}\n{method}\n{path_and_query}\n{}", hex::encode(Sha256::digest(body)))
}

/// Lowercase hex HMAC-SHA256.
pub fn sign_hex(secret: &str, message: &[u8]) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

/// True when `signature_hex` is the HMAC of `message`; the comparison takes the same time
/// whatever the first differing byte, so a forger learns nothing from timing.
pub fn verify_hex(secret: &str, message: &[u8], signature_hex: &str) -> bool {
    let Ok(signature) = hex::decode(signature_hex) else { return false };
    // Uppercase hex would decode too; the contract says lowercase, so hold to it.
    if signature_hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    mac(secret, message).verify_slice(&signature).is_ok()
}

/// Equality of two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn mac(secret: &str, message: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(sign_hex("Jefe", b"what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn empty_body_hashes_the_empty_string() {
        assert!(merchant_canonical("1", "GET", "/v1/x", b"").ends_with("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    }

    proptest! {
        #[test]
        fn a_signature_verifies_and_any_flipped_bit_does_not(
            secret in "[a-f0-9]{8,64}",
            body in proptest::collection::vec(any::<u8>(), 0..256),
            bit in 0usize..256,
        ) {
            let sig = sign_hex(&secret, &body);
            prop_assert!(verify_hex(&secret, &body, &sig));
            let mut raw = hex::decode(&sig).unwrap();
            raw[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!verify_hex(&secret, &body, &hex::encode(raw)));
            prop_assert!(!verify_hex(&secret, &body, &sig.to_uppercase()) || sig == sig.to_uppercase());
        }
    }
}
