use sea_orm::entity::prelude::*;

use crate::ids::{CouponId, CouponRedemptionId, OrderId, TenantId, UserId};

/// One coupon use, by one order: `reserved` while the order can still be paid, `redeemed`
/// once any payment is recorded (for good), `released` when the order can no longer be paid.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_redemptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CouponRedemptionId,
    pub tenant_id: TenantId,
    pub coupon_id: CouponId,
    /// At most one use per order.
    #[sea_orm(unique)]
    pub order_id: OrderId,
    pub buyer_id: UserId,
    pub status: RedemptionStatus,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where one coupon use stands (see the model's comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RedemptionStatus {
    #[sea_orm(string_value = "reserved")]
    Reserved,
    #[sea_orm(string_value = "redeemed")]
    Redeemed,
    #[sea_orm(string_value = "released")]
    Released,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
