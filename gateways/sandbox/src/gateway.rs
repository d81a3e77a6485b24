//! The sandbox as the platform sees it: the [`PaymentGateway`] implementation.

use chrono::Utc;
use lyceum_gateway_core::{
    Capabilities, CheckoutRequest, CheckoutSession, Delivery, GatewayError, GatewayEvent,
    GatewayId, PaymentGateway, PaymentLookup, RefundAccepted, RefundRequest, TenantAccount,
    WebhookError, WebhookRequest,
};

use crate::{Sandbox, fetch, flows, reversals, webhook};

/// The sandbox has no seller accounts: every call's [`TenantAccount`] is ignored, and its own
/// configured secrets sign and verify.
impl PaymentGateway for Sandbox {
    fn id(&self) -> GatewayId {
        GatewayId::Sandbox
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // The split is recorded on the session; no money moves anywhere.
            split_payments: true,
            partial_refunds: true,
            subscriptions: false,
            currencies: None,
            seller_account_required: false,
            exact_amounts: false,
            idempotent_refunds: true,
        }
    }

    async fn create_checkout(
        &self,
        _account: &TenantAccount,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, GatewayError> {
        let now = Utc::now();
        let ttl = self.inner.session_ttl;
        let session = self
            .update(|state| flows::checkout(state, request, now, ttl))
            .await?;
        tracing::info!(
            session = %session.id,
            order.id = %session.order_id,
            tenant.id = %session.tenant_id,
            "sandbox checkout opened"
        );
        Ok(CheckoutSession {
            redirect_url: self.pay_url(&session.id),
            provider_reference: session.id,
            expires_at: session.expires_at,
        })
    }

    async fn verify_webhook(
        &self,
        _account: &TenantAccount,
        request: &WebhookRequest<'_>,
    ) -> Result<Delivery, WebhookError> {
        webhook::verify(request, &self.inner.secrets).map(Delivery::from)
    }

    async fn cancel_checkout(
        &self,
        _account: &TenantAccount,
        session_ref: &str,
    ) -> Result<(), GatewayError> {
        let now = Utc::now();
        let emissions = self
            .update(|state| flows::close(state, session_ref))
            .await?;
        if !emissions.is_empty() {
            tracing::info!(session = %session_ref, "sandbox checkout closed");
        }
        self.emit(emissions, now);
        Ok(())
    }

    async fn fetch_payment(
        &self,
        _account: &TenantAccount,
        lookup: &PaymentLookup,
    ) -> Result<Vec<GatewayEvent>, GatewayError> {
        let store = self.inner.store.lock().await;
        Ok(fetch::payment_events(store.state(), lookup, Utc::now())?)
    }

    async fn refund(
        &self,
        _account: &TenantAccount,
        request: &RefundRequest,
    ) -> Result<RefundAccepted, GatewayError> {
        let now = Utc::now();
        let (provider_refund_id, emissions) = self
            .update(|state| reversals::refund(state, request, now))
            .await?;
        tracing::info!(
            order.id = %request.order_id,
            refund = %provider_refund_id,
            new = !emissions.is_empty(),
            "sandbox refund accepted"
        );
        self.emit(emissions, now);
        Ok(RefundAccepted::pending(provider_refund_id))
    }
}

#[cfg(test)]
mod tests;
