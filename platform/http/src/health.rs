//! Liveness, readiness and metrics for operators and orchestrators.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use lyceum_domain::state::AppState;

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

/// Prometheus text exposition.
#[handler]
pub fn metrics(Data(state): Data<&Arc<AppState>>) -> Response {
    state
        .metrics
        .render()
        .with_content_type("text/plain; version=0.0.4")
        .into_response()
}
