//! The sandbox's wire format: the JSON events it posts, and their mapping onto our
//! [`GatewayEvent`]s.
//!
//! ```json
//! {"id": "evt_…", "type": "payment.succeeded", "created": 1800000000,
//!  "data": {"session": "sbs_…", "order_id": "<uuid>", "tenant_id": "<uuid>",
//!           "amount": {"amount": 1999, "currency": "USD"}, "payment_id": "sbp_…"}}
//! ```
//!
//! `data` also carries `refund_id` for refunds and `dispute_id` for disputes. Ids and amounts
//! stay strings and plain integers here and are parsed in [`TryFrom`], so a bad field is a
//! [`Unmapped::Malformed`] with a reason rather than an opaque serde error.

use chrono::DateTime;
use lyceum_gateway_core::{Currency, EventKind, GatewayEvent, Money};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `type` of a sandbox event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireType {
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    #[serde(rename = "payment.expired")]
    PaymentExpired,
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
    #[serde(rename = "dispute.created")]
    DisputeCreated,
    #[serde(rename = "dispute.won")]
    DisputeWon,
    #[serde(rename = "dispute.lost")]
    DisputeLost,
    /// A type this build does not know (a newer sandbox): never an event, never a success.
    #[serde(other, skip_serializing)]
    Unknown,
}

impl WireType {
    /// Our kind for this type; every known type is listed, so a new one must be mapped here.
    pub fn kind(self) -> Option<EventKind> {
        match self {
            Self::PaymentSucceeded => Some(EventKind::PaymentSucceeded),
            Self::PaymentFailed => Some(EventKind::PaymentFailed),
            Self::PaymentExpired => Some(EventKind::PaymentExpired),
            Self::RefundSucceeded => Some(EventKind::RefundSucceeded),
            Self::DisputeCreated => Some(EventKind::DisputeOpened),
            Self::DisputeWon => Some(EventKind::DisputeWon),
            Self::DisputeLost => Some(EventKind::DisputeLost),
            Self::Unknown => None,
        }
    }

    /// The name on the wire, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentSucceeded => "payment.succeeded",
            Self::PaymentFailed => "payment.failed",
            Self::PaymentExpired => "payment.expired",
            Self::RefundSucceeded => "refund.succeeded",
            Self::DisputeCreated => "dispute.created",
            Self::DisputeWon => "dispute.won",
            Self::DisputeLost => "dispute.lost",
            Self::Unknown => "unknown",
        }
    }
}

/// Only the `type` of an event, read first so that an unknown type with an unfamiliar
/// `data` shape is ignored rather than refused.
#[derive(Debug, Deserialize)]
pub struct WireEnvelope {
    #[serde(rename = "type")]
    pub kind: WireType,
}

/// One sandbox event as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEvent {
    /// `evt_<32 hex>`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: WireType,
    /// Unix seconds.
    pub created: i64,
    pub data: WireData,
}

/// What the event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireData {
    /// The checkout session, `sbs_…`.
    pub session: String,
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    pub amount: WireAmount,
    /// `sbp_…`; for failed and expired payments (no payment exists) the session id.
    pub payment_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute_id: Option<String>,
}

/// Money on the wire: integer minor units and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireAmount {
    pub amount: i64,
    pub currency: String,
}

impl From<Money> for WireAmount {
    fn from(money: Money) -> Self {
        Self {
            amount: money.amount.get(),
            currency: money.currency.code().to_owned(),
        }
    }
}

impl TryFrom<WireAmount> for Money {
    type Error = String;
    fn try_from(wire: WireAmount) -> Result<Self, Self::Error> {
        let currency = Currency::parse(&wire.currency).map_err(|e| e.to_string())?;
        Money::new(wire.amount, currency).map_err(|e| e.to_string())
    }
}

/// Why a wire event is not one of our events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmapped {
    /// A type we do not know: ignored, never treated as a success.
    UnknownType,
    /// A known type whose fields do not parse.
    Malformed(String),
}

impl TryFrom<WireEvent> for GatewayEvent {
    type Error = Unmapped;

    fn try_from(wire: WireEvent) -> Result<Self, Self::Error> {
        let kind = wire.kind.kind().ok_or(Unmapped::UnknownType)?;
        let malformed =
            |field: &str, reason: String| Unmapped::Malformed(format!("{field}: {reason}"));
        let data = wire.data;
        let order_id = Uuid::parse_str(&data.order_id)
            .map_err(|e| malformed("data.order_id", e.to_string()))?;
        let tenant_id = data
            .tenant_id
            .map(|t| Uuid::parse_str(&t))
            .transpose()
            .map_err(|e| malformed("data.tenant_id", e.to_string()))?;
        let amount =
            Money::try_from(data.amount).map_err(|reason| malformed("data.amount", reason))?;
        let occurred_at = DateTime::from_timestamp(wire.created, 0)
            .ok_or_else(|| malformed("created", "out of range".to_owned()))?;
        if wire.id.is_empty() || data.payment_id.is_empty() || data.session.is_empty() {
            return Err(Unmapped::Malformed(
                "id, data.session and data.payment_id must not be empty".to_owned(),
            ));
        }
        Ok(GatewayEvent {
            provider_event_id: wire.id,
            kind,
            order_id,
            tenant_id,
            session_ref: Some(data.session),
            provider_payment_id: data.payment_id,
            refund_id: data.refund_id,
            dispute_id: data.dispute_id,
            amount,
            occurred_at,
        })
    }
}

#[cfg(test)]
mod tests;
