use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "order_audit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    /// The payment event that caused the change; `None` for local ones (zero-total, expiry).
    pub event_id: Option<Uuid>,
    pub from_status: String,
    pub to_status: String,
    pub payment_id: Option<String>,
    pub entitlement_id: Option<Uuid>,
    pub event_time: DateTimeUtc,
    pub received_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
