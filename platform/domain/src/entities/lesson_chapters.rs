use sea_orm::entity::prelude::*;

use crate::ids::{ChapterId, LessonId, TenantId};

/// A titled start point of a video lesson.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lesson_chapters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ChapterId,
    pub tenant_id: TenantId,
    pub lesson_id: LessonId,
    pub position: i32,
    pub title: String,
    pub start_second: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
