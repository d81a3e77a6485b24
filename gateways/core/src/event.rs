//! What a provider can tell us about a payment, normalized.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::Money;

/// The kinds of provider events the platform acts on. Providers map their own statuses onto
/// these exhaustively; anything they cannot map is not an event (and never a success).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Money was captured for the order.
    PaymentSucceeded,
    /// The payment attempt was declined or failed.
    PaymentFailed,
    /// The checkout session ran out without a payment.
    PaymentExpired,
    /// Money went back to the buyer (all or part; `amount` says how much).
    RefundSucceeded,
    /// The buyer's bank opened a dispute (chargeback).
    DisputeOpened,
    /// The dispute was decided for the seller.
    DisputeWon,
    /// The dispute was decided for the buyer; the money is gone.
    DisputeLost,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PaymentSucceeded => "payment_succeeded",
            Self::PaymentFailed => "payment_failed",
            Self::PaymentExpired => "payment_expired",
            Self::RefundSucceeded => "refund_succeeded",
            Self::DisputeOpened => "dispute_opened",
            Self::DisputeWon => "dispute_won",
            Self::DisputeLost => "dispute_lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "payment_succeeded" => Self::PaymentSucceeded,
            "payment_failed" => Self::PaymentFailed,
            "payment_expired" => Self::PaymentExpired,
            "refund_succeeded" => Self::RefundSucceeded,
            "dispute_opened" => Self::DisputeOpened,
            "dispute_won" => Self::DisputeWon,
            "dispute_lost" => Self::DisputeLost,
            _ => return None,
        })
    }

    pub const ALL: [EventKind; 7] = [
        Self::PaymentSucceeded,
        Self::PaymentFailed,
        Self::PaymentExpired,
        Self::RefundSucceeded,
        Self::DisputeOpened,
        Self::DisputeWon,
        Self::DisputeLost,
    ];
}

/// Everything one verified delivery told: events about orders, and news about sellers'
/// accounts (Stripe's `account.updated`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub events: Vec<GatewayEvent>,
    pub accounts: Vec<crate::AccountStatus>,
    /// The provider's own reference of what it delivered, for providers whose acknowledgement
    /// must echo it (Robokassa's `OK{InvId}`).
    pub reference: Option<String>,
}

impl From<Vec<GatewayEvent>> for Delivery {
    fn from(events: Vec<GatewayEvent>) -> Self {
        Self {
            events,
            ..Self::default()
        }
    }
}

/// One verified provider event about one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayEvent {
    /// The provider's id of this event; the platform records each `(gateway, id)` once.
    pub provider_event_id: String,
    pub kind: EventKind,
    /// Our order, as the provider echoes it back.
    pub order_id: Uuid,
    /// The tenant the provider associates with the payment, when it says.
    pub tenant_id: Option<Uuid>,
    /// The provider's checkout session or invoice reference, when it says.
    pub session_ref: Option<String>,
    /// The provider's payment id.
    pub provider_payment_id: String,
    /// For refunds: the provider's refund id (a refund counts once, however often it is told).
    pub refund_id: Option<String>,
    /// For disputes: the provider's dispute id.
    pub dispute_id: Option<String>,
    /// Captured, refunded or disputed amount.
    pub amount: Money,
    /// When it happened at the provider.
    pub occurred_at: DateTime<Utc>,
}
