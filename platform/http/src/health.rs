//! Liveness, readiness and metrics for operators and orchestrators; the metrics only for the
//! configured networks or with the metrics token.

use std::sync::Arc;
use std::time::Duration;

use poem::http::{StatusCode, header};
use poem::web::{Data, Json};
use poem::{IntoResponse, Request, Response, handler};
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use lyceum_domain::config::Settings;
use lyceum_domain::services::notify::outbox;
use lyceum_domain::state::AppState;
use lyceum_web::client::client_ip;

use crate::problem::problem_response;

/// The process is up.
#[handler]
pub fn healthz() -> &'static str {
    "ok"
}

/// The database answers and every migration is applied.
#[handler]
pub async fn readyz(Data(state): Data<&Arc<AppState>>) -> Response {
    let backend = lyceum_domain::db::backend_name(&state.db);
    match lyceum_domain::db::is_ready(&state.db).await {
        Ok(true) => Json(json!({"status": "ready", "database": backend})).into_response(),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "migrations pending", "database": backend})),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %lyceum_domain::error::report(&e), "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "database unreachable", "database": backend})),
            )
                .into_response()
        }
    }
}

/// How long the database may take to measure the outbox for one scrape; past it the scrape
/// answers with the values measured before.
const MEASURE_TIMEOUT: Duration = Duration::from_secs(2);

/// Prometheus text exposition, for the configured networks or the metrics token (403
/// problem+json to anyone else).
#[handler]
pub async fn metrics(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    if !may_read_metrics(req, &state.settings) {
        return problem_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the metrics are served to the configured networks, or with the metrics token",
        );
    }
    match tokio::time::timeout(MEASURE_TIMEOUT, outbox::measure(state)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %lyceum_domain::error::report(&e), "the outbox could not be measured");
        }
        Err(_) => tracing::warn!("measuring the outbox timed out"),
    }
    state
        .metrics
        .render()
        .with_content_type("text/plain; version=0.0.4")
        .into_response()
}

/// Whether `req` may read the metrics. A request with a bearer token is judged by the token
/// alone (a wrong one is refused from anywhere, so a scraper's stale token shows at once);
/// one without is judged by its client address — the same address rate limits count, read
/// from `X-Forwarded-For` only through the operator's trusted proxies, so that a header an
/// outsider wrote opens nothing.
fn may_read_metrics(req: &Request, settings: &Settings) -> bool {
    let access = &settings.metrics;
    match bearer(req) {
        Some(presented) => access
            .token
            .as_ref()
            .is_some_and(|token| same_secret(presented, token.expose_secret())),
        None => {
            let client = client_ip(req, settings);
            access
                .allowed_networks
                .iter()
                .any(|net| net.contains(&client))
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(req: &Request) -> Option<&str> {
    let value = req.header(header::AUTHORIZATION)?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares two secrets in time that depends on neither: their SHA-256 digests, in constant
/// time (so not even the length leaks).
fn same_secret(presented: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(presented), Sha256::digest(expected));
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}
