use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, SeatPoolId, TeamId, TenantId};

/// A team's seats of one course in one storefront, kept by the payment pipeline.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seat_pools")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SeatPoolId,
    pub tenant_id: TenantId,
    pub team_id: TeamId,
    pub course_id: CourseId,
    /// Seats paid for and usable.
    pub purchased: i32,
    /// Seats of orders under an open dispute: neither usable nor gone.
    pub held: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
