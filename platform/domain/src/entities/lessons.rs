use sea_orm::entity::prelude::*;

use crate::ids::{CourseId, LessonId, SectionId, TenantId};

pub use crate::services::catalog::LessonKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lessons")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: LessonId,
    pub tenant_id: TenantId,
    pub course_id: CourseId,
    pub section_id: SectionId,
    pub title: String,
    pub kind: LessonKind,
    pub free_preview: bool,
    pub body: Option<String>,
    /// Order within the section, from 0.
    pub position: i32,
    /// Object-store key of the uploaded asset.
    pub asset_key: Option<String>,
    pub asset_content_type: Option<String>,
    pub asset_size: Option<i64>,
    /// Counted by the course's completion rule.
    pub required: bool,
    /// Opens this many days after the learner's access starts.
    pub drip_days: Option<i32>,
    /// Opens at this time.
    pub drip_at: Option<DateTimeUtc>,
    /// A video's length, once known.
    pub duration_seconds: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
