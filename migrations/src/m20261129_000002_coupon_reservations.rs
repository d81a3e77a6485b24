//! Coupon uses are reserved by a checkout and become final only when the order is paid; an
//! order that can no longer be paid gives its use back.
//!
//! `coupon_redemptions` holds one row per order that carries a coupon, in one of three states
//! (`reserved`, `redeemed`, `released`). The coupon row keeps two counters next to its limit,
//! `redemptions` (final) and `reserved`, so availability is decided by one conditional update
//! of that row. Orders also keep the platform fee computed at checkout (`fee_amount`).
//!
//! Existing orders with a coupon are backfilled: paid ones (any status a payment leads to) as
//! `redeemed`, open ones as `reserved`, the rest as `released`, and the counters recomputed
//! from those rows.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Coupons {
    Table,
    Reserved,
    MaxRedemptionsPerBuyer,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    FeeAmount,
}

#[derive(DeriveIden)]
enum CouponRedemptions {
    Table,
    Id,
    TenantId,
    CouponId,
    OrderId,
    BuyerId,
    Status,
    CreatedAt,
    UpdatedAt,
}

/// `(tenant_id, column)` → `(tenant_id, id)` of `parent`: a redemption only points at rows of
/// its own tenant.
fn same_tenant(column: CouponRedemptions, parent: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(CouponRedemptions::Table)
        .from_col(CouponRedemptions::TenantId)
        .from_col(column)
        .to_tbl(parent)
        .to_col(Alias::new("tenant_id"))
        .to_col(Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

const BACKFILL: &str = "
INSERT INTO coupon_redemptions (id, tenant_id, coupon_id, order_id, buyer_id, status, created_at, updated_at)
SELECT o.id, o.tenant_id, o.coupon_id, o.id, o.buyer_id,
       CASE
         WHEN o.status IN ('paid', 'partially_paid', 'refunded', 'partially_refunded', 'disputed')
           THEN 'redeemed'
         WHEN o.status = 'pending'
           OR EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.pending_key IS NOT NULL)
           THEN 'reserved'
         ELSE 'released'
       END,
       o.created_at, o.updated_at
FROM orders o
WHERE o.coupon_id IS NOT NULL";

const RECOUNT: &str = "
UPDATE coupons SET
  redemptions = (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = coupons.id AND r.status = 'redeemed'),
  reserved = (SELECT COUNT(*) FROM coupon_redemptions r WHERE r.coupon_id = coupons.id AND r.status = 'reserved')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Coupons::Table)
                    .add_column(
                        integer(Coupons::Reserved)
                            .default(0)
                            .check(Expr::col(Coupons::Reserved).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Coupons::Table)
                    .add_column(
                        integer_null(Coupons::MaxRedemptionsPerBuyer)
                            .check(Expr::col(Coupons::MaxRedemptionsPerBuyer).gt(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(
                        big_integer_null(Orders::FeeAmount)
                            .check(Expr::col(Orders::FeeAmount).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CouponRedemptions::Table)
                    .col(uuid(CouponRedemptions::Id).primary_key())
                    .col(uuid(CouponRedemptions::TenantId))
                    .col(uuid(CouponRedemptions::CouponId))
                    .col(uuid(CouponRedemptions::OrderId).unique_key())
                    .col(uuid(CouponRedemptions::BuyerId))
                    .col(
                        string_len(CouponRedemptions::Status, 16).check(
                            Expr::col(CouponRedemptions::Status)
                                .is_in(["reserved", "redeemed", "released"]),
                        ),
                    )
                    .col(timestamp_with_time_zone(CouponRedemptions::CreatedAt))
                    .col(timestamp_with_time_zone(CouponRedemptions::UpdatedAt))
                    .foreign_key(&mut same_tenant(
                        CouponRedemptions::CouponId,
                        Alias::new("coupons"),
                    ))
                    .foreign_key(&mut same_tenant(
                        CouponRedemptions::OrderId,
                        Alias::new("orders"),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CouponRedemptions::Table, CouponRedemptions::BuyerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // The per-buyer limit counts a buyer's live uses of one coupon.
        manager
            .create_index(
                Index::create()
                    .name("idx_coupon_redemptions_buyer")
                    .table(CouponRedemptions::Table)
                    .col(CouponRedemptions::CouponId)
                    .col(CouponRedemptions::BuyerId)
                    .col(CouponRedemptions::Status)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(BACKFILL).await?;
        db.execute_unprepared(RECOUNT).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Before the reservations, every checkout counted as a use: fold the reserved and
        // released uses back into `redemptions` so no coupon gains uses by going down.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE coupons SET redemptions = redemptions + \
                 (SELECT COUNT(*) FROM coupon_redemptions r \
                  WHERE r.coupon_id = coupons.id AND r.status <> 'redeemed')",
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CouponRedemptions::Table).to_owned())
            .await?;
        for (table, column) in [
            (Orders::Table.into_iden(), Orders::FeeAmount.into_iden()),
            (
                Coupons::Table.into_iden(),
                Coupons::MaxRedemptionsPerBuyer.into_iden(),
            ),
            (Coupons::Table.into_iden(), Coupons::Reserved.into_iden()),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
