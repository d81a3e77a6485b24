//! How the sandbox is set up: where the platform lives, how it signs, and how badly it
//! delivers (duplicates, delays, races) so the platform's webhook handling is exercised.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The sandbox provider's settings.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Base URL of the platform, e.g. `http://127.0.0.1:8080`, with or without a trailing
    /// slash. Pay pages are `{public_url}/sandbox/pay/{session}`; events are POSTed to
    /// `{public_url}/webhooks/sandbox`.
    pub public_url: String,
    /// Webhook secrets: the first signs; all are accepted when verifying (rotation).
    pub secrets: Vec<String>,
    /// Where the provider keeps its own state (sessions, payments, refunds, disputes) as JSON,
    /// so it survives restarts; `None` keeps it in memory only.
    pub state_file: Option<PathBuf>,
    pub delivery: DeliveryOptions,
    /// How long a checkout session stays open.
    pub session_ttl: Duration,
}

impl Default for SandboxConfig {
    /// A local platform on port 8080, memory only, no secret: `Sandbox::new` refuses to run
    /// without one, so a real secret must be set.
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            secrets: Vec::new(),
            state_file: None,
            delivery: DeliveryOptions::default(),
            session_ttl: Duration::from_secs(30 * 60),
        }
    }
}

// Hand-written so the secrets never reach a log line.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("public_url", &self.public_url)
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("state_file", &self.state_file)
            .field("delivery", &self.delivery)
            .field("session_ttl", &self.session_ttl)
            .finish()
    }
}

/// How webhook deliveries misbehave, on purpose.
#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    /// Deliver every event twice, as two independent deliveries.
    pub duplicate: bool,
    /// Wait before the first attempt of each delivery.
    pub delay: Duration,
    /// Add a random extra delay in `[0, reorder)` to each delivery, so events race and arrive
    /// out of order; zero turns it off.
    pub reorder: Duration,
    /// The first retry's backoff; it doubles on each retry, capped at [`MAX_BACKOFF`].
    pub retry_base: Duration,
    /// Attempts per delivery; after the last one the delivery is dropped with an error log.
    pub max_attempts: u32,
}

/// The longest wait between two attempts of one delivery.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            duplicate: false,
            delay: Duration::ZERO,
            reorder: Duration::ZERO,
            retry_base: Duration::from_millis(200),
            max_attempts: 50,
        }
    }
}

impl DeliveryOptions {
    /// The wait after failed attempt number `attempt` (1-based): `retry_base · 2^(attempt−1)`,
    /// capped.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1_u32 << attempt.saturating_sub(1).min(20);
        self.retry_base.saturating_mul(factor).min(MAX_BACKOFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let options = DeliveryOptions::default();
        assert_eq!(options.backoff(1), Duration::from_millis(200));
        assert_eq!(options.backoff(2), Duration::from_millis(400));
        assert_eq!(options.backoff(4), Duration::from_millis(1600));
        assert_eq!(options.backoff(9), MAX_BACKOFF);
        assert_eq!(options.backoff(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn debug_hides_the_secrets() {
        let config = SandboxConfig {
            secrets: vec!["whsec_do_not_print".to_owned()],
            ..SandboxConfig::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("whsec_do_not_print"), "{printed}");
        assert!(printed.contains("1 redacted"));
    }
}
