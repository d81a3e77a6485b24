//! The gateway registry: the closed set of providers, built from configuration.
//!
//! [`Gateway`] dispatches to each provider crate with one exhaustive `match`, and
//! [`Gateways::from_settings`] builds each one with another, so a new [`GatewayId`] does not
//! compile until it is wired here. [`Gateways::account_for`] is the one place the platform
//! says which seller account a gateway call acts for.

use std::collections::BTreeMap;

use lyceum_gateway_core::{
    Acknowledgement, Capabilities, CheckoutRequest, CheckoutSession, GatewayError, GatewayEvent,
    GatewayId, PaymentGateway, PaymentLookup, RefundAccepted, RefundRequest, TenantAccount,
    WebhookError, WebhookRequest,
};
use lyceum_gateway_sandbox::{DeliveryOptions, Sandbox, SandboxConfig};

use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::ids::TenantId;

/// One configured provider.
#[derive(Clone)]
pub enum Gateway {
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
    ) -> Result<Vec<GatewayEvent>, WebhookError> {
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

    pub fn acknowledge(&self, events: &[GatewayEvent]) -> Acknowledgement {
        dispatch!(self, g => g.acknowledge(events))
    }
}

/// The enabled gateways, in preference order.
#[derive(Debug, Clone, Default)]
pub struct Gateways {
    enabled: BTreeMap<GatewayId, Gateway>,
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

    /// The seller account at `gateway` that a call for `tenant` acts for; `None` is a webhook
    /// delivery whose URL names no tenant. Every gateway call takes its account from here.
    ///
    /// Today no tenant has an account of its own: every tenant sells through the platform's
    /// account, which each gateway reads from its configuration, so this is always the empty
    /// account. Per-tenant accounts (stored encrypted, decrypted here) arrive with the first
    /// real provider, and change this function only.
    pub fn account_for(&self, _gateway: GatewayId, _tenant: Option<TenantId>) -> TenantAccount {
        TenantAccount::default()
    }

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
