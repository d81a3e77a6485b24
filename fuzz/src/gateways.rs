//! The gateways as the targets build them: from a configuration, as the platform does, with
//! secrets and accounts that exist only here. A provider's API, where a gateway has to ask it,
//! is a [`Provider`] that answers with the fuzzer's bytes.

use std::time::Duration;

use lyceum_gateway_core::{PaymentGateway, TenantAccount};
use lyceum_gateway_robokassa::{HashAlgorithm, Robokassa, RobokassaConfig};
use lyceum_gateway_sandbox::{Sandbox, SandboxConfig};
use lyceum_gateway_stripe::{Stripe, StripeConfig};
use lyceum_gateway_yookassa::{ShopCredentials, Yookassa, YookassaConfig};
use secrecy::SecretString;
use serde_json::json;

use crate::provider::Provider;

/// The sandbox's webhook secret.
pub const SANDBOX_SECRET: &str = "whsec_fuzz_sandbox";
/// Stripe's webhook secrets: the current one and the one it replaces (a rotation).
pub const STRIPE_SECRETS: [&str; 2] = ["whsec_fuzz_current", "whsec_fuzz_previous"];
/// A Robokassa shop's Password #2, which signs its ResultURL notifications.
pub const ROBOKASSA_PASSWORD2: &str = "fuzz-password-2";

/// How long a gateway waits for the provider: far beyond the loopback's answer, far below
/// libFuzzer's timeout.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A port nothing listens on: a gateway that is not meant to call out fails at once if it does.
const NOWHERE: &str = "http://127.0.0.1:9";

/// The sandbox, memory only, posting its own events nowhere.
///
/// # Panics
/// When the configuration is refused: the target cannot run.
pub fn sandbox() -> Sandbox {
    Sandbox::new(SandboxConfig {
        public_url: NOWHERE.to_owned(),
        secrets: vec![SANDBOX_SECRET.to_owned()],
        ..SandboxConfig::default()
    })
    .unwrap_or_else(|e| panic!("the sandbox refused its configuration: {e}"))
}

/// Stripe in test mode, asking `api` what a delivery does not say.
///
/// # Panics
/// When the configuration is refused: the target cannot run.
pub fn stripe(api: &str) -> Stripe {
    let mut config = StripeConfig::new(
        SecretString::from("sk_test_fuzz_platform"),
        STRIPE_SECRETS
            .iter()
            .map(|s| SecretString::from(*s))
            .collect(),
    );
    config.api_base = api.to_owned();
    config.timeout = TIMEOUT;
    Stripe::new(config).unwrap_or_else(|e| panic!("Stripe refused its configuration: {e}"))
}

/// Stripe with no API to ask: for deliveries that are never verified.
pub fn stripe_offline() -> Stripe {
    stripe(NOWHERE)
}

/// YooKassa with the platform's own shop, taking notifications from its published networks
/// and re-fetching their objects from `provider`.
pub fn yookassa(provider: &Provider) -> Yookassa {
    let config = YookassaConfig {
        api_base: format!("{}/v3", provider.url()),
        platform_shop: Some(ShopCredentials {
            shop_id: "100500".to_owned(),
            secret_key: SecretString::from("test_fuzz_secret_key"),
        }),
        timeout: TIMEOUT,
        ..YookassaConfig::default()
    };
    Yookassa::new(config).unwrap_or_else(|e| panic!("YooKassa refused its configuration: {e}"))
}

/// Robokassa asking OpStateExt at `api` (the ResultURL needs no API).
pub fn robokassa(api: &str) -> Robokassa {
    let config = RobokassaConfig {
        api_base: api.to_owned(),
        timeout: TIMEOUT,
        ..RobokassaConfig::default()
    };
    Robokassa::new(config).unwrap_or_else(|e| panic!("Robokassa refused its configuration: {e}"))
}

/// Robokassa with no API to ask.
pub fn robokassa_offline() -> Robokassa {
    robokassa(NOWHERE)
}

/// A storefront's Robokassa shop signing with `hash`, as the platform stores it from the
/// owner's `PUT …/gateways/robokassa` (through the gateway's own `parse_account`).
pub fn robokassa_shop(gateway: &Robokassa, hash: HashAlgorithm) -> TenantAccount {
    let fields = json!({
        "merchant_login": "lyceum-fuzz-shop",
        "password1": "fuzz-password-1",
        "password2": ROBOKASSA_PASSWORD2,
        "hash": hash.as_str(),
    });
    let fields = fields.as_object().cloned().unwrap_or_default();
    let setup = gateway
        .parse_account(&fields)
        .unwrap_or_else(|e| panic!("Robokassa refused the shop: {e}"));
    TenantAccount::new(
        setup.provider_account_id,
        setup.test_mode,
        setup.credentials,
    )
    .with_settings(setup.settings)
}
