//! Short HMAC-SHA256 tags over the platform's signing key, each bound to a purpose so a tag
//! made for one use is worthless for another (form tokens, order status links).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

fn mac(key: &SecretString, purpose: &str, message: &str) -> Hmac<Sha256> {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    // The purpose and the message are separated by a byte neither may contain.
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac.update(message.as_bytes());
    mac
}

/// The tag of `message` for `purpose`, base64url.
pub fn tag(key: &SecretString, purpose: &str, message: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, purpose, message).finalize().into_bytes())
}

/// Whether `tag` is the tag of `message` for `purpose` (constant time).
pub fn verify(key: &SecretString, purpose: &str, message: &str, tag: &str) -> bool {
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    mac(key, purpose, message).verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_bound_to_key_purpose_and_message() {
        let key = SecretString::from("k".repeat(32));
        let t = tag(&key, "form", "abc");
        assert!(verify(&key, "form", "abc", &t));
        assert!(!verify(&key, "status", "abc", &t));
        assert!(!verify(&key, "form", "abd", &t));
        assert!(!verify(
            &SecretString::from("x".repeat(32)),
            "form",
            "abc",
            &t
        ));
        assert!(!verify(&key, "form", "abc", "not base64 !"));
    }
}
