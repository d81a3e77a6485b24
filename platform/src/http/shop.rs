//! Buying in the browser: sign in with a session cookie, buy a course with a CSRF-protected
//! form, open its lessons through signed links. The pages call the same services as the API.

use std::sync::Arc;

use lyceum_tenants::rbac::{Action, Principal, resource};
use poem::http::StatusCode;
use poem::web::{Data, Form, Html, Path, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use uuid::Uuid;

use super::auth::{SESSION_COOKIE, session_cookie};
use crate::error::AppError;
use crate::services::accounts::{self, CurrentUser};
use crate::services::orders::checkout::{self, Input, Item};
use crate::services::{content, tenants};
use crate::state::AppState;

/// A signed-in visitor of the storefront.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: CurrentUser,
    pub csrf: String,
}

/// The visitor behind the session cookie, if any.
pub async fn viewer(state: &AppState, req: &Request) -> Option<Viewer> {
    let cookie = req.cookie().get(SESSION_COOKIE)?;
    match accounts::session_user(state, cookie.value_str()).await {
        Ok(found) => found.map(|(user, csrf)| Viewer { user, csrf }),
        Err(e) => {
            tracing::warn!(error = %e, "session lookup failed");
            None
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Next {
    next: Option<String>,
    error: Option<String>,
}

/// Only paths on this site may be redirected to.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or("/")
        .to_owned()
}

#[handler]
pub async fn login_page(Query(q): Query<Next>) -> Response {
    let next = safe_next(q.next.as_deref());
    let html = super::storefront::render_page(
        "login.html",
        minijinja::context! { title => "Sign in", next, error => q.error.is_some() },
    );
    Html(html).into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[handler]
pub async fn login_submit(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let client = super::client::client_ip(req, &state.settings);
    if let Err(refused) = state.limits.sign_in(client, &form.email) {
        return message_page(refused, &format!("/login?next={}", urlencode(&next)));
    }
    match accounts::start_session(state, &form.email, form.password).await {
        Ok(session) => {
            let max_age = (session.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            let cookie = session_cookie(state, Some((&session.cookie, max_age)));
            Redirect::see_other(next)
                .with_header("Set-Cookie", cookie)
                .into_response()
        }
        Err(_) => {
            Redirect::see_other(format!("/login?error=1&next={}", urlencode(&next))).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

#[handler]
pub async fn logout(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(cookie) = req.cookie().get(SESSION_COOKIE)
        && accounts::authenticate_session(state, cookie.value_str(), Some(&form.csrf), true)
            .await
            .is_ok()
    {
        let _ = accounts::end_session(state, cookie.value_str()).await;
    }
    Redirect::see_other("/")
        .with_header("Set-Cookie", session_cookie(state, None))
        .into_response()
}

/// Buys a course: the form must carry the session's CSRF token. Sends the buyer to the
/// gateway's page (or the order page when nothing is left to pay).
#[handler]
pub async fn buy(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, course)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let back = format!("/s/{slug}/courses/{course}");
    let Some(cookie) = req.cookie().get(SESSION_COOKIE) else {
        return Redirect::see_other(format!("/login?next={}", urlencode(&back))).into_response();
    };
    let result = async {
        let user =
            accounts::authenticate_session(state, cookie.value_str(), Some(&form.csrf), true)
                .await?;
        let tenant = tenants::find_selling(state, &slug).await?;
        let proof = state
            .policy
            .authorize::<resource::Checkout>(
                &state.db,
                &Principal::User(user.id),
                tenant.domain(),
                Action::Create,
            )
            .await?;
        let input = Input {
            items: vec![Item {
                course: course.clone(),
                quantity: 1,
            }],
            ..Input::default()
        };
        checkout::start(state, &proof, &tenant, &user, input).await
    }
    .await;
    match result {
        Ok(started) => Redirect::see_other(started.redirect_url).into_response(),
        Err(e) => message_page(e, &back),
    }
}

/// Opens a lesson: a fresh signed link, or the reason there is none.
#[handler]
pub async fn open_lesson(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Path((slug, lesson)): Path<(String, Uuid)>,
) -> Response {
    let back = format!("/s/{slug}");
    let user = viewer(state, req).await.map(|v| v.user.id);
    let result = async {
        let tenant = tenants::find_selling(state, &slug).await?;
        state
            .policy
            .authorize::<resource::Content>(
                &state.db,
                &user.map_or(Principal::Anonymous, Principal::User),
                tenant.domain(),
                Action::Read,
            )
            .await?;
        content::issue(state, &tenant, user, lesson).await
    }
    .await;
    match result {
        Ok(link) => Redirect::see_other(link.url).into_response(),
        Err(AppError::Unauthenticated(_)) => {
            Redirect::see_other(format!("/login?next={}", urlencode(req.uri().path())))
                .into_response()
        }
        Err(e) => message_page(e, &back),
    }
}

fn message_page(err: AppError, back: &str) -> Response {
    let (status, message) = match &err {
        AppError::Conflict(m) | AppError::PaymentRequired(m) | AppError::Forbidden(m) => {
            (StatusCode::CONFLICT, m.clone())
        }
        AppError::NotFound(what) => (StatusCode::NOT_FOUND, format!("No such {what}.")),
        AppError::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many attempts. Try again in {retry_after} seconds."),
        ),
        AppError::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, (*m).to_owned()),
        AppError::Invalid(fields) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => {
            tracing::error!(error = %err, "storefront action failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.".to_owned(),
            )
        }
    };
    let status = if matches!(err, AppError::PaymentRequired(_)) {
        StatusCode::PAYMENT_REQUIRED
    } else {
        status
    };
    let html = super::storefront::render_page(
        "message.html",
        minijinja::context! { title => "Lyceum", message, back },
    );
    let mut response = (status, Html(html)).into_response();
    if let AppError::RateLimited { retry_after } = err {
        response
            .headers_mut()
            .insert(poem::http::header::RETRY_AFTER, retry_after.into());
    }
    response
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
