use sea_orm::entity::prelude::*;

/// One coupon use, by one order: `reserved` while the order can still be paid, `redeemed`
/// once any payment is recorded (for good), `released` when the order can no longer be paid.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_redemptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub coupon_id: Uuid,
    /// At most one use per order.
    #[sea_orm(unique)]
    pub order_id: Uuid,
    pub buyer_id: Uuid,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
