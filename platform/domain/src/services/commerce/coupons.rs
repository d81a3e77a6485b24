//! Discount codes: a percentage or a fixed amount, optionally limited to some courses, a
//! number of uses (in all and per buyer) and a date. Discounts are computed from the catalog
//! at checkout ([`super::pricing`]); uses are reserved and settled by [`super::redemptions`].

use chrono::{DateTime, Utc};
use lyceum_gateway_core::Money;
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use crate::entities::{coupons, courses};
use crate::error::{AppError, AppResult, is_unique_violation};
use crate::ids::{CouponId, CourseId};
use crate::services::now;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// What a coupon takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// 1–100 percent of each line it applies to, rounded down (the buyer pays the rest).
    Percent(u8),
    /// A fixed amount off the lines it applies to, never below zero.
    Amount(Money),
}

/// A validated new coupon.
#[derive(Debug)]
pub struct NewCoupon {
    pub code: String,
    pub discount: Discount,
    pub max_redemptions: Option<u32>,
    /// Live uses (reserved or final) one buyer may hold; unlimited when `None`.
    pub max_redemptions_per_buyer: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Course slugs it is limited to; empty for every course.
    pub courses: Vec<String>,
}

/// A coupon as staff see it.
#[derive(Debug, Clone)]
pub struct Coupon {
    pub id: CouponId,
    pub code: String,
    pub discount: Discount,
    /// Uses in all, final and reserved together.
    pub max_redemptions: Option<u32>,
    pub max_redemptions_per_buyer: Option<u32>,
    /// Final uses: orders that were paid. A late payment of an expired order counts even
    /// past `max_redemptions` (the money was taken).
    pub redemptions: u32,
    /// Uses held by orders that can still be paid.
    pub reserved: u32,
    pub expires_at: Option<DateTime<Utc>>,
    pub course_ids: Vec<CourseId>,
}

/// Normalizes a code: trimmed, upper case, 3–32 of `A-Z 0-9 - _`.
pub fn parse_code(input: &str) -> AppResult<String> {
    let code = input.trim().to_uppercase();
    let ok = (3..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(code)
    } else {
        Err(AppError::invalid(
            "code",
            "must be 3–32 letters, digits, `-` or `_`",
        ))
    }
}

/// Creates a coupon (owner, editor).
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display)))]
pub async fn create(
    state: &AppState,
    auth: &Authorized<resource::Coupon, action::Create>,
    tenant: &Tenant,
    input: NewCoupon,
) -> AppResult<Coupon> {
    ensure_covers(auth, tenant)?;
    let (percent, amount) = match input.discount {
        Discount::Percent(p) if (1..=100).contains(&p) => (Some(i32::from(p)), None),
        Discount::Percent(_) => {
            return Err(AppError::invalid(
                "percent_off",
                "must be between 1 and 100",
            ));
        }
        Discount::Amount(m) if m.currency != tenant.currency => {
            return Err(AppError::invalid(
                "amount_off.currency",
                format!("this storefront sells in {}", tenant.currency),
            ));
        }
        Discount::Amount(m) if m.is_zero() => {
            return Err(AppError::invalid(
                "amount_off.amount",
                "must be more than zero",
            ));
        }
        Discount::Amount(m) => {
            crate::domain::check_price_cap("amount_off", m)?;
            (None, Some(m.amount.get()))
        }
    };
    if input.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::invalid("expires_at", "must be in the future"));
    }
    let mut course_ids = Vec::new();
    for slug in &input.courses {
        let course = courses::Entity::find()
            .filter(courses::Column::TenantId.eq(tenant.id))
            .filter(courses::Column::Slug.eq(slug.as_str()))
            .one(&state.db)
            .await?
            .ok_or_else(|| {
                AppError::invalid("courses", format!("no course `{slug}` in this storefront"))
            })?;
        course_ids.push(course.id);
    }
    let max = input
        .max_redemptions
        .map(|m| i32::try_from(m).map_err(|_| AppError::invalid("max_redemptions", "too large")))
        .transpose()?;
    if max == Some(0) {
        return Err(AppError::invalid("max_redemptions", "must be at least 1"));
    }
    let per_buyer = match input.max_redemptions_per_buyer {
        None => None,
        Some(m) if m >= 1 => Some(
            i32::try_from(m)
                .map_err(|_| AppError::invalid("max_redemptions_per_buyer", "too large"))?,
        ),
        Some(_) => {
            return Err(AppError::invalid(
                "max_redemptions_per_buyer",
                "must be at least 1",
            ));
        }
    };
    let inserted = coupons::ActiveModel {
        id: Set(CouponId::new_v7()),
        tenant_id: Set(tenant.id),
        code: Set(input.code.clone()),
        percent_off: Set(percent),
        amount_off: Set(amount),
        currency: Set(tenant.currency.code().to_owned()),
        max_redemptions: Set(max),
        redemptions: Set(0),
        reserved: Set(0),
        max_redemptions_per_buyer: Set(per_buyer),
        expires_at: Set(input.expires_at),
        course_ids: Set(serde_json::json!(course_ids)),
        created_at: Set(now()),
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(row) => to_coupon(row, tenant),
        Err(e) if is_unique_violation(&e) => Err(AppError::conflict(format!(
            "the code {} exists already",
            input.code
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Every coupon of the storefront, newest first (owner, editor).
pub async fn list(
    state: &AppState,
    auth: &Authorized<resource::Coupon, action::Read>,
    tenant: &Tenant,
) -> AppResult<Vec<Coupon>> {
    ensure_covers(auth, tenant)?;
    coupons::Entity::find()
        .filter(coupons::Column::TenantId.eq(tenant.id))
        .order_by_desc(coupons::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|row| to_coupon(row, tenant))
        .collect()
}

/// Takes a coupon out of use (owner): it expires now, so no new checkout takes it; uses
/// reserved by orders that can still be paid stay theirs. A coupon already expired is left
/// as it is.
#[tracing::instrument(skip_all, fields(tenant.id = %tenant.id, user.id = auth.user_id().map(tracing::field::display), coupon.id = %coupon))]
pub async fn deactivate(
    state: &AppState,
    auth: &Authorized<resource::Coupon, action::Update>,
    tenant: &Tenant,
    coupon: CouponId,
) -> AppResult<Coupon> {
    ensure_covers(auth, tenant)?;
    let row = coupons::Entity::find_by_id(coupon)
        .filter(coupons::Column::TenantId.eq(tenant.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("coupon"))?;
    let at = now();
    if row.expires_at.is_some_and(|expires| expires <= at) {
        return to_coupon(row, tenant);
    }
    let row = coupons::ActiveModel {
        id: Set(row.id),
        expires_at: Set(Some(at)),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    to_coupon(row, tenant)
}

fn to_coupon(row: coupons::Model, tenant: &Tenant) -> AppResult<Coupon> {
    let discount = match (row.percent_off, row.amount_off) {
        (Some(p), None) => Discount::Percent(u8::try_from(p).unwrap_or(100)),
        (None, Some(a)) => Discount::Amount(
            Money::new(a, tenant.currency)
                .map_err(|e| AppError::corrupt_field("coupon", row.id, "amount_off", e))?,
        ),
        _ => {
            return Err(AppError::corrupt(
                "coupon",
                row.id,
                "it has no single discount",
            ));
        }
    };
    Ok(Coupon {
        id: row.id,
        code: row.code,
        discount,
        max_redemptions: row.max_redemptions.and_then(|m| u32::try_from(m).ok()),
        max_redemptions_per_buyer: row
            .max_redemptions_per_buyer
            .and_then(|m| u32::try_from(m).ok()),
        redemptions: u32::try_from(row.redemptions).unwrap_or(0),
        reserved: u32::try_from(row.reserved).unwrap_or(0),
        expires_at: row.expires_at,
        course_ids: serde_json::from_value(row.course_ids).unwrap_or_default(),
    })
}

/// A coupon that can be used now, by code.
pub async fn usable(conn: &impl ConnectionTrait, tenant: &Tenant, code: &str) -> AppResult<Coupon> {
    let unknown = || AppError::invalid("coupon", "this code is unknown, used up or expired");
    let code = parse_code(code).map_err(|_| unknown())?;
    let row = coupons::Entity::find()
        .filter(coupons::Column::TenantId.eq(tenant.id))
        .filter(coupons::Column::Code.eq(code))
        .one(conn)
        .await?
        .ok_or_else(unknown)?;
    let coupon = to_coupon(row, tenant)?;
    // A first look, to refuse early; the use itself is taken atomically by
    // `redemptions::reserve` inside the checkout's transaction.
    let used_up = coupon
        .max_redemptions
        .is_some_and(|m| coupon.redemptions.saturating_add(coupon.reserved) >= m);
    let expired = coupon.expires_at.is_some_and(|at| at <= Utc::now());
    if used_up || expired {
        return Err(unknown());
    }
    Ok(coupon)
}
