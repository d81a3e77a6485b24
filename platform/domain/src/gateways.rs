//! The gateway registry: the closed set of providers, built from configuration.
//!
//! [`Gateway`] dispatches to each provider crate with one exhaustive `match`, and
//! [`Gateways::from_settings`] builds each one with another, so a new [`GatewayId`] does not
//! compile until it is wired here. Which seller account a call acts for is decided by
//! `services::gateway_accounts`, never here.

use std::collections::BTreeMap;

use lyceum_gateway_core::{
    AccountInputError, AccountSetup, AccountStatus, Acknowledgement, Capabilities, CheckoutRequest,
    CheckoutSession, Currency, Delivery, GatewayError, GatewayEvent, GatewayId, Onboarding,
    OnboardingRequest, PaymentGateway, PaymentLookup, RefundAccepted, RefundLookup, RefundRequest,
    Settlement, TenantAccount, WebhookError, WebhookRequest,
};
use lyceum_gateway_robokassa::{Robokassa, RobokassaConfig};
use lyceum_gateway_sandbox::{DeliveryOptions, Sandbox, SandboxConfig};
use lyceum_gateway_stripe::{Stripe, StripeConfig};
use lyceum_gateway_yookassa::{ShopCredentials, Yookassa, YookassaConfig, YookassaConfigError};
use secrecy::{ExposeSecret, SecretString};

use crate::config::Settings;
use crate::error::{AppError, AppResult};

/// One configured provider.
#[derive(Clone)]
pub enum Gateway {
    Stripe(Stripe),
    Yookassa(Yookassa),
    Robokassa(Robokassa),
    Sandbox(Sandbox),
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gateway({})", self.id())
    }
}

macro_rules! dispatch {
    ($self:ident, $g:ident => $body:expr) => {
        match $self {
            Gateway::Stripe($g) => $body,
            Gateway::Yookassa($g) => $body,
            Gateway::Robokassa($g) => $body,
            Gateway::Sandbox($g) => $body,
        }
    };
}

impl Gateway {
    pub fn id(&self) -> GatewayId {
        dispatch!(self, g => g.id())
    }

    pub fn capabilities(&self) -> Capabilities {
        dispatch!(self, g => g.capabilities())
    }

    pub fn parse_account(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AccountSetup, AccountInputError> {
        dispatch!(self, g => g.parse_account(fields))
    }

    pub async fn check_account(
        &self,
        account: &TenantAccount,
    ) -> Result<AccountStatus, GatewayError> {
        dispatch!(self, g => g.check_account(account).await)
    }

    pub fn fee_step(&self, currency: Currency) -> i64 {
        dispatch!(self, g => g.fee_step(currency))
    }

    pub fn settlement(&self, account: &TenantAccount) -> Settlement {
        dispatch!(self, g => g.settlement(account))
    }

    pub async fn start_onboarding(
        &self,
        account: &TenantAccount,
        request: &OnboardingRequest,
    ) -> Result<Onboarding, GatewayError> {
        dispatch!(self, g => g.start_onboarding(account, request).await)
    }

    pub async fn cancel_checkout(
        &self,
        account: &TenantAccount,
        session_ref: &str,
    ) -> Result<(), GatewayError> {
        dispatch!(self, g => g.cancel_checkout(account, session_ref).await)
    }

    pub async fn create_checkout(
        &self,
        account: &TenantAccount,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        dispatch!(self, g => g.create_checkout(account, request).await)
    }

    pub async fn verify_webhook(
        &self,
        account: &TenantAccount,
        request: &WebhookRequest<'_>,
    ) -> Result<Delivery, WebhookError> {
        dispatch!(self, g => g.verify_webhook(account, request).await)
    }

    pub async fn fetch_payment(
        &self,
        account: &TenantAccount,
        lookup: &PaymentLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        dispatch!(self, g => g.fetch_payment(account, lookup).await)
    }

    pub async fn refund(
        &self,
        account: &TenantAccount,
        request: &RefundRequest,
    ) -> Result<RefundAccepted, GatewayError> {
        dispatch!(self, g => g.refund(account, request).await)
    }

    pub async fn fetch_refund(
        &self,
        account: &TenantAccount,
        lookup: &RefundLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        dispatch!(self, g => g.fetch_refund(account, lookup).await)
    }

    pub fn acknowledge(&self, delivery: &Delivery) -> Acknowledgement {
        dispatch!(self, g => g.acknowledge(delivery))
    }
}

/// The enabled gateways, in preference order.
#[derive(Debug, Clone, Default)]
pub struct Gateways {
    enabled: BTreeMap<GatewayId, Gateway>,
}

/// `STRIPE_WEBHOOK_SECRET`: one or several comma-separated endpoint secrets (rotation).
fn stripe_webhook_secrets(settings: &Settings) -> Vec<SecretString> {
    settings
        .gateways
        .stripe_webhook_secret
        .as_ref()
        .map(|list| {
            list.expose_secret()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// YooKassa, always on: a storefront sells through it once it connected a shop of its own, or
/// as a seller in the platform's shop when the platform has one (`YOOKASSA_SHOP_ID`,
/// `YOOKASSA_SECRET_KEY`).
fn yookassa(settings: &Settings) -> AppResult<Yookassa> {
    let endpoints = &settings.gateways;
    let startup = |e: YookassaConfigError| AppError::GatewayStartup {
        gateway: "yookassa",
        source: Box::new(e),
    };
    let platform_shop = match (&endpoints.yookassa_shop_id, &endpoints.yookassa_secret_key) {
        (Some(shop_id), Some(secret_key)) => Some(ShopCredentials {
            shop_id: shop_id.clone(),
            secret_key: secret_key.clone(),
        }),
        (None, None) => None,
        _ => return Err(startup(YookassaConfigError::HalfAShop)),
    };
    let mut config = YookassaConfig {
        platform_shop,
        ..YookassaConfig::default()
    };
    if let Some(base) = &endpoints.yookassa_api_base {
        config.api_base = base.as_str().trim_end_matches('/').to_owned();
    }
    if let Some(sources) = &endpoints.yookassa_trusted_sources {
        config.trusted_sources = sources.clone();
    }
    Yookassa::new(config).map_err(startup)
}

/// Robokassa, always on: a storefront sells through it once it configured its own shop. The
/// `LYCEUM_ROBOKASSA_*` settings move its endpoints (tests point them at a fake).
fn robokassa(settings: &Settings) -> AppResult<Robokassa> {
    let endpoints = &settings.gateways;
    let mut config = RobokassaConfig::default();
    if let Some(url) = &endpoints.robokassa_pay_url {
        config.pay_url = url.as_str().to_owned();
    }
    if let Some(base) = &endpoints.robokassa_api_base {
        config.api_base = base.as_str().trim_end_matches('/').to_owned();
    }
    if let Some(base) = &endpoints.robokassa_refund_api_base {
        config.refund_base = base.as_str().trim_end_matches('/').to_owned();
    }
    Robokassa::new(config).map_err(|e| AppError::GatewayStartup {
        gateway: "robokassa",
        source: Box::new(e),
    })
}

/// Secrets the registry needs that may be generated and stored by the platform.
#[derive(Debug, Clone)]
pub struct GatewaySecrets {
    pub sandbox_webhook: Vec<String>,
}

impl Gateways {
    /// Builds every provider the settings enable.
    pub fn from_settings(
        settings: &Settings,
        secrets: &GatewaySecrets,
        delivery: DeliveryOptions,
    ) -> AppResult<Self> {
        let mut enabled = BTreeMap::new();
        for id in GatewayId::ALL {
            let gateway = match id {
                GatewayId::Stripe => {
                    let Some(key) = &settings.gateways.stripe_secret_key else {
                        continue;
                    };
                    let mut config =
                        StripeConfig::new(key.clone(), stripe_webhook_secrets(settings));
                    if let Some(base) = &settings.gateways.stripe_api_base {
                        config.api_base = base.as_str().trim_end_matches('/').to_owned();
                    }
                    let stripe = Stripe::new(config).map_err(|e| AppError::GatewayStartup {
                        gateway: "stripe",
                        source: Box::new(e),
                    })?;
                    Gateway::Stripe(stripe)
                }
                GatewayId::Yookassa => Gateway::Yookassa(yookassa(settings)?),
                GatewayId::Robokassa => Gateway::Robokassa(robokassa(settings)?),
                GatewayId::Sandbox => {
                    if !settings.sandbox_enabled {
                        continue;
                    }
                    let sandbox = Sandbox::new(SandboxConfig {
                        public_url: settings
                            .public_url
                            .as_str()
                            .trim_end_matches('/')
                            .to_owned(),
                        secrets: secrets.sandbox_webhook.clone(),
                        state_file: Some(settings.data_dir.join("sandbox-provider.json")),
                        delivery: delivery.clone(),
                        ..SandboxConfig::default()
                    })
                    .map_err(|e| AppError::GatewayStartup {
                        gateway: "sandbox",
                        source: Box::new(e),
                    })?;
                    Gateway::Sandbox(sandbox)
                }
            };
            enabled.insert(id, gateway);
        }
        Ok(Self { enabled })
    }

    /// A gateway by id, if the platform enabled it.
    pub fn get(&self, id: GatewayId) -> Option<&Gateway> {
        self.enabled.get(&id)
    }

    /// The enabled gateway stored under `name` on an order, if any.
    pub fn named(&self, name: &str) -> Option<&Gateway> {
        name.parse::<GatewayId>().ok().and_then(|id| self.get(id))
    }

    /// The gateway a checkout uses when it names none.
    pub fn default_gateway(&self) -> Option<&Gateway> {
        self.enabled.values().next()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Gateway> {
        self.enabled.values()
    }

    /// The sandbox, when enabled (its pay pages are mounted by the server).
    pub fn sandbox(&self) -> Option<&Sandbox> {
        // `if let`, not `match`: another provider's variant needs no arm here.
        if let Some(Gateway::Sandbox(s)) = self.enabled.get(&GatewayId::Sandbox) {
            Some(s)
        } else {
            None
        }
    }
}
