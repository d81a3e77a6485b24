//! Storefronts, and the casbin policy (permissions and role grants) with its revision counter.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Tenants {
    Table,
    Id,
    Slug,
    Name,
    Currency,
    Status,
    FeeBps,
    CustomDomain,
    OwnerId,
    CreatedAt,
    ApprovedAt,
}

#[derive(DeriveIden)]
enum CasbinRule {
    Table,
    Id,
    Ptype,
    V0,
    V1,
    V2,
    V3,
    V4,
    V5,
}

#[derive(DeriveIden)]
enum PolicyRevision {
    Table,
    Id,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(uuid(Tenants::Id).primary_key())
                    .col(string_len(Tenants::Slug, 63).unique_key())
                    .col(string_len(Tenants::Name, 200))
                    .col(string_len(Tenants::Currency, 3))
                    .col(
                        string_len(Tenants::Status, 16).check(Expr::col(Tenants::Status).is_in([
                            "pending",
                            "active",
                            "suspended",
                        ])),
                    )
                    .col(
                        integer_null(Tenants::FeeBps)
                            .check(Expr::col(Tenants::FeeBps).between(0, 10_000)),
                    )
                    .col(string_len_null(Tenants::CustomDomain, 253).unique_key())
                    .col(uuid(Tenants::OwnerId))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone_null(Tenants::ApprovedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tenants::Table, Tenants::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CasbinRule::Table)
                    .col(big_integer(CasbinRule::Id).auto_increment().primary_key())
                    .col(string_len(CasbinRule::Ptype, 8))
                    .col(string_len(CasbinRule::V0, 128).default(""))
                    .col(string_len(CasbinRule::V1, 128).default(""))
                    .col(string_len(CasbinRule::V2, 128).default(""))
                    .col(string_len(CasbinRule::V3, 128).default(""))
                    .col(string_len(CasbinRule::V4, 128).default(""))
                    .col(string_len(CasbinRule::V5, 128).default(""))
                    .index(
                        Index::create()
                            .name("uq_casbin_rule")
                            .unique()
                            .col(CasbinRule::Ptype)
                            .col(CasbinRule::V0)
                            .col(CasbinRule::V1)
                            .col(CasbinRule::V2)
                            .col(CasbinRule::V3)
                            .col(CasbinRule::V4)
                            .col(CasbinRule::V5),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PolicyRevision::Table)
                    .col(integer(PolicyRevision::Id).primary_key())
                    .col(big_integer(PolicyRevision::Revision))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(PolicyRevision::Table)
                    .columns([PolicyRevision::Id, PolicyRevision::Revision])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PolicyRevision::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CasbinRule::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Tenants::Table).to_owned())
            .await
    }
}
