//! Protected lesson content: short-lived HMAC-signed URLs bound to user, lesson and expiry,
//! checked again against current access when fetched, and every fetch logged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use lyceum_tenants::rbac::{Authorized, Domain, Principal, action, resource};
use object_store::path::Path;
use object_store::{GetOptions, GetRange};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

use crate::entities::{content_fetches, courses, lessons};
use crate::error::{AppError, AppResult};
use crate::ids::{ContentFetchId, LessonId, TenantId, UserId};
use crate::services::access;
use crate::services::catalog::Course;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// How long a content URL lives (the contract allows at most two hours).
pub const URL_LIFETIME: Duration = Duration::hours(1);

/// A signed content URL.
#[derive(Debug, Clone)]
pub struct SignedUrl {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// What a fetch returns.
pub enum Content {
    /// An uploaded asset; its bytes are read with [`read`].
    Asset(Asset),
    /// A lesson without an asset: its text.
    Text(String),
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Asset(asset) => asset.fmt(f),
            // A lesson's text is paid content: never in logs.
            Self::Text(text) => write!(f, "Text({} bytes)", text.len()),
        }
    }
}

/// An uploaded asset a fetch found, not yet read.
#[derive(Debug, Clone)]
pub struct Asset {
    pub lesson: LessonId,
    /// As stored at upload; assets stored before the allow-list may hold any string.
    pub content_type: String,
    /// In bytes, when recorded.
    pub size: Option<u64>,
    key: Path,
}

/// A stream of an asset's bytes.
pub type AssetStream =
    futures_util::stream::BoxStream<'static, Result<bytes::Bytes, object_store::Error>>;

#[derive(Debug, PartialEq, Eq)]
struct Claims {
    tenant: TenantId,
    lesson: LessonId,
    user: Option<UserId>,
    expires: i64,
}

impl Claims {
    fn encode(&self) -> String {
        let user = self.user.map_or_else(|| "-".to_owned(), |u| u.to_string());
        format!("{}.{}.{user}.{}", self.tenant, self.lesson, self.expires)
    }

    fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split('.');
        let claims = Self {
            tenant: parts.next()?.parse::<Uuid>().ok()?.into(),
            lesson: parts.next()?.parse::<Uuid>().ok()?.into(),
            user: match parts.next()? {
                "-" => None,
                id => Some(id.parse::<Uuid>().ok()?.into()),
            },
            expires: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(claims)
    }
}

fn mac(state: &AppState, payload: &str) -> Hmac<Sha256> {
    #[expect(clippy::expect_used, reason = "HMAC takes keys of any length")]
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(state.content_key.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
    mac.update(payload.as_bytes());
    mac
}

fn sign(state: &AppState, claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(claims.encode());
    let tag = URL_SAFE_NO_PAD.encode(mac(state, &payload).finalize().into_bytes());
    format!("{payload}.{tag}")
}

fn verify(state: &AppState, token: &str) -> Option<Claims> {
    let (payload, tag) = token.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(state, payload).verify_slice(&tag).ok()?;
    let claims = Claims::decode(std::str::from_utf8(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?)?;
    (claims.expires > Utc::now().timestamp()).then_some(claims)
}

/// The lesson and its course, inside the tenant.
async fn lesson_of(
    state: &AppState,
    tenant_id: TenantId,
    lesson_id: LessonId,
) -> AppResult<(lessons::Model, Course)> {
    let lesson = lessons::Entity::find_by_id(lesson_id)
        .filter(lessons::Column::TenantId.eq(tenant_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("lesson"))?;
    let course: Course = courses::Entity::find_by_id(lesson.course_id)
        .filter(courses::Column::TenantId.eq(tenant_id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("lesson"))?
        .try_into()?;
    Ok((lesson, course))
}

/// A signed URL for a lesson's content: free previews for anyone, the rest for those with
/// access (401 without a user, 402 without access).
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display), lesson.id = %lesson_id)
)]
pub async fn issue(
    state: &AppState,
    auth: &Authorized<resource::Content, action::Read>,
    tenant: &Tenant,
    lesson_id: LessonId,
) -> AppResult<SignedUrl> {
    ensure_covers(auth, tenant)?;
    // The link is signed for the one the proof was given to.
    let user = auth.user_id();
    let (lesson, course) = lesson_of(state, tenant.id, lesson_id).await?;
    let decision = access::decide(state, auth, &course).await?;
    if !course.published && !decision.access {
        // Drafts stay hidden; a course taken off the catalog stays open to its buyers.
        return Err(AppError::NotFound("lesson"));
    }
    if !lesson.free_preview {
        if user.is_none() && !course.is_free() {
            return Err(AppError::Unauthenticated("sign in to open this lesson"));
        }
        if !decision.access {
            return Err(AppError::PaymentRequired(format!(
                "buy `{}` to open this lesson",
                course.slug
            )));
        }
    }
    let expires_at = now() + URL_LIFETIME;
    let token = sign(
        state,
        &Claims {
            tenant: tenant.id,
            lesson: lesson.id,
            user,
            expires: expires_at.timestamp(),
        },
    );
    // A separate content origin, when configured, carries no platform cookies.
    let origin = state
        .settings
        .content_url
        .as_ref()
        .unwrap_or(&state.settings.public_url);
    let base = origin.as_str().trim_end_matches('/');
    Ok(SignedUrl {
        url: format!("{base}/content/{token}"),
        expires_at,
    })
}

/// The content behind a signed URL, if it is intact, unexpired, and its user still has
/// access; every successful fetch is logged.
///
/// The link itself is no permission: the policy is asked again, for the user and storefront
/// its claims name, and the access decision is made under that proof. A denial is the same
/// 403 as an altered link.
#[tracing::instrument(skip_all, fields(tenant.id = tracing::field::Empty, user.id = tracing::field::Empty))]
pub async fn fetch(state: &AppState, token: &str, address: Option<String>) -> AppResult<Content> {
    let denied = || AppError::Forbidden("this link is expired, altered or no longer valid".into());
    let claims = verify(state, token).ok_or_else(denied)?;
    let span = tracing::Span::current();
    span.record("tenant.id", tracing::field::display(claims.tenant));
    if let Some(user) = claims.user {
        span.record("user.id", tracing::field::display(user));
    }
    let principal = claims.user.map_or(Principal::Anonymous, Principal::User);
    let proof = state
        .policy
        .authorize::<resource::Content, action::Read>(
            &state.db,
            &principal,
            Domain::Tenant(claims.tenant),
        )
        .await
        .map_err(|e| match e {
            AppError::Unauthenticated(_) | AppError::Forbidden(_) => denied(),
            other => other,
        })?;
    let (lesson, course) = lesson_of(state, claims.tenant, claims.lesson)
        .await
        .map_err(|_| denied())?;
    if !lesson.free_preview && !access::decide(state, &proof, &course).await?.access {
        return Err(denied());
    }
    content_fetches::ActiveModel {
        id: Set(ContentFetchId::new_v7()),
        tenant_id: Set(claims.tenant),
        user_id: Set(claims.user),
        lesson_id: Set(lesson.id),
        address: Set(address),
        fetched_at: Set(now()),
    }
    .insert(&state.db)
    .await?;
    tracing::info!(tenant.id = %claims.tenant, lesson.id = %lesson.id, user.id = ?claims.user, "content fetched");
    match (&lesson.asset_key, &lesson.asset_content_type) {
        (Some(key), Some(content_type)) => Ok(Content::Asset(Asset {
            lesson: lesson.id,
            content_type: content_type.clone(),
            size: lesson.asset_size.and_then(|s| u64::try_from(s).ok()),
            key: Path::from(key.as_str()),
        })),
        _ => Ok(Content::Text(lesson.body.unwrap_or_default())),
    }
}

/// The bytes of `asset`: all of them, or the half-open byte `range` (already checked against
/// its size).
pub async fn read(
    state: &AppState,
    asset: &Asset,
    range: Option<std::ops::Range<u64>>,
) -> AppResult<AssetStream> {
    let options = GetOptions {
        range: range.map(GetRange::Bounded),
        ..GetOptions::default()
    };
    Ok(state
        .assets
        .get_opts(&asset.key, options)
        .await?
        .into_stream())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip() {
        let c = Claims {
            tenant: TenantId::new_v7(),
            lesson: LessonId::new_v7(),
            user: Some(UserId::new_v7()),
            expires: 42,
        };
        assert_eq!(Claims::decode(&c.encode()), Some(c));
        let anonymous = Claims {
            user: None,
            tenant: Uuid::nil().into(),
            lesson: Uuid::nil().into(),
            expires: 1,
        };
        assert_eq!(Claims::decode(&anonymous.encode()), Some(anonymous));
        assert_eq!(Claims::decode("a.b.c.d"), None);
    }
}
