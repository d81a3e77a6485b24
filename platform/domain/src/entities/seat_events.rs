use sea_orm::entity::prelude::*;

use crate::ids::{OrderId, SeatAssignmentId, SeatEventId, SeatPoolId, TenantId, UserId};
pub use crate::services::seats::SeatAction;

/// One line of a pool's audit trail.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seat_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SeatEventId,
    pub tenant_id: TenantId,
    pub pool_id: SeatPoolId,
    pub assignment_id: Option<SeatAssignmentId>,
    /// Who did it; `None` when the platform did (a refund, a dispute).
    pub actor_id: Option<UserId>,
    pub action: SeatAction,
    pub email: Option<String>,
    /// The order whose payment, refund or dispute caused it.
    pub order_id: Option<OrderId>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
