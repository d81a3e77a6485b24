use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, TenantId};

/// A course's volume price for teams: from `min_seats` seats in one order, `percent_off`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seat_tiers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub course_id: CourseId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub min_seats: i32,
    pub percent_off: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
