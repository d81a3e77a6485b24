//! The fake's HTTP front: hosted pages under `/c/` and `/setup/`, the API under `/v1/`,
//! and the hand-over of the events a request caused to the delivery worker.

use poem::http::StatusCode;
use poem::{Request, Response};
use tokio::sync::oneshot;

use super::delivery::{Job, Signing};
use super::state::API_VERSION;
use super::{Shared, api, now, pages};

pub(super) fn queue(
    shared: &Shared,
    index: usize,
    signing: Signing,
    done: Option<oneshot::Sender<()>>,
) {
    shared.pending.send_modify(|n| *n += 1);
    if shared
        .queue
        .send(Job {
            index,
            signing,
            done,
        })
        .is_err()
    {
        shared.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// One HTTP request: a hosted page, or the API.
pub(super) async fn serve(shared: &Shared, mut req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let authorization = header("authorization");
    let idempotency_key = header("idempotency-key");
    let stripe_account = header("stripe-account");
    let stripe_version = header("stripe-version");
    let body = req.take_body().into_string().await.unwrap_or_default();
    if !path.starts_with("/v1/") {
        let (page, events) = pages::handle(
            &mut shared.state.lock().unwrap(),
            &method,
            &path,
            &body,
            now(),
        );
        for index in events {
            queue(shared, index, Signing::Secrets, None);
        }
        return match page {
            pages::Page::Html(html) => Response::builder()
                .content_type("text/html; charset=utf-8")
                .body(html),
            pages::Page::Redirect(to) => Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header("location", to)
                .finish(),
            pages::Page::NotFound => Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body("no such page"),
            pages::Page::BadRequest(why) => Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body(why),
        };
    }
    let incoming = api::Incoming {
        method,
        path,
        query,
        body,
        authorization,
        idempotency_key,
        stripe_account,
        stripe_version,
    };
    let out = api::handle(&mut shared.state.lock().unwrap(), incoming, now());
    for index in out.events {
        queue(shared, index, Signing::Secrets, None);
    }
    let status = StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::builder()
        .status(status)
        .content_type("application/json")
        .header("request-id", out.request_id)
        .header("stripe-version", API_VERSION);
    if out.replayed {
        response = response.header("idempotent-replayed", "true");
    }
    if out.status >= 400 {
        // 4xx are the caller's to fix: retrying the same request does not help.
        response = response.header("stripe-should-retry", "false");
    }
    response.body(serde_json::to_string_pretty(&out.body).unwrap_or_default())
}
