use sea_orm::entity::prelude::*;

use crate::ids::{TenantId, UserId};
pub use crate::services::ledger::payouts::Schedule;

/// When a payee of a storefront is paid; a payee without a row is paid weekly.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payees")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    pub schedule: Schedule,
    /// For `threshold`: the least available balance paid out, in minor units.
    pub threshold_amount: Option<i64>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
