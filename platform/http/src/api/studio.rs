//! Building courses: the instructor studio's operations (owner and editors; graders read).

use std::sync::Arc;

use futures_util::TryStreamExt;
use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::types::{
    CourseBody, CourseDetailBody, Created, CreatedId, MoneyBody, NoContent, Reorder,
};
use super::{ApiTags, in_tenant};
use crate::auth::Auth;
use crate::problem::ApiResult;
use lyceum_domain::services::catalog::courses;
use lyceum_domain::services::catalog::curriculum::{self, NewLesson};
use lyceum_domain::services::catalog::{Drip, LessonBody as LessonText, LessonTitle, SectionTitle};
use lyceum_domain::services::media::assets;
use lyceum_domain::state::AppState;

/// A new course.
#[derive(Debug, Object)]
pub struct CreateCourseRequest {
    /// Unique within the storefront; used in URLs.
    pub slug: String,
    pub title: String,
    #[oai(default)]
    pub description: String,
    /// In the storefront's currency; zero for a free course.
    pub price: MoneyBody,
    /// Days of access after purchase (1–36500); absent for lifetime access.
    pub access_days: Option<u32>,
}

/// Changes to a course; absent fields stay as they are.
#[derive(Debug, Object)]
pub struct UpdateCourseRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub price: Option<MoneyBody>,
    /// Days of access after purchase; `0` switches to lifetime access.
    pub access_days: Option<u32>,
    /// The completion rule: how much of a required video counts as watched (1–100 percent).
    pub complete_percent: Option<u8>,
}

/// A new section.
#[derive(Debug, Object)]
pub struct CreateSectionRequest {
    pub title: String,
}

/// A new lesson.
#[derive(Debug, Object)]
pub struct CreateLessonRequest {
    pub title: String,
    /// `video`, `text` or `file`.
    pub kind: String,
    /// Anyone may open a free-preview lesson, bought or not.
    #[oai(default)]
    pub free_preview: bool,
    /// The text of a text lesson, or notes beside a video or file: Markdown, shown to
    /// learners rendered and sanitised.
    pub body: Option<String>,
    /// Counted by the course's completion rule.
    #[oai(default = "yes")]
    pub required: bool,
    /// Opens this many days (1–3650) after a learner's access starts.
    pub drip_days: Option<u32>,
    /// Opens at this time (with `drip_days` too: when both have come).
    pub drip_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, ApiResponse)]
pub(super) enum CourseResponse {
    #[oai(status = 200)]
    Ok(Json<CourseBody>),
}

#[derive(Debug, ApiResponse)]
enum CoursesResponse {
    #[oai(status = 200)]
    Ok(Json<Vec<CourseBody>>),
}

#[derive(Debug, ApiResponse)]
enum CourseDetailResponse {
    #[oai(status = 200)]
    Ok(Json<CourseDetailBody>),
}

/// The instructor studio.
#[derive(Debug)]
pub struct StudioApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Studio")]
impl StudioApi {
    /// Every course of the storefront, drafts included (staff).
    #[oai(
        path = "/tenants/:tenant/studio/courses",
        method = "get",
        operation_id = "list_studio_courses"
    )]
    async fn list_studio_courses(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
    ) -> ApiResult<CoursesResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Read>(state, &auth.principal(), &tenant).await?;
        let list = courses::list_all(state, &proof, &tenant).await?;
        Ok(CoursesResponse::Ok(Json(
            list.into_iter().map(Into::into).collect(),
        )))
    }

    /// A course with its whole curriculum, lesson bodies and asset details (staff).
    #[oai(
        path = "/tenants/:tenant/studio/courses/:course",
        method = "get",
        operation_id = "get_studio_course"
    )]
    async fn get_studio_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<CourseDetailResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Read>(state, &auth.principal(), &tenant).await?;
        let detail = courses::get_for_staff(state, &proof, &tenant, &course).await?;
        Ok(CourseDetailResponse::Ok(Json(CourseDetailBody::new(
            detail, true,
        ))))
    }

    /// Publish a course: it appears in the public catalog of an active storefront.
    #[oai(
        path = "/tenants/:tenant/courses/:course/publish",
        method = "post",
        operation_id = "publish_course"
    )]
    async fn publish_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<CourseResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Publish>(state, &auth.principal(), &tenant)
                .await?;
        let course = courses::set_published(state, &proof, &tenant, &course, true).await?;
        Ok(CourseResponse::Ok(Json(course.into())))
    }

    /// Take a course out of the public catalog; buyers keep their access.
    #[oai(
        path = "/tenants/:tenant/courses/:course/unpublish",
        method = "post",
        operation_id = "unpublish_course"
    )]
    async fn unpublish_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<CourseResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Publish>(state, &auth.principal(), &tenant)
                .await?;
        let course = courses::set_published(state, &proof, &tenant, &course, false).await?;
        Ok(CourseResponse::Ok(Json(course.into())))
    }

    /// Append a section to a course.
    #[oai(
        path = "/tenants/:tenant/courses/:course/sections",
        method = "post",
        operation_id = "create_section"
    )]
    async fn create_section(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        Json(body): Json<CreateSectionRequest>,
    ) -> ApiResult<Created<CreatedId>> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let title = SectionTitle::parse("title", &body.title)?;
        let id = curriculum::add_section(state, &proof, &tenant, &course, title).await?;
        Ok(Created::Created(Json(CreatedId { id: id.into() })))
    }

    /// Put a course's sections in order.
    #[oai(
        path = "/tenants/:tenant/courses/:course/sections/order",
        method = "put",
        operation_id = "reorder_sections"
    )]
    async fn reorder_sections(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        Json(body): Json<Reorder>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let order = body.ids.into_iter().map(Into::into).collect();
        curriculum::reorder_sections(state, &proof, &tenant, &course, order).await?;
        Ok(NoContent::NoContent)
    }

    /// Append a lesson to a section.
    #[oai(
        path = "/tenants/:tenant/courses/:course/sections/:section/lessons",
        method = "post",
        operation_id = "create_lesson"
    )]
    async fn create_lesson(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        section: Path<Uuid>,
        Json(body): Json<CreateLessonRequest>,
    ) -> ApiResult<Created<CreatedId>> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let input = NewLesson {
            title: LessonTitle::parse("title", &body.title)?,
            kind: body.kind.parse()?,
            free_preview: body.free_preview,
            required: body.required,
            drip: Drip {
                days: body.drip_days,
                at: body.drip_at,
            },
            body: body
                .body
                .as_deref()
                .map(|b| LessonText::parse("body", b))
                .transpose()?,
        };
        let id = curriculum::add_lesson(state, &proof, &tenant, &course, section.0.into(), input)
            .await?;
        Ok(Created::Created(Json(CreatedId { id: id.into() })))
    }

    /// Put a section's lessons in order.
    #[oai(
        path = "/tenants/:tenant/courses/:course/sections/:section/lessons/order",
        method = "put",
        operation_id = "reorder_lessons"
    )]
    async fn reorder_lessons(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        section: Path<Uuid>,
        Json(body): Json<Reorder>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let order = body.ids.into_iter().map(Into::into).collect();
        curriculum::reorder_lessons(state, &proof, &tenant, &course, section.0.into(), order)
            .await?;
        Ok(NoContent::NoContent)
    }

    /// Upload a lesson's asset: the raw bytes, with their `Content-Type`. Replaces an earlier asset.
    ///
    /// The `Content-Type` must be one the lesson's kind takes (compared on its essence, without
    /// parameters, in any case); anything else is refused with 422 on `content_type` (a request
    /// without one, with 415) and nothing is stored. The essence is kept and served back.
    ///
    /// - `video`: `video/mp4`, `video/webm`, `video/ogg`, `video/quicktime`, and audio
    ///   (`audio/mpeg`, `audio/mp4`, `audio/aac`, `audio/ogg`, `audio/webm`, `audio/wav`,
    ///   `audio/flac`).
    /// - `text`: raster images (`image/png`, `image/jpeg`, `image/gif`, `image/webp`,
    ///   `image/avif`), `application/pdf`, `text/plain`.
    /// - `file`: all of the above, and `text/csv`, `text/markdown`, archives (`application/zip`,
    ///   `application/gzip`, `application/x-tar`, `application/x-7z-compressed`),
    ///   `application/epub+zip`, office documents (Word, Excel, PowerPoint, both binary and
    ///   OOXML; OpenDocument text, spreadsheet, presentation) and `application/octet-stream`.
    ///
    /// Never accepted: HTML, SVG, XML, scripts, multipart.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/asset",
        method = "put",
        operation_id = "upload_lesson_asset"
    )]
    async fn upload_lesson_asset(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
        req: &poem::Request,
        body: Binary<poem::Body>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let stream = body
            .0
            .into_bytes_stream()
            .map_err(crate::middleware::body_error);
        let limit = state.settings.max_upload_bytes;
        assets::upload(
            state,
            &proof,
            &tenant,
            lesson.0.into(),
            req.content_type(),
            Box::pin(stream),
            limit,
        )
        .await?;
        Ok(NoContent::NoContent)
    }
}
