use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, CourseProgressId, LessonId, TenantId, UserId};

/// A learner's progress in one course.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "course_progress")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CourseProgressId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub percent: i32,
    pub last_lesson_id: Option<LessonId>,
    /// When the completion rule first held; never cleared.
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
