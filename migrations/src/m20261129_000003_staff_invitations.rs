//! Staff invitations: an owner invites an e-mail address, whoever signs in with that address
//! accepts. Adding staff never looks up an account, so it reveals nothing about who has one.
//!
//! Only the SHA-256 of an invitation's token is stored. `pending_email` is the address while
//! the invitation waits and NULL once it is accepted: unique per tenant, it makes re-inviting
//! an address refresh the one pending invitation instead of adding another (NULLs do not
//! collide, so accepted invitations stay as history).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000002_tenants_and_policy::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffInvitations {
    Table,
    Id,
    TenantId,
    Email,
    PendingEmail,
    Role,
    TokenHash,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
}

fn user_fk(column: StaffInvitations) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(StaffInvitations::Table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StaffInvitations::Table)
                    .col(uuid(StaffInvitations::Id).primary_key())
                    .col(uuid(StaffInvitations::TenantId))
                    .col(string_len(StaffInvitations::Email, 254))
                    .col(string_len_null(StaffInvitations::PendingEmail, 254))
                    .col(
                        string_len(StaffInvitations::Role, 16)
                            .check(Expr::col(StaffInvitations::Role).is_in(["editor", "grader"])),
                    )
                    .col(string_len(StaffInvitations::TokenHash, 64).unique_key())
                    .col(uuid(StaffInvitations::InvitedBy))
                    .col(timestamp_with_time_zone(StaffInvitations::CreatedAt))
                    .col(timestamp_with_time_zone(StaffInvitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(StaffInvitations::AcceptedAt))
                    .col(uuid_null(StaffInvitations::AcceptedBy))
                    // Pending (an address, no acceptance) or accepted (by someone, no address).
                    .check(
                        Expr::col(StaffInvitations::PendingEmail)
                            .is_null()
                            .and(Expr::col(StaffInvitations::AcceptedAt).is_not_null())
                            .and(Expr::col(StaffInvitations::AcceptedBy).is_not_null())
                            .or(Expr::col(StaffInvitations::PendingEmail)
                                .is_not_null()
                                .and(Expr::col(StaffInvitations::AcceptedAt).is_null())
                                .and(Expr::col(StaffInvitations::AcceptedBy).is_null())),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffInvitations::Table, StaffInvitations::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut user_fk(StaffInvitations::InvitedBy))
                    .foreign_key(&mut user_fk(StaffInvitations::AcceptedBy))
                    .index(
                        Index::create()
                            .name("uq_staff_invitations_tenant_id")
                            .unique()
                            .col(StaffInvitations::TenantId)
                            .col(StaffInvitations::Id),
                    )
                    .index(
                        Index::create()
                            .name("uq_staff_invitations_pending")
                            .unique()
                            .col(StaffInvitations::TenantId)
                            .col(StaffInvitations::PendingEmail),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffInvitations::Table).to_owned())
            .await
    }
}
