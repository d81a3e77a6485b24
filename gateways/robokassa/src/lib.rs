//! Robokassa for Lyceum: each storefront sells through its own Robokassa shop.
//!
//! This crate owns everything Robokassa-specific:
//!
//! - the shop's settings (`PUT …/gateways/robokassa`: merchant login, Passwords #1–#3, the
//!   shop's hash algorithm, test mode, 54-FZ receipt settings), see [`accounts`];
//! - the signed payment link with `OutSum` made exactly from kopecks, the order's number as
//!   `InvId`, the `Receipt`, `Shp_order`/`Shp_tenant` and `SuccessUrl2`/`FailUrl2`;
//! - the ResultURL notification (`/webhooks/robokassa/{tenant}`), verified with Password #2
//!   and acknowledged with `OK{InvId}`;
//! - reconciliation through OpStateExt, refunds through the JWT Refund API (or recorded as
//!   manual when the shop gave no Password #3);
//! - the six hash algorithms and the signature bases, see [`signature`].
//!
//! It talks to `RobokassaConfig`'s URLs (Robokassa's by default; the tests' fake in tests) and
//! holds no secret of its own: every call takes the storefront's account, whose passwords the
//! platform unsealed, and never logs them.

mod accounts;
mod amount;
mod checkout;
mod config;
mod hash;
mod payments;
mod receipt;
mod refunds;
pub mod signature;
mod webhook;

use std::sync::Arc;

use lyceum_gateway_core::{
    AccountInputError, AccountSetup, Acknowledgement, Capabilities, CheckoutRequest,
    CheckoutSession, Delivery, GatewayError, GatewayEvent, GatewayId, PaymentGateway,
    PaymentLookup, RefundAccepted, RefundLookup, RefundRequest, Settlement, TenantAccount,
    WebhookError, WebhookRequest,
};

pub use amount::parse_out_sum;
pub use checkout::{SHP_ORDER, SHP_TENANT};
pub use config::{
    DEFAULT_API_BASE, DEFAULT_PAY_URL, DEFAULT_REFUND_BASE, RobokassaConfig, RobokassaConfigError,
};
pub use hash::HashAlgorithm;
pub use refunds::jwt;

/// The Robokassa gateway: where Robokassa is, and an HTTP client.
#[derive(Clone)]
pub struct Robokassa {
    inner: Arc<Inner>,
}

struct Inner {
    config: RobokassaConfig,
    http: reqwest::Client,
}

impl std::fmt::Debug for Robokassa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Robokassa")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Robokassa {
    pub fn new(config: RobokassaConfig) -> Result<Self, RobokassaConfigError> {
        config.check()?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| RobokassaConfigError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner { config, http }),
        })
    }

    pub(crate) fn config(&self) -> &RobokassaConfig {
        &self.inner.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }
}

impl PaymentGateway for Robokassa {
    fn id(&self) -> GatewayId {
        GatewayId::Robokassa
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            split_payments: false,
            partial_refunds: true,
            subscriptions: false,
            currencies: amount::rub().map(|rub| vec![rub]),
            seller_account_required: true,
            exact_amounts: true,
            idempotent_refunds: false,
        }
    }

    fn parse_account(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AccountSetup, AccountInputError> {
        accounts::parse(fields)
    }

    /// The storefront's own merchant account takes the whole payment.
    fn settlement(&self, _account: &TenantAccount) -> Settlement {
        Settlement::Seller
    }

    async fn create_checkout(
        &self,
        account: &TenantAccount,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        checkout::create(self, account, request)
    }

    async fn verify_webhook(
        &self,
        account: &TenantAccount,
        request: &WebhookRequest<'_>,
    ) -> Result<Delivery, WebhookError> {
        webhook::receive(account, request)
    }

    async fn fetch_payment(
        &self,
        account: &TenantAccount,
        lookup: &PaymentLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        payments::fetch(self, account, lookup).await
    }

    async fn refund(
        &self,
        account: &TenantAccount,
        request: &RefundRequest,
    ) -> Result<RefundAccepted, GatewayError> {
        refunds::refund(self, account, request).await
    }

    async fn fetch_refund(
        &self,
        account: &TenantAccount,
        lookup: &RefundLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        refunds::fetch(self, account, lookup).await
    }

    fn acknowledge(&self, delivery: &Delivery) -> Acknowledgement {
        webhook::acknowledge(delivery)
    }
}
