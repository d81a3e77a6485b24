//! Sessions bound to the host they were made on, the one-time codes that hand a signed-in
//! user from the platform's origin to a storefront's own domain, and custom domains that are
//! served only once their owner proved control of them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000002_tenants_and_policy::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebSessions {
    Table,
    Host,
}

#[derive(DeriveIden)]
enum SessionHandoffs {
    Table,
    Id,
    CodeHash,
    UserId,
    Host,
    StateHash,
    NextPath,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum TenantDomains {
    PendingDomain,
    DomainToken,
    DomainVerifiedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `NULL`: a session of the platform's own origin; otherwise the only host it is valid on.
        manager
            .alter_table(
                Table::alter()
                    .table(WebSessions::Table)
                    .add_column(string_len_null(WebSessions::Host, 253))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionHandoffs::Table)
                    .col(uuid(SessionHandoffs::Id).primary_key())
                    .col(string_len(SessionHandoffs::CodeHash, 64).unique_key())
                    .col(uuid(SessionHandoffs::UserId))
                    .col(string_len(SessionHandoffs::Host, 253))
                    // SHA-256 of the nonce the storefront host set as a cookie in the browser
                    // that started the sign-in: only that browser can redeem the code.
                    .col(string_len(SessionHandoffs::StateHash, 64))
                    .col(string_len(SessionHandoffs::NextPath, 2048))
                    .col(timestamp_with_time_zone(SessionHandoffs::CreatedAt))
                    .col(timestamp_with_time_zone(SessionHandoffs::ExpiresAt))
                    .col(timestamp_with_time_zone_null(SessionHandoffs::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SessionHandoffs::Table, SessionHandoffs::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite alters a table one column at a time.
        for column in [
            string_len_null(TenantDomains::PendingDomain, 253),
            string_len_null(TenantDomains::DomainToken, 64),
            timestamp_with_time_zone_null(TenantDomains::DomainVerifiedAt),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenants::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // A domain set before verification existed keeps serving: its owner set it up already.
        manager
            .exec_stmt(
                Query::update()
                    .table(Tenants::Table)
                    .value(
                        TenantDomains::DomainVerifiedAt,
                        Expr::col(Tenants::CreatedAt),
                    )
                    .and_where(Expr::col(Tenants::CustomDomain).is_not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            TenantDomains::DomainVerifiedAt,
            TenantDomains::DomainToken,
            TenantDomains::PendingDomain,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Tenants::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(SessionHandoffs::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WebSessions::Table)
                    .drop_column(WebSessions::Host)
                    .to_owned(),
            )
            .await
    }
}
