//! Chapter markers of a video lesson: a title and the second it starts at.

use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::LessonKind;
use crate::entities::{lesson_chapters, lessons};
use crate::error::{AppError, AppResult};
use crate::ids::{ChapterId, LessonId, TenantId};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The most chapters a lesson may have.
pub const MAX_CHAPTERS: usize = 100;

/// A chapter marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    pub title: String,
    pub start_second: u32,
}

/// A lesson's chapters in order of their start.
pub async fn list(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    lesson: LessonId,
) -> AppResult<Vec<Chapter>> {
    Ok(lesson_chapters::Entity::find()
        .filter(lesson_chapters::Column::TenantId.eq(tenant))
        .filter(lesson_chapters::Column::LessonId.eq(lesson))
        .order_by_asc(lesson_chapters::Column::Position)
        .all(conn)
        .await?
        .into_iter()
        .map(|c| Chapter {
            title: c.title,
            start_second: u32::try_from(c.start_second).unwrap_or_default(),
        })
        .collect())
}

/// Replaces a video lesson's chapters: titles of 1–200 characters, starts strictly rising and
/// within the video when its length is known.
pub async fn replace(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    lesson_id: LessonId,
    chapters: Vec<Chapter>,
) -> AppResult<Vec<Chapter>> {
    ensure_covers(auth, tenant)?;
    let txn = state.db.begin().await?;
    let lesson = lessons::Entity::find_by_id(lesson_id)
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("lesson"))?;
    if lesson.kind != LessonKind::Video {
        return Err(AppError::invalid(
            "chapters",
            "only video lessons have chapters",
        ));
    }
    check(
        &chapters,
        lesson.duration_seconds.and_then(|d| u32::try_from(d).ok()),
    )?;
    lesson_chapters::Entity::delete_many()
        .filter(lesson_chapters::Column::TenantId.eq(tenant.id))
        .filter(lesson_chapters::Column::LessonId.eq(lesson.id))
        .exec(&txn)
        .await?;
    for (position, chapter) in chapters.iter().enumerate() {
        lesson_chapters::ActiveModel {
            id: Set(ChapterId::new_v7()),
            tenant_id: Set(tenant.id),
            lesson_id: Set(lesson.id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            title: Set(chapter.title.clone()),
            start_second: Set(i32::try_from(chapter.start_second).unwrap_or(i32::MAX)),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(chapters)
}

fn check(chapters: &[Chapter], length: Option<u32>) -> AppResult<()> {
    if chapters.len() > MAX_CHAPTERS {
        return Err(AppError::invalid(
            "chapters",
            format!("a lesson has at most {MAX_CHAPTERS} chapters"),
        ));
    }
    let mut previous: Option<u32> = None;
    for (i, c) in chapters.iter().enumerate() {
        let n = c.title.trim().chars().count();
        if n == 0 || n > 200 {
            return Err(AppError::invalid(
                &format!("chapters[{i}].title"),
                "must be 1 to 200 characters",
            ));
        }
        if previous.is_some_and(|p| c.start_second <= p) {
            return Err(AppError::invalid(
                &format!("chapters[{i}].start_second"),
                "must come after the previous chapter's",
            ));
        }
        if length.is_some_and(|l| c.start_second >= l) {
            return Err(AppError::invalid(
                &format!("chapters[{i}].start_second"),
                "must be within the video",
            ));
        }
        previous = Some(c.start_second);
    }
    Ok(())
}
