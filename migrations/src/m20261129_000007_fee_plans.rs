//! Versioned fee plans.
//!
//! - `fee_plans`: a storefront's platform fee, basis points plus a fixed fee per order (minor
//!   units of the storefront's currency), one row per version, never changed once written: a
//!   new fee is a new version. The newest version is the plan in force; a storefront without
//!   one pays the configured default.
//! - `orders.fee_plan_id`, `orders.fee_fixed_amount`: the version an order was priced with
//!   (NULL for the configured default and for orders older than this migration) and the fixed
//!   part of its fee, next to `fee_bps` and `fee_amount`.
//! - `tenants.fee_bps` goes: every storefront that had one gets it as version 1 (its id is the
//!   tenant's, unique since there is one such row per tenant), so the plans are the one source
//!   of the fee. `down()` puts the newest version's basis points back there (fixed fees,
//!   which had no place before, are lost).
//!
//! The order's plan must be of the order's own tenant. PostgreSQL says so with a foreign key
//! `(tenant_id, fee_plan_id)`; SQLite cannot add a table constraint to an existing table, so
//! there two triggers refuse the same rows.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000002_tenants_and_policy::Tenants;
use crate::m20261123_000004_commerce::{Orders, same_tenant, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FeePlans {
    Table,
    Id,
    TenantId,
    Version,
    FeeBps,
    FixedFeeAmount,
    Currency,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrderFees {
    FeePlanId,
    FeeFixedAmount,
}

const FK_ORDER_PLAN: &str = "fk_orders_fee_plan_same_tenant";

const BACKFILL: &str = "
INSERT INTO fee_plans (id, tenant_id, version, fee_bps, fixed_fee_amount, currency, created_by, created_at)
SELECT t.id, t.id, 1, t.fee_bps, 0, t.currency, NULL, t.created_at
FROM tenants t
WHERE t.fee_bps IS NOT NULL";

const RESTORE: &str = "
UPDATE tenants SET fee_bps = (
  SELECT p.fee_bps FROM fee_plans p
  WHERE p.tenant_id = tenants.id
  ORDER BY p.version DESC
  LIMIT 1)";

/// SQLite's stand-in for the foreign key, both ways: an order names a plan of its own tenant,
/// or none; and a plan an order names is neither deleted (unless its storefront goes, which
/// cascades) nor moved.
const SQLITE_TRIGGERS: [(&str, &str); 4] = [
    (
        "trg_orders_fee_plan_insert",
        "CREATE TRIGGER trg_orders_fee_plan_insert BEFORE INSERT ON orders
         WHEN NEW.fee_plan_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM fee_plans p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.fee_plan_id)
         BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: orders.fee_plan_id'); END",
    ),
    (
        "trg_orders_fee_plan_update",
        "CREATE TRIGGER trg_orders_fee_plan_update BEFORE UPDATE OF tenant_id, fee_plan_id ON orders
         WHEN NEW.fee_plan_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM fee_plans p WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.fee_plan_id)
         BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: orders.fee_plan_id'); END",
    ),
    (
        "trg_fee_plans_delete",
        "CREATE TRIGGER trg_fee_plans_delete BEFORE DELETE ON fee_plans
         WHEN EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id)
          AND EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = OLD.tenant_id AND o.fee_plan_id = OLD.id)
         BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: orders.fee_plan_id'); END",
    ),
    (
        "trg_fee_plans_update",
        "CREATE TRIGGER trg_fee_plans_update BEFORE UPDATE OF id, tenant_id ON fee_plans
         WHEN EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = OLD.tenant_id AND o.fee_plan_id = OLD.id)
         BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: orders.fee_plan_id'); END",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FeePlans::Table)
                    .col(uuid(FeePlans::Id).primary_key())
                    .col(uuid(FeePlans::TenantId))
                    .col(integer(FeePlans::Version).check(Expr::col(FeePlans::Version).gte(1)))
                    .col(
                        integer(FeePlans::FeeBps)
                            .check(Expr::col(FeePlans::FeeBps).between(0, 10_000)),
                    )
                    .col(
                        big_integer(FeePlans::FixedFeeAmount)
                            .check(Expr::col(FeePlans::FixedFeeAmount).gte(0)),
                    )
                    .col(string_len(FeePlans::Currency, 3))
                    // NULL for the version this migration made from the old column.
                    .col(uuid_null(FeePlans::CreatedBy))
                    .col(timestamp_with_time_zone(FeePlans::CreatedAt))
                    .foreign_key(&mut tenant_fk(FeePlans::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FeePlans::Table, FeePlans::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    // One row per version; two admins changing the plan at once cannot
                    // both write the same next version.
                    .index(
                        Index::create()
                            .name("uq_fee_plans_tenant_version")
                            .unique()
                            .col(FeePlans::TenantId)
                            .col(FeePlans::Version),
                    )
                    // The target of the orders' same-tenant key.
                    .index(
                        Index::create()
                            .name("uq_fee_plans_tenant_id")
                            .unique()
                            .col(FeePlans::TenantId)
                            .col(FeePlans::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(BACKFILL).await?;
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(uuid_null(OrderFees::FeePlanId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(
                        big_integer(OrderFees::FeeFixedAmount)
                            .default(0)
                            .check(Expr::col(OrderFees::FeeFixedAmount).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            for (_, create) in SQLITE_TRIGGERS {
                db.execute_unprepared(create).await?;
            }
        } else {
            let mut fk = same_tenant(
                Orders::Table,
                OrderFees::FeePlanId,
                FeePlans::Table,
                ForeignKeyAction::NoAction,
            );
            manager
                .create_foreign_key(fk.name(FK_ORDER_PLAN).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(Tenants::FeeBps)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(
                        integer_null(Tenants::FeeBps)
                            .check(Expr::col(Tenants::FeeBps).between(0, 10_000)),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(RESTORE).await?;
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            for (name, _) in SQLITE_TRIGGERS {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                    .await?;
            }
        } else {
            manager
                .drop_foreign_key(
                    ForeignKey::drop()
                        .name(FK_ORDER_PLAN)
                        .table(Orders::Table)
                        .to_owned(),
                )
                .await?;
        }
        for column in [OrderFees::FeeFixedAmount, OrderFees::FeePlanId] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(FeePlans::Table).to_owned())
            .await
    }
}
