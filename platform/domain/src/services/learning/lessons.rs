//! Opening a lesson, and the lesson page a learner sees.
//!
//! [`open`] is the one check every learner's request about a lesson passes — its content
//! link, the bytes behind it, its video playlists, progress, quizzes — so a refund, a draft or
//! a drip schedule closes all of them at once.

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, ReadsCourses, Verb, action, resource};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{markdown, progress, quizzes};
use crate::entities::{courses, lessons};
use crate::error::{AppError, AppResult};
use crate::ids::{LessonId, TenantId, UserId};
use crate::services::access::{self, Decision};
use crate::services::catalog::chapters::{self, Chapter};
use crate::services::catalog::{Course, Drip, Lesson, LessonKind};
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers, ensure_covers_id};
use crate::state::AppState;

/// A lesson the caller may open, with its course and the access decision that let them.
#[derive(Debug, Clone)]
pub struct Opened {
    pub lesson: lessons::Model,
    pub course: Course,
    pub decision: Decision,
    /// The learner; `None` for an anonymous visitor of a free preview or a free course.
    pub user: Option<UserId>,
}

/// The lesson and its course, inside the tenant.
pub(crate) async fn lesson_of(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    lesson_id: LessonId,
) -> AppResult<(lessons::Model, Course)> {
    let lesson = lessons::Entity::find_by_id(lesson_id)
        .filter(lessons::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("lesson"))?;
    let course: Course = courses::Entity::find_by_id(lesson.course_id)
        .filter(courses::Column::TenantId.eq(tenant_id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("lesson"))?
        .try_into()?;
    Ok((lesson, course))
}

/// Whether the one `auth` was given to may open the lesson now: 404 for a draft's lesson
/// without access, a free preview for anyone, otherwise 401 without a user, 402 without
/// access, and 403 (`locked`, with the time) while its drip schedule holds it back.
pub async fn open<R: ReadsCourses, A: Verb>(
    state: &AppState,
    auth: &Authorized<R, A>,
    tenant_id: TenantId,
    lesson_id: LessonId,
) -> AppResult<Opened> {
    ensure_covers_id(auth, tenant_id)?;
    let user = auth.user_id();
    let (lesson, course) = lesson_of(&state.db, tenant_id, lesson_id).await?;
    let decision = access::decide(state, auth, &course).await?;
    if !course.published && !decision.access {
        // Drafts stay hidden; a course taken off the catalog stays open to its buyers.
        return Err(AppError::NotFound("lesson"));
    }
    if !lesson.free_preview {
        if user.is_none() && !course.is_free() {
            return Err(AppError::Unauthenticated("sign in to open this lesson"));
        }
        if !decision.access {
            return Err(AppError::PaymentRequired(format!(
                "buy `{}` to open this lesson",
                course.slug
            )));
        }
        let drip = Drip::stored(lesson.drip_days, lesson.drip_at);
        if let Some(until) = drip.locked_until(decision.since, course.published_at, now()) {
            return Err(AppError::Locked { until });
        }
    }
    Ok(Opened {
        lesson,
        course,
        decision,
        user,
    })
}

/// The course a lesson belongs to, when the public catalog shows it (published): what a page
/// names when it explains why the lesson stays closed. Nothing of the lesson itself.
pub async fn published_course_of(
    state: &AppState,
    tenant: &Tenant,
    lesson_id: LessonId,
) -> AppResult<Course> {
    let (_, course) = lesson_of(&state.db, tenant.id, lesson_id).await?;
    if course.published {
        Ok(course)
    } else {
        Err(AppError::NotFound("lesson"))
    }
}

/// A lesson as its learner studies it.
#[derive(Debug, Clone)]
pub struct LessonPage {
    pub lesson: Lesson,
    pub course: Course,
    /// A text lesson's Markdown as sanitised HTML (notes beside a video or file too).
    pub html: Option<String>,
    pub chapters: Vec<Chapter>,
    /// The learner's progress; `None` for anonymous visitors and lessons not yet started.
    pub progress: Option<progress::LessonState>,
    pub quiz: Option<quizzes::Summary>,
    /// When the learner's access ends; `None` for lifetime access or a free course.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the viewer may study the course (not only look at a free preview).
    pub has_access: bool,
}

/// The lesson page: what [`open`] lets through, with the body rendered.
pub async fn page(
    state: &AppState,
    auth: &Authorized<resource::Learning, action::Read>,
    tenant: &Tenant,
    lesson_id: LessonId,
) -> AppResult<LessonPage> {
    ensure_covers(auth, tenant)?;
    let opened = open(state, auth, tenant.id, lesson_id).await?;
    let lesson = Lesson::try_from(opened.lesson)?;
    let html = lesson
        .body
        .as_deref()
        .filter(|b| !b.trim().is_empty())
        .map(markdown::render);
    let chapters = if lesson.kind == LessonKind::Video {
        chapters::list(&state.db, tenant.id, lesson.id).await?
    } else {
        Vec::new()
    };
    let (progress, quiz) = match opened.user {
        Some(user) => (
            progress::of_lesson(&state.db, tenant.id, user, lesson.id).await?,
            quizzes::summary(&state.db, tenant.id, lesson.id, Some(user)).await?,
        ),
        None => (
            None,
            quizzes::summary(&state.db, tenant.id, lesson.id, None).await?,
        ),
    };
    Ok(LessonPage {
        lesson: Lesson {
            body: None,
            ..lesson
        },
        course: opened.course,
        html,
        chapters,
        progress,
        quiz,
        expires_at: opened.decision.expires_at,
        has_access: opened.decision.access,
    })
}
