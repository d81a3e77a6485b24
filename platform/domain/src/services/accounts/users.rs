//! Users, passwords, API tokens and web sessions.

use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, Domain, Grant, Role, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::passwords::PasswordHashing;
use crate::domain::{BoundedText, Email, Password};
use crate::entities::{api_tokens, users, web_sessions};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::{ApiTokenId, TenantId, UserId, WebSessionId};
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::services::tenancy::policy::Policy;
use crate::state::AppState;

/// A person's display name.
pub type PersonName = BoundedText<1, 200>;

/// The signed-in user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

impl From<users::Model> for CurrentUser {
    fn from(u: users::Model) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
        }
    }
}

/// A bearer token as handed to its owner, once; only its hash is stored.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A web session: the cookie value and the CSRF token the page must echo.
#[derive(Debug)]
pub struct IssuedSession {
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A validated registration.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: PersonName,
}

/// Creates a user (a student everywhere, as every user is) and a first token.
#[tracing::instrument(skip_all, fields(user.id = tracing::field::Empty))]
pub async fn register(
    state: &AppState,
    input: Registration,
) -> AppResult<(CurrentUser, IssuedToken)> {
    let user = create_user(state, &input).await?;
    tracing::Span::current().record("user.id", tracing::field::display(user.id));
    let token = issue_token(state, user.id).await?;
    Ok((user, token))
}

/// Inserts a user and their student grant in `txn`; the grant reaches the running policies
/// when the caller commits with the returned invalidations. The password is hashed before,
/// outside any transaction ([`PasswordHashing::hash`] may wait its turn).
async fn insert_user(
    txn: &DatabaseTransaction,
    password_hash: String,
    input: &Registration,
) -> AppResult<(CurrentUser, Invalidations)> {
    let id = UserId::new_v7();
    let student = Grant::new(id, Role::Student, Domain::Platform);
    let inserted = users::ActiveModel {
        id: Set(id),
        email: Set(input.email.as_str().to_owned()),
        name: Set(input.name.as_str().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now()),
    }
    .insert(txn)
    .await;
    let user = match inserted {
        Ok(user) => user,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                "an account with this e-mail address already exists",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let granted = Policy::store_grant(txn, &student).await?;
    tracing::info!(user.id = %id, "user registered");
    Ok((user.into(), granted))
}

/// Registers a user: hashes the password, then inserts the user and their grant and commits.
async fn create_user(state: &AppState, input: &Registration) -> AppResult<CurrentUser> {
    let password_hash = hash_of(&state.hashing, &input.password).await?;
    let txn = state.db.begin().await?;
    let (user, granted) = insert_user(&txn, password_hash, input).await?;
    state.commit(txn, granted).await?;
    Ok(user)
}

async fn hash_of(hashing: &PasswordHashing, password: &Password) -> AppResult<String> {
    hashing
        .hash(password.secret().expose_secret().to_owned())
        .await
}

/// Checks a password and issues a token; the same error for an unknown address and a wrong
/// password, after the same amount of work.
#[tracing::instrument(skip_all, fields(user.id = tracing::field::Empty))]
pub async fn login(state: &AppState, email: &str, password: String) -> AppResult<IssuedToken> {
    let user = verify_credentials(&state.db, &state.hashing, email, password).await?;
    tracing::Span::current().record("user.id", tracing::field::display(user.id));
    issue_token(state, user.id).await
}

async fn verify_credentials(
    db: &DatabaseConnection,
    hashing: &PasswordHashing,
    email: &str,
    password: String,
) -> AppResult<users::Model> {
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?;
    let hash = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let matches = hashing.verify(password, hash).await?;
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(AppError::Unauthenticated(
            "wrong e-mail address or password",
        )),
    }
}

async fn issue_token(state: &AppState, user_id: UserId) -> AppResult<IssuedToken> {
    let token = format!("lyc_{}", random_secret());
    let created_at = now();
    let expires_at = created_at + state.settings.token_ttl;
    api_tokens::ActiveModel {
        id: Set(ApiTokenId::new_v7()),
        user_id: Set(user_id),
        token_hash: Set(sha256_hex(&token)),
        created_at: Set(created_at),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
    }
    .insert(&state.db)
    .await?;
    Ok(IssuedToken { token, expires_at })
}

/// The user a bearer token belongs to, if it is known, unexpired and not revoked. Answers are
/// cached briefly per token hash; revocation through this process drops the entry at once.
pub async fn authenticate_token(
    state: &AppState,
    token: &str,
) -> AppResult<Option<Arc<CurrentUser>>> {
    let digest = token_digest(token);
    let cached = crate::state::cached(&state.caches.tokens, &digest, |digest| async move {
        load_token(&state.db, &digest).await
    })
    .await?;
    Ok(cached.and_then(|(user, expires_at)| (expires_at > Utc::now()).then_some(user)))
}

/// A token's SHA-256: the token cache's key (the database keeps it hex-encoded).
pub type TokenDigest = [u8; 32];

/// What the token cache knows of a token: its user and expiry, or `None` for no live token.
pub type TokenEntry = Option<(Arc<CurrentUser>, DateTime<Utc>)>;

async fn load_token(db: &DatabaseConnection, digest: &TokenDigest) -> AppResult<TokenEntry> {
    let Some(token) = api_tokens::Entity::find()
        .filter(api_tokens::Column::TokenHash.eq(hex::encode(digest)))
        .filter(api_tokens::Column::RevokedAt.is_null())
        .filter(api_tokens::Column::ExpiresAt.gt(now()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = users::Entity::find_by_id(token.user_id).one(db).await? else {
        return Ok(None);
    };
    api_tokens::Entity::update_many()
        .col_expr(
            api_tokens::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(api_tokens::Column::Id.eq(token.id))
        .exec(db)
        .await?;
    Ok(Some((Arc::new(user.into()), token.expires_at)))
}

/// Revokes a bearer token (sign-out).
pub async fn revoke_token(state: &AppState, token: &str) -> AppResult<()> {
    let digest = token_digest(token);
    let txn = state.db.begin().await?;
    api_tokens::Entity::update_many()
        .col_expr(
            api_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(api_tokens::Column::TokenHash.eq(hex::encode(digest)))
        .exec(&txn)
        .await?;
    state.commit(txn, Invalidations::token(digest)).await?;
    Ok(())
}

/// Where a web session is valid: the platform's own origin, or exactly one storefront host
/// (a tenant's subdomain or custom domain), whose traffic the tenant's infrastructure may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionScope<'a> {
    Platform,
    Host(&'a str),
}

impl SessionScope<'_> {
    fn host(self) -> Option<String> {
        match self {
            Self::Platform => None,
            Self::Host(host) => Some(host.to_owned()),
        }
    }
}

/// Signs in for the web UI on the platform's origin: a session cookie plus a CSRF token for
/// unsafe requests. Passwords are only ever taken there.
#[tracing::instrument(skip_all, fields(user.id = tracing::field::Empty))]
pub async fn start_session(
    state: &AppState,
    email: &str,
    password: String,
) -> AppResult<IssuedSession> {
    let user = verify_credentials(&state.db, &state.hashing, email, password).await?;
    tracing::Span::current().record("user.id", tracing::field::display(user.id));
    open_session(state, user.id, SessionScope::Platform).await
}

/// Registers a user and signs them in on the platform's origin (the web form).
#[tracing::instrument(skip_all, fields(user.id = tracing::field::Empty))]
pub async fn register_with_session(
    state: &AppState,
    input: Registration,
) -> AppResult<(CurrentUser, IssuedSession)> {
    let user = create_user(state, &input).await?;
    tracing::Span::current().record("user.id", tracing::field::display(user.id));
    let session = open_session(state, user.id, SessionScope::Platform).await?;
    Ok((user, session))
}

/// A new web session of `user_id`, valid in `scope` only.
pub(crate) async fn open_session(
    state: &AppState,
    user_id: UserId,
    scope: SessionScope<'_>,
) -> AppResult<IssuedSession> {
    let cookie = random_secret();
    let csrf_token = random_secret();
    let created_at = now();
    let expires_at = created_at + chrono::Duration::hours(12);
    web_sessions::ActiveModel {
        id: Set(WebSessionId::new_v7()),
        user_id: Set(user_id),
        session_hash: Set(sha256_hex(&cookie)),
        csrf_token: Set(csrf_token.clone()),
        created_at: Set(created_at),
        expires_at: Set(expires_at),
        host: Set(scope.host()),
    }
    .insert(&state.db)
    .await?;
    Ok(IssuedSession {
        cookie,
        csrf_token,
        expires_at,
    })
}

/// The live session of a cookie in `scope`: a session made on one host is unknown on any other.
async fn live_session(
    state: &AppState,
    cookie: &str,
    scope: SessionScope<'_>,
) -> AppResult<Option<web_sessions::Model>> {
    let mut query = web_sessions::Entity::find()
        .filter(web_sessions::Column::SessionHash.eq(sha256_hex(cookie)))
        .filter(web_sessions::Column::ExpiresAt.gt(now()));
    query = match scope {
        SessionScope::Platform => query.filter(web_sessions::Column::Host.is_null()),
        SessionScope::Host(host) => query.filter(web_sessions::Column::Host.eq(host)),
    };
    Ok(query.one(&state.db).await?)
}

/// The user of a session cookie in `scope`. Unsafe methods must carry the session's CSRF token.
pub async fn authenticate_session(
    state: &AppState,
    cookie: &str,
    csrf_header: Option<&str>,
    unsafe_method: bool,
    scope: SessionScope<'_>,
) -> AppResult<CurrentUser> {
    let found = live_session(state, cookie, scope)
        .await?
        .ok_or(AppError::Unauthenticated(
            "the session has expired; sign in again",
        ))?;
    if unsafe_method {
        let sent = csrf_header.unwrap_or_default().as_bytes();
        if !bool::from(sent.ct_eq(found.csrf_token.as_bytes())) {
            return Err(AppError::Forbidden(
                "missing or wrong X-CSRF-Token header".into(),
            ));
        }
    }
    users::Entity::find_by_id(found.user_id)
        .one(&state.db)
        .await?
        .map(CurrentUser::from)
        .ok_or(AppError::Unauthenticated("the account no longer exists"))
}

/// Ends every session bound to `host`: a domain that changes hands starts with none.
pub(crate) async fn end_sessions_on_host(
    conn: &impl sea_orm::ConnectionTrait,
    host: &str,
) -> AppResult<()> {
    web_sessions::Entity::delete_many()
        .filter(web_sessions::Column::Host.eq(host))
        .exec(conn)
        .await?;
    Ok(())
}

/// Ends a web session.
pub async fn end_session(state: &AppState, cookie: &str) -> AppResult<()> {
    web_sessions::Entity::delete_many()
        .filter(web_sessions::Column::SessionHash.eq(sha256_hex(cookie)))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Finds a user by e-mail address.
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &Email,
) -> AppResult<Option<users::Model>> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await?)
}

/// Makes `email` a platform admin, creating the account when it does not exist yet
/// (`lyceum admin create`, a process of its own). Returns the user and whether it was
/// created; running servers hear of the grant when it commits.
pub async fn ensure_admin(
    db: &DatabaseConnection,
    hashing: &PasswordHashing,
    input: Registration,
) -> AppResult<(CurrentUser, bool)> {
    let password_hash = hash_of(hashing, &input.password).await?;
    let txn = db.begin().await?;
    let (user, created, granted) = match find_by_email(&txn, &input.email).await? {
        Some(existing) => {
            let mut active: users::ActiveModel = existing.into();
            active.password_hash = Set(password_hash);
            let user = CurrentUser::from(active.update(&txn).await?);
            (user, false, Invalidations::none())
        }
        None => {
            let (user, granted) = insert_user(&txn, password_hash, &input).await?;
            (user, true, granted)
        }
    };
    let admin = Grant::new(user.id, Role::PlatformAdmin, Domain::Platform);
    let granted = granted.and(Policy::store_grant(&txn, &admin).await?);
    crate::services::invalidation::commit_elsewhere(txn, granted).await?;
    Ok((user, created))
}

/// A hash of a random password, verified against when the address is unknown so that both
/// failures take as long.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(random_secret().as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// 256 random bits, base64url.
pub fn random_secret() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// SHA-256 as lower-case hex: how tokens and session cookies are stored.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(token_digest(value))
}

/// SHA-256 of a token or cookie; [`sha256_hex`] is its stored form.
fn token_digest(value: &str) -> TokenDigest {
    Sha256::digest(value.as_bytes()).into()
}

/// Every grant a user holds, platform-wide ones first.
pub async fn roles_of(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<Grant>> {
    let Some(user_id) = auth.user_id() else {
        return Ok(Vec::new());
    };
    use crate::entities::casbin_rule;
    use lyceum_tenants::rbac::Rule;
    let mut grants: Vec<Grant> = casbin_rule::Entity::find()
        .filter(casbin_rule::Column::Ptype.eq("g"))
        .filter(casbin_rule::Column::V0.eq(format!("user:{user_id}")))
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|r| {
            Grant::from_rule(&Rule {
                ptype: r.ptype,
                values: vec![r.v0, r.v1, r.v2],
            })
        })
        .collect();
    grants.sort_by_key(|g| (g.domain != Domain::Platform, g.role.as_str()));
    Ok(grants)
}

/// The slugs of the tenants named in `grants`.
pub async fn tenant_slugs(
    state: &AppState,
    grants: &[Grant],
) -> AppResult<std::collections::HashMap<TenantId, String>> {
    use crate::entities::tenants;
    let ids: Vec<TenantId> = grants
        .iter()
        .filter_map(|g| match g.domain {
            Domain::Tenant(id) => Some(id),
            Domain::Platform | Domain::Team(_) => None,
        })
        .collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.slug))
        .collect())
}

/// The user and CSRF token of a live web session in `scope`, for pages that render forms.
pub async fn session_user(
    state: &AppState,
    cookie: &str,
    scope: SessionScope<'_>,
) -> AppResult<Option<(CurrentUser, String)>> {
    let Some(session) = live_session(state, cookie, scope).await? else {
        return Ok(None);
    };
    Ok(users::Entity::find_by_id(session.user_id)
        .one(&state.db)
        .await?
        .map(|u| (CurrentUser::from(u), session.csrf_token)))
}
