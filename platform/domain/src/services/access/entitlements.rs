//! Entitlements and access decisions: the hot path.
//!
//! `has access` = the course is free, or an active, unexpired entitlement of the user covers
//! it, whatever created it (a purchase, a seat, a grant). Decisions are cached per
//! `(tenant, user, course)`; the code that changes entitlements returns the keys it touched as
//! [`Invalidations`](crate::services::invalidation::Invalidations), applied after its commit.

use chrono::{DateTime, Duration, Utc};
use lyceum_tenants::rbac::{Authorized, ReadsCourses, Verb};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};

use crate::entities::entitlements::{EntitlementSource, EntitlementStatus};
use crate::entities::{courses, entitlements, order_lines};
use crate::error::{AppError, AppResult};
use crate::ids::{CourseId, EntitlementId, OrderId, TenantId, UserId};
use crate::services::catalog::Course;
use crate::services::commerce::state::Access;
use crate::services::now;
use crate::services::tenancy::tenants::ensure_covers_id;
use crate::state::AppState;

/// Why someone has access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Free,
    Purchase,
    Seat,
    Subscription,
    Grant,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Purchase => "purchase",
            Self::Seat => "seat",
            Self::Subscription => "subscription",
            Self::Grant => "grant",
        }
    }

    fn from_source(source: EntitlementSource) -> Self {
        match source {
            EntitlementSource::Purchase => Self::Purchase,
            EntitlementSource::Seat => Self::Seat,
            EntitlementSource::Subscription => Self::Subscription,
            EntitlementSource::Grant => Self::Grant,
        }
    }
}

/// An access decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub access: bool,
    pub reason: Option<Reason>,
    /// When the access ends; `None` for lifetime access (or none at all).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the learner's current access began (the earliest of their active entitlements);
    /// `None` for a free course or without access. Drip schedules count from it.
    pub since: Option<DateTime<Utc>>,
}

impl Decision {
    pub const DENIED: Self = Self {
        access: false,
        reason: None,
        expires_at: None,
        since: None,
    };
}

/// The cache key of a decision: whose access to which course, in which tenant. Typed, so the
/// three ids cannot be swapped; still 48 bytes, `Copy`, hashed like the uuid triple it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessKey {
    pub tenant: TenantId,
    pub user: UserId,
    pub course: CourseId,
}

/// Whether the one `auth` was given to may study `course` now: the decision is always about
/// the proof's principal (anonymous callers get free courses only), and the proof must be a
/// learner's read (of access, content or the catalog; see [`ReadsCourses`]) covering the
/// course's storefront, else 403 as for any proof used on another tenant.
///
/// A free course is free to study only while it is published: a draft priced at zero is
/// unfinished work, and answering `free` for it would serve its content and confirm its slug
/// to anyone who guesses it. Entitlements (a course once sold, then made free and taken off
/// the catalog) still count.
pub async fn decide<R: ReadsCourses, A: Verb>(
    state: &AppState,
    auth: &Authorized<R, A>,
    course: &Course,
) -> AppResult<Decision> {
    ensure_covers_id(auth, course.tenant_id)?;
    if course.is_free() && course.published {
        return Ok(Decision {
            access: true,
            reason: Some(Reason::Free),
            expires_at: None,
            since: None,
        });
    }
    let Some(user) = auth.user_id() else {
        return Ok(Decision::DENIED);
    };
    let key = AccessKey {
        tenant: course.tenant_id,
        user,
        course: course.id,
    };
    let decision = match state.caches.access.get(&key).await {
        Some(hit) => {
            state.metrics.access_cache.hits.inc();
            hit
        }
        None => {
            state.metrics.access_cache.misses.inc();
            Box::pin(load_and_remember(state, key)).await?
        }
    };
    if decision.expires_at.is_some_and(|at| at <= Utc::now()) {
        // It ran out while cached.
        state.caches.access.invalidate(&key).await;
        return Ok(Decision::DENIED);
    }
    Ok(decision)
}

/// Loads a decision and caches it — unless entitlements changed while it loaded. A load that
/// read the database just before a refund committed would otherwise cache "yes" after the
/// refund's invalidation had already run (there was nothing to drop yet), and keep it for the
/// cache's whole lifetime. The applier ([`AppState::commit`]) bumps the epoch before it
/// drops any key, so such a load sees it moved and answers without caching; the next request
/// loads afresh.
///
/// The span is here, on the miss, and not on [`decide`]: a hit is the hot path.
#[tracing::instrument(
    skip_all,
    fields(tenant.id = %key.tenant, user.id = %key.user, course.id = %key.course)
)]
async fn load_and_remember(state: &AppState, key: AccessKey) -> AppResult<Decision> {
    let caches = &state.caches;
    crate::state::remember_unless_changed(&caches.access, &caches.access_epoch, key, || {
        load(&state.db, key)
    })
    .await
}

/// The decision straight from the database (no cache): the longest-lasting active, unexpired
/// entitlement of the user for the course.
pub async fn load(db: &impl ConnectionTrait, key: AccessKey) -> AppResult<Decision> {
    load_from(db, key, None).await
}

/// [`load`] counting only what the user holds in their own right — not a team's seat, which
/// its managers may take back: whether they may still buy the course for themselves.
pub async fn load_own(db: &impl ConnectionTrait, key: AccessKey) -> AppResult<Decision> {
    load_from(db, key, Some(EntitlementSource::Seat)).await
}

async fn load_from(
    db: &impl ConnectionTrait,
    AccessKey {
        tenant,
        user,
        course,
    }: AccessKey,
    except: Option<EntitlementSource>,
) -> AppResult<Decision> {
    let at = now();
    let mut query = entitlements::Entity::find()
        .filter(entitlements::Column::TenantId.eq(tenant))
        .filter(entitlements::Column::UserId.eq(user))
        .filter(entitlements::Column::CourseId.eq(course))
        .filter(entitlements::Column::Status.eq(EntitlementStatus::Active));
    if let Some(source) = except {
        query = query.filter(entitlements::Column::Source.ne(source));
    }
    let rows = query.all(db).await?;
    let live: Vec<_> = rows
        .into_iter()
        .filter(|e| e.expires_at.is_none_or(|x| x > at))
        .collect();
    let since = live.iter().map(|e| e.granted_at).min();
    // The entitlement that lasts longest wins; lifetime beats any date.
    let best = live
        .into_iter()
        .max_by_key(|e| (e.expires_at.is_none(), e.expires_at));
    Ok(match best {
        Some(e) => Decision {
            access: true,
            reason: Some(Reason::from_source(e.source)),
            expires_at: e.expires_at,
            since,
        },
        None => Decision::DENIED,
    })
}

/// One entitlement change made while applying an order's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub entitlement_id: EntitlementId,
    pub key: AccessKey,
}

/// Makes the entitlements of `order`'s lines match `access`, inside the caller's transaction.
/// Creates them on first grant (access periods start at `paid_at`), suspends, reactivates or
/// revokes them later; never touches entitlements that other orders or seats created.
pub async fn reconcile_lines(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    buyer_id: UserId,
    order_id: OrderId,
    access: Access,
    paid_at: Option<DateTime<Utc>>,
) -> AppResult<Vec<Changed>> {
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(tenant_id))
        .filter(order_lines::Column::OrderId.eq(order_id))
        .all(conn)
        .await?;
    let mut changed = Vec::new();
    for line in lines {
        let existing = entitlements::Entity::find()
            .filter(entitlements::Column::OrderLineId.eq(line.id))
            .one(conn)
            .await?;
        let wanted = match access {
            Access::Active => EntitlementStatus::Active,
            Access::Suspended => EntitlementStatus::Suspended,
            Access::None => EntitlementStatus::Revoked,
        };
        let key = AccessKey {
            tenant: tenant_id,
            user: buyer_id,
            course: line.course_id,
        };
        match existing {
            Some(e) if e.status == wanted => {}
            Some(e) => {
                let id = e.id;
                let mut active: entitlements::ActiveModel = e.into();
                active.status = Set(wanted);
                active.updated_at = Set(now());
                active.update(conn).await?;
                changed.push(Changed {
                    entitlement_id: id,
                    key,
                });
            }
            None if access == Access::None => {}
            None => {
                let course = courses::Entity::find_by_id(line.course_id)
                    .one(conn)
                    .await?
                    .ok_or(AppError::Internal("order line without course"))?;
                let granted_at = paid_at.unwrap_or_else(now);
                let id = EntitlementId::new_v7();
                entitlements::ActiveModel {
                    id: Set(id),
                    tenant_id: Set(tenant_id),
                    user_id: Set(buyer_id),
                    course_id: Set(line.course_id),
                    source: Set(EntitlementSource::Purchase),
                    order_line_id: Set(Some(line.id)),
                    status: Set(wanted),
                    expires_at: Set(course
                        .access_days
                        .map(|days| granted_at + Duration::days(i64::from(days)))),
                    granted_at: Set(granted_at),
                    updated_at: Set(now()),
                }
                .insert(conn)
                .await?;
                changed.push(Changed {
                    entitlement_id: id,
                    key,
                });
            }
        }
    }
    Ok(changed)
}

/// Makes the entitlement a team seat gives `user` to `course` `wanted`, inside the caller's
/// transaction: created on the first grant (its access period starting now), changed later;
/// `existing` is the seat's entitlement, if it has one. Returns the seat's entitlement (none
/// when nothing was ever granted) and the change made, if any. Never touches entitlements of
/// purchases or other seats: a member who also bought the course keeps that access.
pub async fn reconcile_seat(
    conn: &impl ConnectionTrait,
    tenant_id: TenantId,
    user_id: UserId,
    course_id: CourseId,
    existing: Option<EntitlementId>,
    wanted: EntitlementStatus,
) -> AppResult<(Option<EntitlementId>, Option<Changed>)> {
    let key = AccessKey {
        tenant: tenant_id,
        user: user_id,
        course: course_id,
    };
    let current = match existing {
        Some(id) => {
            entitlements::Entity::find_by_id(id)
                .filter(entitlements::Column::TenantId.eq(tenant_id))
                .one(conn)
                .await?
        }
        None => None,
    };
    match current {
        Some(e) if e.status == wanted => Ok((Some(e.id), None)),
        Some(e) => {
            let id = e.id;
            let mut active: entitlements::ActiveModel = e.into();
            active.status = Set(wanted);
            active.updated_at = Set(now());
            active.update(conn).await?;
            Ok((
                Some(id),
                Some(Changed {
                    entitlement_id: id,
                    key,
                }),
            ))
        }
        None if wanted == EntitlementStatus::Revoked => Ok((None, None)),
        None => {
            let course = courses::Entity::find_by_id(course_id)
                .filter(courses::Column::TenantId.eq(tenant_id))
                .one(conn)
                .await?
                .ok_or(AppError::Internal("a seat pool without its course"))?;
            let granted_at = now();
            let id = EntitlementId::new_v7();
            entitlements::ActiveModel {
                id: Set(id),
                tenant_id: Set(tenant_id),
                user_id: Set(user_id),
                course_id: Set(course_id),
                source: Set(EntitlementSource::Seat),
                order_line_id: Set(None),
                status: Set(wanted),
                expires_at: Set(course
                    .access_days
                    .map(|days| granted_at + Duration::days(i64::from(days)))),
                granted_at: Set(granted_at),
                updated_at: Set(granted_at),
            }
            .insert(conn)
            .await?;
            Ok((
                Some(id),
                Some(Changed {
                    entitlement_id: id,
                    key,
                }),
            ))
        }
    }
}
