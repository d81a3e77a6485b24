//! The gateway registry: the closed set of providers, built from configuration.
//!
//! [`Gateway`] dispatches to each provider crate with one exhaustive `match`, so a new
//! [`GatewayId`] does not compile until it is wired here.

use std::collections::BTreeMap;

use lyceum_gateway_core::{
    Acknowledgement, Capabilities, CheckoutRequest, CheckoutSession, GatewayError, GatewayEvent,
    GatewayId, PaymentGateway, PaymentLookup, RefundAccepted, RefundRequest, WebhookError,
    WebhookRequest,
};
use lyceum_gateway_sandbox::{DeliveryOptions, Sandbox, SandboxConfig};

use crate::config::Settings;
use crate::error::{AppError, AppResult};

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
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        dispatch!(self, g => g.create_checkout(request).await)
    }

    pub async fn verify_webhook(
        &self,
        request: &WebhookRequest<'_>,
    ) -> Result<Vec<GatewayEvent>, WebhookError> {
        dispatch!(self, g => g.verify_webhook(request).await)
    }

    pub async fn fetch_payment(
        &self,
        lookup: &PaymentLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        dispatch!(self, g => g.fetch_payment(lookup).await)
    }

    pub async fn refund(&self, request: &RefundRequest) -> Result<RefundAccepted, GatewayError> {
        dispatch!(self, g => g.refund(request).await)
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
        match self.enabled.get(&GatewayId::Sandbox) {
            Some(Gateway::Sandbox(s)) => Some(s),
            None => None,
        }
    }
}
