//! The public catalog of active storefronts.

use std::sync::Arc;

use lyceum_tenants::rbac::{Action, resource};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::types::{CourseBody, CourseDetailBody};
use crate::http::auth::MaybeAuth;
use crate::http::problem::ApiResult;
use crate::services::catalog::public::{self, CatalogQuery};
use crate::services::tenants;
use crate::state::AppState;

/// A page of the catalog.
#[derive(Debug, Object)]
pub struct CoursePage {
    pub items: Vec<CourseBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, ApiResponse)]
enum PageResponse {
    #[oai(status = 200)]
    Ok(Json<CoursePage>),
}

#[derive(Debug, ApiResponse)]
enum DetailResponse {
    #[oai(status = 200)]
    Ok(Json<CourseDetailBody>),
}

/// The public catalog.
#[derive(Debug)]
pub struct CatalogApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl CatalogApi {
    /// Published courses of an active storefront, oldest first, with optional text search.
    #[oai(
        path = "/tenants/:tenant/courses",
        method = "get",
        operation_id = "list_courses"
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
        let tenant = tenants::find_selling(state, &tenant).await?;
        let proof = state
            .policy
            .authorize::<resource::Catalog>(
                &state.db,
                &auth.principal(),
                tenant.domain(),
                Action::Read,
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
        Ok(PageResponse::Ok(Json(CoursePage {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        })))
    }

    /// A published course and its curriculum: sections, lesson ids, titles, `free_preview`.
    #[oai(
        path = "/tenants/:tenant/courses/:course",
        method = "get",
        operation_id = "get_course"
    )]
    async fn get_course(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<DetailResponse> {
        let tenant = tenants::find_selling(state, &tenant).await?;
        let proof = state
            .policy
            .authorize::<resource::Catalog>(
                &state.db,
                &auth.principal(),
                tenant.domain(),
                Action::Read,
            )
            .await?;
        let detail = public::get(state, &proof, &tenant, &course).await?;
        Ok(DetailResponse::Ok(Json(CourseDetailBody::new(
            detail, false,
        ))))
    }
}
