use sea_orm::entity::prelude::*;

use crate::ids::{CouponId, FeePlanId, OrderId, TeamId, TenantId, UserId};

pub use crate::services::commerce::OrderStatus;
pub use crate::services::ledger::StoredSettlement;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: OrderId,
    pub tenant_id: TenantId,
    pub buyer_id: UserId,
    pub status: OrderStatus,
    pub currency: String,
    /// Minor units before the discount.
    pub subtotal_amount: i64,
    pub discount_amount: i64,
    /// What the buyer pays, in minor units.
    pub total_amount: i64,
    /// Captured so far, from verified provider events.
    pub paid_amount: i64,
    /// Given back so far, from verified provider events.
    pub refunded_amount: i64,
    /// The platform fee in force when the order was made.
    pub fee_bps: i32,
    /// The platform fee computed at checkout, in minor units (`None` for older orders).
    pub fee_amount: Option<i64>,
    /// The fee plan version the order was priced with; `None` when the storefront had no
    /// plan of its own (the configured default) and for orders older than fee plans.
    pub fee_plan_id: Option<FeePlanId>,
    /// The fixed part of the fee, in minor units (0 for orders older than fixed fees).
    pub fee_fixed_amount: i64,
    pub coupon_id: Option<CouponId>,
    /// `None` for zero-total orders, fulfilled without a gateway.
    pub gateway: Option<String>,
    pub session_ref: Option<String>,
    /// Where the buyer pays (the provider's hosted page).
    pub checkout_url: Option<String>,
    pub payment_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// A payment arrived that does not fit the order (another currency); someone must look.
    pub flagged: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Whom the provider pays the order's money to.
    pub settlement: StoredSettlement,
    /// The storefront's owner when the order was made, who takes the sellers' part (`None` for
    /// orders older than the ledger: the storefront's owner now).
    pub seller_id: Option<UserId>,
    /// Whether co-instructors share in the order (its `order_shares` rows say how).
    pub shared: bool,
    /// The storefront's hold when the order was made: days before its sellers may be paid.
    pub hold_days: i32,
    /// When the sellers' part of the payment may be paid out (set with the first payment).
    pub hold_until: Option<DateTimeUtc>,
    /// When the sellers' part became available.
    pub released_at: Option<DateTimeUtc>,
    /// Took money before the ledger existed; its books are posted on the next start.
    pub ledger_backfill: bool,
    /// The team the order buys seats for; `None` for a learner's own purchase.
    pub team_id: Option<TeamId>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
