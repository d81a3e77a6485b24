//! The catalog: courses, their sections and lessons.
//!
//! Children reference their parents by `(tenant_id, id)`, so a section can only belong to a
//! course of its own tenant, whatever the application does.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000002_tenants_and_policy::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Courses {
    Table,
    Id,
    TenantId,
    Slug,
    Title,
    Description,
    PriceAmount,
    Currency,
    AccessDays,
    Published,
    PublishedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sections {
    Table,
    Id,
    TenantId,
    CourseId,
    Title,
    Position,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Lessons {
    Table,
    Id,
    TenantId,
    CourseId,
    SectionId,
    Title,
    Kind,
    FreePreview,
    Body,
    Position,
    AssetKey,
    AssetContentType,
    AssetSize,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Courses::Table)
                    .col(uuid(Courses::Id).primary_key())
                    .col(uuid(Courses::TenantId))
                    .col(string_len(Courses::Slug, 63))
                    .col(string_len(Courses::Title, 200))
                    .col(text(Courses::Description))
                    .col(
                        big_integer(Courses::PriceAmount)
                            .check(Expr::col(Courses::PriceAmount).gte(0)),
                    )
                    .col(string_len(Courses::Currency, 3))
                    .col(
                        integer_null(Courses::AccessDays)
                            .check(Expr::col(Courses::AccessDays).gt(0)),
                    )
                    .col(boolean(Courses::Published).default(false))
                    .col(timestamp_with_time_zone_null(Courses::PublishedAt))
                    .col(timestamp_with_time_zone(Courses::CreatedAt))
                    .col(timestamp_with_time_zone(Courses::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Courses::Table, Courses::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("uq_courses_tenant_slug")
                            .unique()
                            .col(Courses::TenantId)
                            .col(Courses::Slug),
                    )
                    .index(
                        Index::create()
                            .name("uq_courses_tenant_id")
                            .unique()
                            .col(Courses::TenantId)
                            .col(Courses::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sections::Table)
                    .col(uuid(Sections::Id).primary_key())
                    .col(uuid(Sections::TenantId))
                    .col(uuid(Sections::CourseId))
                    .col(string_len(Sections::Title, 200))
                    .col(integer(Sections::Position))
                    .col(timestamp_with_time_zone(Sections::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Sections::Table)
                            .from_col(Sections::TenantId)
                            .from_col(Sections::CourseId)
                            .to_tbl(Courses::Table)
                            .to_col(Courses::TenantId)
                            .to_col(Courses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("uq_sections_tenant_id")
                            .unique()
                            .col(Sections::TenantId)
                            .col(Sections::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sections_course")
                    .table(Sections::Table)
                    .col(Sections::TenantId)
                    .col(Sections::CourseId)
                    .col(Sections::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Lessons::Table)
                    .col(uuid(Lessons::Id).primary_key())
                    .col(uuid(Lessons::TenantId))
                    .col(uuid(Lessons::CourseId))
                    .col(uuid(Lessons::SectionId))
                    .col(string_len(Lessons::Title, 200))
                    .col(
                        string_len(Lessons::Kind, 8)
                            .check(Expr::col(Lessons::Kind).is_in(["video", "text", "file"])),
                    )
                    .col(boolean(Lessons::FreePreview).default(false))
                    .col(text_null(Lessons::Body))
                    .col(integer(Lessons::Position))
                    .col(string_len_null(Lessons::AssetKey, 512))
                    .col(string_len_null(Lessons::AssetContentType, 255))
                    .col(big_integer_null(Lessons::AssetSize))
                    .col(timestamp_with_time_zone(Lessons::CreatedAt))
                    .col(timestamp_with_time_zone(Lessons::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Lessons::Table)
                            .from_col(Lessons::TenantId)
                            .from_col(Lessons::SectionId)
                            .to_tbl(Sections::Table)
                            .to_col(Sections::TenantId)
                            .to_col(Sections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Lessons::Table)
                            .from_col(Lessons::TenantId)
                            .from_col(Lessons::CourseId)
                            .to_tbl(Courses::Table)
                            .to_col(Courses::TenantId)
                            .to_col(Courses::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .index(
                        Index::create()
                            .name("uq_lessons_tenant_id")
                            .unique()
                            .col(Lessons::TenantId)
                            .col(Lessons::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_lessons_section")
                    .table(Lessons::Table)
                    .col(Lessons::TenantId)
                    .col(Lessons::SectionId)
                    .col(Lessons::Position)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Lessons::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sections::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Courses::Table).to_owned())
            .await
    }
}
