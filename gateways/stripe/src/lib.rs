//! Stripe Connect for Lyceum, on the async-stripe client.
//!
//! Storefronts sell through **destination charges**: the platform's Stripe account creates a
//! hosted Checkout Session whose PaymentIntent transfers the payment to the storefront's
//! connected account (`transfer_data.destination`) minus the platform fee the order was priced
//! with (`application_fee_amount`). Refunds reverse the transfer and the fee in proportion.
//! Storefronts connect an account they already have (`PUT …/gateways/stripe {account_id}`) or
//! open an Express account through Stripe's hosted onboarding; `account.updated` keeps what the
//! platform knows of it (can it take charges, be paid out, what Stripe still asks for).
//!
//! Webhooks (`POST /webhooks/stripe`, platform and Connect events alike) are verified on the
//! raw bytes before anything is parsed (every `v1` signature, 300 s tolerance, several secrets
//! for rotation), then read leniently: only the fields used are parsed, from any API version,
//! and what an event does not carry (the order behind a refund or a dispute) is fetched from
//! Stripe. See [`webhook`].
//!
//! The crate talks to `StripeConfig::api_base` (Stripe by default; the tests' fake in tests),
//! keeps the platform's key in a [`secrecy::SecretString`] and never logs it.

mod accounts;
mod checkout;
mod config;
mod error;
mod payments;
pub mod webhook;

use std::sync::Arc;

use lyceum_gateway_core::{
    AccountInputError, AccountSetup, AccountStatus, Capabilities, CheckoutRequest, CheckoutSession,
    Currency, Delivery, GatewayError, GatewayEvent, GatewayId, Onboarding, OnboardingRequest,
    PaymentGateway, PaymentLookup, RefundAccepted, RefundRequest, Settlement, TenantAccount,
    WebhookError, WebhookRequest,
};
use secrecy::ExposeSecret;

pub use config::{StripeConfig, StripeConfigError};

/// The Stripe gateway: a client of the platform's account plus the webhook secrets.
#[derive(Clone)]
pub struct Stripe {
    inner: Arc<Inner>,
}

struct Inner {
    client: stripe::Client,
    config: StripeConfig,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.inner.config.api_base)
            .field("live", &self.inner.config.is_live())
            .finish_non_exhaustive()
    }
}

impl Stripe {
    /// A gateway for the configured platform account.
    pub fn new(config: StripeConfig) -> Result<Self, StripeConfigError> {
        config.check()?;
        let client = stripe::ClientBuilder::new(config.secret_key.expose_secret())
            .url(config.api_base.trim_end_matches('/'))
            .timeout(config.timeout)
            .build()
            .map_err(|e| StripeConfigError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner { client, config }),
        })
    }

    fn client(&self) -> &stripe::Client {
        &self.inner.client
    }

    fn config(&self) -> &StripeConfig {
        &self.inner.config
    }
}

impl PaymentGateway for Stripe {
    fn id(&self) -> GatewayId {
        GatewayId::Stripe
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            split_payments: true,
            partial_refunds: true,
            subscriptions: false,
            currencies: None,
            seller_account_required: true,
            exact_amounts: false,
            idempotent_refunds: true,
        }
    }

    fn parse_account(
        &self,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<AccountSetup, AccountInputError> {
        accounts::parse(fields, self.config().is_live())
    }

    async fn check_account(&self, account: &TenantAccount) -> Result<AccountStatus, GatewayError> {
        accounts::check(self, account).await
    }

    async fn start_onboarding(
        &self,
        account: &TenantAccount,
        request: &OnboardingRequest,
    ) -> Result<Onboarding, GatewayError> {
        accounts::onboard(self, account, request).await
    }

    fn fee_step(&self, currency: Currency) -> i64 {
        checkout::fee_step(currency)
    }

    /// Destination charges: the connected account gets the payment minus the platform's fee.
    fn settlement(&self, _account: &TenantAccount) -> Settlement {
        Settlement::Split
    }

    async fn create_checkout(
        &self,
        account: &TenantAccount,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        checkout::create(self, account, request).await
    }

    async fn cancel_checkout(
        &self,
        _account: &TenantAccount,
        session_ref: &str,
    ) -> Result<(), GatewayError> {
        checkout::expire(self, session_ref).await
    }

    async fn verify_webhook(
        &self,
        _account: &TenantAccount,
        request: &WebhookRequest<'_>,
    ) -> Result<Delivery, WebhookError> {
        webhook::receive(self, request).await
    }

    async fn fetch_payment(
        &self,
        _account: &TenantAccount,
        lookup: &PaymentLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        payments::fetch(self, lookup).await
    }

    async fn refund(
        &self,
        account: &TenantAccount,
        request: &RefundRequest,
    ) -> Result<RefundAccepted, GatewayError> {
        payments::refund(self, account, request).await
    }
}
