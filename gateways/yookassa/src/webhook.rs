//! Notifications (`POST /webhooks/yookassa/{tenant}`, or `/webhooks/yookassa` for the
//! platform's own shop). YooKassa signs nothing, so a notification is trusted by two things
//! only: it comes from one of YooKassa's networks (the platform resolves the sender through
//! its trusted proxies), and the object it names exists at YooKassa, fetched with the shop's
//! own credentials. Only the fetched status and amount become events; the body's are never
//! read.

use lyceum_gateway_core::{Delivery, GatewayError, TenantAccount, WebhookError, WebhookRequest};
use serde::Deserialize;

use crate::Yookassa;
use crate::payments::{get_payment, get_refund, payment_events, refund_events, settle_capture};

#[derive(Debug, Deserialize)]
struct WireNotification {
    #[serde(rename = "type")]
    kind: String,
    event: String,
    object: WireObject,
}

#[derive(Debug, Deserialize)]
struct WireObject {
    id: String,
}

/// What went wrong asking YooKassa about a notification's object.
fn unreadable(e: GatewayError) -> WebhookError {
    match e {
        GatewayError::Unavailable(why) => WebhookError::Unavailable(why),
        // The shop does not know the object: a notification for another shop, or made up.
        GatewayError::UnknownPayment => {
            WebhookError::MalformedBody("YooKassa does not know the notification's object".into())
        }
        other => WebhookError::Unavailable(other.to_string()),
    }
}

pub(crate) async fn receive(
    yookassa: &Yookassa,
    account: &TenantAccount,
    request: &WebhookRequest<'_>,
) -> Result<Delivery, WebhookError> {
    let trusted = request.peer.is_some_and(|ip| {
        yookassa
            .config()
            .trusted_sources
            .iter()
            .any(|n| n.contains(&ip))
    });
    if !trusted {
        return Err(WebhookError::UntrustedSource);
    }
    let notification: WireNotification = serde_json::from_slice(request.body)
        .map_err(|e| WebhookError::MalformedBody(e.to_string()))?;
    if notification.kind != "notification" {
        return Err(WebhookError::MalformedBody(format!(
            "not a notification: {}",
            notification.kind
        )));
    }
    let shop = yookassa.shop(account).map_err(|e| match e {
        GatewayError::Rejected(why) => WebhookError::MalformedBody(why),
        other => unreadable(other),
    })?;
    let id = notification.object.id.as_str();
    let events = match notification.event.as_str() {
        "payment.succeeded" | "payment.canceled" | "payment.waiting_for_capture" => {
            let payment = get_payment(yookassa, &shop, id).await.map_err(unreadable)?;
            let payment = settle_capture(yookassa, &shop, payment)
                .await
                .map_err(unreadable)?;
            payment_events(&payment).map_err(unreadable)?
        }
        "refund.succeeded" => {
            let (refund, payment) = get_refund(yookassa, &shop, id).await.map_err(unreadable)?;
            refund_events(&refund, &payment).map_err(unreadable)?
        }
        // Payouts, deals, saved payment methods: nothing Lyceum acts on.
        other => {
            tracing::debug!(event = other, "YooKassa notification ignored");
            Vec::new()
        }
    };
    Ok(events.into())
}
