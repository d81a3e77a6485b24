//! The `t=<unix seconds>,v1=<hex hmac>[,v1=…]` signature header: HMAC-SHA256 over
//! `"{t}.{raw body}"`, hex, with a timestamp tolerance. Several `v1` entries are accepted, so a
//! secret can be rotated; other schemes (`v0`) are ignored. Stripe signs this way, and so does
//! the sandbox.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::WebhookError;

/// The default tolerance, in seconds, either side of now.
pub const TOLERANCE_SECS: i64 = 300;

/// The longest header read. A provider sends one `v1` per active secret (two during a
/// rotation); anything much longer is not a provider's.
pub const MAX_HEADER_BYTES: usize = 4096;

/// The most `v1` entries compared. Each secret's MAC is computed once whatever their number,
/// so this bounds the comparisons, not the hashing.
pub const MAX_CANDIDATES: usize = 16;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Whether `secrets` can sign or verify: at least one, and none empty. HMAC takes an empty
/// key without complaint, and a signature under it is one anybody can make, so an empty
/// secret is a missing one ([`WebhookError::NotConfigured`]), never a default.
fn usable(secrets: &[&[u8]]) -> Result<(), WebhookError> {
    if secrets.is_empty() || secrets.iter().any(|s| s.is_empty()) {
        Err(WebhookError::NotConfigured)
    } else {
        Ok(())
    }
}

/// The header value for `body` signed at `timestamp` with each secret (one `v1` per secret);
/// refused without a secret or with an empty one.
pub fn sign(secrets: &[&[u8]], timestamp: i64, body: &[u8]) -> Result<String, WebhookError> {
    usable(secrets)?;
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let tag = mac(secret, timestamp, body).finalize().into_bytes();
        header.push_str(",v1=");
        header.push_str(&hex::encode(tag));
    }
    Ok(header)
}

/// Checks a header against the body with any of `secrets` (rotation), rejecting timestamps
/// more than `tolerance` seconds from `now` in either direction; refused without a secret or
/// with an empty one.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&[u8]],
    now: i64,
    tolerance: i64,
) -> Result<i64, WebhookError> {
    let header = header
        .filter(|h| !h.trim().is_empty())
        .ok_or(WebhookError::MissingSignature)?;
    if header.len() > MAX_HEADER_BYTES {
        return Err(WebhookError::MalformedSignature);
    }
    usable(secrets)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for pair in header.split(',') {
        let (key, value) = pair
            .trim()
            .split_once('=')
            .ok_or(WebhookError::MalformedSignature)?;
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| WebhookError::MalformedSignature)?,
                )
            }
            "v1" => {
                // Only what could be an HMAC-SHA256 is kept; anything else cannot match.
                if let Ok(bytes) = <[u8; 32]>::try_from(hex::decode(value).unwrap_or_default()) {
                    if candidates.len() == MAX_CANDIDATES {
                        return Err(WebhookError::MalformedSignature);
                    }
                    candidates.push(bytes);
                }
            }
            // Other schemes are ignored, to prevent downgrades.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(WebhookError::MalformedSignature)?;
    // One MAC over the body per secret, compared in constant time with every candidate: the
    // cost of a delivery does not grow with the number of `v1` entries it carries.
    let matches = secrets.iter().any(|secret| {
        let expected = mac(secret, timestamp, body).finalize().into_bytes();
        candidates.iter().fold(false, |found, candidate| {
            found
                | bool::from(subtle::ConstantTimeEq::ct_eq(
                    expected.as_slice(),
                    candidate,
                ))
        })
    });
    if !matches {
        return Err(WebhookError::BadSignature);
    }
    // `abs_diff`: a signed timestamp at the far ends of `i64` (`t=-9223372036854775808`) must
    // not overflow the difference to now. A negative tolerance admits nothing.
    let within = u64::try_from(tolerance).is_ok_and(|t| now.abs_diff(timestamp) <= t);
    if !within {
        return Err(WebhookError::StaleTimestamp);
    }
    Ok(timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_signed_body_verifies_and_any_change_breaks_it() {
        let header = sign(&[b"whsec_one"], NOW, b"{\"a\":1}").unwrap();
        assert_eq!(
            verify(Some(&header), b"{\"a\":1}", &[b"whsec_one"], NOW, 300),
            Ok(NOW)
        );
        assert_eq!(
            verify(Some(&header), b"{\"a\":2}", &[b"whsec_one"], NOW, 300),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(Some(&header), b"{\"a\":1}", &[b"whsec_two"], NOW, 300),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn a_flood_of_candidates_or_an_oversized_header_is_refused_cheaply() {
        let body = vec![b'x'; 256 * 1024];
        let mut header = format!("t={NOW}");
        for _ in 0..MAX_CANDIDATES + 1 {
            header.push_str(&format!(",v1={}", "00".repeat(32)));
        }
        assert_eq!(
            verify(Some(&header), &body, &[b"s"], NOW, 300),
            Err(WebhookError::MalformedSignature)
        );
        let long = format!("t={NOW},v1={}", "0".repeat(MAX_HEADER_BYTES));
        assert_eq!(
            verify(Some(&long), &body, &[b"s"], NOW, 300),
            Err(WebhookError::MalformedSignature)
        );
        // Short or odd candidates are dropped before any hashing, and never match.
        let odd = format!("t={NOW},v1=00,v1=abc,v1={}", "00".repeat(31));
        assert_eq!(
            verify(Some(&odd), &body, &[b"s"], NOW, 300),
            Err(WebhookError::BadSignature)
        );
        // A real signature among decoys still verifies.
        let real = sign(&[b"s"], NOW, &body).unwrap();
        let mixed = format!("{real},v1={}", "11".repeat(32));
        assert!(verify(Some(&mixed), &body, &[b"s"], NOW, 300).is_ok());
    }

    #[test]
    fn rotation_accepts_any_secret_and_any_v1() {
        let header = sign(&[b"old", b"new"], NOW, b"x").unwrap();
        assert!(verify(Some(&header), b"x", &[b"new"], NOW, 300).is_ok());
        assert!(verify(Some(&header), b"x", &[b"old"], NOW, 300).is_ok());
        let single = sign(&[b"old"], NOW, b"x").unwrap();
        assert!(verify(Some(&single), b"x", &[b"new", b"old"], NOW, 300).is_ok());
    }

    #[test]
    fn stale_future_and_malformed_headers_are_refused() {
        let header = sign(&[b"s"], NOW, b"x").unwrap();
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], NOW + 301, 300),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], NOW - 301, 300),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            verify(None, b"x", &[b"s"], NOW, 300),
            Err(WebhookError::MissingSignature)
        );
        assert_eq!(
            verify(Some("garbage"), b"x", &[b"s"], NOW, 300),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            verify(Some("t=abc,v1=00"), b"x", &[b"s"], NOW, 300),
            Err(WebhookError::MalformedSignature)
        );
        // Only a v0 signature: no v1 to match.
        let v0 = sign(&[b"s"], NOW, b"x").unwrap().replace("v1=", "v0=");
        assert_eq!(
            verify(Some(&v0), b"x", &[b"s"], NOW, 300),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(Some(&header), b"x", &[], NOW, 300),
            Err(WebhookError::NotConfigured)
        );
    }

    #[test]
    fn timestamps_at_the_ends_of_the_clock_are_stale_not_an_overflow() {
        // Found by the `signature_header` fuzz target (its input is kept as
        // fuzz/corpus/signature_header/clock_edges): signed at i64::MAX and checked at
        // i64::MIN, the difference to now overflowed and the check panicked.
        let header = sign(&[b"s"], i64::MAX, b"x").unwrap();
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], i64::MIN, i64::MAX),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], i64::MAX, 0),
            Ok(i64::MAX)
        );
        let header = sign(&[b"s"], i64::MIN, b"x").unwrap();
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], NOW, TOLERANCE_SECS),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], i64::MIN + 1, 1),
            Ok(i64::MIN)
        );
        // A negative tolerance takes nothing, not even the same second.
        let header = sign(&[b"s"], NOW, b"x").unwrap();
        assert_eq!(
            verify(Some(&header), b"x", &[b"s"], NOW, -1),
            Err(WebhookError::StaleTimestamp)
        );
    }

    #[test]
    fn an_empty_secret_neither_signs_nor_verifies() {
        assert_eq!(sign(&[b""], NOW, b"x"), Err(WebhookError::NotConfigured));
        assert_eq!(sign(&[], NOW, b"x"), Err(WebhookError::NotConfigured));
        assert_eq!(
            sign(&[b"s", b""], NOW, b"x"),
            Err(WebhookError::NotConfigured)
        );
        // A header made with an empty key by someone else is not accepted either.
        let forged = format!(
            "t={NOW},v1={}",
            hex::encode(mac(b"", NOW, b"x").finalize().into_bytes())
        );
        assert_eq!(
            verify(Some(&forged), b"x", &[b""], NOW, 300),
            Err(WebhookError::NotConfigured)
        );
        assert_eq!(
            verify(Some(&forged), b"x", &[b"s", b""], NOW, 300),
            Err(WebhookError::NotConfigured)
        );
    }
}
