//! Creating, changing and publishing courses (tenant staff).

use lyceum_gateway_core::Money;
use lyceum_tenants::Slug;
use lyceum_tenants::rbac::{Authorized, ReadsCourses, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};

use super::{Course, CourseDescription, CourseTitle, Curriculum};
use crate::entities::courses;
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::CourseId;
use crate::services::invalidation::Invalidations;
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The longest access period a course may sell: 100 years.
pub const MAX_ACCESS_DAYS: u32 = 36_500;

/// A validated new course.
#[derive(Debug)]
pub struct NewCourse {
    pub slug: Slug,
    pub title: CourseTitle,
    pub description: CourseDescription,
    pub price: Money,
    pub access_days: Option<u32>,
}

/// Changes to a course; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct CoursePatch {
    pub title: Option<CourseTitle>,
    pub description: Option<CourseDescription>,
    pub price: Option<Money>,
    /// `Some(None)` makes access lifetime.
    pub access_days: Option<Option<u32>>,
    /// How much of a required video counts as watched (1–100 percent).
    pub complete_percent: Option<u8>,
}

fn check_price(tenant: &Tenant, price: &Money) -> AppResult<()> {
    if price.currency != tenant.currency {
        return Err(AppError::invalid(
            "price.currency",
            format!("this storefront sells in {}", tenant.currency),
        ));
    }
    crate::domain::check_price_cap("price", *price)?;
    Ok(())
}

fn check_access_days(days: Option<u32>) -> AppResult<Option<i32>> {
    match days {
        None => Ok(None),
        Some(d) if (1..=MAX_ACCESS_DAYS).contains(&d) => Ok(i32::try_from(d).ok()),
        Some(_) => Err(AppError::invalid(
            "access_days",
            format!("must be between 1 and {MAX_ACCESS_DAYS}, or absent for lifetime access"),
        )),
    }
}

/// Creates an unpublished course.
pub async fn create(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Create>,
    tenant: &Tenant,
    input: NewCourse,
) -> AppResult<Course> {
    ensure_covers(auth, tenant)?;
    check_price(tenant, &input.price)?;
    let access_days = check_access_days(input.access_days)?;
    let at = now();
    let inserted = courses::ActiveModel {
        id: Set(CourseId::new_v7()),
        tenant_id: Set(tenant.id),
        slug: Set(input.slug.as_str().to_owned()),
        title: Set(input.title.into_inner()),
        description: Set(input.description.into_inner()),
        price_amount: Set(input.price.amount.get()),
        currency: Set(input.price.currency.code().to_owned()),
        access_days: Set(access_days),
        published: Set(false),
        published_at: Set(None),
        complete_percent: Set(80),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(course) => course.try_into(),
        Err(e) if is_unique_violation(&e) => Err(AppError::conflict(format!(
            "this storefront already has a course `{}`",
            input.slug
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Changes a course.
pub async fn update(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    slug: &str,
    patch: CoursePatch,
) -> AppResult<Course> {
    ensure_covers(auth, tenant)?;
    let course = find(&state.db, tenant, slug).await?;
    let mut active = courses::ActiveModel {
        id: Set(course.id),
        updated_at: Set(now()),
        ..Default::default()
    };
    if let Some(title) = patch.title {
        active.title = Set(title.into_inner());
    }
    if let Some(description) = patch.description {
        active.description = Set(description.into_inner());
    }
    if let Some(price) = patch.price {
        check_price(tenant, &price)?;
        active.price_amount = Set(price.amount.get());
    }
    if let Some(days) = patch.access_days {
        active.access_days = Set(check_access_days(days)?);
    }
    if let Some(percent) = patch.complete_percent {
        if !(1..=100).contains(&percent) {
            return Err(AppError::invalid("complete_percent", "must be 1 to 100"));
        }
        active.complete_percent = Set(i32::from(percent));
    }
    let txn = state.db.begin().await?;
    let updated = active.update(&txn).await?;
    state
        .commit(txn, Invalidations::course(tenant.id, slug))
        .await?;
    updated.try_into()
}

/// Deletes a course nobody has bought or been given: with orders, access or certificates it
/// is refused (409) — take it off the catalog instead.
pub async fn delete(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Delete>,
    tenant: &Tenant,
    slug: &str,
) -> AppResult<()> {
    use sea_orm::PaginatorTrait;

    use crate::entities::{certificates, entitlements, lessons, order_lines, seat_pools};
    ensure_covers(auth, tenant)?;
    let txn = state.db.begin().await?;
    let course = find(&txn, tenant, slug).await?;
    let sold = order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(tenant.id))
        .filter(order_lines::Column::CourseId.eq(course.id))
        .count(&txn)
        .await?
        + entitlements::Entity::find()
            .filter(entitlements::Column::TenantId.eq(tenant.id))
            .filter(entitlements::Column::CourseId.eq(course.id))
            .count(&txn)
            .await?
        + certificates::Entity::find()
            .filter(certificates::Column::TenantId.eq(tenant.id))
            .filter(certificates::Column::CourseId.eq(course.id))
            .count(&txn)
            .await?
        + seat_pools::Entity::find()
            .filter(seat_pools::Column::TenantId.eq(tenant.id))
            .filter(seat_pools::Column::CourseId.eq(course.id))
            .count(&txn)
            .await?;
    if sold > 0 {
        return Err(AppError::conflict(
            "this course has orders or learners; unpublish it instead",
        ));
    }
    let lesson_rows = lessons::Entity::find()
        .filter(lessons::Column::TenantId.eq(tenant.id))
        .filter(lessons::Column::CourseId.eq(course.id))
        .all(&txn)
        .await?;
    let mut rendered = Vec::new();
    for lesson in &lesson_rows {
        rendered
            .extend(crate::services::media::videos::hls_prefix(&txn, tenant.id, lesson.id).await?);
    }
    courses::Entity::delete_by_id(course.id)
        .filter(courses::Column::TenantId.eq(tenant.id))
        .exec(&txn)
        .await?;
    state
        .commit(txn, Invalidations::course(tenant.id, slug))
        .await?;
    let assets = lesson_rows
        .into_iter()
        .filter_map(|l| l.asset_key)
        .collect();
    for prefix in rendered {
        crate::services::media::videos::delete_prefix(state, &prefix).await;
    }
    super::curriculum::forget_files(state, assets, None).await;
    Ok(())
}

/// Publishes (or unpublishes) a course; publishing twice keeps the first publication time.
pub async fn set_published(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Publish>,
    tenant: &Tenant,
    slug: &str,
    published: bool,
) -> AppResult<Course> {
    ensure_covers(auth, tenant)?;
    let course = find(&state.db, tenant, slug).await?;
    let at = now();
    let txn = state.db.begin().await?;
    let updated = courses::ActiveModel {
        id: Set(course.id),
        published: Set(published),
        published_at: Set(if published {
            course.published_at.or(Some(at))
        } else {
            course.published_at
        }),
        updated_at: Set(at),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    state
        .commit(txn, Invalidations::course(tenant.id, slug))
        .await?;
    updated.try_into()
}

/// Every course of the tenant, drafts included, newest first.
pub async fn list_all(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<Course>> {
    ensure_covers(auth, tenant)?;
    courses::Entity::find()
        .filter(courses::Column::TenantId.eq(tenant.id))
        .order_by_desc(courses::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(Course::try_from)
        .collect()
}

/// A course with its curriculum, drafts and lesson bodies included (staff).
pub async fn get_for_staff(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Read>,
    tenant: &Tenant,
    slug: &str,
) -> AppResult<Curriculum> {
    ensure_covers(auth, tenant)?;
    let course = find(&state.db, tenant, slug).await?;
    super::curriculum::load(&state.db, course).await
}

/// The course with this slug in this tenant, drafts included, for services that already hold
/// a proof (checkout, curriculum); handlers read courses through [`get_for_staff`],
/// [`super::public::get`] or [`find_cached`], which take one.
pub(crate) async fn find(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    slug: &str,
) -> AppResult<Course> {
    courses::Entity::find()
        .filter(courses::Column::TenantId.eq(tenant.id))
        .filter(courses::Column::Slug.eq(slug))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("course"))?
        .try_into()
}

/// A course by slug (published or not), from a short-lived cache: the access check's hot path
/// reads it on every request. The caller holds a learner's read of the tenant (access, content
/// or catalog; see [`ReadsCourses`]): whether a draft is shown is the caller's decision, made
/// with [`access::decide`](crate::services::access::decide) under the same proof.
pub async fn find_cached<R: ReadsCourses>(
    state: &AppState,
    auth: &Authorized<R, action::Read>,
    tenant: &Tenant,
    slug: &str,
) -> AppResult<std::sync::Arc<Course>> {
    ensure_covers(auth, tenant)?;
    let key = (tenant.id, slug.to_owned());
    crate::state::cached(&state.caches.courses, &key, |(_, slug)| async move {
        find(&state.db, tenant, &slug)
            .await
            .map(std::sync::Arc::new)
    })
    .await
}
