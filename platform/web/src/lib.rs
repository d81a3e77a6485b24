//! What the JSON API (`lyceum-http`) and the pages (`lyceum-admin-ui`) share about the web,
//! so that neither reaches into the other: which site a `Host` names ([`site`]), the client's
//! address behind trusted proxies ([`client`]), the session cookie ([`cookies`]) and the one
//! error body outside the OpenAPI handlers ([`problem_response`]).

pub mod client;
pub mod cookies;
pub mod site;

use poem::Response;
use poem::http::StatusCode;

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The RFC 9457 `type` of a kind of problem.
pub fn problem_type(kind: &str) -> String {
    format!("urn:lyceum:problem:{kind}")
}

/// A problem+json response outside the OpenAPI handlers (middleware, routers, pages).
pub fn problem_response(status: StatusCode, kind: &str, detail: impl Into<String>) -> Response {
    let json = serde_json::json!({
        "type": problem_type(kind),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail.into(),
    });
    Response::builder()
        .status(status)
        .content_type(PROBLEM_CONTENT_TYPE)
        .body(json.to_string())
}

/// How long a client is asked to wait (`Retry-After`, seconds) before trying again a request
/// that failed because the database was out of reach.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// 503 problem+json with `Retry-After`, for a request that needed the database while it was
/// out of reach: nothing was done, and the same request may succeed shortly.
pub fn unavailable_response(detail: impl Into<String>) -> Response {
    let mut response = problem_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail);
    response.headers_mut().insert(
        poem::http::header::RETRY_AFTER,
        UNAVAILABLE_RETRY_AFTER.into(),
    );
    response
}
