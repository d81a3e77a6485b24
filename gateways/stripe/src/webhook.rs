//! Stripe's events, verified and read.
//!
//! The `Stripe-Signature` header is checked on the raw bytes first (any `v1` of any configured
//! secret, 300 s either way); only then is the body parsed, once, into the few fields used —
//! never into async-stripe's models, which follow one API version and refuse events of
//! another (async-stripe issue #761). An event from another API version, or with fields this
//! build does not know, is read the same way. Test-mode events are ignored under a live key
//! and live events under a test key.
//!
//! | Stripe event | becomes |
//! |---|---|
//! | `checkout.session.completed` with `payment_status=paid`, `checkout.session.async_payment_succeeded` | payment succeeded |
//! | `checkout.session.async_payment_failed` | payment failed |
//! | `checkout.session.expired` | payment expired |
//! | `refund.created` / `refund.updated` / `charge.refund.updated` with `status=succeeded` | refund succeeded |
//! | `charge.refunded` | a refund succeeded for each of the charge's succeeded refunds (listed from Stripe) |
//! | `charge.dispute.created` | dispute opened |
//! | `charge.dispute.closed` `won` / `warning_closed`, `lost` | dispute won, dispute lost |
//! | `account.updated` | the seller account's status |
//!
//! Anything else verifies and changes nothing. Which order an event is about comes from the
//! metadata the platform set (`order_id`, `tenant_id` on the session, its PaymentIntent and
//! our refunds); an object without it (a refund or dispute made in Stripe's dashboard) is
//! traced through its PaymentIntent, fetched from Stripe. Connect events carry the seller
//! account (`account`): only `account.updated` is read from them — Lyceum charges on the
//! platform's account, so a connected account's own payments, refunds and disputes are never
//! an order of ours, whatever metadata they carry.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::signature::{self, TOLERANCE_SECS};
use lyceum_gateway_core::{
    AccountStatus, Currency, Delivery, EventKind, GatewayError, GatewayEvent, Money, WebhookError,
    WebhookRequest,
};
use secrecy::ExposeSecret;
use serde::Deserialize;
use uuid::Uuid;

use crate::Stripe;
use crate::payments;

/// The envelope of every event, as far as it is used.
#[derive(Debug, Deserialize)]
pub(crate) struct WireEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    /// A Connect event's seller account.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub livemode: bool,
    pub data: WireData,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireData {
    pub object: serde_json::Value,
}

/// An id, or the expanded object that has it.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum IdOrObject {
    Id(String),
    Object { id: String },
}

impl IdOrObject {
    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireSession {
    pub id: String,
    pub payment_status: String,
    #[serde(default)]
    pub amount_total: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub client_reference_id: Option<String>,
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    pub payment_intent: Option<IdOrObject>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireRefund {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub payment_intent: Option<IdOrObject>,
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    pub created: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct WireCharge {
    #[serde(default)]
    payment_intent: Option<IdOrObject>,
    /// Embedded by API versions before 2022-11-15; listed from Stripe otherwise.
    #[serde(default)]
    refunds: Option<WireList<WireRefund>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireList<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Deserialize)]
struct WireDispute {
    id: String,
    amount: i64,
    currency: String,
    status: String,
    #[serde(default)]
    payment_intent: Option<IdOrObject>,
}

#[derive(Debug, Deserialize)]
struct WireAccount {
    id: String,
    #[serde(default)]
    metadata: Option<HashMap<String, String>>,
    #[serde(default)]
    charges_enabled: Option<bool>,
    #[serde(default)]
    payouts_enabled: Option<bool>,
    #[serde(default)]
    requirements: Option<WireRequirements>,
}

#[derive(Debug, Deserialize)]
struct WireRequirements {
    #[serde(default)]
    currently_due: Option<Vec<String>>,
    #[serde(default)]
    past_due: Option<Vec<String>>,
}

/// The order (and storefront) an object is about, from the metadata the platform set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderRef {
    pub order_id: Uuid,
    pub tenant_id: Option<Uuid>,
}

impl OrderRef {
    pub(crate) fn from_metadata(metadata: Option<&HashMap<String, String>>) -> Option<Self> {
        let metadata = metadata?;
        Some(Self {
            order_id: metadata.get("order_id")?.parse().ok()?,
            tenant_id: metadata.get("tenant_id").and_then(|t| t.parse().ok()),
        })
    }
}

/// Stripe's lower-case currency and an amount in its units, as our `Money` (unscaled where
/// Stripe's exponent differs from ISO's, see `checkout::stripe_scale`); `None` for an amount
/// that is not a whole number of our minor units.
pub(crate) fn money(amount: i64, currency: &str) -> Option<Money> {
    let currency = Currency::parse(&currency.to_ascii_uppercase()).ok()?;
    let scale = crate::checkout::stripe_scale(currency);
    if amount % scale != 0 {
        return None;
    }
    Money::new(amount / scale, currency).ok()
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_else(Utc::now)
}

/// Verifies a delivery, then reads it.
pub(crate) async fn receive(
    stripe: &Stripe,
    request: &WebhookRequest<'_>,
) -> Result<Delivery, WebhookError> {
    let secrets: Vec<&[u8]> = stripe
        .config()
        .webhook_secrets
        .iter()
        .map(|s| s.expose_secret().as_bytes())
        .collect();
    signature::verify(
        request.header("stripe-signature"),
        request.body,
        &secrets,
        request.now.timestamp(),
        TOLERANCE_SECS,
    )?;
    let event: WireEvent = serde_json::from_slice(request.body)
        .map_err(|e| WebhookError::MalformedBody(e.to_string()))?;
    if event.livemode != stripe.config().is_live() {
        tracing::warn!(event.id = %event.id, livemode = event.livemode, "Stripe event of the other mode ignored");
        return Ok(Delivery::default());
    }
    read(stripe, event).await
}

/// What an event means, looking up at Stripe what it does not say.
pub(crate) async fn read(stripe: &Stripe, event: WireEvent) -> Result<Delivery, WebhookError> {
    let unreadable =
        |e: serde_json::Error| WebhookError::MalformedBody(format!("{} object: {e}", event.kind));
    let unavailable = |e: GatewayError| WebhookError::Unavailable(e.to_string());
    let object = event.data.object.clone();
    let mut delivery = Delivery::default();
    // Lyceum charges on the platform's account (destination charges): a payment, refund or
    // dispute that happened on a connected account is the seller's own business, never an
    // order of ours, whatever its metadata says. Only news of the account itself counts.
    if event.account.is_some() && event.kind != "account.updated" {
        tracing::info!(event.id = %event.id, kind = %event.kind, "a connected account's own event; not ours");
        return Ok(delivery);
    }
    match event.kind.as_str() {
        "checkout.session.completed"
        | "checkout.session.async_payment_succeeded"
        | "checkout.session.async_payment_failed"
        | "checkout.session.expired" => {
            let session: WireSession = serde_json::from_value(object).map_err(unreadable)?;
            if let Some(e) = session_event(&event, &session) {
                delivery.events.push(e);
            }
        }
        "refund.created" | "refund.updated" | "charge.refund.updated" => {
            let refund: WireRefund = serde_json::from_value(object).map_err(unreadable)?;
            if let Some(e) = refund_event(stripe, &event, &refund, None)
                .await
                .map_err(unavailable)?
            {
                delivery.events.push(e);
            }
        }
        "charge.refunded" => {
            let charge: WireCharge = serde_json::from_value(object).map_err(unreadable)?;
            let Some(intent) = charge.payment_intent else {
                tracing::warn!(event.id = %event.id, "a refunded charge without a PaymentIntent; not ours");
                return Ok(delivery);
            };
            let refunds = match charge.refunds.filter(|list| !list.has_more) {
                Some(embedded) => embedded.data,
                None => payments::refunds_of(stripe, intent.id())
                    .await
                    .map_err(unavailable)?,
            };
            let order = payments::order_of(stripe, intent.id())
                .await
                .map_err(unavailable)?;
            for refund in &refunds {
                if let Some(e) = refund_event(stripe, &event, refund, order)
                    .await
                    .map_err(unavailable)?
                {
                    delivery.events.push(e);
                }
            }
        }
        "charge.dispute.created" | "charge.dispute.closed" => {
            let dispute: WireDispute = serde_json::from_value(object).map_err(unreadable)?;
            if let Some(e) = dispute_event(stripe, &event, &dispute)
                .await
                .map_err(unavailable)?
            {
                delivery.events.push(e);
            }
        }
        "account.updated" => {
            let account: WireAccount = serde_json::from_value(object).map_err(unreadable)?;
            delivery.accounts.push(account_status(account));
        }
        other => {
            tracing::debug!(event.id = %event.id, kind = other, "Stripe event not acted on");
        }
    }
    Ok(delivery)
}

/// A Checkout Session event as a payment event; `None` for one that moves no money (a
/// completed session still waiting for a delayed payment) or is not an order's.
pub(crate) fn session_event(event: &WireEvent, session: &WireSession) -> Option<GatewayEvent> {
    let kind = match (event.kind.as_str(), session.payment_status.as_str()) {
        ("checkout.session.completed", "paid") => EventKind::PaymentSucceeded,
        ("checkout.session.completed", _) => return None,
        ("checkout.session.async_payment_succeeded", _) => EventKind::PaymentSucceeded,
        ("checkout.session.async_payment_failed", _) => EventKind::PaymentFailed,
        ("checkout.session.expired", _) => EventKind::PaymentExpired,
        _ => return None,
    };
    let order = OrderRef::from_metadata(session.metadata.as_ref()).or_else(|| {
        Some(OrderRef {
            order_id: session.client_reference_id.as_deref()?.parse().ok()?,
            tenant_id: None,
        })
    });
    let Some(order) = order else {
        tracing::warn!(event.id = %event.id, session = %session.id, "a Checkout Session without our order; not ours");
        return None;
    };
    let amount = money(
        session.amount_total.unwrap_or(0),
        session.currency.as_deref().unwrap_or_default(),
    );
    let Some(amount) = amount else {
        tracing::warn!(event.id = %event.id, session = %session.id, "a Checkout Session without a known currency");
        return None;
    };
    let payment_id = match (&session.payment_intent, kind) {
        (Some(intent), _) => intent.id().to_owned(),
        // Nothing was paid: the session stands for the payment.
        (None, EventKind::PaymentExpired | EventKind::PaymentFailed) => session.id.clone(),
        (None, _) => {
            tracing::warn!(event.id = %event.id, session = %session.id, "a paid session without a PaymentIntent");
            return None;
        }
    };
    Some(GatewayEvent {
        provider_event_id: event.id.clone(),
        kind,
        order_id: order.order_id,
        tenant_id: order.tenant_id,
        session_ref: Some(session.id.clone()),
        provider_payment_id: payment_id,
        refund_id: None,
        dispute_id: None,
        amount,
        occurred_at: at(event.created),
    })
}

/// A succeeded refund as a refund event (one per refund, however many events tell it).
async fn refund_event(
    stripe: &Stripe,
    event: &WireEvent,
    refund: &WireRefund,
    known_order: Option<OrderRef>,
) -> Result<Option<GatewayEvent>, GatewayError> {
    if refund.status.as_deref() != Some("succeeded") {
        return Ok(None);
    }
    let Some(intent) = &refund.payment_intent else {
        tracing::warn!(event.id = %event.id, refund = %refund.id, "a refund without a PaymentIntent; not ours");
        return Ok(None);
    };
    let order = match OrderRef::from_metadata(refund.metadata.as_ref()).or(known_order) {
        Some(order) => Some(order),
        None => payments::order_of(stripe, intent.id()).await?,
    };
    let (Some(order), Some(amount)) = (order, money(refund.amount, &refund.currency)) else {
        tracing::warn!(event.id = %event.id, refund = %refund.id, "a refund of no order of ours");
        return Ok(None);
    };
    Ok(Some(GatewayEvent {
        // One event id per refund, so a `charge.refunded` listing several records each.
        provider_event_id: format!("{}:{}", event.id, refund.id),
        kind: EventKind::RefundSucceeded,
        order_id: order.order_id,
        tenant_id: order.tenant_id,
        session_ref: None,
        provider_payment_id: intent.id().to_owned(),
        refund_id: Some(refund.id.clone()),
        dispute_id: None,
        amount,
        occurred_at: at(refund.created.unwrap_or(event.created)),
    }))
}

async fn dispute_event(
    stripe: &Stripe,
    event: &WireEvent,
    dispute: &WireDispute,
) -> Result<Option<GatewayEvent>, GatewayError> {
    let kind = match (event.kind.as_str(), dispute.status.as_str()) {
        ("charge.dispute.created", _) => EventKind::DisputeOpened,
        ("charge.dispute.closed", "won" | "warning_closed") => EventKind::DisputeWon,
        ("charge.dispute.closed", "lost") => EventKind::DisputeLost,
        (_, status) => {
            tracing::warn!(event.id = %event.id, status, "a closed dispute in a status not acted on");
            return Ok(None);
        }
    };
    let Some(intent) = &dispute.payment_intent else {
        tracing::warn!(event.id = %event.id, dispute = %dispute.id, "a dispute without a PaymentIntent; not ours");
        return Ok(None);
    };
    let order = payments::order_of(stripe, intent.id()).await?;
    let (Some(order), Some(amount)) = (order, money(dispute.amount, &dispute.currency)) else {
        tracing::warn!(event.id = %event.id, dispute = %dispute.id, "a dispute of no order of ours");
        return Ok(None);
    };
    Ok(Some(GatewayEvent {
        provider_event_id: event.id.clone(),
        kind,
        order_id: order.order_id,
        tenant_id: order.tenant_id,
        session_ref: None,
        provider_payment_id: intent.id().to_owned(),
        refund_id: None,
        dispute_id: Some(dispute.id.clone()),
        amount,
        occurred_at: at(event.created),
    }))
}

fn account_status(account: WireAccount) -> AccountStatus {
    let mut requirements = Vec::new();
    if let Some(r) = account.requirements {
        requirements.extend(r.past_due.unwrap_or_default());
        requirements.extend(r.currently_due.unwrap_or_default());
    }
    requirements.sort();
    requirements.dedup();
    AccountStatus {
        provider_account_id: account.id,
        charges_enabled: account.charges_enabled.unwrap_or(false),
        payouts_enabled: account.payouts_enabled.unwrap_or(false),
        requirements,
        opened_for: account
            .metadata
            .as_ref()
            .and_then(|m| m.get("tenant_id"))
            .and_then(|t| t.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ORDER: &str = "0193a5b2-0000-7000-8000-000000000001";
    const TENANT: &str = "0193a5b2-0000-7000-8000-0000000000aa";

    fn event(kind: &str, object: serde_json::Value) -> WireEvent {
        serde_json::from_value(json!({
            "id": "evt_1", "object": "event", "type": kind, "created": 1_790_000_000,
            "api_version": "2026-09-30.endive", "livemode": false,
            "some_field_from_the_future": {"x": 1},
            "data": {"object": object}
        }))
        .unwrap()
    }

    fn session(status: &str) -> serde_json::Value {
        json!({
            "id": "cs_1", "object": "checkout.session", "payment_status": status,
            "amount_total": 4900, "currency": "usd", "client_reference_id": ORDER,
            "metadata": {"order_id": ORDER, "tenant_id": TENANT},
            "payment_intent": "pi_1", "unknown": true
        })
    }

    fn session_of(kind: &str, status: &str) -> Option<GatewayEvent> {
        let e = event(kind, session(status));
        let s: WireSession = serde_json::from_value(e.data.object.clone()).unwrap();
        session_event(&e, &s)
    }

    #[test]
    fn a_paid_session_is_a_payment_of_its_order() {
        let e = session_of("checkout.session.completed", "paid").unwrap();
        assert_eq!(e.kind, EventKind::PaymentSucceeded);
        assert_eq!(e.order_id.to_string(), ORDER);
        assert_eq!(e.tenant_id.unwrap().to_string(), TENANT);
        assert_eq!(e.provider_payment_id, "pi_1");
        assert_eq!(e.session_ref.as_deref(), Some("cs_1"));
        assert_eq!(e.amount, money(4900, "usd").unwrap());
        assert_eq!(e.provider_event_id, "evt_1");
    }

    #[test]
    fn an_unpaid_completion_waits_for_the_async_outcome() {
        assert!(session_of("checkout.session.completed", "unpaid").is_none());
        assert_eq!(
            session_of("checkout.session.async_payment_succeeded", "paid")
                .unwrap()
                .kind,
            EventKind::PaymentSucceeded
        );
        assert_eq!(
            session_of("checkout.session.async_payment_failed", "unpaid")
                .unwrap()
                .kind,
            EventKind::PaymentFailed
        );
        assert_eq!(
            session_of("checkout.session.expired", "unpaid")
                .unwrap()
                .kind,
            EventKind::PaymentExpired
        );
    }

    #[test]
    fn zero_and_three_decimal_amounts_stay_minor_units() {
        assert_eq!(money(1500, "jpy").unwrap().amount.get(), 1500);
        assert_eq!(money(1500, "jpy").unwrap().currency.code(), "JPY");
        assert_eq!(money(5120, "kwd").unwrap().currency.exponent(), 3);
        assert!(money(1, "zzz").is_none());
        assert_eq!(money(500_000, "isk").unwrap().amount.get(), 5000);
        assert!(money(50, "isk").is_none(), "not a whole króna");
    }

    #[test]
    fn a_session_without_our_order_is_not_ours() {
        let e = event(
            "checkout.session.completed",
            json!({"id": "cs_2", "payment_status": "paid", "amount_total": 1, "currency": "usd"}),
        );
        let s: WireSession = serde_json::from_value(e.data.object.clone()).unwrap();
        assert!(session_event(&e, &s).is_none());
    }

    #[test]
    fn account_updates_list_what_is_due() {
        let status = account_status(
            serde_json::from_value(json!({
                "id": "acct_1", "charges_enabled": false, "payouts_enabled": false,
                "requirements": {"currently_due": ["b", "a"], "past_due": ["a"]}
            }))
            .unwrap(),
        );
        assert_eq!(status.provider_account_id, "acct_1");
        assert_eq!(status.requirements, ["a", "b"]);
        assert!(!status.charges_enabled);
    }

    #[test]
    fn expanded_and_bare_ids_read_alike() {
        let bare: IdOrObject = serde_json::from_value(json!("pi_1")).unwrap();
        let expanded: IdOrObject =
            serde_json::from_value(json!({"id": "pi_1", "object": "payment_intent"})).unwrap();
        assert_eq!(bare.id(), expanded.id());
    }
}
