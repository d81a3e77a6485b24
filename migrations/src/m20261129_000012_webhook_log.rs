//! The webhook log: every delivery a provider made to `/webhooks/{gateway}[/{tenant}]`, and
//! every replay of one a platform admin asked for.
//!
//! - `webhook_deliveries`: the gateway, the storefront of the path (none on the platform's
//!   path; set to null if the storefront goes), when it arrived and from which address, how
//!   verification went (`verified`, `refused`, `unavailable`, with a short fixed `reason`),
//!   the events it carried as parsed (a JSON list, empty unless verified: never the raw body
//!   nor a header), what became of it (`applied`, `duplicate`, `ignored`, `flagged`, `failed`,
//!   `refused`, with a short `detail`), and for a replay the delivery it replayed
//!   (`replay_of`, set to null when that one is pruned). Rows are pruned after the retention
//!   by the server's periodic job, hence the index on `received_at`; the admin's list filters
//!   by gateway, newest first.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000002_tenants_and_policy::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    Gateway,
    TenantId,
    ReceivedAt,
    Peer,
    Verification,
    Reason,
    Events,
    Outcome,
    Detail,
    ReplayOf,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(string_len(WebhookDeliveries::Gateway, 32))
                    .col(uuid_null(WebhookDeliveries::TenantId))
                    .col(timestamp_with_time_zone(WebhookDeliveries::ReceivedAt))
                    .col(string_len_null(WebhookDeliveries::Peer, 64))
                    .col(string_len(WebhookDeliveries::Verification, 12).check(
                        Expr::col(WebhookDeliveries::Verification).is_in([
                            "verified",
                            "refused",
                            "unavailable",
                        ]),
                    ))
                    .col(text_null(WebhookDeliveries::Reason))
                    .col(text(WebhookDeliveries::Events))
                    .col(string_len(WebhookDeliveries::Outcome, 12).check(
                        Expr::col(WebhookDeliveries::Outcome).is_in([
                            "applied",
                            "duplicate",
                            "ignored",
                            "flagged",
                            "failed",
                            "refused",
                        ]),
                    ))
                    .col(text_null(WebhookDeliveries::Detail))
                    .col(uuid_null(WebhookDeliveries::ReplayOf))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::ReplayOf)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_received")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_gateway")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Gateway)
                    .col(WebhookDeliveries::ReceivedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await
    }
}
