use sea_orm::entity::prelude::*;

use crate::ids::{EntitlementId, OrderAuditId, OrderId, PaymentEventId, TenantId};

use crate::services::commerce::OrderStatus;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_audit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: OrderAuditId,
    pub tenant_id: TenantId,
    pub order_id: OrderId,
    /// The payment event that caused the change; `None` for local ones (zero-total, expiry).
    pub event_id: Option<PaymentEventId>,
    pub from_status: OrderStatus,
    pub to_status: OrderStatus,
    pub payment_id: Option<String>,
    pub entitlement_id: Option<EntitlementId>,
    pub event_time: DateTimeUtc,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
