use sea_orm::entity::prelude::*;

use crate::ids::{PayoutId, TenantId, UserId};
pub use crate::services::ledger::payouts::{PayoutMethod, PayoutStatus};

/// Money sent to a payee: created `in_transit` from the available balance, then `paid` or
/// `failed` (which returns it to available).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: PayoutId,
    pub tenant_id: TenantId,
    pub payee_id: UserId,
    pub currency: String,
    pub amount: i64,
    pub status: PayoutStatus,
    pub method: PayoutMethod,
    /// The schedule's period it pays (`2026-W48`, `2026-11`, or the day of a threshold payout).
    pub period: String,
    /// The bank's or provider's reference, once paid.
    pub reference: Option<String>,
    pub failure: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
