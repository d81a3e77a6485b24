//! Seat pools: how many seats a team's orders of a course still pay for, and fitting the
//! assignments to that number. One function, [`fit`], decides every assignment's fate after
//! any change (a payment, a refund, a dispute, an assignment, a claim).

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;

use super::{AssignmentStatus, EndReason, SeatAction};
use crate::entities::entitlements::EntitlementStatus;
use crate::entities::outbox::OutboxKind;
use crate::entities::{
    courses, order_lines, orders, seat_assignments, seat_events, seat_pools, team_members, teams,
    tenants, users,
};
use crate::error::{AppError, AppResult};
use crate::ids::{
    CourseId, EntitlementId, OrderId, SeatAssignmentId, SeatEventId, SeatPoolId, TeamId, TenantId,
    UserId,
};
use crate::services::access::{self, Changed};
use crate::services::commerce::state::Access;
use crate::services::notify::outbox;
use crate::services::now;
use crate::services::teams::{MemberStatus, TeamRole};

/// The most seats one order line may buy.
pub const MAX_SEATS: u32 = 1000;

/// The seats an order line of `quantity` still pays for in full: all of them while nothing
/// went back, none once everything did; after a partial refund, `⌊quantity × kept ÷ total⌋`
/// where `kept` is what was paid and not given back (never more than the total: a payment
/// made twice does not buy seats twice). An order with nothing to pay (a full coupon) keeps
/// every seat.
pub fn kept_seats(quantity: i32, total: i64, paid: i64, refunded: i64) -> i32 {
    if quantity <= 0 {
        return 0;
    }
    if total <= 0 {
        return quantity;
    }
    let kept = paid.saturating_sub(refunded).clamp(0, total);
    let seats = i128::from(quantity) * i128::from(kept) / i128::from(total);
    i32::try_from(seats).unwrap_or(0)
}

/// The amount that gives back `seats` of a one-line order of `quantity` seats, `total` minor
/// units, `paid` and `refunded` so far: after it, exactly `seats` fewer are paid for by
/// [`kept_seats`]. A refund of the last seat returns everything left. `None` when the order
/// does not hold that many seats, or its amounts cannot be split by the seat.
pub fn seats_to_refund(
    quantity: i32,
    total: i64,
    paid: i64,
    refunded: i64,
    seats: i32,
) -> Option<i64> {
    let now_kept = kept_seats(quantity, total, paid, refunded);
    if seats <= 0 || seats > now_kept || total <= 0 {
        return None;
    }
    let left = now_kept - seats;
    // What was paid and not given back, a double payment included: a seat refund of an
    // order paid twice gives back the extra as well, or the seats would not go.
    let kept = paid.saturating_sub(refunded).max(0);
    // The least that still pays for `left` seats: ⌈left × total ÷ quantity⌉.
    let q = i128::from(quantity);
    let keep = (i128::from(left) * i128::from(total) + q - 1) / q;
    let keep = i64::try_from(keep).ok()?;
    let amount = kept - keep;
    (amount > 0 && kept_seats(quantity, total, paid, refunded.saturating_add(amount)) == left)
        .then_some(amount)
}

/// What caused a fit, for the audit trail.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cause {
    pub actor: Option<UserId>,
    pub order: Option<OrderId>,
}

/// Reads a pool and, on PostgreSQL, locks its row until the transaction ends (SQLite's one
/// writer connection serializes writers anyway). Every change to a pool's assignments holds
/// this lock while it counts.
pub(super) async fn lock(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    team: TeamId,
    course: CourseId,
) -> AppResult<Option<seat_pools::Model>> {
    let mut query = seat_pools::Entity::find()
        .filter(seat_pools::Column::TenantId.eq(tenant))
        .filter(seat_pools::Column::TeamId.eq(team))
        .filter(seat_pools::Column::CourseId.eq(course));
    if conn.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(conn).await?)
}

/// The pool, made if there is none yet, locked.
async fn ensure(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    team: TeamId,
    course: CourseId,
) -> AppResult<seat_pools::Model> {
    let at = now();
    seat_pools::Entity::insert(seat_pools::ActiveModel {
        id: Set(SeatPoolId::new_v7()),
        tenant_id: Set(tenant),
        team_id: Set(team),
        course_id: Set(course),
        purchased: Set(0),
        held: Set(0),
        created_at: Set(at),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([
            seat_pools::Column::TenantId,
            seat_pools::Column::TeamId,
            seat_pools::Column::CourseId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    lock(conn, tenant, team, course)
        .await?
        .ok_or(AppError::Internal("a seat pool just made is gone"))
}

/// Brings the pools of a team's order up to date with the order as just saved, inside the
/// payment pipeline's transaction (which holds the order's lock): a paid order makes its pools
/// (buying again tops them up), and every later event refits them. Pools are locked in course
/// order, so two orders of the same courses cannot wait on each other.
pub async fn follow_order(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
) -> AppResult<Vec<Changed>> {
    let Some(team) = order.team_id else {
        return Ok(Vec::new());
    };
    let mut courses: Vec<CourseId> = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::CourseId)
        .filter(order_lines::Column::TenantId.eq(order.tenant_id))
        .filter(order_lines::Column::OrderId.eq(order.id))
        .into_tuple()
        .all(conn)
        .await?;
    courses.sort();
    let grants = order.status.access() != Access::None;
    let cause = Cause {
        actor: None,
        order: Some(order.id),
    };
    let mut changes = Vec::new();
    for course in courses {
        let pool = if grants {
            Some(ensure(conn, order.tenant_id, team, course).await?)
        } else {
            lock(conn, order.tenant_id, team, course).await?
        };
        if let Some(pool) = pool {
            changes.extend(fit(conn, pool, cause).await?);
        }
    }
    Ok(changes)
}

/// Seats (usable, held) the team's orders of the pool's course pay for now.
async fn capacity(conn: &impl ConnectionTrait, pool: &seat_pools::Model) -> AppResult<(i32, i32)> {
    let lines = order_lines::Entity::find()
        .find_also_related(orders::Entity)
        .filter(order_lines::Column::TenantId.eq(pool.tenant_id))
        .filter(order_lines::Column::CourseId.eq(pool.course_id))
        .filter(orders::Column::TenantId.eq(pool.tenant_id))
        .filter(orders::Column::TeamId.eq(pool.team_id))
        .all(conn)
        .await?;
    let (mut usable, mut held) = (0_i32, 0_i32);
    for (line, order) in lines {
        let Some(order) = order else { continue };
        let seats = kept_seats(
            line.quantity,
            order.total_amount,
            order.paid_amount,
            order.refunded_amount,
        );
        match order.status.access() {
            Access::Active => usable = usable.saturating_add(seats),
            Access::Suspended => held = held.saturating_add(seats),
            Access::None => {}
        }
    }
    Ok((usable, held))
}

/// Fits a locked pool's assignments to the seats its orders pay for now: in the order they
/// were assigned, the first `usable` keep (or get) working access, the next `held` have it
/// suspended, and the rest end — most recently assigned first — with the team's managers told
/// whom. Invitations count like holders. Returns the access changes to invalidate.
pub(super) async fn fit(
    conn: &impl ConnectionTrait,
    mut pool: seat_pools::Model,
    cause: Cause,
) -> AppResult<Vec<Changed>> {
    let (usable, held) = capacity(conn, &pool).await?;
    if (usable, held) != (pool.purchased, pool.held) {
        let mut row: seat_pools::ActiveModel = pool.clone().into();
        row.purchased = Set(usable);
        row.held = Set(held);
        row.updated_at = Set(now());
        pool = row.update(conn).await?;
    }
    let live = seat_assignments::Entity::find()
        .filter(seat_assignments::Column::TenantId.eq(pool.tenant_id))
        .filter(seat_assignments::Column::PoolId.eq(pool.id))
        .filter(seat_assignments::Column::Status.ne(AssignmentStatus::Ended))
        .order_by_asc(seat_assignments::Column::AssignedAt)
        .order_by_asc(seat_assignments::Column::Id)
        .all(conn)
        .await?;
    let mut changes = Vec::new();
    let mut lost = Vec::new();
    for (position, assignment) in live.into_iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        if position >= usable.saturating_add(held) {
            lost.push((assignment.id, assignment.email.clone()));
            changes.extend(end(conn, &pool, assignment, EndReason::Refunded, cause).await?);
            continue;
        }
        let (AssignmentStatus::Active, Some(user)) = (assignment.status, assignment.user_id) else {
            continue;
        };
        let wanted = if position < usable {
            EntitlementStatus::Active
        } else {
            EntitlementStatus::Suspended
        };
        let had = assignment.entitlement_id;
        let (entitlement, changed) =
            access::reconcile_seat(conn, pool.tenant_id, user, pool.course_id, had, wanted).await?;
        if entitlement != had {
            seat_assignments::ActiveModel {
                id: Set(assignment.id),
                entitlement_id: Set(entitlement),
                ..Default::default()
            }
            .update(conn)
            .await?;
        }
        if let Some(changed) = changed {
            if had.is_some() {
                let action = if wanted == EntitlementStatus::Active {
                    SeatAction::Restored
                } else {
                    SeatAction::Suspended
                };
                record(conn, &pool, Some(&assignment), action, cause).await?;
            }
            changes.push(changed);
        }
    }
    if !lost.is_empty() {
        tell_managers(conn, &pool, &lost, cause).await?;
    }
    Ok(changes)
}

/// Ends a live assignment of a locked pool: its seat is free again (or gone, for a refund),
/// its holder's seat access revoked.
pub(super) async fn end(
    conn: &impl ConnectionTrait,
    pool: &seat_pools::Model,
    assignment: seat_assignments::Model,
    reason: EndReason,
    cause: Cause,
) -> AppResult<Vec<Changed>> {
    let at = now();
    let mut row: seat_assignments::ActiveModel = assignment.clone().into();
    row.status = Set(AssignmentStatus::Ended);
    row.live_key = Set(None);
    row.ended_at = Set(Some(at));
    row.ended_by = Set(cause.actor);
    row.end_reason = Set(Some(reason));
    row.update(conn).await?;
    let mut changes = Vec::new();
    if let (Some(user), Some(_)) = (assignment.user_id, assignment.entitlement_id) {
        let (_, changed) = access::reconcile_seat(
            conn,
            pool.tenant_id,
            user,
            pool.course_id,
            assignment.entitlement_id,
            EntitlementStatus::Revoked,
        )
        .await?;
        changes.extend(changed);
    }
    let action = match reason {
        EndReason::Revoked => SeatAction::Revoked,
        EndReason::Cancelled => SeatAction::Cancelled,
        EndReason::Refunded => SeatAction::Refunded,
    };
    record(conn, pool, Some(&assignment), action, cause).await?;
    Ok(changes)
}

/// Adds a line to the pool's audit trail.
pub(super) async fn record(
    conn: &impl ConnectionTrait,
    pool: &seat_pools::Model,
    assignment: Option<&seat_assignments::Model>,
    action: SeatAction,
    cause: Cause,
) -> AppResult<()> {
    seat_events::Entity::insert(seat_events::ActiveModel {
        id: Set(SeatEventId::new_v7()),
        tenant_id: Set(pool.tenant_id),
        pool_id: Set(pool.id),
        assignment_id: Set(assignment.map(|a| a.id)),
        actor_id: Set(cause.actor),
        action: Set(action),
        email: Set(assignment.map(|a| a.email.clone())),
        order_id: Set(cause.order),
        at: Set(now()),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// The names a seat e-mail shows: (team, course title, storefront name).
pub(super) async fn names(
    conn: &impl ConnectionTrait,
    pool: &seat_pools::Model,
) -> AppResult<(String, String, String)> {
    let team = teams::Entity::find_by_id(pool.team_id)
        .one(conn)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let course = courses::Entity::find_by_id(pool.course_id)
        .one(conn)
        .await?
        .map(|c| c.title)
        .unwrap_or_default();
    let tenant = tenants::Entity::find_by_id(pool.tenant_id)
        .one(conn)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    Ok((team, course, tenant))
}

/// Tells each of the team's managers which addresses lost their seats to a refund or a
/// dispute, through the outbox, in the same transaction.
async fn tell_managers(
    conn: &impl ConnectionTrait,
    pool: &seat_pools::Model,
    lost: &[(SeatAssignmentId, String)],
    cause: Cause,
) -> AppResult<()> {
    let ids: Vec<UserId> = team_members::Entity::find()
        .select_only()
        .column(team_members::Column::UserId)
        .filter(team_members::Column::TeamId.eq(pool.team_id))
        .filter(team_members::Column::Role.eq(TeamRole::Manager))
        .filter(team_members::Column::Status.eq(MemberStatus::Active))
        .into_tuple()
        .all(conn)
        .await?;
    let managers: Vec<(UserId, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    let (team, course, tenant) = names(conn, pool).await?;
    let emails: Vec<&str> = lost.iter().map(|(_, email)| email.as_str()).collect();
    // One notice per manager per fit: the first seat it took back names it.
    let first = lost
        .first()
        .map(|(id, _)| id.to_string())
        .unwrap_or_default();
    for (manager, to) in managers {
        let payload = json!({
            "to": to,
            "team": team,
            "course": course,
            "tenant": tenant,
            "lost": emails,
            "order_id": cause.order.map(|o| o.to_string()),
        });
        // Ids only: the key's column is bounded, an address is not short.
        let dedupe = format!("seats-taken-back:{}:{first}:{manager}", pool.id);
        outbox::enqueue(
            conn,
            Some(pool.tenant_id),
            OutboxKind::SeatsTakenBack,
            &dedupe,
            payload,
        )
        .await?;
    }
    Ok(())
}

/// Pools that give more than their orders pay for (there should be none): more seats given
/// than bought and held, more working seat entitlements than usable seats, or a stored size
/// that is not what the orders say. For `lyceum reconcile --report`.
pub async fn over_paid(conn: &impl ConnectionTrait) -> AppResult<Vec<SeatPoolId>> {
    let mut found = Vec::new();
    for pool in seat_pools::Entity::find().all(conn).await? {
        let live = seat_assignments::Entity::find()
            .filter(seat_assignments::Column::TenantId.eq(pool.tenant_id))
            .filter(seat_assignments::Column::PoolId.eq(pool.id))
            .filter(seat_assignments::Column::Status.ne(AssignmentStatus::Ended))
            .all(conn)
            .await?;
        let working = crate::entities::entitlements::Entity::find()
            .filter(crate::entities::entitlements::Column::TenantId.eq(pool.tenant_id))
            .filter(
                crate::entities::entitlements::Column::Id
                    .is_in(live.iter().filter_map(|a| a.entitlement_id)),
            )
            .filter(crate::entities::entitlements::Column::Status.eq(EntitlementStatus::Active))
            .all(conn)
            .await?
            .len();
        let given = live.len();
        let size = capacity(conn, &pool).await?;
        let fits = |n: usize, limit: i32| usize::try_from(limit).is_ok_and(|l| n <= l);
        if size != (pool.purchased, pool.held)
            || !fits(given, pool.purchased.saturating_add(pool.held))
            || !fits(working, pool.purchased)
        {
            found.push(pool.id);
        }
    }
    Ok(found)
}

/// Working seat entitlements that no live assignment holds (there should be none): access a
/// seat gave that outlived the seat. For `lyceum reconcile --report`.
pub async fn stray_access(conn: &impl ConnectionTrait) -> AppResult<Vec<EntitlementId>> {
    use crate::entities::entitlements;
    use crate::entities::entitlements::EntitlementSource;
    let held: std::collections::HashSet<EntitlementId> = seat_assignments::Entity::find()
        .filter(seat_assignments::Column::Status.eq(AssignmentStatus::Active))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|a| a.entitlement_id)
        .collect();
    Ok(entitlements::Entity::find()
        .select_only()
        .column(entitlements::Column::Id)
        .filter(entitlements::Column::Source.eq(EntitlementSource::Seat))
        .filter(entitlements::Column::Status.eq(EntitlementStatus::Active))
        .into_tuple::<EntitlementId>()
        .all(conn)
        .await?
        .into_iter()
        .filter(|id| !held.contains(id))
        .collect())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_partial_refund_keeps_the_seats_still_paid_for_in_full() {
        assert_eq!(kept_seats(10, 1000, 1000, 0), 10);
        assert_eq!(kept_seats(10, 1000, 1000, 300), 7);
        assert_eq!(
            kept_seats(10, 1000, 1000, 301),
            6,
            "a seat part-refunded is gone"
        );
        assert_eq!(kept_seats(10, 1000, 1000, 1000), 0);
        assert_eq!(
            kept_seats(10, 1000, 2000, 1000),
            10,
            "a double payment refunded"
        );
        assert_eq!(kept_seats(3, 0, 0, 0), 3, "nothing to pay");
    }

    #[test]
    fn refunding_by_the_seat_gives_back_what_the_seats_cost() {
        assert_eq!(seats_to_refund(10, 1000, 1000, 0, 3), Some(300));
        assert_eq!(seats_to_refund(3, 1000, 1000, 0, 1), Some(333));
        assert_eq!(seats_to_refund(3, 1000, 1000, 333, 1), Some(333));
        assert_eq!(
            seats_to_refund(3, 1000, 1000, 666, 1),
            Some(334),
            "the last seat takes the rest"
        );
        assert_eq!(seats_to_refund(3, 1000, 1000, 0, 4), None);
        assert_eq!(
            seats_to_refund(10, 1000, 2000, 0, 3),
            Some(1300),
            "paid twice: the extra goes back with the seats"
        );
        assert_eq!(kept_seats(10, 1000, 2000, 1300), 7);
        assert_eq!(seats_to_refund(3, 1000, 1000, 0, 0), None);
    }

    proptest! {
        /// Refunding seats one at a time or all at once ends with the same seats and gives
        /// back exactly what was kept.
        #[test]
        fn seat_refunds_add_up(quantity in 1_i32..50, unit in 1_i64..100_000, take in 1_i32..50) {
            let total = unit * i64::from(quantity);
            let take = take.min(quantity);
            let mut refunded = 0;
            for _ in 0..take {
                let amount = seats_to_refund(quantity, total, total, refunded, 1).unwrap();
                refunded += amount;
            }
            prop_assert_eq!(kept_seats(quantity, total, total, refunded), quantity - take);
            prop_assert_eq!(seats_to_refund(quantity, total, total, 0, take), Some(refunded));
        }
    }
}
