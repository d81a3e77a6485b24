//! Signing in and registering in the browser. Passwords are typed only on the platform's own
//! origin; the forms carry a token bound to a cookie of that origin, so another site cannot
//! sign a visitor into an account of its choosing; and `next` only ever leads to a path on the
//! same site.
//!
//! A storefront on its own host sends its visitors here (`?site={host}`); once signed in, and
//! after they confirm, they go back with a one-time code that becomes a session bound to that
//! host alone ([`lyceum_domain::services::accounts::handoffs`]).

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::{Data, Form, Html, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use url::{Position, Url};

use super::shop::{self, urlencode};
use crate::render::render_page;
use lyceum_domain::domain::{Email, Password};
use lyceum_domain::error::AppError;
use lyceum_domain::ids::UserId;
use lyceum_domain::services::accounts::handoffs;
use lyceum_domain::services::accounts::{
    self, IssuedSession, PersonName, Registration, SessionScope,
};
use lyceum_domain::services::signing;
use lyceum_domain::state::AppState;
use lyceum_web::cookies::session_cookie;
use lyceum_web::site::{self, Site, StorefrontHost};

/// The cookie that binds the sign-in and registration forms to the browser that loaded them.
pub const FORM_COOKIE: &str = "lyceum_form";
/// The cookie, on a storefront's host, holding the nonce a handoff code is bound to.
pub const HANDOFF_COOKIE: &str = "lyceum_handoff";
const FORM_PURPOSE: &str = "signin-form";

/// A path on this site to go to after signing in: `/` unless `next` is a same-origin path.
/// Parsed as a browser would resolve it, so `//evil.example`, `/\evil.example` and
/// `/%09/evil.example` (a tab a browser drops) all stay on the site.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(next) = next else {
        return "/".to_owned();
    };
    if !next.starts_with('/')
        || next
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace())
    {
        return "/".to_owned();
    }
    let Ok(base) = Url::parse("http://site.invalid/") else {
        return "/".to_owned();
    };
    match base.join(next) {
        Ok(url)
            if url.origin() == base.origin() && !url[Position::BeforePath..].starts_with("//") =>
        {
            url[Position::BeforePath..].to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// The origin a storefront host is reached at: the platform's scheme and port, that host.
pub fn origin_of(state: &AppState, host: &str) -> String {
    let public = &state.settings.public_url;
    match public.port() {
        Some(port) => format!("{}://{host}:{port}", public.scheme()),
        None => format!("{}://{host}", public.scheme()),
    }
}

/// Whether a value looks like a nonce this platform made (256 random bits, base64url).
fn is_nonce(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The form token of this browser, and the cookie to set when it had none.
fn form_token(state: &AppState, req: &Request) -> (String, Option<String>) {
    let existing = req
        .cookie()
        .get(FORM_COOKIE)
        .map(|c| c.value_str().to_owned())
        .filter(|v| is_nonce(v));
    let (value, set) = match existing {
        Some(value) => (value, None),
        None => {
            let value = accounts::random_secret();
            let secure = lyceum_web::cookies::secure_attribute(state);
            let cookie = format!(
                "{FORM_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=7200{secure}"
            );
            (value, Some(cookie))
        }
    };
    (signing::tag(&state.content_key, FORM_PURPOSE, &value), set)
}

/// Whether a posted form carries the token of this browser's form cookie.
fn form_token_ok(state: &AppState, req: &Request, token: &str) -> bool {
    req.cookie().get(FORM_COOKIE).is_some_and(|cookie| {
        signing::verify(&state.content_key, FORM_PURPOSE, cookie.value_str(), token)
    })
}

/// The storefront a visitor is signing in for, if `site` names a live one.
async fn site_named(state: &AppState, site: Option<&str>) -> Option<StorefrontHost> {
    let site = site.filter(|s| !s.is_empty())?;
    match site::resolve(state, site).await {
        Ok(Site::Storefront(found)) => Some(found),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %lyceum_domain::error::report(&e), "resolving a sign-in site failed");
            None
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    next: Option<String>,
    site: Option<String>,
    /// The nonce the storefront's host set in this browser (see [`login_elsewhere`]).
    state: Option<String>,
    error: Option<String>,
}

/// Where to send a visitor who arrived for `site` without the storefront host's nonce: back to
/// that host's sign-in, which sets one and returns here with it.
fn mint_state_first(state: &AppState, site: &StorefrontHost, next: &str, page: &str) -> Response {
    Redirect::see_other(format!(
        "{}/{page}?next={}",
        origin_of(state, &site.host),
        urlencode(next)
    ))
    .into_response()
}

fn with_cookie(mut response: Response, cookie: Option<String>) -> Response {
    if let Some(cookie) = cookie
        && let Ok(value) = cookie.parse()
    {
        response.headers_mut().append("set-cookie", value);
    }
    response
}

/// Where a visitor opening the sign-in or registration page is going.
struct Entry<'a> {
    next: String,
    site: Option<StorefrontHost>,
    browser_state: Option<&'a str>,
}

/// Reads the page's query; a visitor for a storefront who comes without that host's nonce is
/// sent there first (`Err`), so every handoff starts in the browser it ends in.
async fn entry<'a>(state: &AppState, q: &'a PageQuery, page: &str) -> Result<Entry<'a>, Response> {
    let next = safe_next(q.next.as_deref());
    let site = site_named(state, q.site.as_deref()).await;
    let browser_state = q.state.as_deref().filter(|s| is_nonce(s));
    match &site {
        Some(site) if browser_state.is_none() => Err(mint_state_first(state, site, &next, page)),
        _ => Ok(Entry {
            next,
            site,
            browser_state,
        }),
    }
}

/// The sign-in or registration form, bound to this browser by its form cookie.
fn entry_form(
    state: &AppState,
    req: &Request,
    (template, title): (&str, &str),
    entry: &Entry<'_>,
    error: Option<&str>,
) -> Response {
    let (token, cookie) = form_token(state, req);
    let html = render_page(
        template,
        minijinja::context! {
            title,
            next => &entry.next,
            browser_state => entry.browser_state,
            site => entry.site.as_ref().map(|s| s.host.clone()),
            storefront => entry.site.as_ref().map(|s| s.tenant.name.clone()),
            csrf => token,
            error,
        },
    );
    with_cookie(Html(html).into_response(), cookie)
}

/// The sign-in form, or — for a visitor already signed in who comes from a storefront's own
/// host — the question whether to continue there.
#[handler]
pub async fn login_page(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(q): Query<PageQuery>,
) -> Response {
    let entry = match entry(state, &q, "login").await {
        Ok(entry) => entry,
        Err(redirect) => return redirect,
    };
    if let Some(site) = &entry.site
        && let Some(viewer) = shop::viewer(state, req, SessionScope::Platform).await
    {
        let html = render_page(
            "handoff.html",
            minijinja::context! {
                title => "Continue",
                user_name => viewer.user.name,
                storefront => &site.tenant.name,
                site => &site.host,
                browser_state => entry.browser_state,
                next => &entry.next,
                csrf => viewer.csrf,
            },
        );
        return Html(html).into_response();
    }
    entry_form(
        state,
        req,
        ("login.html", "Sign in"),
        &entry,
        q.error.as_deref(),
    )
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
    site: Option<String>,
    state: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// Signs in; goes on to `next`, or back to the storefront the visitor came from.
#[handler]
pub async fn login_submit(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let to = SiteTarget::of(form.site.as_deref(), form.state.as_deref());
    // The limit first: a refused attempt does no work at all.
    let client = lyceum_web::client::client_ip(req, &state.settings);
    if let Err(refused) = state.limits.sign_in(client, &form.email) {
        return crate::parts::form_error(refused, &to.page("login", &next, None));
    }
    if !form_token_ok(state, req, &form.csrf) {
        return stale_form();
    }
    match accounts::start_session(state, &form.email, form.password).await {
        Ok(session) => signed_in(state, session, to, &next).await,
        Err(_) => Redirect::see_other(to.page("login", &next, Some("credentials"))).into_response(),
    }
}

/// The answer to a form posted without this browser's token: most likely a form left open
/// too long, or one another site posted.
fn stale_form() -> Response {
    let html = render_page(
        "message.html",
        minijinja::context! {
            title => "Sign in",
            message => "This form has expired. Open the page again and retry.",
            back => "/login",
        },
    );
    (StatusCode::FORBIDDEN, Html(html)).into_response()
}

/// A storefront host to go on to after signing in, and the nonce of the browser on its way.
#[derive(Debug, Clone, Copy)]
struct SiteTarget<'a> {
    site: Option<&'a str>,
    browser_state: Option<&'a str>,
}

impl<'a> SiteTarget<'a> {
    fn of(site: Option<&'a str>, browser_state: Option<&'a str>) -> Self {
        Self {
            site: site.filter(|s| !s.is_empty()),
            browser_state: browser_state.filter(|s| is_nonce(s)),
        }
    }

    /// The platform's `page` (`login`, `register`) again, keeping where the visitor was going.
    fn page(self, page: &str, next: &str, error: Option<&str>) -> String {
        let mut url = format!("/{page}?next={}", urlencode(next));
        if let Some(error) = error {
            url.push_str(&format!("&error={error}"));
        }
        if let Some(site) = self.site {
            url.push_str(&format!("&site={}", urlencode(site)));
        }
        if let Some(nonce) = self.browser_state {
            url.push_str(&format!("&state={nonce}"));
        }
        url
    }
}

/// Sets the platform session, then goes on to the storefront's host (through a handoff) or
/// to `next`.
async fn signed_in(
    state: &AppState,
    session: IssuedSession,
    to: SiteTarget<'_>,
    next: &str,
) -> Response {
    let max_age = (session.expires_at - chrono::Utc::now())
        .num_seconds()
        .max(0);
    let cookie = session_cookie(state, Some((&session.cookie, max_age)));
    let target = match (site_named(state, to.site).await, to.browser_state) {
        (Some(site), Some(nonce)) => {
            match accounts::session_user(state, &session.cookie, SessionScope::Platform).await {
                Ok(Some((user, _))) => handoff_url(state, user.id, &site, nonce, next).await,
                _ => Err(AppError::Unauthenticated(
                    "the session has expired; sign in again",
                )),
            }
        }
        // Signed in on the platform; the storefront's own sign-in link starts a fresh handoff.
        (Some(site), None) => Ok(format!(
            "{}/login?next={}",
            origin_of(state, &site.host),
            urlencode(next)
        )),
        (None, _) => Ok(next.to_owned()),
    };
    match target {
        Ok(target) => Redirect::see_other(target)
            .with_header("Set-Cookie", cookie)
            .into_response(),
        Err(e) => crate::parts::form_error(e, "/login"),
    }
}

async fn handoff_url(
    state: &AppState,
    user_id: UserId,
    site: &StorefrontHost,
    browser_state: &str,
    next: &str,
) -> Result<String, AppError> {
    let code = handoffs::issue(state, user_id, &site.host, browser_state, next).await?;
    Ok(format!(
        "{}/auth/handoff?code={}",
        origin_of(state, &site.host),
        urlencode(&code)
    ))
}

/// The registration form.
#[handler]
pub async fn register_page(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(q): Query<PageQuery>,
) -> Response {
    match entry(state, &q, "register").await {
        Ok(entry) => entry_form(
            state,
            req,
            ("register.html", "Create an account"),
            &entry,
            q.error.as_deref(),
        ),
        Err(redirect) => redirect,
    }
}

#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    name: String,
    email: String,
    password: String,
    next: Option<String>,
    site: Option<String>,
    state: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// Opens an account and signs it in.
#[handler]
pub async fn register_submit(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<RegisterForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let to = SiteTarget::of(form.site.as_deref(), form.state.as_deref());
    let client = lyceum_web::client::client_ip(req, &state.settings);
    if let Err(refused) = state.limits.register(client) {
        return crate::parts::form_error(refused, &to.page("register", &next, None));
    }
    if !form_token_ok(state, req, &form.csrf) {
        return stale_form();
    }
    let input = (|| {
        Ok::<_, AppError>(Registration {
            email: Email::parse("email", &form.email)?,
            password: Password::parse("password", form.password.clone())?,
            name: PersonName::parse("name", &form.name)?,
        })
    })();
    let result = match input {
        Ok(input) => accounts::register_with_session(state, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((_, session)) => signed_in(state, session, to, &next).await,
        Err(e) => crate::parts::form_error(e, &to.page("register", &next, None)),
    }
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    csrf: String,
    site: String,
    state: String,
    next: Option<String>,
}

/// A visitor signed in on the platform confirms going on to a storefront's host.
#[handler]
pub async fn handoff_consent(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Form(form): Form<ConsentForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let result = async {
        let user = shop::form_user(state, req, &form.csrf, SessionScope::Platform).await?;
        let site = site_named(state, Some(&form.site))
            .await
            .ok_or(AppError::NotFound("storefront"))?;
        if !is_nonce(&form.state) {
            return Err(AppError::invalid(
                "state",
                "start from the storefront's sign-in",
            ));
        }
        handoff_url(state, user.id, &site, &form.state, &next).await
    }
    .await;
    match result {
        Ok(url) => Redirect::see_other(url).into_response(),
        Err(e) => crate::parts::form_error(e, "/"),
    }
}

#[derive(Debug, Deserialize)]
pub struct HandoffQuery {
    code: String,
}

/// On a storefront's host: turns a handoff code into a session bound to this host.
#[handler]
pub async fn handoff_redeem(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(q): Query<HandoffQuery>,
) -> Response {
    let Some(site) = req.data::<StorefrontHost>() else {
        return super::render::error_page(AppError::NotFound("page"));
    };
    let nonce = req
        .cookie()
        .get(HANDOFF_COOKIE)
        .map(|c| c.value_str().to_owned())
        .filter(|v| is_nonce(v));
    let redeemed = match nonce {
        Some(nonce) => handoffs::redeem(state, &q.code, &site.host, &nonce).await,
        None => Ok(None),
    };
    match redeemed {
        Ok(Some((session, next))) => {
            let max_age = (session.expires_at - chrono::Utc::now())
                .num_seconds()
                .max(0);
            let mut response = Redirect::see_other(safe_next(Some(&next)))
                .with_header(
                    "Set-Cookie",
                    session_cookie(state, Some((&session.cookie, max_age))),
                )
                .into_response();
            let spent = format!(
                "{HANDOFF_COOKIE}=; Path=/auth/handoff; HttpOnly; SameSite=Lax; Max-Age=0{}",
                lyceum_web::cookies::secure_attribute(state)
            );
            if let Ok(value) = spent.parse() {
                response.headers_mut().append("set-cookie", value);
            }
            response
        }
        Ok(None) => crate::parts::form_error(
            AppError::Forbidden("this sign-in link is expired or was already used".into()),
            "/",
        ),
        Err(e) => crate::parts::form_error(e, "/"),
    }
}

/// On a storefront's host: passwords are not typed here; sign in on the platform instead.
#[handler]
pub async fn login_elsewhere(
    req: &Request,
    Data(state): Data<&Arc<AppState>>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(site) = req.data::<StorefrontHost>() else {
        return super::render::error_page(AppError::NotFound("page"));
    };
    let page = if req.uri().path() == "/register" {
        "register"
    } else {
        "login"
    };
    let next = safe_next(q.next.as_deref());
    let base = state.settings.public_url.as_str().trim_end_matches('/');
    // The nonce a handoff code will be bound to, kept in this browser on this host.
    let nonce = accounts::random_secret();
    let cookie = format!(
        "{HANDOFF_COOKIE}={nonce}; Path=/auth/handoff; HttpOnly; SameSite=Lax; Max-Age=600{}",
        lyceum_web::cookies::secure_attribute(state)
    );
    Redirect::see_other(format!(
        "{base}/{page}?site={}&state={nonce}&next={}",
        urlencode(&site.host),
        urlencode(&next)
    ))
    .with_header("Set-Cookie", cookie)
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_the_site() {
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/evil.example".replace("%09", "\t").as_str(),
            "\\\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            " /x",
            "/x\n",
            "///evil.example",
        ] {
            let next = safe_next(Some(evil));
            assert!(
                next.starts_with('/') && !next.starts_with("//") && !next.contains('\\'),
                "{evil:?} became {next:?}"
            );
            assert!(
                !next.contains("evil.example") || next.starts_with("/evil"),
                "{evil:?} became {next:?}"
            );
        }
        assert_eq!(
            safe_next(Some("/s/demo/courses/x?y=1#z")),
            "/s/demo/courses/x?y=1#z"
        );
        assert_eq!(safe_next(Some("/a/../b")), "/b");
        assert_eq!(safe_next(None), "/");
    }
}
