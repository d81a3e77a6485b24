use sea_orm::entity::prelude::*;

use crate::ids::{QuizAttemptId, QuizId, TenantId, UserId};

/// One learner's attempt at a quiz.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quiz_attempts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: QuizAttemptId,
    pub tenant_id: TenantId,
    pub quiz_id: QuizId,
    pub user_id: UserId,
    /// 1 for the first attempt.
    pub number: i32,
    /// The questions and option order drawn (`quiz_rules::Layout`, JSON).
    pub layout: String,
    pub started_at: DateTimeUtc,
    /// Answers are refused after it.
    pub deadline_at: Option<DateTimeUtc>,
    pub submitted_at: Option<DateTimeUtc>,
    pub score: Option<i32>,
    pub passed: Option<bool>,
    /// Per-question results (`quiz_rules::Graded`, JSON).
    pub results: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
