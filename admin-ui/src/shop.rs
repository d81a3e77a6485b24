//! Buying in the browser: buy a course with a CSRF-protected form, open its lessons through
//! signed links, sign out. The pages call the same services as the API, and every session is
//! looked up in the scope of the site it is used on.

use std::sync::Arc;

use lyceum_tenants::rbac::{Principal, action, resource};
use poem::http::StatusCode;
use poem::web::{Data, Form, Html, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use crate::context::{scope_of, shop_of};
use crate::render;
use lyceum_domain::error::AppError;
use lyceum_domain::ids::LessonId;
use lyceum_domain::services::accounts::{self, CurrentUser, SessionScope};
use lyceum_domain::services::commerce::checkout::{self, Input, Item};
use lyceum_domain::services::media::content;
use lyceum_domain::state::AppState;
use lyceum_web::cookies::{SESSION_COOKIE, session_cookie};

/// A signed-in visitor of a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: CurrentUser,
    pub csrf: String,
}

/// The visitor behind the session cookie, if its session is valid in `scope`.
pub async fn viewer(state: &AppState, req: &Request, scope: SessionScope<'_>) -> Option<Viewer> {
    let cookie = req.cookie().get(SESSION_COOKIE)?;
    match accounts::session_user(state, cookie.value_str(), scope).await {
        Ok(found) => found.map(|(user, csrf)| Viewer { user, csrf }),
        Err(e) => {
            tracing::warn!(error = %lyceum_domain::error::report(&e), "session lookup failed");
            None
        }
    }
}

/// The user of a form posted with the session cookie of `scope` and the session's CSRF token.
pub async fn form_user(
    state: &AppState,
    req: &Request,
    csrf: &str,
    scope: SessionScope<'_>,
) -> Result<CurrentUser, AppError> {
    let cookie = req
        .cookie()
        .get(SESSION_COOKIE)
        .ok_or(AppError::Unauthenticated("sign in first"))?;
    accounts::authenticate_session(state, cookie.value_str(), Some(csrf), true, scope).await
}

/// A form that carries the session's CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    pub csrf: String,
}

/// Signs out of the site the form was posted on.
#[handler]
pub async fn logout(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let scope = scope_of(req);
    // Only a form of this session signs it out: another site cannot sign visitors out.
    if let Some(cookie) = req.cookie().get(SESSION_COOKIE)
        && accounts::authenticate_session(state, cookie.value_str(), Some(&form.csrf), true, scope)
            .await
            .is_ok()
    {
        let _ = accounts::end_session(state, cookie.value_str()).await;
        return Redirect::see_other("/")
            .with_header("Set-Cookie", session_cookie(state, None))
            .into_response();
    }
    Redirect::see_other("/").into_response()
}

/// Buys a course: the form must carry the session's CSRF token. Sends the buyer to the
/// gateway's page (or the order page when nothing is left to pay).
#[handler]
pub async fn buy(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let course = req.raw_path_param("course").unwrap_or_default().to_owned();
    let shop = match shop_of(state, req).await {
        Ok(shop) => shop,
        Err(e) => return render::error_page(e),
    };
    let back = format!("{}/courses/{course}", shop.base);
    if req.cookie().get(SESSION_COOKIE).is_none() {
        return Redirect::see_other(format!("/login?next={}", urlencode(&back))).into_response();
    }
    let result = async {
        let user = form_user(state, req, &form.csrf, shop.scope()).await?;
        let proof = state
            .policy
            .authorize::<resource::Checkout, action::Create>(
                &state.db,
                &Principal::User(user.id),
                shop.tenant.domain(),
            )
            .await?;
        let input = Input {
            items: vec![Item {
                course: course.clone(),
                quantity: 1,
            }],
            ..Input::default()
        };
        checkout::start(state, &proof, &shop.tenant, &user, input).await
    }
    .await;
    match result {
        Ok(started) => Redirect::see_other(started.redirect_url).into_response(),
        Err(e) => message_page(e, &back),
    }
}

/// Opens a lesson: a fresh signed link, or the reason there is none.
#[handler]
pub async fn open_lesson(req: &Request, Data(state): Data<&Arc<AppState>>) -> Response {
    let shop = match shop_of(state, req).await {
        Ok(shop) => shop,
        Err(e) => return render::error_page(e),
    };
    let Some(lesson) = req
        .raw_path_param("lesson")
        .and_then(|l| l.parse::<LessonId>().ok())
    else {
        return render::error_page(AppError::NotFound("lesson"));
    };
    let back = if shop.base.is_empty() {
        "/".to_owned()
    } else {
        shop.base.clone()
    };
    let user = viewer(state, req, shop.scope()).await.map(|v| v.user.id);
    let result = async {
        let proof = state
            .policy
            .authorize::<resource::Content, action::Read>(
                &state.db,
                &user.map_or(Principal::Anonymous, Principal::User),
                shop.tenant.domain(),
            )
            .await?;
        content::issue(state, &proof, &shop.tenant, lesson).await
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

/// A page that explains why an action did not happen.
pub fn message_page(err: AppError, back: &str) -> Response {
    let (status, message) = match &err {
        AppError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
        AppError::PaymentRequired(m) => (StatusCode::PAYMENT_REQUIRED, m.clone()),
        AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
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
            tracing::error!(error = %lyceum_domain::error::report(&err), "storefront action failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.".to_owned(),
            )
        }
    };
    let html = render::render_page(
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

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
