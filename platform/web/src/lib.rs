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
