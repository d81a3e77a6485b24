//! The `t=…,v1=…` signature scheme (`lyceum_gateway_core::signature`, Stripe's and the
//! sandbox's): any header, body, secrets, clock and tolerance.
//!
//! Input: a [`Clock`] (three little-endian `i64`s), then `header \n secrets \n body`, the
//! secrets separated by commas.
//!
//! Checked: `verify` never panics; it accepts a header only for a timestamp within the
//! tolerance of the clock; and what `sign` makes with up to `MAX_CANDIDATES` secrets at any
//! instant, `verify` takes exactly when that instant is within the tolerance, and refuses once
//! the body changes.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use lyceum_fuzz::split_line;
use lyceum_gateway_core::WebhookError;
use lyceum_gateway_core::signature::{MAX_CANDIDATES, sign, verify};

/// The numbers a check is made with.
#[derive(Debug, Arbitrary)]
struct Clock {
    /// The receiver's clock, Unix seconds.
    now: i64,
    /// Seconds either side of `now`.
    tolerance: i64,
    /// When the round trip signs.
    signed_at: i64,
}

/// Whether `at` is within `tolerance` seconds of `now` (a negative tolerance admits nothing).
fn within(now: i64, at: i64, tolerance: i64) -> bool {
    (i128::from(now) - i128::from(at)).abs() <= i128::from(tolerance)
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(clock) = Clock::arbitrary(&mut u) else {
        return;
    };
    let (header, rest) = split_line(u.take_rest());
    let (secrets, body) = split_line(rest);
    let secrets: Vec<&[u8]> = secrets.split(|&b| b == b',').collect();
    let header = std::str::from_utf8(header).ok();

    if let Ok(at) = verify(header, body, &secrets, clock.now, clock.tolerance) {
        assert!(
            within(clock.now, at, clock.tolerance),
            "accepted a timestamp outside the tolerance"
        );
    }

    // A header carries one `v1` per secret, and a verifier compares a bounded number.
    if secrets.len() > MAX_CANDIDATES {
        return;
    }
    let Ok(signed) = sign(&secrets, clock.signed_at, body) else {
        return;
    };
    let verdict = verify(Some(&signed), body, &secrets, clock.now, clock.tolerance);
    if within(clock.now, clock.signed_at, clock.tolerance) {
        assert_eq!(verdict, Ok(clock.signed_at), "refused its own signature");
        let mut altered = body.to_vec();
        altered.push(b' ');
        assert_eq!(
            verify(
                Some(&signed),
                &altered,
                &secrets,
                clock.now,
                clock.tolerance
            ),
            Err(WebhookError::BadSignature),
            "took a signature for another body"
        );
    } else {
        assert_eq!(verdict, Err(WebhookError::StaleTimestamp));
    }
});
