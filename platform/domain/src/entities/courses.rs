use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, TenantId};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "courses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: CourseId,
    pub tenant_id: TenantId,
    pub slug: String,
    pub title: String,
    pub description: String,
    /// Minor units of `currency`; 0 is a free course.
    pub price_amount: i64,
    pub currency: String,
    /// Days of access after purchase; `None` is lifetime access.
    pub access_days: Option<i32>,
    pub published: bool,
    pub published_at: Option<DateTimeUtc>,
    /// How much of a required video counts as watched, in percent.
    pub complete_percent: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
