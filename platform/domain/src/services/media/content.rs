//! Protected lesson content: short-lived HMAC-signed URLs bound to user, lesson and expiry,
//! checked again against current access when fetched, and every fetch logged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use lyceum_tenants::rbac::{Authorized, Domain, Principal, action, resource};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStoreExt};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

use super::{transcode, videos};
use crate::entities::content_fetches;
use crate::error::{AppError, AppResult};
use crate::ids::{ContentFetchId, LessonId, TenantId, UserId};
use crate::services::catalog::LessonKind;
use crate::services::learning::lessons;
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
    /// A video lesson's HLS master playlist, once transcoded: each playlist it leads to is
    /// rewritten for the viewer with signed links of the same lifetime.
    pub hls_url: Option<String>,
}

/// What a fetch returns.
pub enum Content {
    /// An uploaded asset; its bytes are read with [`read`].
    Asset(Asset),
    /// A lesson without an asset: its text.
    Text(String),
    /// An HLS playlist, rewritten with the viewer's signed links.
    Playlist(String),
    /// A segment of an HLS rendition (MPEG-TS); its bytes are read with [`read`].
    Segment(Asset),
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Asset(asset) | Self::Segment(asset) => asset.fmt(f),
            Self::Playlist(text) => write!(f, "Playlist({} bytes)", text.len()),
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
    /// A file of the lesson video's HLS renditions (`master.m3u8`, `720p/seg_00001.ts`);
    /// `None` for the lesson's asset or text.
    file: Option<String>,
}

impl Claims {
    fn encode(&self) -> String {
        let user = self.user.map_or_else(|| "-".to_owned(), |u| u.to_string());
        let base = format!("{}.{}.{user}.{}", self.tenant, self.lesson, self.expires);
        match &self.file {
            Some(file) => format!("{base}.{file}"),
            None => base,
        }
    }

    fn decode(s: &str) -> Option<Self> {
        let mut parts = s.splitn(5, '.');
        Some(Self {
            tenant: parts.next()?.parse::<Uuid>().ok()?.into(),
            lesson: parts.next()?.parse::<Uuid>().ok()?.into(),
            user: match parts.next()? {
                "-" => None,
                id => Some(id.parse::<Uuid>().ok()?.into()),
            },
            expires: parts.next()?.parse().ok()?,
            file: parts.next().map(str::to_owned),
        })
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
    let lesson = lessons::open(state, auth, tenant.id, lesson_id)
        .await?
        .lesson;
    let expires_at = now() + URL_LIFETIME;
    let claims = Claims {
        tenant: tenant.id,
        lesson: lesson.id,
        user,
        expires: expires_at.timestamp(),
        file: None,
    };
    let hls_url = match lesson.kind {
        LessonKind::Video => videos::hls_prefix(&state.db, tenant.id, lesson.id)
            .await?
            .map(|_| link(state, &claims.for_file(MASTER))),
        _ => None,
    };
    Ok(SignedUrl {
        url: link(state, &claims),
        expires_at,
        hls_url,
    })
}

/// The master playlist's name in a lesson's HLS prefix.
const MASTER: &str = "master.m3u8";

impl Claims {
    /// The same grant, for another file of the lesson's renditions.
    fn for_file(&self, file: &str) -> Self {
        Self {
            file: Some(file.to_owned()),
            ..*self
        }
    }
}

/// The content URL of signed `claims`. A separate content origin, when configured, carries no
/// platform cookies.
fn link(state: &AppState, claims: &Claims) -> String {
    let origin = state
        .settings
        .content_url
        .as_ref()
        .unwrap_or(&state.settings.public_url);
    let base = origin.as_str().trim_end_matches('/');
    format!("{base}/content/{}", sign(state, claims))
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
    // The same check as when the link was given: access, draft and drip, now.
    let lesson = lessons::open(state, &proof, claims.tenant, claims.lesson)
        .await
        .map_err(|e| match e {
            AppError::Db(_) | AppError::Corrupt { .. } => e,
            _ => denied(),
        })?
        .lesson;
    if let Some(file) = claims.file.as_deref() {
        return hls_file(state, &claims, &lesson, file)
            .await
            .map_err(|e| match e {
                AppError::Db(_) | AppError::Storage(_) | AppError::Corrupt { .. } => e,
                _ => denied(),
            });
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

/// A file of a lesson video's renditions: a playlist rewritten with the viewer's signed links
/// (the same user and expiry as the link that asked for it), or a segment. The master
/// playlist's fetch is logged like any content fetch; its segments are not.
async fn hls_file(
    state: &AppState,
    claims: &Claims,
    lesson: &crate::entities::lessons::Model,
    file: &str,
) -> AppResult<Content> {
    let prefix = videos::hls_prefix(&state.db, claims.tenant, lesson.id)
        .await?
        .ok_or(AppError::NotFound("video"))?;
    // Only names our own transcodes write; a signed name is ours, but stay strict.
    if file.is_empty()
        || file.contains("..")
        || !file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
    {
        return Err(AppError::NotFound("video"));
    }
    let key = Path::from(format!("{prefix}/{file}"));
    if !file.ends_with(".m3u8") {
        return Ok(Content::Segment(Asset {
            lesson: lesson.id,
            content_type: "video/mp2t".to_owned(),
            size: None,
            key,
        }));
    }
    let text = state.assets.get(&key).await?.bytes().await?;
    let text = std::str::from_utf8(&text).map_err(|_| AppError::NotFound("video"))?;
    let dir = file.rsplit_once('/').map_or("", |(dir, _)| dir);
    let rewritten = transcode::rewrite_playlist(text, |uri| {
        let target = if dir.is_empty() {
            uri.to_owned()
        } else {
            format!("{dir}/{uri}")
        };
        link(state, &claims.for_file(&target))
    })
    .map_err(|_| AppError::NotFound("video"))?;
    Ok(Content::Playlist(rewritten))
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
            file: None,
        };
        let segment = c.for_file("720p/seg_00001.ts");
        assert_eq!(Claims::decode(&segment.encode()), Some(segment));
        assert_eq!(Claims::decode(&c.encode()), Some(c));
        let anonymous = Claims {
            user: None,
            tenant: Uuid::nil().into(),
            lesson: Uuid::nil().into(),
            expires: 1,
            file: None,
        };
        assert_eq!(Claims::decode(&anonymous.encode()), Some(anonymous));
        assert_eq!(Claims::decode("a.b.c.d"), None);
        assert_eq!(Claims::decode("a.b.c"), None);
    }
}
