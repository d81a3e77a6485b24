//! `/certificates/{code}`: a certificate's public page — who completed which course of which
//! storefront, when, and whether it still stands — and the same as JSON for a client that
//! asks for `application/json`.

use std::sync::Arc;

use lyceum_tenants::rbac::{Domain, Principal, action, resource};
use poem::http::{StatusCode, header};
use poem::web::{Data, Html, Json, Path};
use poem::{IntoResponse, Request, Response, handler};

use crate::render::{error_page, render_page};
use lyceum_domain::error::AppResult;
use lyceum_domain::services::certificates::{self, Verified};
use lyceum_domain::state::AppState;

async fn find(state: &AppState, code: &str) -> AppResult<Verified> {
    // Anyone may verify: the code is the secret.
    let proof = state
        .policy
        .authorize::<resource::Certificate, action::Read>(
            &state.db,
            &Principal::Anonymous,
            Domain::Platform,
        )
        .await?;
    certificates::verify(state, &proof, code).await
}

/// The same fields as the API's `GET /api/v1/certificates/{code}`.
#[derive(Debug, serde::Serialize)]
struct CertificateJson {
    code: String,
    student: String,
    course: String,
    course_slug: String,
    tenant: String,
    tenant_name: String,
    issued_at: String,
    status: &'static str,
    url: String,
}

fn wants_json(req: &Request) -> bool {
    req.header(header::ACCEPT)
        .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"))
}

#[handler]
pub async fn show(
    Data(state): Data<&Arc<AppState>>,
    Path(code): Path<String>,
    req: &Request,
) -> Response {
    let mut response = respond(state, &code, req).await;
    // One address, two shapes: caches must key on what was asked for.
    response
        .headers_mut()
        .insert(header::VARY, poem::http::HeaderValue::from_static("Accept"));
    response
}

async fn respond(state: &AppState, code: &str, req: &Request) -> Response {
    let found = find(state, code).await;
    if wants_json(req) {
        return match found {
            Ok(v) => Json(CertificateJson {
                status: v.standing.as_str(),
                issued_at: v.issued_at.to_rfc3339(),
                code: v.code,
                student: v.student,
                course: v.course,
                course_slug: v.course_slug,
                tenant: v.storefront_slug,
                tenant_name: v.storefront,
                url: v.url,
            })
            .into_response(),
            Err(lyceum_domain::error::AppError::NotFound(_)) => lyceum_web::problem_response(
                StatusCode::NOT_FOUND,
                "not-found",
                "no certificate has this code",
            ),
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %lyceum_domain::error::report(&e), "certificate lookup failed: the database is out of reach");
                lyceum_web::unavailable_response("try again shortly")
            }
            Err(e) => {
                tracing::error!(error = %lyceum_domain::error::report(&e), "certificate lookup failed");
                lyceum_web::problem_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                )
            }
        };
    }
    match found {
        Ok(v) => Html(render_page(
            "certificate.html",
            minijinja::context! {
                title => format!("Certificate: {}", v.course),
                storefront => v.storefront,
                student => v.student,
                course => v.course,
                issued_on => v.issued_at.format("%-d %B %Y").to_string(),
                code => v.code.clone(),
                status => v.standing.as_str(),
                pdf => format!("/api/v1/certificates/{}/pdf", v.code),
            },
        ))
        .into_response(),
        Err(e) => error_page(e),
    }
}
