//! Co-instructors' shares of a course: who earns from its sales besides the storefront's
//! owner, in basis points of the sellers' part (what is left after the platform's fee). The
//! shares listed for a course sum to 10 000; the owner may be listed or not, and takes
//! whatever rounding leaves either way. A course without shares pays its owner everything.
//! An order keeps the shares its courses had when it was made ([`snapshot`]).

use std::collections::{BTreeMap, BTreeSet};

use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};

use crate::domain::Email;
use crate::entities::{course_shares, courses, order_shares, users};
use crate::error::{AppError, AppResult};
use crate::ids::{CourseId, OrderId, UserId};
use crate::services::catalog::{Course, courses as course_service};
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The most payees one course may have.
pub const MAX_SHARES: usize = 20;

/// One payee's share of a course.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub user_id: UserId,
    pub email: String,
    pub bps: u16,
}

/// A course's shares; empty when its owner takes everything.
pub async fn list(
    state: &AppState,
    auth: &Authorized<resource::Payee, action::Read>,
    tenant: &Tenant,
    course: &str,
) -> AppResult<Vec<Share>> {
    ensure_covers(auth, tenant)?;
    let course = course_service::find(&state.db, tenant, course).await?;
    read(&state.db, tenant, &course).await
}

async fn read(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    course: &Course,
) -> AppResult<Vec<Share>> {
    let rows = course_shares::Entity::find()
        .filter(course_shares::Column::TenantId.eq(tenant.id))
        .filter(course_shares::Column::CourseId.eq(course.id))
        .order_by_desc(course_shares::Column::Bps)
        .all(conn)
        .await?;
    let emails: BTreeMap<UserId, String> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Email)
        .filter(users::Column::Id.is_in(rows.iter().map(|r| r.user_id)))
        .into_tuple::<(UserId, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|share| {
            let email = emails
                .get(&share.user_id)
                .ok_or(AppError::NotFound("user"))?;
            Ok(Share {
                user_id: share.user_id,
                email: email.clone(),
                bps: u16::try_from(share.bps)
                    .map_err(|e| AppError::corrupt_field("course share", course.id, "bps", e))?,
            })
        })
        .collect()
}

/// Replaces a course's shares with `shares` (by e-mail of a registered user, basis points):
/// each between 1 and 10 000, nobody twice, summing to exactly 10 000; an empty list pays the
/// owner everything again. Orders already made keep the shares they were made with.
pub async fn replace(
    state: &AppState,
    auth: &Authorized<resource::Payee, action::Update>,
    tenant: &Tenant,
    course: &str,
    shares: &[(Email, u16)],
) -> AppResult<Vec<Share>> {
    ensure_covers(auth, tenant)?;
    let course = &course_service::find(&state.db, tenant, course).await?;
    if shares.len() > MAX_SHARES {
        return Err(AppError::invalid(
            "shares",
            format!("at most {MAX_SHARES} payees per course"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut total = 0_u32;
    for (i, (email, bps)) in shares.iter().enumerate() {
        if !(1..=10_000).contains(bps) {
            return Err(AppError::invalid(
                format!("shares[{i}].bps").as_str(),
                "must be between 1 and 10000",
            ));
        }
        if !seen.insert(email.as_str()) {
            return Err(AppError::invalid(
                format!("shares[{i}].email").as_str(),
                "is listed twice",
            ));
        }
        total += u32::from(*bps);
    }
    if !shares.is_empty() && total != 10_000 {
        return Err(AppError::invalid(
            "shares",
            format!("must sum to 10000 basis points, not {total}"),
        ));
    }
    let txn = state.db.begin().await?;
    // Two replacements of one course's shares take turns (SQLite's one writer connection
    // already serializes them): each deletes what the other wrote, never adds to it.
    if txn.get_database_backend() == DbBackend::Postgres {
        courses::Entity::find_by_id(course.id)
            .filter(courses::Column::TenantId.eq(tenant.id))
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let mut rows = Vec::with_capacity(shares.len());
    for (i, (email, bps)) in shares.iter().enumerate() {
        let user = users::Entity::find()
            .filter(users::Column::Email.eq(email.as_str()))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    format!("shares[{i}].email").as_str(),
                    "no user is registered with this address",
                )
            })?;
        rows.push(course_shares::ActiveModel {
            tenant_id: Set(tenant.id),
            course_id: Set(course.id),
            user_id: Set(user.id),
            bps: Set(i32::from(*bps)),
            created_at: Set(now()),
        });
    }
    course_shares::Entity::delete_many()
        .filter(course_shares::Column::TenantId.eq(tenant.id))
        .filter(course_shares::Column::CourseId.eq(course.id))
        .exec(&txn)
        .await?;
    if !rows.is_empty() {
        course_shares::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    let saved = read(&txn, tenant, course).await?;
    txn.commit().await?;
    tracing::info!(tenant.id = %tenant.id, course.id = %course.id, payees = saved.len(), "course shares set");
    Ok(saved)
}

/// The shares a checkout's courses have now, to keep with the order: per course, the
/// co-instructors' rows and the owner's (its basis points are what the others leave).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    rows: Vec<(CourseId, UserId, i32, bool)>,
}

impl Snapshot {
    /// Whether anyone besides the owner shares in the order.
    pub(crate) fn is_shared(&self) -> bool {
        self.rows.iter().any(|(_, _, _, owner)| !owner)
    }

    /// Writes the order's rows, inside the checkout's transaction; an order its owner does
    /// not share needs none.
    pub(crate) async fn write(
        &self,
        conn: &impl ConnectionTrait,
        tenant: &Tenant,
        order_id: OrderId,
    ) -> AppResult<()> {
        if !self.is_shared() {
            return Ok(());
        }
        order_shares::Entity::insert_many(self.rows.iter().map(|(course, user, bps, owner)| {
            order_shares::ActiveModel {
                tenant_id: Set(tenant.id),
                order_id: Set(order_id),
                course_id: Set(*course),
                user_id: Set(*user),
                bps: Set(*bps),
                owner: Set(*owner),
            }
        }))
        .exec_without_returning(conn)
        .await?;
        Ok(())
    }
}

/// The shares each of `courses` has now, for an order about to be made of them, so that it
/// is paid out as it was sold whatever changes later.
pub(crate) async fn snapshot(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    courses: &[CourseId],
) -> AppResult<Snapshot> {
    let current = course_shares::Entity::find()
        .filter(course_shares::Column::TenantId.eq(tenant.id))
        .filter(course_shares::Column::CourseId.is_in(courses.iter().copied()))
        .all(conn)
        .await?;
    let mut by_course: BTreeMap<CourseId, Vec<(UserId, i32)>> = BTreeMap::new();
    for row in current {
        by_course
            .entry(row.course_id)
            .or_default()
            .push((row.user_id, row.bps));
    }
    let mut rows = Vec::new();
    for course in courses {
        let others: Vec<(UserId, i32)> = by_course
            .remove(course)
            .unwrap_or_default()
            .into_iter()
            .filter(|(user, _)| *user != tenant.owner_id)
            .collect();
        let owner_bps = 10_000 - others.iter().map(|(_, bps)| bps).sum::<i32>();
        if owner_bps < 0 {
            return Err(AppError::conflict(
                "this course's shares add up to more than 100 %; its owner must set them again",
            ));
        }
        rows.push((*course, tenant.owner_id, owner_bps, true));
        rows.extend(
            others
                .into_iter()
                .map(|(user, bps)| (*course, user, bps, false)),
        );
    }
    Ok(Snapshot { rows })
}
