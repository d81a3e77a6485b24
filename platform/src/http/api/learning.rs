//! Learning: may I open this course, and the signed link to a lesson's content.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Action, resource};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use crate::error::AppError;
use crate::http::auth::MaybeAuth;
use crate::http::problem::ApiResult;
use crate::services::catalog::courses;
use crate::services::orders::access;
use crate::services::{content, tenants};
use crate::state::AppState;

/// Whether the caller may study a course.
#[derive(Debug, Object)]
pub struct AccessBody {
    pub access: bool,
    /// `free`, `purchase`, `seat`, `subscription` or `grant`; absent without access.
    pub reason: Option<String>,
    /// When the access ends; absent for lifetime access.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A short-lived link to a lesson's content.
#[derive(Debug, Object)]
pub struct ContentLink {
    /// Fetch this URL (no credentials needed) for the bytes; it stops working when it
    /// expires, and at once if access is revoked.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, ApiResponse)]
enum AccessResponse {
    #[oai(status = 200)]
    Ok(Json<AccessBody>),
}

#[derive(Debug, ApiResponse)]
enum ContentResponse {
    #[oai(status = 200)]
    Ok(Json<ContentLink>),
}

/// Learning.
#[derive(Debug)]
pub struct LearningApi;

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Catalog")]
impl LearningApi {
    /// Whether the caller may study the course now, and why.
    #[oai(
        path = "/tenants/:tenant/courses/:course/access",
        method = "get",
        operation_id = "get_course_access"
    )]
    async fn get_course_access(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        course: Path<String>,
    ) -> ApiResult<AccessResponse> {
        let tenant = tenants::find_selling(state, &tenant).await?;
        state
            .policy
            .authorize::<resource::Access>(
                &state.db,
                &auth.principal(),
                tenant.domain(),
                Action::Read,
            )
            .await?;
        let course = courses::find_cached(state, &tenant, &course).await?;
        let decision = access::decide(state, auth.user().map(|u| u.id), &course).await?;
        if !course.published && !decision.access {
            // Drafts stay hidden; a course taken off the catalog stays open to its buyers.
            return Err(AppError::NotFound("course").into());
        }
        Ok(AccessResponse::Ok(Json(AccessBody {
            access: decision.access,
            reason: decision.reason.map(|r| r.as_str().to_owned()),
            expires_at: decision.expires_at,
        })))
    }

    /// A signed link to a lesson's content: for anyone when the lesson is a free preview,
    /// otherwise 401 without a user and 402 without access.
    #[oai(
        path = "/tenants/:tenant/lessons/:lesson/content",
        method = "get",
        operation_id = "get_lesson_content"
    )]
    async fn get_lesson_content(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: MaybeAuth,
        tenant: Path<String>,
        lesson: Path<Uuid>,
    ) -> ApiResult<ContentResponse> {
        let tenant = tenants::find_selling(state, &tenant).await?;
        state
            .policy
            .authorize::<resource::Content>(
                &state.db,
                &auth.principal(),
                tenant.domain(),
                Action::Read,
            )
            .await?;
        let link = content::issue(state, &tenant, auth.user().map(|u| u.id), *lesson).await?;
        Ok(ContentResponse::Ok(Json(ContentLink {
            url: link.url,
            expires_at: link.expires_at,
        })))
    }
}
