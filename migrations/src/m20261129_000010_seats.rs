//! Team seats: courses a team's manager buys by the seat, and who holds them.
//!
//! - `orders.team_id`: the team an order buys seats for (`NULL` for a learner's own purchase).
//!   Its lines' `quantity` is then the number of seats.
//! - `seat_pools`: one per (tenant, team, course): the seats bought there, kept up to date by
//!   the payment pipeline from the team's orders — `purchased` usable, `held` frozen by open
//!   disputes. A pool's row is what an assignment locks.
//! - `seat_assignments`: an address given a seat of a pool. `invited` (nobody had registered
//!   with the address: the invitation already holds the seat, and its e-mailed link — only the
//!   token's SHA-256 is kept, in `token_hash` — lets whoever signs in with the address take
//!   it), `active` (a user holds it; `entitlement_id` is their access), `ended` (revoked,
//!   cancelled or taken back by a refund; kept for the record). `live_key` is set while not
//!   ended, so one address holds at most one seat of a pool.
//! - `seat_events`: the audit trail — who assigned, invited, revoked or cancelled whom, and
//!   which seats refunds and disputes took back.
//! - `seat_tiers`: a course's volume prices for teams — from `min_seats` seats in one order,
//!   `percent_off` the seats' price, applied by the checkout on the server.
//! - `entitlements` gets a `(tenant_id, id)` key, so an assignment's entitlement is of its
//!   tenant.
//!
//! Team managers become casbin grants (`team_manager` in the domain `team:<id>`): the rows of
//! the teams made so far are granted here. Invitations into a team are for members only now,
//! so an invitation made earlier as a manager is turned into a member's: a manager is made,
//! where the other managers see it, from someone who joined.

use sea_orm_migration::sea_orm::{DatabaseBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000004_commerce::{Orders, same_tenant, tenant_fk, unique_tenant_id};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Courses {
    Table,
}

#[derive(DeriveIden)]
enum Entitlements {
    Table,
}

#[derive(DeriveIden)]
enum OrderTeam {
    TeamId,
}

#[derive(DeriveIden)]
enum SeatPools {
    Table,
    Id,
    TenantId,
    TeamId,
    CourseId,
    Purchased,
    Held,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SeatAssignments {
    Table,
    Id,
    TenantId,
    PoolId,
    Email,
    UserId,
    Status,
    LiveKey,
    TokenHash,
    EntitlementId,
    AssignedBy,
    AssignedAt,
    ActivatedAt,
    EndedAt,
    EndedBy,
    EndReason,
}

#[derive(DeriveIden)]
enum SeatTiers {
    Table,
    TenantId,
    CourseId,
    MinSeats,
    PercentOff,
}

#[derive(DeriveIden)]
enum SeatEvents {
    Table,
    Id,
    TenantId,
    PoolId,
    AssignmentId,
    ActorId,
    Action,
    Email,
    OrderId,
    At,
}

const ACTIONS: [&str; 8] = [
    "assigned",
    "invited",
    "claimed",
    "revoked",
    "cancelled",
    "refunded",
    "suspended",
    "restored",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .add_column(uuid_null(OrderTeam::TeamId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_team")
                    .table(Orders::Table)
                    .col(OrderTeam::TeamId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_entitlements_tenant_id")
                    .table(Entitlements::Table)
                    .unique()
                    .col(Alias::new("tenant_id"))
                    .col(Alias::new("id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SeatPools::Table)
                    .col(uuid(SeatPools::Id).primary_key())
                    .col(uuid(SeatPools::TenantId))
                    .col(uuid(SeatPools::TeamId))
                    .col(uuid(SeatPools::CourseId))
                    .col(
                        integer(SeatPools::Purchased)
                            .default(0)
                            .check(Expr::col(SeatPools::Purchased).gte(0)),
                    )
                    .col(
                        integer(SeatPools::Held)
                            .default(0)
                            .check(Expr::col(SeatPools::Held).gte(0)),
                    )
                    .col(timestamp_with_time_zone(SeatPools::CreatedAt))
                    .col(timestamp_with_time_zone(SeatPools::UpdatedAt))
                    .index(&mut unique_tenant_id("uq_seat_pools_tenant_id"))
                    .index(
                        Index::create()
                            .name("uq_seat_pools_team_course")
                            .unique()
                            .col(SeatPools::TenantId)
                            .col(SeatPools::TeamId)
                            .col(SeatPools::CourseId),
                    )
                    .foreign_key(&mut tenant_fk(SeatPools::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SeatPools::Table, SeatPools::TeamId)
                            .to(Teams::Table, Teams::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut same_tenant(
                        SeatPools::Table,
                        SeatPools::CourseId,
                        Courses::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_seat_pools_team")
                    .table(SeatPools::Table)
                    .col(SeatPools::TeamId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SeatAssignments::Table)
                    .col(uuid(SeatAssignments::Id).primary_key())
                    .col(uuid(SeatAssignments::TenantId))
                    .col(uuid(SeatAssignments::PoolId))
                    .col(string_len(SeatAssignments::Email, 254))
                    .col(uuid_null(SeatAssignments::UserId))
                    .col(string_len(SeatAssignments::Status, 16).check(
                        Expr::col(SeatAssignments::Status).is_in(["invited", "active", "ended"]),
                    ))
                    .col(string_len_null(SeatAssignments::LiveKey, 300).unique_key())
                    .col(string_len_null(SeatAssignments::TokenHash, 64).unique_key())
                    .col(uuid_null(SeatAssignments::EntitlementId))
                    .col(uuid(SeatAssignments::AssignedBy))
                    .col(timestamp_with_time_zone(SeatAssignments::AssignedAt))
                    .col(timestamp_with_time_zone_null(SeatAssignments::ActivatedAt))
                    .col(timestamp_with_time_zone_null(SeatAssignments::EndedAt))
                    .col(uuid_null(SeatAssignments::EndedBy))
                    .col(string_len_null(SeatAssignments::EndReason, 16).check(
                        Expr::col(SeatAssignments::EndReason).is_in([
                            "revoked",
                            "cancelled",
                            "refunded",
                        ]),
                    ))
                    .index(&mut unique_tenant_id("uq_seat_assignments_tenant_id"))
                    .foreign_key(&mut tenant_fk(SeatAssignments::Table))
                    .foreign_key(&mut same_tenant(
                        SeatAssignments::Table,
                        SeatAssignments::PoolId,
                        SeatPools::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut same_tenant(
                        SeatAssignments::Table,
                        SeatAssignments::EntitlementId,
                        Entitlements::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SeatAssignments::Table, SeatAssignments::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_seat_assignments_pool",
                vec![SeatAssignments::PoolId, SeatAssignments::Status],
            ),
            ("idx_seat_assignments_user", vec![SeatAssignments::UserId]),
            (
                "idx_seat_assignments_email",
                vec![SeatAssignments::Email, SeatAssignments::Status],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(SeatAssignments::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(SeatEvents::Table)
                    .col(uuid(SeatEvents::Id).primary_key())
                    .col(uuid(SeatEvents::TenantId))
                    .col(uuid(SeatEvents::PoolId))
                    .col(uuid_null(SeatEvents::AssignmentId))
                    .col(uuid_null(SeatEvents::ActorId))
                    .col(
                        string_len(SeatEvents::Action, 16)
                            .check(Expr::col(SeatEvents::Action).is_in(ACTIONS)),
                    )
                    .col(string_len_null(SeatEvents::Email, 254))
                    .col(uuid_null(SeatEvents::OrderId))
                    .col(timestamp_with_time_zone(SeatEvents::At))
                    .foreign_key(&mut tenant_fk(SeatEvents::Table))
                    .foreign_key(&mut same_tenant(
                        SeatEvents::Table,
                        SeatEvents::PoolId,
                        SeatPools::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_seat_events_pool")
                    .table(SeatEvents::Table)
                    .col(SeatEvents::PoolId)
                    .col(SeatEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SeatTiers::Table)
                    .col(uuid(SeatTiers::TenantId))
                    .col(uuid(SeatTiers::CourseId))
                    .col(
                        integer(SeatTiers::MinSeats)
                            .check(Expr::col(SeatTiers::MinSeats).between(2, 1000)),
                    )
                    .col(
                        integer(SeatTiers::PercentOff)
                            .check(Expr::col(SeatTiers::PercentOff).between(1, 90)),
                    )
                    .primary_key(
                        Index::create()
                            .col(SeatTiers::TenantId)
                            .col(SeatTiers::CourseId)
                            .col(SeatTiers::MinSeats),
                    )
                    .foreign_key(&mut tenant_fk(SeatTiers::Table))
                    .foreign_key(&mut same_tenant(
                        SeatTiers::Table,
                        SeatTiers::CourseId,
                        Courses::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        grant_team_managers(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "DELETE FROM casbin_rule WHERE ptype = 'g' AND v1 = 'team_manager' AND v2 LIKE 'team:%'",
        )
        .await?;
        for table in [
            SeatTiers::Table.into_iden(),
            SeatEvents::Table.into_iden(),
            SeatAssignments::Table.into_iden(),
            SeatPools::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("uq_entitlements_tenant_id")
                    .table(Entitlements::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_orders_team")
                    .table(Orders::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Orders::Table)
                    .drop_column(OrderTeam::TeamId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

/// Every active manager of a team made so far gets `team_manager` in the team's domain, and
/// the platform-wide `team_manager` grants (which would now hold in every team) go.
async fn grant_team_managers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT team_id, user_id FROM team_members WHERE role = 'manager' AND status = 'active'",
        ))
        .await?;
    db.execute_unprepared(
        "UPDATE team_members SET role = 'member' WHERE role = 'manager' AND status = 'invited'",
    )
    .await?;
    for row in rows {
        let team: sea_orm_migration::sea_orm::prelude::Uuid = row.try_get("", "team_id")?;
        let user: sea_orm_migration::sea_orm::prelude::Uuid = row.try_get("", "user_id")?;
        let insert = match backend {
            DatabaseBackend::Postgres => {
                "INSERT INTO casbin_rule (ptype, v0, v1, v2) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"
            }
            _ => "INSERT OR IGNORE INTO casbin_rule (ptype, v0, v1, v2) VALUES (?, ?, ?, ?)",
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            insert,
            [
                "g".into(),
                format!("user:{user}").into(),
                "team_manager".into(),
                format!("team:{team}").into(),
            ],
        ))
        .await?;
    }
    db.execute_unprepared(
        "DELETE FROM casbin_rule WHERE ptype = 'g' AND v1 = 'team_manager' AND v2 = '*'",
    )
    .await?;
    db.execute_unprepared("UPDATE policy_revision SET revision = revision + 1")
        .await?;
    Ok(())
}
