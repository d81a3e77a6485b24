use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub gateway: String,
    pub provider_event_id: String,
    pub tenant_id: Uuid,
    pub order_id: Uuid,
    /// An `EventKind` name.
    pub kind: String,
    pub amount: i64,
    pub currency: String,
    pub provider_payment_id: String,
    pub refund_id: Option<String>,
    pub dispute_id: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    /// `applied`, or why it changed nothing (`currency_mismatch`).
    pub outcome: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
