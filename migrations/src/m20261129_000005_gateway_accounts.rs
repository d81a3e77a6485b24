//! Storefronts' accounts at payment providers: which gateways a tenant sells through, the
//! provider's id of its seller account and what the provider last said of it, settings that
//! may be shown back, and credentials sealed with the platform's key (never stored in clear).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000002_tenants_and_policy::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum GatewayAccounts {
    Table,
    Id,
    TenantId,
    Gateway,
    Enabled,
    ProviderAccountId,
    TestMode,
    /// JSON object of the settings that are not secret.
    Settings,
    /// `v1.<key id>.<nonce>.<ciphertext>` of a JSON object of the secrets, or NULL.
    SealedCredentials,
    /// The names of the sealed credentials (JSON array), shown to the owner.
    CredentialNames,
    ChargesEnabled,
    PayoutsEnabled,
    /// JSON array of the provider's outstanding requirements.
    Requirements,
    /// When the provider last told us about the account.
    CheckedAt,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(GatewayAccounts::Table)
                    .col(uuid(GatewayAccounts::Id).primary_key())
                    .col(uuid(GatewayAccounts::TenantId))
                    .col(string_len(GatewayAccounts::Gateway, 32))
                    .col(boolean(GatewayAccounts::Enabled))
                    .col(string_len_null(GatewayAccounts::ProviderAccountId, 255))
                    .col(boolean(GatewayAccounts::TestMode))
                    .col(text(GatewayAccounts::Settings))
                    .col(text_null(GatewayAccounts::SealedCredentials))
                    .col(text(GatewayAccounts::CredentialNames))
                    .col(boolean(GatewayAccounts::ChargesEnabled))
                    .col(boolean(GatewayAccounts::PayoutsEnabled))
                    .col(text(GatewayAccounts::Requirements))
                    .col(timestamp_with_time_zone_null(GatewayAccounts::CheckedAt))
                    .col(timestamp_with_time_zone(GatewayAccounts::CreatedAt))
                    .col(timestamp_with_time_zone(GatewayAccounts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(GatewayAccounts::Table, GatewayAccounts::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One account per tenant and provider.
        manager
            .create_index(
                Index::create()
                    .name("ux_gateway_accounts_tenant_gateway")
                    .table(GatewayAccounts::Table)
                    .col(GatewayAccounts::TenantId)
                    .col(GatewayAccounts::Gateway)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // A seller account belongs to one storefront: a Connect event naming it is routed to
        // exactly one tenant.
        manager
            .create_index(
                Index::create()
                    .name("ux_gateway_accounts_provider_account")
                    .table(GatewayAccounts::Table)
                    .col(GatewayAccounts::Gateway)
                    .col(GatewayAccounts::ProviderAccountId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(GatewayAccounts::Table).to_owned())
            .await
    }
}
