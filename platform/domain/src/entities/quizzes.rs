use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, LessonId, QuizId, TenantId};

/// A quiz attached to a lesson.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quizzes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: QuizId,
    pub tenant_id: TenantId,
    pub course_id: CourseId,
    pub lesson_id: LessonId,
    pub title: String,
    /// The score (percent) that passes.
    pub pass_percent: i32,
    pub max_attempts: Option<i32>,
    pub time_limit_seconds: Option<i32>,
    /// Questions drawn per attempt from the pool; all when `None`.
    pub draw: Option<i32>,
    /// Counted by the course's completion rule.
    pub required: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
