//! Courses: the public catalog of active storefronts, and creating and changing courses
//! (staff), which share its paths.

use std::sync::Arc;

use lyceum_tenants::rbac::{action, resource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::prepared::PreparedJson;
use super::studio::{CourseResponse, CreateCourseRequest, UpdateCourseRequest};
use super::types::{CourseBody, CourseDetailBody, Created, NoContent};
use super::{ApiTags, in_tenant};
use crate::auth::{Auth, MaybeAuth};
use crate::problem::ApiResult;
use lyceum_domain::domain;
use lyceum_domain::services::catalog::courses::{self, CoursePatch, NewCourse};
use lyceum_domain::services::catalog::public::{self, CatalogQuery};
use lyceum_domain::services::catalog::{CourseDescription, CourseTitle, Curriculum};
use lyceum_domain::state::AppState;

/// A page of the catalog.
#[derive(Debug, Object)]
pub struct CoursePage {
    pub items: Vec<CourseBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, ApiResponse)]
enum PageResponse {
    #[oai(status = 200)]
    Ok(PreparedJson<CoursePage>),
}

#[derive(Debug, ApiResponse)]
enum DetailResponse {
    #[oai(status = 200)]
    Ok(Json<CourseDetailBody>),
}

/// The public catalog.
#[derive(Debug)]
pub struct CatalogApi;

// Public reads and staff writes of the same paths live in one impl: poem-openapi writes each
// impl's paths separately, and a path in two impls would appear twice in the document.
#[OpenApi(prefix_path = "/api/v1")]
impl CatalogApi {
    /// Published courses of an active storefront, oldest first, with optional text search.
    #[oai(
        path = "/tenants/:tenant/courses",
        method = "get",
        operation_id = "list_courses",
        tag = "ApiTags::Catalog"
    )]
    async fn list_courses(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        /// Words to look for in titles and descriptions.
        q: Query<Option<String>>,
        /// Page size, 1–100 (default 20).
        limit: Query<Option<u64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> ApiResult<PageResponse> {
        let (tenant, proof) = super::in_storefront::<resource::Catalog, action::Read>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let page = public::list(
            state,
            &proof,
            &tenant,
            CatalogQuery {
                q: q.0,
                limit: limit.0,
                cursor: cursor.0,
            },
        )
        .await?;
        // Cached pages are served many times over: serialized once, with the page.
        Ok(PageResponse::Ok(PreparedJson::kept_in(
            &page.rendered,
            || CoursePage {
                items: page.items.iter().cloned().map(Into::into).collect(),
                next_cursor: page.next_cursor.clone(),
            },
        )))
    }

    /// A published course and its curriculum: sections, lesson ids, titles, `free_preview`.
    #[oai(
        path = "/tenants/:tenant/courses/:course",
        method = "get",
        operation_id = "get_course",
        tag = "ApiTags::Catalog"
    )]
    async fn get_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<DetailResponse> {
        let (tenant, proof) = super::in_storefront::<resource::Catalog, action::Read>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let detail = public::get(state, &proof, &tenant, &course).await?;
        Ok(DetailResponse::Ok(Json(CourseDetailBody::new(
            Curriculum::clone(&detail),
            false,
        ))))
    }

    /// Create an unpublished course.
    #[oai(
        path = "/tenants/:tenant/courses",
        method = "post",
        operation_id = "create_course",
        tag = "ApiTags::Studio"
    )]
    async fn create_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        Json(body): Json<CreateCourseRequest>,
    ) -> ApiResult<Created<CourseBody>> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Create>(state, &auth.principal(), &tenant)
                .await?;
        let input = NewCourse {
            slug: domain::slug("slug", &body.slug)?,
            title: CourseTitle::parse("title", &body.title)?,
            description: CourseDescription::parse("description", &body.description)?,
            price: body.price.parse_price("price")?,
            access_days: body.access_days,
        };
        let course = courses::create(state, &proof, &tenant, input).await?;
        Ok(Created::Created(Json(course.into())))
    }

    /// Change a course's title, description, price or access period.
    #[oai(
        path = "/tenants/:tenant/courses/:course",
        method = "patch",
        operation_id = "update_course",
        tag = "ApiTags::Studio"
    )]
    async fn update_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
        Json(body): Json<UpdateCourseRequest>,
    ) -> ApiResult<CourseResponse> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Update>(state, &auth.principal(), &tenant)
                .await?;
        let patch = CoursePatch {
            title: body
                .title
                .as_deref()
                .map(|t| CourseTitle::parse("title", t))
                .transpose()?,
            description: body
                .description
                .as_deref()
                .map(|d| CourseDescription::parse("description", d))
                .transpose()?,
            price: body
                .price
                .as_ref()
                .map(|p| p.parse_price("price"))
                .transpose()?,
            access_days: body.access_days.map(|d| (d > 0).then_some(d)),
            complete_percent: body.complete_percent,
        };
        let course = courses::update(state, &proof, &tenant, &course, patch).await?;
        Ok(CourseResponse::Ok(Json(course.into())))
    }

    /// Delete a course nobody has bought, been given or completed (409 otherwise: unpublish
    /// it instead), with its curriculum and files.
    #[oai(
        path = "/tenants/:tenant/courses/:course",
        method = "delete",
        operation_id = "delete_course",
        tag = "ApiTags::Studio"
    )]
    async fn delete_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<NoContent> {
        let (tenant, proof) =
            in_tenant::<resource::Course, action::Delete>(state, &auth.principal(), &tenant)
                .await?;
        courses::delete(state, &proof, &tenant, &course).await?;
        Ok(NoContent::NoContent)
    }
}
