use sea_orm::entity::prelude::*;

use crate::ids::{QuizId, QuizQuestionId, TenantId};

/// A question of a quiz's pool.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quiz_questions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: QuizQuestionId,
    pub tenant_id: TenantId,
    pub quiz_id: QuizId,
    pub position: i32,
    /// The question as authored (`quiz_rules::QuestionSpec`, JSON), answers included.
    pub spec: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
