use sea_orm::entity::prelude::*;

use crate::ids::{ContentFetchId, LessonId, TenantId, UserId};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "content_fetches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ContentFetchId,
    pub tenant_id: TenantId,
    pub user_id: Option<UserId>,
    pub lesson_id: LessonId,
    pub address: Option<String>,
    pub fetched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
