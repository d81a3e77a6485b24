//! Keys a tenant-distributed PostgreSQL (Citus) can hold: every tenant-owned table's primary key
//! and unique keys include `tenant_id` (docs/SCALING.md; `distribution.rs` names the tables that
//! are not tenant-owned, and the schema test holds every other table to this).
//!
//! - Primary keys `(id)` become `(id, tenant_id)`, `order_numbers`' `(number)` becomes
//!   `(number, tenant_id)`: the id stays first, so a row looked up by its id alone (as the ORM
//!   updates and deletes it) still finds it through the key's index. The `(tenant_id, id)`
//!   unique keys the same-tenant foreign keys point at stay as they are.
//! - Unique keys without `tenant_id` get it appended, so lookups by the old columns keep their
//!   index. For most this changes nothing: the key's value names a row of one storefront
//!   already (an order line, an order, a seat pool). Where it does not, uniqueness is now per
//!   storefront: a payment event is recorded once per storefront (the same provider event
//!   always reaches the same order, so one storefront's events can no longer shadow
//!   another's); an `Idempotency-Key` is unique per buyer and storefront in the database, and
//!   the checkout still refuses one used at another storefront; certificate codes and
//!   invitation tokens are random (80 and 256 bits), so they stay unique without the database
//!   saying so; order numbers come from one sequence.
//!
//! PostgreSQL only: SQLite is one file on one node, never distributed, and changing a key there
//! means rebuilding the table, so its keys stay as they were (stricter: unique platform-wide).
//! `down()` puts the keys back (and is refused if rows written since break the stricter ones).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tenant-owned tables keyed by `id` alone until now.
const ID_KEYED: [&str; 28] = [
    "certificates",
    "content_fetches",
    "coupon_redemptions",
    "coupons",
    "course_progress",
    "courses",
    "entitlements",
    "fee_plans",
    "ledger_entries",
    "ledger_transactions",
    "lesson_chapters",
    "lesson_progress",
    "lessons",
    "order_audit",
    "order_lines",
    "orders",
    "payment_events",
    "payouts",
    "quiz_attempts",
    "quiz_questions",
    "quizzes",
    "refunds",
    "seat_assignments",
    "seat_events",
    "seat_pools",
    "sections",
    "staff_invitations",
    "transcodes",
];

/// The other keys that gain `tenant_id`: table, constraint, whether it is the primary key, and
/// its columns before.
const OTHER_KEYS: [(&str, &str, bool, &str); 10] = [
    ("order_numbers", "order_numbers_pkey", true, "number"),
    ("certificates", "certificates_code_key", false, "code"),
    (
        "coupon_redemptions",
        "coupon_redemptions_order_id_key",
        false,
        "order_id",
    ),
    (
        "entitlements",
        "entitlements_order_line_id_key",
        false,
        "order_line_id",
    ),
    (
        "order_lines",
        "order_lines_pending_key_key",
        false,
        "pending_key",
    ),
    (
        "orders",
        "uq_orders_idempotency",
        false,
        "buyer_id, idempotency_key",
    ),
    (
        "payment_events",
        "uq_payment_events_provider",
        false,
        "gateway, provider_event_id",
    ),
    (
        "seat_assignments",
        "seat_assignments_live_key_key",
        false,
        "live_key",
    ),
    (
        "seat_assignments",
        "seat_assignments_token_hash_key",
        false,
        "token_hash",
    ),
    (
        "staff_invitations",
        "staff_invitations_token_hash_key",
        false,
        "token_hash",
    ),
];

/// Every changed key: table, constraint, primary or unique, columns before.
fn keys() -> impl Iterator<Item = (String, String, bool, &'static str)> {
    ID_KEYED
        .iter()
        .map(|table| ((*table).to_owned(), format!("{table}_pkey"), true, "id"))
        .chain(
            OTHER_KEYS
                .iter()
                .map(|(t, k, p, c)| ((*t).to_owned(), (*k).to_owned(), *p, *c)),
        )
}

/// Replaces a key in one statement (dropped and added again under its name), so the table is
/// never without it.
fn replace(table: &str, key: &str, primary: bool, columns: &str) -> String {
    let kind = if primary { "PRIMARY KEY" } else { "UNIQUE" };
    format!(
        "ALTER TABLE \"{table}\" DROP CONSTRAINT \"{key}\", \
         ADD CONSTRAINT \"{key}\" {kind} ({columns})"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, key, primary, columns) in keys() {
            db.execute_unprepared(&replace(
                &table,
                &key,
                primary,
                &format!("{columns}, tenant_id"),
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, key, primary, columns) in keys() {
            db.execute_unprepared(&replace(&table, &key, primary, columns))
                .await?;
        }
        Ok(())
    }
}
