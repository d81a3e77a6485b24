//! Registering, signing in and out.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::action;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::types::{Created, NoContent};
use crate::auth::{Auth, BearerToken, SESSION_COOKIE, SessionCookie, session_cookie};
use crate::problem::ApiResult;
use lyceum_domain::domain::{Email, Password};
use lyceum_domain::services::accounts::{self, PersonName, Registration};
use lyceum_domain::state::AppState;
use lyceum_web::client::client_ip;

/// Opening an account.
#[derive(Debug, Object)]
pub struct RegisterRequest {
    pub email: String,
    /// 8 to 256 characters.
    #[oai(write_only)]
    pub password: String,
    pub name: String,
}

/// A user, as they see themselves.
#[derive(Debug, Clone, Object)]
#[oai(rename = "User")]
pub struct UserBody {
    pub id: Uuid,
    pub email: String,
    pub name: String,
}

/// The new account and a token to use it with.
#[derive(Debug, Object)]
pub struct RegisterResponse {
    pub user: UserBody,
    /// A bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signing in.
#[derive(Debug, Object)]
pub struct LoginRequest {
    pub email: String,
    #[oai(write_only)]
    pub password: String,
}

/// A bearer token.
#[derive(Debug, Object)]
pub struct TokenResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A web session: the cookie is set; the page must send `csrf_token` as `X-CSRF-Token` on
/// every unsafe request.
#[derive(Debug, Object)]
pub struct SessionResponse {
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, ApiResponse)]
enum LoginResponse {
    #[oai(status = 200)]
    Ok(Json<TokenResponse>),
}

#[derive(Debug, ApiResponse)]
enum SessionCreated {
    /// Signed in; the session cookie is set.
    #[oai(status = 201)]
    Created(Json<SessionResponse>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, ApiResponse)]
enum SessionEnded {
    /// Signed out; the session cookie is cleared.
    #[oai(status = 204)]
    NoContent(#[oai(header = "Set-Cookie")] String),
}

/// Registering and signing in.
#[derive(Debug)]
pub struct AuthApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Open an account; every account can buy and learn, and apply for a storefront.
    #[oai(path = "/register", method = "post", operation_id = "register_user")]
    async fn register_user(
        &self,
        Data(state): Data<&Arc<AppState>>,
        req: &poem::Request,
        Json(body): Json<RegisterRequest>,
    ) -> ApiResult<Created<RegisterResponse>> {
        state.limits.register(client_ip(req, &state.settings))?;
        let input = Registration {
            email: Email::parse("email", &body.email)?,
            password: Password::parse("password", body.password)?,
            name: PersonName::parse("name", &body.name)?,
        };
        let (user, token) = accounts::register(state, input).await?;
        Ok(Created::Created(Json(RegisterResponse {
            user: UserBody {
                id: user.id.into(),
                email: user.email,
                name: user.name,
            },
            token: token.token,
            expires_at: token.expires_at,
        })))
    }

    /// Exchange an e-mail address and password for a bearer token.
    #[oai(path = "/login", method = "post", operation_id = "create_token")]
    async fn create_token(
        &self,
        Data(state): Data<&Arc<AppState>>,
        req: &poem::Request,
        Json(body): Json<LoginRequest>,
    ) -> ApiResult<LoginResponse> {
        state
            .limits
            .sign_in(client_ip(req, &state.settings), &body.email)?;
        let token = accounts::login(state, &body.email, body.password).await?;
        Ok(LoginResponse::Ok(Json(TokenResponse {
            token: token.token,
            expires_at: token.expires_at,
        })))
    }

    /// Revoke the token (or end the session) this request is made with.
    #[oai(path = "/logout", method = "post", operation_id = "revoke_token")]
    async fn revoke_token(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        req: &poem::Request,
    ) -> ApiResult<NoContent> {
        super::own_account::<action::Update>(state, &auth.principal()).await?;
        match &auth {
            Auth::Bearer(BearerToken(_)) => {
                if let Some(token) = bearer_of(req) {
                    accounts::revoke_token(state, token).await?;
                }
            }
            Auth::Session(SessionCookie(_)) => {
                if let Some(cookie) = req.cookie().get(SESSION_COOKIE) {
                    accounts::end_session(state, cookie.value_str()).await?;
                }
            }
        }
        Ok(NoContent::NoContent)
    }

    /// Sign in for the web UI: sets an HttpOnly, SameSite=Lax session cookie.
    #[oai(path = "/session", method = "post", operation_id = "create_session")]
    async fn create_session(
        &self,
        Data(state): Data<&Arc<AppState>>,
        req: &poem::Request,
        Json(body): Json<LoginRequest>,
    ) -> ApiResult<SessionCreated> {
        state
            .limits
            .sign_in(client_ip(req, &state.settings), &body.email)?;
        let session = accounts::start_session(state, &body.email, body.password).await?;
        let max_age = (session.expires_at - Utc::now()).num_seconds().max(0);
        let cookie = session_cookie(state, Some((&session.cookie, max_age)));
        Ok(SessionCreated::Created(
            Json(SessionResponse {
                csrf_token: session.csrf_token,
                expires_at: session.expires_at,
            }),
            cookie,
        ))
    }

    /// Sign out of the web UI.
    #[oai(path = "/session", method = "delete", operation_id = "delete_session")]
    async fn delete_session(
        &self,
        Data(state): Data<&Arc<AppState>>,
        auth: Auth,
        req: &poem::Request,
    ) -> ApiResult<SessionEnded> {
        super::own_account::<action::Update>(state, &auth.principal()).await?;
        if let Some(cookie) = req.cookie().get(SESSION_COOKIE) {
            accounts::end_session(state, cookie.value_str()).await?;
        }
        Ok(SessionEnded::NoContent(session_cookie(state, None)))
    }
}

fn bearer_of(req: &poem::Request) -> Option<&str> {
    req.header(poem::http::header::AUTHORIZATION)?
        .strip_prefix("Bearer ")
        .map(str::trim)
}
