//! Giving seats to addresses, taking them back, and claiming invitations.

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};
use serde_json::json;

use super::pools::{self, Cause};
use super::{AssignmentStatus, EndReason, SeatAction};
use crate::domain::Email;
use crate::entities::outbox::OutboxKind;
use crate::entities::{seat_assignments, seat_events, seat_pools, users};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::{SeatAssignmentId, TeamId, UserId};
use crate::services::access::Changed;
use crate::services::accounts::{random_secret, sha256_hex};
use crate::services::catalog::courses as course_service;
use crate::services::invalidation::Invalidations;
use crate::services::notify::outbox;
use crate::services::now;
use crate::services::tenancy::tenants::Tenant;
use crate::state::AppState;

/// A seat given to an address, as the team's managers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: SeatAssignmentId,
    pub email: String,
    /// The holder, once someone registered with the address.
    pub user_id: Option<UserId>,
    pub status: AssignmentStatus,
    pub assigned_at: DateTime<Utc>,
}

impl From<seat_assignments::Model> for Assignment {
    fn from(m: seat_assignments::Model) -> Self {
        Self {
            id: m.id,
            email: m.email,
            user_id: m.user_id,
            status: m.status,
            assigned_at: m.assigned_at,
        }
    }
}

/// A 403 unless the proof was given inside `team` (or platform-wide).
pub(super) fn ensure_team<A: lyceum_tenants::rbac::Verb>(
    auth: &Authorized<resource::Seat, A>,
    team: TeamId,
) -> AppResult<UserId> {
    if !auth.covers_team(team) {
        return Err(AppError::Forbidden(
            "this proof is for another team's seats".into(),
        ));
    }
    auth.user_id()
        .ok_or(AppError::Unauthenticated("sign in to manage seats"))
}

/// The locked pool of `team`'s seats of `course` (a slug) in `tenant`; 404 when the team has
/// none there.
async fn locked_pool(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    team: TeamId,
    course: &str,
) -> AppResult<seat_pools::Model> {
    // One answer whether the course is unknown, a draft, or not bought by the team: seats
    // tell nothing about a storefront's courses.
    let course = match course_service::find(conn, tenant, course).await {
        Ok(course) => course,
        Err(AppError::NotFound(_)) => return Err(AppError::NotFound("seat pool")),
        Err(e) => return Err(e),
    };
    pools::lock(conn, tenant.id, team, course.id)
        .await?
        .ok_or(AppError::NotFound("seat pool"))
}

/// Gives a seat of `team`'s pool of `course` to `email` (the team's managers). Someone
/// registered with the address gets access at once; otherwise the seat is held by an
/// invitation whose link, e-mailed to the address, lets whoever registers with it take the
/// seat ([`accept`]). 409 when every seat
/// is taken (invitations count) or the address already holds one of the pool.
#[tracing::instrument(skip_all, fields(team.id = %team, tenant.id = %tenant.id))]
pub async fn assign(
    state: &AppState,
    auth: &Authorized<resource::Seat, action::Create>,
    team: TeamId,
    tenant: &Tenant,
    course: &str,
    email: &Email,
) -> AppResult<Assignment> {
    let actor = ensure_team(auth, team)?;
    let txn = state.db.begin().await?;
    let pool = locked_pool(&txn, tenant, team, course).await?;
    let taken = seat_assignments::Entity::find()
        .filter(seat_assignments::Column::TenantId.eq(pool.tenant_id))
        .filter(seat_assignments::Column::PoolId.eq(pool.id))
        .filter(seat_assignments::Column::Status.ne(AssignmentStatus::Ended))
        .count(&txn)
        .await?;
    if taken >= u64::try_from(pool.purchased).unwrap_or(0) {
        return Err(AppError::conflict(format!(
            "no seat is free: {taken} of {} are taken (invitations included)",
            pool.purchased
        )));
    }
    // Counted before anything depends on the address, and for every address alike.
    ensure_assignments_left(&txn, &pool).await?;
    let holder = users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?;
    let at = now();
    // Someone without an account gets a link to take the seat once they have one.
    let token = holder
        .is_none()
        .then(|| format!("seat_{}", random_secret()));
    let row = seat_assignments::ActiveModel {
        id: Set(SeatAssignmentId::new_v7()),
        tenant_id: Set(pool.tenant_id),
        pool_id: Set(pool.id),
        email: Set(email.as_str().to_owned()),
        user_id: Set(holder.as_ref().map(|u| u.id)),
        status: Set(if holder.is_some() {
            AssignmentStatus::Active
        } else {
            AssignmentStatus::Invited
        }),
        live_key: Set(Some(live_key(&pool, email.as_str()))),
        token_hash: Set(token.as_deref().map(sha256_hex)),
        entitlement_id: Set(None),
        assigned_by: Set(actor),
        assigned_at: Set(at),
        activated_at: Set(holder.is_some().then_some(at)),
        ended_at: Set(None),
        ended_by: Set(None),
        end_reason: Set(None),
    }
    .insert(&txn)
    .await;
    let row = match row {
        Ok(row) => row,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::conflict(
                "this address already holds a seat of this course in the team",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let cause = Cause {
        actor: Some(actor),
        order: None,
    };
    let (action, changes) = match &token {
        None => (
            SeatAction::Assigned,
            pools::fit(&txn, pool.clone(), cause).await?,
        ),
        Some(token) => {
            invite_mail(&txn, state, &pool, tenant, &row, token).await?;
            (SeatAction::Invited, Vec::new())
        }
    };
    pools::record(&txn, &pool, Some(&row), action, cause).await?;
    let row = seat_assignments::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or(AppError::Internal("a seat assignment just made is gone"))?;
    state.commit(txn, invalidations(&changes)).await?;
    tracing::info!(team.id = %team, assignment.id = %row.id, status = row.status.as_str(), "seat assigned");
    Ok(row.into())
}

/// Takes `team`'s seat of `course` back from `user` (the team's managers): their seat access
/// ends, the seat is free again; access they bought themselves stays. 404 when they hold none.
#[tracing::instrument(skip_all, fields(team.id = %team, tenant.id = %tenant.id, user.id = %user))]
pub async fn revoke(
    state: &AppState,
    auth: &Authorized<resource::Seat, action::Delete>,
    team: TeamId,
    tenant: &Tenant,
    course: &str,
    user: UserId,
) -> AppResult<()> {
    let actor = ensure_team(auth, team)?;
    end_one(
        state,
        tenant,
        team,
        course,
        seat_assignments::Column::UserId.eq(user),
        EndReason::Revoked,
        actor,
    )
    .await
}

/// Cancels an invitation of `team`'s pool of `course` (the team's managers): the seat it held
/// is free again. 404 when there is no such pending invitation.
#[tracing::instrument(skip_all, fields(team.id = %team, tenant.id = %tenant.id, assignment.id = %invitation))]
pub async fn cancel(
    state: &AppState,
    auth: &Authorized<resource::Seat, action::Delete>,
    team: TeamId,
    tenant: &Tenant,
    course: &str,
    invitation: SeatAssignmentId,
) -> AppResult<()> {
    let actor = ensure_team(auth, team)?;
    end_one(
        state,
        tenant,
        team,
        course,
        seat_assignments::Column::Id.eq(invitation),
        EndReason::Cancelled,
        actor,
    )
    .await
}

/// Ends the live assignment `which` picks in `team`'s pool of `course`: a holder's seat
/// (revoked) or an invitation (cancelled).
async fn end_one(
    state: &AppState,
    tenant: &Tenant,
    team: TeamId,
    course: &str,
    which: sea_orm::sea_query::SimpleExpr,
    reason: EndReason,
    actor: UserId,
) -> AppResult<()> {
    let status = match reason {
        EndReason::Cancelled => AssignmentStatus::Invited,
        EndReason::Revoked | EndReason::Refunded => AssignmentStatus::Active,
    };
    let txn = state.db.begin().await?;
    let pool = locked_pool(&txn, tenant, team, course).await?;
    let assignment = seat_assignments::Entity::find()
        .filter(seat_assignments::Column::TenantId.eq(pool.tenant_id))
        .filter(seat_assignments::Column::PoolId.eq(pool.id))
        .filter(seat_assignments::Column::Status.eq(status))
        .filter(which)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound(match reason {
            EndReason::Cancelled => "seat invitation",
            EndReason::Revoked | EndReason::Refunded => "seat assignment",
        }))?;
    let cause = Cause {
        actor: Some(actor),
        order: None,
    };
    let mut changes = pools::end(&txn, &pool, assignment, reason, cause).await?;
    // A freed seat may be the one a suspended holder was waiting for.
    changes.extend(pools::fit(&txn, pool, cause).await?);
    state.commit(txn, invalidations(&changes)).await?;
    tracing::info!(team.id = %team, reason = reason.as_str(), "seat freed");
    Ok(())
}

/// Takes the seat an invitation holds, for the signed-in user, who must hold the invited
/// address (the token proves the mailbox; the account, the address). Whatever is wrong with
/// the token — unknown, cancelled, taken, or sent to another address — the answer is the
/// same 404. Returns the seat, now the caller's.
#[tracing::instrument(skip_all, fields(user.id = auth.user_id().map(tracing::field::display)))]
pub async fn accept(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Update>,
    token: &str,
) -> AppResult<Assignment> {
    let user = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to take a seat"))?;
    let gone = || AppError::NotFound("seat invitation");
    let token_hash = sha256_hex(token);
    let txn = state.db.begin().await?;
    let found = seat_assignments::Entity::find()
        .filter(seat_assignments::Column::TokenHash.eq(token_hash.as_str()))
        .filter(seat_assignments::Column::Status.eq(AssignmentStatus::Invited))
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    let pool = seat_pools::Entity::find_by_id(found.pool_id)
        .filter(seat_pools::Column::TenantId.eq(found.tenant_id))
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    // Locked, then read again: a manager may have cancelled it meanwhile.
    let pool = pools::lock(&txn, pool.tenant_id, pool.team_id, pool.course_id)
        .await?
        .ok_or_else(gone)?;
    let invitation = seat_assignments::Entity::find_by_id(found.id)
        .filter(seat_assignments::Column::Status.eq(AssignmentStatus::Invited))
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    let holder = users::Entity::find_by_id(user)
        .one(&txn)
        .await?
        .ok_or_else(gone)?;
    if !holder.email.eq_ignore_ascii_case(&invitation.email) {
        return Err(gone());
    }
    let mut row: seat_assignments::ActiveModel = invitation.into();
    row.status = Set(AssignmentStatus::Active);
    row.user_id = Set(Some(user));
    row.token_hash = Set(None);
    row.activated_at = Set(Some(now()));
    let row = row.update(&txn).await?;
    let cause = Cause {
        actor: Some(user),
        order: None,
    };
    pools::record(&txn, &pool, Some(&row), SeatAction::Claimed, cause).await?;
    let changes = pools::fit(&txn, pool, cause).await?;
    state.commit(txn, invalidations(&changes)).await?;
    tracing::info!(assignment.id = %row.id, "seat invitation accepted");
    Ok(row.into())
}

/// The most seats one pool gives a day: enough to give every seat a few times over, too few
/// to make the platform a mailer (inviting and cancelling in a loop) or a directory (giving
/// and revoking to learn which addresses have accounts).
fn daily_assignments(pool: &seat_pools::Model) -> u64 {
    u64::try_from(pool.purchased)
        .unwrap_or(0)
        .saturating_mul(3)
        .max(20)
}

async fn ensure_assignments_left(
    conn: &impl ConnectionTrait,
    pool: &seat_pools::Model,
) -> AppResult<()> {
    let since = now() - chrono::Duration::hours(24);
    let sent = seat_events::Entity::find()
        .filter(seat_events::Column::TenantId.eq(pool.tenant_id))
        .filter(seat_events::Column::PoolId.eq(pool.id))
        .filter(seat_events::Column::Action.is_in([SeatAction::Invited, SeatAction::Assigned]))
        .filter(seat_events::Column::At.gt(since))
        .count(conn)
        .await?;
    if sent >= daily_assignments(pool) {
        return Err(AppError::RateLimited { retry_after: 3600 });
    }
    Ok(())
}

fn live_key(pool: &seat_pools::Model, email: &str) -> String {
    format!("{}:{email}", pool.id)
}

fn invalidations(changes: &[Changed]) -> Invalidations {
    Invalidations::access(changes.iter().map(|c| c.key))
}

/// The invitation e-mail, in the assigning transaction.
async fn invite_mail(
    conn: &impl ConnectionTrait,
    state: &AppState,
    pool: &seat_pools::Model,
    tenant: &Tenant,
    row: &seat_assignments::Model,
    token: &str,
) -> AppResult<()> {
    let (team, course, _) = pools::names(conn, pool).await?;
    let base = state.settings.public_url.as_str().trim_end_matches('/');
    let payload = json!({
        "to": row.email,
        "team": team,
        "course": course,
        "tenant": tenant.name,
        "link": format!("{base}/seat-invitations/{token}"),
    });
    outbox::enqueue(
        conn,
        Some(pool.tenant_id),
        OutboxKind::SeatInvitation,
        &format!("seat-invitation:{}", row.id),
        payload,
    )
    .await
}
