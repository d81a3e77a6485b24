//! `POST /webhooks/{gateway}`: one path for every provider.
//!
//! Raw body → verify (400 on failure; nothing stored but a log line) → each event through the
//! pipeline, in its own transaction → the provider's acknowledgement, only after commit.
//! A failure while applying answers 500, so the provider delivers again.

use std::sync::Arc;

use lyceum_gateway_core::{TenantAccount, WebhookError, WebhookRequest};
use poem::http::StatusCode;
use poem::web::{Data, Path, RemoteAddr};
use poem::{Body, IntoResponse, Request, Response, handler};

use super::problem::problem_response;
use lyceum_domain::services::commerce::pipeline::{self, Source};
use lyceum_domain::services::gateway_accounts;
use lyceum_domain::state::AppState;

/// The largest webhook body accepted.
const MAX_BODY: usize = 256 * 1024;

#[handler]
pub async fn receive(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path(gateway): Path<String>,
    remote: &RemoteAddr,
    body: Body,
) -> Response {
    let Some(gateway) = state.gateways.named(&gateway) else {
        return problem_response(
            StatusCode::NOT_FOUND,
            "not-found",
            "no such gateway is enabled",
        );
    };
    let body = match body.into_bytes_limit(MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return problem_response(
                StatusCode::BAD_REQUEST,
                "bad-request",
                format!("unreadable body: {e}"),
            );
        }
    };
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned())))
        .collect();
    let peer = remote.as_socket_addr().map(|a| a.ip());
    let delivery = WebhookRequest {
        headers: &headers,
        body: &body,
        peer,
        now: chrono::Utc::now(),
    };
    // The path names no tenant: the gateway's own configured secret verifies the delivery,
    // on the platform's account.
    let account = TenantAccount::default();
    let delivery = match gateway.verify_webhook(&account, &delivery).await {
        Ok(delivery) => delivery,
        Err(e @ WebhookError::Unavailable(_)) => {
            tracing::warn!(gateway = %gateway.id(), error = %lyceum_domain::error::report(&e), "webhook verified but not readable yet; the provider will retry");
            return problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the provider could not be asked about the delivery; deliver again",
            );
        }
        Err(e) => {
            tracing::warn!(gateway = %gateway.id(), peer = ?peer, error = %lyceum_domain::error::report(&e), "webhook refused");
            return problem_response(
                StatusCode::BAD_REQUEST,
                "webhook-unverified",
                "the delivery could not be verified",
            );
        }
    };
    let name = gateway.id().as_str();
    for status in &delivery.accounts {
        if let Err(e) = gateway_accounts::record_news(state, gateway.id(), status).await {
            tracing::error!(gateway = name, error = %lyceum_domain::error::report(&e), "seller account status not recorded; the provider will retry");
            return problem_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "not applied; deliver again",
            );
        }
    }
    for event in &delivery.events {
        if let Err(e) = pipeline::apply(state, Source::Provider(name), event).await {
            tracing::error!(gateway = name, event.id = %event.provider_event_id, error = %lyceum_domain::error::report(&e), "webhook not applied; the provider will retry");
            return problem_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "not applied; deliver again",
            );
        }
    }
    let ack = gateway.acknowledge(&delivery);
    (
        StatusCode::from_u16(ack.status).unwrap_or(StatusCode::OK),
        ack.body.with_content_type(ack.content_type),
    )
        .into_response()
}
