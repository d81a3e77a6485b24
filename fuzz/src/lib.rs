//! What the fuzz targets share: one clock, one async runtime, the way an input is cut in two,
//! and a provider's API that answers with what the fuzzer made ([`provider`]).
//!
//! Every target drives a gateway through the same public calls the platform's webhook handler
//! makes (`PaymentGateway::verify_webhook`, `fetch_payment`, `acknowledge`), with the gateway
//! built from a configuration as the platform builds it. Nothing here is product code: a
//! panic, an abort or a timeout in a target is a bug in the gateway it drives.

pub mod gateways;
pub mod provider;

use std::future::Future;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

/// The clock of every delivery, in Unix seconds (2027-01-15): signed deliveries are signed at
/// this instant, so the timestamp check passes and the body behind it is read.
pub const NOW: i64 = 1_800_000_000;

/// [`NOW`] as the time a delivery was received.
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(NOW, 0).unwrap_or_default()
}

/// Runs `future` to completion. One current-thread runtime serves every input: libFuzzer runs
/// one input at a time, and the gateways' HTTP clients keep their connections to
/// [`provider::Provider`] open between inputs.
pub fn run<F: Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("no tokio runtime for the fuzz target: {e}"))
        })
        .block_on(future)
}

/// `data` cut at its first newline, which belongs to neither part: the first line and the
/// rest. Without a newline, all of it is the first line and the rest is empty.
///
/// Targets whose input is several documents (a webhook body, then what the provider answers
/// when asked about it) take them a line each, so a seed is a few readable lines.
pub fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// The lines of `data` (see [`split_line`]).
pub fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_split_at_the_first_newline() {
        assert_eq!(split_line(b"a\nb\nc"), (&b"a"[..], &b"b\nc"[..]));
        assert_eq!(split_line(b"abc"), (&b"abc"[..], &b""[..]));
        assert_eq!(split_line(b"\n"), (&b""[..], &b""[..]));
    }
}
