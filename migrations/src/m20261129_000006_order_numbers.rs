//! Order numbers and hand-made refunds.
//!
//! - `order_numbers`: every order a provider is asked to take payment for gets a positive
//!   number, unique on the platform, for providers that know a payment by a number of the
//!   shop's (Robokassa's `InvId`). The number is the table's auto-increment key, so taking one
//!   never waits for another checkout.
//! - `refunds.manual`: a refund the provider cannot make through its API (Robokassa without
//!   Password #3): access ends at once, and the seller completes it in the provider's cabinet.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000004_commerce::{Orders, same_tenant, tenant_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderNumbers {
    Table,
    Number,
    TenantId,
    OrderId,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Manual,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrderNumbers::Table)
                    .col(
                        big_integer(OrderNumbers::Number)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(uuid(OrderNumbers::TenantId))
                    .col(uuid(OrderNumbers::OrderId))
                    .foreign_key(&mut tenant_fk(OrderNumbers::Table))
                    .foreign_key(&mut same_tenant(
                        OrderNumbers::Table,
                        OrderNumbers::OrderId,
                        Orders::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .index(
                        Index::create()
                            .name("uq_order_numbers_tenant_order")
                            .unique()
                            .col(OrderNumbers::TenantId)
                            .col(OrderNumbers::OrderId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Refunds::Table)
                    .add_column(boolean(Refunds::Manual).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Refunds::Table)
                    .drop_column(Refunds::Manual)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OrderNumbers::Table).to_owned())
            .await
    }
}
