//! YooKassa (API v3) for Lyceum.
//!
//! A storefront sells through **its own shop** (`shop_id` + `secret_key`, sealed by the
//! platform) or as a seller inside **the platform's shop** with split payments (`account_id`;
//! `transfers` pay it the order's total minus the platform's fee). Either way:
//!
//! - a checkout is a redirect payment (`POST /payments`, `capture: true`) whose amount is the
//!   order's exact decimal total, with the order in its metadata, the order's id as its
//!   `Idempotence-Key`, and a 54-FZ receipt ([`receipts`]) from the storefront's settings;
//! - notifications are trusted by source address and re-fetch only ([`webhook`]);
//! - refunds (`POST /refunds`, partial allowed) carry a refund receipt and, for split
//!   payments, return the platform's fee in proportion through `sources`;
//! - reconciliation asks for the payment or refund again (`GET /payments/{id}`,
//!   `GET /refunds/{id}`).
//!
//! The crate talks to `YookassaConfig::api_base` (YooKassa by default; the tests' fake in
//! tests). Credentials travel only in the Basic authorization header and are never logged.

mod accounts;
mod api;
mod config;
mod payments;
mod receipts;
pub mod webhook;

use std::sync::Arc;

use lyceum_gateway_core::{
    AccountInputError, AccountSetup, AccountStatus, Capabilities, CheckoutRequest, CheckoutSession,
    Currency, Delivery, GatewayError, GatewayEvent, GatewayId, PaymentGateway, PaymentLookup,
    RefundAccepted, RefundLookup, RefundRequest, Settlement, TenantAccount, WebhookError,
    WebhookRequest,
};

pub use config::{
    DEFAULT_API_BASE, PUBLISHED_SOURCES, ShopCredentials, YookassaConfig, YookassaConfigError,
    published_sources,
};

/// The YooKassa gateway.
#[derive(Clone)]
pub struct Yookassa {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: YookassaConfig,
}

impl std::fmt::Debug for Yookassa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Yookassa")
            .field("api_base", &self.inner.config.api_base)
            .field("platform_shop", &self.inner.config.platform_shop)
            .finish_non_exhaustive()
    }
}

impl Yookassa {
    pub fn new(config: YookassaConfig) -> Result<Self, YookassaConfigError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent(concat!("lyceum/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| YookassaConfigError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner { http, config }),
        })
    }

    fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    fn config(&self) -> &YookassaConfig {
        &self.inner.config
    }
}

impl PaymentGateway for Yookassa {
    fn id(&self) -> GatewayId {
        GatewayId::Yookassa
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            split_payments: self.config().platform_shop.is_some(),
            partial_refunds: true,
            subscriptions: false,
            currencies: Currency::parse("RUB").ok().map(|rub| vec![rub]),
            seller_account_required: true,
            exact_amounts: false,
            idempotent_refunds: true,
        }
    }

    fn parse_account(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AccountSetup, AccountInputError> {
        accounts::parse(fields)
    }

    async fn check_account(&self, account: &TenantAccount) -> Result<AccountStatus, GatewayError> {
        accounts::check(self, account).await
    }

    fn settlement(&self, account: &TenantAccount) -> Settlement {
        accounts::settlement(account)
    }

    async fn create_checkout(
        &self,
        account: &TenantAccount,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        payments::create(self, account, request).await
    }

    async fn cancel_checkout(
        &self,
        account: &TenantAccount,
        session_ref: &str,
    ) -> Result<(), GatewayError> {
        payments::cancel(self, account, session_ref).await
    }

    async fn verify_webhook(
        &self,
        account: &TenantAccount,
        request: &WebhookRequest<'_>,
    ) -> Result<Delivery, WebhookError> {
        webhook::receive(self, account, request).await
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
        payments::refund(self, account, request).await
    }

    async fn fetch_refund(
        &self,
        account: &TenantAccount,
        lookup: &RefundLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        payments::fetch_refund(self, account, lookup).await
    }
}
