//! Volume prices for teams: a course may sell seats cheaper by the dozen — from `min_seats`
//! seats in one order, `percent_off` their price. The checkout applies them on the server.

use lyceum_gateway_core::Money;
use lyceum_tenants::rbac::{Authorized, action, resource};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};

use super::pools::MAX_SEATS;
use crate::entities::seat_tiers;
use crate::error::{AppError, AppResult};
use crate::ids::CourseId;
use crate::services::catalog::courses as course_service;
use crate::services::tenancy::tenants::{Tenant, ensure_covers};
use crate::state::AppState;

/// The most tiers a course may have.
pub const MAX_TIERS: usize = 10;
/// The deepest volume discount.
pub const MAX_PERCENT_OFF: u8 = 90;

/// From `min_seats` seats in one order, `percent_off` the seats' price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    pub min_seats: u32,
    pub percent_off: u8,
}

/// The percentage off `quantity` seats under `tiers`: the deepest tier reached (0 for one
/// seat, or none reached).
pub fn percent_for(tiers: &[Tier], quantity: u32) -> u8 {
    tiers
        .iter()
        .filter(|t| quantity >= t.min_seats)
        .map(|t| t.percent_off)
        .max()
        .unwrap_or(0)
}

/// What `quantity` seats at `price` cost under `tiers`: the line's total less the tier's
/// percentage of it (rounded down, like a coupon's).
pub fn line_total(price: Money, quantity: u32, tiers: &[Tier]) -> AppResult<Money> {
    let too_large = |_| AppError::invalid("items", "the order's amounts are too large");
    let full = price.checked_mul(quantity).map_err(too_large)?;
    let off = full
        .checked_percent(percent_for(tiers, quantity))
        .map_err(too_large)?;
    full.checked_sub(off).map_err(too_large)
}

/// Checks a list of tiers: at most [`MAX_TIERS`], each from 2 to [`MAX_SEATS`] seats and 1 to
/// [`MAX_PERCENT_OFF`] percent, one per seat count, and more seats never cost more per seat.
pub fn validate(mut tiers: Vec<Tier>) -> AppResult<Vec<Tier>> {
    if tiers.len() > MAX_TIERS {
        return Err(AppError::invalid(
            "tiers",
            format!("at most {MAX_TIERS} tiers"),
        ));
    }
    tiers.sort_by_key(|t| t.min_seats);
    for (i, tier) in tiers.iter().enumerate() {
        let field = format!("tiers[{i}]");
        if !(2..=MAX_SEATS).contains(&tier.min_seats) {
            return Err(AppError::invalid(
                &format!("{field}.min_seats"),
                format!("must be 2 to {MAX_SEATS}"),
            ));
        }
        if !(1..=MAX_PERCENT_OFF).contains(&tier.percent_off) {
            return Err(AppError::invalid(
                &format!("{field}.percent_off"),
                format!("must be 1 to {MAX_PERCENT_OFF}"),
            ));
        }
        if let Some(before) = i.checked_sub(1).map(|j| tiers[j]) {
            if before.min_seats == tier.min_seats {
                return Err(AppError::invalid(
                    &format!("{field}.min_seats"),
                    "one tier per number of seats",
                ));
            }
            if before.percent_off >= tier.percent_off {
                return Err(AppError::invalid(
                    &format!("{field}.percent_off"),
                    "a tier for more seats takes more off",
                ));
            }
        }
    }
    Ok(tiers)
}

/// The tiers of a course, fewest seats first.
pub async fn of_course(
    conn: &impl ConnectionTrait,
    tenant: &Tenant,
    course: CourseId,
) -> AppResult<Vec<Tier>> {
    Ok(seat_tiers::Entity::find()
        .filter(seat_tiers::Column::TenantId.eq(tenant.id))
        .filter(seat_tiers::Column::CourseId.eq(course))
        .order_by_asc(seat_tiers::Column::MinSeats)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| Tier {
            min_seats: u32::try_from(row.min_seats).unwrap_or(0),
            percent_off: u8::try_from(row.percent_off).unwrap_or(0),
        })
        .collect())
}

/// The tiers of a published course, as its storefront shows them to buyers.
pub async fn list(
    state: &AppState,
    auth: &Authorized<resource::Catalog, action::Read>,
    tenant: &Tenant,
    course: &str,
) -> AppResult<Vec<Tier>> {
    ensure_covers(auth, tenant)?;
    let course = course_service::find(&state.db, tenant, course).await?;
    if !course.published {
        return Err(AppError::NotFound("course"));
    }
    of_course(&state.db, tenant, course.id).await
}

/// Replaces a course's tiers (its storefront's staff); an empty list removes them. Orders
/// already made keep the price they were made at.
pub async fn replace(
    state: &AppState,
    auth: &Authorized<resource::Course, action::Update>,
    tenant: &Tenant,
    course: &str,
    tiers: Vec<Tier>,
) -> AppResult<Vec<Tier>> {
    ensure_covers(auth, tenant)?;
    let tiers = validate(tiers)?;
    let course = course_service::find(&state.db, tenant, course).await?;
    let txn = state.db.begin().await?;
    seat_tiers::Entity::delete_many()
        .filter(seat_tiers::Column::TenantId.eq(tenant.id))
        .filter(seat_tiers::Column::CourseId.eq(course.id))
        .exec(&txn)
        .await?;
    if !tiers.is_empty() {
        seat_tiers::Entity::insert_many(tiers.iter().map(|t| seat_tiers::ActiveModel {
            tenant_id: sea_orm::ActiveValue::Set(tenant.id),
            course_id: sea_orm::ActiveValue::Set(course.id),
            min_seats: sea_orm::ActiveValue::Set(i32::try_from(t.min_seats).unwrap_or(i32::MAX)),
            percent_off: sea_orm::ActiveValue::Set(i32::from(t.percent_off)),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    tracing::info!(tenant.id = %tenant.id, course.id = %course.id, tiers = tiers.len(), "seat tiers set");
    Ok(tiers)
}

#[cfg(test)]
mod tests {
    use lyceum_gateway_core::Currency;

    use super::*;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::parse("USD").unwrap()).unwrap()
    }

    #[test]
    fn the_deepest_tier_reached_prices_the_seats() {
        let tiers = validate(vec![
            Tier {
                min_seats: 50,
                percent_off: 25,
            },
            Tier {
                min_seats: 10,
                percent_off: 15,
            },
        ])
        .unwrap();
        assert_eq!(percent_for(&tiers, 1), 0);
        assert_eq!(percent_for(&tiers, 9), 0);
        assert_eq!(percent_for(&tiers, 10), 15);
        assert_eq!(percent_for(&tiers, 50), 25);
        assert_eq!(line_total(usd(4900), 10, &tiers).unwrap(), usd(41_650));
        assert_eq!(
            line_total(usd(999), 10, &tiers).unwrap(),
            usd(8492),
            "9990 - 1498"
        );
        assert_eq!(line_total(usd(4900), 3, &tiers).unwrap(), usd(14_700));
    }

    #[test]
    fn tiers_that_make_no_sense_are_refused() {
        let tier = |min_seats, percent_off| Tier {
            min_seats,
            percent_off,
        };
        assert!(validate(vec![tier(1, 10)]).is_err());
        assert!(validate(vec![tier(10, 0)]).is_err());
        assert!(validate(vec![tier(10, 91)]).is_err());
        assert!(validate(vec![tier(10, 10), tier(10, 20)]).is_err());
        assert!(
            validate(vec![tier(10, 20), tier(20, 10)]).is_err(),
            "more seats, less off"
        );
        assert!(validate((2..13).map(|n| tier(n, u8::try_from(n).unwrap())).collect()).is_err());
        assert_eq!(validate(vec![]).unwrap(), vec![]);
    }
}
