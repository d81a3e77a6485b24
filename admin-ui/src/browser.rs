//! Browsers get pages, API clients get problem documents.
//!
//! [`pages`] wraps every route of a site. A page's error ([`Problem`]) is drawn inside the
//! site's layout — the storefront's name and colour, who is signed in. Any other error answer
//! (the router's 404, a problem+json from a handler shared with the API) becomes the same kind
//! of page when the request asks for HTML and is not for the API, webhooks, content or
//! operations, which keep their machine-readable answers whoever asks. A page address with a
//! trailing slash that names nothing redirects to the address without it.

use std::sync::Arc;

use lyceum_domain::state::AppState;
use lyceum_web::site::StorefrontHost;
use poem::http::{Method, StatusCode, header};
use poem::web::{Html, Redirect};
use poem::{Endpoint, IntoResponse, Request, Response, Result};

use crate::context::Shop;
use crate::frame::{Frame, Section};
use crate::render::{Problem, render_page};

/// Paths whose answers are for programs, never pages.
const MACHINE_PREFIXES: &[&str] = &[
    "/api/",
    "/webhooks/",
    "/content/",
    "/metrics",
    "/healthz",
    "/readyz",
    "/assets/",
];

/// The middleware: see the module's documentation.
pub async fn pages<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    draw(next, req, true).await
}

/// [`pages`] for hosts that name no site: no session is looked up there, whatever cookie
/// comes along.
pub async fn pages_for_strangers<E: Endpoint>(next: E, req: Request) -> Result<Response> {
    draw(next, req, false).await
}

async fn draw<E: Endpoint>(next: E, req: Request, sessions: bool) -> Result<Response> {
    let path = req.uri().path().to_owned();
    let machine = MACHINE_PREFIXES
        .iter()
        .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'));
    let wants_html = !machine
        && req
            .header(header::ACCEPT)
            .is_some_and(|a| a.contains("text/html"));
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let state = req.data::<Arc<AppState>>().cloned();
    let host = req.data::<StorefrontHost>().cloned();
    let cookie = req
        .cookie()
        .get(lyceum_web::cookies::SESSION_COOKIE)
        .filter(|_| sessions)
        .map(|c| c.value_str().to_owned());
    let here = req
        .uri()
        .path_and_query()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());

    let response = match next.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = response.status();
    if get
        && status == StatusCode::NOT_FOUND
        && !machine
        && path.len() > 1
        && path.ends_with('/')
        && let Some(target) = without_trailing_slash(&here)
    {
        return Ok(Redirect::permanent(target).into_response());
    }
    let problem = response.extensions().get::<Problem>().cloned();
    let is_error = status.is_client_error() || status.is_server_error();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let problem = match problem {
        Some(problem) => problem,
        None if is_error && wants_html && !is_html => generic(status),
        None => return Ok(response),
    };
    let Some(state) = state else {
        return Ok(response);
    };
    // A 503 is the database out of reach, and the frame (the viewer, the storefront) would be
    // read from it too: drawn in the plain frame at once instead of after waiting again.
    let frame = if status == StatusCode::SERVICE_UNAVAILABLE {
        Frame::anonymous()
    } else {
        let shop = site_of(&state, host, &path).await;
        Frame::load_parts(
            &state,
            cookie.as_deref(),
            &here,
            shop.as_ref(),
            Section::Other,
        )
        .await
    };
    let html = render_page(
        "message.html",
        minijinja::context! {
            frame => frame.value(),
            title => &problem.title,
            message => &problem.message,
            bad => is_error,
            back => &problem.back,
            action => problem.action.as_ref().map(|(label, href)| minijinja::context! { label, href }),
        },
    );
    let mut page = (status, Html(html)).into_response();
    // Everything the answer said but its body: `Allow`, `Retry-After`, cookies, caching.
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            page.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(page)
}

/// `/a/b/?q` → `/a/b?q`, when the result is still a path of this site (`//host` and `/\host`
/// would leave it).
fn without_trailing_slash(here: &str) -> Option<String> {
    let (path, query) = match here.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (here, None),
    };
    let trimmed = path.trim_end_matches('/');
    let local = trimmed.starts_with('/')
        && !trimmed[1..].starts_with(['/', '\\'])
        && !trimmed.contains(|c: char| c.is_control() || c == '\\');
    local.then(|| match query {
        Some(query) => format!("{trimmed}?{query}"),
        None => trimmed.to_owned(),
    })
}

/// The words for an error answer that carries none meant for people.
fn generic(status: StatusCode) -> Problem {
    let (title, message) = match status {
        StatusCode::NOT_FOUND => ("Not found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "Not here",
            "This address does not take that kind of request.",
        ),
        StatusCode::UNAUTHORIZED => ("Sign in", "Sign in to see this page."),
        StatusCode::FORBIDDEN => ("Not allowed", "Your account may not open this page."),
        StatusCode::TOO_MANY_REQUESTS => ("Slow down", "Too many requests. Try again shortly."),
        s if s.is_server_error() => (
            "Something went wrong",
            "Something went wrong on our side. Please try again in a moment.",
        ),
        _ => ("That did not work", "The request could not be handled."),
    };
    Problem::new(title, message).back("/")
}

/// The storefront a page belongs to: the host's, or the one named by a `/s/{tenant}` path.
async fn site_of(state: &AppState, host: Option<StorefrontHost>, path: &str) -> Option<Shop> {
    let slug = path
        .strip_prefix("/s/")
        .and_then(|rest| rest.split('/').next());
    crate::context::shop_for(state, host.as_ref(), slug)
        .await
        .ok()
}

#[cfg(test)]
mod tests {
    use super::without_trailing_slash;

    #[test]
    fn a_trailing_slash_is_dropped_within_the_site_only() {
        assert_eq!(
            without_trailing_slash("/s/demo/").as_deref(),
            Some("/s/demo")
        );
        assert_eq!(
            without_trailing_slash("/s/demo//?q=a").as_deref(),
            Some("/s/demo?q=a")
        );
        for away in [
            "//evil.example/",
            "/\\evil.example/",
            "///evil/",
            "/",
            "/a\\b/",
        ] {
            assert_eq!(without_trailing_slash(away), None, "{away}");
        }
    }
}
