use sea_orm::entity::prelude::*;

use crate::ids::{FeePlanId, TenantId, UserId};

/// One version of a storefront's fee plan. Rows are only ever inserted: a change of fee is
/// the next version, and the newest version is the plan in force.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fee_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: FeePlanId,
    pub tenant_id: TenantId,
    /// 1, 2, 3, … per tenant.
    pub version: i32,
    /// Basis points of an order's total, 0..=10000.
    pub fee_bps: i32,
    /// Added to each paid order's fee, in minor units of `currency`.
    pub fixed_fee_amount: i64,
    /// The storefront's currency.
    pub currency: String,
    /// The platform admin who set it; `None` for a version made by a migration.
    pub created_by: Option<UserId>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
