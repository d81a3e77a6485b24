use sea_orm::entity::prelude::*;

use crate::ids::{EntitlementId, SeatAssignmentId, SeatPoolId, TenantId, UserId};
pub use crate::services::seats::{AssignmentStatus, EndReason};

/// An address given a seat of a pool.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seat_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SeatAssignmentId,
    pub tenant_id: TenantId,
    pub pool_id: SeatPoolId,
    /// Lower-cased.
    pub email: String,
    /// Who holds the seat, once someone with the address has an account.
    pub user_id: Option<UserId>,
    pub status: AssignmentStatus,
    /// `{pool}:{email}` until the assignment ends: one live seat per address and pool.
    pub live_key: Option<String>,
    /// SHA-256 of an invitation's e-mailed token, while it waits.
    pub token_hash: Option<String>,
    /// The holder's access, once active.
    pub entitlement_id: Option<EntitlementId>,
    pub assigned_by: UserId,
    pub assigned_at: DateTimeUtc,
    pub activated_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    /// Who ended it; `None` when a refund or dispute did.
    pub ended_by: Option<UserId>,
    pub end_reason: Option<EndReason>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
