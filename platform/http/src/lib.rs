//! The HTTP layer of Lyceum (poem): the OpenAPI-described JSON API, webhooks, operational
//! endpoints and the middleware every request passes, on top of `lyceum-domain`, never the
//! other way round. The pages are `lyceum-admin-ui`'s; neither reaches into the other, and the
//! `lyceum` binary mounts both.

pub mod api;
pub mod auth;
pub mod content;
pub mod headers;
pub mod health;
pub use lyceum_domain::metrics;
pub mod middleware;
pub mod problem;
pub mod range;
pub mod webhooks;

use std::sync::Arc;

use poem::middleware::CookieJarManager;
use poem::{Endpoint, EndpointExt, Route, get, post};
use poem_openapi::OpenApiService;

use lyceum_domain::state::AppState;

/// The OpenAPI service for all JSON operations.
pub fn api_service(state: &AppState) -> OpenApiService<impl poem_openapi::OpenApi, ()> {
    OpenApiService::new(api::all(), "Lyceum", env!("CARGO_PKG_VERSION"))
        .description(
            "A self-hosted, multi-tenant marketplace for online courses. Errors are RFC 9457 \
             `application/problem+json`; money is integer minor units plus an ISO 4217 code; \
             timestamps are RFC 3339 UTC.",
        )
        .server(state.settings.public_url.as_str().trim_end_matches('/'))
}

/// The OpenAPI document as JSON, deterministic for a given build and public URL.
pub fn openapi_json(state: &AppState) -> String {
    api_service(state).spec()
}

/// The API's routes on the platform's origin: JSON operations and their document, the hot
/// access check, health, metrics, webhooks and content.
pub fn platform_api_routes(state: &AppState) -> Route {
    let api = api_service(state);
    let spec = api.spec_endpoint();
    let docs = headers::HashedInlineScripts::new(api.swagger_ui());
    let strict = api::strict::StrictJson::from_document(&api.spec());
    Route::new()
        .nest_no_strip("/api/v1", api.with(strict))
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        // The hottest read, served by a plain handler; described in the document all the same.
        .at(api::COURSE_ACCESS_PATH, get(api::course_access))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/metrics", get(health::metrics))
        .at("/webhooks/:gateway", post(webhooks::receive))
        .at(
            "/webhooks/:gateway/:tenant",
            get(webhooks::receive_for_tenant).post(webhooks::receive_for_tenant),
        )
        .at("/content/:token", get(content::fetch))
}

/// Wraps the whole server in the middleware every request passes: cookies, security headers,
/// the content origin's gate, request ids, logs, metrics and body limits.
pub fn with_middleware(state: Arc<AppState>, routes: impl Endpoint + 'static) -> impl Endpoint {
    routes
        .with(CookieJarManager::new())
        .with(headers::SecureHeaders::new(&state.settings))
        .around(content::origin_gate)
        .around(middleware::observe)
        .data(state)
}
