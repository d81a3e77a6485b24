use lyceum_gateway_core::EventKind;
use sea_orm::entity::prelude::*;

use crate::ids::{OrderId, PaymentEventId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PaymentEventId,
    pub gateway: String,
    pub provider_event_id: String,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    pub kind: PaymentEventKind,
    pub amount: i64,
    pub currency: String,
    pub provider_payment_id: String,
    pub refund_id: Option<String>,
    pub dispute_id: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    pub outcome: EventOutcome,
}

/// The stored form of an [`EventKind`]: the contract crate stays free of sea-orm, so the column
/// has its own enum, converted both ways by exhaustive matches (a new kind does not compile
/// until it is stored here too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PaymentEventKind {
    #[sea_orm(string_value = "payment_succeeded")]
    PaymentSucceeded,
    #[sea_orm(string_value = "payment_failed")]
    PaymentFailed,
    #[sea_orm(string_value = "payment_expired")]
    PaymentExpired,
    #[sea_orm(string_value = "refund_succeeded")]
    RefundSucceeded,
    #[sea_orm(string_value = "dispute_opened")]
    DisputeOpened,
    #[sea_orm(string_value = "dispute_won")]
    DisputeWon,
    #[sea_orm(string_value = "dispute_lost")]
    DisputeLost,
}

impl From<EventKind> for PaymentEventKind {
    fn from(kind: EventKind) -> Self {
        match kind {
            EventKind::PaymentSucceeded => Self::PaymentSucceeded,
            EventKind::PaymentFailed => Self::PaymentFailed,
            EventKind::PaymentExpired => Self::PaymentExpired,
            EventKind::RefundSucceeded => Self::RefundSucceeded,
            EventKind::DisputeOpened => Self::DisputeOpened,
            EventKind::DisputeWon => Self::DisputeWon,
            EventKind::DisputeLost => Self::DisputeLost,
        }
    }
}

impl From<PaymentEventKind> for EventKind {
    fn from(kind: PaymentEventKind) -> Self {
        match kind {
            PaymentEventKind::PaymentSucceeded => Self::PaymentSucceeded,
            PaymentEventKind::PaymentFailed => Self::PaymentFailed,
            PaymentEventKind::PaymentExpired => Self::PaymentExpired,
            PaymentEventKind::RefundSucceeded => Self::RefundSucceeded,
            PaymentEventKind::DisputeOpened => Self::DisputeOpened,
            PaymentEventKind::DisputeWon => Self::DisputeWon,
            PaymentEventKind::DisputeLost => Self::DisputeLost,
        }
    }
}

/// What recording an event did to its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum EventOutcome {
    /// Counted among the order's facts.
    #[sea_orm(string_value = "applied")]
    Applied,
    /// Recorded but not counted: the money is in another currency than the order's.
    #[sea_orm(string_value = "currency_mismatch")]
    CurrencyMismatch,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use sea_orm::ActiveEnum;

    use super::*;

    /// Rows keep the contract's names, and every kind survives the round trip.
    #[test]
    fn stores_the_contract_names() {
        for kind in EventKind::ALL {
            let stored = PaymentEventKind::from(kind);
            assert_eq!(stored.to_value(), kind.as_str());
            assert_eq!(EventKind::from(stored), kind);
        }
    }
}
