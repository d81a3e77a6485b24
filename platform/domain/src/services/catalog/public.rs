//! The public catalog of an active storefront: published courses only, and their outlines.
//!
//! Both are read far more than they change, so both are served from caches
//! (`Caches::catalog`, `Caches::outlines`) that every change to a tenant's courses or
//! curriculum empties for that tenant, on every instance (`Invalidation::Catalog`). A page is
//! found by its cursor (keyset, on the primary key), so the first page and the ten-thousandth
//! cost the same, however many courses the storefront has.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::{Course, Curriculum};
use crate::entities::courses;
use crate::error::{AppError, AppResult};
use crate::ids::{CourseId, TenantId};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::{AppState, Rendered, cached_unless_changed};

/// Default and largest page sizes of the catalog.
pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// One page of the catalog and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<Course>,
    pub next_cursor: Option<String>,
    /// The page as the API serves it, serialized on its first request and kept with the
    /// cached page.
    pub rendered: Rendered,
}

impl Page {
    /// Roughly what the page holds in memory, in bytes, once served: its courses' text and
    /// fields, twice (the page, and its JSON kept beside it). The catalog cache is bounded by
    /// this sum, not by a count: anyone may ask for many pages (every cursor is a key), and a
    /// page may hold a hundred long descriptions.
    pub fn weight(&self) -> u32 {
        /// Ids, money, dates and the JSON's field names of one course.
        const FIXED: usize = 512;
        let text: usize = self
            .items
            .iter()
            .map(|c| FIXED + c.slug.as_str().len() + c.title.len() + c.description.len())
            .sum();
        u32::try_from(2 * text).unwrap_or(u32::MAX)
    }
}

/// A catalog query.
#[derive(Debug, Default)]
pub struct CatalogQuery {
    /// Words to find in titles and descriptions, case-insensitively.
    pub q: Option<String>,
    pub limit: Option<u64>,
    /// Opaque, from a previous page's `next_cursor`.
    pub cursor: Option<String>,
}

/// A validated catalog query: what a cached page is found by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// Lowercased, trimmed; `None` for no search.
    q: Option<String>,
    limit: u64,
    after: Option<CourseId>,
}

impl PageKey {
    fn parse(query: CatalogQuery) -> AppResult<Self> {
        let limit = crate::services::page_limit(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
        let after = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(cursor) => Some(decode_cursor(cursor)?),
            None => None,
        };
        let q = match query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            Some(q) if q.chars().count() > 200 => {
                return Err(AppError::invalid("q", "must be at most 200 characters"));
            }
            Some(q) => Some(q.to_lowercase()),
            None => None,
        };
        Ok(Self { q, limit, after })
    }
}

/// Published courses, oldest first, a page at a time.
pub async fn list(
    state: &AppState,
    auth: &Authorized<resource::Catalog, action::Read>,
    tenant: &Tenant,
    query: CatalogQuery,
) -> AppResult<Arc<Page>> {
    ensure_covers(auth, tenant)?;
    let key = PageKey::parse(query)?;
    let caches = &state.caches;
    cached_unless_changed(
        &caches.catalog,
        &caches.catalog_epoch,
        (tenant.id, key.clone()),
        || async { load_page(&state.db, tenant.id, key).await.map(Arc::new) },
    )
    .await
}

/// A page straight from the database.
async fn load_page(db: &impl ConnectionTrait, tenant: TenantId, key: PageKey) -> AppResult<Page> {
    let PageKey { q, limit, after } = key;
    let mut select = courses::Entity::find()
        .filter(courses::Column::TenantId.eq(tenant))
        .filter(courses::Column::Published.eq(true));
    if let Some(after) = after {
        select = select.filter(courses::Column::Id.gt(after));
    }
    if let Some(q) = q {
        let pattern = format!("%{}%", escape_like(&q));
        let lower = |col: courses::Column| Expr::expr(Func::lower(Expr::col(col)));
        select = select.filter(
            Condition::any()
                .add(lower(courses::Column::Title).like(LikeExpr::new(&pattern).escape('\\')))
                .add(
                    lower(courses::Column::Description).like(LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    let mut rows = select
        .order_by_asc(courses::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let has_more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if has_more {
        rows.last()
            .map(|c| URL_SAFE_NO_PAD.encode(c.id.into_uuid().as_bytes()))
    } else {
        None
    };
    Ok(Page {
        items: rows
            .into_iter()
            .map(Course::try_from)
            .collect::<AppResult<_>>()?,
        next_cursor,
        rendered: Rendered::default(),
    })
}

/// A published course with its curriculum; lesson bodies are left out.
pub async fn get(
    state: &AppState,
    auth: &Authorized<resource::Catalog, action::Read>,
    tenant: &Tenant,
    slug: &str,
) -> AppResult<Arc<Curriculum>> {
    ensure_covers(auth, tenant)?;
    let caches = &state.caches;
    cached_unless_changed(
        &caches.outlines,
        &caches.catalog_epoch,
        (tenant.id, slug.to_owned()),
        || async { load_outline(&state.db, tenant, slug).await.map(Arc::new) },
    )
    .await
}

/// An outline straight from the database.
async fn load_outline(
    db: &impl ConnectionTrait,
    tenant: &Tenant,
    slug: &str,
) -> AppResult<Curriculum> {
    let course = super::courses::find(db, tenant, slug).await?;
    if !course.published {
        return Err(AppError::NotFound("course"));
    }
    let mut curriculum = super::curriculum::load(db, course).await?;
    for lesson in curriculum
        .sections
        .iter_mut()
        .flat_map(|s| s.lessons.iter_mut())
    {
        lesson.body = None;
    }
    Ok(curriculum)
}

fn decode_cursor(cursor: &str) -> AppResult<CourseId> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .map(CourseId::from)
        .ok_or_else(|| AppError::invalid("cursor", "not a cursor this API handed out"))
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
