//! Read-only numbers for a storefront's dashboard and its course pages in the studio:
//! enrolments by day, paid orders, how many learners completed each course, quiz scores, and
//! who is enrolled in a course.
//!
//! The storefront-wide numbers are reports: they take the proof the revenue report takes
//! (`balance, read`, the owner's). A course's learners are people with their addresses: they
//! take the proof that reads the storefront's orders (`order, read`, the owner's too).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::courses::find as find_course;
use crate::entities::entitlements::{EntitlementSource, EntitlementStatus};
use crate::entities::{course_progress, courses, entitlements, orders, quiz_attempts, users};
use crate::error::AppResult;
use crate::ids::{CourseId, UserId};
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The proof the storefront's reports take: the revenue report's.
pub type Reports = Authorized<resource::Balance, action::Read>;

/// The most learners one list of a course's learners holds.
pub const MAX_LEARNERS: u64 = 500;

/// Access given per day (UTC) from `from` (inclusive) to `to` (exclusive): purchases, seats
/// and grants. Free courses are studied without being given access, so they count here only
/// when someone was given them. Days without any are absent.
pub async fn enrollments_by_day(
    state: &AppState,
    auth: &Reports,
    tenant: &Tenant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<BTreeMap<NaiveDate, u64>> {
    ensure_covers(auth, tenant)?;
    let granted: Vec<DateTime<Utc>> = entitlements::Entity::find()
        .select_only()
        .column(entitlements::Column::GrantedAt)
        .filter(entitlements::Column::TenantId.eq(tenant.id))
        .filter(entitlements::Column::GrantedAt.gte(from))
        .filter(entitlements::Column::GrantedAt.lt(to))
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut days = BTreeMap::new();
    for at in granted {
        *days.entry(at.date_naive()).or_insert(0) += 1;
    }
    Ok(days)
}

/// Orders made from `from` (inclusive) to `to` (exclusive) whose payment arrived, whatever
/// happened to them later (refunds, disputes).
pub async fn paid_orders(
    state: &AppState,
    auth: &Reports,
    tenant: &Tenant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<u64> {
    ensure_covers(auth, tenant)?;
    Ok(orders::Entity::find()
        .filter(orders::Column::TenantId.eq(tenant.id))
        .filter(orders::Column::PaidAmount.gt(0))
        .filter(orders::Column::CreatedAt.gte(from))
        .filter(orders::Column::CreatedAt.lt(to))
        .count(&state.db)
        .await?)
}

/// How far the learners of one course got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseCompletion {
    pub course_id: CourseId,
    pub slug: String,
    pub title: String,
    /// Learners who started it (opened a lesson).
    pub learners: u64,
    /// Of them, those whose completion rule held.
    pub completed: u64,
}

impl CourseCompletion {
    /// Completed learners in percent of those who started, rounded down; `None` before anyone
    /// started.
    pub fn rate(&self) -> Option<u8> {
        (self.learners > 0)
            .then(|| u8::try_from(self.completed.min(self.learners) * 100 / self.learners).ok())
            .flatten()
    }
}

/// Every course of the storefront that someone started, oldest course first.
pub async fn completion(
    state: &AppState,
    auth: &Reports,
    tenant: &Tenant,
) -> AppResult<Vec<CourseCompletion>> {
    ensure_covers(auth, tenant)?;
    let counted: HashMap<CourseId, (i64, i64)> = course_progress::Entity::find()
        .select_only()
        .column(course_progress::Column::CourseId)
        .column_as(count(course_progress::Column::Id), "learners")
        .column_as(count(course_progress::Column::CompletedAt), "completed")
        .filter(course_progress::Column::TenantId.eq(tenant.id))
        .group_by(course_progress::Column::CourseId)
        .into_tuple::<(CourseId, i64, i64)>()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|(course, learners, completed)| (course, (learners, completed)))
        .collect();
    if counted.is_empty() {
        return Ok(Vec::new());
    }
    let titles = courses::Entity::find()
        .filter(courses::Column::TenantId.eq(tenant.id))
        .filter(courses::Column::Id.is_in(counted.keys().copied()))
        .order_by_asc(courses::Column::Id)
        .all(&state.db)
        .await?;
    Ok(titles
        .into_iter()
        .filter_map(|course| {
            let (learners, completed) = counted.get(&course.id)?;
            Some(CourseCompletion {
                course_id: course.id,
                slug: course.slug,
                title: course.title,
                learners: u64::try_from(*learners).unwrap_or_default(),
                completed: u64::try_from(*completed).unwrap_or_default(),
            })
        })
        .collect())
}

/// How many submitted quiz attempts of the storefront scored each percentage (0–100); scores
/// nobody got are absent.
pub async fn quiz_scores(
    state: &AppState,
    auth: &Reports,
    tenant: &Tenant,
) -> AppResult<BTreeMap<u8, u64>> {
    ensure_covers(auth, tenant)?;
    let rows = quiz_attempts::Entity::find()
        .select_only()
        .column(quiz_attempts::Column::Score)
        .column_as(count(quiz_attempts::Column::Id), "attempts")
        .filter(quiz_attempts::Column::TenantId.eq(tenant.id))
        .filter(quiz_attempts::Column::Score.is_not_null())
        .group_by(quiz_attempts::Column::Score)
        .into_tuple::<(Option<i32>, i64)>()
        .all(&state.db)
        .await?;
    let mut scores = BTreeMap::new();
    for (score, attempts) in rows {
        if let Some(score) = score.and_then(|s| u8::try_from(s.clamp(0, 100)).ok()) {
            *scores.entry(score).or_insert(0) += u64::try_from(attempts).unwrap_or_default();
        }
    }
    Ok(scores)
}

/// One learner of a course, as the storefront's owner sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Learner {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    /// How they got access: `purchase`, `seat`, `subscription` or `grant`; `free` for a free
    /// course studied without being given it.
    pub source: &'static str,
    /// `active`, `suspended` (a dispute is open), `revoked` or `expired`; `free` likewise.
    pub status: &'static str,
    /// When access was given (the earliest of their entitlements); `None` for `free`.
    pub since: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Progress in percent.
    pub percent: u8,
    pub completed_at: Option<DateTime<Utc>>,
}

/// Who is enrolled in a course: everyone given access (bought, a seat, a grant), and for a
/// free course everyone who started it; most recent first, at most [`MAX_LEARNERS`].
pub async fn learners(
    state: &AppState,
    auth: &Authorized<resource::Order, action::Read>,
    tenant: &Tenant,
    course_slug: &str,
) -> AppResult<Vec<Learner>> {
    ensure_covers(auth, tenant)?;
    let course = find_course(&state.db, tenant, course_slug).await?;
    let at = Utc::now();
    let granted = entitlements::Entity::find()
        .filter(entitlements::Column::TenantId.eq(tenant.id))
        .filter(entitlements::Column::CourseId.eq(course.id))
        .order_by_desc(entitlements::Column::GrantedAt)
        .limit(MAX_LEARNERS)
        .all(&state.db)
        .await?;
    let progress: HashMap<UserId, course_progress::Model> = course_progress::Entity::find()
        .filter(course_progress::Column::TenantId.eq(tenant.id))
        .filter(course_progress::Column::CourseId.eq(course.id))
        .order_by_desc(course_progress::Column::UpdatedAt)
        .limit(MAX_LEARNERS)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.user_id, p))
        .collect();
    // One row per learner: their best entitlement (active over suspended over revoked).
    let mut rows: Vec<(UserId, Option<entitlements::Model>)> = Vec::new();
    let mut seen: HashMap<UserId, usize> = HashMap::new();
    for e in granted {
        match seen.get(&e.user_id) {
            Some(&i) => {
                if let Some(Some(kept)) = rows.get_mut(i).map(|r| &mut r.1)
                    && rank(&e, at) > rank(kept, at)
                {
                    *kept = e;
                }
            }
            None => {
                seen.insert(e.user_id, rows.len());
                rows.push((e.user_id, Some(e)));
            }
        }
    }
    if course.is_free() {
        for user in progress.keys() {
            if !seen.contains_key(user) {
                seen.insert(*user, rows.len());
                rows.push((*user, None));
            }
        }
    }
    rows.truncate(usize::try_from(MAX_LEARNERS).unwrap_or(usize::MAX));
    let people: HashMap<UserId, (String, String)> = users::Entity::find()
        .filter(users::Column::Id.is_in(rows.iter().map(|(u, _)| *u)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|u| (u.id, (u.name, u.email)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(user_id, entitlement)| {
            let (name, email) = people.get(&user_id).cloned().unwrap_or_default();
            let p = progress.get(&user_id);
            let (source, status, since, expires_at) = match &entitlement {
                Some(e) => (
                    source_name(e.source),
                    status_name(e, at),
                    Some(e.granted_at),
                    e.expires_at,
                ),
                None => ("free", "free", None, None),
            };
            Learner {
                user_id,
                name,
                email,
                source,
                status,
                since,
                expires_at,
                percent: p
                    .and_then(|p| u8::try_from(p.percent.clamp(0, 100)).ok())
                    .unwrap_or_default(),
                completed_at: p.and_then(|p| p.completed_at),
            }
        })
        .collect())
}

/// `COUNT(column)` as a `BIGINT` on every backend.
fn count(column: impl sea_orm::sea_query::IntoColumnRef) -> Expr {
    Func::cast_as(Func::count(Expr::col(column)), Alias::new("BIGINT")).into()
}

fn source_name(source: EntitlementSource) -> &'static str {
    match source {
        EntitlementSource::Purchase => "purchase",
        EntitlementSource::Seat => "seat",
        EntitlementSource::Subscription => "subscription",
        EntitlementSource::Grant => "grant",
    }
}

fn status_name(e: &entitlements::Model, at: DateTime<Utc>) -> &'static str {
    match e.status {
        EntitlementStatus::Active if e.expires_at.is_some_and(|x| x <= at) => "expired",
        EntitlementStatus::Active => "active",
        EntitlementStatus::Suspended => "suspended",
        EntitlementStatus::Revoked => "revoked",
    }
}

/// Which of a learner's entitlements speaks for them: the one that gives the most.
fn rank(e: &entitlements::Model, at: DateTime<Utc>) -> u8 {
    match status_name(e, at) {
        "active" => 3,
        "suspended" => 2,
        "expired" => 1,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_rate_is_rounded_down_and_absent_before_anyone_started() {
        let course = |learners, completed| CourseCompletion {
            course_id: CourseId::new_v7(),
            slug: "c".into(),
            title: "C".into(),
            learners,
            completed,
        };
        assert_eq!(course(0, 0).rate(), None);
        assert_eq!(course(3, 1).rate(), Some(33));
        assert_eq!(course(2, 2).rate(), Some(100));
    }
}
