//! What the Stripe gateway is built from: the platform account's secret key, the webhook
//! endpoint's signing secrets, and where Stripe's API is.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// Stripe's API, when no other base is configured.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// The platform's Stripe settings.
#[derive(Clone)]
pub struct StripeConfig {
    /// Without `/v1`: `https://api.stripe.com`, or a test double's address.
    pub api_base: String,
    /// The platform account's secret (or restricted) key, `sk_…` / `rk_…`.
    pub secret_key: SecretString,
    /// The webhook endpoint's signing secrets (`whsec_…`); every one verifies, so a rolled
    /// secret and its predecessor both work while Stripe signs with both.
    pub webhook_secrets: Vec<SecretString>,
    /// Per-request timeout (the client has none by default).
    pub timeout: Duration,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("live", &self.is_live())
            .field("webhook_secrets", &self.webhook_secrets.len())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A Stripe configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeConfigError {
    #[error("the Stripe secret key must be a secret (`sk_…`) or restricted (`rk_…`) key")]
    BadSecretKey,
    #[error(
        "STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY: without it no Stripe event can be verified"
    )]
    NoWebhookSecret,
    #[error("a webhook secret is empty")]
    EmptyWebhookSecret,
    #[error("the Stripe client could not be built: {0}")]
    Client(String),
}

impl StripeConfig {
    /// A configuration against Stripe itself.
    pub fn new(secret_key: SecretString, webhook_secrets: Vec<SecretString>) -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            secret_key,
            webhook_secrets,
            timeout: Duration::from_secs(20),
        }
    }

    /// Whether the key is a live-mode one (live events only count with a live key, test
    /// events only with a test key).
    pub fn is_live(&self) -> bool {
        let key = self.secret_key.expose_secret();
        key.starts_with("sk_live_") || key.starts_with("rk_live_")
    }

    pub(crate) fn check(&self) -> Result<(), StripeConfigError> {
        let key = self.secret_key.expose_secret();
        if !(key.starts_with("sk_") || key.starts_with("rk_")) || key.len() < 8 {
            return Err(StripeConfigError::BadSecretKey);
        }
        if self.webhook_secrets.is_empty() {
            return Err(StripeConfigError::NoWebhookSecret);
        }
        if self
            .webhook_secrets
            .iter()
            .any(|s| s.expose_secret().trim().is_empty())
        {
            return Err(StripeConfigError::EmptyWebhookSecret);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(key: &str, secrets: &[&str]) -> StripeConfig {
        StripeConfig::new(
            SecretString::from(key.to_owned()),
            secrets
                .iter()
                .map(|s| SecretString::from((*s).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn keys_and_secrets_are_checked() {
        assert_eq!(config("sk_test_abcdef", &["whsec_1"]).check(), Ok(()));
        assert_eq!(
            config("pk_test_abcdef", &["whsec_1"]).check(),
            Err(StripeConfigError::BadSecretKey)
        );
        assert_eq!(
            config("sk_test_abcdef", &[]).check(),
            Err(StripeConfigError::NoWebhookSecret)
        );
        assert_eq!(
            config("sk_test_abcdef", &["whsec_1", " "]).check(),
            Err(StripeConfigError::EmptyWebhookSecret)
        );
        assert!(config("sk_live_abcdef", &["w"]).is_live());
        assert!(!config("sk_test_abcdef", &["w"]).is_live());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", config("sk_test_hunter2", &["whsec_swordfish"]));
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }
}
