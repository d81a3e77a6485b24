use sea_orm::entity::prelude::*;

use crate::ids::{CouponId, TenantId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "coupons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CouponId,
    pub tenant_id: TenantId,
    /// Upper-cased.
    pub code: String,
    pub percent_off: Option<i32>,
    /// Minor units of `currency`.
    pub amount_off: Option<i64>,
    pub currency: String,
    /// Uses in all, final and reserved together.
    pub max_redemptions: Option<i32>,
    /// Final uses: orders that were paid.
    pub redemptions: i32,
    /// Uses held by orders that can still be paid.
    pub reserved: i32,
    /// Live uses (final or reserved) one buyer may hold.
    pub max_redemptions_per_buyer: Option<i32>,
    pub expires_at: Option<DateTimeUtc>,
    /// Course ids the coupon is limited to; empty for every course.
    pub course_ids: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
