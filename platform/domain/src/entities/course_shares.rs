use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, TenantId, UserId};

/// A co-instructor's part of a course's sales, in basis points of the sellers' part.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "course_shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: TenantId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub course_id: CourseId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: UserId,
    pub bps: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
