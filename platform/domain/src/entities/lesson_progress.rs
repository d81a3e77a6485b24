use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, LessonId, LessonProgressId, TenantId, UserId};

/// A learner's progress in one lesson.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lesson_progress")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LessonProgressId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub course_id: CourseId,
    pub lesson_id: LessonId,
    /// Where to resume, in seconds.
    pub position_seconds: i32,
    /// The player's clock when it sent `position_seconds`: an older report never moves it.
    pub position_at: Option<DateTimeUtc>,
    /// Seconds watched; only ever grows.
    pub watched_seconds: i32,
    pub first_seen_at: DateTimeUtc,
    /// When the lesson was first done (watched enough, or marked done).
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
