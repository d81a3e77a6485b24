use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, SectionId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: SectionId,
    pub tenant_id: TenantId,
    pub course_id: CourseId,
    pub title: String,
    /// Order within the course, from 0.
    pub position: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
