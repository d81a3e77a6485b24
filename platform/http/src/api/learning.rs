//! Learning: may I open this course, and the signed link to a lesson's content.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Principal, action, resource};
use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::web::Data;
use poem::{IntoResponse, Request, Response};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::registry::{
    MetaApi, MetaOperation, MetaOperationParam, MetaParamIn, MetaPath, Registry,
};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiResponse, Object, OpenApi, OperationId, Tags};
use serde::Serialize;
use uuid::Uuid;

use super::ApiTags;
use crate::auth::{self, MaybeAuth};
use crate::problem::{ApiResult, ProblemResponse};
use lyceum_domain::error::{AppError, AppResult};
use lyceum_domain::services::access;
use lyceum_domain::services::catalog::courses;
use lyceum_domain::services::media::content;
use lyceum_domain::state::AppState;

/// Whether the caller may study a course.
// Written by serde (see `course_access`), fields in the order poem-openapi would write them.
#[derive(Debug, Object, Serialize)]
pub struct AccessBody {
    pub access: bool,
    /// When the access ends; `null` for lifetime access.
    #[serde(serialize_with = "rfc3339")]
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    /// `free`, `purchase`, `seat`, `subscription` or `grant`; `null` without access.
    #[oai(nullable)]
    pub reason: Option<String>,
}

/// Timestamps as everywhere else in the API: RFC 3339 with a numeric offset.
fn rfc3339<S: serde::Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&at.to_rfc3339()),
        None => s.serialize_none(),
    }
}

/// A short-lived link to a lesson's content.
#[derive(Debug, Object)]
pub struct ContentLink {
    /// Fetch this URL (no credentials needed) for the bytes; it stops working when it
    /// expires, and at once if access is revoked.
    pub url: String,
    pub expires_at: DateTime<Utc>,
    /// A video lesson's HLS master playlist once transcoded (signed like `url`; every
    /// playlist and segment it leads to is signed for the caller). Absent until then: play
    /// `url`, the uploaded file.
    #[oai(skip_serializing_if_is_none)]
    pub hls_url: Option<String>,
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
        let (tenant, proof) = super::in_storefront::<resource::Content, action::Read>(
            state,
            &auth.principal(),
            &tenant,
        )
        .await?;
        let link = content::issue(state, &proof, &tenant, lesson.0.into()).await?;
        Ok(ContentResponse::Ok(Json(ContentLink {
            url: link.url,
            expires_at: link.expires_at,
            hls_url: link.hls_url,
        })))
    }
}

/// Where [`course_access`] is mounted (poem's path syntax).
pub const COURSE_ACCESS_PATH: &str = "/api/v1/tenants/:tenant/courses/:course/access";

/// `GET /api/v1/tenants/{tenant}/courses/{course}/access`: whether the caller may study the
/// course now, and why.
///
/// Players ask this before every lesson, so it is the hottest read of the product. It is a
/// plain poem handler, mounted beside the OpenAPI service rather than inside it: poem-openapi's
/// service and extractor layers cost more than the (cached) work itself. Callers are resolved
/// as [`MaybeAuth`] does, errors are the same problem+json, and [`CourseAccessDoc`] describes
/// it in the OpenAPI document from the same types.
#[poem::handler]
pub async fn course_access(req: &Request) -> Response {
    let mut response = match access_answer(req).await {
        Ok(body) => Response::builder()
            .header(
                poem::http::header::CONTENT_TYPE,
                poem::http::HeaderValue::from_static("application/json; charset=utf-8"),
            )
            .body(body),
        Err(e) => ProblemResponse::from(e).into_response(),
    };
    response.set_data(OperationId(COURSE_ACCESS_OPERATION));
    response
}

const COURSE_ACCESS_OPERATION: &str = "get_course_access";

async fn access_answer(req: &Request) -> AppResult<Vec<u8>> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or(AppError::Internal("application state missing"))?;
    let (Some(tenant), Some(course)) = (req.raw_path_param("tenant"), req.raw_path_param("course"))
    else {
        return Err(AppError::NotFound("course"));
    };
    let user = auth::caller_id(state, req).await?;
    let principal = user.map_or(Principal::Anonymous, Principal::User);
    let (tenant, proof) =
        super::in_storefront::<resource::Access, action::Read>(state, &principal, tenant).await?;
    let course = courses::find_cached(state, &proof, &tenant, course).await?;
    let decision = access::decide(state, &proof, &course).await?;
    if !course.published && !decision.access {
        // Drafts stay hidden; a course taken off the catalog stays open to its buyers.
        return Err(AppError::NotFound("course"));
    }
    let body = AccessBody {
        access: decision.access,
        expires_at: decision.expires_at,
        reason: decision.reason.map(|r| r.as_str().to_owned()),
    };
    // Sized for the longest answer (a reason and a timestamp), so it is written in one go.
    let mut json = Vec::with_capacity(128);
    serde_json::to_writer(&mut json, &body)?;
    Ok(json)
}

/// The OpenAPI description of [`course_access`]; it adds no route (`http::app` mounts the
/// handler), and the OpenAPI snapshot test holds it to what a derived operation would say.
#[derive(Debug)]
pub struct CourseAccessDoc;

type CourseAccessResult = ApiResult<Json<AccessBody>>;

impl OpenApi for CourseAccessDoc {
    fn meta() -> Vec<MetaApi> {
        let path_param = |name: &str| MetaOperationParam {
            name: name.to_owned(),
            schema: <Path<String> as ApiExtractor>::param_schema_ref()
                .unwrap_or_else(String::schema_ref),
            in_type: MetaParamIn::Path,
            description: None,
            required: true,
            deprecated: false,
            explode: true,
            style: None,
        };
        let mut security: Vec<HashMap<&'static str, Vec<&'static str>>> =
            <MaybeAuth as ApiExtractor>::security_schemes()
                .into_iter()
                .map(|scheme| HashMap::from([(scheme, Vec::new())]))
                .collect();
        security.push(HashMap::new());
        vec![MetaApi {
            paths: vec![MetaPath {
                path: "/api/v1/tenants/{tenant}/courses/{course}/access".to_owned(),
                operations: vec![MetaOperation {
                    method: Method::GET,
                    tags: vec![ApiTags::Catalog.name()],
                    summary: Some("Whether the caller may study the course now, and why."),
                    description: None,
                    external_docs: None,
                    params: vec![path_param("tenant"), path_param("course")],
                    request: None,
                    responses: CourseAccessResult::meta(),
                    deprecated: false,
                    security,
                    operation_id: Some(COURSE_ACCESS_OPERATION),
                    code_samples: Vec::new(),
                }],
            }],
        }]
    }

    fn register(registry: &mut Registry) {
        ApiTags::Catalog.register(registry);
        <MaybeAuth as ApiExtractor>::register(registry);
        <Path<String> as ApiExtractor>::register(registry);
        CourseAccessResult::register(registry);
    }

    fn add_routes(self, _route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
    }
}
