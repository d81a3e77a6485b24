//! A coupon's uses follow its orders. Checkout *reserves* a use inside its transaction; the
//! payment pipeline makes it *final* once any payment of the order is recorded, or *releases*
//! it when the order can no longer be paid (expired, or failed by the platform). A provider's
//! decline whose hosted page still takes another card keeps it.
//!
//! Availability is `redemptions + reserved < max_redemptions`, decided by one conditional
//! UPDATE of the coupon row, atomic on SQLite and PostgreSQL alike: of N parallel checkouts
//! for the last use, exactly one gets it. Counters move only when the order's redemption row
//! actually changes state (a conditional UPDATE of that row, one row affected), so replayed
//! or reordered payment events change them once.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter,
};

use super::coupons::Coupon;
use crate::entities::coupon_redemptions::RedemptionStatus::{self, Redeemed, Released, Reserved};
use crate::entities::{coupon_redemptions, coupons, orders};
use crate::error::{AppError, AppResult};
use crate::ids::{CouponId, CouponRedemptionId, OrderId, TenantId, UserId};
use crate::services::now;

/// Takes one use of `coupon` for a new order, inside the checkout's transaction (after the
/// order row is written). Refused with 422 (field `coupon`) when no use is left, the coupon
/// expired meanwhile, or the buyer holds as many uses as the coupon allows one buyer.
pub async fn reserve(
    txn: &impl ConnectionTrait,
    tenant_id: TenantId,
    coupon: &Coupon,
    buyer_id: UserId,
    order_id: OrderId,
) -> AppResult<()> {
    let at = now();
    let taken = coupons::Entity::update_many()
        .col_expr(
            coupons::Column::Reserved,
            Expr::col(coupons::Column::Reserved).add(1),
        )
        .filter(coupons::Column::Id.eq(coupon.id))
        .filter(coupons::Column::TenantId.eq(tenant_id))
        .filter(
            Condition::any()
                .add(coupons::Column::MaxRedemptions.is_null())
                .add(
                    Expr::col(coupons::Column::Redemptions)
                        .add(Expr::col(coupons::Column::Reserved))
                        .lt(Expr::col(coupons::Column::MaxRedemptions)),
                ),
        )
        .filter(
            Condition::any()
                .add(coupons::Column::ExpiresAt.is_null())
                .add(coupons::Column::ExpiresAt.gt(at)),
        )
        .exec(txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(AppError::invalid(
            "coupon",
            "this code is unknown, used up or expired",
        ));
    }
    // The UPDATE above holds the coupon's row until commit (PostgreSQL; SQLite has one
    // writer), so two checkouts of one buyer cannot both pass these counts.
    // One unpaid order per buyer may hold a use: otherwise a few accounts with open orders
    // on different courses could keep a limited coupon reserved for everyone else.
    let unpaid = coupon_redemptions::Entity::find()
        .filter(coupon_redemptions::Column::TenantId.eq(tenant_id))
        .filter(coupon_redemptions::Column::CouponId.eq(coupon.id))
        .filter(coupon_redemptions::Column::BuyerId.eq(buyer_id))
        .filter(coupon_redemptions::Column::Status.eq(Reserved))
        .count(txn)
        .await?;
    if unpaid > 0 {
        return Err(AppError::invalid(
            "coupon",
            "an unpaid order of yours already holds this code; pay it or let it expire first",
        ));
    }
    if let Some(limit) = coupon.max_redemptions_per_buyer {
        let held = coupon_redemptions::Entity::find()
            .filter(coupon_redemptions::Column::TenantId.eq(tenant_id))
            .filter(coupon_redemptions::Column::CouponId.eq(coupon.id))
            .filter(coupon_redemptions::Column::BuyerId.eq(buyer_id))
            .filter(coupon_redemptions::Column::Status.is_in([Reserved, Redeemed]))
            .count(txn)
            .await?;
        if held >= u64::from(limit) {
            return Err(AppError::invalid(
                "coupon",
                "you have used this code as many times as it allows",
            ));
        }
    }
    coupon_redemptions::ActiveModel {
        id: Set(CouponRedemptionId::new_v7()),
        tenant_id: Set(tenant_id),
        coupon_id: Set(coupon.id),
        order_id: Set(order_id),
        buyer_id: Set(buyer_id),
        status: Set(Reserved),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Brings the order's coupon use in line with what is known of the order, inside the payment
/// pipeline's transaction: final once `paid` (any payment recorded, even after expiry or past
/// the limit: the money is real), released when the order is neither paid nor `open` (still
/// payable). Idempotent: a state already reached changes nothing.
pub async fn settle(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    paid: bool,
    open: bool,
) -> AppResult<()> {
    let Some(coupon_id) = order.coupon_id else {
        return Ok(());
    };
    if paid {
        if transition(conn, order, Reserved, Redeemed).await? {
            count(conn, order, coupon_id, 1, -1).await?;
        } else if transition(conn, order, Released, Redeemed).await? {
            count(conn, order, coupon_id, 1, 0).await?;
        }
    } else if !open && transition(conn, order, Reserved, Released).await? {
        count(conn, order, coupon_id, 0, -1).await?;
    }
    Ok(())
}

/// Moves the order's redemption from `from` to `to`; whether it did.
async fn transition(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    from: RedemptionStatus,
    to: RedemptionStatus,
) -> AppResult<bool> {
    let moved = coupon_redemptions::Entity::update_many()
        .col_expr(coupon_redemptions::Column::Status, Expr::value(to))
        .col_expr(coupon_redemptions::Column::UpdatedAt, Expr::value(now()))
        .filter(coupon_redemptions::Column::TenantId.eq(order.tenant_id))
        .filter(coupon_redemptions::Column::OrderId.eq(order.id))
        .filter(coupon_redemptions::Column::Status.eq(from))
        .exec(conn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Adds to the coupon's counters (final uses, reserved uses).
async fn count(
    conn: &impl ConnectionTrait,
    order: &orders::Model,
    coupon_id: CouponId,
    redeemed: i32,
    reserved: i32,
) -> AppResult<()> {
    let updated = coupons::Entity::update_many()
        .col_expr(
            coupons::Column::Redemptions,
            Expr::col(coupons::Column::Redemptions).add(redeemed),
        )
        .col_expr(
            coupons::Column::Reserved,
            Expr::col(coupons::Column::Reserved).add(reserved),
        )
        .filter(coupons::Column::TenantId.eq(order.tenant_id))
        .filter(coupons::Column::Id.eq(coupon_id))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::corrupt(
            "order",
            order.id,
            format!("it names coupon {coupon_id}, which is gone"),
        ));
    }
    Ok(())
}
