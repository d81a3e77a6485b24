//! The studio's editing of what a course teaches: changing and removing courses, sections
//! and lessons; chapters, drip and the completion rule; quizzes; a video's transcode status.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::study::{LessonPageBody, LessonPageResponse};
use super::types::NoContent;
use super::{ApiTags, in_storefront, in_tenant};
use crate::auth::{Auth, MaybeAuth};
use crate::problem::ApiResult;
use lyceum_domain::services::catalog::chapters::{self, Chapter};
use lyceum_domain::services::catalog::curriculum::{self, LessonPatch};
use lyceum_domain::services::catalog::{
    Lesson, LessonBody as LessonText, LessonTitle, SectionTitle,
};
use lyceum_domain::services::learning::lessons;
use lyceum_domain::services::learning::quiz_rules::{QuestionInput, QuestionSpec};
use lyceum_domain::services::learning::quizzes::{self, Authored, QuizInput};
use lyceum_domain::services::media::videos::{self, VideoStatus};
use lyceum_domain::state::AppState;

/// Changes to a lesson; absent fields stay as they are, `null` clears.
#[derive(Debug, Object)]
pub struct UpdateLessonRequest {
    pub title: Option<String>,
    /// Markdown; `null` removes it.
    #[oai(nullable)]
    pub body: MaybeUndefined<String>,
    pub free_preview: Option<bool>,
    /// Counted by the course's completion rule.
    pub required: Option<bool>,
    /// Opens this many days (1–3650) after a learner's access starts; `null` opens at once.
    #[oai(nullable)]
    pub drip_days: MaybeUndefined<u32>,
    /// Opens at this time; `null` removes the date.
    #[oai(nullable)]
    pub drip_at: MaybeUndefined<DateTime<Utc>>,
}

/// A lesson after a change, as the studio sees it.
#[derive(Debug, Object)]
pub struct StudioLessonBody {
    pub id: Uuid,
    pub title: String,
    pub kind: String,
    pub free_preview: bool,
    pub required: bool,
    #[oai(skip_serializing_if_is_none)]
    pub drip_days: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub drip_at: Option<DateTime<Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub duration_seconds: Option<u32>,
}

impl From<Lesson> for StudioLessonBody {
    fn from(l: Lesson) -> Self {
        Self {
            id: l.id.into(),
            title: l.title,
            kind: l.kind.as_str().to_owned(),
            free_preview: l.free_preview,
            required: l.required,
            drip_days: l.drip.days,
            drip_at: l.drip.at,
            duration_seconds: l.duration_seconds,
        }
    }
}

/// A new title for a section.
#[derive(Debug, Object)]
pub struct RenameSectionRequest {
    pub title: String,
}

/// A chapter marker of a video lesson.
#[derive(Debug, Clone, Object)]
pub struct ChapterBody {
    pub title: String,
    /// Where it starts, in seconds; each chapter after the one before.
    pub start_second: u32,
}

/// A lesson's chapters, replaced as a whole.
#[derive(Debug, Object)]
pub struct ChaptersBody {
    pub chapters: Vec<ChapterBody>,
}

/// A quiz as its editors write it: settings and the whole pool of questions.
///
/// Each question is tagged by `kind`:
/// - `single`: `{kind, prompt, options: [{text, correct}], explanation?}` — one correct option;
/// - `multiple`: the same, at least one correct (right only when exactly the correct set is
///   chosen);
/// - `true_false`: `{kind, prompt, answer: bool, explanation?}`;
/// - `short_text`: `{kind, prompt, answer: {match: "exact", values: [..], case_sensitive?}`
///   or `{match: "pattern", pattern}` (a regular expression the whole answer must match),
///   `explanation?}`.
#[derive(Debug, Object)]
pub struct QuizRequest {
    pub title: String,
    /// The score (percent) that passes.
    #[oai(default = "seventy")]
    pub pass_percent: u8,
    /// Attempts a learner may start; absent for no limit.
    pub max_attempts: Option<u32>,
    /// Seconds to answer once an attempt starts (10–86400), enforced on the server.
    pub time_limit_seconds: Option<u32>,
    /// Questions drawn per attempt from the pool; absent for all.
    pub draw: Option<u32>,
    /// Counted by the course's completion rule.
    #[oai(default = "yes")]
    pub required: bool,
    pub questions: Vec<serde_json::Value>,
}

fn seventy() -> u8 {
    70
}

fn yes() -> bool {
    true
}

/// A quiz with its answers (staff).
#[derive(Debug, Object)]
pub struct AuthoredQuizBody {
    pub id: Uuid,
    pub lesson: Uuid,
    pub title: String,
    pub pass_percent: u8,
    #[oai(skip_serializing_if_is_none)]
    pub max_attempts: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub time_limit_seconds: Option<u32>,
    #[oai(skip_serializing_if_is_none)]
    pub draw: Option<u32>,
    pub required: bool,
    /// Each question with its id, options' ids and answers.
    pub questions: Vec<serde_json::Value>,
}

impl AuthoredQuizBody {
    fn new(q: Authored) -> Result<Self, serde_json::Error> {
        let questions = q
            .questions
            .into_iter()
            .map(|(id, spec)| {
                let mut value = serde_json::to_value::<QuestionSpec>(spec)?;
                if let Some(map) = value.as_object_mut() {
                    map.insert("id".into(), serde_json::json!(id));
                }
                Ok(value)
            })
            .collect::<Result<_, serde_json::Error>>()?;
        Ok(Self {
            id: q.id.into(),
            lesson: q.lesson.into(),
            title: q.title,
            pass_percent: q.pass_percent,
            max_attempts: q.max_attempts,
            time_limit_seconds: q.time_limit_seconds,
            draw: q.draw,
            required: q.required,
            questions,
        })
    }
}

/// A rendition of a transcoded video.
#[derive(Debug, Object)]
pub struct RenditionBody {
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Bits per second, as the master playlist says.
    pub bandwidth: u64,
}

/// Where a lesson video's transcode stands.
#[derive(Debug, Object)]
pub struct VideoStatusBody {
    /// `queued`, `processing`, `ready` or `failed`.
    pub status: String,
    /// Why it failed (learners are served the uploaded file meanwhile).
    #[oai(skip_serializing_if_is_none)]
    pub reason: Option<String>,
    pub renditions: Vec<RenditionBody>,
    #[oai(skip_serializing_if_is_none)]
    pub duration_seconds: Option<u32>,
    pub queued_at: DateTime<Utc>,
    #[oai(skip_serializing_if_is_none)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<VideoStatus> for VideoStatusBody {
    fn from(v: VideoStatus) -> Self {
        Self {
            status: v.status.as_str().to_owned(),
            reason: v.reason,
            renditions: v
                .renditions
                .into_iter()
                .map(|r| RenditionBody {
                    name: r.name,
                    width: r.width,
                    height: r.height,
                    bandwidth: r.bandwidth,
                })
                .collect(),
            duration_seconds: v.duration_seconds,
            queued_at: v.queued_at,
            finished_at: v.finished_at,
        }
    }
}

#[derive(Debug, ApiResponse)]
enum LessonResponse {
    #[oai(status = 200)]
    Ok(Json<StudioLessonBody>),
}

#[derive(Debug, ApiResponse)]
enum ChaptersResponse {
    #[oai(status = 200)]
    Ok(Json<ChaptersBody>),
}

#[derive(Debug, ApiResponse)]
enum QuizResponse {
    #[oai(status = 200)]
    Ok(Json<AuthoredQuizBody>),
}

#[derive(Debug, ApiResponse)]
enum VideoResponse {
    #[oai(status = 200)]
    Ok(Json<VideoStatusBody>),
}

impl From<Chapter> for ChapterBody {
    fn from(c: Chapter) -> Self {
        Self {
            title: c.title,
            start_second: c.start_second,
        }
    }
}

/// Editing courses.
#[derive(Debug)]
pub struct AuthoringApi;

#[OpenApi(prefix_path = "/api/v1")]
impl AuthoringApi {
    /// Rename a section.
    #[oai(
        path = "/tenants/:tenant/sections/:section",
        method = "patch",
        operation_id = "update_section",
        tag = "ApiTags::Studio"
    )]
    async fn update_section(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        section: Path<Uuid>,
        Json(body): Json<RenameSectionRequest>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let title = SectionTitle::parse("title", &body.title)?;
        curriculum::rename_section(state, &proof, &tenant, section.0.into(), title).await?;
        Ok(NoContent::NoContent)
    }

    /// Delete a section and its lessons, with learners' progress in them (the storefront's
    /// owner; editors change lessons but do not delete them).
    #[oai(
        path = "/tenants/:tenant/sections/:section",
        method = "delete",
        operation_id = "delete_section",
        tag = "ApiTags::Studio"
    )]
    async fn delete_section(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        section: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, &auth.principal(), &tenant)
                .await?;
        curriculum::delete_section(state, &proof, &tenant, section.0.into()).await?;
        Ok(NoContent::NoContent)
    }

    /// A lesson page: title, Markdown rendered and sanitised, chapters, the caller's progress
    /// and the quiz's summary. 401/402 as for its content; 403 `locked` with `unlocks_at`
    /// while its drip schedule holds it back.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson",
        method = "get",
        operation_id = "get_lesson",
        tag = "ApiTags::Catalog"
    )]
    async fn get_lesson(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<LessonPageResponse> {
        let (tenant, proof) =
            in_storefront::<resource::Learning, action::Read>(state, &auth.principal(), &tenant)
                .await?;
        let page = lessons::page(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(LessonPageResponse::Ok(Json(LessonPageBody {
            id: page.lesson.id.into(),
            course: page.course.slug.into_inner(),
            title: page.lesson.title,
            kind: page.lesson.kind.as_str().to_owned(),
            free_preview: page.lesson.free_preview,
            required: page.lesson.required,
            html: page.html,
            has_asset: page.lesson.asset.is_some(),
            duration_seconds: page.lesson.duration_seconds,
            chapters: page.chapters.into_iter().map(Into::into).collect(),
            progress: page.progress.map(Into::into),
            quiz: page.quiz.map(Into::into),
            access_expires_at: page.expires_at,
        })))
    }

    /// Change a lesson: title, Markdown body, free preview, whether it is required, drip.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson",
        method = "patch",
        operation_id = "update_lesson",
        tag = "ApiTags::Studio"
    )]
    async fn update_lesson(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
        Json(body): Json<UpdateLessonRequest>,
    ) -> ApiResult<LessonResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let patch = LessonPatch {
            title: body
                .title
                .as_deref()
                .map(|t| LessonTitle::parse("title", t))
                .transpose()?,
            body: maybe(body.body)
                .map(|text| text.map(|t| LessonText::parse("body", &t)).transpose())
                .transpose()?,
            free_preview: body.free_preview,
            required: body.required,
            drip_days: maybe(body.drip_days),
            drip_at: maybe(body.drip_at),
        };
        let lesson =
            curriculum::update_lesson(state, &proof, &tenant, lesson.0.into(), patch).await?;
        Ok(LessonResponse::Ok(Json(lesson.into())))
    }

    /// Delete a lesson with its files, chapters, quiz and learners' progress in it (the
    /// storefront's owner).
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson",
        method = "delete",
        operation_id = "delete_lesson",
        tag = "ApiTags::Studio"
    )]
    async fn delete_lesson(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, &auth.principal(), &tenant)
                .await?;
        curriculum::delete_lesson(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(NoContent::NoContent)
    }

    /// Replace a video lesson's chapter markers.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/chapters",
        method = "put",
        operation_id = "set_lesson_chapters",
        tag = "ApiTags::Studio"
    )]
    async fn set_lesson_chapters(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
        Json(body): Json<ChaptersBody>,
    ) -> ApiResult<ChaptersResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let list = body
            .chapters
            .into_iter()
            .map(|c| Chapter {
                title: c.title.trim().to_owned(),
                start_second: c.start_second,
            })
            .collect();
        let saved = chapters::replace(state, &proof, &tenant, lesson.0.into(), list).await?;
        Ok(ChaptersResponse::Ok(Json(ChaptersBody {
            chapters: saved.into_iter().map(Into::into).collect(),
        })))
    }

    /// A lesson's quiz with its answers (staff).
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/quiz",
        method = "get",
        operation_id = "get_lesson_quiz",
        tag = "ApiTags::Studio"
    )]
    async fn get_lesson_quiz(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<QuizResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Read>(state, &auth.principal(), &tenant).await?;
        let quiz = quizzes::get_authored(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(QuizResponse::Ok(Json(
            AuthoredQuizBody::new(quiz).map_err(lyceum_domain::error::AppError::from)?,
        )))
    }

    /// Set a lesson's quiz: its settings and its whole pool of questions.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/quiz",
        method = "put",
        operation_id = "set_lesson_quiz",
        tag = "ApiTags::Studio"
    )]
    async fn set_lesson_quiz(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
        Json(body): Json<QuizRequest>,
    ) -> ApiResult<QuizResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let questions = body
            .questions
            .into_iter()
            .enumerate()
            .map(|(i, q)| {
                serde_json::from_value::<QuestionInput>(q).map_err(|e| {
                    lyceum_domain::error::AppError::invalid(&format!("questions[{i}]"), e)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let input = QuizInput {
            title: body.title,
            pass_percent: body.pass_percent,
            max_attempts: body.max_attempts,
            time_limit_seconds: body.time_limit_seconds,
            draw: body.draw,
            required: body.required,
            questions,
        };
        let quiz = quizzes::put(state, &proof, &tenant, lesson.0.into(), input).await?;
        Ok(QuizResponse::Ok(Json(
            AuthoredQuizBody::new(quiz).map_err(lyceum_domain::error::AppError::from)?,
        )))
    }

    /// Remove a lesson's quiz and its attempts (the storefront's owner).
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/quiz",
        method = "delete",
        operation_id = "delete_lesson_quiz",
        tag = "ApiTags::Studio"
    )]
    async fn delete_lesson_quiz(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, &auth.principal(), &tenant)
                .await?;
        quizzes::delete(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(NoContent::NoContent)
    }

    /// Where a lesson video's transcode into HLS stands: `queued`, `processing`, `ready`
    /// (with its renditions), or `failed` with the reason.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/video",
        method = "get",
        operation_id = "get_lesson_video",
        tag = "ApiTags::Studio"
    )]
    async fn get_lesson_video(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<VideoResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Read>(state, &auth.principal(), &tenant).await?;
        let status = videos::status_for_staff(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(VideoResponse::Ok(Json(status.into())))
    }
}

fn maybe<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}
