//! The catalog: courses and their curriculum (sections and lessons); lesson files live in
//! [`media`](crate::services::media). `stats` reads the numbers of the studio's dashboard.

pub mod chapters;
pub mod courses;
pub mod curriculum;
pub mod public;
pub mod stats;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use lyceum_gateway_core::{Currency, Money};
use lyceum_tenants::Slug;

use crate::domain::BoundedText;
use crate::entities::{courses as course_rows, lessons as lesson_rows};
use crate::error::AppError;
use crate::ids::{CourseId, LessonId, SectionId, TenantId};
pub use crate::services::learning::drip::Drip;

pub type CourseTitle = BoundedText<1, 200>;
pub type CourseDescription = BoundedText<0, 20_000>;
pub type SectionTitle = BoundedText<1, 200>;
pub type LessonTitle = BoundedText<1, 200>;
pub type LessonBody = BoundedText<0, 200_000>;

/// A course as its authors and buyers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    pub id: CourseId,
    pub tenant_id: TenantId,
    pub slug: Slug,
    pub title: String,
    pub description: String,
    pub price: Money,
    pub access_days: Option<u32>,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    /// How much of a required video counts as watched, in percent (the completion rule).
    pub complete_percent: u8,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Course {
    pub fn is_free(&self) -> bool {
        self.price.is_zero()
    }
}

impl TryFrom<course_rows::Model> for Course {
    type Error = AppError;
    fn try_from(m: course_rows::Model) -> Result<Self, Self::Error> {
        let id = m.id;
        let corrupt = |field, e: Box<dyn std::error::Error + Send + Sync>| {
            AppError::corrupt_field("course", id, field, e)
        };
        let currency = Currency::parse(&m.currency).map_err(|e| corrupt("currency", e.into()))?;
        Ok(Self {
            slug: Slug::parse(&m.slug).map_err(|e| corrupt("slug", e.into()))?,
            price: Money::new(m.price_amount, currency).map_err(|e| corrupt("price", e.into()))?,
            access_days: m
                .access_days
                .map(u32::try_from)
                .transpose()
                .map_err(|e| corrupt("access_days", e.into()))?,
            id: m.id,
            tenant_id: m.tenant_id,
            title: m.title,
            description: m.description,
            published: m.published,
            published_at: m.published_at,
            complete_percent: u8::try_from(m.complete_percent)
                .map_err(|e| corrupt("complete_percent", e.into()))?,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// What a lesson holds. Stored as its `as_str` name (`lessons.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(
    rs_type = "String",
    db_type = "String(sea_orm::sea_query::StringLen::N(8))"
)]
pub enum LessonKind {
    #[sea_orm(string_value = "video")]
    Video,
    #[sea_orm(string_value = "text")]
    Text,
    #[sea_orm(string_value = "file")]
    File,
}

impl LessonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Video => "video",
            Self::Text => "text",
            Self::File => "file",
        }
    }
}

impl fmt::Display for LessonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LessonKind {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "video" => Ok(Self::Video),
            "text" => Ok(Self::Text),
            "file" => Ok(Self::File),
            _ => Err(AppError::invalid(
                "kind",
                "must be `video`, `text` or `file`",
            )),
        }
    }
}

/// A lesson in a curriculum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub id: LessonId,
    pub section_id: SectionId,
    pub title: String,
    pub kind: LessonKind,
    pub free_preview: bool,
    pub position: i32,
    /// Only shown to staff here; learners get it through the content endpoint.
    pub body: Option<String>,
    pub asset: Option<AssetInfo>,
    /// Counted by the course's completion rule.
    pub required: bool,
    pub drip: Drip,
    /// A video's length, once known.
    pub duration_seconds: Option<u32>,
}

/// An uploaded lesson asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetInfo {
    pub content_type: String,
    pub size: i64,
}

impl TryFrom<lesson_rows::Model> for Lesson {
    type Error = AppError;
    fn try_from(m: lesson_rows::Model) -> Result<Self, Self::Error> {
        Ok(Self {
            kind: m.kind,
            asset: match (m.asset_key, m.asset_content_type, m.asset_size) {
                (Some(_), Some(content_type), Some(size)) => Some(AssetInfo { content_type, size }),
                _ => None,
            },
            id: m.id,
            section_id: m.section_id,
            title: m.title,
            free_preview: m.free_preview,
            position: m.position,
            body: m.body,
            required: m.required,
            drip: Drip::stored(m.drip_days, m.drip_at),
            duration_seconds: m.duration_seconds.and_then(|d| u32::try_from(d).ok()),
        })
    }
}

/// A section with its lessons in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: SectionId,
    pub title: String,
    pub position: i32,
    pub lessons: Vec<Lesson>,
}

/// A course with its whole curriculum in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Curriculum {
    pub course: Course,
    pub sections: Vec<Section>,
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::LessonKind;

    /// The API shows `as_str`, parses it back, and the database stores the same name.
    #[test]
    fn lesson_kind_names_agree() {
        for kind in LessonKind::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
            assert_eq!(kind.as_str().parse::<LessonKind>().unwrap(), kind);
        }
    }
}
