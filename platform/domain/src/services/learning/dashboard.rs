//! A learner's dashboard: every course they hold or have studied, with their access, how far
//! they got, where they stopped, when access ends and their certificate.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::entitlements::EntitlementStatus;
use crate::entities::{certificates, course_progress, courses, entitlements, lessons, tenants};
use crate::error::{AppError, AppResult};
use crate::ids::{CourseId, LessonId, TenantId};
use crate::services::now;
use crate::state::AppState;

/// Where a learner's access to a course stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Access was refunded or taken back.
    Revoked,
    /// The access period ran out.
    Expired,
    /// Held while a dispute is open.
    Suspended,
    /// A free course (studied without an entitlement).
    Free,
    Active,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Suspended => "suspended",
            Self::Free => "free",
            Self::Active => "active",
        }
    }
}

/// One course on the dashboard.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub storefront: String,
    pub storefront_name: String,
    pub course: String,
    pub course_title: String,
    pub standing: Standing,
    pub expires_at: Option<DateTime<Utc>>,
    pub percent: u8,
    pub last_lesson: Option<(LessonId, String)>,
    pub completed_at: Option<DateTime<Utc>>,
    pub certificate: Option<String>,
    /// When the learner's progress last changed.
    pub studied_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Row {
    standing: Option<Standing>,
    expires_at: Option<DateTime<Utc>>,
    progress: Option<course_progress::Model>,
}

/// The signed-in learner's courses, most recently studied first.
pub async fn mine(
    state: &AppState,
    auth: &Authorized<resource::Account, action::Read>,
) -> AppResult<Vec<Enrolled>> {
    let user = auth
        .user_id()
        .ok_or(AppError::Unauthenticated("sign in to see your courses"))?;
    let at = now();
    let mut rows: BTreeMap<(TenantId, CourseId), Row> = BTreeMap::new();
    for e in entitlements::Entity::find()
        .filter(entitlements::Column::UserId.eq(user))
        .all(&state.db)
        .await?
    {
        let standing = match e.status {
            EntitlementStatus::Active if e.expires_at.is_some_and(|x| x <= at) => Standing::Expired,
            EntitlementStatus::Active => Standing::Active,
            EntitlementStatus::Suspended => Standing::Suspended,
            EntitlementStatus::Revoked => Standing::Revoked,
        };
        let row = rows.entry((e.tenant_id, e.course_id)).or_default();
        // The best standing wins; among active ones, the latest end.
        if row.standing.is_none_or(|s| standing > s)
            || (row.standing == Some(standing)
                && row.expires_at.is_some()
                && e.expires_at
                    .is_none_or(|x| row.expires_at.is_some_and(|y| x > y)))
        {
            row.standing = Some(standing);
            row.expires_at = e.expires_at;
        }
    }
    for p in course_progress::Entity::find()
        .filter(course_progress::Column::UserId.eq(user))
        .all(&state.db)
        .await?
    {
        let key = (p.tenant_id, p.course_id);
        rows.entry(key).or_default().progress = Some(p);
    }
    let course_ids: Vec<CourseId> = rows.keys().map(|(_, c)| *c).collect();
    let course_rows: HashMap<CourseId, courses::Model> = courses::Entity::find()
        .filter(courses::Column::Id.is_in(course_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let tenant_ids: Vec<TenantId> = rows.keys().map(|(t, _)| *t).collect();
    let tenant_rows: HashMap<TenantId, tenants::Model> = tenants::Entity::find()
        .filter(tenants::Column::Id.is_in(tenant_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let last_ids: Vec<LessonId> = rows
        .values()
        .filter_map(|r| r.progress.as_ref().and_then(|p| p.last_lesson_id))
        .collect();
    let lesson_titles: HashMap<LessonId, String> = lessons::Entity::find()
        .filter(lessons::Column::Id.is_in(last_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.title))
        .collect();
    let codes: HashMap<(TenantId, CourseId), String> = certificates::Entity::find()
        .filter(certificates::Column::UserId.eq(user))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| ((c.tenant_id, c.course_id), c.code))
        .collect();
    let mut out = Vec::with_capacity(rows.len());
    for ((tenant, course), row) in rows {
        let (Some(c), Some(t)) = (course_rows.get(&course), tenant_rows.get(&tenant)) else {
            continue;
        };
        let progress = row.progress.as_ref();
        let completed = progress.is_some_and(|p| p.completed_at.is_some());
        // Progress in a paid course's free previews (or a draft's) alone is no enrolment.
        if row.standing.is_none() && (c.price_amount > 0 || !c.published) && !completed {
            continue;
        }
        out.push(Enrolled {
            storefront: t.slug.clone(),
            storefront_name: t.name.clone(),
            course: c.slug.clone(),
            course_title: c.title.clone(),
            standing: row.standing.unwrap_or(Standing::Free),
            expires_at: row.expires_at,
            percent: progress
                .and_then(|p| u8::try_from(p.percent).ok())
                .unwrap_or_default(),
            last_lesson: progress
                .and_then(|p| p.last_lesson_id)
                .and_then(|id| lesson_titles.get(&id).map(|t| (id, t.clone()))),
            completed_at: progress.and_then(|p| p.completed_at),
            certificate: codes.get(&(tenant, course)).cloned(),
            studied_at: progress.map(|p| p.updated_at),
        });
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.studied_at));
    Ok(out)
}
