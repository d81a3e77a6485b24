//! Turns at the periodic jobs: `job_leases`, one row per job (`reconcile`, `holds`,
//! `webhook_log`), naming the instance that holds it and until when. An instance runs a pass
//! only while it holds the job's lease, so N instances make one pass per period between them,
//! and a holder that dies hands over when its lease runs out.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    Name,
    Holder,
    Until,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .col(string_len(JobLeases::Name, 32).primary_key())
                    .col(uuid(JobLeases::Holder))
                    .col(timestamp_with_time_zone(JobLeases::Until))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(JobLeases::Table).to_owned())
            .await
    }
}
