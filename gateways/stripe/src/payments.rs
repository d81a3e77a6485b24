//! Payments after checkout: which order a PaymentIntent is for, its refunds, asking Stripe
//! what became of an order (reconciliation), and refunding.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{
    EventKind, GatewayError, GatewayEvent, PaymentLookup, RefundAccepted, RefundRequest,
    TenantAccount,
};
use stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::{CreateRefund, ListRefund};
use stripe_shared::{CheckoutSessionPaymentStatus, CheckoutSessionStatus};

use crate::Stripe;
use crate::checkout::stripe_amount;
use crate::error::gateway_error;
use crate::webhook::{IdOrObject, OrderRef, WireRefund, money};

/// The order a PaymentIntent pays, from the metadata the platform gave it at checkout;
/// `None` for a payment that is not one of ours.
pub(crate) async fn order_of(
    stripe: &Stripe,
    payment_intent: &str,
) -> Result<Option<OrderRef>, GatewayError> {
    let intent = match RetrievePaymentIntent::new(payment_intent)
        .send(stripe.client())
        .await
        .map_err(gateway_error)
    {
        Ok(intent) => intent,
        // Stripe knows no such payment on the platform's account: not ours.
        Err(GatewayError::Rejected(why)) => {
            tracing::info!(
                payment_intent,
                why,
                "a PaymentIntent Stripe does not show us; not ours"
            );
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(OrderRef::from_metadata(Some(&intent.metadata)))
}

/// Every refund of a PaymentIntent (the newest hundred: an order is refunded a few times at
/// most).
pub(crate) async fn refunds_of(
    stripe: &Stripe,
    payment_intent: &str,
) -> Result<Vec<WireRefund>, GatewayError> {
    let list = match ListRefund::new()
        .payment_intent(payment_intent)
        .limit(100)
        .send(stripe.client())
        .await
        .map_err(gateway_error)
    {
        Ok(list) => list,
        Err(GatewayError::Rejected(why)) => {
            tracing::info!(
                payment_intent,
                why,
                "refunds Stripe does not show us; not ours"
            );
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    Ok(list
        .data
        .into_iter()
        .map(|r| WireRefund {
            id: r.id.as_str().to_owned(),
            amount: r.amount,
            currency: r.currency.to_string(),
            status: r.status,
            payment_intent: r
                .payment_intent
                .map(|p| IdOrObject::Id(p.id().as_str().to_owned())),
            metadata: r.metadata,
            created: Some(r.created),
        })
        .collect())
}

/// What Stripe says became of an order's checkout, as events the pipeline records once each:
/// paid (and every succeeded refund since), expired, or nothing yet.
pub(crate) async fn fetch(
    stripe: &Stripe,
    lookup: &PaymentLookup,
) -> Result<Vec<GatewayEvent>, GatewayError> {
    let Some(session_ref) = &lookup.session_ref else {
        return Err(GatewayError::UnknownPayment);
    };
    let session = RetrieveCheckoutSession::new(session_ref.as_str())
        .send(stripe.client())
        .await
        .map_err(gateway_error)?;
    let belongs = session
        .client_reference_id
        .as_deref()
        .is_some_and(|id| id == lookup.order_id.to_string());
    if !belongs {
        return Err(GatewayError::Rejected(
            "the Checkout Session is another order's".into(),
        ));
    }
    let currency = session
        .currency
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let Some(amount) = money(session.amount_total.unwrap_or(0), &currency) else {
        return Err(GatewayError::Rejected(format!(
            "the session's currency `{currency}` is unknown"
        )));
    };
    let now = Utc::now();
    let event =
        |id: String, kind, payment_id: String, amount, refund_id, at: DateTime<Utc>| GatewayEvent {
            provider_event_id: id,
            kind,
            order_id: lookup.order_id,
            tenant_id: Some(lookup.tenant_id),
            session_ref: Some(session_ref.clone()),
            provider_payment_id: payment_id,
            refund_id,
            dispute_id: None,
            amount,
            occurred_at: at,
        };
    let paid = session.payment_status == CheckoutSessionPaymentStatus::Paid;
    let mut events = Vec::new();
    match (&session.status, &session.payment_intent) {
        (Some(CheckoutSessionStatus::Complete), Some(intent)) if paid => {
            let intent = intent.id().as_str().to_owned();
            events.push(event(
                format!("fetch:{session_ref}:paid"),
                EventKind::PaymentSucceeded,
                intent.clone(),
                amount,
                None,
                now,
            ));
            for refund in refunds_of(stripe, &intent).await? {
                if refund.status.as_deref() != Some("succeeded") {
                    continue;
                }
                let Some(refunded) = money(refund.amount, &refund.currency) else {
                    continue;
                };
                events.push(event(
                    format!("fetch:{}", refund.id),
                    EventKind::RefundSucceeded,
                    intent.clone(),
                    refunded,
                    Some(refund.id.clone()),
                    refund
                        .created
                        .and_then(|s| DateTime::from_timestamp(s, 0))
                        .unwrap_or(now),
                ));
            }
        }
        (Some(CheckoutSessionStatus::Expired), _) => events.push(event(
            format!("fetch:{session_ref}:expired"),
            EventKind::PaymentExpired,
            session_ref.clone(),
            amount,
            None,
            DateTime::from_timestamp(session.expires_at, 0).unwrap_or(now),
        )),
        // Open, or complete and still waiting for a delayed payment: nothing to say yet.
        _ => {}
    }
    Ok(events)
}

/// Refunds part or all of a payment: the transfer to the storefront and the platform's fee
/// are reversed in proportion, and the refund carries our ids, so its events name the order.
pub(crate) async fn refund(
    stripe: &Stripe,
    account: &TenantAccount,
    request: &RefundRequest,
) -> Result<RefundAccepted, GatewayError> {
    let key = IdempotencyKey::new(format!("refund:{}", request.idempotency_key))
        .map_err(|e| GatewayError::Rejected(format!("idempotency key: {e}")))?;
    let destination_charge = account.provider_account_id.is_some();
    let mut refund = CreateRefund::new()
        .payment_intent(request.provider_payment_id.as_str())
        .amount(stripe_amount(request.amount)?)
        .metadata(HashMap::from([
            ("order_id".to_owned(), request.order_id.to_string()),
            ("tenant_id".to_owned(), request.tenant_id.to_string()),
            ("refund_id".to_owned(), request.idempotency_key.clone()),
        ]));
    if destination_charge {
        refund = refund.reverse_transfer(true).refund_application_fee(true);
    }
    let created = refund
        .customize()
        .request_strategy(RequestStrategy::Idempotent(key))
        .send(stripe.client())
        .await
        .map_err(gateway_error)?;
    tracing::info!(order.id = %request.order_id, refund = %created.id.as_str(), "Stripe refund requested");
    Ok(RefundAccepted::pending(created.id.as_str()))
}
