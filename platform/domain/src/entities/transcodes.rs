use sea_orm::entity::prelude::*;

use crate::ids::{LessonId, TenantId, TranscodeId};

/// A lesson video's transcode into HLS renditions.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transcodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TranscodeId,
    pub tenant_id: TenantId,
    pub lesson_id: LessonId,
    /// The uploaded file it was made from.
    pub source_key: String,
    pub status: TranscodeStatus,
    /// Why it failed, for the instructor.
    pub reason: Option<String>,
    pub attempts: i32,
    /// A worker holds it until then.
    pub lease_until: Option<DateTimeUtc>,
    /// Object-store prefix of `master.m3u8` and the renditions, once ready.
    pub hls_prefix: Option<String>,
    /// JSON list of the renditions made.
    pub renditions: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

/// Where a transcode stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum TranscodeStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "processing")]
    Processing,
    #[sea_orm(string_value = "ready")]
    Ready,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl TranscodeStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Processing => "processing",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
