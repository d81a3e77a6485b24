//! What wraps every request: a request id, a log line, metrics, body limits, problem+json.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use poem::http::{HeaderValue, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;
use uuid::Uuid;

use super::problem::{self, problem_response};
use lyceum_domain::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// Tags the request with an id (the caller's `X-Request-Id` when it looks sane), enforces the
/// body limit, turns escaped errors into problem+json, then logs and counts the response.
pub async fn observe<E: Endpoint>(next: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let request_id = req
        .header(REQUEST_ID)
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let method = req.method().clone();
    let raw_path = req.uri().path().to_owned();
    let path = loggable_path(&raw_path);
    let state = req.data::<Arc<AppState>>().cloned();
    let span = tracing::info_span!("request", request.id = %request_id, %method, path = %path);
    async move {
        let (limit, streamed) = state
            .as_ref()
            .map_or((usize::MAX, false), |s| body_limit(s, &method, &raw_path));
        let mut response = match limit_body(&mut req, limit, streamed).await {
            Err(response) => *response,
            Ok(()) => match next.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => problem::render(e).await,
            },
        };
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        let elapsed = started.elapsed();
        let status = response.status();
        let operation = response
            .data::<poem_openapi::OperationId>()
            .map_or_else(|| route_name(&path), |id| id.0);
        if let Some(state) = &state {
            state
                .metrics
                .observe(operation, method.as_str(), status.as_u16(), elapsed);
        }
        if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                latency_ms = elapsed.as_secs_f64() * 1e3,
                operation,
                "served"
            );
        } else {
            tracing::info!(
                status = status.as_u16(),
                latency_ms = elapsed.as_secs_f64() * 1e3,
                operation,
                "served"
            );
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

/// Lesson assets may be large and are counted by the upload service as they stream (the
/// API's `PUT …/asset`, and the studio's upload form, `POST /studio/…/asset`, whose few form
/// fields around the file get a little room); everything else is JSON or a small form.
fn body_limit(state: &AppState, method: &poem::http::Method, path: &str) -> (usize, bool) {
    /// Room for the multipart boundaries, headers and CSRF field around a studio upload.
    const FORM_ROOM: usize = 64 * 1024;
    if method == poem::http::Method::PUT && path.ends_with("/asset") {
        (state.settings.max_upload_bytes, true)
    } else if method == poem::http::Method::POST
        && path.starts_with("/studio/")
        && path.ends_with("/asset")
    {
        (
            state.settings.max_upload_bytes.saturating_add(FORM_ROOM),
            true,
        )
    } else {
        (state.settings.max_body_bytes, false)
    }
}

pub use lyceum_domain::io::{DRAIN_LIMIT, drain};

/// Refuses a declared length over `limit` (after draining it, up to [`DRAIN_LIMIT`]); a body
/// without a declared length fails once it passes `limit`, unless its handler counts it
/// (`streamed`).
async fn limit_body(req: &mut Request, limit: usize, streamed: bool) -> Result<(), Box<Response>> {
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(len) if len > limit as u64 => {
            if len <= DRAIN_LIMIT as u64 {
                drain(&mut req.take_body().into_bytes_stream(), DRAIN_LIMIT).await;
            }
            Err(Box::new(problem_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("the request body is larger than {limit} bytes"),
            )))
        }
        Some(_) => Ok(()),
        None if streamed => Ok(()),
        None => {
            let body = req.take_body().into_bytes_stream();
            req.set_body(Body::from_bytes_stream(limited(body, limit)));
            Ok(())
        }
    }
}

/// Passes at most `limit` bytes through; past that, drains the rest and yields an error.
fn limited<S>(body: S, limit: usize) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin + 'static,
{
    futures_util::stream::unfold(
        (body, 0_usize, false),
        move |(mut body, seen, done)| async move {
            if done {
                return None;
            }
            match body.next().await {
                None => None,
                Some(Err(e)) => Some((Err(e), (body, seen, true))),
                Some(Ok(bytes)) if seen + bytes.len() <= limit => {
                    let seen = seen + bytes.len();
                    Some((Ok(bytes), (body, seen, false)))
                }
                Some(Ok(_)) => {
                    drain(&mut body, DRAIN_LIMIT).await;
                    let err = std::io::Error::other(format!(
                        "the request body is larger than {limit} bytes"
                    ));
                    Some((Err(err), (body, limit, true)))
                }
            }
        },
    )
}

/// Maps a body read error to the service error.
pub fn body_error(err: std::io::Error) -> lyceum_domain::error::AppError {
    lyceum_domain::error::AppError::invalid("body", format!("the upload broke off: {err}"))
}

/// The path as logged: bearer secrets that travel in paths (signed content links, invitation
/// tokens) are replaced by a placeholder.
fn loggable_path(path: &str) -> String {
    if path.starts_with("/content/") {
        return "/content/{token}".to_owned();
    }
    // The routes that carry an invitation's token: staff and seat invitations, page and API.
    for prefix in [
        "/invitations/",
        "/api/v1/invitations/",
        "/seat-invitations/",
        "/api/v1/seat-invitations/",
    ] {
        if path.starts_with(prefix) {
            let tail = if path.ends_with("/accept") {
                "/accept"
            } else {
                ""
            };
            return format!("{prefix}{{token}}{tail}");
        }
    }
    path.to_owned()
}

/// A bounded metrics label for routes outside the OpenAPI document.
fn route_name(path: &str) -> &'static str {
    match path {
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/metrics" => "metrics",
        p if p.starts_with("/api/docs") => "api_docs",
        "/api/openapi.json" => "openapi",
        p if p.starts_with("/api/") => "api_unmatched",
        _ => "storefront",
    }
}

#[cfg(test)]
mod loggable_tests {
    use super::loggable_path;

    #[test]
    fn invitation_tokens_never_reach_the_logs() {
        for (path, logged) in [
            ("/invitations/inv_secret", "/invitations/{token}"),
            (
                "/api/v1/invitations/inv_secret/accept",
                "/api/v1/invitations/{token}/accept",
            ),
            ("/seat-invitations/seat_secret", "/seat-invitations/{token}"),
            (
                "/api/v1/seat-invitations/seat_secret/accept",
                "/api/v1/seat-invitations/{token}/accept",
            ),
            ("/content/abc", "/content/{token}"),
            ("/api/v1/teams", "/api/v1/teams"),
            (
                "/api/v1/tenants/acme-invitations/lessons/l1/asset",
                "/api/v1/tenants/acme-invitations/lessons/l1/asset",
            ),
            (
                "/api/v1/tenants/acme/members",
                "/api/v1/tenants/acme/members",
            ),
        ] {
            assert_eq!(loggable_path(path), logged);
        }
    }
}
