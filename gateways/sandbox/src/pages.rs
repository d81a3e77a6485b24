//! The sandbox's own web pages, nested by the platform at `/sandbox`: the hosted pay page a
//! buyer is redirected to, and the dashboard action that opens and decides disputes.
//!
//! Both POST routes take a form (`application/x-www-form-urlencoded`, what the page sends) or
//! JSON (what scripts and tests send), and answer in kind.

mod html;

use chrono::Utc;
use poem::http::StatusCode;
use poem::web::{Data, Path, Redirect};
use poem::{Body, EndpointExt, IntoResponse, Request, Response, Route, get, handler, post};
use serde_json::json;

use crate::flows::Card;
use crate::store::SessionStatus;
use crate::{DisputeOutcome, PayOutcome, Sandbox, SandboxError};

/// Form and JSON bodies here are a few dozen bytes; anything near this is not ours.
const BODY_LIMIT: usize = 16 * 1024;

pub(crate) fn routes(sandbox: &Sandbox) -> Route {
    Route::new()
        .at(
            "/pay/:session",
            get(show).post(submit).data(sandbox.clone()),
        )
        .at(
            "/payments/:payment/dispute",
            post(dispute).data(sandbox.clone()),
        )
}

/// The pay page, or why the session cannot be paid.
#[handler]
async fn show(Path(id): Path<String>, Data(sandbox): Data<&Sandbox>) -> Response {
    match sandbox.session(&id).await {
        None => page(StatusCode::NOT_FOUND, html::not_found_page()),
        Some(session) if session.is_payable(Utc::now()) => {
            page(StatusCode::OK, html::pay_page(&session, None))
        }
        Some(session) => page(StatusCode::OK, html::closed_page(&session)),
    }
}

/// A pay attempt with `card`.
#[handler]
async fn submit(
    req: &Request,
    body: Body,
    Path(id): Path<String>,
    Data(sandbox): Data<&Sandbox>,
) -> Response {
    let json = is_json(req);
    let Some(card) = field(json, body, "card").await else {
        return problem(json, StatusCode::BAD_REQUEST, "a card number is required");
    };
    match sandbox.pay(&id, &card).await {
        Ok(PayOutcome::Succeeded {
            payment_id,
            redirect_url,
        }) if json => respond_json(
            StatusCode::OK,
            json!({"status": "succeeded", "payment_id": payment_id, "redirect_url": redirect_url}),
        ),
        Ok(PayOutcome::Succeeded { redirect_url, .. }) => {
            Redirect::see_other(redirect_url).into_response()
        }
        Ok(PayOutcome::Declined { redirect_url }) => {
            let message = decline_message(&card);
            if json {
                return respond_json(
                    StatusCode::PAYMENT_REQUIRED,
                    json!({"status": "declined", "payment_id": null, "redirect_url": redirect_url, "message": message}),
                );
            }
            match sandbox.session(&id).await {
                Some(session) => page(
                    StatusCode::PAYMENT_REQUIRED,
                    html::pay_page(&session, Some(message)),
                ),
                None => page(StatusCode::NOT_FOUND, html::not_found_page()),
            }
        }
        Err(SandboxError::SessionPaid | SandboxError::SessionExpired) => {
            closed(json, sandbox, &id).await
        }
        Err(SandboxError::UnknownSession) if json => {
            problem(true, StatusCode::NOT_FOUND, "no such checkout session")
        }
        Err(SandboxError::UnknownSession) => page(StatusCode::NOT_FOUND, html::not_found_page()),
        Err(SandboxError::MissingCard) => {
            problem(json, StatusCode::BAD_REQUEST, "a card number is required")
        }
        Err(e) => internal(json, &e),
    }
}

/// A dashboard action: `outcome` is `open`, `won` or `lost`.
#[handler]
async fn dispute(
    req: &Request,
    body: Body,
    Path(payment): Path<String>,
    Data(sandbox): Data<&Sandbox>,
) -> Response {
    let json = is_json(req);
    let outcome = match field(json, body, "outcome").await.as_deref() {
        Some("open") => DisputeOutcome::Open,
        Some("won") => DisputeOutcome::Won,
        Some("lost") => DisputeOutcome::Lost,
        Some(_) | None => {
            return problem(
                json,
                StatusCode::BAD_REQUEST,
                "outcome must be `open`, `won` or `lost`",
            );
        }
    };
    match sandbox.dispute(&payment, outcome).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e @ SandboxError::UnknownPayment) => {
            problem(json, StatusCode::NOT_FOUND, &e.to_string())
        }
        Err(e @ (SandboxError::DisputeAlreadyOpen | SandboxError::NoOpenDispute)) => {
            problem(json, StatusCode::CONFLICT, &e.to_string())
        }
        Err(e) => internal(json, &e),
    }
}

/// A session that was paid (409) or expired (410) before this attempt.
async fn closed(json: bool, sandbox: &Sandbox, id: &str) -> Response {
    let Some(session) = sandbox.session(id).await else {
        return page(StatusCode::NOT_FOUND, html::not_found_page());
    };
    let (status, state, redirect_url) = match session.status {
        SessionStatus::Paid => (StatusCode::CONFLICT, "paid", &session.success_url),
        SessionStatus::Open | SessionStatus::Expired => {
            (StatusCode::GONE, "expired", &session.cancel_url)
        }
    };
    if json {
        return respond_json(
            status,
            json!({"status": state, "payment_id": session.payment_id, "redirect_url": redirect_url}),
        );
    }
    page(status, html::closed_page(&session))
}

fn decline_message(card: &str) -> &'static str {
    match Card::parse(card) {
        Some(Card::Declined) => "Your card was declined. Try another card.",
        Some(Card::Succeeds | Card::Disputed | Card::Unknown) | None => {
            "This is not a sandbox test card, so it was declined. Use one of the cards below."
        }
    }
}

fn is_json(req: &Request) -> bool {
    req.content_type().is_some_and(|ct| {
        ct.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
}

/// One string field of a form or JSON body; `None` when it is absent or the body unreadable.
async fn field(json: bool, body: Body, name: &str) -> Option<String> {
    let bytes = body.into_bytes_limit(BODY_LIMIT).await.ok()?;
    if json {
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        return value.get(name)?.as_str().map(str::to_owned);
    }
    url::form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn page(status: StatusCode, html: String) -> Response {
    Response::builder()
        .status(status)
        // Pay pages show live state; a cached "pay" page after paying would mislead.
        .header("cache-control", "no-store")
        .content_type("text/html; charset=utf-8")
        .body(html)
}

fn respond_json(status: StatusCode, value: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(value.to_string())
}

fn problem(json: bool, status: StatusCode, message: &str) -> Response {
    if json {
        return respond_json(status, json!({"error": message}));
    }
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(message.to_owned())
}

fn internal(json: bool, error: &SandboxError) -> Response {
    tracing::error!(error = %error, "sandbox page failed");
    problem(
        json,
        StatusCode::INTERNAL_SERVER_ERROR,
        "the sandbox failed; see its log",
    )
}

#[cfg(test)]
mod tests;
