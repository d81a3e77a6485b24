//! Sections and lessons: adding, changing, removing them and putting them in order.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};

use super::courses::find as find_course;
use super::{
    Course, Curriculum, Drip, Lesson, LessonBody, LessonKind, LessonTitle, Section, SectionTitle,
};
use crate::entities::{lessons, sections};
use crate::error::{AppError, AppResult};
use crate::ids::{LessonId, SectionId};
use crate::services::invalidation::Invalidations;
use crate::services::media::videos;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// A validated new lesson.
#[derive(Debug)]
pub struct NewLesson {
    pub title: LessonTitle,
    pub kind: LessonKind,
    pub free_preview: bool,
    pub body: Option<LessonBody>,
    /// Counted by the course's completion rule.
    pub required: bool,
    pub drip: Drip,
}

/// Appends a section to a course; returns its id.
pub async fn add_section(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    course_slug: &str,
    title: SectionTitle,
) -> AppResult<SectionId> {
    ensure_covers(auth, tenant)?;
    let txn = state.db.begin().await?;
    let course = find_course(&txn, tenant, course_slug).await?;
    let position = sections::Entity::find()
        .filter(sections::Column::TenantId.eq(tenant.id))
        .filter(sections::Column::CourseId.eq(course.id))
        .count(&txn)
        .await?;
    let id = SectionId::new_v7();
    sections::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.id),
        course_id: Set(course.id),
        title: Set(title.into_inner()),
        position: Set(position_of(position)?),
        created_at: Set(now()),
    }
    .insert(&txn)
    .await?;
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    Ok(id)
}

/// Appends a lesson to a section of a course; returns its id.
pub async fn add_lesson(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    course_slug: &str,
    section_id: SectionId,
    input: NewLesson,
) -> AppResult<LessonId> {
    ensure_covers(auth, tenant)?;
    Drip::check_days(input.drip.days)?;
    let txn = state.db.begin().await?;
    let course = find_course(&txn, tenant, course_slug).await?;
    find_section(&txn, tenant, &course, section_id).await?;
    let position = lessons::Entity::find()
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .filter(lessons::Column::SectionId.eq(section_id))
        .count(&txn)
        .await?;
    let id = LessonId::new_v7();
    let at = now();
    lessons::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant.id),
        course_id: Set(course.id),
        section_id: Set(section_id),
        title: Set(input.title.into_inner()),
        kind: Set(input.kind),
        free_preview: Set(input.free_preview),
        body: Set(input.body.map(LessonBody::into_inner)),
        position: Set(position_of(position)?),
        asset_key: Set(None),
        asset_content_type: Set(None),
        asset_size: Set(None),
        required: Set(input.required),
        drip_days: Set(input.drip.days.and_then(|d| i32::try_from(d).ok())),
        drip_at: Set(input.drip.at),
        duration_seconds: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    Ok(id)
}

/// Changes to a lesson; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct LessonPatch {
    pub title: Option<LessonTitle>,
    /// `Some(None)` removes the text.
    pub body: Option<Option<LessonBody>>,
    pub free_preview: Option<bool>,
    pub required: Option<bool>,
    /// `Some(None)` removes the delay.
    pub drip_days: Option<Option<u32>>,
    /// `Some(None)` removes the date.
    pub drip_at: Option<Option<chrono::DateTime<chrono::Utc>>>,
}

async fn staff_lesson(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    lesson: LessonId,
) -> AppResult<lessons::Model> {
    lessons::Entity::find_by_id(lesson)
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("lesson"))
}

/// Changes a lesson.
pub async fn update_lesson(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    lesson_id: LessonId,
    patch: LessonPatch,
) -> AppResult<Lesson> {
    ensure_covers(auth, tenant)?;
    let lesson = staff_lesson(&state.db, tenant, lesson_id).await?;
    let mut active = lessons::ActiveModel {
        id: Set(lesson.id),
        updated_at: Set(now()),
        ..Default::default()
    };
    if let Some(title) = patch.title {
        active.title = Set(title.into_inner());
    }
    if let Some(body) = patch.body {
        active.body = Set(body.map(LessonBody::into_inner));
    }
    if let Some(free_preview) = patch.free_preview {
        active.free_preview = Set(free_preview);
    }
    if let Some(required) = patch.required {
        active.required = Set(required);
    }
    if let Some(days) = patch.drip_days {
        Drip::check_days(days)?;
        active.drip_days = Set(days.and_then(|d| i32::try_from(d).ok()));
    }
    if let Some(at) = patch.drip_at {
        active.drip_at = Set(at);
    }
    let txn = state.db.begin().await?;
    let updated = active.update(&txn).await?;
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    updated.try_into()
}

/// Removes a lesson with its asset, renditions, chapters, quiz and learners' progress in it.
pub async fn delete_lesson(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Delete>,
    tenant: &Tenant,
    lesson_id: LessonId,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let lesson = staff_lesson(&state.db, tenant, lesson_id).await?;
    let rendered = videos::hls_prefix(&state.db, tenant.id, lesson.id).await?;
    let txn = state.db.begin().await?;
    lessons::Entity::delete_by_id(lesson.id)
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .exec(&txn)
        .await?;
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    forget_files(state, lesson.asset_key.into_iter().collect(), rendered).await;
    Ok(())
}

/// Renames a section.
pub async fn rename_section(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    section_id: SectionId,
    title: SectionTitle,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let txn = state.db.begin().await?;
    let updated = sections::Entity::update_many()
        .col_expr(
            sections::Column::Title,
            sea_orm::sea_query::Expr::value(title.into_inner()),
        )
        .filter(sections::Column::Id.eq(section_id))
        .filter(sections::Column::TenantId.eq(tenant.id))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::NotFound("section"));
    }
    state.commit(txn, Invalidations::catalog(tenant.id)).await
}

/// Removes a section and every lesson in it.
pub async fn delete_section(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Delete>,
    tenant: &Tenant,
    section_id: SectionId,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let lessons_in = lessons::Entity::find()
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .filter(lessons::Column::SectionId.eq(section_id))
        .all(&state.db)
        .await?;
    let mut rendered = Vec::new();
    for lesson in &lessons_in {
        rendered.extend(videos::hls_prefix(&state.db, tenant.id, lesson.id).await?);
    }
    let txn = state.db.begin().await?;
    let removed = sections::Entity::delete_by_id(section_id)
        .filter(sections::Column::TenantId.eq(tenant.id))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(AppError::NotFound("section"));
    }
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    let assets = lessons_in.into_iter().filter_map(|l| l.asset_key).collect();
    for prefix in rendered {
        videos::delete_prefix(state, &prefix).await;
    }
    forget_files(state, assets, None).await;
    Ok(())
}

/// Deletes stored files no row points at any more; a failure only leaves orphans behind.
pub(crate) async fn forget_files(state: &AppState, assets: Vec<String>, rendered: Option<String>) {
    use object_store::ObjectStoreExt;
    for key in assets {
        if let Err(e) = state
            .assets
            .delete(&object_store::path::Path::from(key))
            .await
        {
            tracing::warn!(error = %crate::error::report(&e), "could not delete a removed asset");
        }
    }
    if let Some(prefix) = rendered {
        videos::delete_prefix(state, &prefix).await;
    }
}

/// Puts a course's sections in the given order; the list must name each section once.
pub async fn reorder_sections(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    course_slug: &str,
    order: Vec<SectionId>,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let txn = state.db.begin().await?;
    let course = find_course(&txn, tenant, course_slug).await?;
    let existing: Vec<SectionId> = sections::Entity::find()
        .filter(sections::Column::TenantId.eq(tenant.id))
        .filter(sections::Column::CourseId.eq(course.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    check_permutation(&existing, &order)?;
    for (position, id) in order.into_iter().enumerate() {
        sections::ActiveModel {
            id: Set(id),
            position: Set(position_of(position as u64)?),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    Ok(())
}

/// Puts a section's lessons in the given order; the list must name each lesson once.
pub async fn reorder_lessons(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    course_slug: &str,
    section_id: SectionId,
    order: Vec<LessonId>,
) -> AppResult<()> {
    ensure_covers(auth, tenant)?;
    let txn = state.db.begin().await?;
    let course = find_course(&txn, tenant, course_slug).await?;
    find_section(&txn, tenant, &course, section_id).await?;
    let existing: Vec<LessonId> = lessons::Entity::find()
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .filter(lessons::Column::SectionId.eq(section_id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|l| l.id)
        .collect();
    check_permutation(&existing, &order)?;
    for (position, id) in order.into_iter().enumerate() {
        lessons::ActiveModel {
            id: Set(id),
            position: Set(position_of(position as u64)?),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    state.commit(txn, Invalidations::catalog(tenant.id)).await?;
    Ok(())
}

/// Loads a course's sections and lessons in order.
pub async fn load(conn: &impl ConnectionTrait, course: Course) -> AppResult<Curriculum> {
    let section_rows = sections::Entity::find()
        .filter(sections::Column::TenantId.eq(course.tenant_id))
        .filter(sections::Column::CourseId.eq(course.id))
        .order_by_asc(sections::Column::Position)
        .all(conn)
        .await?;
    let lesson_rows = lessons::Entity::find()
        .filter(lessons::Column::TenantId.eq(course.tenant_id))
        .filter(lessons::Column::CourseId.eq(course.id))
        .order_by_asc(lessons::Column::Position)
        .all(conn)
        .await?;
    let mut by_section: BTreeMap<SectionId, Vec<Lesson>> = BTreeMap::new();
    for row in lesson_rows {
        let lesson = Lesson::try_from(row)?;
        by_section
            .entry(lesson.section_id)
            .or_default()
            .push(lesson);
    }
    let sections = section_rows
        .into_iter()
        .map(|s| Section {
            lessons: by_section.remove(&s.id).unwrap_or_default(),
            id: s.id,
            title: s.title,
            position: s.position,
        })
        .collect();
    Ok(Curriculum { course, sections })
}

async fn find_section(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    course: &Course,
    section_id: SectionId,
) -> AppResult<sections::Model> {
    sections::Entity::find_by_id(section_id)
        .filter(sections::Column::TenantId.eq(tenant.id))
        .filter(sections::Column::CourseId.eq(course.id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("section"))
}

fn check_permutation<Id: Eq + Hash>(existing: &[Id], order: &[Id]) -> AppResult<()> {
    let wanted: HashSet<&Id> = order.iter().collect();
    let have: HashSet<&Id> = existing.iter().collect();
    if wanted.len() != order.len() || wanted != have {
        return Err(AppError::invalid(
            "ids",
            "must list every item of the container exactly once",
        ));
    }
    Ok(())
}

fn position_of(index: u64) -> AppResult<i32> {
    i32::try_from(index).map_err(|_| AppError::conflict("too many items"))
}
