//! The marketplace's books: co-instructor shares, a double-entry ledger, holds and payouts.
//!
//! - `course_shares`: who besides the storefront's owner earns from a course, in basis points
//!   of the sellers' part (what is left after the platform's fee).
//! - `order_shares`: the shares an order was priced with, for orders with co-instructors: one
//!   row per (line's course, payee), the owner's row included and flagged; later changes to a
//!   course's shares leave sold orders as they were.
//! - `ledger_transactions` and `ledger_entries`: the books. Every transaction's entries sum to
//!   zero per currency (debits positive, credits negative); neither table's rows are ever
//!   changed or deleted (triggers refuse `UPDATE`, `DELETE` and, on PostgreSQL, `TRUNCATE`;
//!   a storefront's own deletion cascades).
//! - `payees` (a payee's payout schedule), `payouts` (one per payee, currency and period).
//! - `orders.settlement` (whom the provider pays), `orders.seller_id` (the storefront's owner
//!   when the order was made: who takes the sellers' part), `orders.shared` (whether anyone
//!   else shares in it: its `order_shares` rows), `orders.hold_days` (the storefront's hold
//!   when the order was made), `orders.hold_until` and `orders.released_at` (when the sellers'
//!   part may be paid out, and when it was made available), `orders.ledger_backfill` (set here
//!   on every order that took money before the ledger existed: the first start after this
//!   migration posts its books through the same rule as every new payment, then clears it).
//! - `tenants.payout_hold_days`: a storefront's hold, `NULL` for the configured default.

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000002_tenants_and_policy::Tenants;
use crate::m20261123_000004_commerce::{Orders, same_tenant, tenant_fk, unique_tenant_id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Courses {
    Table,
}

#[derive(DeriveIden)]
enum CourseShares {
    Table,
    TenantId,
    CourseId,
    UserId,
    Bps,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrderShares {
    Table,
    TenantId,
    OrderId,
    CourseId,
    UserId,
    Bps,
    Owner,
}

#[derive(DeriveIden)]
enum LedgerTransactions {
    Table,
    Id,
    TenantId,
    Currency,
    Kind,
    OrderId,
    PayoutId,
    EventId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    TenantId,
    TransactionId,
    Currency,
    Account,
    PayeeId,
    Gateway,
    OrderId,
    Amount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Payees {
    Table,
    TenantId,
    UserId,
    Schedule,
    ThresholdAmount,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Payouts {
    Table,
    Id,
    TenantId,
    PayeeId,
    Currency,
    Amount,
    Status,
    Method,
    Period,
    Reference,
    Failure,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderBooks {
    Settlement,
    SellerId,
    Shared,
    HoldDays,
    HoldUntil,
    ReleasedAt,
    LedgerBackfill,
}

#[derive(DeriveIden)]
enum TenantBooks {
    PayoutHoldDays,
}

/// Orders that took money before the ledger, and whom their provider paid: Stripe Connect
/// split; Robokassa the seller; the sandbox the platform. A YooKassa order does not record
/// which shop took it (the storefront's own, or the platform's), and a storefront's account
/// today may not be the one it sold through: those are booked as the seller's, so the
/// platform never pays out money it may not hold (OPERATIONS.md says how to review them).
const MARK_BACKFILL: &str = "
UPDATE orders SET ledger_backfill = TRUE,
  settlement = CASE gateway
    WHEN 'stripe' THEN 'split'
    WHEN 'robokassa' THEN 'seller'
    WHEN 'yookassa' THEN 'seller'
    ELSE 'platform' END
WHERE paid_amount > 0";

/// The books are written once: entries and their transactions are never updated, and deleted
/// only with their storefront (its cascade).
const SQLITE_IMMUTABLE: [(&str, &str); 4] = [
    (
        "trg_ledger_entries_no_update",
        "CREATE TRIGGER trg_ledger_entries_no_update BEFORE UPDATE ON ledger_entries
         BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END",
    ),
    (
        "trg_ledger_entries_no_delete",
        "CREATE TRIGGER trg_ledger_entries_no_delete BEFORE DELETE ON ledger_entries
         WHEN EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id)
         BEGIN SELECT RAISE(ABORT, 'ledger entries are immutable'); END",
    ),
    (
        "trg_ledger_transactions_no_update",
        "CREATE TRIGGER trg_ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
         BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END",
    ),
    (
        "trg_ledger_transactions_no_delete",
        "CREATE TRIGGER trg_ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
         WHEN EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id)
         BEGIN SELECT RAISE(ABORT, 'ledger transactions are immutable'); END",
    ),
];

/// PostgreSQL's: one function, row triggers for updates and deletes and statement triggers
/// for `TRUNCATE`, on both tables.
const POSTGRES_IMMUTABLE: [&str; 5] = [
    // TRUNCATE has no OLD row, so the delete test is nested rather than joined with AND.
    "CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF TG_OP = 'DELETE' THEN
         IF NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = OLD.tenant_id) THEN
           RETURN OLD;
         END IF;
       END IF;
       RAISE EXCEPTION 'the ledger is immutable (% on %)', TG_OP, TG_TABLE_NAME;
     END $$",
    "CREATE TRIGGER trg_ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
     FOR EACH ROW EXECUTE FUNCTION ledger_immutable()",
    "CREATE TRIGGER trg_ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable()",
    "CREATE TRIGGER trg_ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
     FOR EACH ROW EXECUTE FUNCTION ledger_immutable()",
    "CREATE TRIGGER trg_ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
     FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CourseShares::Table)
                    .col(uuid(CourseShares::TenantId))
                    .col(uuid(CourseShares::CourseId))
                    .col(uuid(CourseShares::UserId))
                    .col(
                        integer(CourseShares::Bps)
                            .check(Expr::col(CourseShares::Bps).between(1, 10_000)),
                    )
                    .col(timestamp_with_time_zone(CourseShares::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CourseShares::TenantId)
                            .col(CourseShares::CourseId)
                            .col(CourseShares::UserId),
                    )
                    .foreign_key(&mut tenant_fk(CourseShares::Table))
                    .foreign_key(&mut same_tenant(
                        CourseShares::Table,
                        CourseShares::CourseId,
                        Courses::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CourseShares::Table, CourseShares::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderShares::Table)
                    .col(uuid(OrderShares::TenantId))
                    .col(uuid(OrderShares::OrderId))
                    .col(uuid(OrderShares::CourseId))
                    .col(uuid(OrderShares::UserId))
                    .col(
                        integer(OrderShares::Bps)
                            .check(Expr::col(OrderShares::Bps).between(0, 10_000)),
                    )
                    .col(boolean(OrderShares::Owner))
                    .primary_key(
                        Index::create()
                            .col(OrderShares::TenantId)
                            .col(OrderShares::OrderId)
                            .col(OrderShares::CourseId)
                            .col(OrderShares::UserId),
                    )
                    .foreign_key(&mut tenant_fk(OrderShares::Table))
                    .foreign_key(&mut same_tenant(
                        OrderShares::Table,
                        OrderShares::OrderId,
                        Orders::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderShares::Table, OrderShares::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payouts::Table)
                    .col(uuid(Payouts::Id).primary_key())
                    .col(uuid(Payouts::TenantId))
                    .col(uuid(Payouts::PayeeId))
                    .col(string_len(Payouts::Currency, 3))
                    .col(big_integer(Payouts::Amount).check(Expr::col(Payouts::Amount).gt(0)))
                    .col(string_len(Payouts::Status, 16))
                    .col(string_len(Payouts::Method, 16))
                    .col(string_len(Payouts::Period, 16))
                    .col(string_len_null(Payouts::Reference, 200))
                    .col(string_len_null(Payouts::Failure, 500))
                    .col(timestamp_with_time_zone(Payouts::CreatedAt))
                    .col(timestamp_with_time_zone(Payouts::UpdatedAt))
                    .foreign_key(&mut tenant_fk(Payouts::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Payouts::Table, Payouts::PayeeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .index(&mut unique_tenant_id("uq_payouts_tenant_id"))
                    // One payout per payee, currency and period: two runs at once make one.
                    .index(
                        Index::create()
                            .name("uq_payouts_period")
                            .unique()
                            .col(Payouts::TenantId)
                            .col(Payouts::PayeeId)
                            .col(Payouts::Currency)
                            .col(Payouts::Period),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerTransactions::Table)
                    .col(uuid(LedgerTransactions::Id).primary_key())
                    .col(uuid(LedgerTransactions::TenantId))
                    .col(string_len(LedgerTransactions::Currency, 3))
                    .col(string_len(LedgerTransactions::Kind, 16))
                    .col(uuid_null(LedgerTransactions::OrderId))
                    .col(uuid_null(LedgerTransactions::PayoutId))
                    .col(uuid_null(LedgerTransactions::EventId))
                    .col(timestamp_with_time_zone(LedgerTransactions::CreatedAt))
                    .foreign_key(&mut tenant_fk(LedgerTransactions::Table))
                    .foreign_key(&mut same_tenant(
                        LedgerTransactions::Table,
                        LedgerTransactions::OrderId,
                        Orders::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(&mut same_tenant(
                        LedgerTransactions::Table,
                        LedgerTransactions::PayoutId,
                        Payouts::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .index(&mut unique_tenant_id("uq_ledger_transactions_tenant_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LedgerEntries::Table)
                    .col(uuid(LedgerEntries::Id).primary_key())
                    .col(uuid(LedgerEntries::TenantId))
                    .col(uuid(LedgerEntries::TransactionId))
                    .col(string_len(LedgerEntries::Currency, 3))
                    .col(string_len(LedgerEntries::Account, 16))
                    .col(uuid_null(LedgerEntries::PayeeId))
                    .col(string_len_null(LedgerEntries::Gateway, 16))
                    .col(uuid_null(LedgerEntries::OrderId))
                    .col(
                        big_integer(LedgerEntries::Amount)
                            .check(Expr::col(LedgerEntries::Amount).ne(0)),
                    )
                    .col(timestamp_with_time_zone(LedgerEntries::CreatedAt))
                    .foreign_key(&mut tenant_fk(LedgerEntries::Table))
                    .foreign_key(&mut same_tenant(
                        LedgerEntries::Table,
                        LedgerEntries::TransactionId,
                        LedgerTransactions::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LedgerEntries::Table, LedgerEntries::PayeeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, columns) in [
            (
                "idx_ledger_entries_order",
                LedgerEntries::Table,
                vec![LedgerEntries::TenantId, LedgerEntries::OrderId],
            ),
            (
                "idx_ledger_entries_payee",
                LedgerEntries::Table,
                vec![
                    LedgerEntries::PayeeId,
                    LedgerEntries::TenantId,
                    LedgerEntries::Account,
                ],
            ),
            (
                "idx_ledger_entries_created",
                LedgerEntries::Table,
                vec![LedgerEntries::CreatedAt],
            ),
            (
                "idx_ledger_entries_transaction",
                LedgerEntries::Table,
                vec![LedgerEntries::TransactionId],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_ledger_transactions_order")
                    .table(LedgerTransactions::Table)
                    .col(LedgerTransactions::TenantId)
                    .col(LedgerTransactions::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Payees::Table)
                    .col(uuid(Payees::TenantId))
                    .col(uuid(Payees::UserId))
                    .col(string_len(Payees::Schedule, 16))
                    .col(big_integer_null(Payees::ThresholdAmount))
                    .col(timestamp_with_time_zone(Payees::UpdatedAt))
                    .primary_key(Index::create().col(Payees::TenantId).col(Payees::UserId))
                    .foreign_key(&mut tenant_fk(Payees::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Payees::Table, Payees::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        let order_columns = [
            string_len(OrderBooks::Settlement, 16)
                .default("platform")
                .to_owned(),
            uuid_null(OrderBooks::SellerId).to_owned(),
            boolean(OrderBooks::Shared).default(false).to_owned(),
            integer(OrderBooks::HoldDays)
                .default(14)
                .check(Expr::col(OrderBooks::HoldDays).between(0, 365))
                .to_owned(),
            timestamp_with_time_zone_null(OrderBooks::HoldUntil).to_owned(),
            timestamp_with_time_zone_null(OrderBooks::ReleasedAt).to_owned(),
            boolean(OrderBooks::LedgerBackfill)
                .default(false)
                .to_owned(),
        ];
        for mut column in order_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_hold_until")
                    .table(Orders::Table)
                    .col(OrderBooks::HoldUntil)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(
                        integer_null(TenantBooks::PayoutHoldDays)
                            .check(Expr::col(TenantBooks::PayoutHoldDays).between(0, 365)),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(MARK_BACKFILL).await?;
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            for (_, create) in SQLITE_IMMUTABLE {
                db.execute_unprepared(create).await?;
            }
        } else {
            for create in POSTGRES_IMMUTABLE {
                db.execute_unprepared(create).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::Sqlite {
            for (name, _) in SQLITE_IMMUTABLE {
                db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                    .await?;
            }
        } else {
            db.execute_unprepared("DROP FUNCTION IF EXISTS ledger_immutable() CASCADE")
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .drop_column(TenantBooks::PayoutHoldDays)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_orders_hold_until")
                    .table(Orders::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            OrderBooks::LedgerBackfill,
            OrderBooks::ReleasedAt,
            OrderBooks::HoldUntil,
            OrderBooks::HoldDays,
            OrderBooks::Shared,
            OrderBooks::SellerId,
            OrderBooks::Settlement,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Orders::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for table in [
            Payees::Table.into_iden(),
            LedgerEntries::Table.into_iden(),
            LedgerTransactions::Table.into_iden(),
            Payouts::Table.into_iden(),
            OrderShares::Table.into_iden(),
            CourseShares::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
