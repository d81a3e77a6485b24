//! What each party may see of seats: a team's managers everything about its pools, a seat's
//! holder their own seats, a storefront's staff the counts of the pools of its courses.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::AssignmentStatus;
use super::assignments::ensure_team;
use super::pools::kept_seats;
use crate::entities::entitlements::EntitlementStatus;
use crate::entities::{
    courses, entitlements, order_lines, orders, seat_assignments, seat_events, seat_pools, teams,
    tenants, users,
};
use crate::error::{AppError, AppResult};
use crate::ids::{
    CourseId, EntitlementId, OrderId, SeatAssignmentId, SeatPoolId, TeamId, TenantId, UserId,
};
use crate::services::commerce::OrderStatus;
use crate::services::commerce::state::Access;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The most audit lines one page holds.
pub const MAX_AUDIT: u64 = 500;

/// A team's pool of one course, as its managers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolView {
    pub id: SeatPoolId,
    pub tenant: String,
    pub tenant_name: String,
    pub course: String,
    pub course_title: String,
    /// Seats paid for and usable.
    pub purchased: u32,
    /// Seats of orders under an open dispute.
    pub held: u32,
    /// Seats held by someone.
    pub assigned: u32,
    /// Seats held by invitations nobody has taken yet.
    pub pending: u32,
    pub available: u32,
    /// Who holds the seats, and the invitations holding others, in the order they were given.
    pub seats: Vec<SeatView>,
    /// The orders the seats came from.
    pub orders: Vec<PoolOrder>,
}

/// One held seat or invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatView {
    pub id: SeatAssignmentId,
    pub email: String,
    pub user_id: Option<UserId>,
    /// `active`, `suspended` (a dispute is open) or `invited`.
    pub status: &'static str,
    pub assigned_at: DateTime<Utc>,
    pub activated_at: Option<DateTime<Utc>>,
}

/// An order line a pool's seats came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOrder {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// Seats bought.
    pub quantity: u32,
    /// Seats still paid for (after refunds).
    pub seats: u32,
}

/// One line of a team's seat audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub at: DateTime<Utc>,
    pub action: &'static str,
    pub tenant: String,
    pub course: String,
    /// Whose seat.
    pub email: Option<String>,
    /// Who did it; `None` when a refund or a dispute did.
    pub actor: Option<String>,
    pub order_id: Option<OrderId>,
}

/// A seat the caller holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MySeat {
    pub team_id: TeamId,
    pub team: String,
    pub tenant: String,
    pub course: String,
    pub course_title: String,
    /// `active`, or `suspended` while a dispute of the team's order is open.
    pub status: &'static str,
    pub since: DateTime<Utc>,
}

/// A pool of a storefront's course, as its staff see it: counts, nobody's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPool {
    pub team_id: TeamId,
    pub team: String,
    pub course: String,
    pub purchased: u32,
    pub held: u32,
    pub assigned: u32,
    pub pending: u32,
    pub available: u32,
}

struct Counts {
    assigned: u32,
    pending: u32,
    available: u32,
}

fn counts(pool: &seat_pools::Model, live: &[&seat_assignments::Model]) -> Counts {
    let count = |status| {
        u32::try_from(live.iter().filter(|a| a.status == status).count()).unwrap_or(u32::MAX)
    };
    let assigned = count(AssignmentStatus::Active);
    let pending = count(AssignmentStatus::Invited);
    let purchased = u32::try_from(pool.purchased).unwrap_or(0);
    Counts {
        assigned,
        pending,
        available: purchased.saturating_sub(assigned + pending),
    }
}

async fn live_of(
    conn: &impl ConnectionTrait,
    pools: &[seat_pools::Model],
) -> AppResult<Vec<seat_assignments::Model>> {
    Ok(seat_assignments::Entity::find()
        .filter(seat_assignments::Column::PoolId.is_in(pools.iter().map(|p| p.id)))
        .filter(seat_assignments::Column::Status.ne(AssignmentStatus::Ended))
        .order_by_asc(seat_assignments::Column::AssignedAt)
        .order_by_asc(seat_assignments::Column::Id)
        .all(conn)
        .await?)
}

async fn tenant_slugs(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = TenantId>,
) -> AppResult<HashMap<TenantId, (String, String)>> {
    Ok(tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.id, (t.slug, t.name)))
        .collect())
}

async fn course_names(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = CourseId>,
) -> AppResult<HashMap<CourseId, (String, String)>> {
    Ok(courses::Entity::find()
        .filter(courses::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.slug, c.title)))
        .collect())
}

async fn team_names(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = TeamId>,
) -> AppResult<HashMap<TeamId, String>> {
    Ok(teams::Entity::find()
        .filter(teams::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect())
}

/// Every pool of `team` with its seats, invitations and orders (the team's managers).
pub async fn team_pools(
    state: &AppState,
    auth: &Authorized<resource::Seat, action::Read>,
    team: TeamId,
) -> AppResult<Vec<PoolView>> {
    ensure_team(auth, team)?;
    let db = &state.db;
    let pools = seat_pools::Entity::find()
        .filter(seat_pools::Column::TeamId.eq(team))
        .order_by_asc(seat_pools::Column::CreatedAt)
        .all(db)
        .await?;
    if pools.is_empty() {
        return Ok(Vec::new());
    }
    let live = live_of(db, &pools).await?;
    let entitlement_ids: Vec<EntitlementId> =
        live.iter().filter_map(|a| a.entitlement_id).collect();
    let suspended: Vec<EntitlementId> = entitlements::Entity::find()
        .select_only()
        .column(entitlements::Column::Id)
        .filter(entitlements::Column::Id.is_in(entitlement_ids))
        .filter(entitlements::Column::Status.eq(EntitlementStatus::Suspended))
        .into_tuple()
        .all(db)
        .await?;
    let lines = order_lines::Entity::find()
        .find_also_related(orders::Entity)
        .filter(orders::Column::TeamId.eq(team))
        .order_by_asc(orders::Column::CreatedAt)
        .all(db)
        .await?;
    let tenants = tenant_slugs(db, pools.iter().map(|p| p.tenant_id)).await?;
    let courses = course_names(db, pools.iter().map(|p| p.course_id)).await?;
    let mut out = Vec::with_capacity(pools.len());
    for pool in pools {
        let mine: Vec<&seat_assignments::Model> =
            live.iter().filter(|a| a.pool_id == pool.id).collect();
        let Counts {
            assigned,
            pending,
            available,
        } = counts(&pool, &mine);
        let (tenant, tenant_name) = tenants.get(&pool.tenant_id).cloned().unwrap_or_default();
        let (course, course_title) = courses.get(&pool.course_id).cloned().unwrap_or_default();
        out.push(PoolView {
            id: pool.id,
            tenant,
            tenant_name,
            course,
            course_title,
            purchased: u32::try_from(pool.purchased).unwrap_or(0),
            held: u32::try_from(pool.held).unwrap_or(0),
            assigned,
            pending,
            available,
            seats: mine
                .iter()
                .map(|a| SeatView {
                    id: a.id,
                    email: a.email.clone(),
                    user_id: a.user_id,
                    status: match a.status {
                        AssignmentStatus::Invited => "invited",
                        _ if a.entitlement_id.is_some_and(|e| suspended.contains(&e)) => {
                            "suspended"
                        }
                        _ => "active",
                    },
                    assigned_at: a.assigned_at,
                    activated_at: a.activated_at,
                })
                .collect(),
            orders: lines
                .iter()
                .filter_map(|(line, order)| Some((line, order.as_ref()?)))
                // The orders that ever paid for seats here (not those abandoned unpaid).
                .filter(|(line, order)| {
                    order.tenant_id == pool.tenant_id
                        && line.course_id == pool.course_id
                        && (order.paid_amount > 0 || order.status.access() != Access::None)
                })
                .map(|(line, order)| PoolOrder {
                    order_id: order.id,
                    status: order.status,
                    quantity: u32::try_from(line.quantity).unwrap_or(0),
                    seats: u32::try_from(kept_seats(
                        line.quantity,
                        order.total_amount,
                        order.paid_amount,
                        order.refunded_amount,
                    ))
                    .unwrap_or(0),
                })
                .collect(),
        });
    }
    Ok(out)
}

/// The seat audit trail of `team`, newest first (the team's managers).
pub async fn audit(
    state: &AppState,
    auth: &Authorized<resource::Seat, action::Read>,
    team: TeamId,
    limit: u64,
) -> AppResult<Vec<AuditLine>> {
    ensure_team(auth, team)?;
    let db = &state.db;
    let pools = seat_pools::Entity::find()
        .filter(seat_pools::Column::TeamId.eq(team))
        .all(db)
        .await?;
    if pools.is_empty() {
        return Ok(Vec::new());
    }
    let events = seat_events::Entity::find()
        .filter(seat_events::Column::PoolId.is_in(pools.iter().map(|p| p.id)))
        .order_by_desc(seat_events::Column::At)
        .order_by_desc(seat_events::Column::Id)
        .limit(limit.clamp(1, MAX_AUDIT))
        .all(db)
        .await?;
    let actors: HashMap<UserId, String> = users::Entity::find()
        .filter(users::Column::Id.is_in(events.iter().filter_map(|e| e.actor_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.email))
        .collect();
    let tenants = tenant_slugs(db, pools.iter().map(|p| p.tenant_id)).await?;
    let courses = course_names(db, pools.iter().map(|p| p.course_id)).await?;
    Ok(events
        .into_iter()
        .map(|e| {
            let pool = pools.iter().find(|p| p.id == e.pool_id);
            AuditLine {
                at: e.at,
                action: e.action.as_str(),
                tenant: pool
                    .and_then(|p| tenants.get(&p.tenant_id))
                    .map(|t| t.0.clone())
                    .unwrap_or_default(),
                course: pool
                    .and_then(|p| courses.get(&p.course_id))
                    .map(|c| c.0.clone())
                    .unwrap_or_default(),
                email: e.email,
                actor: e.actor_id.and_then(|a| actors.get(&a).cloned()),
                order_id: e.order_id,
            }
        })
        .collect())
}

/// The seats the caller holds.
pub async fn mine(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<MySeat>> {
    let user = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to see your seats"))?;
    let db = &state.db;
    let held = seat_assignments::Entity::find()
        .filter(seat_assignments::Column::UserId.eq(user))
        .filter(seat_assignments::Column::Status.eq(AssignmentStatus::Active))
        .order_by_asc(seat_assignments::Column::ActivatedAt)
        .all(db)
        .await?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    let pools = seat_pools::Entity::find()
        .filter(seat_pools::Column::Id.is_in(held.iter().map(|a| a.pool_id)))
        .all(db)
        .await?;
    let suspended: Vec<EntitlementId> = entitlements::Entity::find()
        .select_only()
        .column(entitlements::Column::Id)
        .filter(entitlements::Column::Id.is_in(held.iter().filter_map(|a| a.entitlement_id)))
        .filter(entitlements::Column::Status.eq(EntitlementStatus::Suspended))
        .into_tuple()
        .all(db)
        .await?;
    let tenants = tenant_slugs(db, pools.iter().map(|p| p.tenant_id)).await?;
    let courses = course_names(db, pools.iter().map(|p| p.course_id)).await?;
    let teams = team_names(db, pools.iter().map(|p| p.team_id)).await?;
    Ok(held
        .into_iter()
        .filter_map(|a| {
            let pool = pools.iter().find(|p| p.id == a.pool_id)?;
            let (course, course_title) = courses.get(&pool.course_id).cloned()?;
            Some(MySeat {
                team_id: pool.team_id,
                team: teams.get(&pool.team_id).cloned().unwrap_or_default(),
                tenant: tenants.get(&pool.tenant_id).cloned()?.0,
                course,
                course_title,
                status: if a.entitlement_id.is_some_and(|e| suspended.contains(&e)) {
                    "suspended"
                } else {
                    "active"
                },
                since: a.activated_at.unwrap_or(a.assigned_at),
            })
        })
        .collect())
}

/// The seat pools of the storefront's courses, with counts and the teams' names (its staff);
/// never who holds the seats.
pub async fn tenant_pools(
    state: &AppState,
    auth: &Authorized<resource::Seat, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<TenantPool>> {
    ensure_covers(auth, tenant)?;
    let db = &state.db;
    let pools = seat_pools::Entity::find()
        .filter(seat_pools::Column::TenantId.eq(tenant.id))
        .order_by_asc(seat_pools::Column::CreatedAt)
        .limit(1000)
        .all(db)
        .await?;
    if pools.is_empty() {
        return Ok(Vec::new());
    }
    let live = live_of(db, &pools).await?;
    let courses = course_names(db, pools.iter().map(|p| p.course_id)).await?;
    let teams = team_names(db, pools.iter().map(|p| p.team_id)).await?;
    Ok(pools
        .into_iter()
        .map(|pool| {
            let mine: Vec<&seat_assignments::Model> =
                live.iter().filter(|a| a.pool_id == pool.id).collect();
            let Counts {
                assigned,
                pending,
                available,
            } = counts(&pool, &mine);
            TenantPool {
                team_id: pool.team_id,
                team: teams.get(&pool.team_id).cloned().unwrap_or_default(),
                course: courses
                    .get(&pool.course_id)
                    .map(|c| c.0.clone())
                    .unwrap_or_default(),
                purchased: u32::try_from(pool.purchased).unwrap_or(0),
                held: u32::try_from(pool.held).unwrap_or(0),
                assigned,
                pending,
                available,
            }
        })
        .collect())
}
