//! Selling: coupons, orders and their lines, entitlements (enrollments), the webhook inbox,
//! the order audit trail, refunds, the outbox, content fetch log and generated secrets.
//!
//! An order line is what an entitlement points at; a refund or a lost dispute revokes the
//! entitlements of that order's lines and nothing else.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_accounts::Users;
use crate::m20261123_000002_tenants_and_policy::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Courses {
    Table,
}

#[derive(DeriveIden)]
enum Lessons {
    Table,
}

#[derive(DeriveIden)]
enum Coupons {
    Table,
    Id,
    TenantId,
    Code,
    PercentOff,
    AmountOff,
    Currency,
    MaxRedemptions,
    Redemptions,
    ExpiresAt,
    CourseIds,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Orders {
    Table,
    Id,
    TenantId,
    BuyerId,
    Status,
    Currency,
    SubtotalAmount,
    DiscountAmount,
    TotalAmount,
    PaidAmount,
    RefundedAmount,
    FeeBps,
    CouponId,
    Gateway,
    SessionRef,
    CheckoutUrl,
    PaymentId,
    IdempotencyKey,
    Flagged,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
    TenantId,
    OrderId,
    CourseId,
    Quantity,
    UnitAmount,
    TotalAmount,
    PendingKey,
}

#[derive(DeriveIden)]
enum Entitlements {
    Table,
    Id,
    TenantId,
    UserId,
    CourseId,
    Source,
    OrderLineId,
    Status,
    ExpiresAt,
    GrantedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentEvents {
    Table,
    Id,
    Gateway,
    ProviderEventId,
    TenantId,
    OrderId,
    Kind,
    Amount,
    Currency,
    ProviderPaymentId,
    RefundId,
    DisputeId,
    OccurredAt,
    ReceivedAt,
    Outcome,
}

#[derive(DeriveIden)]
enum OrderAudit {
    Table,
    Id,
    TenantId,
    OrderId,
    EventId,
    FromStatus,
    ToStatus,
    PaymentId,
    EntitlementId,
    EventTime,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    TenantId,
    OrderId,
    Amount,
    Currency,
    Status,
    ProviderRefundId,
    RequestedBy,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TenantId,
    Kind,
    DedupeKey,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum ContentFetches {
    Table,
    Id,
    TenantId,
    UserId,
    LessonId,
    Address,
    FetchedAt,
}

#[derive(DeriveIden)]
enum PlatformSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

pub(crate) fn tenant_fk(table: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, Alias::new("tenant_id"))
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A foreign key `(tenant_id, column)` → `(tenant_id, id)` of `parent`: a row can only point at
/// a parent of its own tenant.
pub(crate) fn same_tenant(
    table: impl IntoIden,
    column: impl IntoIden,
    parent: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(Alias::new("tenant_id"))
        .from_col(column)
        .to_tbl(parent)
        .to_col(Alias::new("tenant_id"))
        .to_col(Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

pub(crate) fn unique_tenant_id(name: &str) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .unique()
        .col(Alias::new("tenant_id"))
        .col(Alias::new("id"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Coupons::Table)
                    .col(uuid(Coupons::Id).primary_key())
                    .col(uuid(Coupons::TenantId))
                    .col(string_len(Coupons::Code, 64))
                    .col(
                        integer_null(Coupons::PercentOff)
                            .check(Expr::col(Coupons::PercentOff).between(1, 100)),
                    )
                    .col(
                        big_integer_null(Coupons::AmountOff)
                            .check(Expr::col(Coupons::AmountOff).gt(0)),
                    )
                    .col(string_len(Coupons::Currency, 3))
                    .col(
                        integer_null(Coupons::MaxRedemptions)
                            .check(Expr::col(Coupons::MaxRedemptions).gt(0)),
                    )
                    .col(integer(Coupons::Redemptions).default(0))
                    .col(timestamp_with_time_zone_null(Coupons::ExpiresAt))
                    .col(json(Coupons::CourseIds))
                    .col(timestamp_with_time_zone(Coupons::CreatedAt))
                    .foreign_key(&mut tenant_fk(Coupons::Table))
                    .index(&mut unique_tenant_id("uq_coupons_tenant_id"))
                    .index(
                        Index::create()
                            .name("uq_coupons_tenant_code")
                            .unique()
                            .col(Coupons::TenantId)
                            .col(Coupons::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(uuid(Orders::Id).primary_key())
                    .col(uuid(Orders::TenantId))
                    .col(uuid(Orders::BuyerId))
                    .col(
                        string_len(Orders::Status, 24).check(Expr::col(Orders::Status).is_in([
                            "pending",
                            "paid",
                            "partially_paid",
                            "failed",
                            "expired",
                            "refunded",
                            "partially_refunded",
                            "disputed",
                        ])),
                    )
                    .col(string_len(Orders::Currency, 3))
                    .col(
                        big_integer(Orders::SubtotalAmount)
                            .check(Expr::col(Orders::SubtotalAmount).gte(0)),
                    )
                    .col(
                        big_integer(Orders::DiscountAmount)
                            .check(Expr::col(Orders::DiscountAmount).gte(0)),
                    )
                    .col(
                        big_integer(Orders::TotalAmount)
                            .check(Expr::col(Orders::TotalAmount).gte(0)),
                    )
                    .col(
                        big_integer(Orders::PaidAmount)
                            .default(0)
                            .check(Expr::col(Orders::PaidAmount).gte(0)),
                    )
                    .col(
                        big_integer(Orders::RefundedAmount)
                            .default(0)
                            .check(Expr::col(Orders::RefundedAmount).gte(0)),
                    )
                    .col(
                        integer(Orders::FeeBps).check(Expr::col(Orders::FeeBps).between(0, 10_000)),
                    )
                    .col(uuid_null(Orders::CouponId))
                    .col(string_len_null(Orders::Gateway, 32))
                    .col(string_len_null(Orders::SessionRef, 255))
                    .col(string_len_null(Orders::CheckoutUrl, 2048))
                    .col(string_len_null(Orders::PaymentId, 255))
                    .col(string_len_null(Orders::IdempotencyKey, 255))
                    .col(boolean(Orders::Flagged).default(false))
                    .col(timestamp_with_time_zone(Orders::CreatedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    .col(timestamp_with_time_zone(Orders::ExpiresAt))
                    .foreign_key(&mut tenant_fk(Orders::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Orders::Table, Orders::BuyerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(&mut same_tenant(
                        Orders::Table,
                        Orders::CouponId,
                        Coupons::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .index(&mut unique_tenant_id("uq_orders_tenant_id"))
                    .index(
                        Index::create()
                            .name("uq_orders_idempotency")
                            .unique()
                            .col(Orders::BuyerId)
                            .col(Orders::IdempotencyKey),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_status")
                    .table(Orders::Table)
                    .col(Orders::Status)
                    .col(Orders::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_orders_buyer")
                    .table(Orders::Table)
                    .col(Orders::BuyerId)
                    .col(Orders::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .col(uuid(OrderLines::Id).primary_key())
                    .col(uuid(OrderLines::TenantId))
                    .col(uuid(OrderLines::OrderId))
                    .col(uuid(OrderLines::CourseId))
                    .col(integer(OrderLines::Quantity).check(Expr::col(OrderLines::Quantity).gt(0)))
                    .col(
                        big_integer(OrderLines::UnitAmount)
                            .check(Expr::col(OrderLines::UnitAmount).gte(0)),
                    )
                    .col(
                        big_integer(OrderLines::TotalAmount)
                            .check(Expr::col(OrderLines::TotalAmount).gte(0)),
                    )
                    // `{buyer}:{course}` while the order is pending: one open order per buyer and course.
                    .col(string_len_null(OrderLines::PendingKey, 80).unique_key())
                    .foreign_key(&mut same_tenant(
                        OrderLines::Table,
                        OrderLines::OrderId,
                        Orders::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut same_tenant(
                        OrderLines::Table,
                        OrderLines::CourseId,
                        Courses::Table,
                        ForeignKeyAction::Restrict,
                    ))
                    .index(&mut unique_tenant_id("uq_order_lines_tenant_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_lines_order")
                    .table(OrderLines::Table)
                    .col(OrderLines::TenantId)
                    .col(OrderLines::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Entitlements::Table)
                    .col(uuid(Entitlements::Id).primary_key())
                    .col(uuid(Entitlements::TenantId))
                    .col(uuid(Entitlements::UserId))
                    .col(uuid(Entitlements::CourseId))
                    .col(string_len(Entitlements::Source, 16).check(
                        Expr::col(Entitlements::Source).is_in([
                            "purchase",
                            "seat",
                            "subscription",
                            "grant",
                        ]),
                    ))
                    // One entitlement per order line, whatever happens to it later.
                    .col(uuid_null(Entitlements::OrderLineId).unique_key())
                    .col(string_len(Entitlements::Status, 16).check(
                        Expr::col(Entitlements::Status).is_in(["active", "suspended", "revoked"]),
                    ))
                    .col(timestamp_with_time_zone_null(Entitlements::ExpiresAt))
                    .col(timestamp_with_time_zone(Entitlements::GrantedAt))
                    .col(timestamp_with_time_zone(Entitlements::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Entitlements::Table, Entitlements::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut same_tenant(
                        Entitlements::Table,
                        Entitlements::CourseId,
                        Courses::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut same_tenant(
                        Entitlements::Table,
                        Entitlements::OrderLineId,
                        OrderLines::Table,
                        ForeignKeyAction::NoAction,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_entitlements_access")
                    .table(Entitlements::Table)
                    .col(Entitlements::TenantId)
                    .col(Entitlements::UserId)
                    .col(Entitlements::CourseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PaymentEvents::Table)
                    .col(uuid(PaymentEvents::Id).primary_key())
                    .col(string_len(PaymentEvents::Gateway, 32))
                    .col(string_len(PaymentEvents::ProviderEventId, 255))
                    .col(uuid(PaymentEvents::TenantId))
                    .col(uuid(PaymentEvents::OrderId))
                    .col(string_len(PaymentEvents::Kind, 32))
                    .col(big_integer(PaymentEvents::Amount))
                    .col(string_len(PaymentEvents::Currency, 3))
                    .col(string_len(PaymentEvents::ProviderPaymentId, 255))
                    .col(string_len_null(PaymentEvents::RefundId, 255))
                    .col(string_len_null(PaymentEvents::DisputeId, 255))
                    .col(timestamp_with_time_zone(PaymentEvents::OccurredAt))
                    .col(timestamp_with_time_zone(PaymentEvents::ReceivedAt))
                    .col(string_len(PaymentEvents::Outcome, 32))
                    .foreign_key(&mut same_tenant(
                        PaymentEvents::Table,
                        PaymentEvents::OrderId,
                        Orders::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .index(
                        Index::create()
                            .name("uq_payment_events_provider")
                            .unique()
                            .col(PaymentEvents::Gateway)
                            .col(PaymentEvents::ProviderEventId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_events_order")
                    .table(PaymentEvents::Table)
                    .col(PaymentEvents::TenantId)
                    .col(PaymentEvents::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderAudit::Table)
                    .col(uuid(OrderAudit::Id).primary_key())
                    .col(uuid(OrderAudit::TenantId))
                    .col(uuid(OrderAudit::OrderId))
                    .col(uuid_null(OrderAudit::EventId))
                    .col(string_len(OrderAudit::FromStatus, 24))
                    .col(string_len(OrderAudit::ToStatus, 24))
                    .col(string_len_null(OrderAudit::PaymentId, 255))
                    .col(uuid_null(OrderAudit::EntitlementId))
                    .col(timestamp_with_time_zone(OrderAudit::EventTime))
                    .col(timestamp_with_time_zone(OrderAudit::ReceivedAt))
                    .foreign_key(&mut same_tenant(
                        OrderAudit::Table,
                        OrderAudit::OrderId,
                        Orders::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_audit_order")
                    .table(OrderAudit::Table)
                    .col(OrderAudit::TenantId)
                    .col(OrderAudit::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Refunds::Table)
                    .col(uuid(Refunds::Id).primary_key())
                    .col(uuid(Refunds::TenantId))
                    .col(uuid(Refunds::OrderId))
                    .col(big_integer(Refunds::Amount).check(Expr::col(Refunds::Amount).gt(0)))
                    .col(string_len(Refunds::Currency, 3))
                    .col(
                        string_len(Refunds::Status, 16).check(Expr::col(Refunds::Status).is_in([
                            "requested",
                            "succeeded",
                            "failed",
                        ])),
                    )
                    .col(string_len_null(Refunds::ProviderRefundId, 255))
                    .col(uuid(Refunds::RequestedBy))
                    .col(text_null(Refunds::Error))
                    .col(timestamp_with_time_zone(Refunds::CreatedAt))
                    .col(timestamp_with_time_zone(Refunds::UpdatedAt))
                    .foreign_key(&mut same_tenant(
                        Refunds::Table,
                        Refunds::OrderId,
                        Orders::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::Id).primary_key())
                    .col(uuid_null(Outbox::TenantId))
                    .col(string_len(Outbox::Kind, 32))
                    .col(string_len(Outbox::DedupeKey, 255).unique_key())
                    .col(json(Outbox::Payload))
                    .col(
                        string_len(Outbox::Status, 16)
                            .check(Expr::col(Outbox::Status).is_in(["pending", "sent", "dead"])),
                    )
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContentFetches::Table)
                    .col(uuid(ContentFetches::Id).primary_key())
                    .col(uuid(ContentFetches::TenantId))
                    .col(uuid_null(ContentFetches::UserId))
                    .col(uuid(ContentFetches::LessonId))
                    .col(string_len_null(ContentFetches::Address, 64))
                    .col(timestamp_with_time_zone(ContentFetches::FetchedAt))
                    .foreign_key(&mut tenant_fk(ContentFetches::Table))
                    .foreign_key(&mut same_tenant(
                        ContentFetches::Table,
                        ContentFetches::LessonId,
                        Lessons::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlatformSecrets::Table)
                    .col(string_len(PlatformSecrets::Name, 64).primary_key())
                    .col(string_len(PlatformSecrets::Value, 255))
                    .col(timestamp_with_time_zone(PlatformSecrets::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PlatformSecrets::Table.into_iden(),
            ContentFetches::Table.into_iden(),
            Outbox::Table.into_iden(),
            Refunds::Table.into_iden(),
            OrderAudit::Table.into_iden(),
            PaymentEvents::Table.into_iden(),
            Entitlements::Table.into_iden(),
            OrderLines::Table.into_iden(),
            Orders::Table.into_iden(),
            Coupons::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
