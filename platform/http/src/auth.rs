//! Who is calling: bearer tokens for the API, session cookies (with CSRF) for the web UI.

use std::sync::Arc;

use lyceum_tenants::rbac::Principal;
use poem::http::{Method, StatusCode};
use poem::{Request, RequestBody};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};

use super::problem::ProblemResponse;
use lyceum_domain::error::AppResult;
use lyceum_domain::ids::UserId;
use lyceum_domain::services::accounts::{self, CurrentUser};
use lyceum_domain::state::AppState;

pub use lyceum_web::cookies::{SESSION_COOKIE, session_cookie};

/// The header that must echo the session's CSRF token on unsafe requests.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// `Authorization: Bearer <token>`, a token from `POST /api/v1/auth/login`.
#[derive(Debug, SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "opaque", checker = "check_bearer")]
pub struct BearerToken(pub CurrentUser);

/// The web UI's session cookie; unsafe methods must also send `X-CSRF-Token`.
#[derive(Debug, SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "lyceum_session",
    key_in = "cookie",
    checker = "check_session"
)]
pub struct SessionCookie(pub CurrentUser);

/// A signed-in caller (operations that need a user): a live bearer token, else a live session
/// cookie.
///
/// Its extractor is written out ([`signed_in`]) rather than derived: the derived one answers
/// with the last scheme's error, so a bearer token that could not be checked because the
/// database was out of reach came back as "no session cookie" (401) — which tells a client to
/// sign in again — instead of 503.
#[derive(Debug)]
pub enum Auth {
    Bearer(BearerToken),
    Session(SessionCookie),
}

impl Auth {
    pub fn user(&self) -> &CurrentUser {
        match self {
            Self::Bearer(BearerToken(u)) | Self::Session(SessionCookie(u)) => u,
        }
    }

    pub fn principal(&self) -> Principal {
        Principal::User(self.user().id)
    }
}

/// A caller who may or may not be signed in (public operations): a token or cookie that does
/// not check out is nobody, but one that could not be checked (the database out of reach) is
/// 503, not nobody — the caller would be shown what a stranger sees.
#[derive(Debug)]
pub enum MaybeAuth {
    Bearer(BearerToken),
    Session(SessionCookie),
    Anonymous,
}

impl MaybeAuth {
    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Self::Bearer(BearerToken(u)) | Self::Session(SessionCookie(u)) => Some(u),
            Self::Anonymous => None,
        }
    }

    pub fn principal(&self) -> Principal {
        self.user()
            .map_or(Principal::Anonymous, |u| Principal::User(u.id))
    }
}

/// How [`Auth`] and [`MaybeAuth`] found the caller.
enum SignedIn {
    Bearer(BearerToken),
    Session(SessionCookie),
    /// Neither checks out; the last scheme's error.
    Neither(poem::Error),
}

/// The bearer token, else the session cookie; a check the database could not answer (503)
/// ends the search with its error.
async fn signed_in(req: &Request, body: &mut RequestBody) -> poem::Result<SignedIn> {
    let unavailable = |e: &poem::Error| e.status() == StatusCode::SERVICE_UNAVAILABLE;
    match BearerToken::from_request(req, body, ExtractParamOptions::default()).await {
        Ok(bearer) => return Ok(SignedIn::Bearer(bearer)),
        Err(e) if unavailable(&e) => return Err(e),
        Err(_) => {}
    }
    match SessionCookie::from_request(req, body, ExtractParamOptions::default()).await {
        Ok(session) => Ok(SignedIn::Session(session)),
        Err(e) if unavailable(&e) => Err(e),
        Err(e) => Ok(SignedIn::Neither(e)),
    }
}

fn register_both(registry: &mut Registry) {
    BearerToken::register(registry);
    SessionCookie::register(registry);
}

fn both_schemes() -> Vec<&'static str> {
    let mut schemes = BearerToken::security_schemes();
    schemes.extend(SessionCookie::security_schemes());
    schemes
}

impl<'a> ApiExtractor<'a> for Auth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_both(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        both_schemes()
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        match signed_in(req, body).await? {
            SignedIn::Bearer(bearer) => Ok(Self::Bearer(bearer)),
            SignedIn::Session(session) => Ok(Self::Session(session)),
            SignedIn::Neither(e) => Err(e),
        }
    }
}

impl<'a> ApiExtractor<'a> for MaybeAuth {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_both(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        both_schemes()
    }

    fn has_security_fallback() -> bool {
        true
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        _: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        match signed_in(req, body).await? {
            SignedIn::Bearer(bearer) => Ok(Self::Bearer(bearer)),
            SignedIn::Session(session) => Ok(Self::Session(session)),
            SignedIn::Neither(_) => Ok(Self::Anonymous),
        }
    }
}

/// The id of the signed-in caller, if any, resolved as [`MaybeAuth`] resolves callers for
/// OpenAPI operations: a live bearer token, else a live session cookie, else nobody. For the
/// plain poem handlers that serve API paths.
pub async fn caller_id(state: &AppState, req: &Request) -> AppResult<Option<UserId>> {
    let bearer = req
        .header(poem::http::header::AUTHORIZATION)
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let Some(token) = bearer
        && let Some(user) = accounts::authenticate_token(state, token).await?
    {
        return Ok(Some(user.id));
    }
    let Some(cookie) = req.cookie().get(SESSION_COOKIE) else {
        return Ok(None);
    };
    // Like the fallback of `MaybeAuth`: a session that does not check out is nobody.
    // Boxed: the session lookup queries the database, and its future would otherwise sit in
    // every bearer request's future too.
    let user = Box::pin(session_user(state, req, cookie.value_str())).await;
    Ok(user.ok().map(|u| u.id))
}

/// The user of a session cookie; unsafe methods must also echo its CSRF token.
async fn session_user(state: &AppState, req: &Request, cookie: &str) -> AppResult<CurrentUser> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    accounts::authenticate_session(
        state,
        cookie,
        req.header(CSRF_HEADER),
        unsafe_method,
        accounts::SessionScope::Platform,
    )
    .await
}

fn state(req: &Request) -> poem::Result<&Arc<AppState>> {
    req.data::<Arc<AppState>>().ok_or_else(|| {
        poem::Error::from_string(
            "application state missing",
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
        )
    })
}

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<CurrentUser> {
    let state = state(req)?;
    match accounts::authenticate_token(state, &bearer.token).await {
        Ok(Some(user)) => Ok(Arc::unwrap_or_clone(user)),
        Ok(None) => Err(
            ProblemResponse::from(lyceum_domain::error::AppError::Unauthenticated(
                "the token is unknown, expired or revoked",
            ))
            .into(),
        ),
        Err(e) => Err(ProblemResponse::from(e).into()),
    }
}

async fn check_session(req: &Request, cookie: ApiKey) -> poem::Result<CurrentUser> {
    let state = state(req)?;
    session_user(state, req, &cookie.key)
        .await
        .map_err(|e| ProblemResponse::from(e).into())
}
